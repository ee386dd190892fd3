//! Simulated Resend, served under `/resend`: `POST /resend/emails` (bearer API
//! key, Resend's error shape `{"statusCode", "name", "message"}`, idempotency by
//! `Idempotency-Key`) and `GET /_sim/resend/ledger`, every accepted email. Faults:
//! `resend.emails` takes the generic 500 and 429 (with `Retry-After`) and
//! [`Fault::Reject`](crate::Fault::Reject) with a status and error name
//! (`422 validation_error`).

use std::collections::BTreeMap;

use axum::{
    body::Bytes,
    extract::State,
    http::{
        header::{AUTHORIZATION, RETRY_AFTER},
        HeaderMap, StatusCode,
    },
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::Serialize;
use serde_json::{json, Value};

use crate::{
    common::{faults::Scripted, http::random_token, lock},
    provider::{Failure, ProviderData, SimProvider},
    AppState,
};

/// Resend in the simulator's list of providers.
pub(crate) const PROVIDER: SimProvider = SimProvider {
    name: "resend",
    router: |sim| router().with_state(sim.clone()),
    settings,
    failure,
};

/// The API key the simulated Resend accepts (all defaults are in [`crate::defaults`]).
pub mod defaults {
    pub const RESEND_API_KEY: &str = "re_sim_pulseboard_0123456789";
}

/// Resend's endpoint names (all of them are in [`crate::endpoints`]).
pub mod endpoints {
    pub const RESEND_EMAILS: &str = "resend.emails";
}

/// An email Resend accepted.
#[derive(Debug, Clone, Serialize)]
pub struct ResendEmail {
    /// The id Resend answered with.
    pub id: String,
    pub idempotency_key: Option<String>,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
    pub headers: BTreeMap<String, String>,
    /// As sent: `{filename, content (base64), content_type, content_id}`.
    pub attachments: Vec<Value>,
}

/// Everything sent, and what each idempotency key answered.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    pub emails: Vec<ResendEmail>,
    /// Idempotency key → (request body, email id).
    keys: BTreeMap<String, (Value, String)>,
}

impl ProviderData for Outbox {
    // Mail does not happen by itself: nothing to generate.
    fn advance(&mut self, _t: i64) {}
}

fn router() -> Router<AppState> {
    Router::new()
        .route("/resend/emails", post(send))
        .route("/_sim/resend/ledger", get(ledger))
}

fn settings(base: &str) -> Vec<(String, String)> {
    // The key is not listed: with it, a server would stop using its file mailbox.
    vec![("PULSEBOARD_RESEND_URL".to_owned(), format!("{base}/resend"))]
}

/// Resend's error body.
fn error(status: StatusCode, name: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "statusCode": status.as_u16(), "name": name, "message": message })),
    )
        .into_response()
}

fn failure(failure: Failure) -> Response {
    match failure {
        Failure::ServerError => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_server_error",
            "An unexpected error occurred.",
        ),
        Failure::RateLimited { retry_after_secs } => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_exceeded",
                "Too many requests. You can only make 2 requests per second.",
            );
            response
                .headers_mut()
                .insert(RETRY_AFTER, retry_after_secs.into());
            response
        }
    }
}

fn validation(name: &str, message: &str) -> Response {
    error(StatusCode::UNPROCESSABLE_ENTITY, name, message)
}

async fn send(State(sim): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let scripted = match sim.faults.enter(endpoints::RESEND_EMAILS).await {
        Ok(scripted) => scripted,
        Err(response) => return response,
    };
    let key = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match key {
        None => {
            return error(
                StatusCode::UNAUTHORIZED,
                "missing_api_key",
                "Missing API key in the authorization header.",
            )
        }
        Some(key) if key != defaults::RESEND_API_KEY => {
            return error(StatusCode::FORBIDDEN, "invalid_api_key", "API key is invalid")
        }
        Some(_) => {}
    }
    if let Some(Scripted::Reject { status, code }) = scripted {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
        return error(status, &code, "Scripted refusal.");
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return validation("validation_error", "The request body is not valid JSON.");
    };
    let email = match parse(&request) {
        Ok(email) => email,
        Err((name, message)) => return validation(name, message),
    };
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let world = &mut *lock(&sim.world);
    let (_, outbox) = world.data(Outbox::default);
    if let Some(key) = &idempotency_key {
        if let Some((seen, id)) = outbox.keys.get(key) {
            if *seen != request {
                return error(
                    StatusCode::CONFLICT,
                    "invalid_idempotent_request",
                    "Same idempotency key used with a different request payload.",
                );
            }
            return Json(json!({ "id": id })).into_response();
        }
    }
    let id = format!("sim_{}", random_token(24).to_ascii_lowercase());
    if let Some(key) = &idempotency_key {
        outbox.keys.insert(key.clone(), (request, id.clone()));
    }
    outbox.emails.push(ResendEmail {
        id: id.clone(),
        idempotency_key,
        ..email
    });
    Json(json!({ "id": id })).into_response()
}

/// The fields Resend requires and checks, or its 422's name and message.
fn parse(request: &Value) -> Result<ResendEmail, (&'static str, &'static str)> {
    let text_of = |field: &str| request[field].as_str().map(str::to_owned);
    let Some(from) = text_of("from") else {
        return Err(("missing_required_field", "Missing `from` field."));
    };
    let to: Vec<String> = match &request["to"] {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => vec![],
    };
    if to.is_empty() {
        return Err(("missing_required_field", "Missing `to` field."));
    }
    for address in to.iter().chain([&from]) {
        if !looks_like_address(address) {
            return Err(("validation_error", "Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format."));
        }
    }
    let Some(subject) = text_of("subject") else {
        return Err(("missing_required_field", "Missing `subject` field."));
    };
    let (text, html) = (text_of("text"), text_of("html"));
    if text.is_none() && html.is_none() {
        return Err(("validation_error", "Missing `html` or `text` field."));
    }
    let headers = request["headers"]
        .as_object()
        .map(|h| {
            h.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let attachments = request["attachments"].as_array().cloned().unwrap_or_default();
    for attachment in &attachments {
        if attachment["filename"].as_str().is_none()
            || (attachment["content"].as_str().is_none() && attachment["path"].as_str().is_none())
        {
            return Err(("validation_error", "Attachments need a `filename` and a `content` or `path`."));
        }
    }
    Ok(ResendEmail {
        id: String::new(),
        idempotency_key: None,
        from,
        to,
        subject,
        text,
        html,
        headers,
        attachments,
    })
}

/// `a@b.c` or `Name <a@b.c>`.
fn looks_like_address(value: &str) -> bool {
    let address = match (value.rfind('<'), value.strip_suffix('>')) {
        (Some(start), Some(inner)) => &inner[start + 1..],
        _ => value,
    };
    let mut parts = address.split('@');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(local), Some(domain), None) if !local.is_empty() && !domain.is_empty() && !address.contains(' ')
    )
}

async fn ledger(State(sim): State<AppState>) -> Json<Value> {
    let world = &mut *lock(&sim.world);
    let emails = &world.data(Outbox::default).1.emails;
    Json(json!({ "emails": emails }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_with_or_without_names() {
        assert!(looks_like_address("ann@example.com"));
        assert!(looks_like_address("Pulseboard <pb@example.com>"));
        assert!(!looks_like_address("ann"));
        assert!(!looks_like_address("a b@example.com"));
    }
}

//! KnoCommerce's token endpoint and responses list, as its developer
//! documentation describes them:
//!
//! - `POST /knocommerce/api/oauth2/token`: HTTP Basic with the URL-encoded
//!   `client_id:client_secret`, `grant_type=client_credentials` (form body or
//!   query) → `{access_token, token_type, expires_in, scope}`; a wrong pair is a
//!   `401` `{"error": "invalid_client", "error_description"}`, a wrong grant a
//!   `400` `{"error": "unsupported_grant_type"}`.
//! - `GET /knocommerce/api/rest/responses` with `Authorization: Bearer`:
//!   `maxPageSize` (1–250, default 25), `pageToken`, `status`
//!   (`completed`/`partial`), `updatedAt[gte]` (ISO 8601) and `expand=order`,
//!   ordered by `updated_at` → `{results, nextPageToken, hasMore}`; an unknown
//!   token is a `401` `{"message": "Unauthorized"}`, a bad parameter a `400`.

use axum::{
    body::Bytes,
    extract::{Query, State},
    http::{
        header::{AUTHORIZATION, RETRY_AFTER},
        HeaderMap, StatusCode,
    },
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::{json, Value};

use super::{defaults, endpoints, gen::KnoData};
use crate::{
    common::{http::random_token, lock, time::parse_iso},
    provider::Failure,
    AppState,
};

const MAX_PAGE_SIZE: usize = 250;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/knocommerce/api/oauth2/token", post(token))
        .route("/knocommerce/api/rest/responses", get(responses))
}

/// KnoCommerce's answer to a scripted failure.
pub(crate) fn failure(failure: Failure) -> Response {
    match failure {
        Failure::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "message": "Internal Server Error" })),
        )
            .into_response(),
        Failure::RateLimited { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            [(RETRY_AFTER, retry_after_secs.to_string())],
            Json(json!({ "message": "Too Many Requests" })),
        )
            .into_response(),
    }
}

fn message(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "message": message }))).into_response()
}

/// The client ID and secret of a Basic header, URL-decoded.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?.trim();
    let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((decode(id)?, decode(secret)?))
}

async fn token(
    State(sim): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
    body: Bytes,
) -> Response {
    if let Err(response) = sim.faults.enter(endpoints::KNOCOMMERCE_TOKEN).await {
        return response;
    }
    let form = crate::common::http::body_params(&headers, &body);
    let grant = form
        .get("grant_type")
        .cloned()
        .or_else(|| query.iter().find(|(k, _)| k == "grant_type").map(|(_, v)| v.clone()));
    if grant.as_deref() != Some("client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials" })),
        )
            .into_response();
    }
    let valid = basic_credentials(&headers).is_some_and(|(id, secret)| {
        id == defaults::KNOCOMMERCE_CLIENT_ID && secret == defaults::KNOCOMMERCE_CLIENT_SECRET
    });
    if !valid {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "invalid_client", "error_description": "Client authentication failed" })),
        )
            .into_response();
    }
    let access_token = format!("knotok_{}", random_token(32));
    let world = &mut *lock(&sim.world);
    world.data(KnoData::default).1.tokens.push(access_token.clone());
    Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "RESPONSES",
    }))
    .into_response()
}

async fn responses(
    State(sim): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    if let Err(response) = sim.faults.enter(endpoints::KNOCOMMERCE_RESPONSES).await {
        return response;
    }
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
    };
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let size = match param("maxPageSize") {
        None => 25,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
            _ => return message(StatusCode::BAD_REQUEST, "maxPageSize must be between 1 and 250"),
        },
    };
    let offset = match param("pageToken") {
        None => 0,
        Some(t) => match t.strip_prefix("pt_").and_then(|n| n.parse::<usize>().ok()) {
            Some(n) => n,
            None => return message(StatusCode::BAD_REQUEST, "Invalid pageToken"),
        },
    };
    let since = match param("updatedAt[gte]") {
        None => None,
        Some(v) => match parse_iso(&v) {
            Some(t) => Some(t),
            None => return message(StatusCode::BAD_REQUEST, "updatedAt[gte] must be an ISO 8601 date"),
        },
    };
    let status = param("status");
    let expand = param("expand").is_some_and(|e| e.split(',').any(|p| p.trim() == "order"));
    let world = &mut *lock(&sim.world);
    let end = world.end();
    let (clock, data) = world.data(KnoData::default);
    if !bearer.is_some_and(|t| data.tokens.contains(&t)) {
        return message(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    if std::mem::take(&mut data.malformed_next) {
        return Json(json!({ "data": "the simulator was told to answer the wrong shape" })).into_response();
    }
    let mut matching: Vec<_> = data
        .generated(clock)
        .responses
        .iter()
        .filter(|r| r.updated_at < end)
        .filter(|r| since.is_none_or(|s| r.updated_at >= s))
        .filter(|r| match status.as_deref() {
            Some("completed") => r.completed_at.is_some(),
            Some("partial") => r.completed_at.is_none(),
            _ => true,
        })
        .collect();
    matching.sort_by(|a, b| (a.updated_at, &a.id).cmp(&(b.updated_at, &b.id)));
    let results: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(size)
        .map(|r| r.json(expand))
        .collect();
    let more = offset + size < matching.len();
    Json(json!({
        "results": results,
        "nextPageToken": more.then(|| format!("pt_{}", offset + size)),
        "hasMore": more,
    }))
    .into_response()
}

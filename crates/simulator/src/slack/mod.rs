//! Simulated Slack incoming webhooks, served under `/slack`:
//! `POST /slack/services/{team}/{bot}/{secret}` with a JSON payload answers
//! `200 ok` (text), like `https://hooks.slack.com/services/…`, and
//! `GET /_sim/slack/ledger` lists every accepted message. Faults:
//! `slack.webhook` takes the generic 500 and 429 (with `Retry-After`) and
//! [`Fault::Reject`](crate::Fault::Reject) with Slack's text answers
//! (`404 no_service`, `410 channel_is_archived`, `403 action_prohibited`).

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{header::RETRY_AFTER, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::Serialize;
use serde_json::{json, Value};

use crate::{
    common::{faults::Scripted, lock},
    provider::{Failure, ProviderData, SimProvider},
    AppState,
};

/// Slack in the simulator's list of providers.
pub(crate) const PROVIDER: SimProvider = SimProvider {
    name: "slack",
    router: |sim| router().with_state(sim.clone()),
    settings,
    failure,
};

/// A webhook URL path the simulator accepts (any `T…/B…/secret` is accepted;
/// all defaults are in [`crate::defaults`]).
pub mod defaults {
    pub const SLACK_WEBHOOK_PATH: &str = "/slack/services/T0SIM0001/B0SIM0001/simsecret0123456789abcdef";
}

/// Slack's endpoint names (all of them are in [`crate::endpoints`]).
pub mod endpoints {
    pub const SLACK_WEBHOOK: &str = "slack.webhook";
}

/// A message a webhook accepted.
#[derive(Debug, Clone, Serialize)]
pub struct SlackMessage {
    pub team: String,
    pub bot: String,
    pub payload: Value,
}

#[derive(Debug, Default)]
pub(crate) struct Channels {
    pub messages: Vec<SlackMessage>,
}

impl ProviderData for Channels {
    fn advance(&mut self, _t: i64) {}
}

fn router() -> Router<AppState> {
    Router::new()
        .route("/slack/services/{team}/{bot}/{secret}", post(webhook))
        .route("/_sim/slack/ledger", get(ledger))
}

fn settings(base: &str) -> Vec<(String, String)> {
    vec![(
        "PULSEBOARD_SLACK_WEBHOOK_URL_PREFIXES".to_owned(),
        format!("https://hooks.slack.com/,{base}/slack/"),
    )]
}

/// Slack's webhooks answer in plain text.
fn text(status: StatusCode, body: &str) -> Response {
    (status, body.to_owned()).into_response()
}

fn failure(failure: Failure) -> Response {
    match failure {
        Failure::ServerError => text(StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        Failure::RateLimited { retry_after_secs } => {
            let mut response = text(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
            response
                .headers_mut()
                .insert(RETRY_AFTER, retry_after_secs.into());
            response
        }
    }
}

async fn webhook(
    State(sim): State<AppState>,
    Path((team, bot, _secret)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    match sim.faults.enter(endpoints::SLACK_WEBHOOK).await {
        Err(response) => return response,
        Ok(Some(Scripted::Reject { status, code })) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::NOT_FOUND);
            return text(status, &code);
        }
        Ok(_) => {}
    }
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return text(StatusCode::BAD_REQUEST, "invalid_payload");
    };
    let has_text = payload["text"].as_str().is_some_and(|t| !t.is_empty());
    let has_blocks = payload["blocks"].as_array().is_some_and(|b| !b.is_empty());
    if !has_text && !has_blocks {
        return text(StatusCode::BAD_REQUEST, "no_text");
    }
    if payload["blocks"].is_array() && !valid_blocks(&payload["blocks"]) {
        return text(StatusCode::BAD_REQUEST, "invalid_blocks");
    }
    let world = &mut *lock(&sim.world);
    world.data(Channels::default).1.messages.push(SlackMessage {
        team,
        bot,
        payload,
    });
    text(StatusCode::OK, "ok")
}

/// Every block is an object with a `type` (Block Kit's minimum).
fn valid_blocks(blocks: &Value) -> bool {
    blocks
        .as_array()
        .is_some_and(|blocks| blocks.iter().all(|b| b["type"].is_string()))
}

async fn ledger(State(sim): State<AppState>) -> Json<Value> {
    let world = &mut *lock(&sim.world);
    let messages = &world.data(Channels::default).1.messages;
    Json(json!({ "messages": messages }))
}

//! Simulated Gorgias REST API under `/gorgias/{domain}/api`: the account, the
//! tickets list (`limit` up to 100, `cursor`, `order_by=updated_datetime:desc` or
//! `created_datetime:desc`) and a ticket's messages, with HTTP basic auth (the
//! user's email and API key); lists are `{"data", "meta": {"prev_cursor",
//! "next_cursor"}, "object": "list", "uri"}`; errors `{"error": {"message"}}`.
//! Every answer carries `X-Gorgias-Account-Api-Call-Limit: used/40`; past 40
//! requests in the leaky bucket (2 leave a second) a 429 with `Retry-After`.

use std::{collections::HashMap, time::Instant};

use axum::{
    extract::{Path, Query, State},
    http::{header::{AUTHORIZATION, RETRY_AFTER}, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use base64::Engine;
use serde_json::{json, Value};

use super::{defaults, endpoints, gen::{GorgiasLedger, GorgiasTicket}, Gorgias};
use crate::{
    common::{lock, time::format_iso},
    provider::Failure,
    AppState,
};

/// Requests the bucket holds, and how many leave it a second.
pub(crate) const BUCKET: f64 = 40.0;
const LEAK_PER_SECOND: f64 = 2.0;

/// Gorgias' times: UTC without an offset, microseconds.
pub(crate) fn time(unix: i64) -> String {
    format_iso(unix).replace('Z', ".000000")
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": { "message": message } }))).into_response()
}

fn limited(retry_after_secs: u64) -> Response {
    let mut response = error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
    response.headers_mut().insert(RETRY_AFTER, retry_after_secs.into());
    response
        .headers_mut()
        .insert("x-gorgias-account-api-call-limit", HeaderValue::from_static("40/40"));
    response
}

pub(crate) fn failure(failure: Failure) -> Response {
    match failure {
        Failure::ServerError => error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error"),
        Failure::RateLimited { retry_after_secs } => limited(retry_after_secs),
    }
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/gorgias/{domain}/api/account", get(account))
        .route("/gorgias/{domain}/api/tickets", get(tickets))
        .route("/gorgias/{domain}/api/tickets/{id}/messages", get(messages))
}

/// The leaky bucket of the key: its level after this request, or the wait.
#[derive(Debug)]
pub(crate) struct Bucket {
    level: f64,
    at: Instant,
}

impl Default for Bucket {
    fn default() -> Self {
        Self { level: 0.0, at: Instant::now() }
    }
}

impl Bucket {
    fn take(&mut self, now: Instant) -> Result<u32, u64> {
        let leaked = now.saturating_duration_since(self.at).as_secs_f64() * LEAK_PER_SECOND;
        self.level = (self.level - leaked).max(0.0);
        self.at = now;
        if self.level + 1.0 > BUCKET {
            return Err(((self.level + 1.0 - BUCKET) / LEAK_PER_SECOND).ceil().max(1.0) as u64);
        }
        self.level += 1.0;
        Ok(self.level.ceil() as u32)
    }
}

/// Counts the call, applies faults, checks the account and key and the bucket.
async fn enter(sim: &AppState, endpoint: &str, domain: &str, headers: &HeaderMap) -> Result<u32, Response> {
    sim.faults.enter(endpoint).await?;
    if domain != defaults::GORGIAS_DOMAIN {
        return Err(error(StatusCode::NOT_FOUND, "Account not found"));
    }
    let expected = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", defaults::GORGIAS_EMAIL, defaults::GORGIAS_API_KEY));
    let presented = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    if presented != Some(expected.as_str()) {
        return Err(error(StatusCode::UNAUTHORIZED, "Invalid credentials"));
    }
    let world = &mut *lock(&sim.world);
    let (_, data) = world.data(Gorgias::default);
    data.bucket.take(Instant::now()).map_err(limited)
}

fn with_limit(used: u32, body: Value) -> Response {
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        "x-gorgias-account-api-call-limit",
        HeaderValue::from_str(&format!("{used}/{}", BUCKET as u32)).expect("ascii"),
    );
    response
}

/// A ticket as the API shows it at `t`: its course up to then.
pub(crate) fn ticket_json(ledger: &GorgiasLedger, ticket: &GorgiasTicket, t: i64, with_messages: bool) -> Value {
    let seen = |at: Option<i64>| at.filter(|a| *a < t);
    let closed = seen(ticket.closed_at);
    let survey = ticket.survey.filter(|(_, at)| *at < t).map(|(score, at)| {
        json!({ "id": ticket.id * 10, "ticket_id": ticket.id, "customer_id": ticket.id % 400,
            "score": score, "body_text": null, "created_datetime": time(closed.unwrap_or(at)),
            "sent_datetime": time(closed.unwrap_or(at)), "scored_datetime": time(at), "uri": format!("/api/satisfaction-surveys/{}", ticket.id * 10) })
    });
    let mut json = json!({
        "id": ticket.id,
        "uri": format!("/api/tickets/{}/", ticket.id),
        "external_id": null,
        "status": if closed.is_some() { "closed" } else { "open" },
        "channel": ticket.channel,
        "via": ticket.channel,
        "from_agent": false,
        "spam": ticket.spam,
        "customer": { "id": ticket.id % 400, "email": ticket.customer_email },
        "assignee_user": null,
        "language": "en",
        "subject": ticket.subject,
        "created_datetime": time(ticket.created_at),
        "opened_datetime": time(ticket.created_at),
        "updated_datetime": time(ticket.updated_at(t)),
        "last_message_datetime": time([Some(ticket.created_at), seen(ticket.replied_at), seen(ticket.follow_up_at)].into_iter().flatten().max().unwrap_or(ticket.created_at)),
        "closed_datetime": closed.map(time),
        "tags": ticket.tags.iter().map(|name| json!({ "id": 7 + name.len(), "name": name })).collect::<Vec<_>>(),
        "satisfaction_survey": survey,
        "meta": null,
    });
    if with_messages {
        json["messages"] = Value::Array(messages_json(ledger, ticket, t));
    }
    json
}

/// A ticket's messages at `t`, oldest first.
pub(crate) fn messages_json(_ledger: &GorgiasLedger, ticket: &GorgiasTicket, t: i64) -> Vec<Value> {
    let message = |n: u64, at: i64, from_agent: bool, body: &str| {
        json!({ "id": ticket.id * 100 + n, "ticket_id": ticket.id, "channel": ticket.channel, "via": ticket.channel,
            "from_agent": from_agent, "public": true, "body_text": body,
            "sender": if from_agent { json!({ "id": 1, "email": "support@acme-coffee.example" }) } else { json!({ "id": ticket.id % 400, "email": ticket.customer_email }) },
            "created_datetime": time(at), "sent_datetime": time(at) })
    };
    let mut out = vec![message(1, ticket.created_at, false, &ticket.first_message)];
    if let Some(at) = ticket.replied_at.filter(|a| *a < t) {
        out.push(message(2, at, true, "Thanks for reaching out! We are on it and will get back to you shortly."));
    }
    if let Some(at) = ticket.follow_up_at.filter(|a| *a < t) {
        out.push(message(3, at, false, "Ok, thank you."));
    }
    out
}

fn list(data: Vec<Value>, next: Option<String>, uri: &str) -> Value {
    json!({ "data": data, "meta": { "prev_cursor": null, "next_cursor": next }, "object": "list", "uri": uri })
}

async fn account(State(sim): State<AppState>, Path(domain): Path<String>, headers: HeaderMap) -> Response {
    let used = match enter(&sim, endpoints::GORGIAS_ACCOUNT, &domain, &headers).await {
        Ok(used) => used,
        Err(response) => return response,
    };
    with_limit(used, json!({ "domain": domain, "created_datetime": "2021-03-01T09:00:00.000000", "status": { "status": "active" } }))
}

fn limit(query: &HashMap<String, String>) -> usize {
    query.get("limit").and_then(|l| l.parse().ok()).unwrap_or(30).clamp(1, 100)
}

async fn tickets(
    State(sim): State<AppState>,
    Path(domain): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let used = match enter(&sim, endpoints::GORGIAS_TICKETS, &domain, &headers).await {
        Ok(used) => used,
        Err(response) => return response,
    };
    let order = query.get("order_by").map_or("created_datetime:desc", String::as_str);
    if !matches!(order, "updated_datetime:desc" | "created_datetime:desc") {
        return error(StatusCode::BAD_REQUEST, "order_by: unsupported ordering");
    }
    let world = &mut *lock(&sim.world);
    let (clock, data) = world.data(Gorgias::default);
    let ledger = &data.helpdesk(clock).ledger;
    let t = ledger.end;
    // Keyset order (time desc, id desc); the cursor is the last key, opaque.
    let key = |ticket: &GorgiasTicket| {
        let at = if order.starts_with("updated") { ticket.updated_at(t) } else { ticket.created_at };
        (at, ticket.id)
    };
    let mut sorted: Vec<&GorgiasTicket> = ledger.tickets.iter().collect();
    sorted.sort_by_key(|ticket| std::cmp::Reverse(key(ticket)));
    let after = query.get("cursor").and_then(|c| {
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(c).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (at, id) = text.split_once(':')?;
        Some((at.parse::<i64>().ok()?, id.parse::<u64>().ok()?))
    });
    if query.contains_key("cursor") && after.is_none() {
        return error(StatusCode::BAD_REQUEST, "cursor: invalid cursor");
    }
    let page: Vec<&GorgiasTicket> = sorted
        .into_iter()
        .filter(|ticket| after.is_none_or(|a| key(ticket) < a))
        .take(limit(&query) + 1)
        .collect();
    let more = page.len() > limit(&query);
    let page = &page[..page.len().min(limit(&query))];
    let next = more.then(|| {
        let (at, id) = key(page[page.len() - 1]);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{at}:{id}"))
    });
    let data: Vec<Value> = page.iter().map(|ticket| ticket_json(ledger, ticket, t, false)).collect();
    with_limit(used, list(data, next, "/api/tickets"))
}

async fn messages(
    State(sim): State<AppState>,
    Path((domain, id)): Path<(String, u64)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let used = match enter(&sim, endpoints::GORGIAS_MESSAGES, &domain, &headers).await {
        Ok(used) => used,
        Err(response) => return response,
    };
    let world = &mut *lock(&sim.world);
    let (clock, data) = world.data(Gorgias::default);
    let ledger = &data.helpdesk(clock).ledger;
    let Some(ticket) = ledger.tickets.iter().find(|t| t.id == id) else {
        return error(StatusCode::NOT_FOUND, "Ticket not found");
    };
    let all = messages_json(ledger, ticket, ledger.end);
    let from: usize = query.get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = all.iter().skip(from).take(limit(&query)).cloned().collect();
    let next = (from + page.len() < all.len()).then(|| (from + page.len()).to_string());
    with_limit(used, list(page, next, &format!("/api/tickets/{id}/messages")))
}

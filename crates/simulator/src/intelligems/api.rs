//! Simulated Intelligems external API under `/intelligems/v25-10-beta`: the
//! experiences list and an experience's analytics (totals and the daily series),
//! authenticated by the `intelligems-access-token` header; errors as
//! `{"error": {"code", "message"}}`, a 429 with `Retry-After`.

use axum::{
    extract::{Path, State},
    http::{header::RETRY_AFTER, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde_json::{json, Value};

use super::{
    defaults, endpoints,
    gen::{IgExperience, IntelligemsLedger},
    Intelligems,
};
use crate::{common::lock, provider::Failure, AppState};

pub(crate) const PREFIX: &str = "/intelligems/v25-10-beta";

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": { "code": code, "message": message } }))).into_response()
}

/// Intelligems' answer to a scripted failure.
pub(crate) fn failure(failure: Failure) -> Response {
    match failure {
        Failure::ServerError => error(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "Internal server error"),
        Failure::RateLimited { retry_after_secs } => {
            let mut response = error(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "Too many requests");
            response.headers_mut().insert(RETRY_AFTER, retry_after_secs.into());
            response
        }
    }
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(&format!("{PREFIX}/experiences-list"), get(list))
        .route(&format!("{PREFIX}/analytics/resource/{{id}}"), get(analytics))
}

async fn enter(sim: &AppState, endpoint: &str, headers: &HeaderMap) -> Result<(), Response> {
    sim.faults.enter(endpoint).await?;
    let key = headers.get("intelligems-access-token").and_then(|v| v.to_str().ok());
    if key != Some(defaults::INTELLIGEMS_API_KEY) {
        return Err(error(StatusCode::UNAUTHORIZED, "unauthorized", "Invalid access token"));
    }
    Ok(())
}

fn ms(unix: Option<i64>) -> Value {
    unix.map_or(Value::Null, |t| json!(t * 1000))
}

/// Minor units as the API's major-unit number.
fn major(minor: i64) -> Value {
    json!(minor as f64 / 100.0)
}

/// An experience as the list gives it.
pub(crate) fn experience_json(ledger: &IntelligemsLedger, e: &IgExperience) -> Value {
    json!({
        "id": e.id,
        "name": e.name,
        "type": e.kind,
        "status": e.status(ledger.end),
        "createdAtTs": e.created_at * 1000,
        "startedAtTs": ms(e.started_at.filter(|t| *t <= ledger.end)),
        "endedAtTs": ms(e.ended_at.filter(|t| *t <= ledger.end)),
        "currency": ledger.currency,
        "variations": e.variations.iter().map(|v| json!({
            "id": v.id, "name": v.name, "isControl": v.is_control, "percentage": v.percentage,
        })).collect::<Vec<_>>(),
    })
}

/// An experience's analytics, the daily series limited to `days` when given.
pub(crate) fn analytics_json(
    ledger: &IntelligemsLedger,
    e: &IgExperience,
    days: Option<&std::collections::BTreeSet<String>>,
) -> Value {
    let row = |id: &str, s: &super::gen::IgDayStats| {
        json!({ "variationId": id, "n_visitors": s.visitors, "n_orders": s.orders, "net_revenue": major(s.revenue_minor) })
    };
    let totals = e.totals();
    let metrics: Vec<Value> = e
        .variations
        .iter()
        .map(|v| row(&v.id, &totals.get(&v.id).cloned().unwrap_or_default()))
        .collect();
    let daily: Vec<Value> = e
        .days
        .iter()
        .filter(|(day, _)| days.is_none_or(|wanted| wanted.contains(*day)))
        .flat_map(|(day, stats)| {
            stats.iter().map(move |(id, s)| {
                let mut r = row(id, s);
                r["day"] = json!(day);
                r
            })
        })
        .collect();
    json!({
        "experienceId": e.id,
        "currency": ledger.currency,
        "asOfTs": ledger.end * 1000,
        "metrics": metrics,
        "daily": daily,
    })
}

async fn list(State(sim): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(response) = enter(&sim, endpoints::INTELLIGEMS_EXPERIENCES, &headers).await {
        return response;
    }
    let world = &mut *lock(&sim.world);
    let (clock, data) = world.data(Intelligems::default);
    let ledger = &data.account(clock).ledger;
    let list: Vec<Value> = ledger.experiences.iter().map(|e| experience_json(ledger, e)).collect();
    Json(json!({ "experiencesList": list })).into_response()
}

async fn analytics(State(sim): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Err(response) = enter(&sim, endpoints::INTELLIGEMS_ANALYTICS, &headers).await {
        return response;
    }
    let world = &mut *lock(&sim.world);
    let (clock, data) = world.data(Intelligems::default);
    let ledger = &data.account(clock).ledger;
    match ledger.experiences.iter().find(|e| e.id == id) {
        Some(e) => Json(analytics_json(ledger, e, None)).into_response(),
        None => error(StatusCode::NOT_FOUND, "not_found", "Experience not found"),
    }
}

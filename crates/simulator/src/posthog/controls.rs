//! PostHog's `/_sim/posthog/*` data controls (see [`crate::serve`]): a project's
//! ledger as JSON, late events, and the per-key query limit.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;
use serde_json::json;

use super::Posthog;
use crate::{
    common::{controls::mutation_response, lock, SimError},
    AppState,
};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/_sim/posthog/projects/{id}/ledger", get(ledger))
        .route("/_sim/posthog/projects/{id}/events", post(late_event))
        .route("/_sim/posthog/query-limit", post(query_limit))
}

fn id_of(raw: &str) -> Option<u64> {
    raw.parse::<u64>().ok().filter(|id| *id > 0)
}

fn no_project(raw: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": format!("no such project {raw}") })),
    )
        .into_response()
}

async fn ledger(State(sim): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(id) = id_of(&id) else {
        return no_project(&id);
    };
    let world = &mut *lock(&sim.world);
    let (clock, data) = world.data(Posthog::default);
    Json(&data.project(clock, id).ledger).into_response()
}

/// `{"event": "signed_up", "timestamp": unix, "person_id"?: "…", "session_id"?: "…"}`
#[derive(Deserialize)]
pub(crate) struct LateEvent {
    pub event: String,
    pub timestamp: i64,
    pub person_id: Option<String>,
    pub session_id: Option<String>,
}

async fn late_event(State(sim): State<AppState>, Path(id): Path<String>, body: Bytes) -> Response {
    let Some(id) = id_of(&id) else {
        return no_project(&id);
    };
    let late: LateEvent = match serde_json::from_slice(&body) {
        Ok(late) => late,
        Err(e) => return mutation_response::<()>(Err(SimError::Invalid(e.to_string()))),
    };
    let world = &mut *lock(&sim.world);
    let (clock, data) = world.data(Posthog::default);
    mutation_response(data.project(clock, id).ingest_late(
        &late.event,
        late.timestamp,
        late.person_id.as_deref(),
        late.session_id.as_deref(),
    ))
}

/// `{"per_hour": n}` → the HogQL queries each key may run per hour.
async fn query_limit(State(sim): State<AppState>, body: Bytes) -> Response {
    let per_hour = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("per_hour").and_then(serde_json::Value::as_u64))
        .and_then(|n| u32::try_from(n).ok());
    let Some(per_hour) = per_hour else {
        return mutation_response::<()>(Err(SimError::Invalid("expected {\"per_hour\": n}".into())));
    };
    let world = &mut *lock(&sim.world);
    world.data(Posthog::default).1.limiter.per_hour = per_hour;
    Json(json!({ "per_hour": per_hour })).into_response()
}

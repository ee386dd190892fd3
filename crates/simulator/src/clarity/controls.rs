//! Clarity's `/_sim/clarity/*` controls: the ledger (every project's sessions
//! before the data clock and every export call, as JSON) and a switch that makes
//! the next export answer a body of the wrong shape.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde_json::json;

use super::{defaults, gen::ClarityData, DAILY_LIMIT};
use crate::{common::lock, AppState};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/_sim/clarity/ledger", get(ledger))
        .route("/_sim/clarity/malformed", post(malformed))
}

/// `{"end", "daily_limit", "projects": {id: {"sessions": [...]}}, "calls": [...]}`:
/// the sessions of every project a token names (generated on first use), those
/// that started before the data clock.
async fn ledger(State(sim): State<AppState>) -> Response {
    let world = &mut *lock(&sim.world);
    let end = world.end();
    let (clock, data) = world.data(ClarityData::default);
    let mut projects = serde_json::Map::new();
    for (_, project) in defaults::CLARITY_TOKENS {
        let sessions: Vec<_> = data
            .project(clock, project)
            .sessions
            .iter()
            .filter(|s| s.start < end)
            .cloned()
            .collect();
        projects.insert((*project).to_owned(), json!({ "sessions": sessions }));
    }
    Json(json!({
        "end": end,
        "daily_limit": DAILY_LIMIT,
        "projects": projects,
        "calls": data.calls,
    }))
    .into_response()
}

async fn malformed(State(sim): State<AppState>) -> StatusCode {
    let world = &mut *lock(&sim.world);
    world.data(ClarityData::default).1.malformed_next = true;
    StatusCode::NO_CONTENT
}

//! Simulated KnoCommerce, served under `/knocommerce`: the OAuth 2
//! client-credentials token endpoint and the survey responses list of its REST
//! API (`api.rs`) over a generated post-purchase survey (`gen.rs`). Controls:
//!
//! - `GET /_sim/knocommerce/ledger` → `{"end", "responses": [...]}`: every
//!   response updated before the data clock, as the API lists it with
//!   `expand=order` (partial ones included: the list leaves them out only when
//!   asked for `status=completed`);
//! - `POST /_sim/knocommerce/malformed` → the next list answer has the wrong shape.

mod api;
mod gen;

use axum::{extract::State, http::StatusCode, routing::{get, post}, Json, Router};
use serde_json::{json, Value};

use self::gen::KnoData;
use crate::{common::lock, provider::SimProvider, AppState, SimulatorHandle};

/// KnoCommerce in the simulator's list of providers.
pub(crate) const PROVIDER: SimProvider = SimProvider {
    name: "knocommerce",
    router: |sim| router().with_state(sim.clone()),
    settings,
    failure: api::failure,
};

/// What the simulated KnoCommerce accepts (all of it is in [`crate::defaults`]).
pub mod defaults {
    /// The API client of the brand Acme Coffee.
    pub const KNOCOMMERCE_CLIENT_ID: &str = "kno-client-acme-coffee-4f1c";
    pub const KNOCOMMERCE_CLIENT_SECRET: &str = "kno_sim_secret_9dQ2vX7mPpL3";
}

/// KnoCommerce's endpoint names (all of them are in [`crate::endpoints`]).
pub mod endpoints {
    pub const KNOCOMMERCE_TOKEN: &str = "knocommerce.token";
    pub const KNOCOMMERCE_RESPONSES: &str = "knocommerce.responses";
}

fn settings(base: &str) -> Vec<(String, String)> {
    vec![
        (
            "PULSEBOARD_KNOCOMMERCE_API_URL".to_owned(),
            format!("{base}/knocommerce"),
        ),
        (
            "PULSEBOARD_KNOCOMMERCE_AUTH_URL".to_owned(),
            format!("{base}/knocommerce"),
        ),
    ]
}

fn router() -> Router<AppState> {
    Router::new()
        .merge(api::router())
        .route("/_sim/knocommerce/ledger", get(ledger))
        .route("/_sim/knocommerce/malformed", post(malformed))
}

fn ledger_json(sim: &AppState) -> Value {
    let world = &mut *lock(&sim.world);
    let end = world.end();
    let (clock, data) = world.data(KnoData::default);
    let responses: Vec<Value> = data
        .generated(clock)
        .responses
        .iter()
        .filter(|r| r.updated_at < end)
        .map(|r| r.json(true))
        .collect();
    json!({ "end": end, "responses": responses })
}

async fn ledger(State(sim): State<AppState>) -> Json<Value> {
    Json(ledger_json(&sim))
}

async fn malformed(State(sim): State<AppState>) -> StatusCode {
    let world = &mut *lock(&sim.world);
    world.data(KnoData::default).1.malformed_next = true;
    StatusCode::NO_CONTENT
}

impl SimulatorHandle {
    /// What `GET /_sim/knocommerce/ledger` answers.
    pub fn knocommerce_ledger(&self) -> Value {
        ledger_json(&self.state)
    }
}

//! Simulated Judge.me, served under `/judgeme`: the reviews list of its public
//! REST API (`api.rs`) over generated reviews of a coffee shop (`gen.rs`), the
//! token checked against the shop it belongs to. Controls:
//!
//! - `GET /_sim/judgeme/ledger` → `{"end", "shops": {domain: {"reviews": [...]}}}`:
//!   every review written before the data clock, as the API shows it at the clock
//!   (`published`, `hidden`, `curated`, `updated_at`), plus its fate
//!   (`moderated_at`, `outcome`);
//! - `POST /_sim/judgeme/malformed` → the next reviews answer has the wrong shape.
//!
//! Its data lives in the world, so moving the data clock brings new reviews and
//! the moderation of pending ones.

mod api;
mod gen;

use axum::{extract::State, http::StatusCode, routing::{get, post}, Json, Router};
use serde_json::{json, Value};

use self::gen::JudgeMeData;
use crate::{common::lock, provider::SimProvider, AppState, SimulatorHandle};

/// Judge.me in the simulator's list of providers.
pub(crate) const PROVIDER: SimProvider = SimProvider {
    name: "judgeme",
    router: |sim| router().with_state(sim.clone()),
    settings,
    failure: api::failure,
};

/// What the simulated Judge.me accepts (all of it is in [`crate::defaults`]).
pub mod defaults {
    /// The private API token of the shop `acme-coffee.myshopify.com`.
    pub const JUDGEME_API_TOKEN: &str = "jm_sim_private_b_UmJknnxEONTwVDs";
    /// The shop the default token belongs to.
    pub const JUDGEME_SHOP_DOMAIN: &str = "acme-coffee.myshopify.com";
    /// Another shop's token, for tests of tokens used with the wrong shop.
    pub const JUDGEME_OTHER_SHOP_TOKEN: &str = "jm_sim_private_globex_Zq81fLmTT";
    /// Every accepted token and the shop it belongs to.
    pub const JUDGEME_TOKENS: &[(&str, &str)] = &[
        (JUDGEME_API_TOKEN, JUDGEME_SHOP_DOMAIN),
        (JUDGEME_OTHER_SHOP_TOKEN, "globex.myshopify.com"),
    ];
}

/// Judge.me's endpoint names (all of them are in [`crate::endpoints`]).
pub mod endpoints {
    pub const JUDGEME_REVIEWS: &str = "judgeme.reviews";
}

fn settings(base: &str) -> Vec<(String, String)> {
    vec![(
        "PULSEBOARD_JUDGEME_API_URL".to_owned(),
        format!("{base}/judgeme"),
    )]
}

fn router() -> Router<AppState> {
    Router::new()
        .merge(api::router())
        .route("/_sim/judgeme/ledger", get(ledger))
        .route("/_sim/judgeme/malformed", post(malformed))
}

/// Every shop a token names, its reviews before the clock at the clock.
fn ledger_json(sim: &AppState) -> Value {
    let world = &mut *lock(&sim.world);
    let end = world.end();
    let (clock, data) = world.data(JudgeMeData::default);
    let mut shops = serde_json::Map::new();
    for (_, shop) in defaults::JUDGEME_TOKENS {
        let reviews: Vec<Value> = data
            .shop(clock, shop)
            .reviews
            .iter()
            .filter(|r| r.created_at < end)
            .map(|r| {
                let mut json = r.json(end);
                json["moderated_at"] = json!(r.moderated_at);
                json["outcome"] = json!(r.outcome);
                json["created_unix"] = json!(r.created_at);
                json
            })
            .collect();
        shops.insert((*shop).to_owned(), json!({ "reviews": reviews }));
    }
    json!({ "end": end, "shops": shops })
}

async fn ledger(State(sim): State<AppState>) -> Json<Value> {
    Json(ledger_json(&sim))
}

async fn malformed(State(sim): State<AppState>) -> StatusCode {
    let world = &mut *lock(&sim.world);
    world.data(JudgeMeData::default).1.malformed_next = true;
    StatusCode::NO_CONTENT
}

impl SimulatorHandle {
    /// What `GET /_sim/judgeme/ledger` answers.
    pub fn judgeme_ledger(&self) -> Value {
        ledger_json(&self.state)
    }
}

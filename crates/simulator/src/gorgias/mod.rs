//! Simulated Gorgias, served under `/gorgias/{domain}/api`: the account, tickets
//! and messages (`api.rs`) of one generated helpdesk (`gen.rs`), its leaky-bucket
//! rate limit, its ledger, and the deliveries of an HTTP integration for activity
//! after the helpdesk was generated. Controls:
//!
//! - `GET /_sim/gorgias/ledger` → the [`GorgiasLedger`] as JSON;
//! - `POST /_sim/gorgias/webhooks` with `{"secret"}` → every delivery due since the
//!   last call, `[{"headers": [[name, value]…], "body": "…"}]`, each with the
//!   `X-Pulseboard-Secret` header the integration is set up to send.

mod api;
mod gen;

use axum::{body::Bytes, extract::State, routing::{get, post}, Json, Router};
use serde::Serialize;
use serde_json::{json, Value};

pub use self::gen::{GorgiasLedger, GorgiasTicket};
use self::gen::GorgiasGen;
use crate::{
    common::{clock::Clock, lock, rng::mix},
    provider::{ProviderData, SimProvider},
    AppState, SimulatorHandle,
};

/// Gorgias in the simulator's list of providers.
pub(crate) const PROVIDER: SimProvider = SimProvider {
    name: "gorgias",
    router: |sim| router().with_state(sim.clone()),
    settings,
    failure: api::failure,
};

/// What the simulated Gorgias accepts (all of it is in [`crate::defaults`]).
pub mod defaults {
    pub const GORGIAS_DOMAIN: &str = "acme-coffee";
    pub const GORGIAS_EMAIL: &str = "ops@acme-coffee.example";
    pub const GORGIAS_API_KEY: &str = "gorgias_sim_key_7d3f9a2c";
    /// A secret for webhook tests and the demo.
    pub const GORGIAS_WEBHOOK_SECRET: &str = "gorgias-sim-integration-secret";
}

/// Gorgias' endpoint names (all of them are in [`crate::endpoints`]).
pub mod endpoints {
    pub const GORGIAS_ACCOUNT: &str = "gorgias.account";
    pub const GORGIAS_TICKETS: &str = "gorgias.tickets";
    pub const GORGIAS_MESSAGES: &str = "gorgias.messages";
}

fn settings(base: &str) -> Vec<(String, String)> {
    vec![(
        "PULSEBOARD_GORGIAS_API_URL_TEMPLATE".to_owned(),
        format!("{base}/gorgias/{{domain}}/api"),
    )]
}

fn router() -> Router<AppState> {
    Router::new()
        .merge(api::router())
        .route("/_sim/gorgias/ledger", get(ledger))
        .route("/_sim/gorgias/webhooks", post(webhooks))
}

/// The generated helpdesk and the key's bucket, kept in the world.
#[derive(Debug, Default)]
pub(crate) struct Gorgias {
    helpdesk: Option<GorgiasGen>,
    bucket: api::Bucket,
}

impl Gorgias {
    fn helpdesk(&mut self, clock: &Clock) -> &mut GorgiasGen {
        self.helpdesk.get_or_insert_with(|| {
            let mut helpdesk = GorgiasGen::new(mix(clock.data.seed ^ 0x6067), defaults::GORGIAS_DOMAIN, clock.start, clock.data.end);
            helpdesk.advance(clock.end);
            helpdesk.go_live();
            helpdesk
        })
    }
}

impl ProviderData for Gorgias {
    fn advance(&mut self, t: i64) {
        if let Some(helpdesk) = &mut self.helpdesk {
            helpdesk.advance(t);
        }
    }
}

/// A delivery of the HTTP integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GorgiasWebhook {
    /// `Content-Type` and `X-Pulseboard-Secret`.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

fn deliveries(helpdesk: &mut GorgiasGen, secret: &str) -> Vec<GorgiasWebhook> {
    let events = helpdesk.take_events();
    let ledger = &helpdesk.ledger;
    events
        .into_iter()
        .map(|(index, created)| {
            let ticket = api::ticket_json(ledger, &ledger.tickets[index], ledger.end, true);
            let event = if created { "ticket-created" } else { "ticket-updated" };
            GorgiasWebhook {
                headers: vec![
                    ("Content-Type".into(), "application/json".into()),
                    ("X-Pulseboard-Secret".into(), secret.into()),
                ],
                body: json!({ "event": event, "ticket": ticket }).to_string(),
            }
        })
        .collect()
}

impl SimulatorHandle {
    /// A copy of the helpdesk (generated on first use).
    pub fn gorgias_ledger(&self) -> GorgiasLedger {
        let world = &mut *lock(&self.state.world);
        let (clock, data) = world.data(Gorgias::default);
        data.helpdesk(clock).ledger.clone()
    }

    /// A delivery per ticket with news since the last call (after the helpdesk was
    /// generated), with `secret` in the header the integration sends.
    pub fn gorgias_webhooks(&self, secret: &str) -> Vec<GorgiasWebhook> {
        let world = &mut *lock(&self.state.world);
        let (clock, data) = world.data(Gorgias::default);
        deliveries(data.helpdesk(clock), secret)
    }
}

async fn ledger(State(sim): State<AppState>) -> Json<Value> {
    let world = &mut *lock(&sim.world);
    let (clock, data) = world.data(Gorgias::default);
    Json(serde_json::to_value(&data.helpdesk(clock).ledger).expect("the ledger serialises"))
}

async fn webhooks(State(sim): State<AppState>, body: Bytes) -> Json<Value> {
    let params: Value = serde_json::from_slice(&body).unwrap_or_default();
    let secret = params.get("secret").and_then(Value::as_str).unwrap_or(defaults::GORGIAS_WEBHOOK_SECRET);
    let world = &mut *lock(&sim.world);
    let (clock, data) = world.data(Gorgias::default);
    Json(serde_json::to_value(deliveries(data.helpdesk(clock), secret)).expect("deliveries serialise"))
}

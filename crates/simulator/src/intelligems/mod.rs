//! Simulated Intelligems, served under `/intelligems/v25-10-beta`: the experiences
//! list and analytics (`api.rs`) over a generated account (`gen.rs`), its ledger,
//! and signed webhook deliveries of experiment activity after the account was
//! generated. Controls:
//!
//! - `GET /_sim/intelligems/ledger` → the [`IntelligemsLedger`] as JSON;
//! - `POST /_sim/intelligems/webhooks` with `{"secret"}` → every delivery due since
//!   the last call, `[{"headers": [[name, value]…], "body": "…"}]`, signed
//!   `X-Intelligems-Signature: sha256=<hex HMAC-SHA256 of the body>`.
//!
//! The [`SimulatorHandle`] has the same as methods.

mod api;
mod gen;

use axum::{body::Bytes, extract::State, routing::{get, post}, Json, Router};
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::Sha256;

pub use self::gen::{IgDayStats, IgExperience, IgVariation, IntelligemsLedger};
use self::gen::IntelligemsGen;
use crate::{
    common::{clock::Clock, lock, rng::mix},
    provider::{ProviderData, SimProvider},
    AppState, SimulatorHandle,
};

/// Intelligems in the simulator's list of providers.
pub(crate) const PROVIDER: SimProvider = SimProvider {
    name: "intelligems",
    router: |sim| router().with_state(sim.clone()),
    settings,
    failure: api::failure,
};

/// What the simulated Intelligems accepts (all of it is in [`crate::defaults`]).
pub mod defaults {
    /// The API key the simulated account accepts.
    pub const INTELLIGEMS_API_KEY: &str = "ig_sim_4f7c2a9d1e8b3c6a";
    /// A signing secret for webhook tests and the demo.
    pub const INTELLIGEMS_WEBHOOK_SECRET: &str = "intelligems-sim-signing-secret";
}

/// Intelligems' endpoint names (all of them are in [`crate::endpoints`]).
pub mod endpoints {
    pub const INTELLIGEMS_EXPERIENCES: &str = "intelligems.experiences";
    pub const INTELLIGEMS_ANALYTICS: &str = "intelligems.analytics";
}

fn settings(base: &str) -> Vec<(String, String)> {
    vec![(
        "PULSEBOARD_INTELLIGEMS_API_URL".to_owned(),
        format!("{base}{}", api::PREFIX),
    )]
}

fn router() -> Router<AppState> {
    Router::new()
        .merge(api::router())
        .route("/_sim/intelligems/ledger", get(ledger))
        .route("/_sim/intelligems/webhooks", post(webhooks))
}

/// The generated account, kept in the world.
#[derive(Debug, Default)]
pub(crate) struct Intelligems {
    account: Option<IntelligemsGen>,
}

impl Intelligems {
    /// The account, generated up to the clock on first use.
    fn account(&mut self, clock: &Clock) -> &mut IntelligemsGen {
        self.account.get_or_insert_with(|| {
            let mut account = IntelligemsGen::new(mix(clock.data.seed ^ 0x16), clock.start, clock.data.end);
            account.advance(clock.end);
            account.go_live();
            account
        })
    }
}

impl ProviderData for Intelligems {
    fn advance(&mut self, t: i64) {
        if let Some(account) = &mut self.account {
            account.advance(t);
        }
    }
}

/// A webhook delivery as Intelligems would POST it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntelligemsWebhook {
    /// `Content-Type`, `X-Intelligems-Event` and `X-Intelligems-Signature`.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

fn deliveries(account: &mut IntelligemsGen, secret: &str) -> Vec<IntelligemsWebhook> {
    let events = account.take_events();
    let ledger = &account.ledger;
    events
        .into_iter()
        .map(|(index, days)| {
            let e = &ledger.experiences[index];
            let id = format!("whd_{}_{}_{}", e.id, ledger.end, days.len());
            let body = json!({
                "id": id,
                "type": "experience.updated",
                "createdAtTs": ledger.end * 1000,
                "experience": api::experience_json(ledger, e),
                "analytics": api::analytics_json(ledger, e, Some(&days)),
            })
            .to_string();
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
            mac.update(body.as_bytes());
            IntelligemsWebhook {
                headers: vec![
                    ("Content-Type".into(), "application/json".into()),
                    ("X-Intelligems-Event".into(), "experience.updated".into()),
                    ("X-Intelligems-Signature".into(), format!("sha256={}", hex::encode(mac.finalize().into_bytes()))),
                ],
                body,
            }
        })
        .collect()
}

impl SimulatorHandle {
    /// The simulated Intelligems API base (`PULSEBOARD_INTELLIGEMS_API_URL`).
    pub fn intelligems_api_base(&self) -> String {
        format!("{}{}", self.base_url(), api::PREFIX)
    }

    /// A copy of everything in the account (generated on first use).
    pub fn intelligems_ledger(&self) -> IntelligemsLedger {
        let world = &mut *lock(&self.state.world);
        let (clock, data) = world.data(Intelligems::default);
        data.account(clock).ledger.clone()
    }

    /// A delivery per experience with activity since the last call (after the
    /// account was generated), with the days it touched, signed with `secret`.
    pub fn intelligems_webhooks(&self, secret: &str) -> Vec<IntelligemsWebhook> {
        let world = &mut *lock(&self.state.world);
        let (clock, data) = world.data(Intelligems::default);
        deliveries(data.account(clock), secret)
    }
}

async fn ledger(State(sim): State<AppState>) -> Json<Value> {
    let world = &mut *lock(&sim.world);
    let (clock, data) = world.data(Intelligems::default);
    Json(serde_json::to_value(&data.account(clock).ledger).expect("the ledger serialises"))
}

async fn webhooks(State(sim): State<AppState>, body: Bytes) -> Json<Value> {
    let params: Value = serde_json::from_slice(&body).unwrap_or_default();
    let secret = params
        .get("secret")
        .and_then(Value::as_str)
        .unwrap_or(defaults::INTELLIGEMS_WEBHOOK_SECRET);
    let world = &mut *lock(&sim.world);
    let (clock, data) = world.data(Intelligems::default);
    Json(serde_json::to_value(deliveries(data.account(clock), secret)).expect("deliveries serialise"))
}

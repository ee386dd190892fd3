//! Simulated Paddle Billing, served under `/paddle` (both the live and the
//! sandbox host setting point there): the list endpoints (`api.rs`) over a
//! generated seller (`gen.rs`: customers, subscriptions, transactions, refund
//! adjustments and the events of every change), its ledger, and signed webhook
//! deliveries of the events after the seller was generated. Controls:
//!
//! - `GET /_sim/paddle/ledger` → the [`PaddleLedger`](gen::PaddleLedger) as JSON;
//! - `POST /_sim/paddle/transactions` with `{"price_id", "campaign"?}` → a new
//!   completed one-off transaction at the data clock;
//! - `POST /_sim/paddle/webhooks` with `{"secret"}` → every webhook due since
//!   the last call, as `[{"headers": [[name, value]…], "body": "…"}]`, signed the
//!   way Paddle signs (`Paddle-Signature: ts=…;h1=…`).
//!
//! The [`SimulatorHandle`] has the same as methods.

mod api;
mod gen;

use axum::{
    body::Bytes,
    extract::State,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::Sha256;

use self::gen::{PaddleGen, PaddleLedger, PdEvent};
use crate::{
    common::{clock::{now, Clock}, lock},
    provider::{ProviderData, SimProvider},
    AppState, SimulatorHandle,
};

/// Paddle in the simulator's list of providers.
pub(crate) const PROVIDER: SimProvider = SimProvider {
    name: "paddle",
    router: |sim| router().with_state(sim.clone()),
    settings,
    failure: api::failure,
};

/// What the simulated Paddle accepts (all of it is in [`crate::defaults`]).
pub mod defaults {
    /// A sandbox API key with read access to everything.
    pub const PADDLE_API_KEY: &str = "pdl_sdbx_apikey_01simpulseboard_readonly0123456789";
    /// The seller id to type with it.
    pub const PADDLE_SELLER_ID: u64 = 12345;
    /// A notification destination's secret key, for webhook tests and the demo.
    pub const PADDLE_WEBHOOK_SECRET: &str = "pdl_ntfset_01simpulseboard_secret";
}

/// Paddle's endpoint names (all of them are in [`crate::endpoints`]).
pub mod endpoints {
    pub const PADDLE_CUSTOMERS: &str = "paddle.customers";
    pub const PADDLE_SUBSCRIPTIONS: &str = "paddle.subscriptions";
    pub const PADDLE_TRANSACTIONS: &str = "paddle.transactions";
    pub const PADDLE_ADJUSTMENTS: &str = "paddle.adjustments";
    pub const PADDLE_EVENTS: &str = "paddle.events";
}

fn settings(base: &str) -> Vec<(String, String)> {
    vec![
        ("PULSEBOARD_PADDLE_API_URL".to_owned(), format!("{base}/paddle")),
        ("PULSEBOARD_PADDLE_SANDBOX_API_URL".to_owned(), format!("{base}/paddle")),
    ]
}

fn router() -> Router<AppState> {
    Router::new()
        .merge(api::router())
        .route("/_sim/paddle/ledger", get(ledger))
        .route("/_sim/paddle/transactions", post(new_transaction))
        .route("/_sim/paddle/webhooks", post(webhooks))
}

/// The generated seller, kept in the world.
#[derive(Debug, Default)]
pub(crate) struct Paddle {
    seller: Option<PaddleGen>,
}

impl Paddle {
    fn seller(&mut self, clock: &Clock) -> &mut PaddleGen {
        self.seller.get_or_insert_with(|| {
            let mut seller = PaddleGen::new(
                clock.data.seed,
                clock.start,
                clock.data.end,
                clock.data.stripe_daily_signups * 1.5,
            );
            seller.advance(clock.end);
            seller.go_live();
            seller
        })
    }
}

impl ProviderData for Paddle {
    fn advance(&mut self, t: i64) {
        if let Some(seller) = &mut self.seller {
            seller.advance(t);
        }
    }
}

/// A webhook delivery as Paddle would POST it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaddleWebhook {
    /// `Content-Type` and `Paddle-Signature`.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Renders an event as a notification and signs it at `ts` (unix seconds).
fn render(event: &PdEvent, secret: &str, ts: i64) -> PaddleWebhook {
    let body = json!({
        "event_id": event.event_id,
        "event_type": event.event_type,
        "occurred_at": api::time(event.occurred_at),
        "notification_id": format!("ntf_{}", &event.event_id[4..]),
        "data": event.data,
    })
    .to_string();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{ts}:").as_bytes());
    mac.update(body.as_bytes());
    let h1 = hex::encode(mac.finalize().into_bytes());
    PaddleWebhook {
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("Paddle-Signature".into(), format!("ts={ts};h1={h1}")),
        ],
        body,
    }
}

impl SimulatorHandle {
    /// A copy of everything of the seller (generated on first use).
    pub fn paddle_ledger(&self) -> PaddleLedger {
        let world = &mut *lock(&self.state.world);
        let (clock, data) = world.data(Paddle::default);
        data.seller(clock).ledger.clone()
    }

    /// A completed one-off transaction at the data clock (`pri_01simiconpack` or
    /// `pri_01simguide`) with a campaign in its custom data; returns its id.
    pub fn paddle_new_transaction(&self, price_id: &str, campaign: Option<&str>) -> Option<String> {
        let world = &mut *lock(&self.state.world);
        let (clock, data) = world.data(Paddle::default);
        data.seller(clock).purchase_now(price_id, campaign)
    }

    /// Refunds `amount` of a transaction at the data clock; returns the adjustment's id.
    pub fn paddle_refund(&self, transaction_id: &str, amount: i64) -> Option<String> {
        let world = &mut *lock(&self.state.world);
        let (clock, data) = world.data(Paddle::default);
        data.seller(clock).refund_now(transaction_id, amount)
    }

    /// Every webhook due since the last call, oldest first, signed with `secret`
    /// at the wall clock.
    pub fn paddle_webhooks(&self, secret: &str) -> Vec<PaddleWebhook> {
        let world = &mut *lock(&self.state.world);
        let (clock, data) = world.data(Paddle::default);
        let outbox = std::mem::take(&mut data.seller(clock).outbox);
        let ts = now();
        outbox.iter().map(|e| render(e, secret, ts)).collect()
    }
}

async fn ledger(State(sim): State<AppState>) -> Json<Value> {
    let world = &mut *lock(&sim.world);
    let (clock, data) = world.data(Paddle::default);
    Json(serde_json::to_value(&data.seller(clock).ledger).expect("the ledger serialises"))
}

async fn new_transaction(State(sim): State<AppState>, body: Bytes) -> Response {
    let params: Value = serde_json::from_slice(&body).unwrap_or_default();
    let price_id = params
        .get("price_id")
        .and_then(Value::as_str)
        .unwrap_or("pri_01simiconpack");
    let campaign = params.get("campaign").and_then(Value::as_str);
    let world = &mut *lock(&sim.world);
    let (clock, data) = world.data(Paddle::default);
    match data.seller(clock).purchase_now(price_id, campaign) {
        Some(id) => Json(json!({ "id": id })).into_response(),
        None => (
            axum::http::StatusCode::NOT_FOUND,
            Json(json!({ "error": format!("no such price {price_id}") })),
        )
            .into_response(),
    }
}

async fn webhooks(State(sim): State<AppState>, body: Bytes) -> Json<Value> {
    let params: Value = serde_json::from_slice(&body).unwrap_or_default();
    let secret = params
        .get("secret")
        .and_then(Value::as_str)
        .unwrap_or(defaults::PADDLE_WEBHOOK_SECRET);
    let world = &mut *lock(&sim.world);
    let (clock, data) = world.data(Paddle::default);
    let outbox = std::mem::take(&mut data.seller(clock).outbox);
    let ts = now();
    let deliveries: Vec<PaddleWebhook> = outbox.iter().map(|e| render(e, secret, ts)).collect();
    Json(serde_json::to_value(deliveries).expect("deliveries serialise"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_are_signed_like_paddle_signs() {
        let mut seller = PaddleGen::new(1, 1_700_000_000 - 30 * 86_400, 1_700_000_000, 8.0);
        seller.advance(1_700_000_000);
        seller.go_live();
        seller.purchase_now("pri_01simiconpack", Some("launch")).unwrap();
        let outbox = std::mem::take(&mut seller.outbox);
        let types: Vec<&str> = outbox.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(types, ["customer.created", "transaction.completed"]);
        let delivery = render(&outbox[1], "secret", 1_700_000_005);
        let body: Value = serde_json::from_str(&delivery.body).unwrap();
        assert_eq!(body["data"]["custom_data"]["utm_campaign"], "launch");
        assert_eq!(body["data"]["details"]["totals"]["total"], "2900");
        let header = &delivery.headers[1].1;
        let h1 = header.strip_prefix("ts=1700000005;h1=").unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
        mac.update(format!("1700000005:{}", delivery.body).as_bytes());
        mac.verify_slice(&hex::decode(h1).unwrap()).unwrap();
    }
}

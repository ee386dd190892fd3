//! Simulated LemonSqueezy, served under `/lemonsqueezy`: the JSON:API store and
//! lists (`api.rs`) over a generated store (`gen.rs`: customers, orders,
//! subscriptions, subscription invoices and refunds over the simulated history,
//! campaigns in checkout custom data), its ledger, and signed webhook deliveries
//! for activity after the store was generated. Controls:
//!
//! - `GET /_sim/lemonsqueezy/ledger` → the [`LemonSqueezyLedger`] as JSON;
//! - `POST /_sim/lemonsqueezy/orders` with `{"price_id", "campaign"?}` → a new
//!   paid order at the data clock;
//! - `POST /_sim/lemonsqueezy/webhooks` with `{"secret"}` → every webhook due
//!   since the last call, as `[{"headers": [[name, value]…], "body": "…"}]`, each
//!   signed the way LemonSqueezy signs (`X-Signature`, hex HMAC-SHA256 of the body).
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

use self::gen::{Announce, LemonSqueezyGen, LemonSqueezyLedger};
use crate::{
    common::{clock::Clock, lock},
    provider::{ProviderData, SimProvider},
    AppState, SimulatorHandle,
};

/// LemonSqueezy in the simulator's list of providers.
pub(crate) const PROVIDER: SimProvider = SimProvider {
    name: "lemonsqueezy",
    router: |sim| router().with_state(sim.clone()),
    settings,
    failure: api::failure,
};

/// What the simulated LemonSqueezy accepts (all of it is in [`crate::defaults`]).
pub mod defaults {
    /// The API key the simulated store accepts.
    pub const LEMONSQUEEZY_API_KEY: &str = "lssim_eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.sim";
    /// The one store.
    pub const LEMONSQUEEZY_STORE_ID: u64 = 4242;
    /// A signing secret for webhook tests and the demo.
    pub const LEMONSQUEEZY_WEBHOOK_SECRET: &str = "lemon-sim-signing-secret";
}

/// LemonSqueezy's endpoint names (all of them are in [`crate::endpoints`]).
pub mod endpoints {
    pub const LEMONSQUEEZY_STORE: &str = "lemonsqueezy.store";
    pub const LEMONSQUEEZY_ORDERS: &str = "lemonsqueezy.orders";
    pub const LEMONSQUEEZY_SUBSCRIPTIONS: &str = "lemonsqueezy.subscriptions";
    pub const LEMONSQUEEZY_SUBSCRIPTION_INVOICES: &str = "lemonsqueezy.subscription_invoices";
    pub const LEMONSQUEEZY_CUSTOMERS: &str = "lemonsqueezy.customers";
    pub const LEMONSQUEEZY_PRICES: &str = "lemonsqueezy.prices";
    pub const LEMONSQUEEZY_DISCOUNTS: &str = "lemonsqueezy.discounts";
    pub const LEMONSQUEEZY_DISCOUNT_REDEMPTIONS: &str = "lemonsqueezy.discount_redemptions";
}

fn settings(base: &str) -> Vec<(String, String)> {
    vec![(
        "PULSEBOARD_LEMONSQUEEZY_API_URL".to_owned(),
        format!("{base}/lemonsqueezy"),
    )]
}

fn router() -> Router<AppState> {
    Router::new()
        .merge(api::router())
        .route("/_sim/lemonsqueezy/ledger", get(ledger))
        .route("/_sim/lemonsqueezy/orders", post(new_order))
        .route("/_sim/lemonsqueezy/webhooks", post(webhooks))
}

/// The generated store, kept in the world.
#[derive(Debug, Default)]
pub(crate) struct LemonSqueezy {
    store: Option<LemonSqueezyGen>,
}

impl LemonSqueezy {
    /// The store, generated up to the clock on first use.
    fn store(&mut self, clock: &Clock) -> &mut LemonSqueezyGen {
        self.store.get_or_insert_with(|| {
            let mut store = LemonSqueezyGen::new(
                clock.data.seed,
                defaults::LEMONSQUEEZY_STORE_ID,
                clock.start,
                clock.data.end,
                clock.data.stripe_daily_signups * 1.5,
            );
            store.advance(clock.end);
            store.go_live();
            store
        })
    }
}

impl ProviderData for LemonSqueezy {
    fn advance(&mut self, t: i64) {
        if let Some(store) = &mut self.store {
            store.advance(t);
        }
    }
}

/// A webhook delivery as LemonSqueezy would POST it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LemonSqueezyWebhook {
    /// `Content-Type`, `X-Event-Name` and `X-Signature`.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Renders and signs one announced event.
fn render(
    ledger: &LemonSqueezyLedger,
    event: &str,
    what: Announce,
    secret: &str,
) -> LemonSqueezyWebhook {
    let (data, campaign) = match what {
        Announce::Order(i) => {
            let order = &ledger.orders[i];
            (api::order_json(ledger, order), order.campaign.clone())
        }
        Announce::Subscription(i) => {
            let sub = &ledger.subscriptions[i];
            (api::subscription_json(ledger, sub), sub.campaign.clone())
        }
        Announce::Invoice(i) => {
            let invoice = &ledger.invoices[i];
            (api::invoice_json(ledger, invoice), invoice.campaign.clone())
        }
    };
    let mut meta = json!({
        "test_mode": true,
        "event_name": event,
        "webhook_id": "0f9a1c52-6b7e-4c1e-9a0b-5e1d2c3b4a51",
    });
    if let Some(campaign) = campaign {
        meta["custom_data"] = json!({ "utm_campaign": campaign });
    }
    let body = json!({ "meta": meta, "data": data }).to_string();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    LemonSqueezyWebhook {
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("X-Event-Name".into(), event.into()),
            ("X-Signature".into(), signature),
        ],
        body,
    }
}

impl SimulatorHandle {
    /// The simulated LemonSqueezy API base (`PULSEBOARD_LEMONSQUEEZY_API_URL`).
    pub fn lemonsqueezy_api_base(&self) -> String {
        format!("{}/lemonsqueezy", self.base_url())
    }

    /// A copy of everything in the store (generated on first use).
    pub fn lemonsqueezy_ledger(&self) -> LemonSqueezyLedger {
        let world = &mut *lock(&self.state.world);
        let (clock, data) = world.data(LemonSqueezy::default);
        data.store(clock).ledger.clone()
    }

    /// A new paid one-off order at the data clock (price 304 or 305), with a
    /// campaign in its custom data; its `order_created` webhook is queued.
    /// Returns the order's id.
    pub fn lemonsqueezy_new_order(&self, price_id: u64, campaign: Option<&str>) -> Option<u64> {
        let world = &mut *lock(&self.state.world);
        let (clock, data) = world.data(LemonSqueezy::default);
        let store = data.store(clock);
        let index = store.order_now(price_id, campaign)?;
        Some(store.ledger.orders[index].id)
    }

    /// Every webhook due since the last call (activity after the store was
    /// generated, oldest first), signed with `secret`.
    pub fn lemonsqueezy_webhooks(&self, secret: &str) -> Vec<LemonSqueezyWebhook> {
        let world = &mut *lock(&self.state.world);
        let (clock, data) = world.data(LemonSqueezy::default);
        let store = data.store(clock);
        let events = store.take_events();
        events
            .into_iter()
            .map(|(event, what)| render(&store.ledger, event, what, secret))
            .collect()
    }
}

async fn ledger(State(sim): State<AppState>) -> Json<Value> {
    let world = &mut *lock(&sim.world);
    let (clock, data) = world.data(LemonSqueezy::default);
    Json(serde_json::to_value(&data.store(clock).ledger).expect("the ledger serialises"))
}

async fn new_order(State(sim): State<AppState>, body: Bytes) -> Response {
    let params: Value = serde_json::from_slice(&body).unwrap_or_default();
    let price_id = params.get("price_id").and_then(Value::as_u64).unwrap_or(304);
    let campaign = params.get("campaign").and_then(Value::as_str);
    let world = &mut *lock(&sim.world);
    let (clock, data) = world.data(LemonSqueezy::default);
    let store = data.store(clock);
    match store.order_now(price_id, campaign) {
        Some(index) => Json(json!({ "id": store.ledger.orders[index].id })).into_response(),
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
        .unwrap_or(defaults::LEMONSQUEEZY_WEBHOOK_SECRET);
    let world = &mut *lock(&sim.world);
    let (clock, data) = world.data(LemonSqueezy::default);
    let store = data.store(clock);
    let deliveries: Vec<LemonSqueezyWebhook> = store
        .take_events()
        .into_iter()
        .map(|(event, what)| render(&store.ledger, event, what, secret))
        .collect();
    Json(serde_json::to_value(deliveries).expect("deliveries serialise"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_are_signed_like_lemonsqueezy_signs() {
        let mut store = LemonSqueezyGen::new(1, 4242, 1_700_000_000 - 30 * 86_400, 1_700_000_000, 8.0);
        store.advance(1_700_000_000);
        store.go_live();
        store.order_now(304, Some("launch")).unwrap();
        let events = store.take_events();
        assert_eq!(events.len(), 1);
        let (event, what) = events[0];
        let delivery = render(&store.ledger, event, what, "secret");
        let body: Value = serde_json::from_str(&delivery.body).unwrap();
        assert_eq!(body["meta"]["event_name"], "order_created");
        assert_eq!(body["meta"]["custom_data"]["utm_campaign"], "launch");
        assert_eq!(body["data"]["type"], "orders");
        let signature = &delivery.headers[2].1;
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
        mac.update(delivery.body.as_bytes());
        mac.verify_slice(&hex::decode(signature).unwrap()).unwrap();
        assert!(store.take_events().is_empty());
    }
}

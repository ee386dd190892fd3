//! Simulated third-party APIs (Stripe under `/stripe`, Shopify under
//! `/shopify/{shop}`) that reproduce the documented request and response shapes,
//! so the real connector code can be exercised by tests and `pulseboard demo`.
//!
//! In tests: [`Simulator::start`] binds `127.0.0.1:0` and returns a
//! [`SimulatorHandle`] that scripts faults and counts calls. Standalone:
//! [`serve`], with the same controls over HTTP (`POST /_sim/faults`,
//! `DELETE /_sim/faults`, `GET /_sim/calls`).
//!
//! Behind the data endpoints is deterministic generated business data (see
//! [`DataConfig`]): Stripe's `/v1/{charges,refunds,customers,subscriptions,
//! invoices,events}` and Shopify's GraphQL `orders`, `customers`, `products`
//! and `abandonedCheckouts`. The handle exposes the same data as plain structs
//! ([`SimulatorHandle::stripe_ledger`], [`SimulatorHandle::shopify_ledger`]) so
//! tests can compute expected metrics independently, and mutates it live
//! (refunds, order edits, moving the data clock); standalone, the same is under
//! `/_sim/...` (see [`serve`]).
//!
//! The simulator is never linked into request handling of the real server.

mod common;
mod data;
mod shopify;
mod stripe;

use std::{
    collections::{BTreeMap, HashMap},
    future::Future,
    net::SocketAddr,
    sync::Arc,
    time::Duration,
};

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{header::CONTENT_TYPE, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use rand::{distributions::Alphanumeric, Rng};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use crate::common::faults::{self, lock};

pub use common::faults::{endpoints, Fault, FaultScript};
pub use common::money;
pub use data::{DataConfig, SimError};
pub use shopify::{
    graphql::cost as shopify_cost,
    ledger::{
        gid, parse_gid, ProductStatus, ShopifyCheckout, ShopifyCustomer, ShopifyLedger,
        ShopifyLineItem, ShopifyOrder, ShopifyOrderEdit, ShopifyProduct, ShopifyRefund,
    },
    ShopifySimConfig, ThrottleConfig,
};
pub use stripe::{
    ledger::{
        ChargeStatus, Interval, InvoiceLine, InvoiceStatus, StripeCharge, StripeCustomer,
        StripeEvent, StripeInvoice, StripeLedger, StripePrice, StripeRefund, StripeSubscription,
        SubscriptionPeriod, SubscriptionStatus, STRIPE_API_VERSION,
    },
    StripeSimConfig,
};

/// Default credentials the simulator accepts; point the connectors at these.
pub mod defaults {
    pub use crate::{shopify::defaults::*, stripe::defaults::*};
}

/// What the simulator accepts and answers.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    pub stripe: StripeSimConfig,
    pub shopify: ShopifySimConfig,
    /// Lifetime of issued access tokens; `None` issues non-expiring tokens (the
    /// providers' default) and no `expires_in`.
    pub token_lifetime: Option<Duration>,
    /// The generated business data behind the data endpoints.
    pub data: DataConfig,
    /// Shopify's GraphQL cost bucket, per shop.
    pub shopify_bucket: ThrottleConfig,
    /// Stripe API requests per second across `/v1/*`; beyond it Stripe's 429.
    /// `None` = unlimited.
    pub stripe_rate_limit: Option<u32>,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        Self {
            stripe: stripe::default_config(),
            shopify: shopify::default_config(),
            token_lifetime: None,
            data: DataConfig::default(),
            shopify_bucket: ThrottleConfig::default(),
            stripe_rate_limit: None,
        }
    }
}

/// Shared state of all handlers.
#[derive(Debug)]
pub(crate) struct Sim {
    pub config: SimulatorConfig,
    pub faults: faults::Faults,
    pub stripe: std::sync::Mutex<stripe::Store>,
    pub shopify: std::sync::Mutex<shopify::Store>,
    /// Generated data and the data clock.
    pub world: std::sync::Mutex<data::World>,
    /// Shopify's GraphQL cost buckets.
    pub shopify_buckets: std::sync::Mutex<shopify::graphql::Buckets>,
}

type AppState = Arc<Sim>;

fn app(config: SimulatorConfig) -> (Router, AppState) {
    let state = Arc::new(Sim {
        world: std::sync::Mutex::new(data::World::new(&config)),
        stripe: std::sync::Mutex::new(stripe::Store::new(config.stripe_rate_limit)),
        config,
        faults: faults::Faults::default(),
        shopify: Default::default(),
        shopify_buckets: Default::default(),
    });
    let router = Router::new()
        .merge(stripe::router())
        .merge(shopify::router())
        .route("/_sim/faults", post(script_fault).delete(clear_faults))
        .route("/_sim/calls", get(list_calls))
        .route("/_sim/clock", get(clock))
        .route("/_sim/advance", post(advance))
        .route("/_sim/stripe/ledger", get(stripe_ledger))
        .route(
            "/_sim/stripe/charges/{id}/refund",
            post(refund_stripe_charge),
        )
        .route("/_sim/shopify/{shop}/ledger", get(shopify_ledger))
        .route(
            "/_sim/shopify/{shop}/orders/{id}/refund",
            post(refund_shopify_order),
        )
        .route(
            "/_sim/shopify/{shop}/orders/{id}/edit",
            post(edit_shopify_order),
        )
        .with_state(state.clone());
    (router, state)
}

/// Entry point for the simulator in-process.
pub struct Simulator;

impl Simulator {
    /// Starts a simulator on `127.0.0.1:0` in a background task.
    pub async fn start(config: SimulatorConfig) -> std::io::Result<SimulatorHandle> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (router, state) = app(config);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(error) = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(%error, "simulator stopped");
            }
        });
        Ok(SimulatorHandle {
            addr,
            state,
            stop: Some(stop),
            task,
        })
    }
}

/// Runs the simulator on `addr` until `shutdown` completes (the future
/// `pulseboard simulator` subcommand and the demo use this).
///
/// Data controls over HTTP, mirroring the handle:
/// - `GET /_sim/clock` → `{"end": unix}`;
/// - `POST /_sim/advance` with `{"to": unix}` (or no body: to now) → `{"end": unix}`;
/// - `GET /_sim/stripe/ledger`, `GET /_sim/shopify/{shop}/ledger` → the ledger as JSON;
/// - `POST /_sim/stripe/charges/{id}/refund` with `{"amount": minor}` (default:
///   what is left) → the refund;
/// - `POST /_sim/shopify/{shop}/orders/{id}/refund` with `{"amount": minor}`
///   (default: what is left), `POST /_sim/shopify/{shop}/orders/{id}/edit` →
///   the refund or edit; `{id}` is the number or the GID.
///
/// Refused mutations answer 404 (unknown object) or 422.
pub async fn serve(
    addr: SocketAddr,
    config: SimulatorConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "provider simulator listening");
    let (router, _) = app(config);
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// A running in-process simulator. Dropping it stops the server.
pub struct SimulatorHandle {
    addr: SocketAddr,
    state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl SimulatorHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Base for Stripe's OAuth endpoints (`connect_base`).
    pub fn stripe_connect_base(&self) -> String {
        format!("{}/stripe", self.base_url())
    }

    /// Base for Stripe's API (`api_base`).
    pub fn stripe_api_base(&self) -> String {
        format!("{}/stripe", self.base_url())
    }

    /// Shop base template for Shopify (`shop_base_template`).
    pub fn shopify_shop_base_template(&self) -> String {
        format!("{}/shopify/{{shop}}", self.base_url())
    }

    /// The configuration the simulator runs with.
    pub fn config(&self) -> &SimulatorConfig {
        &self.state.config
    }

    /// How many requests reached the endpoint (faulted ones included).
    pub fn calls(&self, endpoint: &str) -> usize {
        self.state.faults.calls(endpoint)
    }

    /// Every endpoint's call count.
    pub fn all_calls(&self) -> BTreeMap<String, usize> {
        self.state.faults.all_calls()
    }

    /// Sets every call counter back to zero.
    pub fn reset_calls(&self) {
        self.state.faults.reset_calls();
    }

    /// Applies `fault` to the next `times` calls of `endpoint` (after any faults
    /// already scripted for it).
    pub fn script(&self, endpoint: &str, fault: Fault, times: usize) {
        self.state.faults.script(endpoint, fault, times);
    }

    /// The next authorize call (`stripe.authorize`, `shopify.authorize`) redirects
    /// back with `error=access_denied`.
    pub fn deny_consent(&self, endpoint: &str) {
        self.script(endpoint, Fault::DenyConsent, 1);
    }

    /// The next `times` token calls answer `invalid_grant`.
    pub fn invalid_grant(&self, endpoint: &str, times: usize) {
        self.script(endpoint, Fault::InvalidGrant, times);
    }

    /// The next `times` calls answer 500.
    pub fn fail(&self, endpoint: &str, times: usize) {
        self.script(endpoint, Fault::ServerError, times);
    }

    /// The next `times` calls answer 429 with `Retry-After` in whole seconds.
    pub fn rate_limit(&self, endpoint: &str, times: usize, retry_after: Duration) {
        let retry_after_secs = retry_after.as_secs();
        self.script(endpoint, Fault::RateLimited { retry_after_secs }, times);
    }

    /// The next `times` calls sleep for `duration` before answering.
    pub fn hang(&self, endpoint: &str, times: usize, duration: Duration) {
        self.script(endpoint, Fault::hang(duration), times);
    }

    /// Drops every scripted fault.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// The data clock: generated data exists strictly before it; live
    /// mutations happen at it.
    pub fn data_end(&self) -> i64 {
        lock(&self.state.world).end()
    }

    /// Moves the data clock forward to `unix_secs` (never back), generating
    /// the activity in between; returns the clock. Deterministic: the same
    /// sequence of calls gives the same data, and advancing in steps gives the
    /// same data as advancing at once.
    pub fn advance_to(&self, unix_secs: i64) -> i64 {
        lock(&self.state.world).advance_to(unix_secs)
    }

    /// [`advance_to`](Self::advance_to) the wall clock (for the demo's live feel).
    pub fn tick(&self) -> i64 {
        self.advance_to(data::now())
    }

    /// Refunds `amount` (minor units) of a succeeded charge at the data clock,
    /// emitting `charge.refunded` and `refund.created`.
    pub fn refund_stripe_charge(
        &self,
        charge_id: &str,
        amount: i64,
    ) -> Result<StripeRefund, SimError> {
        lock(&self.state.world)
            .stripe()
            .refund_charge(charge_id, amount)
    }

    /// Refunds `amount_minor` of an order (numeric id, see [`parse_gid`]) at the
    /// data clock; the order's `updatedAt` moves.
    pub fn refund_shopify_order(
        &self,
        shop: &str,
        order_id: u64,
        amount_minor: i64,
    ) -> Result<ShopifyRefund, SimError> {
        lock(&self.state.world)
            .shop(shop)
            .refund_order(order_id, amount_minor)
    }

    /// Edits an order at the data clock: one line's quantity changes by one,
    /// totals are recomputed and `updatedAt` moves.
    pub fn edit_shopify_order(
        &self,
        shop: &str,
        order_id: u64,
    ) -> Result<ShopifyOrderEdit, SimError> {
        lock(&self.state.world).shop(shop).edit_order(order_id)
    }

    /// A copy of everything in the Stripe account (generated on first use).
    pub fn stripe_ledger(&self) -> StripeLedger {
        lock(&self.state.world).stripe().ledger.clone()
    }

    /// A copy of everything in `shop` (generated on first use).
    pub fn shopify_ledger(&self, shop: &str) -> ShopifyLedger {
        lock(&self.state.world).shop(shop).ledger.clone()
    }

    /// Stops the server, waiting up to a second for in-flight requests (a hanging
    /// fault is cut short after that).
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if tokio::time::timeout(Duration::from_secs(1), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

impl Drop for SimulatorHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn script_fault(State(sim): State<AppState>, body: Bytes) -> Response {
    let scripts: Vec<FaultScript> = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(value @ serde_json::Value::Array(_)) => match serde_json::from_value(value) {
            Ok(list) => list,
            Err(e) => return bad_request(e),
        },
        Ok(value) => match serde_json::from_value(value) {
            Ok(one) => vec![one],
            Err(e) => return bad_request(e),
        },
        Err(e) => return bad_request(e),
    };
    for script in &scripts {
        sim.faults
            .script(&script.endpoint, script.fault.clone(), script.times);
    }
    (
        StatusCode::OK,
        Json(serde_json::json!({ "scripted": scripts.len() })),
    )
        .into_response()
}

fn bad_request(error: serde_json::Error) -> Response {
    let body = serde_json::json!({ "error": format!("invalid fault script: {error}") });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

async fn clear_faults(State(sim): State<AppState>) -> StatusCode {
    sim.faults.clear();
    StatusCode::NO_CONTENT
}

async fn list_calls(State(sim): State<AppState>) -> Json<BTreeMap<String, usize>> {
    Json(sim.faults.all_calls())
}

async fn clock(State(sim): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "end": lock(&sim.world).end() }))
}

async fn advance(State(sim): State<AppState>, body: Bytes) -> Json<serde_json::Value> {
    let to = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("to").and_then(serde_json::Value::as_i64))
        .unwrap_or_else(data::now);
    let end = lock(&sim.world).advance_to(to);
    Json(serde_json::json!({ "end": end }))
}

async fn stripe_ledger(State(sim): State<AppState>) -> Response {
    let world = &mut *lock(&sim.world);
    Json(&world.stripe().ledger).into_response()
}

async fn shopify_ledger(State(sim): State<AppState>, Path(shop): Path<String>) -> Response {
    let world = &mut *lock(&sim.world);
    Json(&world.shop(&shop).ledger).into_response()
}

/// `amount` from a mutation's JSON body, if any.
fn amount_param(body: &[u8]) -> Option<i64> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("amount")?
        .as_i64()
}

async fn refund_stripe_charge(
    State(sim): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let world = &mut *lock(&sim.world);
    let stripe = world.stripe();
    let amount = amount_param(&body).unwrap_or_else(|| {
        stripe.charge_index.get(&id).map_or(0, |i| {
            stripe.ledger.charges[*i].amount - stripe.ledger.charges[*i].amount_refunded
        })
    });
    mutation_response(stripe.refund_charge(&id, amount))
}

async fn refund_shopify_order(
    State(sim): State<AppState>,
    Path((shop, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Some(order_id) = parse_gid("Order", &id) else {
        return mutation_response::<()>(Err(SimError::NotFound(format!("order {id}"))));
    };
    let world = &mut *lock(&sim.world);
    let gen = world.shop(&shop);
    let amount = amount_param(&body).unwrap_or_else(|| {
        gen.ledger
            .orders
            .iter()
            .find(|o| o.id == order_id)
            .map_or(0, |o| o.total_price - o.total_refunded)
    });
    mutation_response(gen.refund_order(order_id, amount))
}

async fn edit_shopify_order(
    State(sim): State<AppState>,
    Path((shop, id)): Path<(String, String)>,
) -> Response {
    let Some(order_id) = parse_gid("Order", &id) else {
        return mutation_response::<()>(Err(SimError::NotFound(format!("order {id}"))));
    };
    mutation_response(lock(&sim.world).shop(&shop).edit_order(order_id))
}

fn mutation_response<T: serde::Serialize>(result: Result<T, SimError>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(error) => {
            let status = match error {
                SimError::NotFound(_) => StatusCode::NOT_FOUND,
                SimError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            };
            (
                status,
                Json(serde_json::json!({ "error": error.to_string() })),
            )
                .into_response()
        }
    }
}

/// Reads a request body that may be form-encoded or JSON (providers accept
/// both on their token endpoints) into string parameters.
pub(crate) fn body_params(headers: &HeaderMap, body: &[u8]) -> HashMap<String, String> {
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let Some(object) = value.as_object() else {
            return HashMap::new();
        };
        object
            .iter()
            .filter_map(|(k, v)| match v {
                serde_json::Value::String(s) => Some((k.clone(), s.clone())),
                serde_json::Value::Number(n) => Some((k.clone(), n.to_string())),
                _ => None,
            })
            .collect()
    } else {
        url::form_urlencoded::parse(body).into_owned().collect()
    }
}

/// A random token body of `len` alphanumeric characters.
pub(crate) fn random_token(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A `302 Found` to `location` (axum's `Redirect` helpers send 303/307/308; the
/// providers send 302).
pub(crate) fn found(location: &str) -> Response {
    (
        StatusCode::FOUND,
        [(axum::http::header::LOCATION, location.to_owned())],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_params_read_json_and_forms() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, "application/json".parse().unwrap());
        let json = body_params(&headers, br#"{"code":"abc","n":3,"x":null}"#);
        assert_eq!(json["code"], "abc");
        assert_eq!(json["n"], "3");
        assert!(!json.contains_key("x"));
        let form = body_params(
            &HeaderMap::new(),
            b"grant_type=authorization_code&code=a%2Bb",
        );
        assert_eq!(form["code"], "a+b");
    }

    #[tokio::test]
    async fn admin_endpoints_script_faults_and_report_calls() {
        let sim = Simulator::start(SimulatorConfig::default()).await.unwrap();
        let client = reqwest::Client::new();
        let script = serde_json::json!({
            "endpoint": "stripe.account",
            "fault": { "kind": "rate_limited", "retry_after_secs": 4 },
            "times": 1
        });
        let scripted = client
            .post(format!("{}/_sim/faults", sim.base_url()))
            .json(&script)
            .send()
            .await
            .unwrap();
        assert_eq!(scripted.status(), StatusCode::OK);

        let account = format!("{}/v1/account", sim.stripe_api_base());
        let limited = client.get(&account).send().await.unwrap();
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(limited.headers()["retry-after"], "4");
        let unauthorised = client
            .get(&account)
            .bearer_auth("rk_test_nope12345678")
            .send()
            .await
            .unwrap();
        assert_eq!(unauthorised.status(), StatusCode::UNAUTHORIZED);
        let body: serde_json::Value = unauthorised.json().await.unwrap();
        assert_eq!(
            body["error"]["message"],
            "Invalid API Key provided: rk_test_****5678"
        );

        let calls: BTreeMap<String, usize> = client
            .get(format!("{}/_sim/calls", sim.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(calls.get("stripe.account"), Some(&2));
        assert_eq!(sim.calls(endpoints::STRIPE_ACCOUNT), 2);
        let bad = client
            .post(format!("{}/_sim/faults", sim.base_url()))
            .json(&serde_json::json!({ "endpoint": "x", "fault": { "kind": "nope" } }))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        sim.shutdown().await;
    }
}

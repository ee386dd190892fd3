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
//! invoices,events,balance_transactions}` and Shopify's GraphQL `orders`, `customers`, `products`
//! and `abandonedCheckouts`. The handle exposes the same data as plain structs
//! ([`SimulatorHandle::stripe_ledger`], [`SimulatorHandle::shopify_ledger`]) so
//! tests can compute expected metrics independently, and mutates it live
//! (refunds, order edits, moving the data clock, a Stripe charge hidden from or
//! altered in what a sync reads while its balance transaction stays); standalone, the same is under
//! `/_sim/...` (see [`serve`]).
//!
//! The simulator is never linked into request handling of the real server.

// The providers, one folder each (see `provider.rs` for what a folder
// gives): adding one is its folder and its name in this list, which declares
// the module, lists it in `PROVIDERS` and re-exports its `defaults` and
// `endpoints`.
#[macro_use]
mod provider;
providers!(
    stripe,
    shopify,
    clarity,
    ga4,
    posthog,
    resend,
    slack,
    lemonsqueezy,
    paddle,
    judgeme,
    knocommerce,
    intelligems,
    gorgias
);

mod common;

use std::{
    any::{Any, TypeId},
    collections::{BTreeMap, HashMap},
    future::Future,
    net::SocketAddr,
    sync::Arc,
    time::Duration,
};

use axum::Router;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use crate::{
    common::{clock::Clock, faults::Faults, lock},
    provider::ProviderData,
};
pub use crate::{
    common::{
        clock::DataConfig,
        faults::{Fault, FaultScript},
        money, SimError,
    },
    gorgias::{GorgiasLedger, GorgiasTicket, GorgiasWebhook},
    intelligems::{IgDayStats, IgExperience, IgVariation, IntelligemsLedger, IntelligemsWebhook},
    resend::ResendEmail,
    shopify::{
        graphql::cost as shopify_cost,
        ledger::{
            gid, parse_gid, ProductStatus, ShopifyCheckout, ShopifyCustomer, ShopifyLedger,
            ShopifyLineItem, ShopifyOrder, ShopifyOrderEdit, ShopifyProduct, ShopifyRefund,
        },
        ShopifySimConfig, ThrottleConfig,
    },
    slack::SlackMessage,
    stripe::{
        ledger::{
            ChargeStatus, CouponDuration, Interval, InvoiceLine, InvoiceStatus, LineKind,
            StripeCharge, StripeCoupon, StripeCustomer, StripeEvent, StripeInvoice, StripeLedger,
            StripePrice, StripeRefund, StripeSubscription, SubscriptionDiscount,
            SubscriptionPeriod, SubscriptionStatus, METERED_PRICE, STRIPE_API_VERSION,
        },
        StripeSimConfig,
    },
};

/// The environment variables that point a Pulseboard server at a simulator
/// listening at `base` (`http://127.0.0.1:4010`, no trailing slash), with the
/// [`defaults`] credentials (the settings `pulseboard simulator` prints), as
/// `(name, value)` pairs.
pub fn connector_settings(base: &str) -> Vec<(String, String)> {
    PROVIDERS
        .iter()
        .flat_map(|provider| (provider.settings)(base))
        .collect()
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
    pub faults: Faults,
    /// Stripe's issued credentials and rate limiter.
    pub stripe: std::sync::Mutex<stripe::Store>,
    /// Shopify's issued credentials and cost buckets.
    pub shopify: shopify::State,
    /// Generated data and the data clock.
    pub world: std::sync::Mutex<World>,
}

type AppState = Arc<Sim>;

/// Every provider's generated data and the clock they share, behind one lock
/// so that moving the clock is atomic across providers: whoever sees one
/// provider's data at a clock sees every provider's at that clock.
#[derive(Debug)]
pub(crate) struct World {
    clock: Clock,
    stripe: stripe::Data,
    shopify: shopify::Data,
    /// The data of every other provider, by its type (see [`World::data`]).
    others: HashMap<TypeId, Box<dyn ProviderData>>,
}

impl World {
    fn new(config: &SimulatorConfig) -> Self {
        Self {
            clock: Clock::new(&config.data),
            stripe: stripe::Data::new(config),
            shopify: shopify::Data::new(config),
            others: HashMap::new(),
        }
    }

    /// A provider's own data (one value per type `T`), created with `new` on
    /// first use, and the clock to generate it up to. Whatever is here is
    /// advanced with the clock.
    // For providers that keep their data in their folder; Stripe and Shopify
    // have the typed fields above, so no built-in provider calls this.
    #[allow(dead_code)]
    pub fn data<T: ProviderData>(&mut self, new: impl FnOnce() -> T) -> (&Clock, &mut T) {
        let data: &mut dyn Any = self
            .others
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(new()))
            .as_mut();
        let data = data
            .downcast_mut::<T>()
            .expect("the world keeps each provider's data under its own type");
        (&self.clock, data)
    }

    /// The data clock.
    pub fn end(&self) -> i64 {
        self.clock.end
    }

    /// The Stripe account, generated up to the clock on first use.
    pub fn stripe(&mut self) -> &mut stripe::gen::StripeGen {
        self.stripe.account(&self.clock)
    }

    /// A shop, generated up to the clock on first use.
    pub fn shop(&mut self, domain: &str) -> &mut shopify::gen::ShopGen {
        self.shopify.shop(&self.clock, domain)
    }

    /// Moves the clock forward to `t` (never back), generating what happened
    /// in between for every business generated so far; returns the clock.
    pub fn advance_to(&mut self, t: i64) -> i64 {
        if t > self.clock.end {
            self.clock.end = t;
            self.stripe.advance(t);
            self.shopify.advance(t);
            for data in self.others.values_mut() {
                data.advance(t);
            }
        }
        self.clock.end
    }
}

fn app(config: SimulatorConfig) -> (Router, AppState) {
    let state = Arc::new(Sim {
        world: std::sync::Mutex::new(World::new(&config)),
        stripe: std::sync::Mutex::new(stripe::Store::new(config.stripe_rate_limit)),
        config,
        faults: Faults::default(),
        shopify: shopify::State::default(),
    });
    let router = PROVIDERS
        .iter()
        .fold(Router::new(), |router, provider| {
            router.merge((provider.router)(&state))
        })
        .merge(common::controls::router().with_state(state.clone()));
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
    let providers: Vec<&str> = PROVIDERS.iter().map(|provider| provider.name).collect();
    tracing::info!(
        addr = %listener.local_addr()?,
        ?providers,
        "provider simulator listening"
    );
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

    /// The next `times` calls answer `200` with JSON cut off mid-object.
    pub fn malformed(&self, endpoint: &str, times: usize) {
        self.script(endpoint, Fault::Malformed, times);
    }

    /// The next `times` calls of `endpoint` are refused with `status` and the
    /// provider's error `code` (`slack.webhook`, 410, `channel_is_archived`).
    pub fn reject(&self, endpoint: &str, status: u16, code: &str, times: usize) {
        let code = code.to_owned();
        self.script(endpoint, Fault::Reject { status, code }, times);
    }

    /// Every email the simulated Resend accepted, oldest first.
    pub fn resend_emails(&self) -> Vec<ResendEmail> {
        lock(&self.state.world)
            .data(resend::Outbox::default)
            .1
            .emails
            .clone()
    }

    /// Every message the simulated Slack webhooks accepted, oldest first.
    pub fn slack_messages(&self) -> Vec<SlackMessage> {
        lock(&self.state.world)
            .data(slack::Channels::default)
            .1
            .messages
            .clone()
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
        self.advance_to(common::clock::now())
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

    /// Leaves an order out of every `orders` listing not bounded by processing date,
    /// so a sync reading by `updated_at` never sees it while a listing of its day
    /// does: what the drift check must find. False for an unknown order.
    pub fn hide_shopify_order(&self, shop: &str, order_id: u64) -> bool {
        let world = &mut *lock(&self.state.world);
        let gen = world.shop(shop);
        gen.ledger.orders.iter().any(|o| o.id == order_id) && gen.hidden_orders.insert(order_id)
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

    /// Silently drops a charge from `/v1/charges` and `/v1/events` (what a sync
    /// reads); its balance transaction stays. False for an unknown charge.
    pub fn hide_stripe_charge(&self, id: &str) -> bool {
        let world = &mut *lock(&self.state.world);
        let stripe = world.stripe();
        stripe.charge_index.contains_key(id) && stripe.tamper.hidden.insert(id.to_owned())
    }

    /// Shows a charge with `amount` in `/v1/charges` and `/v1/events`; its
    /// balance transaction keeps the real one. False for an unknown charge.
    pub fn alter_stripe_charge(&self, id: &str, amount: i64) -> bool {
        let world = &mut *lock(&self.state.world);
        let stripe = world.stripe();
        if !stripe.charge_index.contains_key(id) {
            return false;
        }
        stripe.tamper.altered.insert(id.to_owned(), amount);
        true
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_have_distinct_names_and_settings_of_their_own() {
        let base = "http://127.0.0.1:4010";
        let mut names: Vec<&str> = PROVIDERS.iter().map(|provider| provider.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), PROVIDERS.len());
        for provider in PROVIDERS {
            let prefix = format!("PULSEBOARD_{}_", provider.name.to_ascii_uppercase());
            let settings = (provider.settings)(base);
            assert!(!settings.is_empty(), "{}", provider.name);
            for (name, value) in settings {
                assert!(name.starts_with(&prefix), "{name}");
                if value.starts_with(base) {
                    let under = format!("{base}/{}", provider.name);
                    assert!(value.starts_with(&under), "{name}={value}");
                }
            }
        }
    }

    /// Data a provider keeps in the world: it records the clock moves.
    #[derive(Debug)]
    struct Recorder {
        created_at: i64,
        advances: Vec<i64>,
    }

    impl ProviderData for Recorder {
        fn advance(&mut self, t: i64) {
            self.advances.push(t);
        }
    }

    #[test]
    fn a_providers_own_data_lives_in_the_world_and_moves_with_the_clock() {
        let config = SimulatorConfig::default();
        let mut world = World::new(&config);
        let start = world.end();
        world.advance_to(start + 60);
        let (clock, recorder) = world.data(|| Recorder {
            created_at: start + 60,
            advances: Vec::new(),
        });
        assert_eq!(clock.end, recorder.created_at);
        world.advance_to(start + 120);
        world.advance_to(start + 90);
        let (_, recorder) = world.data(|| -> Recorder { unreachable!("created once") });
        assert_eq!(recorder.created_at, start + 60);
        assert_eq!(recorder.advances, [start + 120]);
    }

    #[test]
    fn connector_settings_point_a_server_at_the_simulator() {
        // Stripe's and Shopify's, whatever other providers are listed.
        let settings: Vec<(String, String)> = connector_settings("http://127.0.0.1:4010")
            .into_iter()
            .filter(|(name, _)| {
                name.starts_with("PULSEBOARD_STRIPE_") || name.starts_with("PULSEBOARD_SHOPIFY_")
            })
            .collect();
        let expected = [
            ("PULSEBOARD_STRIPE_CLIENT_ID", "ca_sim_pulseboard"),
            (
                "PULSEBOARD_STRIPE_SECRET_KEY",
                "sk_test_sim_platform_secret",
            ),
            (
                "PULSEBOARD_STRIPE_CONNECT_URL",
                "http://127.0.0.1:4010/stripe",
            ),
            ("PULSEBOARD_STRIPE_API_URL", "http://127.0.0.1:4010/stripe"),
            ("PULSEBOARD_SHOPIFY_API_KEY", "sim-shopify-api-key"),
            (
                "PULSEBOARD_SHOPIFY_API_SECRET",
                "shpss_sim_shopify_api_secret",
            ),
            (
                "PULSEBOARD_SHOPIFY_SHOP_URL",
                "http://127.0.0.1:4010/shopify/{shop}",
            ),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        assert_eq!(settings, expected);
    }
}

//! Simulated Shopify, served under `/shopify/{shop}` so one simulator serves
//! any number of shops: app install OAuth and the GraphQL endpoint
//! (`api.rs`), the GraphQL Admin API's query root (`graphql/`), the
//! generated shops behind it (`gen.rs` builds the
//! [`ShopifyLedger`](ledger::ShopifyLedger) of `ledger.rs`), and the
//! `/_sim/shopify/{shop}/*` controls (`controls.rs`).

mod api;
mod controls;
pub(crate) mod gen;
pub(crate) mod graphql;
pub(crate) mod ledger;

use std::{collections::BTreeMap, sync::Mutex};

use axum::Router;

use self::gen::{ShopGen, ShopParams};
use crate::{common::clock::Clock, provider::SimProvider, AppState, SimulatorConfig};

/// Shopify in the simulator's list of providers.
pub(crate) const PROVIDER: SimProvider = SimProvider {
    name: "shopify",
    router: |sim| router().with_state(sim.clone()),
    settings,
    failure: api::failure,
};

/// Credentials the simulated Shopify app accepts by default (all of them are
/// in [`crate::defaults`]).
pub mod defaults {
    pub const SHOPIFY_API_KEY: &str = "sim-shopify-api-key";
    pub const SHOPIFY_API_SECRET: &str = "shpss_sim_shopify_api_secret";
}

/// Shopify's endpoint names, for fault scripting and call counting (all of
/// them are in [`crate::endpoints`]).
pub mod endpoints {
    pub const SHOPIFY_AUTHORIZE: &str = "shopify.authorize";
    pub const SHOPIFY_TOKEN: &str = "shopify.token";
    pub const SHOPIFY_GRAPHQL: &str = "shopify.graphql";
}

/// The simulated Shopify app and its shops (any `*.myshopify.com` exists).
#[derive(Debug, Clone)]
pub struct ShopifySimConfig {
    pub api_key: String,
    pub api_secret: String,
    /// Shop names by domain; other shops are named after their handle
    /// (`acme-store` → "Acme Store").
    pub shop_names: BTreeMap<String, String>,
    pub currency: String,
    pub timezone: String,
}

/// The configuration [`crate::SimulatorConfig::default`] uses: the
/// [`defaults`] credentials and US shops.
pub(crate) fn default_config() -> ShopifySimConfig {
    ShopifySimConfig {
        api_key: defaults::SHOPIFY_API_KEY.into(),
        api_secret: defaults::SHOPIFY_API_SECRET.into(),
        shop_names: BTreeMap::new(),
        currency: "USD".into(),
        timezone: "America/New_York".into(),
    }
}

/// Shopify's leaky bucket for GraphQL query cost, per shop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThrottleConfig {
    /// Bucket size, and the largest single query cost accepted.
    pub maximum_available: f64,
    /// Points restored per second.
    pub restore_rate: f64,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            maximum_available: 1000.0,
            restore_rate: 50.0,
        }
    }
}

/// Every Shopify route: OAuth, the GraphQL Admin API and the
/// `/_sim/shopify/{shop}/*` controls.
fn router() -> Router<AppState> {
    Router::new().merge(api::router()).merge(controls::router())
}

/// The environment variables that point a Pulseboard server at the simulated
/// Shopify of a simulator listening at `base`, with the default credentials.
/// The shop URL keeps a literal `{shop}` for the server to fill in.
fn settings(base: &str) -> Vec<(String, String)> {
    [
        (
            "PULSEBOARD_SHOPIFY_API_KEY",
            defaults::SHOPIFY_API_KEY.to_owned(),
        ),
        (
            "PULSEBOARD_SHOPIFY_API_SECRET",
            defaults::SHOPIFY_API_SECRET.to_owned(),
        ),
        (
            "PULSEBOARD_SHOPIFY_SHOP_URL",
            format!("{base}/shopify/{{shop}}"),
        ),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

/// Shopify's live state apart from the generated data: issued credentials
/// and the GraphQL cost buckets, each behind its own lock as before.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub tokens: Mutex<api::Store>,
    pub buckets: Mutex<graphql::Buckets>,
}

/// The generated shops, each created on first use.
#[derive(Debug)]
pub(crate) struct Data {
    currency: String,
    shops: BTreeMap<String, ShopGen>,
}

impl Data {
    pub fn new(config: &SimulatorConfig) -> Self {
        Self {
            currency: config.shopify.currency.to_ascii_uppercase(),
            shops: BTreeMap::new(),
        }
    }

    /// A shop, generated up to the clock on first use.
    pub fn shop(&mut self, clock: &Clock, domain: &str) -> &mut ShopGen {
        self.shops.entry(domain.to_owned()).or_insert_with(|| {
            let mut shop = ShopGen::new(ShopParams {
                seed: clock.data.seed,
                shop: domain.to_owned(),
                currency: self.currency.clone(),
                start: clock.start,
                anchor: clock.data.end,
                daily_orders: clock.data.shopify_daily_orders,
            });
            shop.advance(clock.end);
            shop
        })
    }

    /// Generates what happened up to `t` in every shop created so far.
    pub fn advance(&mut self, t: i64) {
        for shop in self.shops.values_mut() {
            shop.advance(t);
        }
    }
}

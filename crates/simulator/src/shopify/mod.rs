//! Simulated Shopify, served under `/shopify/{shop}` so one simulator serves
//! any number of shops: app install OAuth and the GraphQL endpoint
//! (`api.rs`), the GraphQL Admin API's query root (`graphql.rs`), and the
//! generated shops behind it (`gen.rs` builds the
//! [`ShopifyLedger`](ledger::ShopifyLedger) of `ledger.rs`).

mod api;
pub(crate) mod gen;
pub(crate) mod graphql;
pub(crate) mod ledger;

use std::collections::BTreeMap;

use axum::Router;

pub(crate) use self::api::Store;
use crate::AppState;

/// Credentials the simulated Shopify app accepts by default (all of them are
/// in [`crate::defaults`]).
pub mod defaults {
    pub const SHOPIFY_API_KEY: &str = "sim-shopify-api-key";
    pub const SHOPIFY_API_SECRET: &str = "shpss_sim_shopify_api_secret";
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

/// Every Shopify route: OAuth and the GraphQL Admin API.
pub(crate) fn router() -> Router<AppState> {
    api::router()
}

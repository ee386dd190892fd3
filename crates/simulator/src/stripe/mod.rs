//! Simulated Stripe, served under `/stripe`: Connect OAuth and the account
//! endpoint (`api.rs`), the data list endpoints (`lists.rs`), and the
//! generated account behind them (`gen.rs` builds the
//! [`StripeLedger`](ledger::StripeLedger) of `ledger.rs`).

mod api;
pub(crate) mod gen;
pub(crate) mod ledger;
mod lists;

use axum::Router;

pub(crate) use self::api::Store;
use crate::AppState;

/// Credentials the simulated Stripe platform accepts by default (all of them
/// are in [`crate::defaults`]).
pub mod defaults {
    pub const STRIPE_CLIENT_ID: &str = "ca_sim_pulseboard";
    pub const STRIPE_SECRET_KEY: &str = "sk_test_sim_platform_secret";
    pub const STRIPE_RESTRICTED_KEY: &str = "rk_test_sim_readonly_key";
    pub const STRIPE_ACCOUNT_ID: &str = "acct_1SimPulseboard";
}

/// The simulated Stripe platform and its one connected account.
#[derive(Debug, Clone)]
pub struct StripeSimConfig {
    /// The Connect platform's client id (`ca_…`).
    pub client_id: String,
    /// The platform secret key accepted as `client_secret` / bearer on `/oauth/*`.
    pub secret_key: String,
    /// Restricted keys accepted on `/v1/*` as the account's own keys.
    pub restricted_keys: Vec<String>,
    pub account_id: String,
    /// `business_profile.name`.
    pub business_name: String,
    /// `settings.dashboard.display_name`.
    pub display_name: String,
    pub default_currency: String,
    pub country: String,
    pub timezone: String,
    pub livemode: bool,
}

/// The configuration [`crate::SimulatorConfig::default`] uses: the
/// [`defaults`] credentials and a US test-mode account.
pub(crate) fn default_config() -> StripeSimConfig {
    StripeSimConfig {
        client_id: defaults::STRIPE_CLIENT_ID.into(),
        secret_key: defaults::STRIPE_SECRET_KEY.into(),
        restricted_keys: vec![defaults::STRIPE_RESTRICTED_KEY.into()],
        account_id: defaults::STRIPE_ACCOUNT_ID.into(),
        business_name: "Acme Analytics Inc.".into(),
        display_name: "Acme Analytics".into(),
        default_currency: "usd".into(),
        country: "US".into(),
        timezone: "America/New_York".into(),
        livemode: false,
    }
}

/// Every Stripe route: OAuth, the account and the list endpoints.
pub(crate) fn router() -> Router<AppState> {
    Router::new().merge(api::router()).merge(lists::router())
}

//! Simulated Stripe, served under `/stripe`: Connect OAuth and the account
//! endpoint (`api.rs`), the data list endpoints (`lists.rs`), the generated
//! account behind them (`gen.rs` builds the
//! [`StripeLedger`](ledger::StripeLedger) of `ledger.rs`), and its
//! `/_sim/stripe/*` controls (`controls.rs`).

mod api;
mod balance;
mod controls;
pub(crate) mod gen;
pub(crate) mod ledger;
mod lists;

use axum::Router;

pub(crate) use self::api::Store;
use self::gen::{StripeGen, StripeParams};
use crate::{common::clock::Clock, provider::SimProvider, AppState, SimulatorConfig};

/// Stripe in the simulator's list of providers.
pub(crate) const PROVIDER: SimProvider = SimProvider {
    name: "stripe",
    router: |sim| router().with_state(sim.clone()),
    settings,
    failure: api::failure,
};

/// Credentials the simulated Stripe platform accepts by default (all of them
/// are in [`crate::defaults`]).
pub mod defaults {
    pub const STRIPE_CLIENT_ID: &str = "ca_sim_pulseboard";
    pub const STRIPE_SECRET_KEY: &str = "sk_test_sim_platform_secret";
    pub const STRIPE_RESTRICTED_KEY: &str = "rk_test_sim_readonly_key";
    pub const STRIPE_ACCOUNT_ID: &str = "acct_1SimPulseboard";
}

/// Stripe's endpoint names, for fault scripting and call counting (all of
/// them are in [`crate::endpoints`]).
pub mod endpoints {
    pub const STRIPE_AUTHORIZE: &str = "stripe.authorize";
    pub const STRIPE_TOKEN: &str = "stripe.token";
    pub const STRIPE_DEAUTHORIZE: &str = "stripe.deauthorize";
    pub const STRIPE_ACCOUNT: &str = "stripe.account";
    pub const STRIPE_CHARGES: &str = "stripe.charges";
    pub const STRIPE_REFUNDS: &str = "stripe.refunds";
    pub const STRIPE_CUSTOMERS: &str = "stripe.customers";
    pub const STRIPE_SUBSCRIPTIONS: &str = "stripe.subscriptions";
    pub const STRIPE_INVOICES: &str = "stripe.invoices";
    pub const STRIPE_EVENTS: &str = "stripe.events";
    pub const STRIPE_BALANCE_TRANSACTIONS: &str = "stripe.balance_transactions";
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

/// Every Stripe route: OAuth, the account, the list endpoints and the
/// `/_sim/stripe/*` controls.
fn router() -> Router<AppState> {
    Router::new()
        .merge(api::router())
        .merge(lists::router())
        .merge(balance::router())
        .merge(controls::router())
}

/// The environment variables that point a Pulseboard server at the simulated
/// Stripe of a simulator listening at `base`, with the default credentials.
fn settings(base: &str) -> Vec<(String, String)> {
    [
        (
            "PULSEBOARD_STRIPE_CLIENT_ID",
            defaults::STRIPE_CLIENT_ID.to_owned(),
        ),
        (
            "PULSEBOARD_STRIPE_SECRET_KEY",
            defaults::STRIPE_SECRET_KEY.to_owned(),
        ),
        ("PULSEBOARD_STRIPE_CONNECT_URL", format!("{base}/stripe")),
        ("PULSEBOARD_STRIPE_API_URL", format!("{base}/stripe")),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

/// The generated Stripe account, created on first use.
#[derive(Debug)]
pub(crate) struct Data {
    account_id: String,
    currency: String,
    livemode: bool,
    account: Option<StripeGen>,
}

impl Data {
    pub fn new(config: &SimulatorConfig) -> Self {
        Self {
            account_id: config.stripe.account_id.clone(),
            currency: config.stripe.default_currency.to_ascii_lowercase(),
            livemode: config.stripe.livemode,
            account: None,
        }
    }

    /// The account, generated up to the clock on first use.
    pub fn account(&mut self, clock: &Clock) -> &mut StripeGen {
        self.account.get_or_insert_with(|| {
            let mut stripe = StripeGen::new(StripeParams {
                seed: clock.data.seed,
                account_id: self.account_id.clone(),
                currency: self.currency.clone(),
                livemode: self.livemode,
                start: clock.start,
                anchor: clock.data.end,
                daily_signups: clock.data.stripe_daily_signups,
            });
            stripe.advance(clock.end);
            stripe
        })
    }

    /// Generates what happened up to `t`, if the account exists yet.
    pub fn advance(&mut self, t: i64) {
        if let Some(stripe) = &mut self.account {
            stripe.advance(t);
        }
    }
}

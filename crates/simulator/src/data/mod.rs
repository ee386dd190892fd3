//! Deterministic business data behind the simulated APIs: one Stripe account
//! and any number of Shopify shops, generated lazily on first access, plus the
//! data clock that live mutations and `advance_to` move.
//!
//! Same seed + same config (+ same sequence of clock moves and mutations) ⇒
//! byte-identical data, so tests elsewhere can compute expected metrics from
//! the ledgers ([`StripeLedger`], [`ShopifyLedger`]) and compare them with what
//! the sync pipeline stored.

use std::{
    collections::BTreeMap,
    fmt,
    time::{SystemTime, UNIX_EPOCH},
};

use crate::{
    common::time,
    shopify::gen::{ShopGen, ShopParams},
    stripe::gen::{StripeGen, StripeParams},
    SimulatorConfig,
};

/// What to generate and over which period.
#[derive(Debug, Clone, PartialEq)]
pub struct DataConfig {
    /// Same seed and config give byte-identical data; tests pin it.
    pub seed: u64,
    /// Length of the generated history ending at `end`. Tests of other crates
    /// keep it small (60–120) to stay fast.
    pub history_days: u32,
    /// The initial data clock (unix seconds): nothing is generated at or after
    /// it until the clock is advanced. Defaults to now, rounded down to the hour.
    pub end: i64,
    /// Stripe signups per day at `end`, before weekly and yearly seasonality
    /// (the rate grows ~60 % a year, so it is lower earlier in the history).
    pub stripe_daily_signups: f64,
    /// Shopify orders per day at `end`, per shop, before seasonality (grows ~50 % a year).
    pub shopify_daily_orders: f64,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            history_days: 730,
            end: now().div_euclid(time::HOUR) * time::HOUR,
            stripe_daily_signups: 6.0,
            shopify_daily_orders: 40.0,
        }
    }
}

/// Why a live mutation was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimError {
    /// No such charge or order.
    NotFound(String),
    /// The mutation does not apply (amount too large, order cancelled, …).
    Invalid(String),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound(what) => write!(f, "no such {what}"),
            Self::Invalid(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for SimError {}

pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The data clock and the lazily generated businesses.
#[derive(Debug)]
pub(crate) struct World {
    data: DataConfig,
    start: i64,
    end: i64,
    stripe_account: String,
    stripe_currency: String,
    stripe_livemode: bool,
    shopify_currency: String,
    stripe: Option<StripeGen>,
    shops: BTreeMap<String, ShopGen>,
}

impl World {
    pub fn new(config: &SimulatorConfig) -> Self {
        let data = config.data.clone();
        let start = data.end - i64::from(data.history_days) * time::DAY;
        Self {
            start,
            end: data.end,
            data,
            stripe_account: config.stripe.account_id.clone(),
            stripe_currency: config.stripe.default_currency.to_ascii_lowercase(),
            stripe_livemode: config.stripe.livemode,
            shopify_currency: config.shopify.currency.to_ascii_uppercase(),
            stripe: None,
            shops: BTreeMap::new(),
        }
    }

    /// The data clock.
    pub fn end(&self) -> i64 {
        self.end
    }

    /// The Stripe account, generated up to the clock on first use.
    pub fn stripe(&mut self) -> &mut StripeGen {
        let end = self.end;
        self.stripe.get_or_insert_with(|| {
            let mut stripe = StripeGen::new(StripeParams {
                seed: self.data.seed,
                account_id: self.stripe_account.clone(),
                currency: self.stripe_currency.clone(),
                livemode: self.stripe_livemode,
                start: self.start,
                anchor: self.data.end,
                daily_signups: self.data.stripe_daily_signups,
            });
            stripe.advance(end);
            stripe
        })
    }

    /// A shop, generated up to the clock on first use.
    pub fn shop(&mut self, domain: &str) -> &mut ShopGen {
        let end = self.end;
        self.shops.entry(domain.to_owned()).or_insert_with(|| {
            let mut shop = ShopGen::new(ShopParams {
                seed: self.data.seed,
                shop: domain.to_owned(),
                currency: self.shopify_currency.clone(),
                start: self.start,
                anchor: self.data.end,
                daily_orders: self.data.shopify_daily_orders,
            });
            shop.advance(end);
            shop
        })
    }

    /// Moves the clock forward to `t` (never back), generating what happened
    /// in between for every business generated so far; returns the clock.
    pub fn advance_to(&mut self, t: i64) -> i64 {
        if t > self.end {
            self.end = t;
            if let Some(stripe) = &mut self.stripe {
                stripe.advance(t);
            }
            for shop in self.shops.values_mut() {
                shop.advance(t);
            }
        }
        self.end
    }
}

//! The data clock every provider's generated data shares, and what to
//! generate ([`DataConfig`]). Each provider generates its businesses lazily,
//! on first access, up to the clock; live mutations happen at the clock and
//! `advance_to` moves it.
//!
//! Same seed + same config (+ same sequence of clock moves and mutations) ⇒
//! byte-identical data, so tests elsewhere can compute expected metrics from
//! the ledgers ([`StripeLedger`](crate::StripeLedger),
//! [`ShopifyLedger`](crate::ShopifyLedger)) and compare them with what the
//! sync pipeline stored.

use std::time::{SystemTime, UNIX_EPOCH};

use super::time;

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

/// The wall clock, in unix seconds.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The span of generated history, shared by every provider so their data
/// covers the same period.
#[derive(Debug)]
pub(crate) struct Clock {
    /// What to generate; `data.end` is the initial clock, where growth is 1.
    pub data: DataConfig,
    /// Where the generated history starts.
    pub start: i64,
    /// The data clock: generated data exists strictly before it.
    pub end: i64,
}

impl Clock {
    pub fn new(data: &DataConfig) -> Self {
        let data = data.clone();
        let start = data.end - i64::from(data.history_days) * time::DAY;
        Self {
            start,
            end: data.end,
            data,
        }
    }
}

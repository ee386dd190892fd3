//! The generated traffic of a GA4 property: per day of the property, one cell per
//! (device, channel, country, landing page) with the ten report metrics. Reports add
//! cells up; tests read the cells (`GET /_sim/ga4/properties/{id}/ledger`) and add
//! them up themselves.
//!
//! Deterministic: a day's final numbers depend only on the seed, the property and
//! the day. Coherent: in every cell users ≤ sessions, new users ≤ users, engaged
//! sessions ≤ sessions, add-to-carts ≥ checkouts ≥ purchases, and purchases come
//! at about the shop's order rate ([`DataConfig::shopify_daily_orders`](crate::DataConfig)).
//!
//! **Late data.** GA4 keeps processing a day for about two days. What a report shows
//! of a day at data clock `t` is each final count times a completeness that grows
//! with the day's age: the part of today already elapsed × 90 %, then 92 % of the
//! final numbers for the day that ended less than 24 hours ago, 97 % for the one
//! before, and 100 % for older days (rounded down per cell, so every inequality above
//! still holds). So a later sync sees yesterday grow.
//!
//! **Users do not add up.** A person can appear in several cells of a day. A report
//! row that adds up more than one cell with users counts
//! `Σ users − ⌊Σ users / 25⌋` users (and the same for new users); a single cell
//! counts its own. [`dedup_users`] is that rule.

use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::Tz;
use std::collections::HashMap;

use serde::Serialize;

use super::SimProperty;
use crate::{
    common::{
        money,
        rng::{hash_str, mix, Rng},
        season::Season,
        time::{civil_from_days, DAY},
    },
    provider::ProviderData,
};

pub(crate) const DEVICES: &[(&str, f64)] = &[("desktop", 0.38), ("mobile", 0.56), ("tablet", 0.06)];
pub(crate) const CHANNELS: &[(&str, f64)] = &[
    ("Organic Search", 0.34),
    ("Direct", 0.22),
    ("Paid Search", 0.18),
    ("Organic Social", 0.12),
    ("Email", 0.08),
    ("Referral", 0.06),
];
/// `(countryId, country)`.
pub(crate) const COUNTRIES: &[(&str, &str, f64)] = &[
    ("US", "United States", 0.42),
    ("CA", "Canada", 0.09),
    ("GB", "United Kingdom", 0.1),
    ("DE", "Germany", 0.07),
    ("FR", "France", 0.05),
    ("AU", "Australia", 0.06),
    ("NZ", "New Zealand", 0.04),
    ("JP", "Japan", 0.05),
    ("NL", "Netherlands", 0.03),
    ("SE", "Sweden", 0.03),
    ("IE", "Ireland", 0.02),
    ("(not set)", "(not set)", 0.04),
];
pub(crate) const LANDING_PAGES: &[(&str, f64)] = &[
    ("/", 0.36),
    ("/collections/all", 0.18),
    ("/products/house-espresso", 0.16),
    ("/products/hand-grinder", 0.1),
    ("/blogs/brew-guide", 0.14),
    ("/pages/about", 0.06),
];
/// Prices of what sells, in US cents (scaled to the property's currency).
const PRICES: &[i64] = &[1800, 2400, 3200, 4500, 6800, 12900];
/// Visitors per order: purchases come out near the shop's order rate.
const SESSIONS_PER_ORDER: f64 = 45.0;

/// One cell of one day: its dimension values (indexes into the lists above) and
/// its metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Cell {
    pub device: u8,
    pub channel: u8,
    pub country: u8,
    pub landing: u8,
    pub m: Metrics,
}

/// The ten report metrics; revenue in minor units of the property's currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Metrics {
    pub sessions: i64,
    pub users: i64,
    pub new_users: i64,
    pub page_views: i64,
    pub engaged_sessions: i64,
    pub key_events: i64,
    pub add_to_carts: i64,
    pub checkouts: i64,
    pub purchases: i64,
    pub purchase_revenue_minor: i64,
}

impl Metrics {
    fn scaled(&self, num: i64, den: i64) -> Self {
        let f = |v: i64| v * num / den;
        Self {
            sessions: f(self.sessions),
            users: f(self.users),
            new_users: f(self.new_users),
            page_views: f(self.page_views),
            engaged_sessions: f(self.engaged_sessions),
            key_events: f(self.key_events),
            add_to_carts: f(self.add_to_carts),
            checkouts: f(self.checkouts),
            purchases: f(self.purchases),
            purchase_revenue_minor: f(self.purchase_revenue_minor),
        }
    }

    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }
}

/// The users a report row counts when it adds up `cells_with_users` cells whose
/// users sum to `sum` (see the module docs).
pub(crate) fn dedup_users(sum: i64, cells_with_users: usize) -> i64 {
    if cells_with_users > 1 {
        sum - sum / 25
    } else {
        sum
    }
}

/// Every property's final cells, generated on first use, kept in the world so the
/// data clock and seed are the simulator's.
#[derive(Debug, Default)]
pub(crate) struct Ga4Data {
    days: HashMap<(String, i64), Vec<Cell>>,
}

impl ProviderData for Ga4Data {
    // Nothing to generate ahead: a day's numbers are a function of the day, and the
    // clock decides how much of them is visible.
    fn advance(&mut self, _t: i64) {}
}

/// What the data clock shows of a property.
pub(crate) struct View {
    pub seed: u64,
    pub start: i64,
    pub anchor: i64,
    pub clock: i64,
    pub daily_orders: f64,
}

/// The property's zone (UTC should its name not parse, which the tests rule out).
fn zone(p: &SimProperty) -> Tz {
    p.time_zone.parse().unwrap_or(Tz::UTC)
}

/// The property's day number (days since 1970-01-01 in its zone) of `t`.
pub(crate) fn day_of(t: i64, p: &SimProperty) -> i64 {
    let utc = DateTime::from_timestamp(t, 0).unwrap_or_default().naive_utc();
    let offset = zone(p).offset_from_utc_datetime(&utc).fix().local_minus_utc();
    (t + i64::from(offset)).div_euclid(DAY)
}

/// When the property's day number `day` begins (unix seconds): its local midnight,
/// or the first instant after it where daylight saving skips midnight.
pub(crate) fn day_start(day: i64, p: &SimProperty) -> i64 {
    let tz = zone(p);
    let midnight = DateTime::from_timestamp(day * DAY, 0)
        .unwrap_or_default()
        .naive_utc();
    (0..=2)
        .find_map(|hours| {
            tz.from_local_datetime(&(midnight + chrono::Duration::hours(hours)))
                .earliest()
        })
        .map_or(day * DAY, |t| t.timestamp())
}

/// `YYYYMMDD` of a day number.
pub(crate) fn date_text(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}{m:02}{d:02}")
}

fn binomial(rng: &mut Rng, n: i64, p: f64) -> i64 {
    (0..n).filter(|_| rng.chance(p)).count() as i64
}

impl Ga4Data {
    /// The day's final cells.
    fn final_cells(&mut self, view: &View, id: &str, p: &SimProperty, day: i64) -> &[Cell] {
        self.days
            .entry((id.to_owned(), day))
            .or_insert_with(|| generate(view, id, p, day))
    }

    /// The day's cells as the data clock shows them (empty before the history or in
    /// the future).
    pub fn cells(&mut self, view: &View, id: &str, p: &SimProperty, day: i64) -> Vec<Cell> {
        let begins = day_start(day, p);
        let ends = day_start(day + 1, p);
        if view.clock <= begins || ends <= view.start {
            return vec![];
        }
        let (num, den) = if view.clock < ends {
            ((view.clock - begins) * 90, (ends - begins) * 100)
        } else if view.clock - ends < DAY {
            (92, 100)
        } else if view.clock - ends < 2 * DAY {
            (97, 100)
        } else {
            (1, 1)
        };
        self.final_cells(view, id, p, day)
            .iter()
            .map(|c| Cell {
                m: c.m.scaled(num, den),
                ..*c
            })
            .collect()
    }
}

fn generate(view: &View, id: &str, p: &SimProperty, day: i64) -> Vec<Cell> {
    let mut rng = Rng::new(mix(view.seed ^ hash_str(id) ^ mix(day as u64)));
    let season = Season {
        weekend: 1.15,
        months: [0.9, 0.85, 0.95, 1.0, 1.0, 0.95, 0.9, 0.95, 1.0, 1.05, 1.2, 1.35],
        bfcm: 2.2,
        growth_per_year: 1.5,
    };
    let noon = (day_start(day, p) + day_start(day + 1, p)) / 2;
    let sessions_today =
        view.daily_orders * SESSIONS_PER_ORDER * p.scale * season.factor(noon, view.anchor);
    let mut cells = Vec::new();
    for (d, (_, wd)) in DEVICES.iter().enumerate() {
        for (c, (_, wc)) in CHANNELS.iter().enumerate() {
            for (k, (_, _, wk)) in COUNTRIES.iter().enumerate() {
                for (l, (_, wl)) in LANDING_PAGES.iter().enumerate() {
                    let lambda = sessions_today * wd * wc * wk * wl * rng.uniform(0.7, 1.3);
                    let sessions = i64::from(rng.poisson(lambda));
                    let users = sessions - binomial(&mut rng, sessions, 0.15);
                    let new_users = binomial(&mut rng, users, 0.6);
                    let engaged_sessions = binomial(&mut rng, sessions, 0.62);
                    let page_views = sessions + i64::from(rng.poisson(sessions as f64 * 1.8));
                    let add_to_carts = binomial(&mut rng, sessions, 0.1);
                    let checkouts = binomial(&mut rng, add_to_carts, 0.5);
                    let purchases = binomial(&mut rng, checkouts, 0.45);
                    let key_events = purchases + binomial(&mut rng, sessions, 0.03);
                    let purchase_revenue_minor = (0..purchases)
                        .map(|_| money::scale(*rng.pick(PRICES), p.currency) * rng.range(1, 3))
                        .sum();
                    cells.push(Cell {
                        device: d as u8,
                        channel: c as u8,
                        country: k as u8,
                        landing: l as u8,
                        m: Metrics {
                            sessions,
                            users,
                            new_users,
                            page_views,
                            engaged_sessions,
                            key_events,
                            add_to_carts,
                            checkouts,
                            purchases,
                            purchase_revenue_minor,
                        },
                    });
                }
            }
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_follow_the_zone_across_daylight_saving() {
        let ny = super::super::property(super::super::defaults::GA4_PROPERTY_ID).unwrap();
        // 2026-03-08, New York springs forward: a 23-hour day from 05:00 UTC.
        let day = crate::common::time::days_from_civil(2026, 3, 8);
        assert_eq!(day_start(day, &ny), 1_772_946_000);
        assert_eq!(day_start(day + 1, &ny) - day_start(day, &ny), 23 * 3600);
        // 2026-11-01 falls back: 25 hours.
        let day = crate::common::time::days_from_civil(2026, 11, 1);
        assert_eq!(day_start(day + 1, &ny) - day_start(day, &ny), 25 * 3600);
        // Summer days begin at 04:00 UTC, winter ones at 05:00.
        let july = crate::common::time::days_from_civil(2026, 7, 1);
        assert_eq!(day_start(july, &ny) % DAY, 4 * 3600);
        assert_eq!(day_of(day_start(july, &ny), &ny), july);
        assert_eq!(day_of(day_start(july, &ny) - 1, &ny), july - 1);
    }
    use crate::ga4::PROPERTIES;

    fn view(clock: i64) -> View {
        View {
            seed: 42,
            start: clock - 100 * DAY,
            anchor: clock,
            clock,
            daily_orders: 40.0,
        }
    }

    #[test]
    fn days_are_coherent_deterministic_and_grow_late() {
        let p = PROPERTIES[0];
        let clock = 1_714_600_000;
        let today = day_of(clock, &p);
        let mut data = Ga4Data::default();
        let old = data.cells(&view(clock), p.id, &p, today - 10);
        let total = |cells: &[Cell], f: fn(&Metrics) -> i64| cells.iter().map(|c| f(&c.m)).sum::<i64>();
        assert!(total(&old, |m| m.sessions) > 800, "{}", total(&old, |m| m.sessions));
        let orders = total(&old, |m| m.purchases);
        assert!((15..=90).contains(&orders), "{orders}");
        for c in &old {
            let m = c.m;
            assert!(m.users <= m.sessions && m.new_users <= m.users);
            assert!(m.engaged_sessions <= m.sessions);
            assert!(m.add_to_carts >= m.checkouts && m.checkouts >= m.purchases);
            assert_eq!(m.purchase_revenue_minor > 0, m.purchases > 0);
        }
        assert_eq!(Ga4Data::default().cells(&view(clock), p.id, &p, today - 10), old);
        // Yesterday grows as the clock moves on; the future has nothing.
        let yesterday = total(&data.cells(&view(clock), p.id, &p, today - 1), |m| m.sessions);
        let later = total(&data.cells(&view(clock + 2 * DAY), p.id, &p, today - 1), |m| m.sessions);
        assert!(later > yesterday, "{yesterday} → {later}");
        assert!(data.cells(&view(clock), p.id, &p, today + 1).is_empty());
        assert_eq!(dedup_users(100, 2), 96);
        assert_eq!(dedup_users(100, 1), 100);
        assert_eq!(date_text(19_844), "20240501");
    }
}

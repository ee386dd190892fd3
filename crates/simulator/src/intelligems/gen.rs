//! The generated store behind the simulated Intelligems: a price test and a
//! shipping-threshold test running, a content test that ended and a draft, with
//! visitors, orders and revenue per variation hour by hour. Each hour of each
//! variation draws from its own stream, so advancing in steps gives the same
//! numbers as advancing at once. Only whole hours before the data clock exist.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::common::{
    rng::{hash_str, mix, Rng},
    time::{format_iso, DAY, HOUR},
};

/// One arm of an experience.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IgVariation {
    pub id: String,
    pub name: String,
    pub is_control: bool,
    /// Share of traffic, percent.
    pub percentage: u32,
    /// The chance a visitor orders (the generator's truth, not an API field).
    pub conversion: f64,
    /// Mean order value in cents.
    pub aov_cents: i64,
}

/// One variation's numbers on one UTC day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IgDayStats {
    pub visitors: u64,
    pub orders: u64,
    pub revenue_minor: i64,
}

/// One experience (Intelligems' name for a test) and its activity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IgExperience {
    pub id: String,
    pub name: String,
    /// `price`, `shipping`, `content`.
    pub kind: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub variations: Vec<IgVariation>,
    /// `YYYY-MM-DD` → variation id → numbers.
    pub days: BTreeMap<String, BTreeMap<String, IgDayStats>>,
}

impl IgExperience {
    /// `pending`, `started` or `ended` at `now`.
    pub fn status(&self, now: i64) -> &'static str {
        match (self.started_at, self.ended_at) {
            (Some(_), Some(ended)) if ended <= now => "ended",
            (Some(started), _) if started <= now => "started",
            _ => "pending",
        }
    }

    /// Totals per variation id.
    pub fn totals(&self) -> BTreeMap<String, IgDayStats> {
        let mut totals: BTreeMap<String, IgDayStats> = BTreeMap::new();
        for day in self.days.values() {
            for (variation, stats) in day {
                let total = totals.entry(variation.clone()).or_default();
                total.visitors += stats.visitors;
                total.orders += stats.orders;
                total.revenue_minor += stats.revenue_minor;
            }
        }
        totals
    }
}

/// Everything in the simulated account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntelligemsLedger {
    /// Activity exists in the whole hours before this.
    pub end: i64,
    pub currency: String,
    pub experiences: Vec<IgExperience>,
}

#[derive(Debug)]
pub(crate) struct IntelligemsGen {
    seed: u64,
    pub ledger: IntelligemsLedger,
    /// Whole hours up to here are generated.
    generated_to: i64,
    /// Live: activity after this is announced by webhook (`take_events`).
    announced_to: Option<i64>,
}

fn variation(id: &str, name: &str, control: bool, pct: u32, conversion: f64, aov: i64) -> IgVariation {
    IgVariation {
        id: id.into(),
        name: name.into(),
        is_control: control,
        percentage: pct,
        conversion,
        aov_cents: aov,
    }
}

/// `YYYY-MM-DD` of a unix time.
pub(crate) fn day_of(unix: i64) -> String {
    format_iso(unix)[..10].to_owned()
}

impl IntelligemsGen {
    /// The account as of `start`..`end` (the data clock's span).
    pub fn new(seed: u64, start: i64, end: i64) -> Self {
        let hour = |t: i64| t.div_euclid(HOUR) * HOUR;
        let at = |days_ago: i64| hour(end - days_ago * DAY).max(start);
        let experience = |id: &str, name: &str, kind: &str, created: i64, started: Option<i64>, ended: Option<i64>, variations| IgExperience {
            id: id.into(),
            name: name.into(),
            kind: kind.into(),
            created_at: created,
            started_at: started,
            ended_at: ended,
            variations,
            days: BTreeMap::new(),
        };
        let hero_start = at(45);
        let hero_end = at(25).max(hero_start + 3 * DAY);
        let experiences = vec![
            experience("3f1c0a2e-price-espresso", "Espresso blend price test", "price", at(22), Some(at(21)), None, vec![
                variation("v-price-18", "$18 (control)", true, 34, 0.040, 3600),
                variation("v-price-20", "$20", false, 33, 0.037, 3950),
                variation("v-price-22", "$22", false, 33, 0.031, 4300),
            ]),
            experience("8b27d4c1-ship-threshold", "Free shipping threshold", "shipping", at(15), Some(at(14)), None, vec![
                variation("v-ship-50", "Free over $50 (control)", true, 50, 0.035, 5200),
                variation("v-ship-40", "Free over $40", false, 50, 0.042, 4700),
            ]),
            experience("c9e5a7b3-hero-video", "Homepage hero video", "content", hero_start - DAY, Some(hero_start), Some(hero_end), vec![
                variation("v-hero-photo", "Photo hero (control)", true, 50, 0.030, 4000),
                variation("v-hero-video", "Video hero", false, 50, 0.033, 4050),
            ]),
            experience("e0d4f6a8-bundle-offer", "Bundle offer", "offer", at(2), None, None, vec![
                variation("v-bundle-none", "No bundle (control)", true, 50, 0.0, 0),
                variation("v-bundle-3", "3-bag bundle", false, 50, 0.0, 0),
            ]),
        ];
        Self {
            seed,
            ledger: IntelligemsLedger {
                end: start,
                currency: "USD".into(),
                experiences,
            },
            generated_to: hour(start),
            announced_to: None,
        }
    }

    /// Generates the whole hours before `t`.
    pub fn advance(&mut self, t: i64) {
        let until = t.div_euclid(HOUR) * HOUR;
        while self.generated_to < until {
            let h = self.generated_to;
            for experience in &mut self.ledger.experiences {
                let Some(started) = experience.started_at else {
                    continue;
                };
                if h < started || experience.ended_at.is_some_and(|ended| h >= ended) {
                    continue;
                }
                let day = day_of(h);
                for variation in &experience.variations {
                    let mut rng = Rng::new(mix(
                        self.seed ^ hash_str(&experience.id) ^ hash_str(&variation.id).rotate_left(17) ^ (h as u64).rotate_left(32),
                    ));
                    let visitors = u64::from(rng.poisson(36.0 * f64::from(variation.percentage) / 100.0));
                    let mut stats = IgDayStats { visitors, ..IgDayStats::default() };
                    for _ in 0..visitors {
                        if rng.chance(variation.conversion) {
                            stats.orders += 1;
                            stats.revenue_minor += (variation.aov_cents as f64 * rng.uniform(0.5, 1.5)).round() as i64;
                        }
                    }
                    let entry = experience
                        .days
                        .entry(day.clone())
                        .or_default()
                        .entry(variation.id.clone())
                        .or_default();
                    entry.visitors += stats.visitors;
                    entry.orders += stats.orders;
                    entry.revenue_minor += stats.revenue_minor;
                }
            }
            self.generated_to += HOUR;
        }
        self.ledger.end = self.ledger.end.max(t);
    }

    /// From now on, activity is announced by webhook.
    pub fn go_live(&mut self) {
        self.announced_to = Some(self.generated_to);
    }

    /// The experiences with activity since the last call, each with the days it
    /// touched; nothing before `go_live`.
    pub fn take_events(&mut self) -> Vec<(usize, BTreeSet<String>)> {
        let Some(from) = self.announced_to else {
            return vec![];
        };
        let to = self.generated_to;
        self.announced_to = Some(to);
        let mut out = vec![];
        for (index, experience) in self.ledger.experiences.iter().enumerate() {
            let Some(started) = experience.started_at else {
                continue;
            };
            let active_from = from.max(started);
            let active_to = experience.ended_at.map_or(to, |ended| ended.min(to));
            if active_from >= active_to {
                continue;
            }
            let mut days = BTreeSet::new();
            let mut h = active_from;
            while h < active_to {
                days.insert(day_of(h));
                h += HOUR;
            }
            out.push((index, days));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_in_steps_gives_the_same_numbers() {
        let end = 1_780_000_000;
        let mut once = IntelligemsGen::new(5, end - 60 * DAY, end);
        once.advance(end);
        let mut steps = IntelligemsGen::new(5, end - 60 * DAY, end);
        steps.advance(end - 10 * DAY + 1234);
        steps.advance(end);
        assert_eq!(once.ledger, steps.ledger);
        let price = &once.ledger.experiences[0];
        let totals = price.totals();
        assert!(totals["v-price-18"].visitors > 3000, "{totals:?}");
        assert!(totals["v-price-18"].orders > 50);
        assert!(once.ledger.experiences[3].days.is_empty(), "a draft has no traffic");
        assert_eq!(once.ledger.experiences[2].status(end), "ended");
    }

    #[test]
    fn only_live_activity_is_announced() {
        let end = 1_780_000_000;
        let mut gen = IntelligemsGen::new(5, end - 30 * DAY, end);
        gen.advance(end);
        assert!(gen.take_events().is_empty());
        gen.go_live();
        gen.advance(end + 3 * HOUR);
        let events = gen.take_events();
        assert_eq!(events.len(), 2, "the two running tests: {events:?}");
        assert!(gen.take_events().is_empty());
    }
}

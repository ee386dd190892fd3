//! Demand over time: slow growth, a weekly rhythm, a yearly one with a
//! November–December peak and a Black Friday–Cyber Monday spike, and a daily
//! curve; each provider's generator defines its business's [`Season`]. All in
//! UTC: the simulator does not localise seasonality to the account's or
//! shop's time zone.

use super::time::{black_friday, date, hour_of_day, is_weekend, DAY};

const YEAR: f64 = 365.25 * DAY as f64;

/// Relative activity per UTC hour (normalised to a mean of 1 in
/// [`Season::hourly_rate`]).
const DIURNAL: [f64; 24] = [
    0.55, 0.45, 0.35, 0.3, 0.3, 0.35, 0.5, 0.7, 0.9, 1.1, 1.25, 1.35, 1.4, 1.45, 1.5, 1.55, 1.55,
    1.5, 1.45, 1.4, 1.3, 1.15, 0.95, 0.75,
];

/// One business's demand shape.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Season {
    /// Factor on Saturdays and Sundays; weekdays get whatever keeps the weekly mean at 1.
    pub weekend: f64,
    /// Factor per month, January first.
    pub months: [f64; 12],
    /// Extra factor from Black Friday to Cyber Monday.
    pub bfcm: f64,
    /// Demand multiplies by this over a year.
    pub growth_per_year: f64,
}

impl Season {
    /// The day-level factor at `t` relative to the rate at `anchor` (growth is 1 there).
    pub fn factor(&self, t: i64, anchor: i64) -> f64 {
        let weekday = (7.0 - 2.0 * self.weekend) / 5.0;
        let week = if is_weekend(t) { self.weekend } else { weekday };
        let (year, month, _) = date(t);
        let day = t.div_euclid(DAY);
        let friday = black_friday(year);
        let bfcm = if (friday..=friday + 3).contains(&day) {
            self.bfcm
        } else {
            1.0
        };
        let growth = self.growth_per_year.powf((t - anchor) as f64 / YEAR);
        week * self.months[month as usize - 1] * bfcm * growth
    }

    /// Expected arrivals in the hour starting at `t`, for `daily` arrivals a day at `anchor`.
    pub fn hourly_rate(&self, daily: f64, t: i64, anchor: i64) -> f64 {
        let mean: f64 = DIURNAL.iter().sum::<f64>() / 24.0;
        daily / 24.0 * self.factor(t, anchor) * DIURNAL[hour_of_day(t) as usize] / mean
    }
}

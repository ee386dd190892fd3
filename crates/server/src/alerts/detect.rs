//! The detectors: pure functions from numbers to "fire or not". Everything that
//! reads the database or the clock is in [`super::evaluate`]; these are the rules
//! a user reads in the UI, so each one says its method in words.

use chrono::{Duration, NaiveDate};

/// The relative change from `previous` to `current`, in percent; `None` when there is
/// nothing to compare with (a zero baseline makes every change infinite).
pub fn pct_change(current: i64, previous: i64) -> Option<f64> {
    if previous == 0 {
        return None;
    }
    Some((current - previous) as f64 / previous.unsigned_abs() as f64 * 100.0)
}

/// The band a metric usually moves in, from robust statistics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub median: f64,
    pub low: f64,
    pub high: f64,
}

impl Band {
    pub fn contains(&self, value: f64) -> bool {
        value >= self.low && value <= self.high
    }
}

/// Fewer same-weekday values than this and the band says nothing yet.
pub const MIN_HISTORY: usize = 4;

/// How many weeks of the same weekday make the history.
pub const HISTORY_WEEKS: i64 = 8;

/// The usual band: median ± `k` × 1.4826 × MAD (the median absolute deviation,
/// scaled so that it estimates the standard deviation of normally distributed data
/// while one wild day cannot move it). A history that barely varies would give a
/// band of zero width, which fires on every cent; so the band is never narrower than
/// ±10 % of the median, nor than ±1.
pub const ANOMALY_METHOD: &str = "Usual range: the median of the same weekday over the last 8 weeks, \
     plus or minus k × 1.4826 × the median absolute deviation (k is the rule's sensitivity, 3 by default); \
     never narrower than ±10% of the median.";

pub fn usual_band(history: &[i64], k: f64) -> Option<Band> {
    if history.len() < MIN_HISTORY {
        return None;
    }
    let values: Vec<f64> = history.iter().map(|v| *v as f64).collect();
    let median = median(&values);
    let deviations: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
    let mad = median_of(deviations);
    let half_width = (k * 1.4826 * mad).max(median.abs() * 0.10).max(1.0);
    Some(Band {
        median,
        low: median - half_width,
        high: median + half_width,
    })
}

fn median(values: &[f64]) -> f64 {
    median_of(values.to_vec())
}

fn median_of(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The values of the same weekday as `day` in the `weeks` weeks before it, skipping
/// days without a value (before the source was connected).
pub fn same_weekday_history(
    series: &[(NaiveDate, Option<i64>)],
    day: NaiveDate,
    weeks: i64,
) -> Vec<i64> {
    (1..=weeks)
        .filter_map(|w| {
            let earlier = day - Duration::weeks(w);
            series
                .iter()
                .find(|(d, _)| *d == earlier)
                .and_then(|(_, v)| *v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pct_change_is_relative_to_the_size_of_the_baseline() {
        assert_eq!(pct_change(150, 100), Some(50.0));
        assert_eq!(pct_change(50, 100), Some(-50.0));
        // A negative baseline (net revenue after refunds) still reads the right way.
        assert_eq!(pct_change(-50, -100), Some(50.0));
        assert_eq!(pct_change(10, 0), None);
    }

    #[test]
    fn the_band_is_robust_to_one_wild_week() {
        // Seven ordinary Mondays around 1000 and one Black-Friday-like week.
        let history = [980, 1010, 1000, 990, 1020, 1005, 995, 9000];
        let band = usual_band(&history, 3.0).unwrap();
        // Worked out by hand: sorted 980 990 995 1000 1005 1010 1020 9000, median
        // (1000+1005)/2 = 1002.5; deviations 22.5 12.5 7.5 2.5 2.5 7.5 17.5 7997.5,
        // sorted 2.5 2.5 7.5 7.5 12.5 17.5 22.5 7997.5, MAD = (7.5+12.5)/2 = 10;
        // half width = max(3 × 1.4826 × 10, 100.25) = 100.25 (the 10 % floor).
        assert_eq!(band.median, 1002.5);
        assert!((band.high - 1102.75).abs() < 1e-9);
        assert!((band.low - 902.25).abs() < 1e-9);
        assert!(band.contains(1050.0));
        assert!(!band.contains(400.0));
    }

    #[test]
    fn a_noisy_history_widens_the_band_beyond_the_floor() {
        let history = [100, 300, 200, 400, 250, 150, 350, 200];
        let band = usual_band(&history, 2.0).unwrap();
        // sorted 100 150 200 200 250 300 350 400 → median 225; deviations
        // 125 75 25 25 25 75 125 175 → sorted 25 25 25 75 75 125 125 175, MAD 75;
        // half width 2 × 1.4826 × 75 = 222.39.
        assert_eq!(band.median, 225.0);
        assert!((band.high - (225.0 + 222.39)).abs() < 1e-6);
    }

    #[test]
    fn too_little_history_gives_no_band() {
        assert_eq!(usual_band(&[1, 2, 3], 3.0), None);
        assert!(usual_band(&[1, 2, 3, 4], 3.0).is_some());
    }

    #[test]
    fn same_weekday_history_walks_back_whole_weeks_across_month_ends() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(); // a Monday
        let series: Vec<(NaiveDate, Option<i64>)> = (0..70)
            .map(|n| {
                let d = day - Duration::days(n);
                (d, Some(n))
            })
            .collect();
        // n = days before `day`: 7, 14, …, 56.
        assert_eq!(
            same_weekday_history(&series, day, 8),
            vec![7, 14, 21, 28, 35, 42, 49, 56]
        );
    }
}

//! The engine's arithmetic, apart from its reads: days into buckets, values combined
//! by an aggregation, stock levels, ratios, groups, the change between periods, and
//! local times in a store's zone. Every function here depends on its arguments only.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use pulseboard_connectors::MetricKind;

use super::{
    query::{AggregationName, Granularity},
    result::{Group, Point},
    window::Window,
};

/// Day → group → (sum, count).
pub(super) type Daily = BTreeMap<NaiveDate, BTreeMap<String, (i64, i64)>>;
/// One group's (value, count) for each day of a window, in order.
pub(super) type Days = Vec<(NaiveDate, (i64, i64))>;
/// Group → its days.
pub(super) type GroupDays = BTreeMap<String, Days>;

/// The instant of a local time on `day` in `tz`.
pub(super) fn local_instant(tz: Tz, day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = day.and_time(time);
    // A time skipped by a DST jump is taken an hour later (02:30 on a spring-forward
    // night is 03:30, the same distance past the jump). A longer gap (Samoa skipped all
    // of 30 December 2011 crossing the date line) gives the first local time after it;
    // offsets change on quarter hours and no gap is over 48 hours.
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        })
        .or_else(|| {
            (1..=48 * 4).find_map(|quarter| {
                tz.from_local_datetime(&(local + Duration::minutes(15 * quarter)))
                    .earliest()
            })
        })
        .expect("a local time exists within 48 hours")
        .with_timezone(&Utc)
}

/// The bucket a day falls in.
pub(super) fn bucket_of(day: NaiveDate, granularity: Granularity, window: &Window) -> NaiveDate {
    let start = match granularity {
        Granularity::Week => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
        Granularity::Month => day.with_day(1).expect("first"),
        _ => day,
    };
    start.max(window.from)
}

/// Combines values of a bucket (or the whole window) by the aggregation.
pub(super) fn combine(
    aggregation: AggregationName,
    stock: bool,
    days: &[(i64, i64)],
) -> Option<i64> {
    if days.is_empty() {
        return if stock { None } else { Some(0) };
    }
    let values = days.iter().map(|(v, _)| *v);
    Some(match aggregation {
        AggregationName::Sum => values.sum(),
        AggregationName::Count => days.iter().map(|(_, c)| *c).sum(),
        AggregationName::Latest => days.last().expect("non-empty").0,
        AggregationName::Min => values.min().expect("non-empty"),
        AggregationName::Max => values.max().expect("non-empty"),
        AggregationName::Avg => {
            let n = days.len() as i64;
            let sum: i64 = values.sum();
            (2 * sum + n * sum.signum()) / (2 * n)
        }
    })
}

/// Every group's (value, count) for each day of the window: flows as the day's sums,
/// stocks as the level at the end of the day, starting from `opening` (the level
/// before the window; empty for flows). Without a group-by, a window without rows
/// still has its one unnamed group, of zeroes.
pub(super) fn levels(
    daily: &Daily,
    opening: &BTreeMap<String, i64>,
    kind: MetricKind,
    grouped: bool,
    window: &Window,
) -> GroupDays {
    let mut groups: Vec<String> = daily.values().flat_map(|g| g.keys().cloned()).collect();
    groups.extend(opening.keys().cloned());
    groups.sort();
    groups.dedup();
    if !grouped && groups.is_empty() {
        groups.push(String::new());
    }
    let mut out = BTreeMap::new();
    for group in groups {
        let mut level = opening.get(&group).copied().unwrap_or(0);
        let series = window
            .each_day()
            .map(|day| {
                let (sum, count) = daily
                    .get(&day)
                    .and_then(|g| g.get(&group))
                    .copied()
                    .unwrap_or((0, 0));
                match kind {
                    MetricKind::Flow => (day, (sum, count)),
                    MetricKind::Stock => {
                        level += sum;
                        (day, (level, count))
                    }
                }
            })
            .collect();
        out.insert(group, series);
    }
    out
}

/// A total with its series, before it becomes a result or one of its groups.
#[derive(Clone, Default)]
pub(super) struct Computed {
    pub(super) total: Option<i64>,
    pub(super) series: Vec<Point>,
}

pub(super) fn bucketize(
    days: &[(NaiveDate, (i64, i64))],
    aggregation: AggregationName,
    stock: bool,
    granularity: Granularity,
    window: &Window,
) -> Computed {
    let mut buckets: BTreeMap<NaiveDate, Vec<(i64, i64)>> = BTreeMap::new();
    for (day, value) in days {
        buckets
            .entry(bucket_of(*day, granularity, window))
            .or_default()
            .push(*value);
    }
    let all: Vec<(i64, i64)> = days.iter().map(|(_, v)| *v).collect();
    Computed {
        total: combine(aggregation, stock, &all),
        series: buckets
            .into_iter()
            .map(|(bucket, values)| Point {
                bucket: bucket.to_string(),
                value: combine(aggregation, stock, &values),
            })
            .collect(),
    }
}

/// The groups' days summed day by day.
pub(super) fn merged(groups: &GroupDays) -> Vec<(NaiveDate, (i64, i64))> {
    let mut merged: BTreeMap<NaiveDate, (i64, i64)> = BTreeMap::new();
    for days in groups.values() {
        for (day, (v, c)) in days {
            let slot = merged.entry(*day).or_default();
            slot.0 += v;
            slot.1 += c;
        }
    }
    merged.into_iter().collect()
}

/// Buckets the groups' days together (summed day by day) and each group alone.
pub(super) fn bucket_groups(
    groups: &GroupDays,
    aggregation: AggregationName,
    stock: bool,
    granularity: Granularity,
    window: &Window,
) -> (Computed, Vec<(String, Computed)>) {
    let overall = bucketize(&merged(groups), aggregation, stock, granularity, window);
    let each = groups
        .iter()
        .map(|(key, days)| {
            (
                key.clone(),
                bucketize(days, aggregation, stock, granularity, window),
            )
        })
        .collect();
    (overall, each)
}

/// Hourly buckets from `first` up to `last`: flows as each hour's sum, stocks as the
/// level at the end of each hour, starting from `opening`.
pub(super) fn hours(
    by_hour: &BTreeMap<NaiveDateTime, (i64, i64)>,
    first: NaiveDateTime,
    last: NaiveDateTime,
    aggregation: AggregationName,
    stock: bool,
    opening: i64,
) -> Computed {
    let mut level = opening;
    let mut hour = first;
    let mut values = Vec::new();
    let mut series = Vec::new();
    while hour < last {
        let (sum, count) = by_hour.get(&hour).copied().unwrap_or((0, 0));
        let value = if stock {
            level += sum;
            level
        } else {
            sum
        };
        values.push((value, count));
        series.push(Point {
            bucket: hour.format("%Y-%m-%dT%H:%M").to_string(),
            value: Some(value),
        });
        hour += Duration::hours(1);
    }
    Computed {
        total: combine(aggregation, stock, &values),
        series,
    }
}

/// `numerator / denominator` rounded half away from zero; `None` for a zero (or
/// missing) denominator.
pub(super) fn ratio(numerator: Option<i64>, denominator: Option<i64>) -> Option<i64> {
    match (numerator, denominator) {
        (Some(n), Some(d)) if d != 0 => {
            let (n, d) = (i128::from(n), i128::from(d));
            Some(((2 * n.abs() + d.abs()) / (2 * d.abs()) * (n.signum() * d.signum())) as i64)
        }
        _ => None,
    }
}

/// Applies `f` to the total and every point's value.
fn map_values(c: Computed, f: impl Fn(i64) -> i64) -> Computed {
    Computed {
        total: c.total.map(&f),
        series: c
            .series
            .into_iter()
            .map(|p| Point {
                bucket: p.bucket,
                value: p.value.map(&f),
            })
            .collect(),
    }
}

/// Multiplies totals and series by `scale` (a rate's numerator, before dividing), saturating.
pub(super) fn scaled(c: Computed, scale: i64) -> Computed {
    if scale == 1 {
        return c;
    }
    map_values(c, |v| v.saturating_mul(scale))
}

/// Multiplies each bucket's value by the number of the window's days in it, and the
/// total by the window's days (a flow made monthly: LTV's churn), saturating.
pub(super) fn times_days(c: Computed, granularity: Granularity, window: &Window) -> Computed {
    let mut days: BTreeMap<String, i64> = BTreeMap::new();
    for day in window.each_day() {
        *days
            .entry(bucket_of(day, granularity, window).to_string())
            .or_default() += 1;
    }
    let total_days: i64 = days.values().sum();
    Computed {
        total: c.total.map(|v| v.saturating_mul(total_days)),
        series: c
            .series
            .into_iter()
            .map(|p| Point {
                value: p
                    .value
                    .map(|v| v.saturating_mul(days.get(&p.bucket).copied().unwrap_or(0))),
                bucket: p.bucket,
            })
            .collect(),
    }
}

/// Divides totals and series bucket by bucket.
pub(super) fn divide(numerator: &Computed, denominator: &Computed) -> Computed {
    Computed {
        total: ratio(numerator.total, denominator.total),
        series: numerator
            .series
            .iter()
            .zip(&denominator.series)
            .map(|(a, b)| Point {
                bucket: a.bucket.clone(),
                value: ratio(a.value, b.value),
            })
            .collect(),
    }
}

/// A stock's level at the start of each bucket (the end of the day before its first
/// day in the window; `opening` for the window's first bucket), and at the start of
/// the window as the total: the denominator of a churn rate. `levels` are the
/// stock's levels at the end of each day of the window.
pub(super) fn opening_levels(
    levels: &[(NaiveDate, (i64, i64))],
    opening: i64,
    granularity: Granularity,
    window: &Window,
) -> Computed {
    let mut series: Vec<Point> = Vec::new();
    let mut before = opening;
    for (day, (level, _)) in levels {
        let bucket = bucket_of(*day, granularity, window).to_string();
        if series.last().is_none_or(|p| p.bucket != bucket) {
            series.push(Point {
                bucket,
                value: Some(before),
            });
        }
        before = *level;
    }
    Computed {
        total: Some(opening),
        series,
    }
}

/// Adds `offset` to every value (net revenue retention: 100 % plus the rate).
pub(super) fn offset(c: Computed, offset: i64) -> Computed {
    if offset == 0 {
        return c;
    }
    map_values(c, |v| v.saturating_add(offset))
}

/// Divides each numerator group by the denominator group of the same key; a group
/// without a denominator is left out.
pub(super) fn divide_groups(
    numerators: &[(String, Computed)],
    denominators: &[(String, Computed)],
) -> Vec<(String, Computed)> {
    let by_key: BTreeMap<&String, &Computed> = denominators.iter().map(|(k, c)| (k, c)).collect();
    numerators
        .iter()
        .filter_map(|(k, n)| by_key.get(k).map(|d| (k.clone(), divide(n, d))))
        .collect()
}

/// A result's groups, largest total first (none unless the query is grouped). Rows
/// without the dimension are the `(none)` group.
pub(super) fn to_groups(groups: Vec<(String, Computed)>, grouped: bool) -> Vec<Group> {
    if !grouped {
        return vec![];
    }
    let mut out: Vec<Group> = groups
        .into_iter()
        // Rows without the dimension that add up to nothing (a source that reports its
        // breakdowns beside its totals, GA4) are no group worth showing.
        .filter(|(key, c)| !(key.is_empty() && c.total.unwrap_or(0) == 0))
        .map(|(key, c)| Group {
            key: if key.is_empty() { "(none)".into() } else { key },
            label: None,
            total: c.total,
            series: c.series,
        })
        .collect();
    out.sort_by(|a, b| b.total.cmp(&a.total).then(a.key.cmp(&b.key)));
    out
}

/// The change from the previous total to the current one, and in percent with one
/// decimal (`None` when the previous total is zero).
pub(super) fn change(now: Option<i64>, before: Option<i64>) -> (Option<i64>, Option<f64>) {
    match (now, before) {
        (Some(now), Some(before)) => (
            Some(now - before),
            (before != 0)
                .then(|| ((now - before) as f64 / before.abs() as f64 * 1000.0).round() / 10.0),
        ),
        _ => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: &str) -> NaiveDate {
        d.parse().unwrap()
    }

    fn window(from: &str, to: &str) -> Window {
        Window {
            from: day(from),
            to: day(to),
            until: None,
        }
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first_but_never_before_the_window() {
        let w = window("2026-03-04", "2026-04-30");
        // 2026-03-12 is a Thursday; its Monday is the 9th.
        assert_eq!(
            bucket_of(day("2026-03-12"), Granularity::Week, &w),
            day("2026-03-09")
        );
        // The first week's Monday (the 2nd) is before the window: it starts on the 4th.
        assert_eq!(
            bucket_of(day("2026-03-05"), Granularity::Week, &w),
            day("2026-03-04")
        );
        assert_eq!(
            bucket_of(day("2026-04-17"), Granularity::Month, &w),
            day("2026-04-01")
        );
        assert_eq!(
            bucket_of(day("2026-03-20"), Granularity::Month, &w),
            day("2026-03-04")
        );
        assert_eq!(
            bucket_of(day("2026-03-20"), Granularity::Day, &w),
            day("2026-03-20")
        );
    }

    #[test]
    fn combining_by_each_aggregation() {
        let days = [(3, 1), (-1, 2), (5, 4)];
        let by = |a| combine(a, false, &days);
        assert_eq!(by(AggregationName::Sum), Some(7));
        assert_eq!(by(AggregationName::Count), Some(7));
        assert_eq!(by(AggregationName::Latest), Some(5));
        assert_eq!(by(AggregationName::Min), Some(-1));
        assert_eq!(by(AggregationName::Max), Some(5));
        // 7 / 3 = 2.33.
        assert_eq!(by(AggregationName::Avg), Some(2));
    }

    #[test]
    fn an_average_rounds_half_away_from_zero() {
        assert_eq!(
            combine(AggregationName::Avg, false, &[(1, 1), (2, 1)]),
            Some(2)
        );
        assert_eq!(
            combine(AggregationName::Avg, false, &[(-1, 1), (-2, 1)]),
            Some(-2)
        );
    }

    #[test]
    fn nothing_is_zero_for_a_flow_and_unknown_for_a_stock() {
        assert_eq!(combine(AggregationName::Sum, false, &[]), Some(0));
        assert_eq!(combine(AggregationName::Latest, true, &[]), None);
    }

    #[test]
    fn ratios_round_half_away_from_zero_and_have_no_value_over_zero() {
        assert_eq!(ratio(Some(1), Some(3)), Some(0));
        assert_eq!(ratio(Some(2), Some(3)), Some(1));
        assert_eq!(ratio(Some(5), Some(2)), Some(3));
        assert_eq!(ratio(Some(-5), Some(2)), Some(-3));
        assert_eq!(ratio(Some(5), Some(-2)), Some(-3));
        assert_eq!(ratio(Some(1), Some(0)), None);
        assert_eq!(ratio(None, Some(2)), None);
        assert_eq!(ratio(Some(i64::MAX), Some(1)), Some(i64::MAX));
    }

    #[test]
    fn a_stock_is_its_opening_level_plus_each_days_changes() {
        let w = window("2026-03-01", "2026-03-03");
        let mut daily = Daily::new();
        daily
            .entry(day("2026-03-02"))
            .or_default()
            .insert("pro".into(), (5, 2));
        let opening = BTreeMap::from([("pro".to_owned(), 10), ("basic".to_owned(), 4)]);
        let out = levels(&daily, &opening, MetricKind::Stock, true, &w);
        let values = |g: &str| out[g].iter().map(|(_, (v, _))| *v).collect::<Vec<_>>();
        assert_eq!(values("pro"), [10, 15, 15]);
        assert_eq!(values("basic"), [4, 4, 4]);
        assert_eq!(out["pro"][1], (day("2026-03-02"), (15, 2)));
    }

    #[test]
    fn an_ungrouped_flow_without_rows_is_one_group_of_zeroes() {
        let w = window("2026-03-01", "2026-03-02");
        let out = levels(&Daily::new(), &BTreeMap::new(), MetricKind::Flow, false, &w);
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[""],
            [(day("2026-03-01"), (0, 0)), (day("2026-03-02"), (0, 0))]
        );
        // Grouped, no rows means no groups.
        assert!(levels(&Daily::new(), &BTreeMap::new(), MetricKind::Flow, true, &w).is_empty());
    }

    #[test]
    fn weekly_buckets_sum_their_days_and_the_total_sums_all() {
        let w = window("2026-03-06", "2026-03-10");
        let days: Days = w.each_day().map(|d| (d, (1, 1))).collect();
        let c = bucketize(&days, AggregationName::Sum, false, Granularity::Week, &w);
        assert_eq!(c.total, Some(5));
        let series: Vec<(&str, Option<i64>)> = c
            .series
            .iter()
            .map(|p| (p.bucket.as_str(), p.value))
            .collect();
        // Friday the 6th to Sunday the 8th, then Monday the 9th and Tuesday the 10th.
        assert_eq!(series, [("2026-03-06", Some(3)), ("2026-03-09", Some(2))]);
    }

    #[test]
    fn groups_add_up_day_by_day_and_divide_by_key() {
        let w = window("2026-03-01", "2026-03-01");
        let d = day("2026-03-01");
        let num = GroupDays::from([
            ("a".into(), vec![(d, (3, 1))]),
            ("b".into(), vec![(d, (7, 1))]),
        ]);
        let den = GroupDays::from([("a".into(), vec![(d, (2, 1))])]);
        let (num_all, num_each) =
            bucket_groups(&num, AggregationName::Sum, false, Granularity::Day, &w);
        let (den_all, den_each) =
            bucket_groups(&den, AggregationName::Sum, false, Granularity::Day, &w);
        assert_eq!(num_all.total, Some(10));
        assert_eq!(divide(&num_all, &den_all).total, Some(5));
        let divided = divide_groups(&num_each, &den_each);
        assert_eq!(divided.len(), 1);
        assert_eq!((divided[0].0.as_str(), divided[0].1.total), ("a", Some(2)));
    }

    #[test]
    fn groups_sort_by_total_and_name_the_missing_value() {
        let c = |total| Computed {
            total: Some(total),
            series: vec![],
        };
        let groups = vec![
            ("b".into(), c(1)),
            (String::new(), c(5)),
            ("a".into(), c(1)),
        ];
        let keys: Vec<String> = to_groups(groups, true).into_iter().map(|g| g.key).collect();
        assert_eq!(keys, ["(none)", "a", "b"]);
        assert!(to_groups(vec![("a".into(), c(1))], false).is_empty());
    }

    #[test]
    fn hourly_stock_levels_carry_over_empty_hours() {
        let first = day("2026-03-01").and_time(NaiveTime::MIN);
        let by_hour = BTreeMap::from([(first + Duration::hours(1), (5, 1))]);
        let c = hours(
            &by_hour,
            first,
            first + Duration::hours(3),
            AggregationName::Latest,
            true,
            10,
        );
        let values: Vec<Option<i64>> = c.series.iter().map(|p| p.value).collect();
        assert_eq!(values, [Some(10), Some(15), Some(15)]);
        assert_eq!(c.total, Some(15));
        assert_eq!(c.series[1].bucket, "2026-03-01T01:00");
    }

    #[test]
    fn a_monthly_rate_multiplies_each_bucket_by_its_days_in_the_window() {
        // 20 February to 10 April: 9 days of February (2026 is no leap year), 31 of
        // March, 10 of April; 50 in all.
        let w = window("2026-02-20", "2026-04-10");
        let c = Computed {
            total: Some(3),
            series: ["2026-02-20", "2026-03-01", "2026-04-01"]
                .into_iter()
                .map(|b| Point {
                    bucket: b.into(),
                    value: Some(2),
                })
                .collect(),
        };
        let c = times_days(c, Granularity::Month, &w);
        let values: Vec<Option<i64>> = c.series.iter().map(|p| p.value).collect();
        assert_eq!(values, [Some(18), Some(62), Some(20)]);
        assert_eq!(c.total, Some(150));
    }

    #[test]
    fn the_change_in_percent_has_one_decimal_and_none_from_zero() {
        assert_eq!(change(Some(110), Some(100)), (Some(10), Some(10.0)));
        assert_eq!(change(Some(1), Some(3)), (Some(-2), Some(-66.7)));
        assert_eq!(change(Some(5), Some(-10)), (Some(15), Some(150.0)));
        assert_eq!(change(Some(5), Some(0)), (Some(5), None));
        assert_eq!(change(None, Some(1)), (None, None));
    }

    #[test]
    fn a_local_time_skipped_by_daylight_saving_moves_an_hour_later() {
        let tz: Tz = "America/New_York".parse().unwrap();
        // Clocks jump from 02:00 to 03:00 on 8 March 2026: 02:30 is 03:30 EDT.
        let at = local_instant(
            tz,
            day("2026-03-08"),
            NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
        );
        assert_eq!(at.to_rfc3339(), "2026-03-08T07:30:00+00:00");
        let midnight = local_instant(tz, day("2026-03-09"), NaiveTime::MIN);
        assert_eq!(midnight.to_rfc3339(), "2026-03-09T04:00:00+00:00");
    }
}

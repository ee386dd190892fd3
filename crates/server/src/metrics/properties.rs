//! Property tests of the window and day arithmetic: random dates (1971–2099), every
//! preset, both comparisons, and every IANA zone (the UI offers the browser's list,
//! which is the IANA database: chrono-tz's `TZ_VARIANTS` is the same database).

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::{Tz, TZ_VARIANTS};
use proptest::prelude::*;

use super::{
    buckets::local_instant,
    window::{comparison, resolve, CompareTo, Preset, Window},
};

const PRESETS: [Preset; 10] = [
    Preset::Last7Days,
    Preset::Last30Days,
    Preset::Last90Days,
    Preset::Last365Days,
    Preset::ThisMonth,
    Preset::LastMonth,
    Preset::MonthToDate,
    Preset::YearToDate,
    Preset::Today,
    Preset::Yesterday,
];

fn day() -> impl Strategy<Value = NaiveDate> {
    // 1971-01-01 ..= 2099-12-31, leap days and month ends included.
    (0i64..47_000).prop_map(|n| NaiveDate::from_ymd_opt(1971, 1, 1).unwrap() + Duration::days(n))
}

fn time() -> impl Strategy<Value = NaiveTime> {
    (0u32..86_400).prop_map(|s| NaiveTime::from_num_seconds_from_midnight_opt(s, 0).unwrap())
}

fn is_leap_day(d: NaiveDate) -> bool {
    d.month() == 2 && d.day() == 29
}

fn last_of_month(d: NaiveDate) -> NaiveDate {
    let next = if d.month() == 12 {
        NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
    };
    next.unwrap() - Duration::days(1)
}

/// The first instant (to the minute) whose local date in `tz` is `day` or later,
/// found by bisection on the zone's UTC → local conversion alone: the definition of
/// a local day's start, computed without `local_instant`.
fn independent_day_start(tz: Tz, day: NaiveDate) -> chrono::DateTime<Utc> {
    let naive = Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN));
    // Offsets are within ±15 hours; a skipped day (Samoa, 2011) pushes the start a day on.
    let base = naive - Duration::hours(16);
    let reached = |minutes: i64| {
        (base + Duration::minutes(minutes))
            .with_timezone(&tz)
            .date_naive()
            >= day
    };
    let (mut lo, mut hi) = (0i64, 56 * 60);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if reached(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    base + Duration::minutes(hi)
}

/// Seconds in a local day, from [`independent_day_start`].
fn independent_day_seconds(tz: Tz, day: NaiveDate) -> i64 {
    (independent_day_start(tz, day + Duration::days(1)) - independent_day_start(tz, day))
        .num_seconds()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_window_is_a_run_of_days_up_to_today(today in day(), now in time(), preset in 0..PRESETS.len()) {
        let preset = PRESETS[preset];
        let w = resolve(preset, today, now);
        prop_assert!(w.from <= w.to && w.to <= today);
        prop_assert_eq!(w.days() as usize, w.each_day().count());
        // Only windows that run up to now are partial, and they end today.
        prop_assert_eq!(w.until.is_some(), w.to == today);
        prop_assert_eq!(w.until.is_some(), matches!(preset,
            Preset::ThisMonth | Preset::MonthToDate | Preset::YearToDate | Preset::Today));
    }

    #[test]
    fn rolling_comparisons_are_the_same_length_just_before(today in day(), now in time(), preset in 0..PRESETS.len()) {
        let preset = PRESETS[preset];
        let w = resolve(preset, today, now);
        let p = comparison(Some(preset), &w, CompareTo::PreviousPeriod).unwrap();
        prop_assert_eq!(p.until, w.until, "the same cut-off time on the last day");
        match preset {
            Preset::ThisMonth | Preset::MonthToDate => {
                // The previous month from its 1st, the same days in (clamped at its end).
                let prev_last = w.from - Duration::days(1);
                prop_assert_eq!(p.from, prev_last.with_day(1).unwrap());
                prop_assert_eq!(p.to, prev_last.with_day(w.to.day().min(prev_last.day())).unwrap());
                prop_assert!(p.days() <= w.days());
            }
            Preset::LastMonth => {
                // The whole month before, contiguous.
                prop_assert_eq!(p.to + Duration::days(1), w.from);
                prop_assert_eq!(p.from.day(), 1);
                prop_assert_eq!(p.to, last_of_month(p.from));
            }
            Preset::YearToDate => {
                // Last year from January 1st to the same date (a leap day moves the
                // count by one at most).
                prop_assert_eq!(p.from, NaiveDate::from_ymd_opt(w.from.year() - 1, 1, 1).unwrap());
                prop_assert_eq!((p.to.month(), p.to.day()), if is_leap_day(w.to) { (2, 28) } else { (w.to.month(), w.to.day()) });
                prop_assert!(p.days().abs_diff(w.days()) <= 1);
            }
            _ => {
                prop_assert_eq!(p.days(), w.days());
                prop_assert_eq!(p.to + Duration::days(1), w.from, "contiguous");
            }
        }
    }

    #[test]
    fn previous_year_is_the_same_dates_a_year_earlier(from in day(), len in 0i64..400, now in time()) {
        let w = Window { from, to: from + Duration::days(len), until: Some(now) };
        let p = comparison(None, &w, CompareTo::PreviousYear).unwrap();
        let year_before = |d: NaiveDate| {
            NaiveDate::from_ymd_opt(d.year() - 1, d.month(), d.day())
                .unwrap_or_else(|| NaiveDate::from_ymd_opt(d.year() - 1, 2, 28).unwrap())
        };
        prop_assert_eq!((p.from, p.to, p.until), (year_before(w.from), year_before(w.to), w.until));
        if !is_leap_day(w.from) && !is_leap_day(w.to) {
            // Equal length unless a February 29th is inside one of the two.
            let leap_inside = |a: NaiveDate, b: NaiveDate| a.iter_days().take_while(|d| *d <= b).any(is_leap_day);
            if !leap_inside(w.from, w.to) && !leap_inside(p.from, p.to) {
                prop_assert_eq!(p.days(), w.days());
            }
        }
    }

    #[test]
    fn local_days_last_as_long_as_the_zone_says(zone in 0..TZ_VARIANTS.len(), day in day()) {
        let tz = TZ_VARIANTS[zone];
        let start = local_instant(tz, day, NaiveTime::MIN);
        let end = local_instant(tz, day + Duration::days(1), NaiveTime::MIN);
        prop_assert!(start <= end, "{} {}: days follow each other", tz, day);
        let seconds = (end - start).num_seconds();
        // 24 hours but for a change of offset: a DST day is 23 or 25 hours (Lord Howe's
        // half-hour shifts 23.5 or 24.5), a zone changing sides of the date line more.
        prop_assert_eq!(seconds, independent_day_seconds(tz, day), "{} {}", tz, day);
    }
}

/// Every zone, every day of a leap year and the next: windows built from local days
/// are contiguous (each day starts where the previous ended), never panic, and a day
/// is 23 or 25 hours only on a change of offset.
#[test]
fn every_zone_has_contiguous_days_through_both_dst_changes() {
    let first = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    for tz in TZ_VARIANTS {
        let mut start = local_instant(tz, first, NaiveTime::MIN);
        let mut seen = std::collections::BTreeSet::new();
        for n in 0..731 {
            let day = first + Duration::days(n);
            let end = local_instant(tz, day + Duration::days(1), NaiveTime::MIN);
            let seconds = (end - start).num_seconds();
            assert!(seconds > 0, "{tz} {day}");
            assert_eq!(start, independent_day_start(tz, day), "{tz} {day} starts");
            assert_eq!(seconds, independent_day_seconds(tz, day), "{tz} {day}");
            seen.insert(seconds);
            start = end;
        }
        assert!(
            seen.len() <= 3 || tz.name().starts_with("Antarctica"),
            "{tz}: {seen:?}"
        );
    }
    let hours = |tz: &str, day: &str| {
        let tz: Tz = tz.parse().unwrap();
        let day: NaiveDate = day.parse().unwrap();
        let a = local_instant(tz, day, NaiveTime::MIN);
        let b = local_instant(tz, day + Duration::days(1), NaiveTime::MIN);
        (b - a).num_minutes() as f64 / 60.0
    };
    assert_eq!(hours("America/New_York", "2024-03-10"), 23.0);
    assert_eq!(hours("America/New_York", "2024-11-03"), 25.0);
    assert_eq!(hours("Europe/Paris", "2024-03-31"), 23.0);
    assert_eq!(hours("Europe/Paris", "2024-10-27"), 25.0);
    assert_eq!(hours("Australia/Sydney", "2024-04-07"), 25.0);
    assert_eq!(hours("Australia/Sydney", "2024-10-06"), 23.0);
    assert_eq!(hours("Australia/Lord_Howe", "2024-04-07"), 24.5);
    assert_eq!(hours("Australia/Lord_Howe", "2024-10-06"), 23.5);
    // Samoa skipped 30 December 2011 when it moved across the date line: that day
    // has no hours, and asking for it does not panic.
    assert_eq!(hours("Pacific/Apia", "2011-12-29"), 24.0);
    assert_eq!(hours("Pacific/Apia", "2011-12-30"), 0.0);
    assert_eq!(hours("Pacific/Apia", "2011-12-31"), 24.0);
}

//! Time ranges in the store's time zone, and the like-for-like periods they are
//! compared with.
//!
//! A window is a run of store-local days; its last day may be partial (`until`, the
//! time of day reached so far), for ranges that run up to now. The comparison window
//! has the same length and, when the current one is partial, the same cut-off time
//! on its last day: "this month until the 14th at 14:00" compares with "last month
//! until the 14th at 14:00", never with all of last month.

use chrono::{Datelike, Days, Months, NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The time ranges a query may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// The last N complete days (yesterday and before).
    #[serde(rename = "last_7_days")]
    Last7Days,
    #[serde(rename = "last_30_days")]
    Last30Days,
    #[serde(rename = "last_90_days")]
    Last90Days,
    #[serde(rename = "last_365_days")]
    Last365Days,
    /// This calendar month so far (same as `month_to_date`).
    ThisMonth,
    /// The previous complete calendar month.
    LastMonth,
    MonthToDate,
    YearToDate,
    /// Today so far.
    Today,
    /// The last complete day.
    Yesterday,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Window {
    pub from: NaiveDate,
    /// Inclusive last day.
    pub to: NaiveDate,
    /// When the last day is partial: the local time of day it runs until.
    #[schema(value_type = Option<String>)]
    pub until: Option<NaiveTime>,
}

impl Window {
    pub fn days(&self) -> u64 {
        (self.to - self.from).num_days() as u64 + 1
    }

    fn full(from: NaiveDate, to: NaiveDate) -> Self {
        Self {
            from,
            to,
            until: None,
        }
    }

    /// Every day of the window, in order.
    pub fn each_day(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.from.iter_days().take_while(move |d| *d <= self.to)
    }
}

fn minus_days(day: NaiveDate, n: u64) -> NaiveDate {
    day.checked_sub_days(Days::new(n)).expect("dates in range")
}

fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).expect("the first exists")
}

/// The same calendar position `months` earlier, clamped to the month's length (the
/// 31st of March → the 28th or 29th of February).
fn months_back(day: NaiveDate, months: u32) -> NaiveDate {
    day.checked_sub_months(Months::new(months))
        .expect("dates in range")
}

/// The current window of a preset, `today` and `now_time` being store-local.
pub fn resolve(preset: Preset, today: NaiveDate, now_time: NaiveTime) -> Window {
    let complete_days = |n: u64| Window::full(minus_days(today, n), minus_days(today, 1));
    match preset {
        Preset::Last7Days => complete_days(7),
        Preset::Last30Days => complete_days(30),
        Preset::Last90Days => complete_days(90),
        Preset::Last365Days => complete_days(365),
        Preset::ThisMonth | Preset::MonthToDate => Window {
            from: first_of_month(today),
            to: today,
            until: Some(now_time),
        },
        Preset::LastMonth => {
            let first = first_of_month(months_back(today, 1));
            Window::full(first, minus_days(first_of_month(today), 1))
        }
        Preset::YearToDate => Window {
            from: today.with_ordinal(1).expect("January 1st"),
            to: today,
            until: Some(now_time),
        },
        Preset::Today => Window {
            from: today,
            to: today,
            until: Some(now_time),
        },
        Preset::Yesterday => complete_days(1),
    }
}

/// The same window `days` earlier, with the same cut-off time on its last day
/// ("today until 14:00" a week ago is that day until 14:00).
pub fn days_before(window: &Window, days: u64) -> Window {
    Window {
        from: minus_days(window.from, days),
        to: minus_days(window.to, days),
        until: window.until,
    }
}

/// What a window is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CompareTo {
    PreviousPeriod,
    PreviousYear,
    None,
}

/// The like-for-like comparison window, or `None`.
pub fn comparison(preset: Option<Preset>, current: &Window, compare: CompareTo) -> Option<Window> {
    match compare {
        CompareTo::None => None,
        CompareTo::PreviousYear => Some(Window {
            from: months_back(current.from, 12),
            to: months_back(current.to, 12),
            until: current.until,
        }),
        CompareTo::PreviousPeriod => Some(match preset {
            // Calendar periods compare with the previous calendar period, same days in.
            Some(Preset::ThisMonth | Preset::MonthToDate) => Window {
                from: first_of_month(months_back(current.from, 1)),
                to: months_back(current.to, 1),
                until: current.until,
            },
            Some(Preset::LastMonth) => {
                let from = months_back(current.from, 1);
                Window::full(from, minus_days(current.from, 1))
            }
            Some(Preset::YearToDate) => Window {
                from: months_back(current.from, 12),
                to: months_back(current.to, 12),
                until: current.until,
            },
            // Rolling periods: the same number of days just before.
            _ => {
                let length = current.days();
                Window {
                    from: minus_days(current.from, length),
                    to: minus_days(current.to, length),
                    until: current.until,
                }
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    fn t(s: &str) -> NaiveTime {
        s.parse().unwrap()
    }

    #[test]
    fn rolling_ranges_are_complete_days_compared_with_the_days_before() {
        let w = resolve(Preset::Last7Days, d("2026-11-22"), t("14:00:00"));
        assert_eq!(
            (w.from, w.to, w.until),
            (d("2026-11-15"), d("2026-11-21"), None)
        );
        let p = comparison(Some(Preset::Last7Days), &w, CompareTo::PreviousPeriod).unwrap();
        assert_eq!((p.from, p.to), (d("2026-11-08"), d("2026-11-14")));
        let y = comparison(Some(Preset::Last7Days), &w, CompareTo::PreviousYear).unwrap();
        assert_eq!((y.from, y.to), (d("2025-11-15"), d("2025-11-21")));
    }

    #[test]
    fn month_to_date_compares_with_the_same_days_and_hours_of_last_month() {
        let w = resolve(Preset::MonthToDate, d("2026-03-31"), t("14:00:00"));
        assert_eq!(
            (w.from, w.to, w.until),
            (d("2026-03-01"), d("2026-03-31"), Some(t("14:00:00")))
        );
        let p = comparison(Some(Preset::MonthToDate), &w, CompareTo::PreviousPeriod).unwrap();
        // February has no 31st: the comparison ends on its last day, at the same hour.
        assert_eq!(
            (p.from, p.to, p.until),
            (d("2026-02-01"), d("2026-02-28"), Some(t("14:00:00")))
        );
    }

    #[test]
    fn last_month_compares_with_the_month_before() {
        let w = resolve(Preset::LastMonth, d("2026-03-15"), t("09:00:00"));
        assert_eq!((w.from, w.to), (d("2026-02-01"), d("2026-02-28")));
        let p = comparison(Some(Preset::LastMonth), &w, CompareTo::PreviousPeriod).unwrap();
        assert_eq!(
            (p.from, p.to, p.until),
            (d("2026-01-01"), d("2026-01-31"), None)
        );
    }

    #[test]
    fn year_to_date_and_today_are_partial() {
        let w = resolve(Preset::YearToDate, d("2026-11-22"), t("08:30:00"));
        assert_eq!((w.from, w.until), (d("2026-01-01"), Some(t("08:30:00"))));
        let p = comparison(Some(Preset::YearToDate), &w, CompareTo::PreviousPeriod).unwrap();
        assert_eq!((p.from, p.to), (d("2025-01-01"), d("2025-11-22")));
        let today = resolve(Preset::Today, d("2026-11-22"), t("14:00:00"));
        let yesterday = comparison(Some(Preset::Today), &today, CompareTo::PreviousPeriod).unwrap();
        assert_eq!(
            (yesterday.from, yesterday.until),
            (d("2026-11-21"), Some(t("14:00:00")))
        );
    }
}

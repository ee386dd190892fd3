//! GA4 report rows → metric events, one row at a time.
//!
//! Each raw record is one row of one report (see `sync.rs`): the day's totals, or one
//! value of one breakdown (a device, a channel, a country, a landing page) on one day.
//!
//! **Days.** GA4's `date` is a day of the property's time zone. Its events are placed at
//! noon of that day in the property's time zone (`time_zone` in the record, from the
//! report's metadata), so they fall on that day in a store that uses the property's
//! time zone, and still do in a store up to 12 hours away from it. An unknown zone
//! falls back to noon UTC. Today's rows pulled before noon are placed at the time of
//! the sync instead (the record's `at`), so that "today" on a dashboard, which ends
//! now, shows them; the next sync moves them with the rows it replaces.
//!
//! **Totals and breakdowns.** A totals row gives each metric as GA4 counts it for the
//! day. A breakdown row gives the metric with its dimension (`device = mobile`) and,
//! beside it, the same value negated without the dimension. The metrics engine adds up
//! every event of a metric, so:
//! - with no breakdown, each breakdown row nets to zero and the day's total is GA4's
//!   own total (users included, which do not add up across devices);
//! - grouped by one dimension, its values are exactly GA4's breakdown, and the other
//!   rows fall in the `(none)` group, which holds the day's total minus the parts:
//!   zero for the metrics that add up, the overlap for users;
//! - filtered on one value (`device = mobile`), only that breakdown's events count.
//!
//! Two dimensions at once (mobile users by channel) are not available: GA4 reports
//! each breakdown separately.
//!
//! **Money.** `purchaseRevenue` is a decimal string in the property's currency, which
//! may carry binary floating-point noise (`"45.989999999999995"`); it is converted
//! exactly to the currency's minor units, rounded half away from zero.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use super::Ga4Provider;
use crate::sync::{Derivation, Derive, DimensionLabel, MetricEvent, RawRecord};

/// The record type of a report row.
pub(crate) const ROW_TYPE: &str = "report_row";

/// GA4's metric names and Pulseboard's, in the order they are requested.
pub(crate) const METRICS: [(&str, &str); 10] = [
    ("sessions", "sessions"),
    ("totalUsers", "users"),
    ("newUsers", "new_users"),
    ("screenPageViews", "page_views"),
    ("engagedSessions", "engaged_sessions"),
    ("keyEvents", "key_events"),
    ("addToCarts", "add_to_carts"),
    ("checkouts", "checkouts"),
    ("ecommercePurchases", "purchases"),
    ("purchaseRevenue", "purchase_revenue"),
];

const REVENUE: &str = "purchaseRevenue";

impl Derive for Ga4Provider {
    fn derivation(&self) -> Derivation {
        Derivation { events, labels }
    }
}

fn str_of<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object.get(key).and_then(Value::as_str)
}

/// The dimension names Pulseboard uses; anything else in a record is ignored.
fn dimension_name(name: &str) -> Option<&'static str> {
    ["device", "channel", "country", "landing_page"]
        .into_iter()
        .find(|d| *d == name)
}

pub(crate) fn events(record: &RawRecord) -> Vec<MetricEvent> {
    if record.object_type != ROW_TYPE {
        return vec![];
    }
    let o = &record.payload;
    let Some(day) = str_of(o, "date").and_then(parse_date) else {
        return vec![];
    };
    // The instant the sync chose (see `sync.rs`), else noon of the day.
    let at = str_of(o, "at")
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| noon_of(day, str_of(o, "time_zone")));
    let currency = str_of(o, "currency").map(str::to_uppercase);
    // A breakdown row: its dimension and value; a totals row has neither.
    let breakdown = match (
        str_of(o, "dimension").and_then(dimension_name),
        str_of(o, "value"),
    ) {
        (Some(dimension), Some(value)) if !value.is_empty() => Some((dimension, value)),
        _ => None,
    };
    let Some(metrics) = o.get("metrics") else {
        return vec![];
    };
    let mut derived = Vec::new();
    for (ga_name, metric) in METRICS {
        let Some(text) = metrics.get(ga_name).and_then(Value::as_str) else {
            continue;
        };
        let value = if ga_name == REVENUE {
            let Some(currency) = currency.as_deref() else {
                continue;
            };
            match minor_units(text, currency) {
                Some(value) => value,
                None => {
                    tracing::warn!(metric, "a GA4 revenue value that is not a number is left out");
                    continue;
                }
            }
        } else {
            match count(text) {
                Some(value) => value,
                None => {
                    tracing::warn!(metric, "a GA4 count that is not a whole number is left out");
                    continue;
                }
            }
        };
        if value == 0 {
            continue;
        }
        let money = (ga_name == REVENUE).then(|| currency.clone()).flatten();
        match breakdown {
            None => derived.push(MetricEvent::new(metric, value, at).with("currency", money)),
            Some((dimension, dim_value)) => {
                derived.push(
                    MetricEvent::new(metric, value, at)
                        .with(dimension, Some(dim_value))
                        .with("currency", money.clone()),
                );
                derived.push(MetricEvent::new(metric, -value, at).with("currency", money));
            }
        }
    }
    derived
}

/// Country names: the `country` dimension is the ISO code (GA4's `countryId`); its
/// label is GA4's `country`.
pub(crate) fn labels(record: &RawRecord) -> Vec<DimensionLabel> {
    let o = &record.payload;
    if record.object_type != ROW_TYPE || str_of(o, "dimension") != Some("country") {
        return vec![];
    }
    DimensionLabel::of("country", str_of(o, "value"), str_of(o, "label"))
        .into_iter()
        .collect()
}

/// GA4's `date` dimension (`20240501`).
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y%m%d").ok()
}

/// Noon of `day` in the zone named `zone` (noon UTC when the zone is unknown).
pub(crate) fn noon_of(day: NaiveDate, zone: Option<&str>) -> DateTime<Utc> {
    let noon = day.and_hms_opt(12, 0, 0).expect("noon exists");
    zone.and_then(|z| z.parse::<Tz>().ok())
        .and_then(|tz| tz.from_local_datetime(&noon).earliest())
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&noon))
}

/// A count as GA4 writes it (`"12"`); whole-valued decimals (`"12.0"`) are accepted.
fn count(text: &str) -> Option<i64> {
    minor_units(text, "XXX-counts")
}

/// ISO 4217 decimals of a currency: 0 for zero-decimal currencies, 3 for the dinar
/// family, 4 for the accounting units, else 2. (`XXX-counts` is this module's name for
/// a plain count.)
pub(crate) fn currency_exponent(currency: &str) -> u32 {
    match currency.to_ascii_uppercase().as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" | "XXX-COUNTS" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// A decimal string in major units (`"12.34"`, `"45.989999999999995"`, `"1.5E7"`,
/// `"-3"`) as minor units of `currency`, exactly: the digits are shifted, never put
/// through a float, and rounded half away from zero to the currency's decimals.
/// `None` for anything else, or an amount that does not fit an `i64`.
pub(crate) fn minor_units(text: &str, currency: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return None;
    }
    // value = all_digits × 10^(exponent − fraction.len()); we want value × 10^decimals.
    let all: String = format!("{whole}{fraction}");
    let all = all.trim_start_matches('0');
    let shift = exponent - fraction.len() as i32 + currency_exponent(currency) as i32;
    if all.is_empty() {
        return Some(0);
    }
    let magnitude: i128 = if shift >= 0 {
        if all.len() as i32 + shift > 30 {
            return None;
        }
        let mut value: i128 = all.parse().ok()?;
        for _ in 0..shift {
            value = value.checked_mul(10)?;
        }
        value
    } else {
        let cut = (-shift) as usize;
        if cut > all.len() {
            // Less than a tenth of the smallest unit: rounds to zero.
            return Some(0);
        }
        let (kept, dropped) = all.split_at(all.len() - cut);
        if kept.len() > 30 {
            return None;
        }
        let kept: i128 = if kept.is_empty() { 0 } else { kept.parse().ok()? };
        let round_up = dropped.as_bytes().first().is_some_and(|b| *b >= b'5');
        kept + i128::from(round_up)
    };
    let signed = if negative { -magnitude } else { magnitude };
    i64::try_from(signed).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn row(payload: Value) -> RawRecord {
        RawRecord {
            object_type: ROW_TYPE.into(),
            external_id: "x".into(),
            updated_at: None,
            payload,
        }
    }

    fn sum(events: &[MetricEvent], metric: &str, with: Option<(&str, &str)>) -> i64 {
        events
            .iter()
            .filter(|e| e.metric == metric)
            .filter(|e| match with {
                Some((d, v)) => e.dimensions.get(d).map(String::as_str) == Some(v),
                None => true,
            })
            .map(|e| e.value)
            .sum()
    }

    #[test]
    fn revenue_strings_become_exact_minor_units() {
        assert_eq!(minor_units("12.34", "USD"), Some(1234));
        assert_eq!(minor_units("12.3", "USD"), Some(1230));
        assert_eq!(minor_units("12", "USD"), Some(1200));
        assert_eq!(minor_units("45.989999999999995", "USD"), Some(4599));
        assert_eq!(minor_units("0.004999", "USD"), Some(0));
        assert_eq!(minor_units("0.005", "USD"), Some(1));
        assert_eq!(minor_units("-0.005", "USD"), Some(-1));
        assert_eq!(minor_units("0.0049", "USD"), Some(0));
        assert_eq!(minor_units("1.5E7", "USD"), Some(1_500_000_000));
        assert_eq!(minor_units("1.2345678E4", "USD"), Some(1_234_568));
        assert_eq!(minor_units("1500.0", "JPY"), Some(1500));
        assert_eq!(minor_units("1499.5", "JPY"), Some(1500));
        assert_eq!(minor_units("1.2345", "KWD"), Some(1235));
        assert_eq!(minor_units("0", "USD"), Some(0));
        assert_eq!(minor_units(".5", "USD"), Some(50));
        for bad in ["", "abc", "1,5", "1.2.3", "--1", "1e", "NaN", "1e99"] {
            assert_eq!(minor_units(bad, "USD"), None, "{bad}");
        }
        assert_eq!(count("12"), Some(12));
        assert_eq!(count("12.0"), Some(12));
    }

    #[test]
    fn events_land_at_noon_of_the_propertys_day() {
        let day = NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
        let auckland = noon_of(day, Some("Pacific/Auckland"));
        assert_eq!(auckland.to_rfc3339(), "2024-05-01T00:00:00+00:00");
        let kiritimati = noon_of(day, Some("Pacific/Kiritimati"));
        assert_eq!(kiritimati.to_rfc3339(), "2024-04-30T22:00:00+00:00");
        let tz: Tz = "Pacific/Kiritimati".parse().unwrap();
        assert_eq!(kiritimati.with_timezone(&tz).date_naive(), day);
        assert_eq!(
            noon_of(day, Some("Mars/Olympus")).to_rfc3339(),
            "2024-05-01T12:00:00+00:00"
        );
    }

    #[test]
    fn breakdown_rows_net_to_zero_without_their_dimension() {
        let metrics = json!({ "sessions": "10", "totalUsers": "8", "purchaseRevenue": "19.99", "checkouts": "0" });
        let totals = events(&row(json!({
            "report": "totals", "date": "20240501", "currency": "usd", "time_zone": "UTC", "metrics": metrics
        })));
        assert_eq!(sum(&totals, "sessions", None), 10);
        assert_eq!(sum(&totals, "purchase_revenue", Some(("currency", "USD"))), 1999);
        assert!(totals.iter().all(|e| e.metric != "checkouts"), "zeros are left out");
        let device = events(&row(json!({
            "report": "device", "date": "20240501", "dimension": "device", "value": "mobile",
            "currency": "USD", "time_zone": "UTC", "metrics": metrics
        })));
        assert_eq!(sum(&device, "sessions", None), 0);
        assert_eq!(sum(&device, "sessions", Some(("device", "mobile"))), 10);
        assert_eq!(sum(&device, "purchase_revenue", Some(("currency", "USD"))), 0);
        assert!(device
            .iter()
            .filter(|e| e.metric == "purchase_revenue")
            .all(|e| e.dimensions.get("currency").map(String::as_str) == Some("USD")));
        let at = device[0].at;
        assert_eq!(at.to_rfc3339(), "2024-05-01T12:00:00+00:00");
        assert!(events(&row(json!({ "date": "2024-05-01", "metrics": metrics }))).is_empty());
    }

    #[test]
    fn countries_are_named() {
        let record = row(json!({
            "report": "country", "date": "20240501", "dimension": "country", "value": "NZ",
            "label": "New Zealand", "metrics": {}
        }));
        assert_eq!(
            labels(&record),
            vec![DimensionLabel {
                dimension: "country",
                value: "NZ".into(),
                label: "New Zealand".into()
            }]
        );
    }
}

//! Clarity exports → metric events.
//!
//! One raw record is one export call as Clarity answered it (`object_type`
//! `clarity_export`, id `{fetch day}/{breakdown}`, the response kept whole in the
//! payload), so the stored records replay exactly what Clarity said.
//!
//! **Which day a number belongs to.** Clarity answers for the 24 hours before the
//! call (`numOfDays=1`) and says nothing finer. Pulseboard fetches once a day and
//! reports the window on the UTC day *before* the fetch day ("fetch day" is the UTC
//! date of Clarity's own `Date` header, else of our clock), at 12:00 UTC of that
//! day, which is the same date in every zone from UTC−12 to UTC+11. A sync early in
//! the UTC day reports (almost) exactly that day; a later one shifts the window by
//! its hour. Fetching again on the same day replaces the record of that day, so a
//! day is never counted twice; a day whose sync did not run stays empty (Clarity
//! cannot be asked again later).
//!
//! **What each row gives.** Rows of every metric group with the same dimension
//! values belong together: `Traffic.totalSessionCount` is `sessions`;
//! `EngagementTime.activeTime` and `ScrollDepth.averageScrollDepth` are averages
//! per session, kept as average × sessions (`engagement_seconds`,
//! `scroll_depth_total`) so that the catalog's ratios weight them by sessions; the
//! frustration groups' `subTotal` is the number of dead clicks, rage clicks, quick
//! backs and excessive scrolls. Page URLs lose their query and fragment (ad click
//! ids, tracking parameters), which folds their variants into one page.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde_json::Value;

use super::ClarityProvider;
use crate::sync::{Derivation, Derive, DimensionLabel, MetricEvent, RawRecord};

/// The `object_type` of a stored export.
pub(crate) const EXPORT_OBJECT: &str = "clarity_export";

/// A breakdown Pulseboard asks for: its Clarity dimensions and how they are named here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Breakdown {
    pub name: &'static str,
    /// `(Clarity's dimension, Pulseboard's dimension)`.
    pub dimensions: &'static [(&'static str, &'static str)],
    /// Prefix of the metric ids it feeds (`""` or `"page_"`).
    prefix: &'static str,
}

/// Device × browser × country: the site-wide metrics.
pub(crate) const SITE: Breakdown = Breakdown {
    name: "site",
    dimensions: &[
        ("Device", "device"),
        ("Browser", "browser"),
        ("Country/Region", "country"),
    ],
    prefix: "",
};

/// URL: the page metrics.
pub(crate) const PAGES: Breakdown = Breakdown {
    name: "pages",
    dimensions: &[("URL", "page")],
    prefix: "page_",
};

pub(crate) const BREAKDOWNS: [Breakdown; 2] = [SITE, PAGES];

/// The day an export fetched on `fetched_at` is reported on, and the instant its
/// events carry.
pub fn reported_day(fetched_at: DateTime<Utc>) -> (NaiveDate, DateTime<Utc>) {
    let day = fetched_at.date_naive() - Duration::days(1);
    let noon = day
        .and_time(NaiveTime::from_hms_opt(12, 0, 0).expect("noon"))
        .and_utc();
    (day, noon)
}

/// A number Clarity sends as a string (`"239"`) or a JSON number (`15.48`).
fn number(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

/// Letters and digits only, lower case: `Dead Click Count` and `DeadClickCount`
/// (Clarity's documentation and its responses spell group names differently).
fn squash(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The value of a Clarity dimension in a row: the key is the dimension's name as
/// requested (`Device`, `Country/Region`, `URL`), spelled loosely.
fn dimension_value(row: &Value, dimension: &str) -> Option<String> {
    let object = row.as_object()?;
    let wanted = squash(dimension);
    let alias = match wanted.as_str() {
        "countryregion" => Some("country"),
        _ => None,
    };
    let value = object
        .get(dimension)
        .or_else(|| {
            object
                .iter()
                .find(|(k, _)| {
                    let k = squash(k);
                    k == wanted || Some(k.as_str()) == alias
                })
                .map(|(_, v)| v)
        })?
        .as_str()?
        .trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// A page URL without its query and fragment.
pub fn page_of(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    url[..end].to_owned()
}

/// What one dimension combination adds up to over the rows of a response.
#[derive(Debug, Default, Clone, PartialEq)]
struct Totals {
    sessions: f64,
    engagement_seconds: f64,
    scroll_depth_total: f64,
    dead_clicks: f64,
    rage_clicks: f64,
    quickbacks: f64,
    excessive_scrolling: f64,
}

/// Every dimension combination of an export with what it adds up to. The
/// averages are weighted by the sessions of the `Traffic` row of the same
/// combination (rows folded into one page add up).
fn combinations(
    response: &[Value],
    breakdown: &Breakdown,
) -> BTreeMap<Vec<Option<String>>, Totals> {
    let key_of = |row: &Value| -> Vec<Option<String>> {
        breakdown
            .dimensions
            .iter()
            .map(|(clarity, ours)| {
                dimension_value(row, clarity).map(|v| if *ours == "page" { page_of(&v) } else { v })
            })
            .collect()
    };
    // Exact rows first (before folding): the sessions each average is weighted by.
    let exact = |row: &Value| -> Vec<Option<String>> {
        breakdown
            .dimensions
            .iter()
            .map(|(clarity, _)| dimension_value(row, clarity))
            .collect()
    };
    let groups: Vec<(String, &[Value])> = response
        .iter()
        .filter_map(|group| {
            let name = group.get("metricName")?.as_str()?;
            let rows = group.get("information")?.as_array()?;
            Some((squash(name), rows.as_slice()))
        })
        .collect();
    let mut sessions_of: BTreeMap<Vec<Option<String>>, f64> = BTreeMap::new();
    for (name, rows) in &groups {
        if name == "traffic" {
            for row in *rows {
                *sessions_of.entry(exact(row)).or_default() +=
                    number(row.get("totalSessionCount")).unwrap_or(0.0);
            }
        }
    }
    let mut out: BTreeMap<Vec<Option<String>>, Totals> = BTreeMap::new();
    for (name, rows) in &groups {
        for row in *rows {
            let totals = out.entry(key_of(row)).or_default();
            let sessions = sessions_of.get(&exact(row)).copied().unwrap_or(0.0);
            let sub_total = || number(row.get("subTotal")).unwrap_or(0.0);
            match name.as_str() {
                "traffic" => {
                    totals.sessions += number(row.get("totalSessionCount")).unwrap_or(0.0)
                }
                "engagementtime" => {
                    totals.engagement_seconds +=
                        number(row.get("activeTime")).unwrap_or(0.0) * sessions
                }
                "scrolldepth" => {
                    totals.scroll_depth_total +=
                        number(row.get("averageScrollDepth")).unwrap_or(0.0) * sessions
                }
                "deadclickcount" => totals.dead_clicks += sub_total(),
                "rageclickcount" => totals.rage_clicks += sub_total(),
                "quickbackclick" => totals.quickbacks += sub_total(),
                "excessivescroll" => totals.excessive_scrolling += sub_total(),
                // Popular pages, script errors and the rest are not in the catalog.
                _ => {}
            }
        }
    }
    out
}

impl Derive for ClarityProvider {
    fn derivation(&self) -> Derivation {
        Derivation { events, labels }
    }
}

/// The breakdown a stored export was asked for.
fn breakdown_of(payload: &Value) -> Option<&'static Breakdown> {
    let name = payload.get("breakdown")?.as_str()?;
    BREAKDOWNS.iter().find(|b| b.name == name)
}

pub(crate) fn events(record: &RawRecord) -> Vec<MetricEvent> {
    if record.object_type != EXPORT_OBJECT {
        return vec![];
    }
    let payload = &record.payload;
    let Some(breakdown) = breakdown_of(payload) else {
        return vec![];
    };
    let fetched_at = payload
        .get("fetched_at")
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .or(record.updated_at);
    let (Some(fetched_at), Some(response)) = (
        fetched_at,
        payload.get("response").and_then(Value::as_array),
    ) else {
        return vec![];
    };
    let (_, at) = reported_day(fetched_at);
    let metric = |id: &'static str| -> &'static str {
        // The catalog's ids, without allocating: the page metrics are listed.
        match (breakdown.prefix, id) {
            ("", id) => id,
            (_, "sessions") => "page_sessions",
            (_, "engagement_seconds") => "page_engagement_seconds",
            (_, "scroll_depth_total") => "page_scroll_depth_total",
            (_, "dead_clicks") => "page_dead_clicks",
            (_, "rage_clicks") => "page_rage_clicks",
            (_, "quickbacks") => "page_quickbacks",
            (_, "excessive_scrolling") => "page_excessive_scrolling",
            (_, other) => other,
        }
    };
    let mut out = Vec::new();
    for (key, totals) in combinations(response, breakdown) {
        let values = [
            ("sessions", totals.sessions),
            ("engagement_seconds", totals.engagement_seconds),
            ("scroll_depth_total", totals.scroll_depth_total),
            ("dead_clicks", totals.dead_clicks),
            ("rage_clicks", totals.rage_clicks),
            ("quickbacks", totals.quickbacks),
            ("excessive_scrolling", totals.excessive_scrolling),
        ];
        for (id, value) in values {
            let value = value.round() as i64;
            if value == 0 {
                continue;
            }
            let event = breakdown.dimensions.iter().zip(&key).fold(
                MetricEvent::new(metric(id), value, at),
                |event, ((_, ours), value)| event.with(ours, value.clone()),
            );
            out.push(event);
        }
    }
    out
}

/// Clarity's dimension values are their own names.
pub(crate) fn labels(_record: &RawRecord) -> Vec<DimensionLabel> {
    vec![]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(breakdown: &str, fetched_at: &str, response: Value) -> RawRecord {
        RawRecord {
            object_type: EXPORT_OBJECT.into(),
            external_id: "x".into(),
            updated_at: None,
            payload: json!({ "fetched_at": fetched_at, "breakdown": breakdown, "num_of_days": 1, "response": response }),
        }
    }

    fn value(events: &[MetricEvent], metric: &str, dim: (&str, &str)) -> i64 {
        events
            .iter()
            .filter(|e| e.metric == metric && e.dimensions.get(dim.0).map(String::as_str) == Some(dim.1))
            .map(|e| e.value)
            .sum()
    }

    #[test]
    fn an_export_is_reported_on_the_day_before_its_fetch() {
        let fetched = DateTime::parse_from_rfc3339("2026-03-02T06:30:00Z").unwrap().to_utc();
        let (day, at) = reported_day(fetched);
        assert_eq!(day.to_string(), "2026-03-01");
        assert_eq!(at.to_rfc3339(), "2026-03-01T12:00:00+00:00");
    }

    #[test]
    fn rows_of_one_combination_become_its_metrics_with_weighted_averages() {
        // Spelled as Clarity's responses spell them (CamelCase names, counts as strings)
        // and as its documentation does ("Scroll Depth").
        let response = json!([
            { "metricName": "Traffic", "information": [
                { "totalSessionCount": "10", "totalBotSessionCount": "1", "distantUserCount": "9", "PagesPerSessionPercentage": 1.5, "Device": "PC", "Browser": "Chrome", "Country/Region": "France" },
                { "totalSessionCount": 4, "Device": "Mobile", "Browser": "Safari", "Country/Region": "France" }
            ]},
            { "metricName": "EngagementTime", "information": [
                { "totalTime": "100", "activeTime": 61.5, "Device": "PC", "Browser": "Chrome", "Country/Region": "France" },
                { "totalTime": 30, "activeTime": "20.25", "Device": "Mobile", "Browser": "Safari", "Country/Region": "France" }
            ]},
            { "metricName": "Scroll Depth", "information": [
                { "averageScrollDepth": 40.3, "Device": "PC", "Browser": "Chrome", "Country/Region": "France" }
            ]},
            { "metricName": "RageClickCount", "information": [
                { "sessionsCount": "10", "sessionsWithMetricPercentage": 20, "sessionsWithoutMetricPercentage": 80, "pagesViews": "3", "subTotal": "7", "Device": "PC", "Browser": "Chrome", "Country/Region": "France" }
            ]},
            { "metricName": "ScriptErrorCount", "information": [
                { "subTotal": "99", "Device": "PC", "Browser": "Chrome", "Country/Region": "France" }
            ]},
            { "metricName": "PopularPages", "information": [ { "url": "https://a.example/", "visitsCount": "3" } ] }
        ]);
        let events = events(&record("site", "2026-03-02T01:00:00Z", response));
        assert_eq!(value(&events, "sessions", ("device", "PC")), 10);
        assert_eq!(value(&events, "sessions", ("country", "France")), 14);
        assert_eq!(value(&events, "engagement_seconds", ("device", "PC")), 615);
        assert_eq!(value(&events, "engagement_seconds", ("device", "Mobile")), 81);
        assert_eq!(value(&events, "scroll_depth_total", ("browser", "Chrome")), 403);
        assert_eq!(value(&events, "rage_clicks", ("device", "PC")), 7);
        assert!(events.iter().all(|e| e.at.to_rfc3339() == "2026-03-01T12:00:00+00:00"));
        // Script errors and popular pages are not metrics; zeros make no events.
        assert!(events.iter().all(|e| e.metric != "dead_clicks" && !e.dimensions.contains_key("page")));
    }

    #[test]
    fn page_variants_fold_into_one_page() {
        let response = json!([
            { "metricName": "Traffic", "information": [
                { "totalSessionCount": "3", "URL": "https://a.example/p?fbclid=SECRET" },
                { "totalSessionCount": "1", "Url": "https://a.example/p#top" },
                { "totalSessionCount": "2", "URL": "https://a.example/q" }
            ]},
            { "metricName": "ScrollDepth", "information": [
                { "averageScrollDepth": 50, "URL": "https://a.example/p?fbclid=SECRET" },
                { "averageScrollDepth": "90", "Url": "https://a.example/p#top" }
            ]},
            { "metricName": "DeadClickCount", "information": [
                { "subTotal": "2", "URL": "https://a.example/p?x=1" }
            ]}
        ]);
        let events = events(&record("pages", "2026-03-02T01:00:00Z", response));
        assert_eq!(value(&events, "page_sessions", ("page", "https://a.example/p")), 4);
        assert_eq!(value(&events, "page_scroll_depth_total", ("page", "https://a.example/p")), 240);
        assert_eq!(value(&events, "page_dead_clicks", ("page", "https://a.example/p")), 2);
        assert_eq!(value(&events, "page_sessions", ("page", "https://a.example/q")), 2);
        assert!(events.iter().all(|e| !e.dimensions["page"].contains("SECRET")));
    }

    #[test]
    fn other_records_and_malformed_payloads_derive_nothing() {
        let mut other = record("site", "2026-03-02T01:00:00Z", json!([]));
        other.object_type = "charge".into();
        assert!(events(&other).is_empty());
        assert!(events(&record("nope", "2026-03-02T01:00:00Z", json!([]))).is_empty());
        let garbled = record("site", "2026-03-02T01:00:00Z", json!({ "not": "a list" }));
        assert!(events(&garbled).is_empty());
    }
}

//! Pulling PostHog data: daily counts from the query API, one raw record per day.
//!
//! PostHog computes the numbers (a HogQL query grouped by day in the project's
//! time zone) and Pulseboard keeps one record per day, keyed by the day, so a day
//! pulled again replaces its previous version (and its metric events) instead of
//! adding to it. Events arrive late (offline devices, ingestion lag), so every sync
//! pulls again the days since three days before the previous sync's last day.
//!
//! Which local days those are depends on the project's UTC offset, which the
//! connector does not need to know: the windows are computed on UTC dates with a day
//! of margin on each side (every offset is within −12 h…+14 h) and the query filters
//! on `toDate(timestamp)`, the day in the project's time zone, so each day in a
//! window is counted whole. A day in a window with no events is stored with zeros,
//! so a day that lost its events (deleted persons) stops counting them.
//!
//! The first sync pulls the last 90 days. Windows are at most 31 days (one query
//! each, committed with the cursor), so an interrupted backfill resumes from where
//! it stopped.
//!
//! **Picked events.** The integration's options name up to 10 events and a property
//! to break them down by. A second stream, `posthog.events`, counts them per day,
//! event and property value (one query per window, one `event_counts` record per
//! day that replaces its previous version). Its cursor remembers the picks it
//! counted: when the options change, the stream starts over with a 90-day backfill,
//! so every day of that window is counted with the current picks. Emptying the
//! picks replaces the window's days with empty ones, once.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Days, NaiveDate};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    catalog::PRODUCT_EVENTS, host, posthog_message, PosthogProvider, POSTHOG_BREAKDOWN_OPTION,
    POSTHOG_EVENTS_OPTION,
};
use crate::{
    support::backoff::{with_backoff, RetryPolicy},
    support::error::{next_try, OAuthError},
    support::http::retry_after,
    options,
    sync::{Pull, RawRecord, SyncError, SyncKind, SyncPage, SyncRequest, SyncSink},
    ExposeSecret,
};

pub(crate) const DAYS_STREAM: &str = "posthog.days";
pub(crate) const EVENTS_STREAM: &str = "posthog.events";
/// The object type of the daily records.
pub(crate) const DAY_OBJECT: &str = "day";
/// The object type of a day's picked-event counts.
pub(crate) const EVENT_COUNTS_OBJECT: &str = "event_counts";
/// Rows a picked-events query may return (days × events × property values); a
/// property with more values than this in a window is refused as a breakdown.
const EVENT_ROW_LIMIT: u32 = 50_000;
/// Days pulled by the first sync (and at most by any sync).
const BACKFILL_DAYS: u64 = 90;
/// Local days pulled again before the previous sync's last one, for late events.
const LATE_DAYS: u64 = 3;
/// Days per query.
const WINDOW_DAYS: u64 = 31;
/// Well above the rows of a window, so a result is never truncated (PostHog's
/// default limit is 100 rows).
const ROW_LIMIT: u32 = 1000;

/// The columns of the daily query, in order: the day, the instant it starts, the
/// counts (stored under the metric of the same name).
pub(crate) fn count_columns() -> Vec<&'static str> {
    let mut columns = vec!["pageviews", "unique_persons", "sessions"];
    columns.extend(PRODUCT_EVENTS);
    columns
}

/// A HogQL string literal.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn plus_days(day: NaiveDate, n: u64) -> NaiveDate {
    day.checked_add_days(Days::new(n)).unwrap_or(day)
}

fn minus_days(day: NaiveDate, n: u64) -> NaiveDate {
    day.checked_sub_days(Days::new(n)).unwrap_or(day)
}

/// The HogQL query for the local days `from..=to`.
pub(crate) fn daily_query(from: NaiveDate, to: NaiveDate) -> String {
    let mut select = vec![
        "toDate(timestamp) AS day".to_owned(),
        "toStartOfDay(timestamp) AS day_start".to_owned(),
        "countIf(event = '$pageview') AS pageviews".to_owned(),
        "count(DISTINCT person_id) AS unique_persons".to_owned(),
        "count(DISTINCT properties.$session_id) AS sessions".to_owned(),
    ];
    for event in PRODUCT_EVENTS {
        select.push(format!("countIf(event = {}) AS {event}", quote(event)));
    }
    // The UTC bounds only let PostHog skip partitions; the local-day bounds decide.
    let utc_from = minus_days(from, 1);
    let utc_to = plus_days(to, 2);
    format!(
        "SELECT {} FROM events \
         WHERE timestamp >= toDateTime('{utc_from} 00:00:00', 'UTC') AND timestamp < toDateTime('{utc_to} 00:00:00', 'UTC') \
         AND toDate(timestamp) >= toDate('{from}') AND toDate(timestamp) <= toDate('{to}') \
         GROUP BY day, day_start ORDER BY day LIMIT {ROW_LIMIT}",
        select.join(", ")
    )
}

/// What the picked-events stream counts, as the integration's options say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Picks {
    pub events: Vec<String>,
    pub breakdown: Option<String>,
}

impl Picks {
    pub fn from_options(options: &options::IntegrationOptions) -> Self {
        Self {
            events: options::list(options, POSTHOG_EVENTS_OPTION)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            breakdown: options::text(options, POSTHOG_BREAKDOWN_OPTION).map(str::to_owned),
        }
    }

    fn to_json(&self) -> Value {
        json!({ "events": self.events, "breakdown_property": self.breakdown })
    }

    fn from_cursor(cursor: &Value) -> Option<Self> {
        let picked = cursor.get("picked")?;
        Some(Self {
            events: picked
                .get("events")?
                .as_array()?
                .iter()
                .filter_map(|e| e.as_str().map(str::to_owned))
                .collect(),
            breakdown: picked
                .get("breakdown_property")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }
}

/// Counts of the picked events for the local days `from..=to`, per day, event and
/// (when a breakdown property is picked) that property's value.
pub(crate) fn events_query(picks: &Picks, from: NaiveDate, to: NaiveDate) -> String {
    let mut select = vec![
        "toDate(timestamp) AS day",
        "toStartOfDay(timestamp) AS day_start",
        "event",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect::<Vec<_>>();
    let mut group = vec!["day", "day_start", "event"];
    if let Some(property) = &picks.breakdown {
        select.push(format!("properties[{}] AS breakdown", quote(property)));
        group.push("breakdown");
    }
    select.push("count() AS count".to_owned());
    let events: Vec<String> = picks.events.iter().map(|e| quote(e)).collect();
    let utc_from = minus_days(from, 1);
    let utc_to = plus_days(to, 2);
    format!(
        "SELECT {} FROM events \
         WHERE timestamp >= toDateTime('{utc_from} 00:00:00', 'UTC') AND timestamp < toDateTime('{utc_to} 00:00:00', 'UTC') \
         AND toDate(timestamp) >= toDate('{from}') AND toDate(timestamp) <= toDate('{to}') \
         AND event IN ({}) \
         GROUP BY {} ORDER BY day LIMIT {EVENT_ROW_LIMIT}",
        select.join(", "),
        events.join(", "),
        group.join(", ")
    )
}

/// A property's value as a dimension value: strings as they are, numbers and
/// booleans spelled out, `null` (the event lacks the property) as none.
fn breakdown_value(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The days of `from..=to` as `event_counts` records: each with the picks it was
/// counted for and its `[event, value, count]` rows (none for a quiet day).
fn event_count_records(
    response: Option<QueryResponse>,
    picks: &Picks,
    from: NaiveDate,
    to: NaiveDate,
    fetched_at: DateTime<chrono::Utc>,
) -> Result<Vec<RawRecord>, OAuthError> {
    let mut days: BTreeMap<NaiveDate, (Option<String>, Vec<Value>)> = BTreeMap::new();
    if let Some(response) = response {
        let mut expected = vec!["day", "day_start", "event"];
        if picks.breakdown.is_some() {
            expected.push("breakdown");
        }
        expected.push("count");
        if response.columns != expected {
            return Err(malformed(format_args!("columns {:?}", response.columns)));
        }
        if response.has_more == Some(true) {
            return Err(OAuthError::Rejected(format!(
                "the breakdown property {} has too many values to count by day; pick another property",
                picks.breakdown.as_deref().unwrap_or_default()
            )));
        }
        for row in &response.results {
            if row.len() != expected.len() {
                return Err(malformed("a row does not match the columns"));
            }
            let day = row[0]
                .as_str()
                .and_then(|d| d.parse::<NaiveDate>().ok())
                .filter(|d| (from..=to).contains(d))
                .ok_or_else(|| malformed(format_args!("day {} outside {from}..{to}", row[0])))?;
            let day_start = row[1]
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .ok_or_else(|| malformed(format_args!("day_start {}", row[1])))?;
            let event = row[2]
                .as_str()
                .filter(|e| picks.events.iter().any(|p| p == e))
                .ok_or_else(|| malformed(format_args!("event {}", row[2])))?;
            let value = if picks.breakdown.is_some() {
                breakdown_value(&row[3])
            } else {
                None
            };
            let count_at = row.len() - 1;
            let count = row[count_at]
                .as_u64()
                .or_else(|| row[count_at].as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| malformed(format_args!("count {}", row[count_at])))?;
            let entry = days.entry(day).or_default();
            entry.0 = Some(day_start.to_rfc3339());
            entry.1.push(json!([event, value, count]));
        }
    }
    Ok(from
        .iter_days()
        .take_while(|d| *d <= to)
        .map(|day| {
            let (day_start, counts) = days.remove(&day).unwrap_or_default();
            RawRecord {
                object_type: EVENT_COUNTS_OBJECT.into(),
                external_id: format!("events/{day}"),
                updated_at: Some(fetched_at),
                payload: json!({
                    "day": day.to_string(),
                    "day_start": day_start,
                    "picked": picks.to_json(),
                    "counts": counts,
                }),
            }
        })
        .collect())
}

/// The parts of a query response Pulseboard reads.
#[derive(Deserialize)]
struct QueryResponse {
    results: Vec<Vec<Value>>,
    columns: Vec<String>,
    #[serde(rename = "hasMore", default)]
    has_more: Option<bool>,
}

fn malformed(what: impl std::fmt::Display) -> OAuthError {
    OAuthError::Rejected(format!("unexpected response from PostHog's query endpoint: {what}"))
}

/// The days of `from..=to` as records: PostHog's row for the day, or zeros.
fn day_records(
    response: QueryResponse,
    from: NaiveDate,
    to: NaiveDate,
    fetched_at: DateTime<chrono::Utc>,
) -> Result<Vec<RawRecord>, OAuthError> {
    let counts = count_columns();
    let mut expected = vec!["day", "day_start"];
    expected.extend(&counts);
    if response.columns != expected {
        return Err(malformed(format_args!("columns {:?}", response.columns)));
    }
    if response.has_more == Some(true) {
        return Err(malformed("the result was truncated"));
    }
    let mut rows: BTreeMap<NaiveDate, Map<String, Value>> = BTreeMap::new();
    for row in &response.results {
        if row.len() != expected.len() {
            return Err(malformed("a row does not match the columns"));
        }
        let day = row[0]
            .as_str()
            .and_then(|d| d.parse::<NaiveDate>().ok())
            .filter(|d| (from..=to).contains(d))
            .ok_or_else(|| malformed(format_args!("day {} outside {from}..{to}", row[0])))?;
        let day_start = row[1]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .ok_or_else(|| malformed(format_args!("day_start {}", row[1])))?;
        let mut payload = Map::new();
        payload.insert("day".into(), json!(day.to_string()));
        payload.insert("day_start".into(), json!(day_start.to_rfc3339()));
        for (name, value) in counts.iter().zip(&row[2..]) {
            let count = value
                .as_u64()
                .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| malformed(format_args!("{name} {value}")))?;
            payload.insert((*name).into(), json!(count));
        }
        if rows.insert(day, payload).is_some() {
            return Err(malformed(format_args!("day {day} twice")));
        }
    }
    let mut records = Vec::new();
    for day in from.iter_days().take_while(|d| *d <= to) {
        let payload = rows.remove(&day).unwrap_or_else(|| {
            let mut zeros = Map::new();
            zeros.insert("day".into(), json!(day.to_string()));
            zeros.insert("day_start".into(), Value::Null);
            for name in &counts {
                zeros.insert((*name).into(), json!(0));
            }
            zeros
        });
        records.push(RawRecord {
            object_type: DAY_OBJECT.into(),
            external_id: day.to_string(),
            updated_at: Some(fetched_at),
            payload: Value::Object(payload),
        });
    }
    Ok(records)
}

impl PosthogProvider {
    /// One query, retried on 5xx, timeouts and short rate limits; a long
    /// `Retry-After` is handed back (the server reschedules the job).
    async fn query(
        &self,
        req: &SyncRequest<'_>,
        host: &host::PosthogHost,
        project_id: u64,
        hogql: &str,
    ) -> Result<QueryResponse, OAuthError> {
        let body = json!({ "query": { "kind": "HogQLQuery", "query": hogql } });
        let url = host.url(&format!("api/projects/{project_id}/query/"));
        let policy = RetryPolicy::default();
        with_backoff(&policy, || async {
            let token = req.tokens.access_token().await?;
            let token = token.expose_secret();
            let request = self.http.post(url.clone()).bearer_auth(token).json(&body);
            let response = self.http.send(request).await?;
            match response.status {
                // A deleted key or one without query access: only a person can fix that.
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    Err(OAuthError::InvalidGrant(format!(
                        "PostHog refused the personal API key ({}); connect again with a key that can read project {project_id} and run queries",
                        posthog_message(&response, &[token])
                    )))
                }
                StatusCode::NOT_FOUND => Err(OAuthError::Rejected(format!(
                    "PostHog has no project {project_id} at {} any more",
                    host.as_str()
                ))),
                StatusCode::BAD_REQUEST => Err(OAuthError::Rejected(format!(
                    "PostHog refused the query: {}",
                    posthog_message(&response, &[token])
                ))),
                status if status.is_success() => response.json("PostHog's query endpoint"),
                StatusCode::TOO_MANY_REQUESTS => {
                    let wait = retry_after(&response.headers);
                    let when = wait.map_or_else(
                        || "next try when PostHog allows".to_owned(),
                        |wait| format!("next try {}", next_try(req.now, wait)),
                    );
                    Err(OAuthError::RateLimited {
                        retry_after: wait,
                        reason: Some(format!(
                            "PostHog: the key's HogQL query rate limit is reached; {when}"
                        )),
                    })
                }
                status if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT => {
                    Err(OAuthError::Transient(posthog_message(&response, &[token])))
                }
                _ => Err(OAuthError::Rejected(posthog_message(&response, &[token]))),
            }
        })
        .await
    }
}

/// Where a stream starts this sync: the late days before its cursor's last day
/// (and a day of margin, as that day was reckoned on UTC's date), or the whole
/// backfill window without one.
fn start_of(cursor: Option<&Value>, oldest: NaiveDate, last: NaiveDate) -> (NaiveDate, SyncKind) {
    let through = cursor
        .and_then(|c| c.get("through"))
        .and_then(Value::as_str)
        .and_then(|d| d.parse::<NaiveDate>().ok());
    match through {
        Some(through) => (
            minus_days(through, LATE_DAYS + 1).clamp(oldest, minus_days(last, LATE_DAYS + 1)),
            SyncKind::Incremental,
        ),
        None => (oldest, SyncKind::Backfill),
    }
}

#[async_trait]
impl Pull for PosthogProvider {
    async fn sync(
        &self,
        req: &SyncRequest<'_>,
        sink: &mut dyn SyncSink,
    ) -> Result<SyncKind, SyncError> {
        let (project_id, host) = host::parse_account_id(req.account_id, self.config.allow_loopback)
            .map_err(|e| OAuthError::Rejected(e.to_string()))?;
        // The project's local today is at most a day after UTC's.
        let last = plus_days(req.now.date_naive(), 1);
        let oldest = minus_days(last, BACKFILL_DAYS + 1);
        let (mut from, kind) = start_of(req.cursors.get(DAYS_STREAM), oldest, last);
        while from <= last {
            let to = plus_days(from, WINDOW_DAYS - 1).min(last);
            let response = self
                .query(req, &host, project_id, &daily_query(from, to))
                .await?;
            let records = day_records(response, from, to, req.now)?;
            sink.commit(SyncPage {
                stream: DAYS_STREAM.into(),
                records,
                cursor: Some(json!({ "through": to.to_string() })),
                clear: vec![],
            })
            .await?;
            from = plus_days(to, 1);
        }

        // The picked events, started over when the picks changed.
        let picks = Picks::from_options(req.options);
        let stored = req.cursors.get(EVENTS_STREAM);
        let counted = stored.and_then(Picks::from_cursor);
        let (mut from, events_kind) = match &counted {
            Some(before) if *before == picks => start_of(stored, oldest, last),
            _ => (oldest, SyncKind::Backfill),
        };
        let nothing_to_count = picks.events.is_empty();
        if nothing_to_count && counted.as_ref().is_none_or(|before| before.events.is_empty()) {
            return Ok(kind);
        }
        // New picks are counted over the whole window: the run was a backfill.
        let kind = if events_kind == SyncKind::Backfill {
            SyncKind::Backfill
        } else {
            kind
        };
        while from <= last {
            let to = plus_days(from, WINDOW_DAYS - 1).min(last);
            // No picks: the days become empty without asking PostHog.
            let response = if nothing_to_count {
                None
            } else {
                Some(
                    self.query(req, &host, project_id, &events_query(&picks, from, to))
                        .await?,
                )
            };
            let records = event_count_records(response, &picks, from, to, req.now)?;
            sink.commit(SyncPage {
                stream: EVENTS_STREAM.into(),
                records,
                cursor: Some(json!({ "through": to.to_string(), "picked": picks.to_json() })),
                clear: vec![],
            })
            .await?;
            from = plus_days(to, 1);
        }
        Ok(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_query_counts_whole_local_days() {
        let q = daily_query(day("2024-05-01"), day("2024-05-31"));
        assert!(q.starts_with("SELECT toDate(timestamp) AS day, toStartOfDay(timestamp) AS day_start, countIf(event = '$pageview') AS pageviews, count(DISTINCT person_id) AS unique_persons, count(DISTINCT properties.$session_id) AS sessions, countIf(event = 'signed_up') AS signed_up"), "{q}");
        assert!(q.contains("timestamp >= toDateTime('2024-04-30 00:00:00', 'UTC') AND timestamp < toDateTime('2024-06-02 00:00:00', 'UTC')"), "{q}");
        assert!(q.contains("toDate(timestamp) >= toDate('2024-05-01') AND toDate(timestamp) <= toDate('2024-05-31')"), "{q}");
        assert!(q.ends_with("GROUP BY day, day_start ORDER BY day LIMIT 1000"), "{q}");
        assert_eq!(quote("it's \\ odd"), "'it\\'s \\\\ odd'");
    }

    #[test]
    fn the_picked_events_query_quotes_names_and_groups_by_the_property() {
        let picks = Picks {
            events: vec!["signed_up".into(), "it's".into()],
            breakdown: Some("$browser".into()),
        };
        let q = events_query(&picks, day("2024-05-01"), day("2024-05-31"));
        assert!(q.starts_with("SELECT toDate(timestamp) AS day, toStartOfDay(timestamp) AS day_start, event, properties['$browser'] AS breakdown, count() AS count FROM events"), "{q}");
        assert!(q.contains("AND event IN ('signed_up', 'it\\'s') GROUP BY day, day_start, event, breakdown ORDER BY day LIMIT 50000"), "{q}");
        let totals = events_query(&Picks { breakdown: None, ..picks }, day("2024-05-01"), day("2024-05-02"));
        assert!(totals.contains("event, count() AS count") && totals.contains("GROUP BY day, day_start, event ORDER BY"), "{totals}");
    }

    #[test]
    fn changed_picks_are_told_apart_from_the_cursor() {
        let options = json!({ "events": ["a"], "breakdown_property": "plan" });
        let picks = Picks::from_options(options.as_object().unwrap());
        let cursor = json!({ "through": "2024-05-01", "picked": picks.to_json() });
        assert_eq!(Picks::from_cursor(&cursor), Some(picks.clone()));
        let other = Picks { breakdown: None, ..picks.clone() };
        assert_ne!(Picks::from_cursor(&cursor), Some(other));
        assert_eq!(Picks::from_cursor(&json!({ "through": "2024-05-01" })), None);
    }

    fn response(rows: Value) -> QueryResponse {
        let mut columns = vec!["day", "day_start"];
        columns.extend(count_columns());
        serde_json::from_value(json!({ "results": rows, "columns": columns, "hasMore": false, "types": [] }))
            .unwrap()
    }

    #[test]
    fn rows_become_one_record_per_day_with_zeros_for_quiet_days() {
        let now = chrono::Utc::now();
        let rows = json!([["2024-05-02", "2024-05-02T00:00:00+09:00", 10, 4, 5, 1, 2, 0]]);
        let records = day_records(response(rows), day("2024-05-01"), day("2024-05-03"), now).unwrap();
        let ids: Vec<&str> = records.iter().map(|r| r.external_id.as_str()).collect();
        assert_eq!(ids, ["2024-05-01", "2024-05-02", "2024-05-03"]);
        assert_eq!(records[1].payload["pageviews"], 10);
        assert_eq!(records[1].payload["checkout_started"], 2);
        assert_eq!(records[0].payload["pageviews"], 0);
        assert!(records[0].payload["day_start"].is_null());
        assert!(records.iter().all(|r| r.updated_at == Some(now) && r.object_type == "day"));
    }

    #[test]
    fn malformed_results_are_refused() {
        let now = chrono::Utc::now();
        let (from, to) = (day("2024-05-01"), day("2024-05-03"));
        for rows in [
            json!([["2024-06-01", "2024-06-01T00:00:00Z", 1, 1, 1, 0, 0, 0]]),
            json!([["2024-05-01", "yesterday", 1, 1, 1, 0, 0, 0]]),
            json!([["2024-05-01", "2024-05-01T00:00:00Z", -1, 1, 1, 0, 0, 0]]),
            json!([["2024-05-01", "2024-05-01T00:00:00Z", 1, 1]]),
            json!([["2024-05-01", "2024-05-01T00:00:00Z", 1, 1, 1, 0, 0, 0], ["2024-05-01", "2024-05-01T00:00:00Z", 1, 1, 1, 0, 0, 0]]),
        ] {
            assert!(day_records(response(rows.clone()), from, to, now).is_err(), "{rows}");
        }
        let wrong: QueryResponse = serde_json::from_value(json!({ "results": [], "columns": ["day"] })).unwrap();
        assert!(day_records(wrong, from, to, now).is_err());
        let mut more = response(json!([]));
        more.has_more = Some(true);
        assert!(day_records(more, from, to, now).is_err());
    }
}

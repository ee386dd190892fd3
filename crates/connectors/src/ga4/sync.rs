//! Pulling GA4 reports with the Data API's `runReport` (DESIGN §6).
//!
//! Five reports per window of days, each by `date`: the day's totals, and one per
//! breakdown (`deviceCategory`, `sessionDefaultChannelGroup`, `countryId` with its
//! `country` name, `landingPage`), each with the ten metrics (the API's maximum per
//! request), paged with `limit`/`offset` until `rowCount`. Every row becomes a raw
//! record keyed by (report, date, dimension value), so pulling a day again replaces
//! its rows, and the sink replaces their events (see `derive.rs` for how totals and
//! breakdowns add up).
//!
//! Windows: the first sync pulls the last 90 days (`89daysAgo` to `today`, the
//! property's days); later ones start two days before the last day seen, so the last
//! three days are always pulled again: GA4 revises them for about 48 hours. A gap
//! (syncs paused for a week) is covered because the window starts from the last day
//! seen, not from today.
//!
//! Quotas: every request asks for `returnPropertyQuota`. When the property's hourly or
//! daily tokens run low, or GA4 answers 429 `RESOURCE_EXHAUSTED`, the sync stops with
//! `RateLimited` until the quota refills, and the server snoozes the job: hourly
//! quotas at the top of the next hour; daily ones at the next midnight Pacific time,
//! which is when Google's documentation says they refresh (not the property's
//! midnight). Never a retry loop: a 429 is not retried. Progress is kept per report,
//! so the snoozed job resumes with the report it had not finished.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Days, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::America::Los_Angeles;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    derive::{noon_of, parse_date, METRICS, ROW_TYPE},
    Ga4Provider,
};
use crate::{
    support::backoff::{with_backoff, RetryPolicy},
    support::error::OAuthError,
    support::http::{endpoint, retry_after},
    sync::{Pull, RawRecord, SyncError, SyncKind, SyncPage, SyncRequest, SyncSink},
    ExposeSecret,
};

pub(crate) const STREAM: &str = "ga4.reports";
/// The first sync's window: 90 days, today included.
const FIRST_START: &str = "89daysAgo";
/// Later windows start this many days before the last day seen.
const REPULL_DAYS: u64 = 2;
/// Rows per request (the API allows up to 250,000; smaller pages keep each commit small).
pub(crate) const PAGE_LIMIT: usize = 1000;
/// Stop when fewer tokens than this are left in the hour, or 2 % of the hour's.
const HOURLY_MARGIN: i64 = 100;
/// Stop when fewer tokens than this are left in the day, or 2 % of the day's.
const DAILY_MARGIN: i64 = 500;

/// One report: its name (in record ids), GA4 dimensions after `date`, Pulseboard's
/// dimension, and the GA4 dimension that names the value, if any.
struct Report {
    name: &'static str,
    ga_dimensions: &'static [&'static str],
    dimension: Option<&'static str>,
}

const REPORTS: [Report; 5] = [
    Report {
        name: "totals",
        ga_dimensions: &[],
        dimension: None,
    },
    Report {
        name: "device",
        ga_dimensions: &["deviceCategory"],
        dimension: Some("device"),
    },
    Report {
        name: "channel",
        ga_dimensions: &["sessionDefaultChannelGroup"],
        dimension: Some("channel"),
    },
    Report {
        name: "country",
        ga_dimensions: &["countryId", "country"],
        dimension: Some("country"),
    },
    Report {
        name: "landing_page",
        ga_dimensions: &["landingPage"],
        dimension: Some("landing_page"),
    },
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReportResponse {
    #[serde(default)]
    dimension_headers: Vec<Header>,
    #[serde(default)]
    metric_headers: Vec<Header>,
    #[serde(default)]
    rows: Vec<Row>,
    /// Omitted when zero (proto3 JSON).
    #[serde(default)]
    row_count: i64,
    #[serde(default)]
    metadata: Metadata,
    property_quota: Option<PropertyQuota>,
}

#[derive(Deserialize)]
struct Header {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    #[serde(default)]
    dimension_values: Vec<Cell>,
    #[serde(default)]
    metric_values: Vec<Cell>,
}

#[derive(Deserialize)]
struct Cell {
    #[serde(default)]
    value: String,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    currency_code: Option<String>,
    time_zone: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PropertyQuota {
    tokens_per_day: Option<QuotaStatus>,
    tokens_per_hour: Option<QuotaStatus>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(crate) struct QuotaStatus {
    #[serde(default)]
    consumed: i64,
    #[serde(default)]
    remaining: i64,
}

impl QuotaStatus {
    fn low(&self, margin: i64) -> bool {
        self.remaining < margin.max((self.consumed + self.remaining) / 50)
    }
}

/// Which quota ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Window {
    Hour,
    Day,
    /// Too many requests at once: a minute is plenty.
    Concurrent,
}

/// How long until `window` refills, from `now`: the top of the next hour, the next
/// midnight in Google's Pacific time, or a minute. At least a minute.
pub(crate) fn until_reset(window: Window, now: DateTime<Utc>) -> Duration {
    let reset = match window {
        Window::Concurrent => now + chrono::Duration::minutes(1),
        Window::Hour => {
            let hour = now
                .with_minute(0)
                .and_then(|t| t.with_second(0))
                .and_then(|t| t.with_nanosecond(0))
                .unwrap_or(now);
            hour + chrono::Duration::hours(1)
        }
        Window::Day => {
            let pacific = now.with_timezone(&Los_Angeles).date_naive();
            let next = pacific
                .checked_add_days(Days::new(1))
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .and_then(|midnight| Los_Angeles.from_local_datetime(&midnight).earliest())
                .map(|t| t.with_timezone(&Utc));
            next.unwrap_or(now + chrono::Duration::hours(24))
        }
    };
    (reset - now)
        .to_std()
        .unwrap_or_default()
        .max(Duration::from_secs(60))
}

/// The quota that is nearly spent, if any: the day's first, since it lasts longer.
pub(crate) fn exhausted(quota: &PropertyQuota) -> Option<Window> {
    if quota.tokens_per_day.is_some_and(|q| q.low(DAILY_MARGIN)) {
        Some(Window::Day)
    } else if quota.tokens_per_hour.is_some_and(|q| q.low(HOURLY_MARGIN)) {
        Some(Window::Hour)
    } else {
        None
    }
}

/// The sync monitor's words for a spent quota and when the next try is: "GA4
/// property quota exhausted (tokens per day); next try 00:00 PT" (Google's day is
/// Pacific time), "… (tokens per hour); next try after 15:00 UTC".
pub(crate) fn quota_reason(window: Window, now: DateTime<Utc>, wait: Duration) -> String {
    let at = now + chrono::Duration::from_std(wait).unwrap_or_default();
    match window {
        Window::Day => format!(
            "GA4 property quota exhausted (tokens per day); next try {} PT",
            at.with_timezone(&Los_Angeles).format("%H:%M")
        ),
        Window::Hour => format!(
            "GA4 property quota exhausted (tokens per hour); next try {}",
            crate::support::error::next_try(now, wait)
        ),
        Window::Concurrent => format!(
            "GA4: too many concurrent requests for the property; next try {}",
            crate::support::error::next_try(now, wait)
        ),
    }
}

/// The window a 429 `RESOURCE_EXHAUSTED` message names ("Exhausted property tokens
/// per day", "… per hour", "Exhausted concurrent requests quota").
fn window_of(message: &str) -> Window {
    let message = message.to_ascii_lowercase();
    if message.contains("per day") || message.contains("daily") {
        Window::Day
    } else if message.contains("concurrent") {
        Window::Concurrent
    } else {
        Window::Hour
    }
}

/// Where a sync stands, stored as the stream's cursor.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Cursor {
    /// The last day a finished window saw.
    through: Option<NaiveDate>,
    /// A window in progress: its start (`2024-05-01` or `89daysAgo`), how many reports
    /// are done, and the last day seen so far.
    window: Option<(String, usize, Option<NaiveDate>)>,
}

fn day_text(day: NaiveDate) -> String {
    day.format("%Y%m%d").to_string()
}

impl Cursor {
    fn read(value: Option<&Value>) -> Self {
        let Some(value) = value else {
            return Self::default();
        };
        let day = |v: Option<&Value>| v.and_then(Value::as_str).and_then(parse_date);
        let window = value.get("window").and_then(|w| {
            Some((
                w.get("start")?.as_str()?.to_owned(),
                w.get("done")?.as_u64()? as usize,
                day(w.get("max")),
            ))
        });
        Self {
            through: day(value.get("through")),
            window,
        }
    }

    fn write(&self) -> Value {
        let mut out = Map::new();
        if let Some(through) = self.through {
            out.insert("through".into(), json!(day_text(through)));
        }
        if let Some((start, done, max)) = &self.window {
            out.insert(
                "window".into(),
                json!({ "start": start, "done": done, "max": max.map(day_text) }),
            );
        }
        Value::Object(out)
    }
}

impl Ga4Provider {
    /// One `runReport` page, retried on server errors only.
    async fn run_report(
        &self,
        req: &SyncRequest<'_>,
        report: &Report,
        start: &str,
        offset: usize,
    ) -> Result<ReportResponse, OAuthError> {
        let mut dimensions = vec![json!({ "name": "date" })];
        dimensions.extend(report.ga_dimensions.iter().map(|d| json!({ "name": d })));
        let mut order_bys = vec![json!({ "dimension": { "dimensionName": "date" } })];
        order_bys.extend(
            report
                .ga_dimensions
                .first()
                .map(|d| json!({ "dimension": { "dimensionName": d } })),
        );
        let body = json!({
            "dateRanges": [{ "startDate": start, "endDate": "today" }],
            "dimensions": dimensions,
            "metrics": METRICS.iter().map(|(name, _)| json!({ "name": name })).collect::<Vec<_>>(),
            "orderBys": order_bys,
            "limit": PAGE_LIMIT,
            "offset": offset,
            "keepEmptyRows": true,
            "returnPropertyQuota": true,
        });
        let url = endpoint(
            &self.config.data_base,
            &format!("v1beta/properties/{}:runReport", req.account_id),
        );
        // 5xx are retried a little; a 429 never is (its wait is hours, not seconds).
        let policy = RetryPolicy {
            max_attempts: 3,
            max_retry_after: Duration::ZERO,
            ..RetryPolicy::default()
        };
        with_backoff(&policy, || async {
            let token = req.tokens.access_token().await?;
            let token = token.expose_secret();
            let request = self.http.post(url.clone()).bearer_auth(token).json(&body);
            let response = self.http.send(request).await?;
            match response.status {
                StatusCode::UNAUTHORIZED => Err(OAuthError::InvalidGrant(format!(
                    "Google refused the access token: {}",
                    response.message(&[token])
                ))),
                StatusCode::FORBIDDEN => Err(OAuthError::AccessDenied(format!(
                    "the Google account no longer reads property {}: {}",
                    req.account_id,
                    response.message(&[token])
                ))),
                StatusCode::TOO_MANY_REQUESTS => {
                    let message = response.message(&[token]);
                    let window = window_of(&message);
                    let wait = retry_after(&response.headers)
                        .filter(|d| !d.is_zero())
                        .unwrap_or_else(|| until_reset(window, req.now));
                    tracing::warn!(property = req.account_id, %message, wait_secs = wait.as_secs(), "GA4 quota exhausted; the sync waits for it to refill");
                    Err(OAuthError::limit_reached(quota_reason(window, req.now, wait), wait))
                }
                _ => response.success(&[token])?.json("the GA4 Data API"),
            }
        })
        .await
    }

    /// The rows of a report page as raw records. Each carries the instant of its
    /// events: noon of its day in the property's zone, or now for today's rows before
    /// noon (a dashboard's "today" ends now, so a later instant would hide them).
    fn records(report: &Report, page: &ReportResponse, now: DateTime<Utc>) -> Vec<RawRecord> {
        let dim_index = |name: &str| page.dimension_headers.iter().position(|h| h.name == name);
        let (Some(date_at), value_at) = (
            dim_index("date"),
            report.ga_dimensions.first().and_then(|d| dim_index(d)),
        ) else {
            return vec![];
        };
        let label_at = (report.name == "country")
            .then(|| dim_index("country"))
            .flatten();
        page.rows
            .iter()
            .filter_map(|row| {
                let get = |i: usize| row.dimension_values.get(i).map(|c| c.value.as_str());
                let date = get(date_at)?;
                let at = noon_of(parse_date(date)?, page.metadata.time_zone.as_deref()).min(now);
                let value = match value_at {
                    Some(i) => Some(get(i)?),
                    None if report.dimension.is_none() => None,
                    None => return None,
                };
                let metrics: Map<String, Value> = page
                    .metric_headers
                    .iter()
                    .zip(&row.metric_values)
                    .map(|(h, c)| (h.name.clone(), json!(c.value)))
                    .collect();
                let external_id = match value {
                    Some(value) => format!("{}/{date}/{value}", report.name),
                    None => format!("{}/{date}", report.name),
                };
                Some(RawRecord {
                    object_type: ROW_TYPE.to_owned(),
                    external_id,
                    // Always the newest version: a re-pulled day replaces the stored one.
                    updated_at: None,
                    payload: json!({
                        "report": report.name,
                        "date": date,
                        "dimension": report.dimension,
                        "value": value,
                        "label": label_at.and_then(get),
                        "currency": page.metadata.currency_code,
                        "time_zone": page.metadata.time_zone,
                        "at": at.to_rfc3339(),
                        "metrics": metrics,
                    }),
                })
            })
            .collect()
    }
}

#[async_trait]
impl Pull for Ga4Provider {
    async fn sync(
        &self,
        req: &SyncRequest<'_>,
        sink: &mut dyn SyncSink,
    ) -> Result<SyncKind, SyncError> {
        let mut cursor = Cursor::read(req.cursors.get(STREAM));
        let kind = if cursor.through.is_none() {
            SyncKind::Backfill
        } else {
            SyncKind::Incremental
        };
        let (start, done, mut max) = cursor.window.clone().unwrap_or_else(|| {
            let start = cursor
                .through
                .and_then(|d| d.checked_sub_days(Days::new(REPULL_DAYS)))
                .map_or(FIRST_START.to_owned(), |d| d.format("%Y-%m-%d").to_string());
            (start, 0, None)
        });
        for (index, report) in REPORTS.iter().enumerate().skip(done) {
            let mut offset = 0;
            loop {
                let page = self.run_report(req, report, &start, offset).await?;
                let records = Self::records(report, &page, req.now);
                if report.dimension.is_none() {
                    let seen = records
                        .iter()
                        .filter_map(|r| r.payload.get("date")?.as_str().and_then(parse_date))
                        .max();
                    max = max.max(seen);
                }
                offset += page.rows.len();
                let finished = page.rows.is_empty() || offset as i64 >= page.row_count;
                let last_report = index + 1 == REPORTS.len();
                let next = match (finished, last_report) {
                    (true, true) => Some(Cursor {
                        through: max.or(cursor.through),
                        window: None,
                    }),
                    (true, false) => Some(Cursor {
                        through: cursor.through,
                        window: Some((start.clone(), index + 1, max)),
                    }),
                    (false, _) => None,
                };
                sink.commit(SyncPage {
                    stream: STREAM.into(),
                    records,
                    cursor: next.as_ref().map(Cursor::write),
                    clear: vec![],
                })
                .await?;
                if let Some(next) = next {
                    cursor = next;
                }
                let more_to_do = !(finished && last_report);
                if let Some(window) = page.property_quota.as_ref().and_then(exhausted) {
                    if more_to_do {
                        let wait = until_reset(window, req.now);
                        tracing::warn!(property = req.account_id, ?window, wait_secs = wait.as_secs(), "GA4 property quota nearly spent; the sync waits for it to refill");
                        return Err(OAuthError::limit_reached(quota_reason(window, req.now, wait), wait).into());
                    }
                }
                if finished {
                    break;
                }
            }
        }
        Ok(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn quotas_refill_at_the_top_of_the_hour_or_at_midnight_pacific() {
        let now = at("2024-05-01T10:20:00Z");
        assert_eq!(until_reset(Window::Hour, now).as_secs(), 40 * 60);
        // 10:20 UTC is 03:20 PDT; midnight PDT is 07:00 UTC the next day.
        assert_eq!(
            until_reset(Window::Day, now).as_secs(),
            (20 * 3600 + 40 * 60) as u64
        );
        assert_eq!(until_reset(Window::Concurrent, now).as_secs(), 60);
        // A minute at least, even right before the hour.
        assert_eq!(
            until_reset(Window::Hour, at("2024-05-01T10:59:59Z")).as_secs(),
            60
        );
        assert_eq!(window_of("Exhausted property tokens per day."), Window::Day);
        assert_eq!(window_of("Exhausted property tokens per hour."), Window::Hour);
        assert_eq!(window_of("Exhausted concurrent requests quota."), Window::Concurrent);
    }

    #[test]
    fn nearly_spent_quotas_are_noticed() {
        let quota = |day: (i64, i64), hour: (i64, i64)| PropertyQuota {
            tokens_per_day: Some(QuotaStatus { consumed: day.0, remaining: day.1 }),
            tokens_per_hour: Some(QuotaStatus { consumed: hour.0, remaining: hour.1 }),
        };
        assert_eq!(exhausted(&quota((10, 199_990), (10, 39_990))), None);
        assert_eq!(exhausted(&quota((10, 199_990), (39_950, 50))), Some(Window::Hour));
        assert_eq!(exhausted(&quota((39_500, 500), (0, 40_000))), Some(Window::Day));
        assert_eq!(exhausted(&quota((196_500, 3_500), (10, 39_990))), Some(Window::Day));
        assert_eq!(exhausted(&PropertyQuota::default()), None);
    }

    #[test]
    fn cursors_round_trip() {
        let day = NaiveDate::from_ymd_opt(2024, 5, 1);
        for cursor in [
            Cursor::default(),
            Cursor { through: day, window: None },
            Cursor { through: None, window: Some(("89daysAgo".into(), 2, day)) },
        ] {
            assert_eq!(Cursor::read(Some(&cursor.write())), cursor);
        }
    }
}

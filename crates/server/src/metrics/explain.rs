//! "Show the records behind this number": the source records (a charge, an order,
//! a refund…) whose metric events add up to a query's total, each with its amount.
//!
//! The widget's number comes from the daily rollups; this reads the events those
//! rollups are built from, over the same stores, window (in the store's zone, up to
//! now for a window ending today) and filters, so the records' amounts add up to the
//! number shown. Only metrics that add up over a period can be explained this way:
//! a stock (MRR: a level, not a sum) or a ratio (conversion rate) has no such list.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use pulseboard_connectors::{MetricKind, Registry};
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    buckets::{bucket_of, local_instant},
    engine::{prepare, Prepared},
    query::{AggregationName, Granularity, Scope, Validated},
    reads,
    window::Window,
};
use crate::error::{ApiError, ApiResult};

/// At most this many records are listed (the total still covers them all).
pub const MAX_RECORDS: i64 = 1000;

/// One source record and what it adds to the number.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExplainedRecord {
    /// The provider (`stripe`, `shopify`).
    pub provider: String,
    /// `charge`, `order`, `refund`, …
    pub object_type: String,
    /// The provider's id of the object.
    pub external_id: String,
    /// Its share of the number (minor units for money; refunds are negative in net
    /// revenue).
    pub amount: i64,
    /// When it counts (its first event in the window).
    pub occurred_at: DateTime<Utc>,
    /// The object in the provider's dashboard, where Pulseboard knows the address.
    pub url: Option<String>,
}

/// The records behind a number.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Explanation {
    pub metric: String,
    pub name: String,
    /// `currency_minor` or `count`.
    pub unit: String,
    pub currency: Option<String>,
    pub range: Window,
    /// The chart point explained (its bucket, as the query's series names it), when
    /// one was asked for; the records are then that point's only.
    pub bucket: Option<String>,
    /// The sum of every record's amount: the number the widget shows.
    pub total: i64,
    /// How many records add up to it.
    pub record_count: i64,
    /// The records with the largest amounts first, at most 1,000.
    pub records: Vec<ExplainedRecord>,
    /// Whether records were left out of `records` (the total still counts them).
    pub truncated: bool,
}

/// Provider, source record, amount, first event, total of all, records in all, integration.
type Row = (String, String, i64, DateTime<Utc>, i64, i64, Uuid);

const SQL: &str = "
SELECT e.source, e.source_record_id, sum(e.metric_value)::bigint AS amount, min(e.recorded_at),
       (sum(sum(e.metric_value)) OVER ())::bigint, count(*) OVER (), min(e.integration_id::text)::uuid
FROM metric_events e
WHERE e.store_id = ANY($1) AND e.source = $2 AND e.metric_name = $3
  AND e.recorded_at >= $4 AND e.recorded_at < $5
  AND NOT EXISTS (SELECT 1 FROM jsonb_to_recordset($6::jsonb) AS f(dim text, vals text[])
                  WHERE NOT coalesce(e.dimensions->>f.dim = ANY(f.vals), false))
GROUP BY e.source, e.source_record_id
HAVING sum(e.metric_value) <> 0
ORDER BY abs(sum(e.metric_value)) DESC, e.source_record_id
LIMIT $7";

/// The instants a chart point covers, and its days: one bucket of the query's
/// series (`2026-11-02` for a day, a week's Monday or a month's first day, clipped to
/// the window as the series clips it; `2026-11-02T14:00` for an hour).
fn point_bounds(
    p: &Prepared<'_>,
    bucket: &str,
) -> ApiResult<(DateTime<Utc>, DateTime<Utc>, Window)> {
    let tz = p.src.tz;
    let window = p.window;
    let outside = || {
        ApiError::validation(
            "bucket",
            format!(
                "{bucket} is not a point of this chart's series ({} to {}, by {})",
                window.from,
                window.to,
                format!("{:?}", p.granularity).to_lowercase()
            ),
        )
    };
    let window_end = |w: &Window| match w.until {
        Some(until) if w.to == window.to => local_instant(tz, w.to, until),
        _ => local_instant(tz, w.to + Duration::days(1), NaiveTime::MIN),
    };
    if p.granularity == Granularity::Hour {
        let hour =
            NaiveDateTime::parse_from_str(bucket, "%Y-%m-%dT%H:%M").map_err(|_| outside())?;
        let day = hour.date();
        if day < window.from || day > window.to || hour.time().format("%M").to_string() != "00" {
            return Err(outside());
        }
        let start = local_instant(tz, day, hour.time());
        let end = (start + Duration::hours(1)).min(window_end(&window));
        let days = Window {
            from: day,
            to: day,
            until: None,
        };
        return Ok((start, end, days));
    }
    let first = NaiveDate::parse_from_str(bucket, "%Y-%m-%d").map_err(|_| outside())?;
    if first < window.from || first > window.to || bucket_of(first, p.granularity, &window) != first
    {
        return Err(outside());
    }
    let natural_last = match p.granularity {
        Granularity::Week => {
            first + Duration::days(6 - i64::from(first.weekday().num_days_from_monday()))
        }
        Granularity::Month => {
            let next = if first.month() == 12 {
                NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
            };
            next.expect("a valid month") - Duration::days(1)
        }
        _ => first,
    };
    let days = Window {
        from: first,
        to: natural_last.min(window.to),
        until: if natural_last >= window.to {
            window.until
        } else {
            None
        },
    };
    Ok((
        local_instant(tz, first, NaiveTime::MIN),
        window_end(&days),
        days,
    ))
}

/// Lists the records behind a query's total, or behind one point of its series
/// (`bucket`).
pub async fn explain(
    conn: &mut PgConnection,
    org_id: Uuid,
    q: &Validated,
    providers: &Registry,
    now: DateTime<Utc>,
    bucket: Option<&str>,
) -> ApiResult<Explanation> {
    if q.ratio.is_some()
        || q.spec.kind == MetricKind::Stock
        || q.aggregation != AggregationName::Sum
    {
        return Err(ApiError::validation(
            "metric",
            format!(
                "{} is {}: only numbers that add up over a period (revenue, orders, refunds) \
                 are made of records to list",
                q.config.metric,
                if q.ratio.is_some() {
                    "a ratio of two metrics"
                } else if q.spec.kind == MetricKind::Stock {
                    "a level at a point in time"
                } else {
                    "not a sum"
                }
            ),
        ));
    }
    let (store_ids, workspace_ids) = match &q.config.scope {
        Scope::Store(id) => (vec![*id], vec![]),
        Scope::Stores(ids) => (ids.clone(), vec![]),
        Scope::Workspace(id) => (vec![], vec![*id]),
    };
    let stores = reads::stores(&mut *conn, org_id, &store_ids, &workspace_ids).await?;
    let refs: Vec<&reads::StoreRow> = stores
        .iter()
        .filter(|s| match &q.config.scope {
            Scope::Workspace(id) => s.workspace_id == *id,
            _ => true,
        })
        .collect();
    let prepared = prepare(q, &refs, now)?;
    let (start, end, window) = match bucket {
        Some(bucket) => point_bounds(&prepared, bucket)?,
        None => {
            let window = prepared.window;
            let tz = prepared.src.tz;
            let end = match window.until {
                Some(until) => local_instant(tz, window.to, until),
                None => local_instant(tz, window.to + Duration::days(1), NaiveTime::MIN),
            };
            (local_instant(tz, window.from, NaiveTime::MIN), end, window)
        }
    };
    let rows: Vec<Row> = sqlx::query_as(SQL)
        .bind(&prepared.src.stores)
        .bind(&q.source)
        .bind(q.spec.id)
        .bind(start)
        .bind(end)
        .bind(&prepared.src.filters)
        .bind(MAX_RECORDS)
        .fetch_all(&mut *conn)
        .await?;
    let (total, record_count) = rows.first().map(|r| (r.4, r.5)).unwrap_or((0, 0));
    let accounts = reads::integration_accounts(&mut *conn, &prepared.src.stores).await?;
    let records = rows
        .into_iter()
        .map(
            |(provider, source_record_id, amount, occurred_at, _, _, integration)| {
                let (object_type, external_id) = source_record_id
                    .split_once('/')
                    .map(|(t, i)| (t.to_owned(), i.to_owned()))
                    .unwrap_or_else(|| (String::new(), source_record_id.clone()));
                let url = accounts.get(&integration).and_then(|account| {
                    providers
                        .get(&provider)?
                        .record_url(account, &object_type, &external_id)
                });
                ExplainedRecord {
                    provider,
                    object_type,
                    external_id,
                    amount,
                    occurred_at,
                    url,
                }
            },
        )
        .collect::<Vec<_>>();
    Ok(Explanation {
        metric: q.config.metric.clone(),
        name: q.spec.name.to_owned(),
        unit: serde_json::to_value(q.spec.unit)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        currency: prepared.currency.clone(),
        range: window,
        bucket: bucket.map(str::to_owned),
        truncated: record_count > records.len() as i64,
        total,
        record_count,
        records,
    })
}

/// An explanation as CSV: a header, one row per record, and the total.
pub fn to_csv(e: &Explanation) -> String {
    let mut out = String::from("provider,object_type,external_id,occurred_at,amount,url\n");
    let field = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    for r in &e.records {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            field(&r.provider),
            field(&r.object_type),
            field(&r.external_id),
            r.occurred_at.to_rfc3339(),
            r.amount,
            field(r.url.as_deref().unwrap_or_default()),
        ));
    }
    out.push_str(&format!("total,,,,{},\n", e.total));
    out
}

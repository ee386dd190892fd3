//! Answering a validated query from the daily rollups (and the raw events only for a
//! partial last day or hourly buckets). Every SQL statement here is fixed text with
//! bound parameters; the query decides only the values bound.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use pulseboard_connectors::{MetricKind, MetricUnit};
use serde::Serialize;
use serde_json::json;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    query::{AggregationName, Granularity, RangeSpec, Scope, Validated},
    window::{comparison, resolve, Window},
};
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Point {
    /// The bucket's first day (`2026-11-02`), or its hour (`2026-11-02T14:00`).
    pub bucket: String,
    /// `null` for a ratio whose denominator is zero.
    pub value: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Group {
    pub key: String,
    pub total: Option<i64>,
    pub series: Vec<Point>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Period {
    pub range: Window,
    pub total: Option<i64>,
    pub series: Vec<Point>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Freshness {
    pub integration_id: Uuid,
    pub provider: String,
    pub account_label: String,
    pub status: String,
    pub last_synced_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueryResult {
    pub metric: String,
    pub name: String,
    /// `currency_minor`, `count` or `percent`.
    pub unit: String,
    /// ISO code for money metrics.
    pub currency: Option<String>,
    pub aggregation: AggregationName,
    pub granularity: Granularity,
    pub timezone: String,
    pub range: Window,
    pub total: Option<i64>,
    pub series: Vec<Point>,
    /// With `group_by`: one entry per value, largest total first.
    pub groups: Vec<Group>,
    pub previous: Option<Period>,
    pub delta: Option<i64>,
    /// Relative change in percent; `null` when the previous total is zero.
    pub delta_pct: Option<f64>,
    pub freshness: Vec<Freshness>,
}

#[derive(sqlx::FromRow)]
struct StoreRow {
    id: Uuid,
    currency: String,
    timezone: String,
}

/// Day → group → (sum, count).
type Daily = BTreeMap<NaiveDate, BTreeMap<String, (i64, i64)>>;

/// Filters as bound JSON: `[{"dim": "country", "vals": ["US", "CA"]}]`.
const FILTERS_SQL: &str =
    "NOT EXISTS (SELECT 1 FROM jsonb_to_recordset($7::jsonb) AS f(dim text, vals text[])
                     WHERE NOT coalesce(dimensions->>f.dim = ANY(f.vals), false))";

struct Source<'a> {
    stores: &'a [Uuid],
    source: &'a str,
    filters: &'a serde_json::Value,
    group_by: Option<&'a str>,
    tz: Tz,
}

impl Source<'_> {
    async fn daily(
        &self,
        conn: &mut PgConnection,
        metric: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> sqlx::Result<Daily> {
        let rows: Vec<(NaiveDate, Option<String>, i64, i64)> = sqlx::query_as(&format!(
            "SELECT day, CASE WHEN $6::text IS NULL THEN NULL ELSE dimensions->>$6 END AS grp,
                    sum(value_sum)::bigint, sum(event_count)::bigint
             FROM metric_rollups_daily
             WHERE store_id = ANY($1) AND source = $2 AND metric_name = $3 AND day >= $4 AND day <= $5 AND {FILTERS_SQL}
             GROUP BY day, grp"
        ))
        .bind(self.stores)
        .bind(self.source)
        .bind(metric)
        .bind(from)
        .bind(to)
        .bind(self.group_by)
        .bind(self.filters)
        .fetch_all(conn)
        .await?;
        let mut daily = Daily::new();
        for (day, group, sum, count) in rows {
            daily
                .entry(day)
                .or_default()
                .insert(group.unwrap_or_default(), (sum, count));
        }
        Ok(daily)
    }

    /// The level of a stock before `day` (the sum of all earlier changes), per group.
    async fn opening(
        &self,
        conn: &mut PgConnection,
        metric: &str,
        day: NaiveDate,
    ) -> sqlx::Result<BTreeMap<String, i64>> {
        let rows: Vec<(Option<String>, i64)> = sqlx::query_as(&format!(
            "SELECT CASE WHEN $6::text IS NULL THEN NULL ELSE dimensions->>$6 END AS grp, sum(value_sum)::bigint
             FROM metric_rollups_daily
             WHERE store_id = ANY($1) AND source = $2 AND metric_name = $3 AND day < $4 AND $5::date IS NOT NULL AND {FILTERS_SQL}
             GROUP BY grp"
        ))
        .bind(self.stores)
        .bind(self.source)
        .bind(metric)
        .bind(day)
        .bind(day)
        .bind(self.group_by)
        .bind(self.filters)
        .fetch_all(conn)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(g, v)| (g.unwrap_or_default(), v))
            .collect())
    }

    /// Raw events in `[from, to)`, bucketed by local hour (or as one bucket per day).
    async fn raw(
        &self,
        conn: &mut PgConnection,
        metric: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        hourly: bool,
    ) -> sqlx::Result<Vec<(NaiveDateTime, String, i64, i64)>> {
        let rows: Vec<(NaiveDateTime, Option<String>, i64, i64)> = sqlx::query_as(&format!(
            "SELECT date_trunc(CASE WHEN $9 THEN 'hour' ELSE 'day' END, recorded_at AT TIME ZONE $8) AS bucket,
                    CASE WHEN $6::text IS NULL THEN NULL ELSE dimensions->>$6 END AS grp,
                    sum(metric_value)::bigint, count(*)
             FROM metric_events
             WHERE store_id = ANY($1) AND source = $2 AND metric_name = $3 AND recorded_at >= $4 AND recorded_at < $5
               AND {FILTERS_SQL}
             GROUP BY bucket, grp"
        ))
        .bind(self.stores)
        .bind(self.source)
        .bind(metric)
        .bind(from)
        .bind(to)
        .bind(self.group_by)
        .bind(self.filters)
        .bind(self.tz.name())
        .bind(hourly)
        .fetch_all(conn)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(b, g, s, c)| (b, g.unwrap_or_default(), s, c))
            .collect())
    }
}

fn local_instant(tz: Tz, day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = day.and_time(time);
    tz.from_local_datetime(&local)
        .earliest()
        // A time skipped by a DST jump: an hour later exists.
        .or_else(|| {
            tz.from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        })
        .expect("a local time exists within an hour")
        .with_timezone(&Utc)
}

/// Per-day values of one metric over a window, partial last day from raw events.
/// Stocks come back as daily changes with the opening level separately.
async fn window_daily(
    conn: &mut PgConnection,
    src: &Source<'_>,
    metric: &str,
    window: &Window,
) -> sqlx::Result<Daily> {
    let mut daily = src.daily(conn, metric, window.from, window.to).await?;
    if let Some(until) = window.until {
        let start = local_instant(src.tz, window.to, NaiveTime::MIN);
        let end = local_instant(src.tz, window.to, until);
        let mut partial: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for (_, group, sum, count) in src.raw(conn, metric, start, end, false).await? {
            let slot = partial.entry(group).or_default();
            slot.0 += sum;
            slot.1 += count;
        }
        daily.insert(window.to, partial);
    }
    Ok(daily)
}

/// The bucket a day falls in.
fn bucket_of(day: NaiveDate, granularity: Granularity, window: &Window) -> NaiveDate {
    let start = match granularity {
        Granularity::Week => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
        Granularity::Month => day.with_day(1).expect("first"),
        _ => day,
    };
    start.max(window.from)
}

/// Combines values of a bucket (or the whole window) by the aggregation.
fn combine(aggregation: AggregationName, stock: bool, days: &[(i64, i64)]) -> Option<i64> {
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

/// One metric's per-day (value, count) for a window, per group: flows as daily sums,
/// stocks as the level at the end of each day.
async fn per_day(
    conn: &mut PgConnection,
    src: &Source<'_>,
    metric: &str,
    kind: MetricKind,
    window: &Window,
) -> sqlx::Result<BTreeMap<String, Vec<(NaiveDate, (i64, i64))>>> {
    let daily = window_daily(conn, src, metric, window).await?;
    let mut groups: Vec<String> = daily.values().flat_map(|g| g.keys().cloned()).collect();
    let opening = if kind == MetricKind::Stock {
        let opening = src.opening(conn, metric, window.from).await?;
        groups.extend(opening.keys().cloned());
        opening
    } else {
        BTreeMap::new()
    };
    groups.sort();
    groups.dedup();
    if src.group_by.is_none() && groups.is_empty() {
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
    Ok(out)
}

struct Computed {
    total: Option<i64>,
    series: Vec<Point>,
}

fn bucketize(
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

fn ratio(numerator: Option<i64>, denominator: Option<i64>) -> Option<i64> {
    match (numerator, denominator) {
        (Some(n), Some(d)) if d != 0 => {
            let (n, d) = (i128::from(n), i128::from(d));
            Some(((2 * n.abs() + d.abs()) / (2 * d.abs()) * (n.signum() * d.signum())) as i64)
        }
        _ => None,
    }
}

/// Computes one period: overall and per group.
async fn period(
    conn: &mut PgConnection,
    src: &Source<'_>,
    q: &Validated,
    granularity: Granularity,
    window: &Window,
) -> sqlx::Result<(Computed, Vec<Group>)> {
    let stock = q.spec.kind == MetricKind::Stock;
    let compute = |series: &BTreeMap<String, Vec<(NaiveDate, (i64, i64))>>, aggregation| {
        let mut merged: BTreeMap<NaiveDate, (i64, i64)> = BTreeMap::new();
        for days in series.values() {
            for (day, (v, c)) in days {
                let slot = merged.entry(*day).or_default();
                slot.0 += v;
                slot.1 += c;
            }
        }
        let merged: Vec<_> = merged.into_iter().collect();
        let overall = bucketize(&merged, aggregation, stock, granularity, window);
        let groups: Vec<(String, Computed)> = series
            .iter()
            .map(|(key, days)| {
                (
                    key.clone(),
                    bucketize(days, aggregation, stock, granularity, window),
                )
            })
            .collect();
        (overall, groups)
    };
    match q.spec.ratio_of {
        None => {
            let series = per_day(conn, src, q.spec.id, q.spec.kind, window).await?;
            let (overall, groups) = compute(&series, q.aggregation);
            Ok((overall, to_groups(groups, src.group_by.is_some())))
        }
        Some(r) => {
            // A ratio divides its parts aggregated the natural way (flows summed,
            // stocks at their level), bucket by bucket.
            let part = |stock: bool| {
                if stock {
                    AggregationName::Latest
                } else {
                    AggregationName::Sum
                }
            };
            let kind = q.spec.kind;
            let num = per_day(conn, src, r.numerator, kind, window).await?;
            let den = per_day(conn, src, r.denominator, kind, window).await?;
            let (num_all, num_groups) = compute(&num, part(stock));
            let (den_all, den_groups) = compute(&den, part(stock));
            let divide = |n: &Computed, d: &Computed| Computed {
                total: ratio(n.total, d.total),
                series: n
                    .series
                    .iter()
                    .zip(&d.series)
                    .map(|(a, b)| Point {
                        bucket: a.bucket.clone(),
                        value: ratio(a.value, b.value),
                    })
                    .collect(),
            };
            let overall = divide(&num_all, &den_all);
            let den_by_key: BTreeMap<&String, &Computed> =
                den_groups.iter().map(|(k, c)| (k, c)).collect();
            let groups = num_groups
                .iter()
                .filter_map(|(k, n)| den_by_key.get(k).map(|d| (k.clone(), divide(n, d))))
                .collect();
            Ok((overall, to_groups(groups, src.group_by.is_some())))
        }
    }
}

fn to_groups(groups: Vec<(String, Computed)>, grouped: bool) -> Vec<Group> {
    if !grouped {
        return vec![];
    }
    let mut out: Vec<Group> = groups
        .into_iter()
        .map(|(key, c)| Group {
            key: if key.is_empty() { "(none)".into() } else { key },
            total: c.total,
            series: c.series,
        })
        .collect();
    out.sort_by(|a, b| b.total.cmp(&a.total).then(a.key.cmp(&b.key)));
    out
}

/// Runs a validated query as the requesting user (RLS applies to every read).
pub async fn run(
    conn: &mut PgConnection,
    org_id: Uuid,
    q: &Validated,
    now: DateTime<Utc>,
) -> ApiResult<QueryResult> {
    let (ids, workspace): (Vec<Uuid>, Option<Uuid>) = match &q.config.scope {
        Scope::Store(id) => (vec![*id], None),
        Scope::Stores(ids) => (ids.clone(), None),
        Scope::Workspace(id) => (vec![], Some(*id)),
    };
    let stores: Vec<StoreRow> = sqlx::query_as(
        "SELECT id, currency, timezone FROM stores
         WHERE org_id = $1 AND (id = ANY($2) OR workspace_id = $3) ORDER BY created_at",
    )
    .bind(org_id)
    .bind(&ids)
    .bind(workspace)
    .fetch_all(&mut *conn)
    .await?;
    let expected = match &q.config.scope {
        Scope::Stores(ids) => ids.len(),
        _ => 1,
    };
    // Every named store must be visible: one of another org (or hidden by RLS) fails all.
    if stores.is_empty() || stores.len() < expected {
        return Err(ApiError::NotFound("store"));
    }
    // Days and "now" are those of the first store's zone (a multi-store scope shares them).
    let tz: Tz = stores[0].timezone.parse().unwrap_or(Tz::UTC);
    let store_ids: Vec<Uuid> = stores.iter().map(|s| s.id).collect();

    let mut filters: Vec<serde_json::Value> = q
        .config
        .filters
        .iter()
        .map(|f| json!({ "dim": f.dimension, "vals": f.values }))
        .collect();
    let money = q.spec.unit == MetricUnit::CurrencyMinor;
    let mut currency = None;
    if money {
        let chosen = q.config.filters.iter().find(|f| f.dimension == "currency");
        match chosen {
            Some(f) if f.values.len() == 1 => currency = Some(f.values[0].to_uppercase()),
            Some(_) => {
                return Err(ApiError::validation(
                    "filters",
                    "money can only be added up in one currency: filter on a single currency",
                ))
            }
            None => {
                let first = &stores[0].currency;
                if stores.iter().any(|s| &s.currency != first) {
                    return Err(ApiError::validation(
                        "scope",
                        "these stores use different currencies: add a currency filter to add them up",
                    ));
                }
                currency = Some(first.clone());
                // Ratios' denominators (orders, subscriptions) carry no currency of their own.
                if q.spec.ratio_of.is_none() {
                    filters.push(json!({ "dim": "currency", "vals": [first] }));
                }
            }
        }
    }
    let filters = serde_json::Value::Array(filters);

    let local_now = now.with_timezone(&tz);
    let today = local_now.date_naive();
    let (preset, window) = match &q.config.range {
        RangeSpec::Preset(p) => (Some(*p), resolve(*p, today, local_now.time())),
        RangeSpec::Custom { custom } => {
            if custom.from > today {
                return Err(ApiError::validation(
                    "range.custom.from",
                    "is in the future",
                ));
            }
            let to = custom.to.min(today);
            let until = (to == today).then(|| local_now.time());
            (
                None,
                Window {
                    from: custom.from,
                    to,
                    until,
                },
            )
        }
    };
    let granularity = match q.config.granularity {
        Granularity::Auto => match window.days() {
            0..=2 => Granularity::Hour,
            3..=92 => Granularity::Day,
            93..=366 => Granularity::Week,
            _ => Granularity::Month,
        },
        g => g,
    };
    if granularity == Granularity::Hour && window.days() > 7 {
        return Err(ApiError::validation(
            "granularity",
            "hourly buckets are available for ranges of up to 7 days",
        ));
    }
    let src = Source {
        stores: &store_ids,
        source: &q.source,
        filters: &filters,
        group_by: q.config.group_by.as_deref(),
        tz,
    };
    let (current, groups) = if granularity == Granularity::Hour {
        hourly(conn, &src, q, &window).await?
    } else {
        period(conn, &src, q, granularity, &window).await?
    };
    let previous = match comparison(preset, &window, q.config.compare_to) {
        Some(prev) => {
            let (c, _) = if granularity == Granularity::Hour {
                hourly(conn, &src, q, &prev).await?
            } else {
                period(conn, &src, q, granularity, &prev).await?
            };
            Some(Period {
                range: prev,
                total: c.total,
                series: c.series,
            })
        }
        None => None,
    };
    let (delta, delta_pct) = match (current.total, previous.as_ref().and_then(|p| p.total)) {
        (Some(now), Some(before)) => (
            Some(now - before),
            (before != 0)
                .then(|| ((now - before) as f64 / before.abs() as f64 * 1000.0).round() / 10.0),
        ),
        _ => (None, None),
    };
    let freshness: Vec<Freshness> = sqlx::query_as::<_, (Uuid, String, String, String, Option<DateTime<Utc>>)>(
        "SELECT id, provider, account_label, status, last_synced_at FROM integrations
         WHERE org_id = $1 AND store_id = ANY($2) AND provider = $3 AND status <> 'disconnected' ORDER BY created_at",
    )
    .bind(org_id)
    .bind(&store_ids)
    .bind(&q.source)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|(integration_id, provider, account_label, status, last_synced_at)| Freshness {
        integration_id,
        provider,
        account_label,
        status,
        last_synced_at,
    })
    .collect();
    Ok(QueryResult {
        metric: q.config.metric.clone(),
        name: q.spec.name.to_owned(),
        unit: serde_json::to_value(q.spec.unit)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        currency,
        aggregation: q.aggregation,
        granularity,
        timezone: tz.name().to_owned(),
        range: window,
        total: current.total,
        series: current.series,
        groups,
        previous,
        delta,
        delta_pct,
        freshness,
    })
}

/// Hourly buckets from the raw events (flows; a stock's hourly level starts from its
/// opening level).
async fn hourly(
    conn: &mut PgConnection,
    src: &Source<'_>,
    q: &Validated,
    window: &Window,
) -> sqlx::Result<(Computed, Vec<Group>)> {
    if q.spec.ratio_of.is_some() {
        // Ratios by the hour are rarely meaningful; answer by day.
        return period(conn, src, q, Granularity::Day, window).await;
    }
    let start = local_instant(src.tz, window.from, NaiveTime::MIN);
    let end = match window.until {
        Some(until) => local_instant(src.tz, window.to, until),
        None => local_instant(src.tz, window.to + Duration::days(1), NaiveTime::MIN),
    };
    let rows = src.raw(conn, q.spec.id, start, end, true).await?;
    let stock = q.spec.kind == MetricKind::Stock;
    let opening = if stock {
        src.opening(conn, q.spec.id, window.from).await?
    } else {
        BTreeMap::new()
    };
    let mut by_hour: BTreeMap<NaiveDateTime, (i64, i64)> = BTreeMap::new();
    for (hour, _, sum, count) in rows {
        let slot = by_hour.entry(hour).or_default();
        slot.0 += sum;
        slot.1 += count;
    }
    let mut level: i64 = opening.values().sum();
    let mut hour = window.from.and_time(NaiveTime::MIN);
    let last = end.with_timezone(&src.tz).naive_local();
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
    Ok((
        Computed {
            total: combine(q.aggregation, stock, &values),
            series,
        },
        vec![],
    ))
}

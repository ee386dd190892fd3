//! Answering a validated query from the daily rollups (and the raw events only for a
//! partial last day or hourly buckets). Every SQL statement here is fixed text with
//! bound parameters; the query decides only the values bound.

use std::collections::{BTreeMap, HashMap};

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
    /// The value's readable name where a sync gave one (a product's title for its id).
    pub label: Option<String>,
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
    /// The dimension the groups are values of, when the query has `group_by`.
    pub group_by: Option<String>,
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
    workspace_id: Uuid,
}

/// Day → group → (sum, count).
type Daily = BTreeMap<NaiveDate, BTreeMap<String, (i64, i64)>>;

/// One read the engine needs: rows of the rollups or of the raw events for a scope,
/// source, metric, group-by and filters. A query (or a whole dashboard) is computed
/// twice: the first pass only records its reads, which then run as one batched
/// statement per table; the second pass computes from the answers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ReadKey {
    stores: Vec<Uuid>,
    source: String,
    metric: String,
    group_by: Option<String>,
    /// Bound JSON: `[{"dim": "country", "vals": ["US", "CA"]}]`.
    filters: String,
    kind: ReadKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ReadKind {
    /// Rollup days in `[from, to]`, per day and group.
    Days { from: NaiveDate, to: NaiveDate },
    /// The sum of every rollup day before `before`, per group (a stock's opening level).
    Opening { before: NaiveDate },
    /// Raw events in `[from, to)`, per local hour or day and group.
    Raw {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        hourly: bool,
        tz: String,
    },
}

/// Rows of one read: (day or local hour, or none for an opening level; group; sum; count).
type Rows = Vec<(Option<NaiveDateTime>, String, i64, i64)>;

/// The engine's reads: recorded in the planning pass, answered in the computing pass.
enum Reads {
    Planning(Vec<ReadKey>),
    Answered(HashMap<ReadKey, Rows>),
}

impl Reads {
    fn get(&mut self, key: ReadKey) -> Rows {
        match self {
            Reads::Planning(keys) => {
                keys.push(key);
                Rows::new()
            }
            Reads::Answered(answers) => answers.get(&key).cloned().unwrap_or_default(),
        }
    }
}

/// Rollup reads (days and opening levels) in one statement, one request row per read.
const ROLLUPS_SQL: &str = "
SELECT r.i, CASE WHEN r.collapse THEN NULL ELSE m.day END AS day,
       CASE WHEN r.grp IS NULL THEN NULL ELSE m.dimensions->>r.grp END AS g,
       sum(m.value_sum)::bigint, sum(m.event_count)::bigint
FROM jsonb_to_recordset($1::jsonb)
       AS r(i int, stores uuid[], source text, metric text, lo date, hi date, grp text, filters jsonb, collapse bool)
CROSS JOIN LATERAL (
    SELECT x.day, x.dimensions, x.value_sum, x.event_count FROM metric_rollups_daily x
    WHERE x.store_id = ANY(r.stores) AND x.source = r.source AND x.metric_name = r.metric
      AND x.day >= r.lo AND x.day <= r.hi
      AND NOT EXISTS (SELECT 1 FROM jsonb_to_recordset(r.filters) AS f(dim text, vals text[])
                      WHERE NOT coalesce(x.dimensions->>f.dim = ANY(f.vals), false))
    -- A fence: each request is its own index scan, never one hash join over the table.
    OFFSET 0) m
GROUP BY 1, 2, 3";

/// Raw-event reads (a partial last day, hourly buckets) in one statement.
const RAW_SQL: &str = "
SELECT r.i, date_trunc(CASE WHEN r.hourly THEN 'hour' ELSE 'day' END, e.recorded_at AT TIME ZONE r.tz) AS bucket,
       CASE WHEN r.grp IS NULL THEN NULL ELSE e.dimensions->>r.grp END AS g,
       sum(e.metric_value)::bigint, count(*)
FROM jsonb_to_recordset($1::jsonb)
       AS r(i int, stores uuid[], source text, metric text, lo timestamptz, hi timestamptz, grp text, filters jsonb, tz text, hourly bool)
CROSS JOIN LATERAL (
    SELECT x.recorded_at, x.dimensions, x.metric_value FROM metric_events x
    WHERE x.store_id = ANY(r.stores) AND x.source = r.source AND x.metric_name = r.metric
      AND x.recorded_at >= r.lo AND x.recorded_at < r.hi
      AND NOT EXISTS (SELECT 1 FROM jsonb_to_recordset(r.filters) AS f(dim text, vals text[])
                      WHERE NOT coalesce(x.dimensions->>f.dim = ANY(f.vals), false))
    OFFSET 0) e
GROUP BY 1, 2, 3";

/// Runs every recorded read in at most two statements (bound JSON, no SQL from input).
async fn answer_reads(
    conn: &mut PgConnection,
    keys: Vec<ReadKey>,
) -> sqlx::Result<HashMap<ReadKey, Rows>> {
    // A dashboard often asks for one read twice (a widget and a funnel step).
    let mut keys = keys;
    let mut seen = std::collections::HashSet::new();
    keys.retain(|k| seen.insert(k.clone()));
    let mut rollups = Vec::new();
    let mut raw = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let filters: serde_json::Value = serde_json::from_str(&key.filters).unwrap_or_default();
        let common = json!({
            "i": i, "stores": key.stores, "source": key.source, "metric": key.metric,
            "grp": key.group_by, "filters": filters,
        });
        let mut request = common.as_object().expect("object").clone();
        match &key.kind {
            ReadKind::Days { from, to } => {
                request.insert("lo".into(), json!(from));
                request.insert("hi".into(), json!(to));
                request.insert("collapse".into(), json!(false));
                rollups.push(serde_json::Value::Object(request));
            }
            ReadKind::Opening { before } => {
                // Plain comparisons only: under RLS a non-leakproof expression such as
                // coalesce() would be checked after the policy, row by row.
                request.insert("lo".into(), json!("-infinity"));
                request.insert("hi".into(), json!(*before - Duration::days(1)));
                request.insert("collapse".into(), json!(true));
                rollups.push(serde_json::Value::Object(request));
            }
            ReadKind::Raw {
                from,
                to,
                hourly,
                tz,
            } => {
                request.insert("lo".into(), json!(from));
                request.insert("hi".into(), json!(to));
                request.insert("tz".into(), json!(tz));
                request.insert("hourly".into(), json!(hourly));
                raw.push(serde_json::Value::Object(request));
            }
        }
    }
    let mut answers: Vec<Rows> = vec![Rows::new(); keys.len()];
    if !rollups.is_empty() {
        let rows: Vec<(i32, Option<NaiveDate>, Option<String>, i64, i64)> =
            sqlx::query_as(ROLLUPS_SQL)
                .bind(serde_json::Value::Array(rollups))
                .fetch_all(&mut *conn)
                .await?;
        for (i, day, group, sum, count) in rows {
            answers[i as usize].push((
                day.map(|d| d.and_time(NaiveTime::MIN)),
                group.unwrap_or_default(),
                sum,
                count,
            ));
        }
    }
    if !raw.is_empty() {
        let rows: Vec<(i32, NaiveDateTime, Option<String>, i64, i64)> = sqlx::query_as(RAW_SQL)
            .bind(serde_json::Value::Array(raw))
            .fetch_all(&mut *conn)
            .await?;
        for (i, bucket, group, sum, count) in rows {
            answers[i as usize].push((Some(bucket), group.unwrap_or_default(), sum, count));
        }
    }
    Ok(keys.into_iter().zip(answers).collect())
}

struct Source {
    stores: Vec<Uuid>,
    source: String,
    filters: String,
    group_by: Option<String>,
    tz: Tz,
}

impl Source {
    fn key(&self, metric: &str, kind: ReadKind) -> ReadKey {
        ReadKey {
            stores: self.stores.clone(),
            source: self.source.clone(),
            metric: metric.to_owned(),
            group_by: self.group_by.clone(),
            filters: self.filters.clone(),
            kind,
        }
    }

    fn daily(&self, reads: &mut Reads, metric: &str, from: NaiveDate, to: NaiveDate) -> Daily {
        let mut daily = Daily::new();
        for (day, group, sum, count) in reads.get(self.key(metric, ReadKind::Days { from, to })) {
            if let Some(day) = day {
                daily
                    .entry(day.date())
                    .or_default()
                    .insert(group, (sum, count));
            }
        }
        daily
    }

    /// The level of a stock before `day` (the sum of all earlier changes), per group.
    fn opening(&self, reads: &mut Reads, metric: &str, day: NaiveDate) -> BTreeMap<String, i64> {
        reads
            .get(self.key(metric, ReadKind::Opening { before: day }))
            .into_iter()
            .map(|(_, g, v, _)| (g, v))
            .collect()
    }

    /// Raw events in `[from, to)`, bucketed by local hour (or as one bucket per day).
    fn raw(
        &self,
        reads: &mut Reads,
        metric: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        hourly: bool,
    ) -> Vec<(NaiveDateTime, String, i64, i64)> {
        let kind = ReadKind::Raw {
            from,
            to,
            hourly,
            tz: self.tz.name().to_owned(),
        };
        reads
            .get(self.key(metric, kind))
            .into_iter()
            .filter_map(|(b, g, s, c)| b.map(|b| (b, g, s, c)))
            .collect()
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
fn window_daily(reads: &mut Reads, src: &Source, metric: &str, window: &Window) -> Daily {
    let mut daily = src.daily(reads, metric, window.from, window.to);
    if let Some(until) = window.until {
        let start = local_instant(src.tz, window.to, NaiveTime::MIN);
        let end = local_instant(src.tz, window.to, until);
        let mut partial: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for (_, group, sum, count) in src.raw(reads, metric, start, end, false) {
            let slot = partial.entry(group).or_default();
            slot.0 += sum;
            slot.1 += count;
        }
        daily.insert(window.to, partial);
    }
    daily
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
fn per_day(
    reads: &mut Reads,
    src: &Source,
    metric: &str,
    kind: MetricKind,
    window: &Window,
) -> BTreeMap<String, Vec<(NaiveDate, (i64, i64))>> {
    let daily = window_daily(reads, src, metric, window);
    let mut groups: Vec<String> = daily.values().flat_map(|g| g.keys().cloned()).collect();
    let opening = if kind == MetricKind::Stock {
        let opening = src.opening(reads, metric, window.from);
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
    out
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
fn period(
    reads: &mut Reads,
    src: &Source,
    q: &Validated,
    granularity: Granularity,
    window: &Window,
) -> (Computed, Vec<Group>) {
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
            let series = per_day(reads, src, q.spec.id, q.spec.kind, window);
            let (overall, groups) = compute(&series, q.aggregation);
            (overall, to_groups(groups, src.group_by.is_some()))
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
            let num = per_day(reads, src, r.numerator, kind, window);
            let den = per_day(reads, src, r.denominator, kind, window);
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
            (overall, to_groups(groups, src.group_by.is_some()))
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
            label: None,
            total: c.total,
            series: c.series,
        })
        .collect();
    out.sort_by(|a, b| b.total.cmp(&a.total).then(a.key.cmp(&b.key)));
    out
}

/// A query ready to compute: stores resolved, currency chosen, windows fixed.
struct Prepared<'q> {
    q: &'q Validated,
    src: Source,
    currency: Option<String>,
    granularity: Granularity,
    window: Window,
    previous: Option<Window>,
}

/// Resolves a query against its scope's stores (in creation order) and `now`.
fn prepare<'q>(
    q: &'q Validated,
    stores: &[&StoreRow],
    now: DateTime<Utc>,
) -> ApiResult<Prepared<'q>> {
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
    let previous = comparison(preset, &window, q.config.compare_to);
    Ok(Prepared {
        q,
        src: Source {
            stores: store_ids,
            source: q.source.clone(),
            filters: serde_json::Value::Array(filters).to_string(),
            group_by: q.config.group_by.clone(),
            tz,
        },
        currency,
        granularity,
        window,
        previous,
    })
}

/// Computes a prepared query from its reads (everything but freshness).
fn compute(p: &Prepared<'_>, reads: &mut Reads) -> QueryResult {
    let (q, src) = (p.q, &p.src);
    let one = |reads: &mut Reads, window: &Window| {
        if p.granularity == Granularity::Hour {
            hourly(reads, src, q, window)
        } else {
            period(reads, src, q, p.granularity, window)
        }
    };
    let (current, groups) = one(reads, &p.window);
    let previous = p.previous.map(|prev| {
        let (c, _) = one(reads, &prev);
        Period {
            range: prev,
            total: c.total,
            series: c.series,
        }
    });
    let (delta, delta_pct) = match (current.total, previous.as_ref().and_then(|p| p.total)) {
        (Some(now), Some(before)) => (
            Some(now - before),
            (before != 0)
                .then(|| ((now - before) as f64 / before.abs() as f64 * 1000.0).round() / 10.0),
        ),
        _ => (None, None),
    };
    QueryResult {
        metric: q.config.metric.clone(),
        name: q.spec.name.to_owned(),
        unit: serde_json::to_value(q.spec.unit)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        currency: p.currency.clone(),
        aggregation: q.aggregation,
        granularity: p.granularity,
        timezone: src.tz.name().to_owned(),
        range: p.window,
        total: current.total,
        series: current.series,
        group_by: src.group_by.clone(),
        groups,
        previous,
        delta,
        delta_pct,
        freshness: vec![],
    }
}

/// Runs a validated query as the requesting user (RLS applies to every read).
pub async fn run(
    conn: &mut PgConnection,
    org_id: Uuid,
    q: &Validated,
    now: DateTime<Utc>,
) -> ApiResult<QueryResult> {
    run_many(conn, org_id, &[q], now)
        .await?
        .pop()
        .expect("one result per query")
}

/// Runs several queries (a dashboard's) in four statements whatever their number:
/// their stores, their rollup reads, their raw-event reads and their freshness.
/// A query's own problem (an unknown store, a currency mix) is its own error; a
/// database error fails them all.
pub async fn run_many(
    conn: &mut PgConnection,
    org_id: Uuid,
    queries: &[&Validated],
    now: DateTime<Utc>,
) -> ApiResult<Vec<ApiResult<QueryResult>>> {
    let mut store_ids: Vec<Uuid> = Vec::new();
    let mut workspace_ids: Vec<Uuid> = Vec::new();
    for q in queries {
        match &q.config.scope {
            Scope::Store(id) => store_ids.push(*id),
            Scope::Stores(ids) => store_ids.extend(ids),
            Scope::Workspace(id) => workspace_ids.push(*id),
        }
    }
    let stores: Vec<StoreRow> = sqlx::query_as(
        "SELECT id, currency, timezone, workspace_id FROM stores
         WHERE org_id = $1 AND (id = ANY($2) OR workspace_id = ANY($3)) ORDER BY created_at",
    )
    .bind(org_id)
    .bind(&store_ids)
    .bind(&workspace_ids)
    .fetch_all(&mut *conn)
    .await?;
    let prepared: Vec<ApiResult<Prepared<'_>>> = queries
        .iter()
        .map(|q| {
            let of_scope: Vec<&StoreRow> = stores
                .iter()
                .filter(|s| match &q.config.scope {
                    Scope::Store(id) => s.id == *id,
                    Scope::Stores(ids) => ids.contains(&s.id),
                    Scope::Workspace(id) => s.workspace_id == *id,
                })
                .collect();
            prepare(q, &of_scope, now)
        })
        .collect();

    let mut planning = Reads::Planning(Vec::new());
    for p in prepared.iter().flatten() {
        compute(p, &mut planning);
    }
    let Reads::Planning(keys) = planning else {
        unreachable!("planning records")
    };
    let mut reads = Reads::Answered(answer_reads(conn, keys).await?);

    let used: Vec<Uuid> = prepared
        .iter()
        .flatten()
        .flat_map(|p| p.src.stores.iter().copied())
        .collect();
    let integrations: Vec<(Uuid, Uuid, String, String, String, Option<DateTime<Utc>>)> =
        sqlx::query_as(
            "SELECT store_id, id, provider, account_label, status, last_synced_at FROM integrations
         WHERE org_id = $1 AND store_id = ANY($2) AND status <> 'disconnected' ORDER BY created_at",
        )
        .bind(org_id)
        .bind(&used)
        .fetch_all(&mut *conn)
        .await?;

    let mut results: Vec<ApiResult<QueryResult>> = prepared
        .into_iter()
        .map(|p| {
            let p = p?;
            let mut result = compute(&p, &mut reads);
            result.freshness = integrations
                .iter()
                .filter(|(store, _, provider, ..)| {
                    p.src.stores.contains(store) && *provider == p.src.source
                })
                .map(|(_, id, provider, label, status, synced)| Freshness {
                    integration_id: *id,
                    provider: provider.clone(),
                    account_label: label.clone(),
                    status: status.clone(),
                    last_synced_at: *synced,
                })
                .collect();
            Ok(result)
        })
        .collect();
    label_groups(conn, &used, &mut results).await?;
    Ok(results)
}

/// Names the groups of grouped results from `dimension_labels`, in one statement.
async fn label_groups(
    conn: &mut PgConnection,
    stores: &[Uuid],
    results: &mut [ApiResult<QueryResult>],
) -> sqlx::Result<()> {
    let mut wanted: std::collections::BTreeSet<(String, String)> = Default::default();
    for result in results.iter().flatten() {
        if let Some(dimension) = &result.group_by {
            wanted.extend(
                result
                    .groups
                    .iter()
                    .map(|g| (dimension.clone(), g.key.clone())),
            );
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let (dimensions, values): (Vec<String>, Vec<String>) = wanted.into_iter().unzip();
    let labels: HashMap<(String, String), String> = sqlx::query_as(
        "SELECT DISTINCT ON (dimension, value) dimension, value, label FROM dimension_labels
         WHERE store_id = ANY($1) AND (dimension, value) IN (SELECT * FROM unnest($2::text[], $3::text[]))
         ORDER BY dimension, value, updated_at DESC",
    )
    .bind(stores)
    .bind(&dimensions)
    .bind(&values)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|(dimension, value, label)| ((dimension, value), label))
    .collect();
    for result in results.iter_mut().flatten() {
        let Some(dimension) = result.group_by.clone() else {
            continue;
        };
        for group in &mut result.groups {
            group.label = labels.get(&(dimension.clone(), group.key.clone())).cloned();
        }
    }
    Ok(())
}

/// Hourly buckets from the raw events (flows; a stock's hourly level starts from its
/// opening level).
fn hourly(
    reads: &mut Reads,
    src: &Source,
    q: &Validated,
    window: &Window,
) -> (Computed, Vec<Group>) {
    if q.spec.ratio_of.is_some() {
        // Ratios by the hour are rarely meaningful; answer by day.
        return period(reads, src, q, Granularity::Day, window);
    }
    let start = local_instant(src.tz, window.from, NaiveTime::MIN);
    let end = match window.until {
        Some(until) => local_instant(src.tz, window.to, until),
        None => local_instant(src.tz, window.to + Duration::days(1), NaiveTime::MIN),
    };
    let rows = src.raw(reads, q.spec.id, start, end, true);
    let stock = q.spec.kind == MetricKind::Stock;
    let opening = if stock {
        src.opening(reads, q.spec.id, window.from)
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
    (
        Computed {
            total: combine(q.aggregation, stock, &values),
            series,
        },
        vec![],
    )
}

//! Answering a validated query: its stores resolved and its windows fixed in their
//! zone ([`prepare`]), its reads planned and batched ([`super::reads`]), then its
//! numbers computed from the daily rollups (and the raw events only for a partial
//! last day or hourly buckets) with the arithmetic of [`super::buckets`].

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use pulseboard_connectors::{MetricKind, MetricUnit};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    buckets::{
        bucket_groups, change, divide, divide_groups, hours, levels, local_instant, merged, offset,
        opening_levels, scaled, times_days, to_groups, Computed, Daily, GroupDays,
    },
    computed::{AtStart, Part, DAYS_PER_MONTH},
    query::{AggregationName, Granularity, RangeSpec, Scope, Validated},
    reads::{self, answer_reads, Reads, Source, StoreRow},
    window::{comparison, days_before, resolve, Window},
};
use crate::error::{ApiError, ApiResult};

// The result types keep their old paths (`engine::QueryResult`, …) for callers.
pub use super::result::{Freshness, Group, Period, Point, QueryResult};

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

/// One metric's per-day (value, count) for a window, per group: flows as daily sums,
/// stocks as the level at the end of each day.
fn per_day(
    reads: &mut Reads,
    src: &Source,
    metric: &str,
    kind: MetricKind,
    window: &Window,
) -> GroupDays {
    let daily = window_daily(reads, src, metric, window);
    let opening = if kind == MetricKind::Stock {
        src.opening(reads, metric, window.from)
    } else {
        BTreeMap::new()
    };
    levels(&daily, &opening, kind, src.group_by.is_some(), window)
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
    let grouped = src.group_by.is_some();
    match &q.ratio {
        None => {
            let series = per_day(reads, src, q.spec.id, q.spec.kind, window);
            let (overall, groups) =
                bucket_groups(&series, q.aggregation, stock, granularity, window);
            (overall, to_groups(groups, grouped))
        }
        Some(r) => {
            // A ratio divides its parts aggregated the natural way (flows summed,
            // stocks at their level), bucket by bucket; each part is read from its
            // own source (conversion rate: Shopify orders over GA4 sessions).
            let part = if stock {
                AggregationName::Latest
            } else {
                AggregationName::Sum
            };
            let kind = q.spec.kind;
            let mut part_values = |p: Part, opening_level: bool| {
                let part_src = src.of(p.source);
                if opening_level {
                    // A stock at the start of each bucket (a churn rate's customers,
                    // LTV's MRR; computed metrics have no breakdowns: one group).
                    let opening: i64 = part_src
                        .opening(reads, p.metric, window.from)
                        .values()
                        .sum();
                    let days = per_day(reads, &part_src, p.metric, MetricKind::Stock, window);
                    let all = opening_levels(&merged(&days), opening, granularity, window);
                    (all.clone(), vec![(String::new(), all)])
                } else {
                    let days = per_day(reads, &part_src, p.metric, kind, window);
                    bucket_groups(&days, part, stock, granularity, window)
                }
            };
            let (mut num_all, mut num_groups) =
                part_values(r.numerator, r.at_start == AtStart::Numerator);
            let (mut den_all, mut den_groups) =
                part_values(r.denominator, r.at_start == AtStart::Denominator);
            if r.per_month {
                // Numerator × the bucket's days, denominator × 30: the denominator's
                // flow over the bucket becomes a monthly one.
                num_all = times_days(num_all, granularity, window);
                den_all = scaled(den_all, DAYS_PER_MONTH);
                for (_, c) in &mut num_groups {
                    *c = times_days(std::mem::take(c), granularity, window);
                }
                for (_, c) in &mut den_groups {
                    *c = scaled(std::mem::take(c), DAYS_PER_MONTH);
                }
            }
            let overall = offset(divide(&scaled(num_all, r.scale), &den_all), r.offset);
            let num_groups: Vec<_> = num_groups
                .into_iter()
                .map(|(k, c)| (k, scaled(c, r.scale)))
                .collect();
            let groups = divide_groups(&num_groups, &den_groups)
                .into_iter()
                .map(|(k, c)| (k, offset(c, r.offset)))
                .collect();
            (overall, to_groups(groups, grouped))
        }
    }
}

/// A query ready to compute: stores resolved, currency chosen, windows fixed.
pub(super) struct Prepared<'q> {
    q: &'q Validated,
    pub(super) src: Source,
    pub(super) currency: Option<String>,
    pub(super) granularity: Granularity,
    pub(super) window: Window,
    previous: Option<Window>,
}

/// Resolves a query against its scope's stores (in creation order) and `now`.
pub(super) fn prepare<'q>(
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
                if q.ratio.is_none() {
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
    let previous = match q.compare_days_ago {
        Some(days) => Some(days_before(&window, u64::from(days))),
        None => comparison(preset, &window, q.config.compare_to),
    };
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
    let (delta, delta_pct) = change(current.total, previous.as_ref().and_then(|p| p.total));
    QueryResult {
        metric: q.config.metric.clone(),
        name: q.spec.name.to_owned(),
        unit: serde_json::to_value(q.spec.unit)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        rise_is_bad: q.spec.rise_is_bad,
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
/// their stores, their rollup reads, their raw-event reads and their freshness (and
/// a fifth naming the groups of grouped ones).
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
    let stores = reads::stores(&mut *conn, org_id, &store_ids, &workspace_ids).await?;
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
    let integrations = reads::integrations(&mut *conn, org_id, &used).await?;

    let mut results: Vec<ApiResult<QueryResult>> = prepared
        .into_iter()
        .map(|p| {
            let p = p?;
            let mut result = compute(&p, &mut reads);
            result.freshness = integrations
                .iter()
                .filter(|i| {
                    p.src.stores.contains(&i.store_id)
                        && p.q.sources().contains(&i.provider.as_str())
                })
                .map(|i| Freshness {
                    integration_id: i.id,
                    provider: i.provider.clone(),
                    account_label: i.account_label.clone(),
                    status: i.status.clone(),
                    last_synced_at: i.last_synced_at,
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
    let labels = reads::labels(conn, stores, &dimensions, &values).await?;
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
    if q.ratio.is_some() || q.config.group_by.is_some() {
        // Ratios by the hour are rarely meaningful, and breakdowns come from the daily
        // rollups (hourly buckets carry no groups): answer by day.
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
    let first = window.from.and_time(NaiveTime::MIN);
    let last = end.with_timezone(&src.tz).naive_local();
    let opening = opening.values().sum();
    (
        hours(&by_hour, first, last, q.aggregation, stock, opening),
        vec![],
    )
}

//! Widget data: each widget's query answered by the metrics service, with a short-lived
//! cache whose key includes the organization's latest sync, so a dashboard loaded
//! after a sync never shows data from before it.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use pulseboard_connectors::Registry;
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    cro::{
        self, Combine, CroItems, CroQuery, ExperimentView, Heatmap, ItemQuery, ReviewView,
        Sentiment,
    },
    model::{parse_query, Widget, WidgetQuery},
};
use crate::{
    db,
    error::{ApiError, ApiResult},
    metrics::{
        engine::{self, QueryResult},
        query::{RangeSpec, Scope, Validated},
        window::CompareTo,
    },
};

/// One widget's data, or why there is none.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum WidgetData {
    Ok {
        widget_id: Uuid,
        /// Shared with the result cache: a cached dashboard load copies no series.
        #[schema(value_type = QueryResult)]
        result: Arc<QueryResult>,
    },
    Funnel {
        widget_id: Uuid,
        #[schema(value_type = Vec<QueryResult>)]
        steps: Vec<Arc<QueryResult>>,
    },
    /// The latest reviews (`review_feed`).
    Reviews {
        widget_id: Uuid,
        reviews: Vec<ReviewView>,
    },
    /// Experiments with each treatment against its control (`experiment_card`).
    Experiments {
        widget_id: Uuid,
        experiments: Vec<ExperimentView>,
    },
    /// Ratings, CSAT and text sentiment on one scale (`sentiment_gauge`).
    Sentiment {
        widget_id: Uuid,
        sentiment: Sentiment,
    },
    /// Clarity's frustration and scroll depth by page and device (`heatmap_summary`).
    Heatmap {
        widget_id: Uuid,
        heatmap: Heatmap,
    },
    /// The metric's provider is not connected for this scope: offer "Connect {provider}".
    NotConnected {
        widget_id: Uuid,
        provider: String,
    },
    /// The widget's provider is not supported yet ("arrives with Clarity").
    Unavailable {
        widget_id: Uuid,
        provider: String,
        message: String,
    },
    Error {
        widget_id: Uuid,
        message: String,
    },
}

/// Overrides a viewer may apply to every metric widget of a dashboard.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub range: Option<RangeSpec>,
    pub compare_to: Option<CompareTo>,
}

/// Cached results per (org, caller, query, org's data version). An entry lives as long
/// as its answer can: a window that runs until "now" (month to date, today) for a
/// minute; complete days (last 30 days, last month) until the store's next local
/// midnight. A finished sync changes the data version, so it is never served after one.
#[derive(Default)]
pub struct ResultCache {
    entries: Mutex<HashMap<String, (Instant, Arc<QueryResult>)>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// How long an answer over a window that includes "now" is reused.
const PARTIAL_TTL: Duration = Duration::from_secs(60);
const CACHE_MAX: usize = 2_000;

/// Until when a result stays true without a sync.
fn expiry(result: &QueryResult, now: DateTime<Utc>) -> Instant {
    let partial = result.range.until.is_some()
        || result
            .previous
            .as_ref()
            .is_some_and(|p| p.range.until.is_some());
    let tz: Tz = result.timezone.parse().unwrap_or(Tz::UTC);
    let local = now.with_timezone(&tz);
    let next_midnight = (local.date_naive() + chrono::Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .and_then(|m| tz.from_local_datetime(&m).earliest())
        .map_or(now, |m| m.with_timezone(&Utc));
    let whole_days = (next_midnight - now).to_std().unwrap_or_default();
    Instant::now()
        + if partial {
            PARTIAL_TTL.min(whole_days)
        } else {
            whole_days
        }
}

impl ResultCache {
    fn get(&self, key: &str) -> Option<Arc<QueryResult>> {
        let map = self.entries.lock().expect("cache lock");
        let hit = map
            .get(key)
            .filter(|(until, _)| Instant::now() < *until)
            .map(|(_, r)| Arc::clone(r));
        let counter = if hit.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        hit
    }

    /// Queries answered from the cache and queries computed, since start.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    fn put(&self, key: String, result: Arc<QueryResult>, now: DateTime<Utc>) {
        let until = expiry(&result, now);
        let mut map = self.entries.lock().expect("cache lock");
        if map.len() >= CACHE_MAX {
            let now = Instant::now();
            map.retain(|_, (until, _)| now < *until);
            if map.len() >= CACHE_MAX {
                map.clear();
            }
        }
        map.insert(key, (until, result));
    }
}

/// The version of an organization's data (`db::dashboards::data_version`): it moves
/// whenever a sync finishes, an integration connects, disconnects or changes status,
/// or a store's zone, currency or workspace changes.
pub(crate) async fn data_version(conn: &mut PgConnection, org_id: Uuid) -> sqlx::Result<String> {
    Ok(crate::db::dashboards::data_version(conn, org_id)
        .await?
        .unwrap_or_default())
}

fn cache_key(org_id: Uuid, viewer: &str, version: &str, query: &Validated) -> String {
    format!(
        "{org_id}|{viewer}|{version}|{}",
        serde_json::to_string(&query.config).expect("serialises")
    )
}

fn apply(mut query: Validated, overrides: &Overrides) -> Validated {
    if let Some(range) = &overrides.range {
        query.config.range = range.clone();
    }
    if let Some(compare) = overrides.compare_to {
        query.config.compare_to = compare;
    }
    query
}

/// What a widget needs: an answer already known, or the indexes of its queries.
enum Plan {
    Known(WidgetData),
    Metric(usize),
    Funnel(Vec<usize>),
    Items(ItemQuery),
    Parts(Combine, Vec<(&'static str, usize)>),
}

/// A query's own failure shown on its widget; anything else fails the whole load.
fn widget_error(widget_id: Uuid, error: ApiError) -> ApiResult<WidgetData> {
    match error {
        error @ (ApiError::NotFound(_) | ApiError::Validation { .. }) => Ok(WidgetData::Error {
            widget_id,
            message: error.to_string(),
        }),
        other => Err(other),
    }
}

/// Evaluates widgets in order. `viewer` keys the cache (a user id, or the share).
/// Every query the cache cannot answer runs in one batch (`engine::run_many`).
/// Returns the data with the org's data version it was computed at.
pub async fn evaluate(
    conn: &mut PgConnection,
    providers: &Registry,
    cache: &ResultCache,
    org_id: Uuid,
    viewer: &str,
    widgets: &[Widget],
    overrides: &Overrides,
) -> ApiResult<(Vec<WidgetData>, String)> {
    let version = data_version(conn, org_id).await?;
    let mut queries: Vec<Validated> = Vec::new();
    let mut push = |query: Validated| {
        queries.push(apply(query, overrides));
        queries.len() - 1
    };
    let plans: Vec<Plan> = widgets
        .iter()
        .map(
            |widget| match parse_query(&widget.kind, &widget.query_config, providers) {
                Err(error) => Plan::Known(WidgetData::Error {
                    widget_id: widget.id,
                    message: error.to_string(),
                }),
                Ok(WidgetQuery::Awaiting(provider)) => Plan::Known(WidgetData::Unavailable {
                    widget_id: widget.id,
                    provider: provider.to_owned(),
                    message: format!("This widget arrives with the {provider} integration."),
                }),
                Ok(WidgetQuery::Metric(query)) => Plan::Metric(push(*query)),
                Ok(WidgetQuery::Funnel(steps)) => {
                    Plan::Funnel(steps.into_iter().map(&mut push).collect())
                }
                Ok(WidgetQuery::Cro(CroQuery::Items(query))) => Plan::Items(query),
                Ok(WidgetQuery::Cro(CroQuery::Parts(combine, parts))) => Plan::Parts(
                    combine,
                    parts
                        .into_iter()
                        .map(|(name, query)| (name, push(query)))
                        .collect(),
                ),
            },
        )
        .collect();

    let keys: Vec<String> = queries
        .iter()
        .map(|q| cache_key(org_id, viewer, &version, q))
        .collect();
    let mut results: Vec<Option<ApiResult<Arc<QueryResult>>>> =
        keys.iter().map(|k| cache.get(k).map(Ok)).collect();
    let missing: Vec<usize> = (0..queries.len())
        .filter(|&i| results[i].is_none())
        .collect();
    if !missing.is_empty() {
        let batch: Vec<&Validated> = missing.iter().map(|&i| &queries[i]).collect();
        let now = Utc::now();
        let answers = engine::run_many(conn, org_id, &batch, now).await?;
        for (i, answer) in missing.into_iter().zip(answers) {
            let answer = answer.map(Arc::new);
            if let Ok(result) = &answer {
                cache.put(keys[i].clone(), Arc::clone(result), now);
            }
            results[i] = Some(answer);
        }
    }
    let mut take = |i: usize| results[i].take().expect("every query answered");

    let mut out = Vec::with_capacity(widgets.len());
    for (widget, plan) in widgets.iter().zip(plans) {
        let id = widget.id;
        let data = match plan {
            Plan::Known(data) => data,
            Plan::Metric(i) => match take(i) {
                Ok(result) => match unconnected(&queries[i], &result) {
                    Some(provider) => WidgetData::NotConnected {
                        widget_id: id,
                        provider,
                    },
                    None => WidgetData::Ok {
                        widget_id: id,
                        result,
                    },
                },
                Err(error) => widget_error(id, error)?,
            },
            Plan::Funnel(steps) => {
                let mut done = Vec::new();
                let mut failed = None;
                for i in steps {
                    match take(i) {
                        Ok(result) => done.push((i, result)),
                        Err(error) => {
                            failed = Some(error);
                            break;
                        }
                    }
                }
                let missing = done.iter().find_map(|(i, r)| unconnected(&queries[*i], r));
                match (failed, missing) {
                    (Some(error), _) => widget_error(id, error)?,
                    (None, Some(provider)) => WidgetData::NotConnected {
                        widget_id: id,
                        provider,
                    },
                    (None, None) => WidgetData::Funnel {
                        widget_id: id,
                        steps: done.into_iter().map(|(_, r)| r).collect(),
                    },
                }
            }
            Plan::Items(query) => items(conn, org_id, id, &query).await?,
            Plan::Parts(combine, parts) => {
                // A part whose provider is not connected here is left out; with
                // none left the widget asks for the first one's provider.
                let mut answered = Vec::new();
                let mut missing = None;
                let mut failed = None;
                for (name, i) in parts {
                    match take(i) {
                        Ok(result) => match unconnected(&queries[i], &result) {
                            Some(provider) => {
                                missing.get_or_insert(provider);
                            }
                            None => answered.push((name, result)),
                        },
                        Err(error) => failed = Some(error),
                    }
                }
                match (answered.is_empty(), missing, combine) {
                    _ if failed.is_some() => widget_error(id, failed.expect("checked"))?,
                    (true, Some(provider), _) => WidgetData::NotConnected {
                        widget_id: id,
                        provider,
                    },
                    (true, None, Combine::Heatmap) => WidgetData::NotConnected {
                        widget_id: id,
                        provider: "clarity".into(),
                    },
                    (true, None, Combine::Sentiment) => WidgetData::NotConnected {
                        widget_id: id,
                        provider: "judgeme".into(),
                    },
                    (false, _, Combine::Sentiment) => WidgetData::Sentiment {
                        widget_id: id,
                        sentiment: cro::sentiment(&answered),
                    },
                    (false, _, Combine::Heatmap) => WidgetData::Heatmap {
                        widget_id: id,
                        heatmap: cro::heatmap(&answered),
                    },
                }
            }
        };
        out.push(data);
    }
    Ok((out, version))
}

/// A feed widget's items, or "Connect …" when its scope has no provider of them.
async fn items(
    conn: &mut PgConnection,
    org_id: Uuid,
    widget_id: Uuid,
    query: &ItemQuery,
) -> ApiResult<WidgetData> {
    let (ids, workspaces) = match &query.scope {
        Scope::Store(id) => (vec![*id], vec![]),
        Scope::Stores(ids) => (ids.clone(), vec![]),
        Scope::Workspace(id) => (vec![], vec![*id]),
    };
    let scope = (ids.as_slice(), workspaces.as_slice());
    // A store deleted since the widget was made is the widget's error, as for a
    // metric widget.
    if !ids.is_empty() && db::items::stores_in_scope(&mut *conn, org_id, scope).await? == 0 {
        return widget_error(widget_id, ApiError::NotFound("store"));
    }
    let rows = db::items::latest(
        &mut *conn,
        org_id,
        scope,
        query.kind,
        &query.filters,
        query.limit,
    )
    .await?;
    if rows.is_empty() && !db::items::connected(&mut *conn, org_id, scope, &query.provider).await? {
        return Ok(WidgetData::NotConnected {
            widget_id,
            provider: query.provider.clone(),
        });
    }
    Ok(match cro::views(query.kind, rows) {
        CroItems::Reviews(reviews) => WidgetData::Reviews { widget_id, reviews },
        CroItems::Experiments(experiments) => WidgetData::Experiments {
            widget_id,
            experiments,
        },
    })
}

/// The first source a query reads that has no integration in its scope (a computed
/// metric reads two), so the widget can say which one to connect.
fn unconnected(query: &Validated, result: &QueryResult) -> Option<String> {
    query
        .sources()
        .into_iter()
        .find(|source| !result.freshness.iter().any(|f| f.provider == *source))
        .map(str::to_owned)
}

/// A widget's result as CSV: a header row, ISO dates, plain numbers. Grouped results
/// have one row per group and bucket; a comparison adds the previous period's rows.
pub fn to_csv(result: &QueryResult) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let value = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    if result.groups.is_empty() {
        writer
            .write_record(["period", "bucket", "value"])
            .expect("in memory");
        for point in &result.series {
            writer
                .write_record(["current", &point.bucket, &value(point.value)])
                .expect("in memory");
        }
        if let Some(previous) = &result.previous {
            for point in &previous.series {
                writer
                    .write_record(["previous", &point.bucket, &value(point.value)])
                    .expect("in memory");
            }
        }
    } else {
        writer
            .write_record(["group", "bucket", "value"])
            .expect("in memory");
        for group in &result.groups {
            for point in &group.series {
                writer
                    .write_record([&group.key, &point.bucket, &value(point.value)])
                    .expect("in memory");
            }
        }
    }
    String::from_utf8(writer.into_inner().expect("in memory")).expect("UTF-8")
}

/// Keeps only the JSON fields a shared page may show of a widget.
pub fn public_widget(widget: &Widget) -> Value {
    serde_json::json!({
        "id": widget.id,
        "type": widget.kind,
        "title": widget.title,
        "display_config": widget.display_config,
        "size": widget.size,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, NaiveTime};

    use super::*;
    use crate::metrics::{
        engine::Period,
        query::{AggregationName, Granularity},
        window::Window,
    };

    fn result(
        timezone: &str,
        until: Option<NaiveTime>,
        previous_until: Option<NaiveTime>,
    ) -> QueryResult {
        let day = NaiveDate::from_ymd_opt(2026, 3, 7).unwrap();
        let window = |until| Window {
            from: day,
            to: day,
            until,
        };
        QueryResult {
            metric: "shopify.orders".into(),
            name: "Orders".into(),
            unit: "count".into(),
            rise_is_bad: false,
            currency: None,
            aggregation: AggregationName::Sum,
            granularity: Granularity::Day,
            timezone: timezone.into(),
            range: window(until),
            total: Some(1),
            series: vec![],
            group_by: None,
            groups: vec![],
            previous: Some(Period {
                range: window(previous_until),
                total: Some(1),
                series: vec![],
            }),
            delta: None,
            delta_pct: None,
            freshness: vec![],
        }
    }

    fn lifetime(result: &QueryResult, now: DateTime<Utc>) -> Duration {
        expiry(result, now) - Instant::now()
    }

    #[test]
    fn complete_days_are_reused_until_the_stores_next_midnight() {
        // 20:30 UTC is 15:30 in New York (EST): eight and a half hours to its midnight.
        let now = DateTime::parse_from_rfc3339("2026-03-07T20:30:00Z")
            .unwrap()
            .to_utc();
        let left = lifetime(&result("America/New_York", None, None), now);
        assert!(left > Duration::from_secs(8 * 3600 + 29 * 60), "{left:?}");
        assert!(left <= Duration::from_secs(8 * 3600 + 30 * 60), "{left:?}");
        // The same instant in Tokyo is 05:30 the next day: 18.5 hours left.
        let left = lifetime(&result("Asia/Tokyo", None, None), now);
        assert!(left > Duration::from_secs(18 * 3600 + 29 * 60), "{left:?}");
    }

    #[test]
    fn a_window_running_until_now_is_reused_for_a_minute_at_most() {
        let now = DateTime::parse_from_rfc3339("2026-03-07T12:00:00Z")
            .unwrap()
            .to_utc();
        let two_pm = NaiveTime::from_hms_opt(14, 0, 0);
        for r in [result("UTC", two_pm, None), result("UTC", None, two_pm)] {
            assert!(lifetime(&r, now) <= PARTIAL_TTL);
        }
        // A minute before midnight, not even a minute.
        let late = DateTime::parse_from_rfc3339("2026-03-07T23:59:30Z")
            .unwrap()
            .to_utc();
        assert!(lifetime(&result("UTC", two_pm, None), late) <= Duration::from_secs(30));
    }
}

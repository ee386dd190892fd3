//! Widget data: each widget's query answered by the metrics service, with a short-lived
//! cache whose key includes the organization's latest sync, so a dashboard loaded
//! after a sync never shows data from before it.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use pulseboard_connectors::Registry;
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::{parse_query, Widget, WidgetQuery};
use crate::{
    error::{ApiError, ApiResult},
    metrics::{
        engine::{self, QueryResult},
        query::{RangeSpec, Validated},
        window::CompareTo,
    },
};

/// One widget's data, or why there is none.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum WidgetData {
    Ok {
        widget_id: Uuid,
        result: Box<QueryResult>,
    },
    Funnel {
        widget_id: Uuid,
        steps: Vec<QueryResult>,
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

/// Cached results per (org, caller, query, org's data version), for a minute at most
/// (ranges that run until "now" move on).
#[derive(Default)]
pub struct ResultCache(Mutex<HashMap<String, (Instant, QueryResult)>>);

const CACHE_TTL: Duration = Duration::from_secs(60);
const CACHE_MAX: usize = 2_000;

impl ResultCache {
    fn get(&self, key: &str) -> Option<QueryResult> {
        let map = self.0.lock().expect("cache lock");
        map.get(key)
            .filter(|(at, _)| at.elapsed() < CACHE_TTL)
            .map(|(_, r)| r.clone())
    }

    fn put(&self, key: String, result: QueryResult) {
        let mut map = self.0.lock().expect("cache lock");
        if map.len() >= CACHE_MAX {
            map.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
            if map.len() >= CACHE_MAX {
                map.clear();
            }
        }
        map.insert(key, (Instant::now(), result));
    }
}

/// The version of an organization's data: changes whenever a sync finishes.
async fn data_version(conn: &mut PgConnection, org_id: Uuid) -> sqlx::Result<String> {
    let (latest, count): (Option<DateTime<Utc>>, i64) =
        sqlx::query_as("SELECT max(last_synced_at), count(*) FROM integrations WHERE org_id = $1")
            .bind(org_id)
            .fetch_one(conn)
            .await?;
    Ok(format!(
        "{}:{count}",
        latest.map(|t| t.timestamp_micros()).unwrap_or(0)
    ))
}

async fn answer(
    conn: &mut PgConnection,
    cache: &ResultCache,
    org_id: Uuid,
    viewer: &str,
    version: &str,
    query: &Validated,
) -> ApiResult<QueryResult> {
    let key = format!(
        "{org_id}|{viewer}|{version}|{}",
        serde_json::to_string(&query.config).expect("serialises")
    );
    if let Some(hit) = cache.get(&key) {
        return Ok(hit);
    }
    let result = engine::run(conn, org_id, query, Utc::now()).await?;
    cache.put(key, result.clone());
    Ok(result)
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

/// Evaluates widgets in order. `viewer` keys the cache (a user id, or the share).
pub async fn evaluate(
    conn: &mut PgConnection,
    providers: &Registry,
    cache: &ResultCache,
    org_id: Uuid,
    viewer: &str,
    widgets: &[Widget],
    overrides: &Overrides,
) -> ApiResult<Vec<WidgetData>> {
    let version = data_version(conn, org_id).await?;
    let mut out = Vec::with_capacity(widgets.len());
    for widget in widgets {
        let id = widget.id;
        let data = match parse_query(&widget.kind, &widget.query_config, providers) {
            Err(error) => WidgetData::Error {
                widget_id: id,
                message: error.to_string(),
            },
            Ok(WidgetQuery::Awaiting(provider)) => WidgetData::Unavailable {
                widget_id: id,
                provider: provider.to_owned(),
                message: format!("This widget arrives with the {provider} integration."),
            },
            Ok(WidgetQuery::Metric(query)) => {
                let query = apply(*query, overrides);
                match answer(conn, cache, org_id, viewer, &version, &query).await {
                    Ok(result) if result.freshness.is_empty() => WidgetData::NotConnected {
                        widget_id: id,
                        provider: query.source.clone(),
                    },
                    Ok(result) => WidgetData::Ok {
                        widget_id: id,
                        result: Box::new(result),
                    },
                    Err(error @ (ApiError::NotFound(_) | ApiError::Validation { .. })) => {
                        WidgetData::Error {
                            widget_id: id,
                            message: error.to_string(),
                        }
                    }
                    Err(other) => return Err(other),
                }
            }
            Ok(WidgetQuery::Funnel(steps)) => {
                let mut results = Vec::new();
                let mut missing = None;
                for step in steps {
                    let step = apply(step, overrides);
                    let result = answer(conn, cache, org_id, viewer, &version, &step).await?;
                    if result.freshness.is_empty() {
                        missing = Some(step.source.clone());
                    }
                    results.push(result);
                }
                match missing {
                    Some(provider) => WidgetData::NotConnected {
                        widget_id: id,
                        provider,
                    },
                    None => WidgetData::Funnel {
                        widget_id: id,
                        steps: results,
                    },
                }
            }
        };
        out.push(data);
    }
    Ok(out)
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

//! The CRO widgets whose data is not one metric query: the review feed and the
//! experiment card read stored items (`db::items`), the sentiment gauge and the
//! heatmap summary combine several catalog metrics. Widgets never send SQL: each
//! type's settings are parsed here and turned into item reads or metric queries.

use std::sync::Arc;

use pulseboard_connectors::{
    items::{Experiment, Item, Review},
    Registry,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::experiments::{analyze, ArmStats, Comparison};
use crate::{
    error::ApiError,
    metrics::{
        query::{Granularity, QueryConfig, RangeSpec, Scope, Validated},
        result::QueryResult,
        window::CompareTo,
    },
};

/// Which reviews a feed shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    #[default]
    All,
    Published,
    /// Waiting for moderation.
    Pending,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewFeedConfig {
    scope: Scope,
    /// Only these star ratings (1–5); empty for all.
    #[serde(default)]
    ratings: Vec<u8>,
    #[serde(default)]
    status: ReviewStatus,
    /// How many reviews (default 10, at most 50).
    limit: Option<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExperimentCardConfig {
    scope: Scope,
    /// Show ended experiments too (default: running and paused ones only).
    #[serde(default)]
    include_ended: bool,
    /// How many experiments (default 3, at most 10).
    limit: Option<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricsConfig {
    scope: Scope,
    range: RangeSpec,
}

/// A read of stored items.
#[derive(Debug, Clone)]
pub struct ItemQuery {
    pub kind: &'static str,
    pub scope: Scope,
    /// jsonb containment tests, any of which an item must pass (none: all items).
    pub filters: Vec<Value>,
    pub limit: i64,
    /// The provider to suggest connecting when the scope has none that gives these.
    pub provider: String,
}

/// What the combined-metric widgets compute from their parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    Sentiment,
    Heatmap,
}

/// A CRO widget's reads.
pub enum CroQuery {
    Items(ItemQuery),
    /// Named metric queries; a part whose metric is not in this build's catalog is
    /// left out (its provider is not built in).
    Parts(Combine, Vec<(&'static str, Validated)>),
}

/// The item kind a widget type shows, and the provider to suggest.
fn item_provider(providers: &Registry, kind: &str, fallback: &str) -> String {
    providers
        .ids()
        .find(|id| {
            providers
                .get(id)
                .is_some_and(|p| p.item_kinds().contains(&kind))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| fallback.to_owned())
}

/// One signal of the sentiment gauge: the average of a summed metric over another
/// (`numerator ÷ denominator ÷ per_unit`), which runs from `worst` to `best`.
pub struct Signal {
    pub name: &'static str,
    pub label: &'static str,
    pub numerator: &'static str,
    pub denominator: &'static str,
    /// Stored values are this many times the signal's unit (sentiment ×1000).
    pub per_unit: f64,
    pub worst: f64,
    pub best: f64,
}

/// The gauge's signals: star ratings and CSAT scores (1–5, stored ×100), and the
/// VADER sentiment of review and first-customer-message text (−1…1, stored ×1000).
#[rustfmt::skip]
pub const SENTIMENT_SIGNALS: &[Signal] = &[
    Signal { name: "review_rating", label: "Review rating (Judge.me)", numerator: "judgeme.rating_total", denominator: "judgeme.reviews", per_unit: 100.0, worst: 1.0, best: 5.0 },
    Signal { name: "review_text", label: "Review text sentiment (Judge.me)", numerator: "judgeme.sentiment_total", denominator: "judgeme.reviews", per_unit: 1000.0, worst: -1.0, best: 1.0 },
    Signal { name: "csat", label: "Support satisfaction, CSAT (Gorgias)", numerator: "gorgias.csat_score_total", denominator: "gorgias.csat_responses", per_unit: 100.0, worst: 1.0, best: 5.0 },
    Signal { name: "ticket_text", label: "Ticket text sentiment (Gorgias)", numerator: "gorgias.sentiment_total", denominator: "gorgias.tickets_created", per_unit: 1000.0, worst: -1.0, best: 1.0 },
];

/// The heatmap summary's parts: Clarity's page and device breakdowns.
const HEATMAP_PARTS: &[(&str, &str, &str)] = &[
    ("page_sessions", "clarity.page_sessions", "page"),
    (
        "page_scroll_total",
        "clarity.page_scroll_depth_total",
        "page",
    ),
    ("page_rage_clicks", "clarity.page_rage_clicks", "page"),
    ("page_dead_clicks", "clarity.page_dead_clicks", "page"),
    ("device_sessions", "clarity.sessions", "device"),
    (
        "device_scroll_total",
        "clarity.scroll_depth_total",
        "device",
    ),
    ("device_rage_clicks", "clarity.rage_clicks", "device"),
    ("device_dead_clicks", "clarity.dead_clicks", "device"),
];

fn settings<T: serde::de::DeserializeOwned>(config: &Value) -> Result<T, ApiError> {
    serde_json::from_value(config.clone())
        .map_err(|e| ApiError::validation("query_config", e.to_string()))
}

/// One summed metric over the window, optionally grouped. Only totals are used, so
/// daily buckets (read from the rollups) whatever the window.
fn summed(
    providers: &Registry,
    metric: &str,
    scope: &Scope,
    range: &RangeSpec,
    group_by: Option<&str>,
) -> Option<Validated> {
    QueryConfig {
        metric: metric.to_owned(),
        aggregation: None,
        range: range.clone(),
        granularity: Granularity::Day,
        group_by: group_by.map(str::to_owned),
        filters: Vec::new(),
        compare_to: CompareTo::None,
        scope: scope.clone(),
    }
    .validate(providers)
    .ok()
}

/// Parses a CRO widget's settings (`None` for the types that are metric widgets).
pub fn parse(
    kind: &str,
    config: &Value,
    providers: &Registry,
) -> Result<Option<CroQuery>, ApiError> {
    Ok(Some(match kind {
        "review_feed" => {
            let c: ReviewFeedConfig = settings(config)?;
            if let Some(bad) = c.ratings.iter().find(|r| !(1..=5).contains(*r)) {
                return Err(ApiError::validation(
                    "query_config.ratings",
                    format!("a rating is 1 to 5 stars, not {bad}"),
                ));
            }
            let published = match c.status {
                ReviewStatus::All => None,
                ReviewStatus::Published => Some(true),
                ReviewStatus::Pending => Some(false),
            };
            let mut filters: Vec<Value> = if c.ratings.is_empty() {
                vec![json!({})]
            } else {
                c.ratings.iter().map(|r| json!({ "rating": r })).collect()
            };
            if let Some(published) = published {
                for f in &mut filters {
                    f["published"] = json!(published);
                }
            }
            CroQuery::Items(ItemQuery {
                kind: "review",
                scope: c.scope,
                filters,
                limit: bounded(c.limit, 10, 50, "query_config.limit")?,
                provider: item_provider(providers, "review", "judgeme"),
            })
        }
        "experiment_card" => {
            let c: ExperimentCardConfig = settings(config)?;
            let filters = if c.include_ended {
                vec![json!({})]
            } else {
                vec![
                    json!({ "status": "running" }),
                    json!({ "status": "paused" }),
                ]
            };
            CroQuery::Items(ItemQuery {
                kind: "experiment",
                scope: c.scope,
                filters,
                limit: bounded(c.limit, 3, 10, "query_config.limit")?,
                provider: item_provider(providers, "experiment", "intelligems"),
            })
        }
        "sentiment_gauge" => {
            let c: MetricsConfig = settings(config)?;
            let mut parts = Vec::new();
            for signal in SENTIMENT_SIGNALS {
                let n = summed(providers, signal.numerator, &c.scope, &c.range, None);
                let d = summed(providers, signal.denominator, &c.scope, &c.range, None);
                if let (Some(n), Some(d)) = (n, d) {
                    parts.push((signal.name, n));
                    parts.push((signal.name, d));
                }
            }
            CroQuery::Parts(Combine::Sentiment, parts)
        }
        "heatmap_summary" => {
            let c: MetricsConfig = settings(config)?;
            let parts = HEATMAP_PARTS
                .iter()
                .filter_map(|(name, metric, by)| {
                    summed(providers, metric, &c.scope, &c.range, Some(by)).map(|q| (*name, q))
                })
                .collect();
            CroQuery::Parts(Combine::Heatmap, parts)
        }
        _ => return Ok(None),
    }))
}

fn bounded(value: Option<u8>, default: u8, max: u8, field: &str) -> Result<i64, ApiError> {
    match value.unwrap_or(default) {
        0 => Err(ApiError::validation(field, "must be at least 1")),
        v if v > max => Err(ApiError::validation(field, format!("at most {max}"))),
        v => Ok(i64::from(v)),
    }
}

/// A review as the feed shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewView {
    pub provider: String,
    pub store_id: Uuid,
    pub id: String,
    pub rating: u8,
    pub title: Option<String>,
    pub body: String,
    pub reviewer_name: Option<String>,
    pub product_id: Option<String>,
    pub product_title: Option<String>,
    pub verified: bool,
    pub published: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// −1 to 1 (VADER's compound score of title and body).
    pub sentiment: f64,
    pub url: Option<String>,
}

impl ReviewView {
    pub fn new(provider: String, store_id: Uuid, r: Review) -> Self {
        Self {
            provider,
            store_id,
            id: r.id,
            rating: r.rating,
            title: r.title,
            body: r.body,
            reviewer_name: r.reviewer_name,
            product_id: r.product_id,
            product_title: r.product_title,
            verified: r.verified,
            published: r.published,
            created_at: r.created_at,
            sentiment: r.sentiment,
            url: r.url,
        }
    }
}

/// An experiment with each treatment compared with its control.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExperimentView {
    pub provider: String,
    pub store_id: Uuid,
    pub id: String,
    pub name: String,
    /// `draft`, `running`, `paused` or `ended`.
    pub status: String,
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    pub ended_at: Option<chrono::DateTime<chrono::Utc>>,
    pub currency: String,
    pub url: Option<String>,
    /// The control's numbers; `null` for an experiment without variants.
    pub control: Option<ArmStats>,
    /// Each treatment against the control: lifts, the probability that it beats
    /// the control, the interval of the difference, and that in plain words.
    pub treatments: Vec<Comparison>,
}

impl ExperimentView {
    pub fn new(provider: String, store_id: Uuid, e: Experiment) -> Self {
        let stats = analyze(&e);
        Self {
            provider,
            store_id,
            status: serde_json::to_value(e.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            id: e.id,
            name: e.name,
            started_at: e.started_at,
            ended_at: e.ended_at,
            currency: e.currency,
            url: e.url,
            control: stats.control,
            treatments: stats.treatments,
        }
    }
}

/// Stored items of one kind as the widget shows them; items that no longer parse
/// (a shape from an older build) are skipped.
pub fn views(kind: &str, rows: Vec<crate::db::items::StoredItem>) -> CroItems {
    let items = rows.into_iter().filter_map(|row| {
        Some((
            row.provider,
            row.store_id,
            serde_json::from_value::<Item>(row.data).ok()?,
        ))
    });
    match kind {
        "review" => CroItems::Reviews(
            items
                .filter_map(|(p, s, i)| match i {
                    Item::Review(r) => Some(ReviewView::new(p, s, r)),
                    _ => None,
                })
                .collect(),
        ),
        _ => CroItems::Experiments(
            items
                .filter_map(|(p, s, i)| match i {
                    Item::Experiment(e) => Some(ExperimentView::new(p, s, e)),
                    _ => None,
                })
                .collect(),
        ),
    }
}

pub enum CroItems {
    Reviews(Vec<ReviewView>),
    Experiments(Vec<ExperimentView>),
}

/// One signal of the sentiment gauge.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SentimentPart {
    pub name: String,
    pub label: String,
    /// The signal's own average (stars, CSAT points, or −1…1 for text).
    pub average: f64,
    /// How many reviews, surveys or tickets it averages.
    pub count: i64,
    /// The average on the gauge's 0–100 scale.
    pub score: f64,
}

/// The sentiment gauge: the mean of the signals that have data, each put on a
/// 0–100 scale linearly between its worst and best value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Sentiment {
    /// 0–100; `null` when no signal has data in the window.
    pub score: Option<f64>,
    pub parts: Vec<SentimentPart>,
}

/// Combines the sentiment parts (each name twice: numerator, then denominator).
pub fn sentiment(parts: &[(&str, Arc<QueryResult>)]) -> Sentiment {
    let mut out = Vec::new();
    for pair in parts.chunks(2) {
        let [(name, numerator), (_, denominator)] = pair else {
            continue;
        };
        let Some(signal) = SENTIMENT_SIGNALS.iter().find(|s| s.name == *name) else {
            continue;
        };
        let (Some(sum), Some(count)) = (numerator.total, denominator.total) else {
            continue;
        };
        if count <= 0 {
            continue;
        }
        let average = sum as f64 / count as f64 / signal.per_unit;
        let score =
            ((average - signal.worst) / (signal.best - signal.worst) * 100.0).clamp(0.0, 100.0);
        out.push(SentimentPart {
            name: signal.name.to_owned(),
            label: signal.label.to_owned(),
            average,
            count,
            score,
        });
    }
    let score =
        (!out.is_empty()).then(|| out.iter().map(|p| p.score).sum::<f64>() / out.len() as f64);
    Sentiment { score, parts: out }
}

/// One page or device of the heatmap summary.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HeatmapRow {
    /// The page URL or the device.
    pub key: String,
    pub sessions: i64,
    /// Average scroll depth, percent (weighted by sessions); `null` without sessions.
    pub scroll_depth: Option<f64>,
    pub rage_clicks: i64,
    pub dead_clicks: i64,
    /// Rage clicks per 100 sessions: what the summary sorts pages by.
    pub rage_per_100: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Heatmap {
    /// Pages with the most rage clicks per session first (at most 10).
    pub pages: Vec<HeatmapRow>,
    pub devices: Vec<HeatmapRow>,
}

/// Joins Clarity's page and device breakdowns into rows.
pub fn heatmap(parts: &[(&str, Arc<QueryResult>)]) -> Heatmap {
    let rows = |prefix: &str| {
        let part = |name: &str| {
            parts
                .iter()
                .find(|(n, _)| *n == format!("{prefix}_{name}"))
                .map(|(_, r)| Arc::clone(r))
        };
        let total = |result: &Option<Arc<QueryResult>>, key: &str| {
            result
                .as_ref()
                .and_then(|r| r.groups.iter().find(|g| g.key == key))
                .and_then(|g| g.total)
                .unwrap_or(0)
        };
        let (sessions, scroll, rage, dead) = (
            part("sessions"),
            part("scroll_total"),
            part("rage_clicks"),
            part("dead_clicks"),
        );
        let mut out: Vec<HeatmapRow> = sessions
            .as_ref()
            .map(|s| s.groups.iter().map(|g| g.key.clone()).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|key| {
                let n = total(&sessions, &key);
                let per = |v: i64, k: f64| (n > 0).then(|| v as f64 * k / n as f64);
                let rage_clicks = total(&rage, &key);
                HeatmapRow {
                    scroll_depth: per(total(&scroll, &key), 1.0),
                    rage_clicks,
                    dead_clicks: total(&dead, &key),
                    rage_per_100: per(rage_clicks, 100.0),
                    sessions: n,
                    key,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.rage_per_100
                .unwrap_or(0.0)
                .total_cmp(&a.rage_per_100.unwrap_or(0.0))
                .then(b.sessions.cmp(&a.sessions))
        });
        out
    };
    let mut pages = rows("page");
    pages.truncate(10);
    Heatmap {
        pages,
        devices: rows("device"),
    }
}

//! What a query answers: the totals and series of its window, per group with a
//! `group_by`, the previous period's when it compares, and the freshness of the
//! integrations behind it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    query::{AggregationName, Granularity},
    window::Window,
};

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
    /// Whether a rise of this metric is bad news (refunds, churn): the UI colours
    /// its deltas the other way round.
    pub rise_is_bad: bool,
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

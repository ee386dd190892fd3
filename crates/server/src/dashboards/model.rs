//! The checks a widget's configuration must pass before it is saved, and the
//! widget types. The stored shapes are `domain::dashboards`, re-exported here.

use pulseboard_connectors::{MetricUnit, Registry};
use serde::Deserialize;
use serde_json::Value;

use super::cro::{self, CroQuery};
use crate::{
    error::ApiError,
    metrics::query::{QueryConfig, Validated},
};

pub use crate::domain::dashboards::{Dashboard, Layout, Section, Share, Widget};

/// The widget types, and for those whose data comes from a provider Pulseboard does
/// not connect yet, which one.
pub const WIDGET_TYPES: &[(&str, Option<&str>)] = &[
    ("kpi_card", None),
    ("line_chart", None),
    ("bar_chart", None),
    ("table", None),
    ("pie_chart", None),
    ("funnel", None),
    ("heatmap_summary", None),
    ("review_feed", None),
    ("sentiment_gauge", None),
    ("experiment_card", None),
    ("survey_summary", None),
];

pub fn awaited_provider(kind: &str) -> Option<&'static str> {
    WIDGET_TYPES
        .iter()
        .find(|(k, _)| *k == kind)
        .and_then(|(_, p)| *p)
}

/// What a widget asks for, by type: one metric query, the steps of a funnel, a CRO
/// widget's reads (stored items or several metrics), or (for a type whose provider
/// arrives later) whatever settings it will need.
pub enum WidgetQuery {
    Metric(Box<Validated>),
    Funnel(Vec<Validated>),
    Cro(CroQuery),
    Awaiting(&'static str),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FunnelConfig {
    steps: Vec<QueryConfig>,
}

/// Parses and validates a widget's query against the catalog; errors name the field
/// under `query_config`.
pub fn parse_query(
    kind: &str,
    config: &Value,
    providers: &Registry,
) -> Result<WidgetQuery, ApiError> {
    let prefixed = |e: ApiError| match e {
        ApiError::Validation { field, message } => ApiError::Validation {
            field: format!("query_config.{field}"),
            message,
        },
        other => other,
    };
    let serde_error = |e: serde_json::Error| ApiError::validation("query_config", e.to_string());
    if !WIDGET_TYPES.iter().any(|(k, _)| *k == kind) {
        let names: Vec<&str> = WIDGET_TYPES.iter().map(|(k, _)| *k).collect();
        return Err(ApiError::validation(
            "type",
            format!("unknown widget type; use one of {}", names.join(", ")),
        ));
    }
    if let Some(provider) = awaited_provider(kind) {
        if !config.is_object() {
            return Err(ApiError::validation("query_config", "must be an object"));
        }
        return Ok(WidgetQuery::Awaiting(provider));
    }
    if let Some(cro) = cro::parse(kind, config, providers)? {
        return Ok(WidgetQuery::Cro(cro));
    }
    if kind == "funnel" {
        let funnel: FunnelConfig = serde_json::from_value(config.clone()).map_err(serde_error)?;
        if !(2..=8).contains(&funnel.steps.len()) {
            return Err(ApiError::validation(
                "query_config.steps",
                "a funnel has 2 to 8 steps",
            ));
        }
        let steps: Vec<Validated> = funnel
            .steps
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                s.validate(providers).map_err(|e| match prefixed(e) {
                    ApiError::Validation { field, message } => ApiError::Validation {
                        field: field.replacen(
                            "query_config.",
                            &format!("query_config.steps[{i}]."),
                            1,
                        ),
                        message,
                    },
                    other => other,
                })
            })
            .collect::<Result<_, _>>()?;
        check_funnel(&steps)?;
        return Ok(WidgetQuery::Funnel(steps));
    }
    let query: QueryConfig = serde_json::from_value(config.clone()).map_err(serde_error)?;
    if kind == "survey_summary" && query.group_by.is_none() {
        return Err(ApiError::validation(
            "query_config.group_by",
            "a survey summary lists answers: group by the answer dimension",
        ));
    }
    Ok(WidgetQuery::Metric(Box::new(
        query.validate(providers).map_err(prefixed)?,
    )))
}

/// A funnel compares counts of the same people or sessions moving through steps:
/// every step counts something (no money, no rates) over the same window and scope,
/// or the step-to-step conversion would mean nothing.
fn check_funnel(steps: &[Validated]) -> Result<(), ApiError> {
    fn same(a: &impl serde::Serialize, b: &impl serde::Serialize) -> bool {
        serde_json::to_value(a).ok() == serde_json::to_value(b).ok()
    }
    let first = &steps[0];
    for (i, step) in steps.iter().enumerate() {
        if step.spec.unit != MetricUnit::Count || step.ratio.is_some() {
            return Err(ApiError::validation(
                format!("query_config.steps[{i}].metric"),
                format!(
                    "a funnel step counts something (sessions, add-to-carts, orders); {} is not a count",
                    step.config.metric
                ),
            ));
        }
        if !same(&step.config.range, &first.config.range) {
            return Err(ApiError::validation(
                format!("query_config.steps[{i}].range"),
                "every step of a funnel covers the same range as the first",
            ));
        }
        if !same(&step.config.scope, &first.config.scope) {
            return Err(ApiError::validation(
                format!("query_config.steps[{i}].scope"),
                "every step of a funnel covers the same stores as the first",
            ));
        }
    }
    Ok(())
}

pub const SIZES: &[&str] = &["small", "medium", "large", "full"];
pub use crate::domain::dashboards::VISIBILITIES;

pub fn check_display(config: &Value) -> Result<(), ApiError> {
    if !config.is_object() {
        return Err(ApiError::validation("display_config", "must be an object"));
    }
    if config.to_string().len() > 8 * 1024 {
        return Err(ApiError::validation("display_config", "at most 8 KB"));
    }
    Ok(())
}

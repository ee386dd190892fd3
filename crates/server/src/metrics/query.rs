//! The declarative query a widget sends (seed 001 §2.2): parsed strictly, so an
//! unknown field or value is a 422 naming it, and nothing of it ever becomes SQL text.

use chrono::NaiveDate;
use pulseboard_connectors::{Aggregation, MetricKind, MetricSpec, Registry};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    computed::{self, AtStart, Part},
    window::{CompareTo, Preset},
};
use crate::error::ApiError;

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryConfig {
    /// A catalog metric, `{provider}.{metric}` (`stripe.mrr`, `shopify.net_sales`).
    pub metric: String,
    /// Defaults to the metric's own (flows: sum, stocks: latest).
    pub aggregation: Option<AggregationName>,
    pub range: RangeSpec,
    #[serde(default)]
    pub granularity: Granularity,
    /// A dimension the metric declares.
    pub group_by: Option<String>,
    #[serde(default)]
    pub filters: Vec<Filter>,
    #[serde(default = "default_compare")]
    pub compare_to: CompareTo,
    pub scope: Scope,
}

fn default_compare() -> CompareTo {
    CompareTo::PreviousPeriod
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AggregationName {
    Sum,
    Avg,
    Min,
    Max,
    Count,
    Latest,
}

/// A preset name (`"last_30_days"`) or `{"custom": {"from": "2026-01-01", "to": "2026-01-31"}}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum RangeSpec {
    Preset(Preset),
    Custom { custom: CustomRange },
}

impl<'de> Deserialize<'de> for RangeSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Custom {
            custom: CustomRange,
        }
        let value = serde_json::Value::deserialize(deserializer)?;
        if value.is_string() {
            return serde_json::from_value(value).map(RangeSpec::Preset).map_err(|_| {
                D::Error::custom(
                    "unknown range; use last_7_days, last_30_days, last_90_days, last_365_days, this_month, \
                     last_month, month_to_date, year_to_date, today, yesterday or {\"custom\": {\"from\", \"to\"}}",
                )
            });
        }
        serde_json::from_value::<Custom>(value)
            .map(|c| RangeSpec::Custom { custom: c.custom })
            .map_err(|e| D::Error::custom(format!("custom range: {e}")))
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomRange {
    /// First day (store-local), inclusive.
    pub from: NaiveDate,
    /// Last day, inclusive; today runs until now.
    pub to: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Hour,
    Day,
    Week,
    Month,
    #[default]
    Auto,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    pub dimension: String,
    /// Equal to one of these values.
    #[serde(rename = "in")]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Scope {
    Store(Uuid),
    Stores(Vec<Uuid>),
    Workspace(Uuid),
}

/// A query checked against the catalog.
#[derive(Debug, Clone)]
pub struct Validated {
    pub config: QueryConfig,
    /// The provider (`shopify`), or `computed` for a cross-source metric.
    pub source: String,
    pub spec: MetricSpec,
    pub aggregation: AggregationName,
    /// For a ratio (AOV, conversion rate): the two metrics it divides.
    pub ratio: Option<RatioParts>,
    /// Compare with the same window this many days earlier instead of `compare_to`
    /// (alerts: "versus 7 days ago", "same weekday last week by this hour"). Not part
    /// of the widget query model.
    pub compare_days_ago: Option<u16>,
}

/// The parts of a ratio metric, each with its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatioParts {
    pub numerator: Part,
    pub denominator: Part,
    /// The numerator is multiplied by this first (10 000 for a rate in basis points).
    pub scale: i64,
    /// Which part is a stock taken at the start of each bucket and of the window (a
    /// churn rate's customers or MRR at the period's start, LTV's MRR).
    pub at_start: AtStart,
    /// The denominator is made a monthly rate (numerator × days, denominator × 30).
    pub per_month: bool,
    /// Added to every value after dividing (net revenue retention: 10 000 + the rate).
    pub offset: i64,
}

impl Validated {
    /// The providers whose data the answer reads.
    pub fn sources(&self) -> Vec<&str> {
        match &self.ratio {
            Some(r) => {
                let mut sources = vec![r.numerator.source, r.denominator.source];
                sources.dedup();
                sources
            }
            None => vec![self.source.as_str()],
        }
    }
}

/// The catalog metric named `provider.metric` (or `computed.metric`), with its ratio
/// parts when it divides two metrics.
pub fn find_metric(
    providers: &Registry,
    id: &str,
) -> Option<(String, MetricSpec, Option<RatioParts>)> {
    let (source, metric) = id.split_once('.')?;
    if source == computed::SOURCE {
        let c = computed::find(providers, metric)?;
        let parts = RatioParts {
            numerator: c.numerator,
            denominator: c.denominator,
            scale: c.scale,
            at_start: c.at_start,
            per_month: c.per_month,
            offset: c.offset,
        };
        return Some((source.to_owned(), c.spec, Some(parts)));
    }
    let provider = providers.get(source)?;
    let spec = *provider.info().metrics.iter().find(|m| m.id == metric)?;
    let source: &'static str = provider.info().id;
    let parts = spec.ratio_of.map(|r| RatioParts {
        numerator: Part {
            source,
            metric: r.numerator,
        },
        denominator: Part {
            source,
            metric: r.denominator,
        },
        scale: 1,
        at_start: AtStart::Neither,
        per_month: false,
        offset: 0,
    });
    Some((source.to_owned(), spec, parts))
}

impl QueryConfig {
    pub fn validate(self, providers: &Registry) -> Result<Validated, ApiError> {
        let (source, spec, ratio) = find_metric(providers, &self.metric).ok_or_else(|| {
            ApiError::validation(
                "metric",
                format!("`{}` is not a metric of the catalog", self.metric),
            )
        })?;
        let aggregation = self
            .aggregation
            .unwrap_or(match (spec.kind, spec.aggregation) {
                (MetricKind::Stock, _) | (_, Aggregation::Latest) => AggregationName::Latest,
                (_, Aggregation::Avg) => AggregationName::Avg,
                (_, Aggregation::Sum) => AggregationName::Sum,
            });
        if spec.kind == MetricKind::Stock && aggregation == AggregationName::Sum {
            return Err(ApiError::validation(
                "aggregation",
                "a stock (a level such as MRR) cannot be summed over time; use latest, avg, min or max",
            ));
        }
        if spec.ratio_of.is_some() && aggregation == AggregationName::Count {
            return Err(ApiError::validation(
                "aggregation",
                "a ratio has no event count",
            ));
        }
        if let Some(group) = &self.group_by {
            if !spec.dimensions.contains(&group.as_str()) {
                return Err(ApiError::validation(
                    "group_by",
                    format!(
                        "`{group}` is not a dimension of {} (it has: {})",
                        self.metric,
                        spec.dimensions.join(", ")
                    ),
                ));
            }
        }
        for (i, filter) in self.filters.iter().enumerate() {
            if filter.dimension != "currency"
                && !spec.dimensions.contains(&filter.dimension.as_str())
            {
                return Err(ApiError::validation(
                    format!("filters[{i}].dimension"),
                    format!(
                        "`{}` is not a dimension of {}",
                        filter.dimension, self.metric
                    ),
                ));
            }
            if filter.values.is_empty() || filter.values.len() > 100 {
                return Err(ApiError::validation(
                    format!("filters[{i}].in"),
                    "give between 1 and 100 values",
                ));
            }
        }
        if let RangeSpec::Custom { custom } = &self.range {
            if custom.to < custom.from {
                return Err(ApiError::validation(
                    "range.custom.to",
                    "must not be before `from`",
                ));
            }
            if (custom.to - custom.from).num_days() > 3 * 366 {
                return Err(ApiError::validation(
                    "range.custom",
                    "may span at most three years",
                ));
            }
        }
        match &self.scope {
            Scope::Stores(ids) if ids.is_empty() || ids.len() > 50 => {
                return Err(ApiError::validation(
                    "scope.stores",
                    "name between 1 and 50 stores",
                ));
            }
            _ => {}
        }
        Ok(Validated {
            config: self,
            source,
            spec,
            aggregation,
            ratio,
            compare_days_ago: None,
        })
    }
}

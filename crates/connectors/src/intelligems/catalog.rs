//! Intelligems' metric catalog: the daily numbers of every experiment's variants.
//! The verdict (lift, probability to beat the control) is not a metric: it is
//! computed from the experiment item the card shows (`Derive::items`).

use crate::catalog::{
    Aggregation::{Avg, Sum},
    MetricKind::Flow,
    MetricSpec,
    MetricUnit::{Count, CurrencyMinor},
};

const DIMS: &[&str] = &["experiment", "variant"];
const MONEY_DIMS: &[&str] = &["experiment", "variant", "currency"];

/// Intelligems' metrics.
#[rustfmt::skip]
pub const INTELLIGEMS_METRICS: &[MetricSpec] = &[
    MetricSpec::new("visitors", "Test visitors", "Visitors who entered an experiment, on the UTC day they entered, by experiment and variant.", Count, Sum, Flow, "experiments", DIMS),
    MetricSpec::new("orders", "Test orders", "Orders placed by experiment visitors, by experiment and variant.", Count, Sum, Flow, "experiments", DIMS),
    MetricSpec::new("revenue", "Test revenue", "Net revenue of experiment orders, by experiment and variant.", CurrencyMinor, Sum, Flow, "experiments", MONEY_DIMS),
    MetricSpec::new("revenue_per_visitor", "Revenue per visitor", "Test revenue divided by test visitors.", CurrencyMinor, Avg, Flow, "experiments", DIMS).ratio("revenue", "visitors"),
    MetricSpec::new("average_order_value", "Average order value", "Test revenue divided by test orders.", CurrencyMinor, Avg, Flow, "experiments", DIMS).ratio("revenue", "orders"),
];

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
    MetricSpec::new("visitors", "Test visitors", "Visitors who entered an experiment, on the UTC day they entered, by experiment and variant.", Count, Sum, Flow, "experiments", DIMS)
        .defined(
            "Intelligems' `n_visitors` per variation per day, summed over days (a visitor back on another day may count again).",
            "Intelligems experience day, per variation: `n_visitors`, `variationId`, `experienceId`, `day`.",
            "Intelligems' daily analytics for a UTC day, placed at 12:00 UTC of that day (the same date for stores from UTC−12 to UTC+11); today's numbers read before noon sit at the time they were read.",
            "Days before the experiment ran, and whatever Intelligems itself leaves out of its analytics. Visitors outside experiments are not counted.",
        ),
    MetricSpec::new("orders", "Test orders", "Orders placed by experiment visitors, by experiment and variant.", Count, Sum, Flow, "experiments", DIMS)
        .defined(
            "Intelligems' `n_orders` per variation per day.",
            "Intelligems experience day, per variation: `n_orders`, `variationId`, `experienceId`, `day`.",
            "Intelligems' daily analytics for a UTC day, placed at 12:00 UTC of that day (the same date for stores from UTC−12 to UTC+11); today's numbers read before noon sit at the time they were read.",
            "Days before the experiment ran, and whatever Intelligems itself leaves out of its analytics. Visitors outside experiments are not counted. Orders by visitors not in an experiment.",
        ),
    MetricSpec::new("revenue", "Test revenue", "Net revenue of experiment orders, by experiment and variant.", CurrencyMinor, Sum, Flow, "experiments", MONEY_DIMS)
        .defined(
            "Intelligems' `net_revenue` per variation per day, converted from major to minor units of the experience's currency (USD when it names none).",
            "Intelligems experience day, per variation: `net_revenue`, `currency`, `variationId`, `day`.",
            "Intelligems' daily analytics for a UTC day, placed at 12:00 UTC of that day (the same date for stores from UTC−12 to UTC+11); today's numbers read before noon sit at the time they were read.",
            "Days before the experiment ran, and whatever Intelligems itself leaves out of its analytics. Visitors outside experiments are not counted. What Intelligems takes off net revenue (discounts, refunds as it reports them).",
        ),
    MetricSpec::new("revenue_per_visitor", "Revenue per visitor", "Test revenue divided by test visitors.", CurrencyMinor, Avg, Flow, "experiments", DIMS).ratio("revenue", "visitors")
        .defined(
            "Test revenue divided by test visitors over the period, in the experience's currency.",
            "The two metrics it divides: Intelligems `revenue` and `visitors`.",
            "Intelligems' daily analytics for a UTC day, placed at 12:00 UTC of that day (the same date for stores from UTC−12 to UTC+11); today's numbers read before noon sit at the time they were read.",
            "Days before the experiment ran, and whatever Intelligems itself leaves out of its analytics. Visitors outside experiments are not counted.",
        ),
    MetricSpec::new("average_order_value", "Average order value", "Test revenue divided by test orders.", CurrencyMinor, Avg, Flow, "experiments", DIMS).ratio("revenue", "orders")
        .defined(
            "Test revenue divided by test orders over the period, in the experience's currency.",
            "The two metrics it divides: Intelligems `revenue` and `orders`.",
            "Intelligems' daily analytics for a UTC day, placed at 12:00 UTC of that day (the same date for stores from UTC−12 to UTC+11); today's numbers read before noon sit at the time they were read.",
            "Days before the experiment ran, and whatever Intelligems itself leaves out of its analytics. Visitors outside experiments are not counted.",
        ),
];

//! Paddle's metric catalog, with Stripe's ids where they mean the same.

use crate::catalog::{
    Aggregation::{Latest, Sum},
    MetricKind::{Flow, Stock},
    MetricSpec,
    MetricUnit::{Count, CurrencyMinor},
};

const PAYMENT_DIMS: &[&str] = &["currency"];
const SUBSCRIPTION_DIMS: &[&str] = &["plan"];
const MRR_DIMS: &[&str] = &["plan", "currency"];

/// Paddle's metrics.
#[rustfmt::skip]
pub const PADDLE_METRICS: &[MetricSpec] = &[
    MetricSpec::new("gross_revenue", "Gross revenue", "Completed transactions (tax included), before refunds.", CurrencyMinor, Sum, Flow, "revenue", PAYMENT_DIMS),
    MetricSpec::new("refunds", "Refunds", "Approved refund adjustments.", CurrencyMinor, Sum, Flow, "revenue", PAYMENT_DIMS).bad_when_rising(),
    MetricSpec::new("net_revenue", "Net revenue", "Gross revenue minus refunds.", CurrencyMinor, Sum, Flow, "revenue", PAYMENT_DIMS),
    MetricSpec::new("new_customers", "New customers", "Customers created.", Count, Sum, Flow, "customers", &[]),
    MetricSpec::new("mrr", "MRR", "Monthly recurring revenue of subscriptions not canceled, normalised to a month.", CurrencyMinor, Latest, Stock, "subscriptions", MRR_DIMS),
    MetricSpec::new("active_subscriptions", "Active subscriptions", "Subscriptions not canceled at the end of the period (one scheduled to cancel counts until it does).", Count, Latest, Stock, "subscriptions", SUBSCRIPTION_DIMS),
    MetricSpec::new("new_subscriptions", "New subscriptions", "Subscriptions created in the period.", Count, Sum, Flow, "subscriptions", SUBSCRIPTION_DIMS),
    MetricSpec::new("churned_subscriptions", "Churned subscriptions", "Subscriptions canceled in the period.", Count, Sum, Flow, "subscriptions", SUBSCRIPTION_DIMS).bad_when_rising(),
];

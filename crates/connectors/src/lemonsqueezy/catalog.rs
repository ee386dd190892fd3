//! LemonSqueezy's metric catalog, with Stripe's ids where they mean the same.

use crate::catalog::{
    Aggregation::{Latest, Sum},
    MetricKind::{Flow, Stock},
    MetricSpec,
    MetricUnit::{Count, CurrencyMinor},
};

const PAYMENT_DIMS: &[&str] = &["currency"];
const SUBSCRIPTION_DIMS: &[&str] = &["plan"];
const MRR_DIMS: &[&str] = &["plan", "currency"];

/// LemonSqueezy's metrics.
#[rustfmt::skip]
pub const LEMONSQUEEZY_METRICS: &[MetricSpec] = &[
    MetricSpec::new("gross_revenue", "Gross revenue", "Paid orders and subscription renewals (tax included), before refunds.", CurrencyMinor, Sum, Flow, "revenue", PAYMENT_DIMS),
    MetricSpec::new("refunds", "Refunds", "Amount refunded on orders and subscription invoices.", CurrencyMinor, Sum, Flow, "revenue", PAYMENT_DIMS).bad_when_rising(),
    MetricSpec::new("net_revenue", "Net revenue", "Gross revenue minus refunds.", CurrencyMinor, Sum, Flow, "revenue", PAYMENT_DIMS),
    MetricSpec::new("new_customers", "New customers", "Customers created in the store.", Count, Sum, Flow, "customers", &[]),
    MetricSpec::new("mrr", "MRR", "Monthly recurring revenue of subscriptions not yet expired, normalised to a month.", CurrencyMinor, Latest, Stock, "subscriptions", MRR_DIMS),
    MetricSpec::new("active_subscriptions", "Active subscriptions", "Subscriptions not yet expired at the end of the period (a cancelled one counts until it ends).", Count, Latest, Stock, "subscriptions", SUBSCRIPTION_DIMS),
    MetricSpec::new("new_subscriptions", "New subscriptions", "Subscriptions created in the period.", Count, Sum, Flow, "subscriptions", SUBSCRIPTION_DIMS),
    MetricSpec::new("churned_subscriptions", "Churned subscriptions", "Subscriptions that expired in the period.", Count, Sum, Flow, "subscriptions", SUBSCRIPTION_DIMS).bad_when_rising(),
];

//! Stripe's metric catalog: what each metric means, in the units it is stored in.

use crate::catalog::{
    Aggregation::{Latest, Sum},
    MetricKind::{Flow, Stock},
    MetricSpec,
    MetricUnit::{Count, CurrencyMinor},
};

const STRIPE_PAYMENT_DIMS: &[&str] = &["currency", "country"];
const STRIPE_SUBSCRIPTION_DIMS: &[&str] = &["plan", "interval"];

/// Stripe's metrics.
#[rustfmt::skip]
pub const STRIPE_METRICS: &[MetricSpec] = &[
    MetricSpec::new("gross_revenue", "Gross revenue", "Succeeded charges before refunds and fees.", CurrencyMinor, Sum, Flow, "revenue", STRIPE_PAYMENT_DIMS),
    MetricSpec::new("refunds", "Refunds", "Amount refunded.", CurrencyMinor, Sum, Flow, "revenue", STRIPE_PAYMENT_DIMS).bad_when_rising(),
    MetricSpec::new("net_revenue", "Net revenue", "Gross revenue minus refunds.", CurrencyMinor, Sum, Flow, "revenue", STRIPE_PAYMENT_DIMS),
    MetricSpec::new("successful_charges", "Successful charges", "Number of succeeded charges.", Count, Sum, Flow, "payments", STRIPE_PAYMENT_DIMS),
    MetricSpec::new("failed_payments", "Failed payments", "Number of failed charges.", Count, Sum, Flow, "payments", STRIPE_PAYMENT_DIMS).bad_when_rising(),
    MetricSpec::new("new_customers", "New customers", "Customers created.", Count, Sum, Flow, "customers", &["country"]),
    MetricSpec::new("active_subscriptions", "Active subscriptions", "Subscriptions active or trialing at the end of the period.", Count, Latest, Stock, "subscriptions", STRIPE_SUBSCRIPTION_DIMS),
    MetricSpec::new("mrr", "MRR", "Monthly recurring revenue of active subscriptions, normalised to a month.", CurrencyMinor, Latest, Stock, "subscriptions", STRIPE_SUBSCRIPTION_DIMS),
    MetricSpec::new("churned_subscriptions", "Churned subscriptions", "Subscriptions cancelled in the period.", Count, Sum, Flow, "subscriptions", STRIPE_SUBSCRIPTION_DIMS).bad_when_rising(),
    MetricSpec::new("arpu", "ARPU", "MRR divided by active subscriptions (per paying customer when each has one).", CurrencyMinor, Latest, Stock, "subscriptions", &[]).ratio("mrr", "active_subscriptions"),
];

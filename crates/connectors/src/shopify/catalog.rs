//! Shopify's metric catalog: what each metric means, in the units it is stored in.

use crate::catalog::{
    Aggregation::{Avg, Sum},
    MetricKind::Flow,
    MetricSpec,
    MetricUnit::{Count, CurrencyMinor},
};

const SHOPIFY_SALES_DIMS: &[&str] = &["channel", "country", "product"];
const SHOPIFY_ORDER_DIMS: &[&str] = &["channel", "country"];

/// Shopify's metrics.
#[rustfmt::skip]
pub const SHOPIFY_METRICS: &[MetricSpec] = &[
    MetricSpec::new("gross_sales", "Gross sales", "Line-item prices times quantities, before discounts and returns.", CurrencyMinor, Sum, Flow, "sales", SHOPIFY_SALES_DIMS),
    MetricSpec::new("net_sales", "Net sales", "Gross sales minus discounts and returns.", CurrencyMinor, Sum, Flow, "sales", SHOPIFY_SALES_DIMS),
    MetricSpec::new("orders", "Orders", "Orders placed.", Count, Sum, Flow, "orders", SHOPIFY_ORDER_DIMS),
    MetricSpec::new("aov", "Average order value", "Net sales divided by orders.", CurrencyMinor, Avg, Flow, "orders", SHOPIFY_ORDER_DIMS).ratio("net_sales", "orders"),
    MetricSpec::new("units_sold", "Units sold", "Quantity of items sold.", Count, Sum, Flow, "orders", SHOPIFY_SALES_DIMS),
    MetricSpec::new("refunds", "Refunds", "Amount refunded, shipping and tax included.", CurrencyMinor, Sum, Flow, "sales", SHOPIFY_ORDER_DIMS).bad_when_rising(),
    MetricSpec::new("new_customers", "New customers", "Customers who have ordered, counted when Shopify created them (at their first order or checkout).", Count, Sum, Flow, "customers", &[]),
    MetricSpec::new("returning_customers", "Returning customers", "Customers who have ordered more than once, counted when Shopify created them.", Count, Sum, Flow, "customers", &[]),
    MetricSpec::new("abandoned_checkouts", "Abandoned checkouts", "Checkouts started but not completed.", Count, Sum, Flow, "orders", &["country"]).bad_when_rising(),
];

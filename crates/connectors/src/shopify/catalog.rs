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
    MetricSpec::new("gross_sales", "Gross sales", "Line-item prices times quantities, before discounts and returns.", CurrencyMinor, Sum, Flow, "sales", SHOPIFY_SALES_DIMS)
        .defined(
            "Sum over the order's line items of the original unit price × quantity, in the store's currency: before discounts, returns, shipping and tax. Quantities are the order's current ones, so an edit changes them.",
            "Shopify order line items: `originalUnitPriceSet.shopMoney` × `quantity`; order `processedAt`, `createdAt`, `test`, `cancelledAt`.",
            "On the store-local day of the order's `processedAt`, else its `createdAt`.",
            "Test orders and cancelled orders (a cancelled order drops out of the day it was placed once the cancellation is synced). Shipping and taxes, and line items with no quantity or no readable price.",
        ),
    MetricSpec::new("net_sales", "Net sales", "Gross sales minus discounts and returns.", CurrencyMinor, Sum, Flow, "sales", SHOPIFY_SALES_DIMS)
        .defined(
            "Sum of the line items' discounted totals, minus every refund's full refunded amount, in the store's currency. Refunds include shipping and tax, so unlike Shopify's net sales a fully refunded order leaves its shipping and tax as negative net sales.",
            "Shopify order line items: `discountedTotalSet.shopMoney`; refunds: `totalRefundedSet.shopMoney`, `createdAt`.",
            "Line items on the store-local day of the order's `processedAt` (else `createdAt`); refunds on the day of the refund's `createdAt`.",
            "Test orders and cancelled orders (a cancelled order drops out of the day it was placed once the cancellation is synced). Shipping and taxes charged are not added.",
        ),
    MetricSpec::new("orders", "Orders", "Orders placed.", Count, Sum, Flow, "orders", SHOPIFY_ORDER_DIMS)
        .defined(
            "Number of orders, one per order.",
            "Shopify order: `processedAt`, `createdAt`, `test`, `cancelledAt`, `sourceName` (channel), `shippingAddress.countryCodeV2`.",
            "On the store-local day of the order's `processedAt`, else its `createdAt`.",
            "Test orders and cancelled orders (a cancelled order drops out of the day it was placed once the cancellation is synced). Refunded orders still count.",
        ),
    MetricSpec::new("aov", "Average order value", "Net sales divided by orders.", CurrencyMinor, Avg, Flow, "orders", SHOPIFY_ORDER_DIMS).ratio("net_sales", "orders")
        .defined(
            "Net sales divided by orders over the period, in the store's currency; because net sales subtract refunds (shipping and tax included), refunds lower it.",
            "The two metrics it divides: Shopify `net_sales` and `orders`.",
            "As net sales and orders: orders on their `processedAt` (else `createdAt`) day, refunds on their own day.",
            "Test orders and cancelled orders (a cancelled order drops out of the day it was placed once the cancellation is synced).",
        ),
    MetricSpec::new("units_sold", "Units sold", "Quantity of items sold.", Count, Sum, Flow, "orders", SHOPIFY_SALES_DIMS)
        .defined(
            "Sum of line-item `quantity`, the order's current quantities.",
            "Shopify order line items: `quantity`, `product.id`.",
            "On the store-local day of the order's `processedAt`, else its `createdAt`.",
            "Test orders and cancelled orders (a cancelled order drops out of the day it was placed once the cancellation is synced). Units later refunded or returned are not taken off.",
        ),
    MetricSpec::new("refunds", "Refunds", "Amount refunded, shipping and tax included.", CurrencyMinor, Sum, Flow, "sales", SHOPIFY_ORDER_DIMS).bad_when_rising()
        .defined(
            "Sum of each refund's refunded amount, shipping and tax included, in the store's currency.",
            "Shopify order refunds: `totalRefundedSet.shopMoney`, `createdAt`.",
            "On the store-local day of the refund's `createdAt`, not the day of the order.",
            "Refunds of test orders and of cancelled orders (a cancellation's refund is not counted), and zero refunds (restocks only).",
        ),
    MetricSpec::new("new_customers", "New customers", "Customers who have ordered, counted when Shopify created them (at their first order or checkout).", Count, Sum, Flow, "customers", &[])
        .defined(
            "Number of customers whose `numberOfOrders` is at least 1.",
            "Shopify customer: `createdAt`, `numberOfOrders`.",
            "On the store-local day of the customer's `createdAt` (Shopify creates the customer at their first order or checkout), not of their first order.",
            "Customers who have not ordered. Shopify's `numberOfOrders` counts test and cancelled orders, so a customer whose only order was cancelled still counts.",
        ),
    MetricSpec::new("returning_customers", "Returning customers", "Customers who have ordered more than once, counted when Shopify created them.", Count, Sum, Flow, "customers", &[])
        .defined(
            "Number of customers whose `numberOfOrders` is at least 2: of the customers acquired in the period, those who came back.",
            "Shopify customer: `createdAt`, `numberOfOrders`.",
            "On the store-local day of the customer's `createdAt`, not of their later orders.",
            "Customers with fewer than two orders. Test and cancelled orders count toward the two, as in Shopify's `numberOfOrders`.",
        ),
    MetricSpec::new("abandoned_checkouts", "Abandoned checkouts", "Checkouts started but not completed.", Count, Sum, Flow, "orders", &["country"]).bad_when_rising()
        .defined(
            "Number of checkouts whose `completedAt` is empty.",
            "Shopify abandoned checkout: `createdAt`, `completedAt`, `shippingAddress.countryCodeV2`.",
            "On the store-local day of the checkout's `createdAt`.",
            "Completed checkouts.",
        ),
];

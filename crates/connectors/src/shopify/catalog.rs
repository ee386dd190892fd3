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
            "Sum over the order's line items of the original unit price × quantity, in the store's currency: before discounts, returns, shipping and tax, as in Shopify's sales report. Quantities are the order's current ones, so an edit changes them.",
            "Shopify order line items: `originalUnitPriceSet.shopMoney` × `quantity`; order `processedAt`, `createdAt`, `test`, `cancelledAt`.",
            "Order date: the store-local day of the order's `processedAt`, else its `createdAt`; an edit made later changes that day's figure, not the day of the edit.",
            "Test orders and cancelled orders (a cancelled order drops out of the day it was placed once the cancellation is synced). Shipping and taxes, and line items with no quantity or no readable price.",
        ),
    MetricSpec::new("discounts", "Discounts", "What discount codes and automatic discounts took off line items.", CurrencyMinor, Sum, Flow, "sales", SHOPIFY_SALES_DIMS)
        .defined(
            "Per line item, its original price × quantity minus its discounted total, summed, in the store's currency; a positive amount that gross sales minus discounts minus returns turns into net sales (Shopify's report shows it negative).",
            "Shopify order line items: `originalUnitPriceSet.shopMoney`, `quantity`, `discountedTotalSet.shopMoney`.",
            "Order date: the store-local day of the order's `processedAt`, else its `createdAt`.",
            "Test and cancelled orders. Discounts on shipping (free-shipping codes lower shipping instead).",
        ),
    MetricSpec::new("returns", "Returns", "Merchandise given back in refunds, after its discounts, before tax.", CurrencyMinor, Sum, Flow, "sales", SHOPIFY_SALES_DIMS).bad_when_rising()
        .defined(
            "Sum of each refund's refunded line items' subtotal (after their discounts, before tax), in the store's currency. A refund whose payload has no line items or shipping lines (one that arrived by webhook, before the next sync) counts whole here.",
            "Shopify order refunds: `refundLineItems.subtotalSet.shopMoney`, `refundLineItems.lineItem` (the product), `totalRefundedSet`, `createdAt`.",
            "Refund date: the store-local day of the refund's `createdAt`, not the day of the order.",
            "Refunded shipping (in shipping) and refunded tax (in taxes). Refunds of test and cancelled orders.",
        ),
    MetricSpec::new("net_sales", "Net sales", "Gross sales minus discounts and returns, as Shopify's sales report defines it.", CurrencyMinor, Sum, Flow, "sales", SHOPIFY_SALES_DIMS)
        .defined(
            "Gross sales − discounts − returns, in the store's currency: the line items' discounted totals on the order's day, minus the merchandise given back on each refund's day. Shipping and taxes are not in it, charged or refunded.",
            "Shopify order line items: `discountedTotalSet.shopMoney`; refunds: `refundLineItems.subtotalSet.shopMoney`, `createdAt`.",
            "Sales on the order date (`processedAt`, else `createdAt`), returns on the refund date: Shopify's own booking of its sales report.",
            "Test orders and cancelled orders (a cancelled order drops out of the day it was placed once the cancellation is synced). Shipping and taxes, charged or refunded.",
        ),
    MetricSpec::new("shipping", "Shipping", "Shipping charged, minus shipping refunded.", CurrencyMinor, Sum, Flow, "sales", SHOPIFY_ORDER_DIMS)
        .defined(
            "The orders' shipping charged, minus the shipping given back in refunds, in the store's currency.",
            "Shopify order: `totalShippingPriceSet.shopMoney`; refunds: `refundShippingLines.subtotalAmountSet.shopMoney`.",
            "Charged on the order date (`processedAt`, else `createdAt`), refunded on the refund date.",
            "Tax on shipping (in taxes). Test and cancelled orders.",
        ),
    MetricSpec::new("taxes", "Taxes", "Tax charged, minus tax refunded.", CurrencyMinor, Sum, Flow, "sales", SHOPIFY_ORDER_DIMS)
        .defined(
            "The orders' tax charged, minus the tax given back in refunds (on line items and on shipping), in the store's currency.",
            "Shopify order: `totalTaxSet.shopMoney`; refunds: `refundLineItems.totalTaxSet.shopMoney`, `refundShippingLines.taxAmountSet.shopMoney`.",
            "Charged on the order date (`processedAt`, else `createdAt`), refunded on the refund date.",
            "Duties. Test and cancelled orders.",
        ),
    MetricSpec::new("total_sales", "Total sales", "Net sales plus shipping and taxes.", CurrencyMinor, Sum, Flow, "sales", SHOPIFY_ORDER_DIMS)
        .defined(
            "Net sales + shipping + taxes, in the store's currency, day by day: what the orders charged after discounts, minus the merchandise, shipping and tax given back.",
            "The three metrics it adds, from the order's line items, `totalShippingPriceSet`, `totalTaxSet` and its refunds' line items and shipping lines.",
            "As its parts: charges on the order date, refunds on the refund date.",
            "Test and cancelled orders; duties and tips (not synced); refunds of money that was neither merchandise, shipping nor tax.",
        ),
    MetricSpec::new("orders", "Orders", "Orders placed.", Count, Sum, Flow, "orders", SHOPIFY_ORDER_DIMS)
        .defined(
            "Number of orders, one per order.",
            "Shopify order: `processedAt`, `createdAt`, `test`, `cancelledAt`, `sourceName` (channel), `shippingAddress.countryCodeV2`.",
            "On the store-local day of the order's `processedAt`, else its `createdAt`.",
            "Test orders and cancelled orders (a cancelled order drops out of the day it was placed once the cancellation is synced). Refunded orders still count.",
        ),
    MetricSpec::new("returning_customer_orders", "Orders from returning customers", "Orders whose customer had ordered before.", Count, Sum, Flow, "customers", SHOPIFY_ORDER_DIMS)
        .defined(
            "Number of orders whose `customerOrderIndex` is 2 or more: the customer had an earlier order (any order, test and cancelled ones included, as Shopify counts them).",
            "Shopify order: `customerJourneySummary.customerOrderIndex`, `processedAt`, `createdAt`.",
            "On the store-local day of the order's `processedAt`, else its `createdAt`.",
            "Guest orders (no customer) and orders whose journey Shopify does not report; test and cancelled orders.",
        ),
    MetricSpec::new("first_orders", "First orders", "Orders that were their customer's first.", Count, Sum, Flow, "customers", SHOPIFY_ORDER_DIMS)
        .defined(
            "Number of orders whose `customerOrderIndex` is 1.",
            "Shopify order: `customerJourneySummary.customerOrderIndex`, `processedAt`, `createdAt`.",
            "On the store-local day of the order's `processedAt`, else its `createdAt`.",
            "Guest orders (no customer) and orders whose journey Shopify does not report; test and cancelled orders.",
        ),
    MetricSpec::new("new_customer_sales", "New customer sales", "Sales from customers' first orders, after discounts.", CurrencyMinor, Sum, Flow, "customers", SHOPIFY_SALES_DIMS)
        .defined(
            "Sum of the line items' discounted totals of orders whose `customerOrderIndex` is 1, in the store's currency (net sales before returns).",
            "Shopify order line items: `discountedTotalSet.shopMoney`; order `customerJourneySummary.customerOrderIndex`.",
            "Order date: the store-local day of the order's `processedAt`, else its `createdAt`.",
            "Returns (booked on the refund's day without a customer split), shipping, taxes, guest orders, test and cancelled orders.",
        ),
    MetricSpec::new("returning_customer_sales", "Returning customer sales", "Sales from customers' later orders, after discounts.", CurrencyMinor, Sum, Flow, "customers", SHOPIFY_SALES_DIMS)
        .defined(
            "Sum of the line items' discounted totals of orders whose `customerOrderIndex` is 2 or more, in the store's currency (net sales before returns).",
            "Shopify order line items: `discountedTotalSet.shopMoney`; order `customerJourneySummary.customerOrderIndex`.",
            "Order date: the store-local day of the order's `processedAt`, else its `createdAt`.",
            "Returns (booked on the refund's day without a customer split), shipping, taxes, guest orders, test and cancelled orders.",
        ),
    MetricSpec::new("aov", "Average order value", "Net sales divided by orders.", CurrencyMinor, Avg, Flow, "orders", SHOPIFY_ORDER_DIMS).ratio("net_sales", "orders")
        .defined(
            "Net sales divided by orders over the period, in the store's currency; because net sales subtract returns, returns in the period lower it.",
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
    MetricSpec::new("refunds", "Refunds", "Money refunded: returns, shipping and tax given back.", CurrencyMinor, Sum, Flow, "sales", SHOPIFY_ORDER_DIMS).bad_when_rising()
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

//! Paddle's metric catalog, with Stripe's ids where they mean the same.

use crate::catalog::{
    joined, mrr_movement_metrics,
    Aggregation::{Latest, Sum},
    MetricKind::{Flow, Stock},
    MetricSpec,
    MetricUnit::{Count, CurrencyMinor},
};

const PAYMENT_DIMS: &[&str] = &["currency"];
const SUBSCRIPTION_DIMS: &[&str] = &["plan"];
const MRR_DIMS: &[&str] = &["plan", "currency"];

/// Paddle's metrics: its own, then the MRR movements the server derives from `mrr`.
pub const PADDLE_METRICS: &[MetricSpec] = &CATALOG;

const CATALOG: [MetricSpec; OWN.len() + MOVEMENTS.len()] = joined(OWN, &MOVEMENTS);
const MOVEMENTS: [MetricSpec; 10] = mrr_movement_metrics(
    "The customer's MRR, from Paddle subscriptions (`customer_id`, `items`, `status`, `canceled_at`).",
);

#[rustfmt::skip]
const OWN: &[MetricSpec] = &[
    MetricSpec::new("gross_revenue", "Gross revenue", "Completed transactions (tax included), before refunds.", CurrencyMinor, Sum, Flow, "revenue", PAYMENT_DIMS)
        .defined(
            "Sum of `details.totals.total` of transactions whose status is `completed` or `paid`, tax included, in the store's currency; refunds are not taken off.",
            "Paddle transaction: `details.totals.total`, `status`, `billed_at`, `created_at`, `currency_code`.",
            "On the store-local day of the transaction's `billed_at`, else its `created_at`.",
            "Draft, ready, billed-but-unpaid, past-due and canceled transactions. Tax and Paddle's fees are not taken off.",
        ),
    MetricSpec::new("refunds", "Refunds", "Approved refund adjustments.", CurrencyMinor, Sum, Flow, "revenue", PAYMENT_DIMS).bad_when_rising()
        .defined(
            "Sum of `totals.total` of adjustments whose action is `refund` and status `approved`, in the store's currency.",
            "Paddle adjustment: `action`, `status`, `totals.total`, `created_at`, `currency_code`.",
            "On the store-local day of the adjustment's `created_at`.",
            "Pending and rejected refunds, credits and chargebacks.",
        ),
    MetricSpec::new("net_revenue", "Net revenue", "Gross revenue minus refunds.", CurrencyMinor, Sum, Flow, "revenue", PAYMENT_DIMS)
        .defined(
            "Gross revenue minus refunds: completed or paid transactions' `details.totals.total` less approved refund adjustments' `totals.total`, in the store's currency, tax included.",
            "Paddle transaction `details.totals.total` and adjustment `totals.total`, with their status and times.",
            "Transactions on the store-local day of `billed_at` (else `created_at`), refunds on the day of the adjustment's `created_at`.",
            "Unpaid and canceled transactions, credits, chargebacks and Paddle's fees.",
        ),
    MetricSpec::new("new_customers", "New customers", "Customers created.", Count, Sum, Flow, "customers", &[])
        .defined(
            "Number of customers created.",
            "Paddle customer: `created_at`.",
            "On the store-local day of the customer's `created_at`.",
            "Nothing: a customer who never paid counts too.",
        ),
    MetricSpec::new("mrr", "MRR", "Monthly recurring revenue of subscriptions not canceled, normalised to a month.", CurrencyMinor, Latest, Stock, "subscriptions", MRR_DIMS)
        .defined(
            "Sum over subscriptions not canceled of each item's `unit_price.amount` × `quantity`, normalised to a month by its `billing_cycle` (a year ÷ 12, a week × 52 ÷ 12, a day × 365 ÷ 12), in the store's currency. Today's items are applied to the whole life of the subscription, so a plan change re-prices its history.",
            "Paddle subscription: `created_at`, `status`, `canceled_at`, `items[].price.id`, `items[].price.unit_price.amount`, `quantity`, `billing_cycle`.",
            "From the store-local day of `created_at` until `canceled_at` (else `updated_at`); the value shown is the one at the end of the period.",
            "Canceled subscriptions. Trialing, paused, past-due and scheduled-to-cancel ones still count; discounts and tax are not taken off.",
        ),
    MetricSpec::new("arr", "ARR", "Annual run rate: MRR × 12.", CurrencyMinor, Latest, Stock, "subscriptions", MRR_DIMS)
        .defined(
            "MRR × 12, subscription by subscription: the monthly amount of each subscription not canceled, multiplied by 12, in the store's currency.",
            "As MRR: Paddle subscription `created_at`, `status`, `canceled_at`, `items[].price`, `quantity`.",
            "As MRR: the value at the end of the period.",
            "What MRR leaves out: canceled subscriptions; discounts and tax are not taken off.",
        ),
    MetricSpec::new("active_subscriptions", "Active subscriptions", "Subscriptions not canceled at the end of the period (one scheduled to cancel counts until it does).", Count, Latest, Stock, "subscriptions", SUBSCRIPTION_DIMS)
        .defined(
            "Number of subscriptions created and not canceled.",
            "Paddle subscription: `created_at`, `status`, `canceled_at`, `items[].price.id`.",
            "From the store-local day of `created_at` until `canceled_at` (else `updated_at`); the value shown is the one at the end of the period.",
            "Canceled subscriptions only. Trialing, paused and past-due ones count, and one scheduled to cancel counts until Paddle cancels it.",
        ),
    MetricSpec::new("new_subscriptions", "New subscriptions", "Subscriptions created in the period.", Count, Sum, Flow, "subscriptions", SUBSCRIPTION_DIMS)
        .defined(
            "Number of subscriptions created.",
            "Paddle subscription: `created_at`, `status`, `canceled_at`, `items[].price.id`.",
            "On the store-local day of the subscription's `created_at`.",
            "Nothing: trials count when created.",
        ),
    MetricSpec::new("churned_subscriptions", "Churned subscriptions", "Subscriptions canceled in the period.", Count, Sum, Flow, "subscriptions", SUBSCRIPTION_DIMS).bad_when_rising()
        .defined(
            "Number of subscriptions whose status is `canceled`.",
            "Paddle subscription: `created_at`, `status`, `canceled_at`, `items[].price.id`, `updated_at`.",
            "On the store-local day of `canceled_at` (else `updated_at`).",
            "Subscriptions only scheduled to cancel, and paused ones.",
        ),
];

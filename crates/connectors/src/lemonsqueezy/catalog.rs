//! LemonSqueezy's metric catalog, with Stripe's ids where they mean the same.

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

/// LemonSqueezy's metrics: its own, then the MRR movements the server derives from `mrr`.
pub const LEMONSQUEEZY_METRICS: &[MetricSpec] = &CATALOG;

const CATALOG: [MetricSpec; OWN.len() + MOVEMENTS.len()] = joined(OWN, &MOVEMENTS);
const MOVEMENTS: [MetricSpec; 10] = mrr_movement_metrics(
    "The customer's MRR, from LemonSqueezy subscriptions (`customer_id`, `status`, `ends_at`) and their item's price.",
);

#[rustfmt::skip]
const OWN: &[MetricSpec] = &[
    MetricSpec::new("gross_revenue", "Gross revenue", "Paid orders and subscription renewals (tax included), before refunds.", CurrencyMinor, Sum, Flow, "revenue", PAYMENT_DIMS)
        .defined(
            "Sum of `total` of paid orders and of subscription invoices for renewals and plan changes, tax included, in the store's currency; refunds are not taken off.",
            "LemonSqueezy order (status `paid`, `refunded` or `partial_refund`) and subscription invoice (not `initial`): `total`, `created_at`, `currency`.",
            "On the store-local day of the order's or invoice's `created_at`.",
            "Pending, failed and void orders; `initial` subscription invoices (the first order already counts them). Tax is not taken off, and LemonSqueezy's fees are not subtracted.",
        ),
    MetricSpec::new("refunds", "Refunds", "Amount refunded on orders and subscription invoices.", CurrencyMinor, Sum, Flow, "revenue", PAYMENT_DIMS).bad_when_rising()
        .defined(
            "Sum of `refunded_amount` of refunded orders and invoices (the whole `total` for an older one that only says `refunded`), in the store's currency.",
            "LemonSqueezy order and subscription invoice: `refunded_amount`, `refunded`, `total`, `refunded_at`.",
            "On the store-local day of `refunded_at` (else the record's `updated_at`).",
            "Refunds of `initial` subscription invoices (counted on their order) and of unpaid orders. Several partial refunds of one order are booked together on the last refund's day.",
        ),
    MetricSpec::new("net_revenue", "Net revenue", "Gross revenue minus refunds.", CurrencyMinor, Sum, Flow, "revenue", PAYMENT_DIMS)
        .defined(
            "Gross revenue minus refunds: paid orders' and renewal invoices' `total` less their `refunded_amount`, in the store's currency, tax included.",
            "LemonSqueezy order (status `paid`, `refunded` or `partial_refund`) and subscription invoice (not `initial`): `total`, `created_at`, `currency`, `refunded_amount`, `refunded_at`.",
            "Sales on the store-local day of `created_at`, refunds on the day of `refunded_at`.",
            "Pending, failed and void orders, `initial` invoices (their order counts), and LemonSqueezy's fees.",
        ),
    MetricSpec::new("new_customers", "New customers", "Customers created in the store.", Count, Sum, Flow, "customers", &[])
        .defined(
            "Number of customers created in the store.",
            "LemonSqueezy customer: `created_at`.",
            "On the store-local day of the customer's `created_at`.",
            "Nothing: a customer who never paid counts too.",
        ),
    MetricSpec::new("mrr", "MRR", "Monthly recurring revenue of paying subscriptions not yet expired, net of discount codes, normalised to a month.", CurrencyMinor, Latest, Stock, "subscriptions", MRR_DIMS)
        .defined(
            "Sum over subscriptions not expired of the variant's `unit_price` × quantity, less the discount code its order redeemed while that lasts (a percentage rounded half up, or an amount; `once`: the first billing period, `repeating`: `duration_in_months`, `forever`), normalised to a month (a year ÷ 12, a week × 52 ÷ 12, a day × 365 ÷ 12), in the store's currency, before tax. It is today's price applied to the whole life of the subscription, so a plan change re-prices its history.",
            "LemonSqueezy subscription: `created_at`, `trial_ends_at`, `status`, `ends_at`, `order_id`, `variant_id`, `first_subscription_item.quantity`; the variant's price `unit_price`, `renewal_interval_unit`, `renewal_interval_quantity`; the discount redemption of its order (`order_id`, `discount_id`) and that discount's `amount`, `amount_type`, `duration`, `duration_in_months`.",
            "From the store-local day of `created_at` (of `trial_ends_at` after a free trial) until `ends_at` once expired; the value shown is the one at the end of the period.",
            "Expired subscriptions, tax, and free trials until their `trial_ends_at` (a trial that expires unpaid never adds any). Paused, past-due and cancelled-but-not-yet-ended subscriptions still count.",
        ),
    MetricSpec::new("arr", "ARR", "Annual run rate: MRR × 12.", CurrencyMinor, Latest, Stock, "subscriptions", MRR_DIMS)
        .defined(
            "MRR × 12, subscription by subscription: the monthly amount of each paying subscription not expired, net of its discount code while that lasts, multiplied by 12, in the store's currency.",
            "As MRR: LemonSqueezy subscription `created_at`, `trial_ends_at`, `status`, `ends_at`, `order_id`, `variant_id`, quantity; the variant's price; its order's discount.",
            "As MRR: the value at the end of the period.",
            "What MRR leaves out: expired subscriptions, trials, tax.",
        ),
    MetricSpec::new("active_subscriptions", "Active subscriptions", "Paying subscriptions not yet expired at the end of the period (a cancelled one counts until it ends; trials do not).", Count, Latest, Stock, "subscriptions", SUBSCRIPTION_DIMS)
        .defined(
            "Number of subscriptions created and not yet expired, from the end of their free trial if they had one.",
            "LemonSqueezy subscription: `created_at`, `trial_ends_at`, `status`, `ends_at`, `variant_id`.",
            "From the store-local day of `created_at` (of `trial_ends_at` after a trial) until `ends_at` once expired; the value shown is the one at the end of the period.",
            "Expired subscriptions, trials still running (`on_trial`) and trials that end unpaid. Paused, past-due and cancelled ones count until they expire.",
        ),
    MetricSpec::new("new_subscriptions", "New subscriptions", "Subscriptions created in the period.", Count, Sum, Flow, "subscriptions", SUBSCRIPTION_DIMS)
        .defined(
            "Number of subscriptions created.",
            "LemonSqueezy subscription: `created_at`, `status`, `ends_at`, `variant_id`.",
            "On the store-local day of the subscription's `created_at`.",
            "Nothing: trials count when created, whether or not they convert.",
        ),
    MetricSpec::new("churned_subscriptions", "Churned subscriptions", "Subscriptions that expired in the period.", Count, Sum, Flow, "subscriptions", SUBSCRIPTION_DIMS).bad_when_rising()
        .defined(
            "Number of subscriptions whose status is `expired`, other than trials that ended unpaid.",
            "LemonSqueezy subscription: `created_at`, `trial_ends_at`, `status`, `ends_at`, `variant_id`, `updated_at`.",
            "On the store-local day of `ends_at` (else `updated_at`), not the day the cancellation was asked for.",
            "Cancelled subscriptions that have not yet expired, paused ones, and trials that ended unpaid.",
        ),
    MetricSpec::new("trials_started", "Trials started", "Subscriptions that started with a free trial.", Count, Sum, Flow, "subscriptions", SUBSCRIPTION_DIMS)
        .defined(
            "Number of subscriptions with a `trial_ends_at`.",
            "LemonSqueezy subscription: `created_at`, `trial_ends_at`, `variant_id`.",
            "On the store-local day of the subscription's `created_at` (the trial's start).",
            "Subscriptions without a trial.",
        ),
    MetricSpec::new("trial_conversions", "Trial conversions", "Trials that became paying subscriptions.", Count, Sum, Flow, "subscriptions", SUBSCRIPTION_DIMS)
        .defined(
            "Number of subscriptions with a `trial_ends_at` whose status is no longer `on_trial` and whose `ends_at` (if set) is after the trial's end.",
            "LemonSqueezy subscription: `trial_ends_at`, `status`, `ends_at`, `variant_id`.",
            "On the store-local day of `trial_ends_at`, not the day the trial started.",
            "Trials still running and trials cancelled to end with the trial.",
        ),
];

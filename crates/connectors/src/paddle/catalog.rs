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
    "The customer's MRR, from Paddle subscription transactions (`customer_id`, `billing_period`, `details.totals`).",
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
    MetricSpec::new("paddle_fees", "Paddle fees", "What Paddle kept from transactions as merchant of record, less fees it returned on refunds.", CurrencyMinor, Sum, Flow, "revenue", PAYMENT_DIMS).bad_when_rising()
        .defined(
            "Sum of `details.totals.fee` of completed or paid transactions, less `totals.fee` of approved refund adjustments (the part of the fee Paddle gives back), in the store's currency.",
            "Paddle transaction `details.totals.fee`, `status`, `billed_at`; adjustment `action`, `status`, `totals.fee`, `created_at`.",
            "Transactions on the store-local day of `billed_at` (else `created_at`), refunds on the day of the adjustment's `created_at`.",
            "Unpaid and canceled transactions, credits and chargebacks (and their fees).",
        ),
    MetricSpec::new("earnings", "Earnings", "Net revenue after tax and Paddle's fees: what Paddle pays out for the period.", CurrencyMinor, Sum, Flow, "revenue", PAYMENT_DIMS)
        .defined(
            "Sum of `details.totals.earnings` (total less tax and Paddle's fee) of completed or paid transactions, less `totals.earnings` of approved refund adjustments, in the store's currency.",
            "Paddle transaction `details.totals.earnings`, `status`, `billed_at`; adjustment `action`, `status`, `totals.earnings`, `created_at`.",
            "Transactions on the store-local day of `billed_at` (else `created_at`), refunds on the day of the adjustment's `created_at`; not the day of the payout.",
            "Tax, Paddle's fees, unpaid and canceled transactions, credits and chargebacks.",
        ),
    MetricSpec::new("new_customers", "New customers", "Customers created.", Count, Sum, Flow, "customers", &[])
        .defined(
            "Number of customers created.",
            "Paddle customer: `created_at`.",
            "On the store-local day of the customer's `created_at`.",
            "Nothing: a customer who never paid counts too.",
        ),
    MetricSpec::new("mrr", "MRR", "Monthly recurring revenue of the billing periods subscriptions have paid for, net of discounts, normalised to a month.", CurrencyMinor, Latest, Stock, "subscriptions", MRR_DIMS)
        .defined(
            "Sum, over the subscription transactions whose billing period covers the day, of the transaction's `subtotal` less its `discount` (before tax), normalised to a month by its items' `billing_cycle` (a year ÷ 12, a week × 52 ÷ 12, a day × 365 ÷ 12), in the store's currency. A discount that stops (after its `maximum_recurring_intervals`) raises MRR from the first period billed without it; a plan change counts from the next period billed.",
            "Paddle transaction (status `completed` or `paid`, with a `subscription_id`): `billing_period.starts_at`, `billing_period.ends_at`, `details.totals.subtotal`, `details.totals.discount`, `items[0].price.id`, `items[0].price.billing_cycle`, `customer_id`.",
            "From the store-local day of the billing period's start until its end; the value shown is the one at the end of the period.",
            "Tax, one-off transactions, and transactions not completed. A subscription canceled immediately keeps the MRR of the period it paid for until that period ends; one scheduled to cancel leaves when its last period ends.",
        ),
    MetricSpec::new("arr", "ARR", "Annual run rate: MRR × 12.", CurrencyMinor, Latest, Stock, "subscriptions", MRR_DIMS)
        .defined(
            "MRR × 12, transaction by transaction: the monthly amount each paid billing period covering the day is worth, net of its discount, multiplied by 12, in the store's currency.",
            "As MRR: Paddle transactions' `billing_period`, `details.totals.subtotal` and `discount`, items' `billing_cycle`.",
            "As MRR: the value at the end of the period.",
            "What MRR leaves out: tax, one-off and incomplete transactions.",
        ),
    MetricSpec::new("active_subscriptions", "Active subscriptions", "Paying subscriptions not canceled at the end of the period (one scheduled to cancel counts until it does; trials do not).", Count, Latest, Stock, "subscriptions", SUBSCRIPTION_DIMS)
        .defined(
            "Number of subscriptions created and not canceled, from the end of their free trial if they had one.",
            "Paddle subscription: `created_at`, `status`, `canceled_at`, `items[0].trial_dates`, `items[].price.id`.",
            "From the store-local day of `created_at` (of the trial's end after a trial) until `canceled_at` (else `updated_at`); the value shown is the one at the end of the period.",
            "Canceled subscriptions, trials still running and trials canceled before they ended. Paused and past-due ones count, and one scheduled to cancel counts until Paddle cancels it.",
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
            "Number of subscriptions whose status is `canceled`, other than trials canceled before they ended.",
            "Paddle subscription: `created_at`, `status`, `canceled_at`, `items[0].trial_dates`, `items[].price.id`, `updated_at`.",
            "On the store-local day of `canceled_at` (else `updated_at`).",
            "Subscriptions only scheduled to cancel, paused ones, and trials that ended unpaid.",
        ),
    MetricSpec::new("trials_started", "Trials started", "Subscriptions that started with a free trial.", Count, Sum, Flow, "subscriptions", SUBSCRIPTION_DIMS)
        .defined(
            "Number of subscriptions whose first item has `trial_dates`.",
            "Paddle subscription: `items[0].trial_dates.starts_at`, `items[0].price.id`.",
            "On the store-local day of `trial_dates.starts_at`.",
            "Subscriptions without a trial.",
        ),
    MetricSpec::new("trial_conversions", "Trial conversions", "Trials that became paying subscriptions.", Count, Sum, Flow, "subscriptions", SUBSCRIPTION_DIMS)
        .defined(
            "Number of subscriptions with `trial_dates` whose status is no longer `trialing` and that were not canceled by the trial's end.",
            "Paddle subscription: `items[0].trial_dates.ends_at`, `status`, `canceled_at`, `items[0].price.id`.",
            "On the store-local day of `trial_dates.ends_at`, not the day the trial started.",
            "Trials still running and trials canceled at or before their end.",
        ),
];

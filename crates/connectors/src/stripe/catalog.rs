//! Stripe's metric catalog: what each metric means, in the units it is stored in.

use crate::catalog::{
    joined, mrr_movement_metrics,
    Aggregation::{Latest, Sum},
    MetricKind::{Flow, Stock},
    MetricSpec,
    MetricUnit::{Count, CurrencyMinor},
};

const STRIPE_PAYMENT_DIMS: &[&str] = &["currency", "country"];
const STRIPE_SUBSCRIPTION_DIMS: &[&str] = &["plan", "interval"];
const STRIPE_BALANCE_DIMS: &[&str] = &["currency"];

/// Stripe's metrics: its own, then the MRR movements the server derives from `mrr`.
pub const STRIPE_METRICS: &[MetricSpec] = &STRIPE_CATALOG;

const STRIPE_CATALOG: [MetricSpec; OWN.len() + MOVEMENTS.len()] = joined(OWN, &MOVEMENTS);
const MOVEMENTS: [MetricSpec; 10] = mrr_movement_metrics(
    "The customer's MRR, from Stripe invoice lines and subscriptions (`customer`, `ended_at`).",
);

#[rustfmt::skip]
const OWN: &[MetricSpec] = &[
    MetricSpec::new("gross_revenue", "Gross revenue", "Succeeded charges before refunds and fees.", CurrencyMinor, Sum, Flow, "revenue", STRIPE_PAYMENT_DIMS)
        .defined(
            "Sum of `amount` of every charge whose status is `succeeded`, in the store's currency; refunds and Stripe fees are not taken off.",
            "Stripe charge: `amount`, `status`, `currency`, `created`, `billing_details.address.country`.",
            "On the store-local day of the charge's `created`.",
            "Failed and pending charges. Test-mode charges are only left out by connecting a live key; disputes are not subtracted.",
        ),
    MetricSpec::new("refunds", "Refunds", "Amount refunded.", CurrencyMinor, Sum, Flow, "revenue", STRIPE_PAYMENT_DIMS).bad_when_rising()
        .defined(
            "Sum of `amount` of every refund whose status is `succeeded` or `pending`, in the store's currency.",
            "Stripe refund: `amount`, `status`, `currency`, `created`.",
            "On the store-local day of the refund's `created`, not the day of the charge it refunds.",
            "Failed and cancelled refunds. Disputes (chargebacks) are not refunds and are not counted. Refunds carry no country, so a country breakdown puts them under (none).",
        ),
    MetricSpec::new("net_revenue", "Net revenue", "Gross revenue minus refunds.", CurrencyMinor, Sum, Flow, "revenue", STRIPE_PAYMENT_DIMS)
        .defined(
            "Gross revenue minus refunds: each succeeded charge's `amount`, less each succeeded or pending refund's `amount`, in the store's currency. Stripe fees are not subtracted.",
            "Stripe charge `amount` and refund `amount`, with their `status`, `currency` and `created`.",
            "Charges on the store-local day of their `created`, refunds on the day of theirs: a refund lowers the day it happens, not the day of the sale.",
            "Failed and pending charges, failed and cancelled refunds, disputes and Stripe's fees.",
        ),
    MetricSpec::new("stripe_fees", "Stripe fees", "What Stripe kept from payments: processing fees net of fees it returned.", CurrencyMinor, Sum, Flow, "revenue", STRIPE_BALANCE_DIMS).bad_when_rising()
        .defined(
            "Sum of `fee` of every balance transaction, in the balance's currency: positive for the fee on a charge, negative where Stripe returned a fee.",
            "Stripe balance transaction: `fee`, `currency`, `created`.",
            "On the store-local day of the balance transaction's `created` (a charge's transaction is created with the charge), not when the money becomes available.",
            "Fees Stripe bills separately rather than withholding from a payment (balance transactions of type `stripe_fee`, for example Billing or Radar usage), and fees of connected accounts.",
        ),
    MetricSpec::new("net_volume", "Net volume", "Sales minus refunds, disputes and Stripe's fees: what Stripe's dashboard calls net volume.", CurrencyMinor, Sum, Flow, "revenue", STRIPE_BALANCE_DIMS)
        .defined(
            "Sum of `net` (amount minus fee) of the balance transactions of sales, refunds and adjustments (types `charge`, `payment`, `refund`, `payment_refund`, `payment_failure_refund`, `adjustment`), in the balance's currency. So it is net revenue after Stripe's fees and disputes.",
            "Stripe balance transaction: `type`, `net`, `currency`, `created`.",
            "On the store-local day of the balance transaction's `created`: a refund lowers the day it happens.",
            "Payouts, transfers, top-ups and Stripe's separately billed fees (type `stripe_fee`), which move the balance without being sales. Charges in another currency count converted into the balance's currency, as Stripe does.",
        ),
    MetricSpec::new("successful_charges", "Successful charges", "Number of succeeded charges.", Count, Sum, Flow, "payments", STRIPE_PAYMENT_DIMS)
        .defined(
            "Number of charges whose status is `succeeded`.",
            "Stripe charge: `status`, `created`, `currency`, `billing_details.address.country`.",
            "On the store-local day of the charge's `created`.",
            "Failed and pending charges. A charge refunded later still counts.",
        ),
    MetricSpec::new("failed_payments", "Failed payments", "Number of failed charges.", Count, Sum, Flow, "payments", STRIPE_PAYMENT_DIMS).bad_when_rising()
        .defined(
            "Number of charges whose status is `failed`.",
            "Stripe charge: `status`, `created`, `currency`, `billing_details.address.country`.",
            "On the store-local day of the charge's `created`.",
            "Succeeded and pending charges. Each failed retry of the same invoice counts again; failed invoices without a charge are not counted.",
        ),
    MetricSpec::new("new_customers", "New customers", "Customers created.", Count, Sum, Flow, "customers", &["country"])
        .defined(
            "Number of customer objects created.",
            "Stripe customer: `created`, `address.country`.",
            "On the store-local day of the customer's `created`.",
            "Nothing: a customer created without ever paying counts as well.",
        ),
    MetricSpec::new("active_subscriptions", "Active subscriptions", "Paying subscriptions at the end of the period (trials and fully discounted ones are not paying).", Count, Latest, Stock, "subscriptions", STRIPE_SUBSCRIPTION_DIMS)
        .defined(
            "Number of recurring licensed invoice lines whose billing period covers the day and whose amount net of discounts is more than nothing, so the paying subscriptions invoiced for that day; a subscription with two recurring prices counts twice, and one that ended before its period did leaves when it ended.",
            "Stripe invoice (status `open`, `paid` or `uncollectible`): each line's `amount`, `discount_amounts`, `price.recurring`, `period.start`, `period.end`, `price.id`; subscription `ended_at`, `current_period_end`.",
            "From the store-local day of a line's `period.start` until its `period.end`; the value shown is the one at the end of the period.",
            "Trialing subscriptions (their trial invoice is $0) and subscriptions a coupon makes free: Stripe's dashboard counts trials as subscribers, this counts only paying ones. Draft and void invoices, proration and metered lines. An open (unpaid) invoice still counts until dunning ends the subscription.",
        ),
    MetricSpec::new("mrr", "MRR", "Monthly recurring revenue of paying subscriptions, net of coupons, normalised to a month.", CurrencyMinor, Latest, Stock, "subscriptions", STRIPE_SUBSCRIPTION_DIMS)
        .defined(
            "Sum, over the recurring invoice lines covering the day, of the line's `amount` less its `discount_amounts` (coupons on the line or on the whole invoice: percent or amount off, once, repeating or forever), normalised to a month (a year ÷ 12, a week × 52 ÷ 12, a day × 365 ÷ 12), in the store's currency, before tax. A coupon that ends changes MRR when the next invoice is billed at full price.",
            "Stripe invoice (status `open`, `paid` or `uncollectible`): each line's `amount`, `discount_amounts`, `price.recurring.interval`, `interval_count`, `usage_type`, `proration`, `period`; subscription `ended_at`, `items.price.unit_amount` × `quantity` less its `discount` when it ended mid-period.",
            "From the store-local day of a line's `period.start` until its `period.end`; a subscription that ended before its period did leaves on the day of its `ended_at`. The value shown is the one at the end of the period.",
            "Taxes, draft and void invoices (a period whose collection was paused is billed by a void invoice, so MRR falls for it and comes back after), one-off (non-recurring) lines, proration lines (an upgrade mid-period counts from the next full invoice) and metered lines (usage billed in arrears is not recurring). Trials add nothing. Unpaid open and uncollectible invoices still count.",
        ),
    MetricSpec::new("arr", "ARR", "Annual run rate: MRR × 12.", CurrencyMinor, Latest, Stock, "subscriptions", STRIPE_SUBSCRIPTION_DIMS)
        .defined(
            "MRR × 12, line by line: the recurring invoice lines covering the day, net of their discounts, normalised to a month and multiplied by 12, in the store's currency.",
            "As MRR: Stripe invoice lines' `amount`, `discount_amounts`, `price.recurring`, `period`.",
            "As MRR: the value at the end of the period.",
            "What MRR leaves out: taxes, one-off, proration and metered lines, trials.",
        ),
    MetricSpec::new("trials_started", "Trials started", "Subscriptions that started with a free trial.", Count, Sum, Flow, "subscriptions", STRIPE_SUBSCRIPTION_DIMS)
        .defined(
            "Number of subscriptions with a `trial_start`.",
            "Stripe subscription: `trial_start`, the first item's `price.id` and `price.recurring.interval`.",
            "On the store-local day of `trial_start`.",
            "Subscriptions without a trial.",
        ),
    MetricSpec::new("trial_conversions", "Trial conversions", "Trials that became paying subscriptions.", Count, Sum, Flow, "subscriptions", STRIPE_SUBSCRIPTION_DIMS)
        .defined(
            "Number of subscriptions whose trial has ended (status no longer `trialing`) and that did not end with it.",
            "Stripe subscription: `trial_end`, `status`, `ended_at`, the first item's `price.id` and `price.recurring.interval`.",
            "On the store-local day of `trial_end`, not the day the trial started.",
            "Trials still running and trials cancelled before or at their end.",
        ),
    MetricSpec::new("churned_subscriptions", "Churned subscriptions", "Subscriptions cancelled in the period.", Count, Sum, Flow, "subscriptions", STRIPE_SUBSCRIPTION_DIMS).bad_when_rising()
        .defined(
            "Number of subscriptions that ended, other than trials that ended unpaid.",
            "Stripe subscription: `ended_at`, `trial_end`, the first item's `price.id` and `price.recurring.interval`.",
            "On the store-local day of the subscription's `ended_at`, not the day cancellation was requested.",
            "Subscriptions set to cancel at the period's end that have not ended yet, paused ones, and trials that ended without converting.",
        ),
    MetricSpec::new("arpu", "ARPU", "MRR divided by active subscriptions (per paying customer when each has one).", CurrencyMinor, Latest, Stock, "subscriptions", &[]).ratio("mrr", "active_subscriptions")
        .defined(
            "MRR divided by active subscriptions at the end of the period, in the store's currency; per paying customer only when each customer has one subscription.",
            "The two metrics it divides: Stripe `mrr` and `active_subscriptions` (invoice lines).",
            "As MRR and active subscriptions: the values at the end of the period.",
            "What MRR and active subscriptions leave out (draft and void invoices, one-off lines, invoice-level discounts).",
        ),
];

//! Stripe objects → metric events, one object at a time.
//!
//! - charge (succeeded): `gross_revenue`, `net_revenue`, `successful_charges` when created;
//!   (failed): `failed_payments`.
//! - refund (succeeded or pending): `refunds`, and `net_revenue` negative, when created.
//! - customer: `new_customers` when created.
//! - subscription: `trials_started` at `trial_start`; `trial_conversions` at
//!   `trial_end` once it is past its trial and did not end with it; (ended)
//!   `churned_subscriptions` when it ended, unless it ended with its trial (a trial that
//!   never converted is not churn); if it ended inside a period its invoice covers,
//!   `mrr`/`active_subscriptions` move from the period's end to the moment it ended
//!   (see below), unless collection was paused (the period's invoice is void).
//! - balance transaction: `stripe_fees` (its `fee`) and, for sales, refunds and
//!   adjustments, `net_volume` (its `net`), when created; see [`NET_VOLUME_TYPES`].
//! - invoice (open, paid or uncollectible): for each recurring licensed line, `mrr` of
//!   the line net of its discounts (`discount_amounts`: coupons on the line or the
//!   whole invoice), normalised to a month, and `active_subscriptions` 1 when that is
//!   more than nothing (a trial's $0 line adds neither), added at the line's period
//!   start and taken away at its end; `arr` is 12 × `mrr`. A renewal's invoice adds
//!   what the previous one takes away, so the running sum is the MRR of every
//!   subscription invoiced for that day, upgrades and downgrades included; a
//!   subscription that ends is not invoiced again, and one that ends mid-period
//!   (dunning gave up) leaves MRR when it ends. Proration lines (partial amounts for
//!   part of a period) and metered lines (billed in arrears for usage) are not
//!   recurring revenue and add nothing. Each `mrr` event names its customer
//!   ([`crate::ENTITY`]), from which the server derives the MRR movements.

use serde_json::Value;

use super::StripeProvider;
use crate::sync::{unix_field, Derivation, Derive, DimensionLabel, MetricEvent, RawRecord};

fn str_of<'a>(object: &'a Value, pointer: &str) -> Option<&'a str> {
    object.pointer(pointer).and_then(Value::as_str)
}

/// A list field (`/items/data`); empty when absent or not a list.
fn list_of<'a>(object: &'a Value, pointer: &str) -> &'a [Value] {
    object
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn i64_of(object: &Value, pointer: &str) -> Option<i64> {
    object.pointer(pointer).and_then(Value::as_i64)
}

/// What a subscription's coupon takes off `subtotal` of the period starting at
/// `period_start`, as Stripe computed it on that period's invoice: a percentage
/// rounded half up to the minor unit, or the amount off (at most the subtotal);
/// nothing when the discount started later or a repeating coupon had ended.
fn coupon_discount(subscription: &Value, period_start: i64, subtotal: i64) -> i64 {
    let Some(discount) = subscription.get("discount").filter(|d| d.is_object()) else {
        return 0;
    };
    let started = i64_of(discount, "/start").is_none_or(|start| start <= period_start);
    let running = i64_of(discount, "/end").is_none_or(|end| period_start < end);
    if !(started && running) {
        return 0;
    }
    match (
        i64_of(discount, "/coupon/percent_off"),
        i64_of(discount, "/coupon/amount_off"),
    ) {
        (Some(percent), _) => (subtotal * percent + 50) / 100,
        (None, Some(amount)) => amount.min(subtotal),
        (None, None) => 0,
    }
}

/// A recurring invoice line's or subscription item's change to MRR and ARR (and to
/// active subscriptions when it is paid for), `sign` +1 where it starts and -1 where it
/// ends.
fn recurring(
    monthly: i64,
    at: chrono::DateTime<chrono::Utc>,
    sign: i64,
    dims: (Option<&str>, &str, Option<&str>, Option<&str>),
) -> Vec<MetricEvent> {
    let (plan, interval, currency, customer) = dims;
    let event = |metric, value| {
        MetricEvent::new(metric, value, at)
            .with("plan", plan)
            .with("interval", Some(interval))
    };
    let mut derived = vec![
        event("mrr", sign * monthly)
            .with("currency", currency)
            .of_customer(customer),
        event("arr", sign * 12 * monthly).with("currency", currency),
    ];
    if monthly > 0 {
        derived.push(event("active_subscriptions", sign));
    }
    derived
}

/// Division rounded half away from zero.
fn div_round(numerator: i128, denominator: i128) -> i64 {
    let quotient = (2 * numerator.abs() + denominator) / (2 * denominator);
    (quotient * numerator.signum()) as i64
}

/// An amount billed every `interval_count` `interval`s, as a monthly amount (minor
/// units, rounded): a year is 12 months, a week 12/52 of a month, a day 12/365.
pub fn monthly_amount(amount: i64, interval: &str, interval_count: i64) -> Option<i64> {
    let count = i128::from(interval_count.max(1));
    let amount = i128::from(amount);
    Some(match interval {
        "month" => div_round(amount, count),
        "year" => div_round(amount, 12 * count),
        "week" => div_round(amount * 52, 12 * count),
        "day" => div_round(amount * 365, 12 * count),
        _ => return None,
    })
}

/// Balance transaction types that are money moved by sales: Stripe's "net volume"
/// counts these; payouts, transfers, top-ups and Stripe's separately billed fees
/// (`stripe_fee`) move the balance without being sales.
pub const NET_VOLUME_TYPES: &[&str] = &[
    "charge",
    "payment",
    "refund",
    "payment_refund",
    "payment_failure_refund",
    "adjustment",
];

impl Derive for StripeProvider {
    fn derivation(&self) -> Derivation {
        Derivation { events, labels }
    }
}

pub(crate) fn events(record: &RawRecord) -> Vec<MetricEvent> {
    let o = &record.payload;
    // ISO 4217 codes are upper case; Stripe spells them in lower case.
    let currency = str_of(o, "/currency").map(str::to_uppercase);
    match record.object_type.as_str() {
        "charge" => {
            let (Some(at), Some(amount)) = (unix_field(o, "created"), i64_of(o, "/amount")) else {
                return vec![];
            };
            let country = str_of(o, "/billing_details/address/country");
            let event = |metric, value| {
                MetricEvent::new(metric, value, at)
                    .with("currency", currency.clone())
                    .with("country", country)
            };
            match str_of(o, "/status") {
                Some("succeeded") => vec![
                    event("gross_revenue", amount),
                    event("net_revenue", amount),
                    event("successful_charges", 1),
                ],
                Some("failed") => vec![event("failed_payments", 1)],
                _ => vec![],
            }
        }
        "refund" => {
            let (Some(at), Some(amount)) = (unix_field(o, "created"), i64_of(o, "/amount")) else {
                return vec![];
            };
            match str_of(o, "/status") {
                Some("succeeded" | "pending") => vec![
                    MetricEvent::new("refunds", amount, at).with("currency", currency.clone()),
                    MetricEvent::new("net_revenue", -amount, at).with("currency", currency),
                ],
                _ => vec![],
            }
        }
        "customer" => unix_field(o, "created")
            .map(|at| {
                vec![MetricEvent::new("new_customers", 1, at)
                    .with("country", str_of(o, "/address/country"))]
            })
            .unwrap_or_default(),
        "subscription" => {
            let plan = str_of(o, "/items/data/0/price/id");
            let interval = str_of(o, "/items/data/0/price/recurring/interval");
            let event = |metric, at| {
                MetricEvent::new(metric, 1, at)
                    .with("plan", plan)
                    .with("interval", interval)
            };
            let ended = unix_field(o, "ended_at");
            let trial_end = unix_field(o, "trial_end");
            let mut derived = Vec::new();
            if let Some(start) = unix_field(o, "trial_start") {
                derived.push(event("trials_started", start));
            }
            // A trial that ended with the subscription never became paying.
            let ended_in_trial = trial_end.is_some_and(|end| ended.is_some_and(|e| e <= end));
            if let Some(end) = trial_end {
                if str_of(o, "/status") != Some("trialing") && !ended_in_trial {
                    derived.push(event("trial_conversions", end));
                }
            }
            let Some(ended) = ended else {
                return derived;
            };
            if ended_in_trial {
                return derived;
            }
            derived.push(event("churned_subscriptions", ended));
            // Ended before the paid period did (dunning, immediate cancel): the invoice
            // counts the subscription until the period's end, so take it out from the
            // end instead and give back at the period's end what the invoice takes then.
            let period_start = i64_of(o, "/current_period_start").or_else(|| {
                o.pointer("/items/data/0/current_period_start")
                    .and_then(Value::as_i64)
            });
            let period_end = unix_field(o, "current_period_end").or_else(|| {
                o.pointer("/items/data/0")
                    .and_then(|item| unix_field(item, "current_period_end"))
            });
            // While collection is paused the period's invoice is void and added no
            // MRR: there is nothing to take out.
            let paused = o.get("pause_collection").is_some_and(Value::is_object);
            if let Some(period_end) = period_end.filter(|end| *end > ended && !paused) {
                let customer = str_of(o, "/customer");
                // The coupon as the period's invoice applied it: a percentage of each
                // item, or an amount off taken from the first items until used up.
                let amount_coupon = o
                    .pointer("/discount/coupon/percent_off")
                    .and_then(Value::as_i64)
                    .is_none();
                let mut amount_off_left = match period_start {
                    Some(start) if amount_coupon => coupon_discount(o, start, i64::MAX),
                    _ => 0,
                };
                for item in list_of(o, "/items/data") {
                    let Some(item_interval) = str_of(item, "/price/recurring/interval") else {
                        continue;
                    };
                    if str_of(item, "/price/recurring/usage_type") == Some("metered") {
                        continue;
                    }
                    let count = i64_of(item, "/price/recurring/interval_count").unwrap_or(1);
                    let amount = i64_of(item, "/price/unit_amount").unwrap_or(0)
                        * i64_of(item, "/quantity").unwrap_or(1);
                    let discount = match period_start {
                        None => 0,
                        Some(start) if !amount_coupon => coupon_discount(o, start, amount),
                        Some(_) => {
                            let off = amount_off_left.min(amount);
                            amount_off_left -= off;
                            off
                        }
                    };
                    let Some(monthly) = monthly_amount(amount - discount, item_interval, count)
                    else {
                        continue;
                    };
                    let dims = (
                        str_of(item, "/price/id"),
                        item_interval,
                        currency.as_deref(),
                        customer,
                    );
                    derived.extend(recurring(monthly, ended, -1, dims));
                    derived.extend(recurring(monthly, period_end, 1, dims));
                }
            }
            derived
        }
        "invoice" => {
            if !matches!(
                str_of(o, "/status"),
                Some("open" | "paid" | "uncollectible")
            ) {
                return vec![];
            }
            let customer = str_of(o, "/customer");
            list_of(o, "/lines/data")
                .iter()
                .filter_map(|line| {
                    let interval = str_of(line, "/price/recurring/interval")?;
                    let one_off = line.get("proration").and_then(Value::as_bool) == Some(true)
                        || str_of(line, "/price/recurring/usage_type") == Some("metered");
                    if one_off {
                        return None;
                    }
                    let count = i64_of(line, "/price/recurring/interval_count").unwrap_or(1);
                    let discounts: i64 = list_of(line, "/discount_amounts")
                        .iter()
                        .filter_map(|d| i64_of(d, "/amount"))
                        .sum();
                    let net = i64_of(line, "/amount")? - discounts;
                    let monthly = monthly_amount(net, interval, count)?;
                    let start = line.get("period").and_then(|p| unix_field(p, "start"))?;
                    let end = line.get("period").and_then(|p| unix_field(p, "end"))?;
                    let dims = (str_of(line, "/price/id"), interval, currency.as_deref(), customer);
                    let mut derived = recurring(monthly, start, 1, dims);
                    derived.extend(recurring(monthly, end, -1, dims));
                    Some(derived)
                })
                .flatten()
                .collect()
        }
        "balance_transaction" => {
            let Some(at) = unix_field(o, "created") else {
                return vec![];
            };
            let kind = str_of(o, "/type").unwrap_or_default();
            let mut derived = Vec::new();
            if let Some(fee) = i64_of(o, "/fee").filter(|fee| *fee != 0) {
                derived.push(MetricEvent::new("stripe_fees", fee, at).with("currency", currency.clone()));
            }
            if NET_VOLUME_TYPES.contains(&kind) {
                if let Some(net) = i64_of(o, "/net") {
                    derived.push(MetricEvent::new("net_volume", net, at).with("currency", currency));
                }
            }
            derived
        }
        _ => vec![],
    }
}

/// Plan names: the `plan` dimension is a price's id; its nickname, where the account
/// gave it one, is what people call the plan. Subscriptions and invoices carry their
/// prices whole.
pub(crate) fn labels(record: &RawRecord) -> Vec<DimensionLabel> {
    let list = match record.object_type.as_str() {
        "subscription" => "/items/data",
        "invoice" => "/lines/data",
        _ => return vec![],
    };
    list_of(&record.payload, list)
        .iter()
        .filter_map(|item| {
            DimensionLabel::of(
                "plan",
                str_of(item, "/price/id"),
                str_of(item, "/price/nickname"),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(object_type: &str, payload: Value) -> RawRecord {
        RawRecord {
            object_type: object_type.into(),
            external_id: "x".into(),
            updated_at: None,
            payload,
        }
    }

    #[test]
    fn monthly_amounts_follow_the_billing_interval() {
        assert_eq!(monthly_amount(2900, "month", 1), Some(2900));
        assert_eq!(monthly_amount(99000, "year", 1), Some(8250));
        assert_eq!(monthly_amount(8700, "month", 3), Some(2900));
        // 1000 a week is 1000 × 52 / 12 = 4333.33… a month.
        assert_eq!(monthly_amount(1000, "week", 1), Some(4333));
        assert_eq!(monthly_amount(-1000, "week", 1), Some(-4333));
        assert_eq!(monthly_amount(100, "fortnight", 1), None);
    }

    #[test]
    fn a_refund_lowers_net_revenue_and_a_failed_charge_counts_as_failed() {
        let refund = events(&record(
            "refund",
            json!({ "amount": 500, "currency": "usd", "created": 1_700_000_000, "status": "succeeded" }),
        ));
        let net: i64 = refund
            .iter()
            .filter(|e| e.metric == "net_revenue")
            .map(|e| e.value)
            .sum();
        assert_eq!(net, -500);
        let failed = events(&record(
            "charge",
            json!({ "amount": 900, "currency": "usd", "created": 1_700_000_000, "status": "failed" }),
        ));
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].metric, "failed_payments");
    }

    #[test]
    fn an_invoice_line_adds_mrr_for_its_period_only() {
        let invoice = json!({
            "status": "paid", "currency": "usd",
            "lines": { "data": [{
                "amount": 19800, "period": { "start": 1_700_000_000, "end": 1_702_592_000 },
                "price": { "id": "price_pro", "recurring": { "interval": "month", "interval_count": 1 } }
            }]}
        });
        let derived = events(&record("invoice", invoice.clone()));
        let mrr: Vec<_> = derived.iter().filter(|e| e.metric == "mrr").collect();
        assert_eq!(mrr.len(), 2);
        assert_eq!(mrr[0].value + mrr[1].value, 0);
        assert_eq!(mrr[0].value, 19800);
        assert_eq!(mrr[0].dimensions["plan"], "price_pro");
        let mut void = invoice;
        void["status"] = json!("void");
        assert!(events(&record("invoice", void)).is_empty());
    }

    #[test]
    fn plans_are_named_by_their_price_nickname() {
        let subscription = json!({ "items": { "data": [
            { "price": { "id": "price_pro", "nickname": "Pro monthly" } },
            { "price": { "id": "price_seat", "nickname": null } },
            { "price": { "id": "price_blank", "nickname": "  " } }
        ]}});
        assert_eq!(
            labels(&record("subscription", subscription)),
            vec![DimensionLabel {
                dimension: "plan",
                value: "price_pro".into(),
                label: "Pro monthly".into()
            }]
        );
        let invoice = json!({ "lines": { "data": [
            { "price": { "id": "price_team", "nickname": "Team yearly" } }
        ]}});
        assert_eq!(labels(&record("invoice", invoice))[0].label, "Team yearly");
        assert!(labels(&record("charge", json!({}))).is_empty());
    }
}

//! Stripe objects → metric events, one object at a time.
//!
//! - charge (succeeded): `gross_revenue`, `net_revenue`, `successful_charges` when created;
//!   (failed): `failed_payments`.
//! - refund (succeeded or pending): `refunds`, and `net_revenue` negative, when created.
//! - customer: `new_customers` when created.
//! - subscription (ended): `churned_subscriptions` when it ended; if it ended inside a
//!   period its invoice covers, `mrr`/`active_subscriptions` move from the period's end
//!   to the moment it ended (see below).
//! - balance transaction: `stripe_fees` (its `fee`) and, for sales, refunds and
//!   adjustments, `net_volume` (its `net`), when created; see [`NET_VOLUME_TYPES`].
//! - invoice (open, paid or uncollectible): for each recurring line, `mrr` of the line
//!   normalised to a month and `active_subscriptions` 1, added at the line's period start
//!   and taken away at its end. A renewal's invoice adds what the previous one takes
//!   away, so the running sum is the MRR of every subscription invoiced for that day,
//!   upgrades and downgrades included; a subscription that ends is not invoiced again,
//!   and one that ends mid-period (dunning gave up) leaves MRR when it ends.

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
            let Some(ended) = unix_field(o, "ended_at") else {
                return vec![];
            };
            let plan = str_of(o, "/items/data/0/price/id");
            let interval = str_of(o, "/items/data/0/price/recurring/interval");
            let mut derived = vec![MetricEvent::new("churned_subscriptions", 1, ended)
                .with("plan", plan)
                .with("interval", interval)];
            // Ended before the paid period did (dunning, immediate cancel): the invoice
            // counts the subscription until the period's end, so take it out from the
            // end instead and give back at the period's end what the invoice takes then.
            let period_end = unix_field(o, "current_period_end").or_else(|| {
                o.pointer("/items/data/0")
                    .and_then(|item| unix_field(item, "current_period_end"))
            });
            if let Some(period_end) = period_end.filter(|end| *end > ended) {
                let items = list_of(o, "/items/data");
                for item in items {
                    let Some(item_interval) = str_of(item, "/price/recurring/interval") else {
                        continue;
                    };
                    let count = i64_of(item, "/price/recurring/interval_count").unwrap_or(1);
                    let amount = i64_of(item, "/price/unit_amount").unwrap_or(0)
                        * i64_of(item, "/quantity").unwrap_or(1);
                    let Some(monthly) = monthly_amount(amount, item_interval, count) else {
                        continue;
                    };
                    let event = |metric, value, at| {
                        MetricEvent::new(metric, value, at)
                            .with("plan", str_of(item, "/price/id"))
                            .with("interval", Some(item_interval))
                    };
                    derived.extend([
                        event("mrr", -monthly, ended).with("currency", currency.clone()),
                        event("mrr", monthly, period_end).with("currency", currency.clone()),
                        event("active_subscriptions", -1, ended),
                        event("active_subscriptions", 1, period_end),
                    ]);
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
            list_of(o, "/lines/data")
                .iter()
                .filter_map(|line| {
                    let interval = str_of(line, "/price/recurring/interval")?;
                    let count = i64_of(line, "/price/recurring/interval_count").unwrap_or(1);
                    let monthly = monthly_amount(i64_of(line, "/amount")?, interval, count)?;
                    let start = line.get("period").and_then(|p| unix_field(p, "start"))?;
                    let end = line.get("period").and_then(|p| unix_field(p, "end"))?;
                    let plan = str_of(line, "/price/id");
                    let event = |metric, value, at| {
                        MetricEvent::new(metric, value, at)
                            .with("plan", plan)
                            .with("interval", Some(interval))
                    };
                    Some([
                        event("mrr", monthly, start).with("currency", currency.clone()),
                        event("mrr", -monthly, end).with("currency", currency.clone()),
                        event("active_subscriptions", 1, start),
                        event("active_subscriptions", -1, end),
                    ])
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

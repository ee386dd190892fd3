//! Paddle entities → metric events, one entity at a time.
//!
//! - transaction (completed, or paid on its way there): `gross_revenue` and
//!   `net_revenue` of `details.totals.total` (tax included, like the other
//!   providers) when billed.
//! - adjustment (a refund, approved): `refunds` and negative `net_revenue` of its
//!   `totals.total` when created. Credits and chargebacks are not refunds.
//! - customer: `new_customers` when created.
//! - subscription: `new_subscriptions` when created; `active_subscriptions` 1 and
//!   `mrr` (each item's `unit_price` × quantity, normalised to a month by its
//!   `billing_cycle`) from creation until it is canceled (`churned_subscriptions`
//!   then). One scheduled to cancel stays active until Paddle cancels it. MRR is
//!   the current items' over the subscription's life: a plan change re-prices its
//!   history, a known simplification.
//!
//! Paddle's amounts are strings of minor units (`"4900"`).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::PaddleProvider;
use crate::sync::{Derivation, Derive, DimensionLabel, MetricEvent, RawRecord};

impl Derive for PaddleProvider {
    fn derivation(&self) -> Derivation {
        Derivation { events, labels }
    }
}

/// An amount in minor units, as Paddle spells it (a string, or a number).
pub(crate) fn amount(value: &Value, pointer: &str) -> Option<i64> {
    match value.pointer(pointer)? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

pub(crate) fn time(value: &Value, pointer: &str) -> Option<DateTime<Utc>> {
    text(value, pointer)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// An amount billed every `count` `interval`s as a monthly amount (minor units,
/// rounded half away from zero), the same normalisation as Stripe's MRR.
fn monthly_amount(amount: i64, interval: &str, count: i64) -> Option<i64> {
    let count = i128::from(count.max(1));
    let (numerator, denominator) = match interval {
        "month" => (i128::from(amount), count),
        "year" => (i128::from(amount), 12 * count),
        "week" => (i128::from(amount) * 52, 12 * count),
        "day" => (i128::from(amount) * 365, 12 * count),
        _ => return None,
    };
    let quotient = (2 * numerator.abs() + denominator) / (2 * denominator);
    Some((quotient * numerator.signum()) as i64)
}

/// The subscription's MRR: the sum of its recurring items.
fn subscription_mrr(o: &Value) -> i64 {
    o.get("items")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|item| {
            let unit = amount(item, "/price/unit_price/amount")?;
            let quantity = item.get("quantity").and_then(Value::as_i64).unwrap_or(1);
            let interval = text(item, "/price/billing_cycle/interval")?;
            let frequency = item
                .pointer("/price/billing_cycle/frequency")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            monthly_amount(unit * quantity, interval, frequency)
        })
        .sum()
}

pub(crate) fn events(record: &RawRecord) -> Vec<MetricEvent> {
    let o = &record.payload;
    let currency = text(o, "/currency_code").map(str::to_uppercase);
    let money = |metric, value, at| MetricEvent::new(metric, value, at).with("currency", currency.clone());
    match record.object_type.as_str() {
        "transaction" => {
            if !matches!(text(o, "/status"), Some("completed" | "paid")) {
                return vec![];
            }
            let at = time(o, "/billed_at").or_else(|| time(o, "/created_at"));
            match (at, amount(o, "/details/totals/total")) {
                (Some(at), Some(total)) => vec![
                    money("gross_revenue", total, at),
                    money("net_revenue", total, at),
                ],
                _ => vec![],
            }
        }
        "adjustment" => {
            if text(o, "/action") != Some("refund") || text(o, "/status") != Some("approved") {
                return vec![];
            }
            match (time(o, "/created_at"), amount(o, "/totals/total")) {
                (Some(at), Some(total)) => vec![
                    money("refunds", total, at),
                    money("net_revenue", -total, at),
                ],
                _ => vec![],
            }
        }
        "customer" => time(o, "/created_at")
            .map(|at| vec![MetricEvent::new("new_customers", 1, at)])
            .unwrap_or_default(),
        "subscription" => {
            let Some(created) = time(o, "/created_at") else {
                return vec![];
            };
            let plan = text(o, "/items/0/price/id");
            let event = |metric, value, at| MetricEvent::new(metric, value, at).with("plan", plan);
            let mrr = subscription_mrr(o);
            // MRR names its customer: the server derives the MRR movements from it.
            let customer = text(o, "/customer_id");
            let mut derived = vec![
                event("new_subscriptions", 1, created),
                event("active_subscriptions", 1, created),
                event("mrr", mrr, created)
                    .with("currency", currency.clone())
                    .of_customer(customer),
                event("arr", 12 * mrr, created).with("currency", currency.clone()),
            ];
            let canceled = (text(o, "/status") == Some("canceled"))
                .then(|| time(o, "/canceled_at").or_else(|| time(o, "/updated_at")))
                .flatten();
            if let Some(ended) = canceled {
                derived.extend([
                    event("active_subscriptions", -1, ended),
                    event("churned_subscriptions", 1, ended),
                    event("mrr", -mrr, ended)
                        .with("currency", currency.clone())
                        .of_customer(customer),
                    event("arr", -12 * mrr, ended).with("currency", currency.clone()),
                ]);
            }
            derived
        }
        _ => vec![],
    }
}

/// Plan names: the `plan` dimension is the first item's price id; its
/// description (else its product's name) is what people call it.
pub(crate) fn labels(record: &RawRecord) -> Vec<DimensionLabel> {
    if record.object_type != "subscription" {
        return vec![];
    }
    let o = &record.payload;
    let name = text(o, "/items/0/price/description").or_else(|| text(o, "/items/0/product/name"));
    DimensionLabel::of("plan", text(o, "/items/0/price/id"), name)
        .into_iter()
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

    fn sum(events: &[MetricEvent], metric: &str) -> i64 {
        events.iter().filter(|e| e.metric == metric).map(|e| e.value).sum()
    }

    #[test]
    fn completed_transactions_and_approved_refunds_make_net_revenue() {
        let txn = record("transaction", json!({ "status": "completed", "currency_code": "eur",
            "details": { "totals": { "total": "4900" } },
            "billed_at": "2024-05-01T10:00:00Z", "created_at": "2024-05-01T09:59:00Z" }));
        let derived = events(&txn);
        assert_eq!(sum(&derived, "gross_revenue"), 4900);
        assert_eq!(derived[0].dimensions["currency"], "EUR");
        assert_eq!(derived[0].at.to_rfc3339(), "2024-05-01T10:00:00+00:00");
        let draft = record("transaction", json!({ "status": "ready", "currency_code": "EUR",
            "details": { "totals": { "total": "4900" } }, "created_at": "2024-05-01T09:59:00Z" }));
        assert!(events(&draft).is_empty());
        let refund = |action: &str, status: &str| {
            record("adjustment", json!({ "action": action, "status": status, "currency_code": "EUR",
                "totals": { "total": "1500" }, "created_at": "2024-05-03T09:00:00Z" }))
        };
        assert_eq!(sum(&events(&refund("refund", "approved")), "net_revenue"), -1500);
        assert!(events(&refund("refund", "pending_approval")).is_empty());
        assert!(events(&refund("credit", "approved")).is_empty());
    }

    #[test]
    fn a_canceled_subscription_leaves_mrr_and_counts_as_churn() {
        let subscription = json!({ "status": "canceled", "currency_code": "USD",
            "created_at": "2024-01-10T00:00:00Z", "canceled_at": "2024-04-10T00:00:00Z",
            "items": [
                { "quantity": 2, "price": { "id": "pri_01pro", "description": "Pro monthly",
                  "unit_price": { "amount": "1900", "currency_code": "USD" },
                  "billing_cycle": { "interval": "month", "frequency": 1 } } },
                { "quantity": 1, "price": { "id": "pri_01addon",
                  "unit_price": { "amount": "12000", "currency_code": "USD" },
                  "billing_cycle": { "interval": "year", "frequency": 1 } } }
            ] });
        let derived = events(&record("subscription", subscription.clone()));
        let mrr: Vec<_> = derived.iter().filter(|e| e.metric == "mrr").collect();
        assert_eq!(mrr[0].value, 2 * 1900 + 1000);
        assert_eq!(mrr[1].value, -(2 * 1900 + 1000));
        assert_eq!(mrr[0].dimensions["plan"], "pri_01pro");
        assert_eq!(sum(&derived, "active_subscriptions"), 0);
        assert_eq!(sum(&derived, "churned_subscriptions"), 1);
        assert_eq!(labels(&record("subscription", subscription))[0].label, "Pro monthly");
    }
}

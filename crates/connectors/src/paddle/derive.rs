//! Paddle entities → metric events, one entity at a time.
//!
//! - transaction (completed, or paid on its way there): `gross_revenue` and
//!   `net_revenue` of `details.totals.total` (tax included, like the other
//!   providers) when billed. A subscription's transaction also pays for its
//!   `billing_period`: its `subtotal` less its `discount` (before tax), normalised
//!   to a month by the first item's `billing_cycle` (Paddle bills a subscription's
//!   recurring items on one cycle), is `mrr` (and × 12 `arr`) from the period's
//!   start to its end, naming the customer for the MRR movements. So MRR follows
//!   discounts as Paddle applies them, period by period, and a plan change from the
//!   next period billed.
//!   Its `fee` is `paddle_fees` and its `earnings` (after tax and fee) `earnings`.
//! - adjustment (a refund, approved): `refunds` and negative `net_revenue` of its
//!   `totals.total` when created, and its `fee` and `earnings` taken off theirs.
//!   Credits and chargebacks are not refunds.
//! - customer: `new_customers` when created.
//! - subscription: `new_subscriptions` when created; `active_subscriptions` 1 from
//!   creation (the end of its free trial) until it is canceled
//!   (`churned_subscriptions` then). One scheduled to cancel stays active until
//!   Paddle cancels it. A trial (`items[0].trial_dates`) is `trials_started` at its
//!   start and `trial_conversions` at its end once it became a paying subscription;
//!   one canceled before it ended is neither active nor churn.
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

/// What a subscription's transaction pays for: MRR (and ARR) from its billing
/// period's start to its end, net of its discount and before tax.
fn recurring_revenue(o: &Value, currency: &Option<String>) -> Vec<MetricEvent> {
    let (Some(start), Some(end), Some(subtotal)) = (
        time(o, "/billing_period/starts_at"),
        time(o, "/billing_period/ends_at"),
        amount(o, "/details/totals/subtotal"),
    ) else {
        return vec![];
    };
    let discount = amount(o, "/details/totals/discount").unwrap_or(0);
    let Some(interval) = text(o, "/items/0/price/billing_cycle/interval") else {
        return vec![];
    };
    let frequency = o
        .pointer("/items/0/price/billing_cycle/frequency")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let Some(monthly) = monthly_amount(subtotal - discount, interval, frequency) else {
        return vec![];
    };
    let (customer, plan) = (text(o, "/customer_id"), text(o, "/items/0/price/id"));
    [(monthly, start), (-monthly, end)]
        .into_iter()
        .flat_map(|(value, at)| {
            let event = |metric, value| {
                MetricEvent::new(metric, value, at)
                    .with("currency", currency.clone())
                    .with("plan", plan)
            };
            [event("mrr", value).of_customer(customer), event("arr", 12 * value)]
        })
        .collect()
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
                (Some(at), Some(total)) => {
                    let mut derived = vec![
                        money("gross_revenue", total, at),
                        money("net_revenue", total, at),
                    ];
                    for (metric, field) in [("paddle_fees", "fee"), ("earnings", "earnings")] {
                        if let Some(value) = amount(o, &format!("/details/totals/{field}")) {
                            derived.push(money(metric, value, at));
                        }
                    }
                    derived.extend(recurring_revenue(o, &currency));
                    derived
                }
                _ => vec![],
            }
        }
        "adjustment" => {
            if text(o, "/action") != Some("refund") || text(o, "/status") != Some("approved") {
                return vec![];
            }
            match (time(o, "/created_at"), amount(o, "/totals/total")) {
                (Some(at), Some(total)) => {
                    let mut derived = vec![
                        money("refunds", total, at),
                        money("net_revenue", -total, at),
                    ];
                    // What the refund gives back of Paddle's fee and takes off earnings.
                    for (metric, field) in [("paddle_fees", "fee"), ("earnings", "earnings")] {
                        if let Some(value) = amount(o, &format!("/totals/{field}")) {
                            derived.push(money(metric, -value, at));
                        }
                    }
                    derived
                }
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
            let mut derived = vec![event("new_subscriptions", 1, created)];
            let status = text(o, "/status");
            let canceled = (status == Some("canceled"))
                .then(|| time(o, "/canceled_at").or_else(|| time(o, "/updated_at")))
                .flatten();
            // A free trial: started when created, converted when it ends into a paying
            // (active) subscription, unless it was canceled first (not churn: it never
            // paid).
            let trial = time(o, "/items/0/trial_dates/starts_at")
                .zip(time(o, "/items/0/trial_dates/ends_at"));
            let paying_from = match trial {
                Some((start, end)) => {
                    derived.push(event("trials_started", 1, start));
                    let converted =
                        status != Some("trialing") && canceled.is_none_or(|at| at > end);
                    if converted {
                        derived.push(event("trial_conversions", 1, end));
                    }
                    converted.then_some(end)
                }
                None => Some(created),
            };
            if let Some(from) = paying_from {
                derived.push(event("active_subscriptions", 1, from));
                if let Some(ended) = canceled {
                    derived.extend([
                        event("active_subscriptions", -1, ended),
                        event("churned_subscriptions", 1, ended),
                    ]);
                }
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
    fn a_canceled_subscription_counts_as_churn() {
        let subscription = json!({ "status": "canceled", "currency_code": "USD",
            "created_at": "2024-01-10T00:00:00Z", "canceled_at": "2024-04-10T00:00:00Z",
            "items": [{ "quantity": 2, "price": { "id": "pri_01pro", "description": "Pro monthly" } }] });
        let derived = events(&record("subscription", subscription.clone()));
        assert_eq!(sum(&derived, "active_subscriptions"), 0);
        assert_eq!(sum(&derived, "churned_subscriptions"), 1);
        assert!(derived.iter().all(|e| e.metric != "mrr"), "MRR comes from transactions");
        assert_eq!(labels(&record("subscription", subscription))[0].label, "Pro monthly");
    }

    #[test]
    fn a_trial_starts_converts_at_its_end_or_ends_unpaid_without_churn() {
        let trial = |status: &str, canceled: Option<&str>| {
            let subscription = json!({ "status": status, "created_at": "2024-03-01T00:00:00Z",
                "canceled_at": canceled,
                "items": [{ "price": { "id": "pri_01pro" },
                    "trial_dates": { "starts_at": "2024-03-01T00:00:00Z", "ends_at": "2024-03-15T00:00:00Z" } }] });
            events(&record("subscription", subscription))
        };
        let at = |derived: &[MetricEvent], metric: &str| -> Vec<String> {
            derived.iter().filter(|e| e.metric == metric).map(|e| e.at.to_rfc3339()).collect()
        };
        let trialing = trial("trialing", None);
        assert_eq!(at(&trialing, "trials_started"), ["2024-03-01T00:00:00+00:00"]);
        assert!(at(&trialing, "trial_conversions").is_empty());
        assert_eq!(sum(&trialing, "active_subscriptions"), 0, "trialing is not paying");
        let converted = trial("active", None);
        assert_eq!(at(&converted, "trial_conversions"), ["2024-03-15T00:00:00+00:00"]);
        assert_eq!(at(&converted, "active_subscriptions"), ["2024-03-15T00:00:00+00:00"]);
        let unpaid = trial("canceled", Some("2024-03-15T00:00:00Z"));
        assert!(at(&unpaid, "trial_conversions").is_empty());
        assert_eq!(sum(&unpaid, "churned_subscriptions"), 0, "a trial canceled unpaid is not churn");
        let churned = trial("canceled", Some("2024-05-15T00:00:00Z"));
        assert_eq!(sum(&churned, "trial_conversions"), 1);
        assert_eq!(sum(&churned, "churned_subscriptions"), 1);
        assert_eq!(sum(&churned, "active_subscriptions"), 0);
    }

    #[test]
    fn a_subscription_transaction_is_mrr_net_of_its_discount_for_its_billing_period() {
        let transaction = json!({ "status": "completed", "currency_code": "USD",
            "customer_id": "ctm_01", "subscription_id": "sub_01",
            "billed_at": "2024-02-01T00:00:00Z",
            "billing_period": { "starts_at": "2024-02-01T00:00:00Z", "ends_at": "2025-02-01T00:00:00Z" },
            "items": [{ "quantity": 2, "price": { "id": "pri_01year",
                "billing_cycle": { "interval": "year", "frequency": 1 } } }],
            "details": { "totals": { "subtotal": "38000", "discount": "7600", "tax": "1000", "total": "31400" } } });
        let derived = events(&record("transaction", transaction));
        assert_eq!(sum(&derived, "gross_revenue"), 31400);
        let mrr: Vec<_> = derived.iter().filter(|e| e.metric == "mrr").collect();
        // (38000 − 7600) ÷ 12 = 2533.3…, before tax.
        assert_eq!(mrr[0].value, 2533);
        assert_eq!(mrr[0].at.to_rfc3339(), "2024-02-01T00:00:00+00:00");
        assert_eq!(mrr[1].value, -2533);
        assert_eq!(mrr[1].at.to_rfc3339(), "2025-02-01T00:00:00+00:00");
        assert_eq!(mrr[0].dimensions["entity"], "ctm_01");
        assert_eq!(mrr[0].dimensions["plan"], "pri_01year");
        assert_eq!(sum(&derived, "arr"), 0);
        let one_off = json!({ "status": "completed", "currency_code": "USD", "billed_at": "2024-02-01T00:00:00Z",
            "details": { "totals": { "subtotal": "900", "discount": "0", "total": "900" } } });
        assert!(events(&record("transaction", one_off)).iter().all(|e| e.metric != "mrr"));
    }
}

//! LemonSqueezy objects → metric events, one JSON:API resource at a time.
//!
//! - order (paid, refunded or partially refunded): `gross_revenue` and
//!   `net_revenue` of its `total` when created; its `refunded_amount` (the whole
//!   total for an older order that only says `refunded: true`) as `refunds` and
//!   negative `net_revenue` when refunded (`refunded_at`).
//! - subscription-invoice: the same for renewals and plan-change charges; the
//!   `initial` invoice is the subscription's first order, already counted.
//! - customer: `new_customers` when created.
//! - subscription: `new_subscriptions` when created; `active_subscriptions` 1 and
//!   `mrr` from creation (or the end of its free trial) until it expires
//!   (`churned_subscriptions` then). A trial (`trial_ends_at`) is `trials_started`
//!   when created and `trial_conversions` at its end unless it ends unpaid. A
//!   cancelled subscription stays active until its `ends_at`, when LemonSqueezy
//!   marks it expired. LemonSqueezy's subscription carries no price: the sync
//!   attaches the subscription item's price as `pulseboard.price` and its order's
//!   discount code as `pulseboard.discount` (see `sync.rs`), and MRR is its
//!   `unit_price` × quantity, less the discount while it lasts, normalised to a
//!   month.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::LemonSqueezyProvider;
use crate::sync::{Derivation, Derive, DimensionLabel, MetricEvent, RawRecord};

impl Derive for LemonSqueezyProvider {
    fn derivation(&self) -> Derivation {
        Derivation { events, labels }
    }
}

fn attr<'a>(record: &'a RawRecord, name: &str) -> Option<&'a Value> {
    record.payload.get("attributes")?.get(name)
}

fn str_attr<'a>(record: &'a RawRecord, name: &str) -> Option<&'a str> {
    attr(record, name).and_then(Value::as_str)
}

/// An id attribute as text (JSON:API ids are strings, LemonSqueezy's foreign keys numbers).
fn id_attr(record: &RawRecord, name: &str) -> Option<String> {
    attr(record, name).and_then(super::sync::id_string)
}

fn i64_attr(record: &RawRecord, name: &str) -> Option<i64> {
    attr(record, name).and_then(Value::as_i64)
}

/// An ISO 8601 time attribute (`2024-05-01T12:00:00.000000Z`).
pub(crate) fn time_attr(record: &RawRecord, name: &str) -> Option<DateTime<Utc>> {
    str_attr(record, name)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// What a paid order or invoice brought in and what of it was refunded: gross and
/// refund events in its currency.
fn payment_events(record: &RawRecord) -> Vec<MetricEvent> {
    let (Some(at), Some(total)) = (time_attr(record, "created_at"), i64_attr(record, "total"))
    else {
        return vec![];
    };
    if !matches!(
        str_attr(record, "status"),
        Some("paid" | "refunded" | "partial_refund")
    ) {
        return vec![];
    }
    let currency = str_attr(record, "currency").map(str::to_uppercase);
    let event =
        |metric, value, at| MetricEvent::new(metric, value, at).with("currency", currency.clone());
    let mut derived = vec![
        event("gross_revenue", total, at),
        event("net_revenue", total, at),
    ];
    let refunded = i64_attr(record, "refunded_amount")
        .filter(|amount| *amount > 0)
        .or_else(|| (attr(record, "refunded") == Some(&Value::Bool(true))).then_some(total));
    if let Some(refunded) = refunded {
        let refunded_at = time_attr(record, "refunded_at")
            .or_else(|| time_attr(record, "updated_at"))
            .unwrap_or(at);
        derived.push(event("refunds", refunded, refunded_at));
        derived.push(event("net_revenue", -refunded, refunded_at));
    }
    derived
}

/// An amount billed every `count` `interval`s as a monthly amount (minor units,
/// rounded half away from zero): a year is 12 months, a week 12/52 of a month, a day
/// 12/365, the same normalisation as Stripe's MRR.
pub(crate) fn monthly_amount(amount: i64, interval: &str, count: i64) -> Option<i64> {
    let (numerator, denominator) = match interval {
        "month" => (i128::from(amount), i128::from(count.max(1))),
        "year" => (i128::from(amount), 12 * i128::from(count.max(1))),
        "week" => (i128::from(amount) * 52, 12 * i128::from(count.max(1))),
        "day" => (i128::from(amount) * 365, 12 * i128::from(count.max(1))),
        _ => return None,
    };
    let quotient = (2 * numerator.abs() + denominator) / (2 * denominator);
    Some((quotient * numerator.signum()) as i64)
}

/// A subscription's MRR from what the sync attached: its price and the discount code
/// its order used.
struct Pricing {
    /// The price per month in minor units.
    full: i64,
    /// Per month while the discount applies (`full` without one).
    discounted: i64,
    /// What the discount lasts from the first payment: one billing period (`once`),
    /// some months (`repeating`), or for good (`None`: `forever`, or no discount).
    lasts: Option<Lasting>,
    currency: String,
}

#[derive(Clone, Copy)]
enum Lasting {
    Months(u32),
    Days(u64),
}

impl Lasting {
    fn after(self, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Lasting::Months(n) => from.checked_add_months(chrono::Months::new(n)),
            Lasting::Days(n) => from.checked_add_days(chrono::Days::new(n)),
        }
    }
}

/// What a discount takes off a payment of `subtotal`: a percentage rounded half up,
/// or its amount (never more than the payment).
fn discount_off(discount: &Value, subtotal: i64) -> i64 {
    let amount = discount.get("amount").and_then(Value::as_i64).unwrap_or(0);
    match discount.get("amount_type").and_then(Value::as_str) {
        Some("percent") => (subtotal * amount + 50) / 100,
        _ => amount.min(subtotal),
    }
}

fn pricing(record: &RawRecord) -> Option<Pricing> {
    let price = record.payload.pointer("/pulseboard/price")?;
    let unit = price.get("unit_price").and_then(Value::as_i64)?;
    let interval = price.get("renewal_interval_unit").and_then(Value::as_str)?;
    let count = price
        .get("renewal_interval_quantity")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let quantity = record
        .payload
        .pointer("/attributes/first_subscription_item/quantity")
        .and_then(Value::as_i64)
        .unwrap_or(1)
        .max(1);
    let currency = record
        .payload
        .pointer("/pulseboard/currency")
        .and_then(Value::as_str)?
        .to_uppercase();
    let payment = unit * quantity;
    let full = monthly_amount(payment, interval, count)?;
    let discount = record
        .payload
        .pointer("/pulseboard/discount")
        .filter(|d| d.is_object());
    let Some(discount) = discount else {
        return Some(Pricing { full, discounted: full, lasts: None, currency });
    };
    let discounted = monthly_amount(payment - discount_off(discount, payment), interval, count)?;
    let period = match interval {
        "year" => Lasting::Months(12 * count.max(1) as u32),
        "week" => Lasting::Days(7 * count.max(1) as u64),
        "day" => Lasting::Days(count.max(1) as u64),
        _ => Lasting::Months(count.max(1) as u32),
    };
    let lasts = match discount.get("duration").and_then(Value::as_str) {
        Some("once") => Some(period),
        Some("repeating") => Some(Lasting::Months(
            discount.get("duration_in_months").and_then(Value::as_u64).unwrap_or(1) as u32,
        )),
        _ => None,
    };
    Some(Pricing { full, discounted, lasts, currency })
}

pub fn events(record: &RawRecord) -> Vec<MetricEvent> {
    match record.object_type.as_str() {
        "order" => payment_events(record),
        "subscription-invoice" => match str_attr(record, "billing_reason") {
            Some("initial") => vec![],
            _ => payment_events(record),
        },
        "customer" => time_attr(record, "created_at")
            .map(|at| vec![MetricEvent::new("new_customers", 1, at)])
            .unwrap_or_default(),
        "subscription" => {
            let Some(created) = time_attr(record, "created_at") else {
                return vec![];
            };
            let plan = id_attr(record, "variant_id");
            let event = |metric, value, at| MetricEvent::new(metric, value, at).with("plan", plan.clone());
            let mut derived = vec![event("new_subscriptions", 1, created)];
            let status = str_attr(record, "status");
            let ended = (status == Some("expired"))
                .then(|| time_attr(record, "ends_at").or_else(|| time_attr(record, "updated_at")))
                .flatten();
            // A free trial: started when created; it converts at `trial_ends_at` into a
            // paying subscription unless it is still on trial or set to end by then.
            // Until it pays it is neither active nor MRR, and ending unpaid is not churn.
            let trial_end = time_attr(record, "trial_ends_at").map(|t| t.max(created));
            let paying_from = match trial_end {
                Some(end) => {
                    derived.push(event("trials_started", 1, created));
                    let unpaid = status == Some("on_trial")
                        || time_attr(record, "ends_at").is_some_and(|ends| ends <= end);
                    if !unpaid {
                        derived.push(event("trial_conversions", 1, end));
                    }
                    (!unpaid).then_some(end)
                }
                None => Some(created),
            };
            let Some(paying_from) = paying_from else {
                return derived;
            };
            derived.push(event("active_subscriptions", 1, paying_from));
            if let Some(ended) = ended {
                derived.push(event("active_subscriptions", -1, ended));
                derived.push(event("churned_subscriptions", 1, ended));
            }
            if let Some(pricing) = pricing(record) {
                // MRR names its customer: the server derives the MRR movements from it.
                let customer = id_attr(record, "customer_id");
                let currency = Some(pricing.currency.clone());
                let mut moves = vec![(pricing.discounted, paying_from)];
                // The discount stops (before the subscription ends): full price on.
                let stops = pricing
                    .lasts
                    .and_then(|lasts| lasts.after(paying_from))
                    .filter(|at| ended.is_none_or(|ended| *at < ended))
                    .filter(|_| pricing.discounted != pricing.full);
                let mut level = pricing.discounted;
                if let Some(at) = stops {
                    moves.push((pricing.full - pricing.discounted, at));
                    level = pricing.full;
                }
                if let Some(ended) = ended {
                    moves.push((-level, ended));
                }
                for (value, at) in moves {
                    derived.push(
                        event("mrr", value, at)
                            .with("currency", currency.clone())
                            .of_customer(customer.as_deref()),
                    );
                    derived.push(event("arr", 12 * value, at).with("currency", currency.clone()));
                }
            }
            derived
        }
        _ => vec![],
    }
}

/// Plan names: the `plan` dimension is the variant's id; subscriptions name it.
pub(crate) fn labels(record: &RawRecord) -> Vec<DimensionLabel> {
    if record.object_type != "subscription" {
        return vec![];
    }
    let variant = attr(record, "variant_id").map(|v| v.to_string());
    let name = match (str_attr(record, "product_name"), str_attr(record, "variant_name")) {
        (Some(product), Some(variant)) if !variant.trim().is_empty() => {
            Some(format!("{product} — {variant}"))
        }
        (Some(product), _) => Some(product.to_owned()),
        (None, variant) => variant.map(str::to_owned),
    };
    DimensionLabel::of("plan", variant.as_deref(), name.as_deref())
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
            external_id: "1".into(),
            updated_at: None,
            payload,
        }
    }

    fn sum(events: &[MetricEvent], metric: &str) -> i64 {
        events.iter().filter(|e| e.metric == metric).map(|e| e.value).sum()
    }

    #[test]
    fn a_partly_refunded_order_counts_gross_and_refund_on_their_days() {
        let order = record(
            "order",
            json!({ "type": "orders", "id": "1", "attributes": {
                "status": "partial_refund", "currency": "usd", "total": 4900,
                "refunded": false, "refunded_amount": 1500,
                "created_at": "2024-05-01T10:00:00.000000Z",
                "refunded_at": "2024-05-03T09:00:00.000000Z",
                "updated_at": "2024-05-03T09:00:00.000000Z"
            }}),
        );
        let derived = events(&order);
        assert_eq!(sum(&derived, "gross_revenue"), 4900);
        assert_eq!(sum(&derived, "refunds"), 1500);
        assert_eq!(sum(&derived, "net_revenue"), 3400);
        let refund = derived.iter().find(|e| e.metric == "refunds").unwrap();
        assert_eq!(refund.at.to_rfc3339(), "2024-05-03T09:00:00+00:00");
        assert_eq!(refund.dimensions["currency"], "USD");
        // An older order that only says it was refunded: the whole total.
        let old = record(
            "order",
            json!({ "attributes": { "status": "refunded", "currency": "EUR", "total": 900, "refunded": true,
                "created_at": "2023-01-01T00:00:00Z", "updated_at": "2023-01-02T00:00:00Z" }}),
        );
        assert_eq!(sum(&events(&old), "net_revenue"), 0);
        let pending = record(
            "order",
            json!({ "attributes": { "status": "pending", "currency": "EUR", "total": 900, "created_at": "2023-01-01T00:00:00Z" }}),
        );
        assert!(events(&pending).is_empty());
    }

    #[test]
    fn initial_invoices_are_the_order_already_counted() {
        let invoice = |reason: &str| {
            record(
                "subscription-invoice",
                json!({ "attributes": { "billing_reason": reason, "status": "paid", "currency": "USD",
                    "total": 2900, "refunded_amount": 0, "created_at": "2024-05-01T10:00:00Z" }}),
            )
        };
        assert!(events(&invoice("initial")).is_empty());
        assert_eq!(sum(&events(&invoice("renewal")), "gross_revenue"), 2900);
    }

    #[test]
    fn a_subscription_counts_until_it_expires_and_mrr_needs_its_price() {
        let mut subscription = json!({ "type": "subscriptions", "id": "7", "attributes": {
            "status": "expired", "variant_id": 42, "product_name": "Pro", "variant_name": "Yearly",
            "first_subscription_item": { "price_id": 3, "quantity": 2 },
            "created_at": "2024-01-10T00:00:00Z", "ends_at": "2025-01-10T00:00:00Z"
        }, "pulseboard": { "currency": "usd", "price": {
            "unit_price": 99000, "renewal_interval_unit": "year", "renewal_interval_quantity": 1 } } });
        let derived = events(&record("subscription", subscription.clone()));
        assert_eq!(sum(&derived, "new_subscriptions"), 1);
        assert_eq!(sum(&derived, "churned_subscriptions"), 1);
        assert_eq!(sum(&derived, "active_subscriptions"), 0);
        let mrr: Vec<_> = derived.iter().filter(|e| e.metric == "mrr").collect();
        assert_eq!(mrr[0].value, 16500, "2 × 990.00 a year is 165.00 a month");
        assert_eq!(mrr[0].dimensions["plan"], "42");
        assert_eq!(mrr[1].value, -16500);
        // A trial: MRR, activity and a conversion from its end, and none of them for
        // a trial that expired unpaid (which is not churn either).
        subscription["attributes"]["trial_ends_at"] = json!("2024-01-24T00:00:00Z");
        let derived = events(&record("subscription", subscription.clone()));
        let mrr: Vec<_> = derived.iter().filter(|e| e.metric == "mrr").collect();
        assert_eq!(mrr[0].at.to_rfc3339(), "2024-01-24T00:00:00+00:00");
        assert_eq!(sum(&derived, "mrr"), 0);
        assert_eq!(sum(&derived, "trials_started"), 1);
        assert_eq!(sum(&derived, "trial_conversions"), 1);
        subscription["attributes"]["ends_at"] = json!("2024-01-24T00:00:00Z");
        let derived = events(&record("subscription", subscription.clone()));
        assert!(derived.iter().all(|e| e.metric != "mrr"), "{derived:?}");
        assert_eq!(sum(&derived, "trial_conversions"), 0);
        assert_eq!(sum(&derived, "churned_subscriptions"), 0);
        assert_eq!(sum(&derived, "active_subscriptions"), 0);
        subscription["attributes"]["status"] = json!("on_trial");
        subscription["attributes"]["ends_at"] = Value::Null;
        let derived = events(&record("subscription", subscription.clone()));
        assert_eq!(sum(&derived, "active_subscriptions"), 0, "on trial is not paying");
        assert_eq!(sum(&derived, "trials_started"), 1);
        subscription["attributes"]["status"] = json!("expired");
        subscription["attributes"]["ends_at"] = json!("2025-01-10T00:00:00Z");
        subscription["attributes"]["trial_ends_at"] = Value::Null;
        // A discount code: 25 % off for three months, then the full price.
        subscription["pulseboard"]["discount"] = json!({ "amount": 25, "amount_type": "percent",
            "duration": "repeating", "duration_in_months": 3 });
        let derived = events(&record("subscription", subscription.clone()));
        let mrr: Vec<(i64, String)> = derived
            .iter()
            .filter(|e| e.metric == "mrr")
            .map(|e| (e.value, e.at.to_rfc3339()))
            .collect();
        // 2 × 990.00 a year less 25 % is 1485.00, 123.75 a month; 165.00 after.
        assert_eq!(
            mrr,
            [
                (12375, "2024-01-10T00:00:00+00:00".to_owned()),
                (16500 - 12375, "2024-04-10T00:00:00+00:00".to_owned()),
                (-16500, "2025-01-10T00:00:00+00:00".to_owned()),
            ]
        );
        subscription["pulseboard"]["discount"] = Value::Null;
        // As a webhook carries it: no price, so no MRR, but the counts.
        subscription.as_object_mut().unwrap().remove("pulseboard");
        subscription["attributes"]["status"] = json!("active");
        let derived = events(&record("subscription", subscription.clone()));
        assert_eq!(sum(&derived, "active_subscriptions"), 1);
        assert_eq!(sum(&derived, "mrr"), 0);
        assert_eq!(
            labels(&record("subscription", subscription))[0].label,
            "Pro — Yearly"
        );
    }
}

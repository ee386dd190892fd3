//! LemonSqueezy webhooks: verification and what a delivery carries.
//!
//! A delivery is `{"meta": {"event_name", "custom_data"?, "test_mode",
//! "webhook_id"}, "data": <the resource>}` with `X-Signature`, the hex
//! HMAC-SHA256 of the raw body with the signing secret the user typed into
//! LemonSqueezy (so Pulseboard generates it). LemonSqueezy sends no per-event id:
//! `meta.webhook_id` names the webhook (every delivery of one endpoint has the
//! same), so the deduplication key is the event name, the resource and its
//! `updated_at`, which a retry repeats and a later change does not.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{derive::time_attr, sync::record};
use crate::{
    provider::{RevenueKind, RevenueMove, WebhookDelivery, WebhookSecret, WebhookSetup},
    support::{
        error::WebhookError,
        signature::{hmac_sha256, hmac_sha256_matches},
    },
    sync::RawRecord,
};

pub(super) const SETUP: WebhookSetup = WebhookSetup {
    events: &[
        "order_created",
        "order_refunded",
        "subscription_created",
        "subscription_updated",
        "subscription_cancelled",
        "subscription_expired",
        "subscription_payment_success",
        "subscription_payment_refunded",
    ],
    steps: &[
        "In LemonSqueezy, open Settings → Webhooks and click the + button.",
        "Callback URL: {url}",
        "Signing secret: paste the secret shown here.",
        "Tick the events listed here, then Save webhook.",
        "Place a test order (or use \"Send test\" on a recent order's webhook): this page shows when the first delivery arrives.",
    ],
    secret: WebhookSecret::Generated,
};

/// Verifies `X-Signature` (hex HMAC-SHA256 of the raw body with the signing
/// secret), in constant time. LemonSqueezy signs no timestamp, so there is no
/// tolerance to check: replays are caught by deduplication.
pub fn verify_lemonsqueezy_webhook(
    body: &[u8],
    signature: &str,
    secret: &str,
) -> Result<(), WebhookError> {
    let signature = hex::decode(signature.trim()).map_err(|_| WebhookError::MalformedSignature)?;
    if secret.is_empty() || !hmac_sha256_matches(secret.as_bytes(), &[body], &signature) {
        return Err(WebhookError::BadSignature);
    }
    Ok(())
}

/// The `X-Signature` LemonSqueezy would send, for tests.
pub fn sign_lemonsqueezy_webhook(body: &[u8], secret: &str) -> String {
    hex::encode(hmac_sha256(secret.as_bytes(), &[body]))
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// The campaign a checkout was tagged with: `utm_campaign`, else `campaign`, in
/// `meta.custom_data` (what `checkout[custom][…]` sets).
fn campaign(body: &Value) -> Option<String> {
    let custom = body.pointer("/meta/custom_data")?;
    ["utm_campaign", "campaign"]
        .iter()
        .find_map(|key| custom.get(*key)?.as_str())
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
}

/// A money move of a paid order or subscription invoice.
fn money(
    record: &RawRecord,
    kind: RevenueKind,
    amount: i64,
    occurred_at: DateTime<Utc>,
    campaign: Option<String>,
) -> Option<RevenueMove> {
    let currency = record
        .payload
        .pointer("/attributes/currency")
        .and_then(Value::as_str)?
        .to_uppercase();
    let source = format!("{}/{}", record.object_type, record.external_id);
    let refund = kind == RevenueKind::Refund;
    Some(RevenueMove {
        source_id: if refund {
            format!("{source}/refund")
        } else {
            source.clone()
        },
        kind,
        amount_minor: amount,
        currency,
        customer_email: text(&record.payload, "/attributes/user_email").map(str::to_owned),
        occurred_at,
        campaign,
        // Refunds are the order's (or invoice's) total refunded so far.
        cumulative: refund,
        reverses: refund.then_some(source),
    })
}

/// The refund of an order or invoice so far: its `refunded_amount` (the whole
/// total when only `refunded` says so). A second partial refund carries the
/// cumulative amount under the same source id: the move is `cumulative`, so the
/// server records only its difference.
fn refund_move(record: &RawRecord, campaign: Option<String>) -> Option<RevenueMove> {
    let attributes = record.payload.get("attributes")?;
    let amount = attributes
        .get("refunded_amount")
        .and_then(Value::as_i64)
        .filter(|a| *a > 0)
        .or_else(|| {
            (attributes.get("refunded") == Some(&Value::Bool(true)))
                .then(|| attributes.get("total").and_then(Value::as_i64))
                .flatten()
        })?;
    let at = time_attr(record, "refunded_at").or_else(|| time_attr(record, "updated_at"))?;
    money(record, RevenueKind::Refund, -amount, at, campaign)
}

/// Parses a verified delivery.
pub(super) fn delivery(body: &[u8]) -> Result<WebhookDelivery, WebhookError> {
    let json: Value = serde_json::from_slice(body).map_err(|_| WebhookError::MalformedSignature)?;
    let event_type = text(&json, "/meta/event_name")
        .ok_or(WebhookError::MalformedSignature)?
        .to_owned();
    let data = json.get("data").cloned().unwrap_or_default();
    let resource = format!(
        "{}/{}",
        text(&data, "/type").unwrap_or("-"),
        data.get("id").map(|id| id.to_string().trim_matches('"').to_owned()).unwrap_or_default()
    );
    let version = text(&data, "/attributes/updated_at").unwrap_or("-");
    let mut delivery = WebhookDelivery {
        event_id: format!("{event_type}:{resource}@{version}"),
        event_type: event_type.clone(),
        account: data
            .pointer("/attributes/store_id")
            .map(|id| id.to_string().trim_matches('"').to_owned()),
        records: vec![],
        revenue: vec![],
        revoked: false,
        redaction: None,
    };
    let object_type = match text(&data, "/type") {
        Some("orders") => "order",
        Some("subscriptions") => "subscription",
        Some("subscription-invoices") => "subscription-invoice",
        Some("customers") => "customer",
        _ => return Ok(delivery),
    };
    let known = matches!(
        event_type.as_str(),
        "order_created"
            | "order_refunded"
            | "subscription_created"
            | "subscription_updated"
            | "subscription_cancelled"
            | "subscription_resumed"
            | "subscription_expired"
            | "subscription_paused"
            | "subscription_unpaused"
            | "subscription_payment_success"
            | "subscription_payment_failed"
            | "subscription_payment_recovered"
            | "subscription_payment_refunded"
            | "customer_created"
            | "customer_updated"
    );
    if !known {
        return Ok(delivery);
    }
    let Some(mut record) = record(object_type, data) else {
        return Ok(delivery);
    };
    let campaign = campaign(&json);
    let created = time_attr(&record, "created_at");
    let status = text(&record.payload, "/attributes/status").unwrap_or_default();
    let total = record.payload.pointer("/attributes/total").and_then(Value::as_i64);
    match event_type.as_str() {
        "order_created" if status == "paid" => {
            if let (Some(total), Some(at)) = (total, created) {
                delivery
                    .revenue
                    .extend(money(&record, RevenueKind::Sale, total, at, campaign));
            }
        }
        "order_refunded" | "subscription_payment_refunded" => {
            delivery.revenue.extend(refund_move(&record, campaign));
        }
        "subscription_payment_success" => {
            // The first payment is the subscription's order (order_created).
            let kind = match text(&record.payload, "/attributes/billing_reason") {
                Some("renewal") => Some(RevenueKind::Renewal),
                Some("updated") => Some(RevenueKind::Upsell),
                _ => None,
            };
            if let (Some(kind), Some(total), Some(at)) = (kind, total, created) {
                delivery
                    .revenue
                    .extend(money(&record, kind, total, at, campaign));
            }
        }
        _ => {}
    }
    if object_type == "subscription" {
        // A delivered subscription has no price (the sync attaches it), so this
        // copy is dated at the subscription's creation: it fills the gap until
        // the next sync and never replaces a synced, priced copy.
        record.updated_at = created;
    }
    delivery.records.push(record);
    Ok(delivery)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SECRET: &str = "ls_signing_secret";
    const BODY: &str = r#"{"meta":{"event_name":"order_created"},"data":{"type":"orders","id":"1"}}"#;
    // HMAC-SHA256("ls_signing_secret", BODY) in hex, computed independently with
    // Python's hmac module.
    const SIGNATURE: &str = "fe6fe15a0ac6706a4d7e7c1d32ca2b4cc33b397acc098969e54e69e42de51259";

    #[test]
    fn the_signature_is_the_hex_hmac_of_the_body() {
        assert_eq!(verify_lemonsqueezy_webhook(BODY.as_bytes(), SIGNATURE, SECRET), Ok(()));
        assert_eq!(sign_lemonsqueezy_webhook(BODY.as_bytes(), SECRET), SIGNATURE);
        assert_eq!(
            verify_lemonsqueezy_webhook(BODY.as_bytes(), SIGNATURE, "another_secret"),
            Err(WebhookError::BadSignature)
        );
        let altered = BODY.replace("\"1\"", "\"2\"");
        assert_eq!(
            verify_lemonsqueezy_webhook(altered.as_bytes(), SIGNATURE, SECRET),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_lemonsqueezy_webhook(BODY.as_bytes(), "not hex", SECRET),
            Err(WebhookError::MalformedSignature)
        );
        assert_eq!(
            verify_lemonsqueezy_webhook(BODY.as_bytes(), &SIGNATURE[..62], SECRET),
            Err(WebhookError::BadSignature)
        );
    }

    fn order(status: &str, refunded_amount: i64) -> Value {
        json!({ "type": "orders", "id": "1001", "attributes": {
            "store_id": 77, "user_email": "ada@example.com", "currency": "usd",
            "status": status, "total": 4900, "refunded": status == "refunded",
            "refunded_amount": refunded_amount,
            "created_at": "2024-05-01T10:00:00.000000Z",
            "refunded_at": if refunded_amount > 0 { json!("2024-05-02T08:00:00.000000Z") } else { Value::Null },
            "updated_at": "2024-05-02T08:00:00.000000Z"
        }})
    }

    fn deliver(event: &str, data: Value, custom: Value) -> WebhookDelivery {
        let body = json!({ "meta": { "event_name": event, "custom_data": custom, "test_mode": true, "webhook_id": "wh-1" }, "data": data });
        delivery(body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_new_order_is_a_sale_with_its_campaign_and_the_synced_record() {
        let d = deliver("order_created", order("paid", 0), json!({ "utm_campaign": "launch" }));
        assert_eq!(d.event_type, "order_created");
        assert_eq!(d.account.as_deref(), Some("77"));
        assert_eq!(d.records.len(), 1);
        let synced = record("order", order("paid", 0)).unwrap();
        assert_eq!(d.records[0], synced, "the record is what the sync stores");
        assert_eq!(
            d.revenue,
            vec![RevenueMove {
                source_id: "order/1001".into(),
                kind: RevenueKind::Sale,
                amount_minor: 4900,
                currency: "USD".into(),
                customer_email: Some("ada@example.com".into()),
                occurred_at: "2024-05-01T10:00:00Z".parse().unwrap(),
                campaign: Some("launch".into()),
                cumulative: false,
                reverses: None,
            }]
        );
        // A retry is the same event; the refund of the same order is another.
        let again = deliver("order_created", order("paid", 0), json!({ "utm_campaign": "launch" }));
        assert_eq!(again.event_id, d.event_id);
        let refunded = deliver("order_refunded", order("partial_refund", 1500), json!({ "campaign": "launch" }));
        assert_ne!(refunded.event_id, d.event_id);
        assert_eq!(refunded.revenue[0].kind, RevenueKind::Refund);
        assert_eq!(refunded.revenue[0].amount_minor, -1500);
        assert!(
            refunded.revenue[0].cumulative,
            "the order's refunds so far: the server counts the difference"
        );
        assert!(!d.revenue[0].cumulative);
        assert_eq!(refunded.revenue[0].source_id, "order/1001/refund");
        assert_eq!(refunded.revenue[0].campaign.as_deref(), Some("launch"));
    }

    #[test]
    fn renewals_and_plan_changes_move_money_but_the_initial_invoice_does_not() {
        let invoice = |reason: &str| {
            json!({ "type": "subscription-invoices", "id": "55", "attributes": {
                "store_id": 77, "subscription_id": 9, "billing_reason": reason, "status": "paid",
                "currency": "EUR", "total": 2900, "refunded_amount": 0, "user_email": "b@example.com",
                "created_at": "2024-06-01T00:00:00Z", "updated_at": "2024-06-01T00:00:00Z"
            }})
        };
        let renewal = deliver("subscription_payment_success", invoice("renewal"), Value::Null);
        assert_eq!(renewal.records[0].object_type, "subscription-invoice");
        assert_eq!(renewal.revenue[0].kind, RevenueKind::Renewal);
        assert_eq!(renewal.revenue[0].campaign, None);
        let upgrade = deliver("subscription_payment_success", invoice("updated"), Value::Null);
        assert_eq!(upgrade.revenue[0].kind, RevenueKind::Upsell);
        let initial = deliver("subscription_payment_success", invoice("initial"), Value::Null);
        assert!(initial.revenue.is_empty());
        assert_eq!(initial.records.len(), 1);
    }

    #[test]
    fn subscription_events_give_a_record_that_never_replaces_a_synced_one() {
        let subscription = json!({ "type": "subscriptions", "id": "9", "attributes": {
            "store_id": 77, "status": "cancelled", "variant_id": 3,
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-06-01T00:00:00Z"
        }});
        for event in ["subscription_created", "subscription_updated", "subscription_cancelled"] {
            let d = deliver(event, subscription.clone(), Value::Null);
            assert_eq!(d.records[0].object_type, "subscription");
            assert_eq!(d.records[0].external_id, "9");
            assert_eq!(
                d.records[0].updated_at,
                Some("2024-01-01T00:00:00Z".parse().unwrap())
            );
            assert!(d.revenue.is_empty());
        }
    }

    #[test]
    fn unknown_events_are_kept_empty() {
        let d = deliver("license_key_created", json!({ "type": "license-keys", "id": "3", "attributes": {} }), Value::Null);
        assert_eq!(d.event_type, "license_key_created");
        assert!(d.records.is_empty() && d.revenue.is_empty() && !d.revoked);
        let d = deliver("affiliate_activated", json!({ "type": "orders", "id": "3", "attributes": {} }), Value::Null);
        assert!(d.records.is_empty() && d.revenue.is_empty());
        assert!(delivery(b"not json").is_err());
    }
}

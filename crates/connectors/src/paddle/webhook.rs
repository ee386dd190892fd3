//! Paddle webhooks: verification and what a delivery carries.
//!
//! A delivery is `{"event_id", "event_type", "occurred_at", "notification_id",
//! "data": <the entity>}`; `event_id` is the deduplication key (a retry of the same
//! notification, or another destination's, carries the same one).
//! `Paddle-Signature: ts=<unix>;h1=<hex>` is HMAC-SHA256 of `"{ts}:{raw body}"`
//! with the destination's secret key; several `h1` values appear while a secret is
//! rotated. Paddle's own example allows 5 seconds of clock difference; Pulseboard
//! allows five minutes either side, like Stripe's libraries, because the intake
//! verifies before anything else but a busy server may take seconds to read a body.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{derive::amount, sync::entity_record};
use crate::{
    provider::{RevenueKind, RevenueMove, WebhookDelivery, WebhookSecret, WebhookSetup},
    support::{
        error::WebhookError,
        signature::{hmac_sha256, hmac_sha256_matches, within_tolerance},
    },
};

/// How far a signed timestamp may be from the server's clock.
pub const PADDLE_WEBHOOK_TOLERANCE: Duration = Duration::from_secs(300);

pub(super) const SETUP: WebhookSetup = WebhookSetup {
    events: &[
        "transaction.completed",
        "subscription.created",
        "subscription.updated",
        "subscription.canceled",
        "adjustment.created",
        "adjustment.updated",
        "customer.created",
    ],
    steps: &[
        "In Paddle, open Developer tools → Notifications and click New destination.",
        "Type: Webhook. URL: {url}",
        "Tick the events listed here and Save destination.",
        "Open the destination's ⋯ menu → Edit destination, copy its secret key (pdl_ntfset_…) and paste it here.",
        "Send a test event from the destination: this page shows when the first delivery arrives.",
    ],
    secret: WebhookSecret::Pasted {
        prefix: "pdl_ntfset_",
    },
};

/// Verifies a `Paddle-Signature` header on the raw body, in constant time, and
/// the signed timestamp within `tolerance` of `now` (either side). Returns the
/// signed time.
pub fn verify_paddle_webhook(
    body: &[u8],
    header: &str,
    secret: &str,
    now: DateTime<Utc>,
    tolerance: Duration,
) -> Result<DateTime<Utc>, WebhookError> {
    let mut ts = None;
    let mut signatures = Vec::new();
    for item in header.split(';') {
        let (key, value) = item
            .trim()
            .split_once('=')
            .ok_or(WebhookError::MalformedSignature)?;
        match key {
            "ts" if ts.is_none() => ts = Some(value.to_owned()),
            "ts" => return Err(WebhookError::MalformedSignature),
            "h1" => signatures.extend(hex::decode(value).ok()),
            _ => {}
        }
    }
    let ts = ts.ok_or(WebhookError::MalformedSignature)?;
    let signed: i64 = ts.parse().map_err(|_| WebhookError::MalformedSignature)?;
    if signatures.is_empty() {
        return Err(WebhookError::MissingSignature);
    }
    let parts: [&[u8]; 3] = [ts.as_bytes(), b":", body];
    if !signatures
        .iter()
        .any(|sig| hmac_sha256_matches(secret.as_bytes(), &parts, sig))
    {
        return Err(WebhookError::BadSignature);
    }
    if !within_tolerance(signed, now, tolerance) {
        return Err(WebhookError::OutsideTolerance);
    }
    DateTime::from_timestamp(signed, 0).ok_or(WebhookError::MalformedSignature)
}

/// The `Paddle-Signature` header Paddle would send, for tests.
pub fn sign_paddle_webhook(body: &[u8], secret: &str, timestamp: i64) -> String {
    let ts = timestamp.to_string();
    let digest = hmac_sha256(secret.as_bytes(), &[ts.as_bytes(), b":", body]);
    format!("ts={ts};h1={}", hex::encode(digest))
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

fn time(value: &Value, pointer: &str) -> Option<DateTime<Utc>> {
    text(value, pointer)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// The campaign in an entity's `custom_data`: `utm_campaign`, else `campaign`.
fn campaign(data: &Value) -> Option<String> {
    let custom = data.get("custom_data")?;
    ["utm_campaign", "campaign"]
        .iter()
        .find_map(|key| custom.get(*key)?.as_str())
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
}

/// Parses a verified delivery.
pub(super) fn delivery(body: &[u8]) -> Result<WebhookDelivery, WebhookError> {
    let json: Value = serde_json::from_slice(body).map_err(|_| WebhookError::MalformedSignature)?;
    let event_id = text(&json, "/event_id").ok_or(WebhookError::MalformedSignature)?;
    let event_type = text(&json, "/event_type")
        .ok_or(WebhookError::MalformedSignature)?
        .to_owned();
    let data = json.get("data").cloned().unwrap_or_default();
    let mut delivery = WebhookDelivery {
        event_id: event_id.to_owned(),
        event_type: event_type.clone(),
        account: None,
        records: vec![],
        revenue: vec![],
        revoked: false,
        redaction: None,
    };
    let object_type = match event_type.split_once('.').map(|(entity, _)| entity) {
        Some(entity @ ("transaction" | "subscription" | "adjustment" | "customer")) => entity,
        _ => return Ok(delivery),
    };
    let Some(record) = entity_record(object_type, data.clone()) else {
        return Ok(delivery);
    };
    let currency = text(&data, "/currency_code").map(str::to_uppercase);
    let source = format!("{object_type}/{}", record.external_id);
    match event_type.as_str() {
        "transaction.completed" => {
            let kind = match (text(&data, "/origin"), text(&data, "/subscription_id")) {
                (Some("subscription_recurring"), _) => RevenueKind::Renewal,
                (Some("subscription_update" | "subscription_charge"), _) => RevenueKind::Upsell,
                (_, Some(_)) => RevenueKind::Subscription,
                _ => RevenueKind::Sale,
            };
            let at = time(&data, "/billed_at").or_else(|| time(&json, "/occurred_at"));
            if let (Some(total), Some(currency), Some(at)) =
                (amount(&data, "/details/totals/total"), currency, at)
            {
                delivery.revenue.push(RevenueMove {
                    source_id: source,
                    kind,
                    amount_minor: total,
                    currency,
                    customer_email: text(&data, "/customer/email").map(str::to_owned),
                    occurred_at: at,
                    campaign: campaign(&data),
                    cumulative: false,
                    reverses: None,
                });
            }
        }
        "adjustment.created" | "adjustment.updated"
            if text(&data, "/action") == Some("refund")
                && text(&data, "/status") == Some("approved") =>
        {
            let at = time(&data, "/created_at").or_else(|| time(&json, "/occurred_at"));
            if let (Some(total), Some(currency), Some(at)) =
                (amount(&data, "/totals/total"), currency, at)
            {
                delivery.revenue.push(RevenueMove {
                    source_id: source,
                    kind: RevenueKind::Refund,
                    amount_minor: -total,
                    currency,
                    customer_email: None,
                    occurred_at: at,
                    campaign: None,
                    cumulative: false,
                    reverses: text(&data, "/transaction_id").map(|t| format!("transaction/{t}")),
                });
            }
        }
        _ => {}
    }
    delivery.records.push(record);
    Ok(delivery)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SECRET: &str = "pdl_ntfset_01hv8_secret";
    const BODY: &str =
        r#"{"event_id":"evt_01hv8wt8nffy6bw8a4mpq9h5wz","event_type":"transaction.completed"}"#;
    // HMAC-SHA256("pdl_ntfset_01hv8_secret", "1700000000:" + BODY) in hex, computed
    // independently with Python's hmac module.
    const H1: &str = "95d1103899cec09e49efee06b284da3f5cda72154eea9feb59db4f32495fa1de";

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    #[test]
    fn the_signature_covers_the_timestamp_and_the_body() {
        let header = format!("ts=1700000000;h1={H1}");
        let tolerance = PADDLE_WEBHOOK_TOLERANCE;
        assert_eq!(
            verify_paddle_webhook(BODY.as_bytes(), &header, SECRET, at(1_700_000_000), tolerance),
            Ok(at(1_700_000_000))
        );
        assert_eq!(sign_paddle_webhook(BODY.as_bytes(), SECRET, 1_700_000_000), header);
        // A rotated secret: one matching h1 is enough.
        let rotated = format!("ts=1700000000;h1={};h1={H1}", "00".repeat(32));
        assert!(verify_paddle_webhook(BODY.as_bytes(), &rotated, SECRET, at(1_700_000_299), tolerance).is_ok());
        assert_eq!(
            verify_paddle_webhook(BODY.as_bytes(), &header, "pdl_ntfset_other", at(1_700_000_000), tolerance),
            Err(WebhookError::BadSignature)
        );
        let altered = BODY.replace("completed", "canceled");
        assert_eq!(
            verify_paddle_webhook(altered.as_bytes(), &header, SECRET, at(1_700_000_000), tolerance),
            Err(WebhookError::BadSignature)
        );
        let moved = format!("ts=1700000100;h1={H1}");
        assert_eq!(
            verify_paddle_webhook(BODY.as_bytes(), &moved, SECRET, at(1_700_000_100), tolerance),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_paddle_webhook(BODY.as_bytes(), &header, SECRET, at(1_700_000_301), tolerance),
            Err(WebhookError::OutsideTolerance)
        );
        assert_eq!(
            verify_paddle_webhook(BODY.as_bytes(), &header, SECRET, at(1_699_999_699), tolerance),
            Err(WebhookError::OutsideTolerance)
        );
        for bad in ["", "ts=1700000000", "h1=00", "ts=x;h1=00", "ts=1;ts=2;h1=00", "garbage"] {
            assert!(
                verify_paddle_webhook(BODY.as_bytes(), bad, SECRET, at(1_700_000_000), tolerance).is_err(),
                "{bad:?}"
            );
        }
    }

    fn transaction(origin: &str, subscription: Option<&str>) -> Value {
        json!({
            "id": "txn_01simtransaction0001", "status": "completed", "origin": origin,
            "customer_id": "ctm_01sim", "subscription_id": subscription,
            "currency_code": "EUR", "custom_data": { "utm_campaign": "launch" },
            "details": { "totals": { "subtotal": "4900", "tax": "0", "total": "4900", "currency_code": "EUR" } },
            "billed_at": "2024-05-01T10:00:00Z", "created_at": "2024-05-01T10:00:00Z",
            "updated_at": "2024-05-01T10:00:05Z"
        })
    }

    fn deliver(event_type: &str, data: Value) -> WebhookDelivery {
        let body = json!({ "event_id": "evt_01sim1", "event_type": event_type,
            "occurred_at": "2024-05-01T10:00:06Z", "notification_id": "ntf_01sim", "data": data });
        delivery(body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_completed_transaction_is_a_sale_subscription_or_renewal_with_its_campaign() {
        let d = deliver("transaction.completed", transaction("web", None));
        assert_eq!(d.event_id, "evt_01sim1");
        assert_eq!(d.records, vec![entity_record("transaction", transaction("web", None)).unwrap()]);
        assert_eq!(
            d.revenue,
            vec![RevenueMove {
                source_id: "transaction/txn_01simtransaction0001".into(),
                kind: RevenueKind::Sale,
                amount_minor: 4900,
                currency: "EUR".into(),
                customer_email: None,
                occurred_at: "2024-05-01T10:00:00Z".parse().unwrap(),
                campaign: Some("launch".into()),
                cumulative: false,
                reverses: None,
            }]
        );
        let first = deliver("transaction.completed", transaction("web", Some("sub_01sim")));
        assert_eq!(first.revenue[0].kind, RevenueKind::Subscription);
        let renewal = deliver(
            "transaction.completed",
            transaction("subscription_recurring", Some("sub_01sim")),
        );
        assert_eq!(renewal.revenue[0].kind, RevenueKind::Renewal);
        // Other transaction events keep the record up to date but move no money.
        let updated = deliver("transaction.updated", transaction("web", None));
        assert_eq!(updated.records.len(), 1);
        assert!(updated.revenue.is_empty());
    }

    #[test]
    fn an_approved_refund_adjustment_is_a_negative_move() {
        let adjustment = |status: &str| {
            json!({ "id": "adj_01sim1", "action": "refund", "status": status,
                "transaction_id": "txn_01simtransaction0001", "currency_code": "EUR",
                "totals": { "subtotal": "1500", "tax": "0", "total": "1500", "currency_code": "EUR" },
                "created_at": "2024-05-03T09:00:00Z", "updated_at": "2024-05-03T09:00:00Z" })
        };
        let d = deliver("adjustment.created", adjustment("approved"));
        assert_eq!(d.records[0].object_type, "adjustment");
        assert_eq!(d.revenue[0].kind, RevenueKind::Refund);
        assert_eq!(d.revenue[0].amount_minor, -1500);
        assert_eq!(d.revenue[0].source_id, "adjustment/adj_01sim1");
        let pending = deliver("adjustment.created", adjustment("pending_approval"));
        assert!(pending.revenue.is_empty());
    }

    #[test]
    fn subscription_events_give_records_and_unknown_events_nothing() {
        let subscription = json!({ "id": "sub_01sim", "status": "canceled", "currency_code": "USD",
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-06-01T00:00:00Z", "items": [] });
        for event in ["subscription.created", "subscription.updated", "subscription.canceled"] {
            let d = deliver(event, subscription.clone());
            assert_eq!(
                (d.records[0].object_type.as_str(), d.records[0].external_id.as_str()),
                ("subscription", "sub_01sim")
            );
            assert!(d.revenue.is_empty());
        }
        let d = deliver("payout.paid", json!({ "id": "pay_1" }));
        assert_eq!(d.event_type, "payout.paid");
        assert!(d.records.is_empty() && d.revenue.is_empty());
        assert!(delivery(b"{}").is_err());
    }
}

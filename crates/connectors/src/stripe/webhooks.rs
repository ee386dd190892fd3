//! Stripe's webhook deliveries: a delivery is one event (`evt_…`) whose
//! `data.object` is the object the sync stores, so the same object arriving by
//! webhook and later by the events stream or a backfill is one raw record.

use serde_json::Value;

use super::sync::record_of_event;
use crate::{
    provider::{RevenueKind, RevenueMove, WebhookDelivery, WebhookSecret, WebhookSetup},
    support::error::WebhookError,
    sync::unix_field,
};

pub(super) const SETUP: WebhookSetup = WebhookSetup {
    events: &[
        "charge.succeeded",
        "charge.refunded",
        "refund.created",
        "invoice.paid",
        "customer.created",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "account.application.deauthorized",
    ],
    steps: &[
        "In the Stripe Dashboard open Developers → Webhooks and click \u{201c}Add endpoint\u{201d}.",
        "Paste {url} as the endpoint URL.",
        "Select the events listed here (or \u{201c}all charge, refund, invoice and subscription events\u{201d}).",
        "Save, then reveal the endpoint's signing secret (whsec_…) and paste it here.",
        "Send a test webhook from Stripe: this page shows when the first delivery arrives.",
    ],
    secret: WebhookSecret::Pasted { prefix: "whsec_" },
};

fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The campaign a charge or invoice carries in its metadata.
fn campaign(object: &Value) -> Option<String> {
    ["/metadata/utm_campaign", "/metadata/campaign", "/metadata/ref"]
        .iter()
        .find_map(|p| text(object, p))
}

fn currency(object: &Value) -> String {
    text(object, "/currency").unwrap_or_default().to_uppercase()
}

/// Money that moved, for the live pulse. Subscription money is read from the paid
/// invoice (which says why it was billed); a charge counts only when no invoice
/// stands behind it, so nothing is counted twice.
fn revenue(event_type: &str, object: &Value) -> Option<RevenueMove> {
    let id = text(object, "/id")?;
    let occurred_at = unix_field(object, "created")?;
    match event_type {
        "charge.succeeded" if object.get("invoice").is_none_or(Value::is_null) => {
            Some(RevenueMove {
                source_id: format!("charge/{id}"),
                kind: RevenueKind::Sale,
                amount_minor: object.get("amount")?.as_i64()?,
                currency: currency(object),
                customer_email: text(object, "/billing_details/email")
                    .or_else(|| text(object, "/receipt_email")),
                occurred_at,
                campaign: campaign(object),
                cumulative: false,
                reverses: None,
            })
        }
        "invoice.paid" => {
            let amount = object.get("amount_paid")?.as_i64()?;
            if amount == 0 {
                return None;
            }
            let kind = match object.get("billing_reason").and_then(Value::as_str) {
                Some("subscription_create") => RevenueKind::Subscription,
                Some("subscription_cycle") => RevenueKind::Renewal,
                Some("subscription_update") => RevenueKind::Upsell,
                _ => RevenueKind::Sale,
            };
            Some(RevenueMove {
                source_id: format!("invoice/{id}"),
                kind,
                amount_minor: amount,
                currency: currency(object),
                customer_email: text(object, "/customer_email"),
                occurred_at: unix_field(object, "created").unwrap_or(occurred_at),
                campaign: campaign(object)
                    .or_else(|| text(object, "/subscription_details/metadata/utm_campaign"))
                    .or_else(|| text(object, "/subscription_details/metadata/campaign")),
                cumulative: false,
                reverses: None,
            })
        }
        "refund.created" => Some(RevenueMove {
            source_id: format!("refund/{id}"),
            kind: RevenueKind::Refund,
            amount_minor: -object.get("amount")?.as_i64()?,
            currency: currency(object),
            customer_email: None,
            occurred_at,
            campaign: campaign(object),
            cumulative: false,
            reverses: text(object, "/charge").map(|charge| format!("charge/{charge}")),
        }),
        _ => None,
    }
}

/// Parses a verified delivery.
pub(super) fn delivery(body: &[u8]) -> Result<WebhookDelivery, WebhookError> {
    let event: Value = serde_json::from_slice(body).map_err(|_| WebhookError::MalformedBody)?;
    let event_id = text(&event, "/id").ok_or(WebhookError::MalformedBody)?;
    let event_type = text(&event, "/type").ok_or(WebhookError::MalformedBody)?;
    let object = event.pointer("/data/object").cloned().unwrap_or(Value::Null);
    Ok(WebhookDelivery {
        records: record_of_event(&event).into_iter().collect(),
        revenue: revenue(&event_type, &object).into_iter().collect(),
        revoked: event_type == "account.application.deauthorized",
        redaction: None,
        account: text(&event, "/account"),
        event_id,
        event_type,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(kind: &str, object: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({ "id": "evt_1", "object": "event", "type": kind, "created": 1_700_000_100,
                                    "data": { "object": object } }))
        .unwrap()
    }

    #[test]
    fn a_one_off_charge_is_a_sale_with_its_campaign_and_the_record_the_sync_stores() {
        let charge = json!({ "id": "ch_1", "object": "charge", "amount": 4200, "currency": "usd", "created": 1_700_000_000,
                             "invoice": null, "billing_details": { "email": "a@b.example" },
                             "metadata": { "utm_campaign": "launch" } });
        let d = delivery(&event("charge.succeeded", charge.clone())).unwrap();
        assert_eq!((d.event_id.as_str(), d.event_type.as_str()), ("evt_1", "charge.succeeded"));
        assert_eq!(d.records.len(), 1);
        assert_eq!((d.records[0].object_type.as_str(), d.records[0].external_id.as_str()), ("charge", "ch_1"));
        assert_eq!(d.records[0].payload, charge);
        let sale = &d.revenue[0];
        assert_eq!((sale.kind, sale.amount_minor, sale.currency.as_str()), (RevenueKind::Sale, 4200, "USD"));
        assert_eq!(sale.campaign.as_deref(), Some("launch"));
        assert_eq!(sale.customer_email.as_deref(), Some("a@b.example"));
        assert_eq!(sale.source_id, "charge/ch_1");
    }

    #[test]
    fn subscription_money_comes_from_the_invoice_and_its_charge_is_not_counted_again() {
        let charge = json!({ "id": "ch_2", "object": "charge", "amount": 900, "currency": "usd", "created": 1, "invoice": "in_1" });
        assert!(delivery(&event("charge.succeeded", charge)).unwrap().revenue.is_empty());
        for (reason, kind) in [
            ("subscription_create", RevenueKind::Subscription),
            ("subscription_cycle", RevenueKind::Renewal),
            ("subscription_update", RevenueKind::Upsell),
        ] {
            let invoice = json!({ "id": "in_1", "object": "invoice", "amount_paid": 900, "currency": "eur",
                                  "created": 1, "billing_reason": reason, "customer_email": "c@d.example" });
            let d = delivery(&event("invoice.paid", invoice)).unwrap();
            assert_eq!(d.revenue[0].kind, kind);
            assert_eq!(d.revenue[0].currency, "EUR");
        }
    }

    #[test]
    fn refunds_are_negative_and_unknown_events_are_kept_without_money() {
        let refund = json!({ "id": "re_1", "object": "refund", "amount": 500, "currency": "usd", "created": 2, "charge": "ch_1" });
        let d = delivery(&event("refund.created", refund)).unwrap();
        assert_eq!(d.revenue[0].amount_minor, -500);
        assert_eq!(d.records[0].object_type, "refund");
        let d = delivery(&event("payout.paid", json!({ "id": "po_1", "object": "payout", "created": 3 }))).unwrap();
        assert!(d.records.is_empty() && d.revenue.is_empty() && !d.revoked);
        let d = delivery(&event("account.application.deauthorized", json!({ "id": "ca_1", "object": "application" }))).unwrap();
        assert!(d.revoked);
        assert_eq!(delivery(b"{not json").unwrap_err(), WebhookError::MalformedBody);
    }
}

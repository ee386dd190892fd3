//! Gorgias webhooks: an HTTP integration (Settings → HTTP integrations) that
//! Gorgias calls on "Ticket created" and "Ticket updated" with the body and
//! headers the user sets. Gorgias signs nothing, so the integration sends the
//! secret Pulseboard generates in an `X-Pulseboard-Secret` header (compared in
//! constant time), over HTTPS; the body template makes it the ticket object with
//! its messages, the same shape the sync stores:
//! `{"event": "ticket-updated", "ticket": {{ticket}}}`. A tampered body with the
//! right secret cannot be told apart: the next pull replaces whatever it said.
//! The deduplication key is the ticket and its `updated_datetime`.

use serde_json::Value;

use super::sync::record;
use crate::{
    provider::{WebhookDelivery, WebhookSecret, WebhookSetup},
    support::{
        error::WebhookError,
        signature::{hmac_sha256, hmac_sha256_matches},
    },
};

pub(super) const SECRET_HEADER: &str = "x-pulseboard-secret";

pub(super) const SETUP: WebhookSetup = WebhookSetup {
    events: &["ticket-created", "ticket-updated"],
    steps: &[
        "In Gorgias, open Settings → HTTP integrations and click Add HTTP integration.",
        "Name it Pulseboard; URL: {url}; HTTP method POST; Request content type application/json.",
        "Headers: add X-Pulseboard-Secret with the secret shown here as its value.",
        "Request body: {\"event\": \"{{event.type}}\", \"ticket\": {{ticket}}}",
        "Triggers: Ticket created and Ticket updated. Save, then reply to a ticket: this page shows when the first delivery arrives.",
    ],
    secret: WebhookSecret::Generated,
};

/// Checks the integration's secret header, in constant time.
pub fn verify_gorgias_webhook(presented: &str, secret: &str) -> Result<(), WebhookError> {
    // Comparing MACs of both under one key is constant time whatever the lengths.
    let expected = hmac_sha256(b"pulseboard-gorgias", &[presented.trim().as_bytes()]);
    if secret.is_empty() || !hmac_sha256_matches(b"pulseboard-gorgias", &[secret.as_bytes()], &expected) {
        return Err(WebhookError::BadSignature);
    }
    Ok(())
}

/// Parses a verified delivery.
pub(super) fn delivery(body: &[u8]) -> Result<WebhookDelivery, WebhookError> {
    let json: Value = serde_json::from_slice(body).map_err(|_| WebhookError::MalformedSignature)?;
    let ticket = json.get("ticket").filter(|t| t.is_object()).ok_or(WebhookError::MalformedSignature)?;
    let record = record(ticket.clone()).ok_or(WebhookError::MalformedSignature)?;
    let version = ticket.get("updated_datetime").and_then(Value::as_str).unwrap_or("-");
    Ok(WebhookDelivery {
        event_id: format!("ticket/{}@{version}", record.external_id),
        event_type: json.get("event").and_then(Value::as_str).unwrap_or("ticket-updated").to_owned(),
        account: None,
        records: vec![record],
        revenue: vec![],
        revoked: false,
        redaction: None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_the_generated_secret_passes() {
        assert_eq!(verify_gorgias_webhook("s3cret-value", "s3cret-value"), Ok(()));
        assert_eq!(verify_gorgias_webhook("s3cret-valuf", "s3cret-value"), Err(WebhookError::BadSignature));
        assert_eq!(verify_gorgias_webhook("", "s3cret-value"), Err(WebhookError::BadSignature));
        assert_eq!(verify_gorgias_webhook("", ""), Err(WebhookError::BadSignature));
    }

    #[test]
    fn a_delivery_is_the_ticket_record_keyed_by_its_version() {
        let ticket = json!({ "id": 42, "updated_datetime": "2026-11-02T10:00:00", "messages": [] });
        let body = json!({ "event": "ticket-updated", "ticket": ticket });
        let d = delivery(body.to_string().as_bytes()).unwrap();
        assert_eq!(d.event_id, "ticket/42@2026-11-02T10:00:00");
        assert_eq!(d.records, vec![record(ticket).unwrap()]);
        assert!(delivery(br#"{"event":"x"}"#).is_err());
    }
}

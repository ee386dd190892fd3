//! Intelligems webhooks: verification and what a delivery carries.
//!
//! Intelligems documents no public webhook format, so this is the closest
//! faithful design, following the common HMAC scheme (LemonSqueezy's, GitHub's):
//! a delivery is `{"id", "type", "createdAtTs", "experience", "analytics"}`, where
//! `experience` is the experience as `GET /experiences-list` gives it and
//! `analytics` what `GET /analytics/resource/{id}` gives, limited in `daily` to
//! the days with new activity. `X-Intelligems-Signature: sha256=<hex>` is the
//! HMAC-SHA256 of the raw body with a secret Pulseboard generates and the user
//! pastes into Intelligems. The records are exactly those a pull stores for the
//! same answer (`sync::records`), so a delivery and the next pull count once.

use serde_json::Value;

use super::sync::records;
use crate::{
    provider::{WebhookDelivery, WebhookSecret, WebhookSetup},
    support::{
        error::WebhookError,
        signature::{hmac_sha256, hmac_sha256_matches},
    },
};

pub(super) const SETUP: WebhookSetup = WebhookSetup {
    events: &["experience.started", "experience.updated", "experience.ended"],
    steps: &[
        "In Intelligems, open Settings → Integrations → Webhooks and add an endpoint.",
        "Endpoint URL: {url}",
        "Signing secret: paste the secret shown here.",
        "Subscribe to the events listed here and save.",
        "Start or update a test: this page shows when the first delivery arrives.",
    ],
    secret: WebhookSecret::Generated,
};

/// Verifies `X-Intelligems-Signature` (`sha256=` and the hex HMAC-SHA256 of the
/// raw body with the signing secret) in constant time. No timestamp is signed:
/// replays are caught by the delivery id.
pub fn verify_intelligems_webhook(
    body: &[u8],
    signature: &str,
    secret: &str,
) -> Result<(), WebhookError> {
    let hex_part = signature
        .trim()
        .strip_prefix("sha256=")
        .ok_or(WebhookError::MalformedSignature)?;
    let signature = hex::decode(hex_part).map_err(|_| WebhookError::MalformedSignature)?;
    if secret.is_empty() || !hmac_sha256_matches(secret.as_bytes(), &[body], &signature) {
        return Err(WebhookError::BadSignature);
    }
    Ok(())
}

/// The `X-Intelligems-Signature` of a body, for tests and the simulator's peers.
pub fn sign_intelligems_webhook(body: &[u8], secret: &str) -> String {
    format!("sha256={}", hex::encode(hmac_sha256(secret.as_bytes(), &[body])))
}

/// Parses a verified delivery.
pub(super) fn delivery(body: &[u8]) -> Result<WebhookDelivery, WebhookError> {
    let json: Value = serde_json::from_slice(body).map_err(|_| WebhookError::MalformedSignature)?;
    let event_id = json
        .get("id")
        .and_then(Value::as_str)
        .ok_or(WebhookError::MalformedSignature)?
        .to_owned();
    let event_type = json
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_owned();
    let records = match json.get("experience") {
        Some(experience) if event_type.starts_with("experience.") => {
            records(experience, json.get("analytics"))
        }
        _ => vec![],
    };
    Ok(WebhookDelivery {
        event_id,
        event_type,
        account: None,
        records,
        revenue: vec![],
        revoked: false,
        redaction: None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SECRET: &str = "ig_signing_secret";
    const BODY: &str = r#"{"id":"whd_1","type":"experience.updated"}"#;
    // HMAC-SHA256("ig_signing_secret", BODY), computed independently with
    // Python's hmac module.
    const SIGNATURE: &str =
        "sha256=c0f228784e1783eae0015c4b401d886ccbc3d1cb7bcff78ae97ff12558b9e9b3";

    #[test]
    fn the_signature_is_the_prefixed_hex_hmac_of_the_body() {
        let signed = sign_intelligems_webhook(BODY.as_bytes(), SECRET);
        assert_eq!(signed, SIGNATURE);
        assert_eq!(verify_intelligems_webhook(BODY.as_bytes(), &signed, SECRET), Ok(()));
        assert_eq!(
            verify_intelligems_webhook(BODY.as_bytes(), &signed, "other"),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_intelligems_webhook(BODY.replace("1", "2").as_bytes(), &signed, SECRET),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_intelligems_webhook(BODY.as_bytes(), &signed[7..], SECRET),
            Err(WebhookError::MalformedSignature)
        );
    }

    #[test]
    fn a_delivery_names_the_records_a_pull_stores() {
        let experience = json!({ "id": "exp-1", "name": "Price", "status": "started",
            "createdAtTs": 1_000, "startedAtTs": 2_000, "variations": [] });
        let analytics = json!({ "asOfTs": 1_780_000_000_000i64, "metrics": [],
            "daily": [{ "day": "2026-11-02", "variationId": "a", "n_visitors": 2 }] });
        let body = json!({ "id": "whd_9", "type": "experience.updated", "createdAtTs": 5,
            "experience": experience, "analytics": analytics });
        let d = delivery(body.to_string().as_bytes()).unwrap();
        assert_eq!((d.event_id.as_str(), d.event_type.as_str()), ("whd_9", "experience.updated"));
        assert_eq!(d.records, records(&experience, Some(&analytics)));
        assert!(d.revenue.is_empty());
        assert!(delivery(b"{}").is_err());
        let other = delivery(br#"{"id":"whd_2","type":"ping"}"#).unwrap();
        assert!(other.records.is_empty());
    }
}

//! HMAC-SHA256 helpers shared by the callback and webhook verifiers, and the
//! [Standard Webhooks](https://www.standardwebhooks.com/) verifier any provider
//! that signs that way can call.

use std::time::Duration;

use base64::{engine::general_purpose::STANDARD, Engine};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use reqwest::header::HeaderMap;
use sha2::Sha256;

use crate::support::error::WebhookError;

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
    }
    mac
}

/// HMAC-SHA256 of the concatenated `parts`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    mac(key, parts).finalize().into_bytes().into()
}

/// Whether `expected` is the HMAC-SHA256 of the concatenated `parts`, compared in
/// constant time (`Mac::verify_slice` uses `subtle` underneath).
pub(crate) fn hmac_sha256_matches(key: &[u8], parts: &[&[u8]], expected: &[u8]) -> bool {
    mac(key, parts).verify_slice(expected).is_ok()
}

/// The Standard Webhooks specification's timestamp tolerance (five minutes, either
/// side), the same as Stripe's.
pub const STANDARD_WEBHOOKS_TOLERANCE: Duration = Duration::from_secs(300);

/// Whether a signed unix timestamp is within `tolerance` of `now`, either side.
pub(crate) fn within_tolerance(timestamp: i64, now: DateTime<Utc>, tolerance: Duration) -> bool {
    DateTime::from_timestamp(timestamp, 0).is_some_and(|signed_at| {
        (now - signed_at).abs().to_std().unwrap_or(Duration::MAX) <= tolerance
    })
}

/// The key of a Standard Webhooks secret: the base64 after `whsec_` (a secret
/// without the prefix is taken as base64 too, as the reference libraries do).
fn standard_key(secret: &str) -> Result<Vec<u8>, WebhookError> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    STANDARD
        .decode(encoded.trim())
        .map_err(|_| WebhookError::MalformedSignature)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, WebhookError> {
    headers
        .get(name)
        .ok_or(WebhookError::MissingSignature)?
        .to_str()
        .map_err(|_| WebhookError::MalformedSignature)
}

/// Verifies a [Standard Webhooks](https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md)
/// delivery: `webhook-signature` holds space-separated `v1,<base64>` values, each an
/// HMAC-SHA256 with the secret's key (`whsec_<base64>`) of
/// `"{webhook-id}.{webhook-timestamp}.{raw body}"`; one match is enough (secrets
/// roll), compared in constant time; the timestamp must be within
/// [`STANDARD_WEBHOOKS_TOLERANCE`] of `now`. Returns the `webhook-id`, the
/// delivery's id for deduplication.
pub fn verify_standard_webhook(
    headers: &HeaderMap,
    body: &[u8],
    secret: &str,
    now: DateTime<Utc>,
) -> Result<String, WebhookError> {
    let id = header(headers, "webhook-id")?;
    let timestamp = header(headers, "webhook-timestamp")?;
    let signatures = header(headers, "webhook-signature")?;
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| WebhookError::MalformedSignature)?;
    let key = standard_key(secret)?;
    let parts: [&[u8]; 5] = [id.as_bytes(), b".", timestamp.trim().as_bytes(), b".", body];
    let matched = signatures
        .split(' ')
        .filter_map(|item| item.strip_prefix("v1,"))
        .filter_map(|sig| STANDARD.decode(sig).ok())
        .any(|sig| hmac_sha256_matches(&key, &parts, &sig));
    if !matched {
        return Err(WebhookError::BadSignature);
    }
    if !within_tolerance(ts, now, STANDARD_WEBHOOKS_TOLERANCE) {
        return Err(WebhookError::OutsideTolerance);
    }
    Ok(id.to_owned())
}

/// The `webhook-signature` value a Standard Webhooks sender puts on a delivery
/// (`v1,<base64>`), for tests and simulators.
pub fn sign_standard_webhook(
    id: &str,
    timestamp: i64,
    body: &[u8],
    secret: &str,
) -> Result<String, WebhookError> {
    let key = standard_key(secret)?;
    let t = timestamp.to_string();
    let digest = hmac_sha256(&key, &[id.as_bytes(), b".", t.as_bytes(), b".", body]);
    Ok(format!("v1,{}", STANDARD.encode(digest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4231_test_case_2() {
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let digest = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(hex::encode(digest), expected);
        let raw = hex::decode(expected).unwrap();
        assert!(hmac_sha256_matches(
            b"Jefe",
            &[b"what do ya want for nothing?"],
            &raw
        ));
        assert!(!hmac_sha256_matches(
            b"Jefe",
            &[b"what do ya want for nothing!"],
            &raw
        ));
        assert!(!hmac_sha256_matches(
            b"Jefe",
            &[b"what do ya want for nothing?"],
            &raw[..31]
        ));
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    fn standard_headers(id: &str, ts: &str, signature: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("webhook-id", id.parse().unwrap());
        headers.insert("webhook-timestamp", ts.parse().unwrap());
        headers.insert("webhook-signature", signature.parse().unwrap());
        headers
    }

    // The example of the Standard Webhooks specification's README, recomputed
    // independently with Python's hmac and base64 modules.
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_BODY: &str = r#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn standard_webhooks_known_answers() {
        let headers = standard_headers(SPEC_ID, "1614265330", SPEC_SIGNATURE);
        let now = at(1_614_265_330);
        assert_eq!(
            verify_standard_webhook(&headers, SPEC_BODY.as_bytes(), SPEC_SECRET, now),
            Ok(SPEC_ID.to_owned())
        );
        assert_eq!(
            sign_standard_webhook(SPEC_ID, 1_614_265_330, SPEC_BODY.as_bytes(), SPEC_SECRET)
                .unwrap(),
            SPEC_SIGNATURE
        );
        // A second vector of our own: key b"pulseboard-standard-webhooks-test-key",
        // HMAC-SHA256 base64 computed with Python.
        let secret = "whsec_cHVsc2Vib2FyZC1zdGFuZGFyZC13ZWJob29rcy10ZXN0LWtleQ==";
        let body = r#"{"type":"payment.succeeded","data":{"amount":1200}}"#;
        // Several signatures (a secret roll): one match is enough.
        let headers = standard_headers(
            "msg_2Lh9KRb0pzN4LePd3XiFJy1j",
            "1700000000",
            "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v1,VThFyFMCUtug/WwlOGCjqIkZ+rHlej54kHSTzdHvG2Y=",
        );
        assert!(
            verify_standard_webhook(&headers, body.as_bytes(), secret, at(1_700_000_120)).is_ok()
        );
    }

    #[test]
    fn standard_webhooks_refuse_wrong_secrets_tampering_and_old_deliveries() {
        let headers = standard_headers(SPEC_ID, "1614265330", SPEC_SIGNATURE);
        let now = at(1_614_265_330);
        let body = SPEC_BODY.as_bytes();
        assert_eq!(
            verify_standard_webhook(&headers, body, "whsec_bm90IHRoZSByaWdodCBrZXk=", now),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_standard_webhook(&headers, br#"{"test": 2432232315}"#, SPEC_SECRET, now),
            Err(WebhookError::BadSignature)
        );
        // The id and the timestamp are signed too.
        let moved = standard_headers("msg_other", "1614265330", SPEC_SIGNATURE);
        assert_eq!(
            verify_standard_webhook(&moved, body, SPEC_SECRET, now),
            Err(WebhookError::BadSignature)
        );
        let later = standard_headers(SPEC_ID, "1614265331", SPEC_SIGNATURE);
        assert_eq!(
            verify_standard_webhook(&later, body, SPEC_SECRET, now),
            Err(WebhookError::BadSignature)
        );
        // A replay six minutes later (or a clock six minutes ahead) is refused.
        assert_eq!(
            verify_standard_webhook(&headers, body, SPEC_SECRET, at(1_614_265_330 + 301)),
            Err(WebhookError::OutsideTolerance)
        );
        assert_eq!(
            verify_standard_webhook(&headers, body, SPEC_SECRET, at(1_614_265_330 - 301)),
            Err(WebhookError::OutsideTolerance)
        );
        assert!(
            verify_standard_webhook(&headers, body, SPEC_SECRET, at(1_614_265_330 + 300)).is_ok()
        );
        // Missing or malformed headers.
        let mut missing = headers.clone();
        missing.remove("webhook-signature");
        assert_eq!(
            verify_standard_webhook(&missing, body, SPEC_SECRET, now),
            Err(WebhookError::MissingSignature)
        );
        let bad_ts = standard_headers(SPEC_ID, "yesterday", SPEC_SIGNATURE);
        assert_eq!(
            verify_standard_webhook(&bad_ts, body, SPEC_SECRET, now),
            Err(WebhookError::MalformedSignature)
        );
        let v2 = standard_headers(SPEC_ID, "1614265330", &SPEC_SIGNATURE.replace("v1,", "v2,"));
        assert_eq!(
            verify_standard_webhook(&v2, body, SPEC_SECRET, now),
            Err(WebhookError::BadSignature)
        );
    }
}

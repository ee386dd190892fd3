//! Property tests of the webhook verifiers: whatever the body, secret and time, a
//! delivery signed the provider's way verifies, and flipping any one byte of the
//! body or the signature makes it fail.

use std::time::Duration;

use base64::{engine::general_purpose::STANDARD, Engine};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use proptest::prelude::*;
use pulseboard_connectors::{
    sign_standard_webhook, sign_stripe_webhook, verify_shopify_webhook, verify_standard_webhook,
    verify_stripe_webhook,
};
use reqwest::header::{HeaderMap, HeaderValue};

fn flip(bytes: &[u8], index: usize, bit: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let i = index % out.len();
    out[i] ^= 1 << (bit % 8);
    out
}

fn now_and_timestamp() -> impl Strategy<Value = (DateTime<Utc>, i64)> {
    // Any time from 2001 to 2100, signed up to five minutes either side of now.
    (1_000_000_000i64..4_102_444_800, -300i64..=300)
        .prop_map(|(now, skew)| (DateTime::from_timestamp(now, 0).unwrap(), now + skew))
}

fn standard_headers(id: &str, timestamp: i64, signature: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("webhook-id", HeaderValue::from_str(id).unwrap());
    headers.insert(
        "webhook-timestamp",
        HeaderValue::from_str(&timestamp.to_string()).unwrap(),
    );
    headers.insert(
        "webhook-signature",
        HeaderValue::from_str(signature).unwrap(),
    );
    headers
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn standard_webhooks_verify_what_they_sign_and_nothing_else(
        body in proptest::collection::vec(any::<u8>(), 1..512),
        key in proptest::collection::vec(any::<u8>(), 16..64),
        id in "msg_[A-Za-z0-9]{1,24}",
        (now, timestamp) in now_and_timestamp(),
        index in any::<usize>(),
        bit in any::<u8>(),
    ) {
        let secret = format!("whsec_{}", STANDARD.encode(&key));
        let signature = sign_standard_webhook(&id, timestamp, &body, &secret).unwrap();
        let headers = standard_headers(&id, timestamp, &signature);
        prop_assert_eq!(verify_standard_webhook(&headers, &body, &secret, now).unwrap(), id.clone());

        let tampered = flip(&body, index, bit);
        prop_assert!(verify_standard_webhook(&headers, &tampered, &secret, now).is_err());

        let raw = STANDARD.decode(signature.strip_prefix("v1,").unwrap()).unwrap();
        let forged = format!("v1,{}", STANDARD.encode(flip(&raw, index, bit)));
        prop_assert!(verify_standard_webhook(&standard_headers(&id, timestamp, &forged), &body, &secret, now).is_err());

        let other_key = format!("whsec_{}", STANDARD.encode(flip(&key, index, bit)));
        prop_assert!(verify_standard_webhook(&headers, &body, &other_key, now).is_err());
    }

    #[test]
    fn stripe_webhooks_verify_what_they_sign_and_nothing_else(
        body in proptest::collection::vec(any::<u8>(), 1..512),
        secret in "whsec_[A-Za-z0-9]{8,40}",
        (now, timestamp) in now_and_timestamp(),
        index in any::<usize>(),
        bit in any::<u8>(),
    ) {
        let tolerance = Duration::from_secs(300);
        let header = sign_stripe_webhook(&body, &secret, timestamp);
        let signed_at = verify_stripe_webhook(&body, &header, &secret, now, tolerance).unwrap();
        prop_assert_eq!(signed_at.timestamp(), timestamp);

        let tampered = flip(&body, index, bit);
        prop_assert!(verify_stripe_webhook(&tampered, &header, &secret, now, tolerance).is_err());

        // Flip one bit of the hex signature's bytes.
        let (prefix, hex_sig) = header.split_once(",v1=").unwrap();
        let raw = hex::decode(hex_sig).unwrap();
        let forged = format!("{prefix},v1={}", hex::encode(flip(&raw, index, bit)));
        prop_assert!(verify_stripe_webhook(&body, &forged, &secret, now, tolerance).is_err());
    }

    #[test]
    fn shopify_webhooks_verify_what_they_sign_and_nothing_else(
        body in proptest::collection::vec(any::<u8>(), 1..512),
        secret in "[A-Za-z0-9]{8,40}",
        index in any::<usize>(),
        bit in any::<u8>(),
    ) {
        // Signed independently of the crate: base64 of HMAC-SHA256(secret, body).
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(&body);
        let raw = mac.finalize().into_bytes().to_vec();
        let header = STANDARD.encode(&raw);
        prop_assert!(verify_shopify_webhook(&body, &header, &secret).is_ok());
        prop_assert!(verify_shopify_webhook(&flip(&body, index, bit), &header, &secret).is_err());
        let forged = STANDARD.encode(flip(&raw, index, bit));
        prop_assert!(verify_shopify_webhook(&body, &forged, &secret).is_err());
    }
}

//! Paddle Billing: an API key and the seller it belongs to, typed in by the user.
//!
//! The key says its environment: `pdl_sdbx_apikey_…` keys are sandbox keys and
//! talk to the sandbox host, every other key to the live host (both overridable,
//! see `config.rs`). Paddle has no endpoint naming the seller, so the user types
//! the Seller ID (Paddle → Developer tools → Authentication) and the connection is
//! `{seller}@{live|sandbox}`; the key is checked with `GET /transactions?per_page=1`
//! (it must read transactions to be of any use). Errors come as `{"error": {"type",
//! "code", "detail"}}`; a 429 carries `Retry-After`.
//!
//! Webhooks (`webhook.rs`): `Paddle-Signature: ts=…;h1=…`, the hex HMAC-SHA256 of
//! `"{ts}:{raw body}"` with the notification destination's secret key, which
//! Paddle generates (`pdl_ntfset_…`).

mod catalog;
pub mod config;
mod derive;
mod sync;
mod webhook;

pub use catalog::PADDLE_METRICS;
pub use config::PaddleConfig;
pub use webhook::{sign_paddle_webhook, verify_paddle_webhook, PADDLE_WEBHOOK_TOLERANCE};

use std::{collections::BTreeMap, sync::Arc};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::{header::HeaderMap, RequestBuilder, StatusCode};
use serde_json::Value;

use crate::{
    catalog::{AuthKind, KeyField, ProviderInfo},
    config::HttpConfig,
    provider::{AccountInfo, Provider, WebhookDelivery, WebhookSetup},
    registry::ProviderDef,
    support::error::{redact, ConnectorError, OAuthError, WebhookError},
    support::http::{endpoint, Http, Response},
};

/// Paddle in the registry.
pub const PROVIDER: ProviderDef = ProviderDef {
    id: "paddle",
    env_prefix: "PADDLE",
    settings: config::SETTINGS,
    build: |settings, http| {
        let config = PaddleConfig::from_settings(settings)?;
        Ok(Arc::new(PaddleProvider::new(&config, http)?))
    },
};

/// The field names of `test_api_key`'s map.
pub const PADDLE_API_KEY_FIELD: &str = "api_key";
pub const PADDLE_SELLER_ID_FIELD: &str = "seller_id";

/// The Paddle provider.
#[derive(Debug, Clone)]
pub struct PaddleProvider {
    config: PaddleConfig,
    http: Http,
}

/// Paddle's error message (`error.detail`), scrubbed, or the status line.
pub(crate) fn paddle_message(response: &Response, secrets: &[&str]) -> String {
    serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|body| {
            body.pointer("/error/detail")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .map(|message| redact(&message, secrets))
        .unwrap_or_else(|| format!("HTTP {}", response.status))
}

/// Whether a key is a sandbox key.
pub(crate) fn is_sandbox_key(key: &str) -> bool {
    key.starts_with("pdl_sdbx_")
}

/// The connection's account id: `{seller}@{live|sandbox}`.
pub(crate) fn account_id(seller: u64, sandbox: bool) -> String {
    format!("{seller}@{}", if sandbox { "sandbox" } else { "live" })
}

/// The seller and environment of an account id.
pub(crate) fn parse_account_id(id: &str) -> Option<(u64, bool)> {
    let (seller, environment) = id.split_once('@')?;
    let sandbox = match environment {
        "sandbox" => true,
        "live" => false,
        _ => return None,
    };
    Some((seller.parse().ok()?, sandbox))
}

impl PaddleProvider {
    pub fn new(config: &PaddleConfig, http: &HttpConfig) -> Result<Self, ConnectorError> {
        Ok(Self {
            config: config.clone(),
            http: Http::new(http)?,
        })
    }

    /// A GET on the environment's host with the key.
    pub(crate) fn get(&self, sandbox: bool, path: &str, key: &str) -> RequestBuilder {
        self.http
            .get(endpoint(self.config.base(sandbox), path))
            .bearer_auth(key)
    }
}

fn field<'a>(fields: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    fields.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

#[async_trait]
impl Provider for PaddleProvider {
    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            id: "paddle",
            name: "Paddle",
            category: "payments",
            auth: AuthKind::ApiKey {
                fields: vec![
                    KeyField {
                        name: PADDLE_API_KEY_FIELD,
                        label: "API key",
                        secret: true,
                        placeholder: "pdl_live_apikey_…",
                        help: "In Paddle, Developer tools → Authentication → API keys: create a key with \
                               read access to transactions, subscriptions, adjustments, customers and events. \
                               A sandbox key (pdl_sdbx_…) reads your sandbox.",
                        pattern: Some("^\\S{20,}$"),
                    },
                    KeyField {
                        name: PADDLE_SELLER_ID_FIELD,
                        label: "Seller ID",
                        secret: false,
                        placeholder: "12345",
                        help: "Developer tools → Authentication shows your Seller ID.",
                        pattern: Some("^[0-9]+$"),
                    },
                ],
            },
            api_key: None,
            oauth_configured: false,
            metrics: PADDLE_METRICS,
            default_cadence_minutes: 30,
            options: vec![],
            call_budget: None,
            account: None,
            account_picker: false,
            env_prefix: PROVIDER.env_prefix,
        }
    }

    async fn test_api_key(
        &self,
        fields: &BTreeMap<String, String>,
    ) -> Result<AccountInfo, ConnectorError> {
        let key = field(fields, PADDLE_API_KEY_FIELD)
            .ok_or_else(|| ConnectorError::InvalidInput("Enter a Paddle API key.".into()))?;
        if key.len() < 20 || key.chars().any(char::is_whitespace) {
            return Err(ConnectorError::InvalidInput(
                "A Paddle API key is one long word (pdl_live_apikey_… or pdl_sdbx_apikey_…).".into(),
            ));
        }
        let seller: u64 = field(fields, PADDLE_SELLER_ID_FIELD)
            .and_then(|s| s.parse().ok())
            .filter(|s| *s > 0)
            .ok_or_else(|| {
                ConnectorError::InvalidInput(
                    "The Paddle Seller ID is a number (Developer tools → Authentication).".into(),
                )
            })?;
        let sandbox = is_sandbox_key(key);
        let request = self
            .get(sandbox, "transactions", key)
            .query(&[("per_page", "1")]);
        let response = self.http.send(request).await?;
        match response.status {
            StatusCode::UNAUTHORIZED => {
                return Err(ConnectorError::Unauthorized(paddle_message(&response, &[key])))
            }
            StatusCode::FORBIDDEN => {
                return Err(ConnectorError::Unauthorized(format!(
                    "{} (the key needs read access to transactions)",
                    paddle_message(&response, &[key])
                )))
            }
            status
                if !status.is_success()
                    && status != StatusCode::TOO_MANY_REQUESTS
                    && !status.is_server_error() =>
            {
                return Err(ConnectorError::Provider(OAuthError::Rejected(paddle_message(
                    &response,
                    &[key],
                ))))
            }
            _ => {}
        }
        let _: Value = response
            .success(&[key])?
            .json("Paddle's transactions endpoint")?;
        let currency = None;
        Ok(AccountInfo {
            id: account_id(seller, sandbox),
            label: format!(
                "Paddle seller {seller}{}",
                if sandbox { " (sandbox)" } else { "" }
            ),
            currency,
            timezone: None,
            livemode: Some(!sandbox),
        })
    }

    fn verify_webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<(), WebhookError> {
        let header = headers
            .get("paddle-signature")
            .ok_or(WebhookError::MissingSignature)?
            .to_str()
            .map_err(|_| WebhookError::MalformedSignature)?;
        verify_paddle_webhook(body, header, secret, now, PADDLE_WEBHOOK_TOLERANCE).map(|_| ())
    }

    fn webhook_delivery(
        &self,
        _headers: &HeaderMap,
        body: &[u8],
    ) -> Result<WebhookDelivery, WebhookError> {
        webhook::delivery(body)
    }

    fn webhook_setup(&self) -> Option<WebhookSetup> {
        Some(webhook::SETUP)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_carry_the_environment() {
        assert_eq!(account_id(12345, true), "12345@sandbox");
        assert_eq!(parse_account_id("12345@sandbox"), Some((12345, true)));
        assert_eq!(parse_account_id("12345@live"), Some((12345, false)));
        for bad in ["12345", "x@live", "12345@prod"] {
            assert_eq!(parse_account_id(bad), None, "{bad}");
        }
        assert!(is_sandbox_key("pdl_sdbx_apikey_01abc"));
        assert!(!is_sandbox_key("pdl_live_apikey_01abc"));
    }
}

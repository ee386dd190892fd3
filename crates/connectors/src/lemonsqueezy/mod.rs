//! LemonSqueezy: an API key and the store it reads, typed in by the user.
//!
//! Endpoints used (JSON:API, `Authorization: Bearer <key>`, `Accept:
//! application/vnd.api+json`): `GET /v1/stores/{id}` (checks the key, names the
//! store and its currency) and the lists of `sync.rs`. Errors come as
//! `{"errors": [{"status", "title", "detail"}]}`. The API allows 300 requests a
//! minute per key; beyond it a 429 (honoured with its `Retry-After`).
//!
//! Webhooks (`webhook.rs`) are signed with a secret the user types into
//! LemonSqueezy's webhook form: `X-Signature` is the hex HMAC-SHA256 of the raw
//! body with it.

mod catalog;
pub mod config;
mod derive;
mod pace;
mod sync;
mod webhook;

pub use catalog::LEMONSQUEEZY_METRICS;
pub use config::LemonSqueezyConfig;
pub use derive::events as lemonsqueezy_events;
pub use webhook::{sign_lemonsqueezy_webhook, verify_lemonsqueezy_webhook};

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

/// LemonSqueezy in the registry.
pub const PROVIDER: ProviderDef = ProviderDef {
    id: "lemonsqueezy",
    env_prefix: "LEMONSQUEEZY",
    settings: config::SETTINGS,
    build: |settings, http| {
        let config = LemonSqueezyConfig::from_settings(settings)?;
        Ok(Arc::new(LemonSqueezyProvider::new(&config, http)?))
    },
};

/// The field names of `test_api_key`'s map.
pub const LEMONSQUEEZY_API_KEY_FIELD: &str = "api_key";
pub const LEMONSQUEEZY_STORE_ID_FIELD: &str = "store_id";

/// The LemonSqueezy provider.
#[derive(Debug, Clone)]
pub struct LemonSqueezyProvider {
    config: LemonSqueezyConfig,
    http: Http,
    /// Keeps syncs under the per-key request limit.
    pacer: Arc<pace::Pacer>,
}

/// LemonSqueezy's error message (the first error's `detail`, else its `title`),
/// scrubbed of what we sent, or the status line.
pub(crate) fn lemonsqueezy_message(response: &Response, secrets: &[&str]) -> String {
    serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|body| {
            let error = body.get("errors")?.get(0)?;
            error
                .get("detail")
                .or_else(|| error.get("title"))?
                .as_str()
                .map(str::to_owned)
        })
        .map(|message| redact(&message, secrets))
        .unwrap_or_else(|| format!("HTTP {}", response.status))
}

/// A store id as the user typed it: digits only.
pub(crate) fn parse_store_id(input: &str) -> Result<u64, ConnectorError> {
    let input = input.trim();
    input
        .parse::<u64>()
        .ok()
        .filter(|id| *id > 0 && input.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            ConnectorError::InvalidInput(
                "A LemonSqueezy store ID is a number (Settings → Stores, or the `store_id` of any order).".into(),
            )
        })
}

impl LemonSqueezyProvider {
    pub fn new(config: &LemonSqueezyConfig, http: &HttpConfig) -> Result<Self, ConnectorError> {
        Ok(Self {
            config: config.clone(),
            http: Http::new(http)?,
            pacer: Arc::default(),
        })
    }

    /// A JSON:API GET with the key.
    pub(crate) fn get(&self, path: &str, key: &str) -> RequestBuilder {
        self.http
            .get(endpoint(&self.config.api_base, path))
            .bearer_auth(key)
            .header("Accept", "application/vnd.api+json")
    }

    /// `GET /v1/stores/{id}`: the store's attributes.
    async fn store(&self, store_id: u64, key: &str) -> Result<Value, ConnectorError> {
        let response = self
            .http
            .send(self.get(&format!("v1/stores/{store_id}"), key))
            .await?;
        match response.status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(ConnectorError::Unauthorized(lemonsqueezy_message(
                    &response,
                    &[key],
                )))
            }
            StatusCode::NOT_FOUND => {
                return Err(ConnectorError::InvalidInput(format!(
                    "This API key sees no LemonSqueezy store {store_id}."
                )))
            }
            status
                if !status.is_success()
                    && status != StatusCode::TOO_MANY_REQUESTS
                    && !status.is_server_error() =>
            {
                return Err(ConnectorError::Provider(OAuthError::Rejected(
                    lemonsqueezy_message(&response, &[key]),
                )))
            }
            _ => {}
        }
        let body: Value = response
            .success(&[key])?
            .json("LemonSqueezy's store endpoint")?;
        let data = body.get("data").cloned().unwrap_or_default();
        if data.get("id").and_then(Value::as_str) != Some(store_id.to_string().as_str()) {
            return Err(ConnectorError::Provider(OAuthError::Rejected(format!(
                "LemonSqueezy answered for another store when asked for {store_id}"
            ))));
        }
        Ok(data.get("attributes").cloned().unwrap_or_default())
    }
}

fn field<'a>(fields: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    fields.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

#[async_trait]
impl Provider for LemonSqueezyProvider {
    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            id: "lemonsqueezy",
            name: "LemonSqueezy",
            category: "payments",
            auth: AuthKind::ApiKey {
                fields: vec![
                    KeyField {
                        name: LEMONSQUEEZY_API_KEY_FIELD,
                        label: "API key",
                        secret: true,
                        placeholder: "eyJ0eXAiOiJKV1Qi…",
                        help: "In LemonSqueezy, Settings → API: create an API key (test-mode keys read test data).",
                        pattern: Some("^\\S{20,}$"),
                    },
                    KeyField {
                        name: LEMONSQUEEZY_STORE_ID_FIELD,
                        label: "Store ID",
                        secret: false,
                        placeholder: "12345",
                        help: "Settings → Stores: the number after the store's name.",
                        pattern: Some("^[0-9]+$"),
                    },
                ],
            },
            api_key: None,
            oauth_configured: false,
            metrics: LEMONSQUEEZY_METRICS,
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
        let key = field(fields, LEMONSQUEEZY_API_KEY_FIELD)
            .ok_or_else(|| ConnectorError::InvalidInput("Enter a LemonSqueezy API key.".into()))?;
        if key.len() < 20 || key.chars().any(char::is_whitespace) {
            return Err(ConnectorError::InvalidInput(
                "A LemonSqueezy API key is one long word (Settings → API).".into(),
            ));
        }
        let store_id = parse_store_id(field(fields, LEMONSQUEEZY_STORE_ID_FIELD).unwrap_or_default())?;
        let store = self.store(store_id, key).await?;
        let label = store
            .get("name")
            .and_then(Value::as_str)
            .filter(|name| !name.trim().is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| format!("LemonSqueezy store {store_id}"));
        Ok(AccountInfo {
            id: store_id.to_string(),
            label,
            currency: store
                .get("currency")
                .and_then(Value::as_str)
                .map(str::to_owned),
            timezone: None,
            livemode: None,
        })
    }

    fn verify_webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        secret: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), WebhookError> {
        let signature = headers
            .get("x-signature")
            .ok_or(WebhookError::MissingSignature)?
            .to_str()
            .map_err(|_| WebhookError::MalformedSignature)?;
        verify_lemonsqueezy_webhook(body, signature, secret)
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
    fn store_ids_are_numbers() {
        assert_eq!(parse_store_id(" 1234 ").unwrap(), 1234);
        for bad in ["", "0", "-1", "12a", "store", "+5"] {
            assert!(parse_store_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn error_messages_come_from_json_api_errors() {
        let response = Response {
            status: StatusCode::UNAUTHORIZED,
            headers: HeaderMap::new(),
            body: br#"{"jsonapi":{"version":"1.0"},"errors":[{"detail":"Unauthenticated. key abcdefgh","status":"401","title":"Unauthorized"}]}"#.to_vec(),
        };
        assert_eq!(
            lemonsqueezy_message(&response, &["abcdefgh"]),
            "Unauthenticated. key ***"
        );
    }
}

//! Intelligems: A/B tests (price, shipping, content) with an API key.
//!
//! Intelligems' external API (`https://api.intelligems.io/v25-10-beta`, the key in
//! an `intelligems-access-token` header) lists experiences (`GET
//! /experiences-list` → `{"experiencesList": [...]}`) and answers an experience's
//! analytics (`GET /analytics/resource/{id}`). Its public documentation names the
//! endpoints and the metrics (`n_visitors`, `n_orders`, `net_revenue`, …) but not
//! every field, so where it is thin this is the closest faithful shape, and the
//! simulator answers the same: an experience is `{id, name, type, status
//! (pending|started|paused|ended), createdAtTs, startedAtTs, endedAtTs (epoch
//! milliseconds), currency, variations: [{id, name, isControl, percentage}]}`;
//! analytics are `{experienceId, currency, asOfTs, metrics: [{variationId,
//! n_visitors, n_orders, net_revenue}], daily: [{day, variationId, …the same}]}`
//! with money in major units. Errors are `{"error": {"code", "message"}}`; a 429
//! carries `Retry-After`.
//!
//! Why records are per experience and per day, not per pull: see `sync.rs`.
//! Webhooks (`webhook.rs`) carry the same shapes, signed with a secret Pulseboard
//! generates.

mod catalog;
pub mod config;
mod derive;
mod sync;
mod webhook;

pub use catalog::INTELLIGEMS_METRICS;
pub use config::IntelligemsConfig;
pub use webhook::{sign_intelligems_webhook, verify_intelligems_webhook};

use std::{collections::BTreeMap, sync::Arc};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::{header::HeaderMap, RequestBuilder, StatusCode};
use sha2::{Digest, Sha256};

use crate::{
    catalog::{AuthKind, KeyField, ProviderInfo},
    config::HttpConfig,
    provider::{AccountInfo, Provider, WebhookDelivery, WebhookSetup},
    registry::ProviderDef,
    support::error::{ConnectorError, OAuthError, WebhookError},
    support::http::{endpoint, Http, Response},
};

/// Intelligems in the registry.
pub const PROVIDER: ProviderDef = ProviderDef {
    id: "intelligems",
    env_prefix: "INTELLIGEMS",
    settings: config::SETTINGS,
    build: |settings, http| {
        let config = IntelligemsConfig::from_settings(settings)?;
        Ok(Arc::new(IntelligemsProvider::new(&config, http)?))
    },
};

/// The field name of the key in `test_api_key`'s map.
pub const INTELLIGEMS_API_KEY_FIELD: &str = "api_key";

/// The header Intelligems reads the key from.
const KEY_HEADER: &str = "intelligems-access-token";

/// The Intelligems provider.
#[derive(Debug, Clone)]
pub struct IntelligemsProvider {
    config: IntelligemsConfig,
    http: Http,
}

/// Intelligems' error message, scrubbed of what we sent, or the status line.
pub(crate) fn intelligems_message(response: &Response, secrets: &[&str]) -> String {
    response.message(secrets)
}

impl IntelligemsProvider {
    pub fn new(config: &IntelligemsConfig, http: &HttpConfig) -> Result<Self, ConnectorError> {
        Ok(Self {
            config: config.clone(),
            http: Http::new(http)?,
        })
    }

    /// A GET with the key.
    pub(crate) fn get(&self, path: &str, key: &str) -> RequestBuilder {
        self.http
            .get(endpoint(&self.config.api_base, path))
            .header(KEY_HEADER, key)
            .header(reqwest::header::ACCEPT, "application/json")
    }
}

/// A stable id for the store a key reads: the API names no account, so it is a
/// fingerprint of the key (a SHA-256 prefix, which reveals nothing of it).
fn key_fingerprint(key: &str) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..6])
}

#[async_trait]
impl Provider for IntelligemsProvider {
    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            id: "intelligems",
            name: "Intelligems",
            category: "experiments",
            auth: AuthKind::ApiKey {
                fields: vec![KeyField {
                    name: INTELLIGEMS_API_KEY_FIELD,
                    label: "API key",
                    secret: true,
                    placeholder: "ig_live_…",
                    help: "Intelligems gives API keys on request (support@intelligems.io); the key reads your store's tests.",
                    pattern: Some("^\\S{16,}$"),
                }],
            },
            api_key: None,
            oauth_configured: false,
            metrics: INTELLIGEMS_METRICS,
            default_cadence_minutes: 60,
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
        let key = fields
            .get(INTELLIGEMS_API_KEY_FIELD)
            .map(|k| k.trim())
            .filter(|k| !k.is_empty())
            .ok_or_else(|| ConnectorError::InvalidInput("Enter an Intelligems API key.".into()))?;
        if key.len() < 16 || key.chars().any(char::is_whitespace) {
            return Err(ConnectorError::InvalidInput(
                "An Intelligems API key is one long word without spaces.".into(),
            ));
        }
        let response = self.http.send(self.get("experiences-list", key)).await?;
        match response.status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(ConnectorError::Unauthorized(intelligems_message(
                    &response,
                    &[key],
                )))
            }
            StatusCode::TOO_MANY_REQUESTS => {
                return Err(ConnectorError::Provider(OAuthError::Rejected(
                    "Intelligems is rate limiting this key; try again in a minute".into(),
                )))
            }
            _ => {}
        }
        let body: serde_json::Value = response
            .success(&[key])?
            .json("Intelligems' experiences list")?;
        if !body.get("experiencesList").is_some_and(|l| l.is_array()) {
            return Err(ConnectorError::Provider(OAuthError::Rejected(
                "unexpected response shape from Intelligems' experiences list".into(),
            )));
        }
        let id = key_fingerprint(key);
        Ok(AccountInfo {
            label: format!("Intelligems (key {id})"),
            id,
            currency: None,
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
            .get("x-intelligems-signature")
            .ok_or(WebhookError::MissingSignature)?
            .to_str()
            .map_err(|_| WebhookError::MalformedSignature)?;
        verify_intelligems_webhook(body, signature, secret)
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
    fn the_account_is_a_fingerprint_of_the_key() {
        let id = key_fingerprint("ig_live_0123456789abcdef");
        assert_eq!(id.len(), 12);
        assert_ne!(id, key_fingerprint("ig_live_0123456789abcdeg"));
    }
}

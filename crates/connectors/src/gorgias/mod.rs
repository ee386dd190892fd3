//! Gorgias: a helpdesk account's REST API with its subdomain, a user's email and
//! an API key (HTTP basic auth, Settings → REST API).
//!
//! Endpoints (`https://{domain}.gorgias.com/api`): `GET /account` (checks the
//! key, names the account), and the tickets and messages lists of `sync.rs`, with
//! cursor pagination (`limit`, `cursor`; the answer's `meta.next_cursor`). Errors
//! are `{"error": {…}}` with the conventional statuses; 40 requests per 20 seconds
//! per API key, beyond which a 429 with `Retry-After` (seconds) and
//! `X-Gorgias-Account-Api-Call-Limit` (`used/limit`).
//!
//! A ticket's satisfaction survey is read from the ticket's `satisfaction_survey`
//! (one per ticket, score 1–5). Webhooks: `webhook.rs`.

mod catalog;
pub mod config;
mod derive;
mod pace;
mod sync;
mod webhook;

pub use catalog::GORGIAS_METRICS;
pub use config::GorgiasConfig;
pub use webhook::verify_gorgias_webhook;

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
    support::error::{ConnectorError, OAuthError, WebhookError},
    support::http::{endpoint, Http},
};

/// Gorgias in the registry.
pub const PROVIDER: ProviderDef = ProviderDef {
    id: "gorgias",
    env_prefix: "GORGIAS",
    settings: config::SETTINGS,
    build: |settings, http| {
        let config = GorgiasConfig::from_settings(settings)?;
        Ok(Arc::new(GorgiasProvider::new(&config, http)?))
    },
};

/// The field names of `test_api_key`'s map.
pub const GORGIAS_API_KEY_FIELD: &str = "api_key";
pub const GORGIAS_EMAIL_FIELD: &str = "email";
pub const GORGIAS_DOMAIN_FIELD: &str = "domain";

/// The Gorgias provider.
#[derive(Debug, Clone)]
pub struct GorgiasProvider {
    config: GorgiasConfig,
    http: Http,
    pacer: Arc<pace::Pacer>,
}

/// A subdomain as typed (`acme`, `acme.gorgias.com`, `https://acme.gorgias.com/`).
pub(crate) fn parse_domain(input: &str) -> Result<String, ConnectorError> {
    let input = input.trim().to_ascii_lowercase();
    let input = input.trim_start_matches("https://").trim_start_matches("http://");
    let input = input.trim_end_matches('/').trim_end_matches(".gorgias.com");
    let valid = !input.is_empty()
        && input.len() <= 63
        && input.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !input.starts_with('-')
        && !input.ends_with('-');
    if valid {
        Ok(input.to_owned())
    } else {
        Err(ConnectorError::InvalidInput(
            "The Gorgias domain is the first part of your helpdesk's address (acme for acme.gorgias.com).".into(),
        ))
    }
}

/// The account a sync reads, `{domain}:{email}`, back in its parts.
pub(crate) fn parse_account(account: &str) -> Result<(String, String), ConnectorError> {
    let (domain, email) = account
        .split_once(':')
        .ok_or_else(|| ConnectorError::InvalidInput(format!("not a Gorgias account: {account}")))?;
    Ok((parse_domain(domain)?, email.to_owned()))
}

impl GorgiasProvider {
    pub fn new(config: &GorgiasConfig, http: &HttpConfig) -> Result<Self, ConnectorError> {
        Ok(Self {
            config: config.clone(),
            http: Http::new(http)?,
            pacer: Arc::default(),
        })
    }

    /// A GET of the account's API with basic auth.
    pub(crate) fn get(&self, domain: &str, email: &str, key: &str, path: &str) -> RequestBuilder {
        self.http
            .get(endpoint(&self.config.api_base(domain), path))
            .basic_auth(email, Some(key))
            .header(reqwest::header::ACCEPT, "application/json")
    }
}

fn field<'a>(fields: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    fields.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

#[async_trait]
impl Provider for GorgiasProvider {
    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            id: "gorgias",
            name: "Gorgias",
            category: "support",
            auth: AuthKind::ApiKey {
                fields: vec![
                    KeyField {
                        name: GORGIAS_DOMAIN_FIELD,
                        label: "Gorgias domain",
                        secret: false,
                        placeholder: "acme",
                        help: "The first part of your helpdesk's address: acme for acme.gorgias.com.",
                        pattern: Some("^[A-Za-z0-9.:/-]+$"),
                    },
                    KeyField {
                        name: GORGIAS_EMAIL_FIELD,
                        label: "Username (email)",
                        secret: false,
                        placeholder: "you@example.com",
                        help: "Settings → REST API shows it as Username.",
                        pattern: Some("^\\S+@\\S+$"),
                    },
                    KeyField {
                        name: GORGIAS_API_KEY_FIELD,
                        label: "API key",
                        secret: true,
                        placeholder: "…",
                        help: "Settings → REST API → Create API key (the Password field).",
                        pattern: Some("^\\S{12,}$"),
                    },
                ],
            },
            api_key: None,
            oauth_configured: false,
            metrics: GORGIAS_METRICS,
            default_cadence_minutes: 60,
            options: vec![],
            call_budget: None,
            account: None,
            account_picker: false,
            env_prefix: PROVIDER.env_prefix,
        }
    }

    async fn test_api_key(&self, fields: &BTreeMap<String, String>) -> Result<AccountInfo, ConnectorError> {
        let domain = parse_domain(field(fields, GORGIAS_DOMAIN_FIELD).unwrap_or_default())?;
        let email = field(fields, GORGIAS_EMAIL_FIELD)
            .filter(|e| e.contains('@') && !e.contains(':') && !e.chars().any(char::is_whitespace))
            .ok_or_else(|| ConnectorError::InvalidInput("Enter the email Gorgias shows as the API's username.".into()))?;
        let key = field(fields, GORGIAS_API_KEY_FIELD)
            .filter(|k| k.len() >= 12 && !k.chars().any(char::is_whitespace))
            .ok_or_else(|| ConnectorError::InvalidInput("Enter a Gorgias API key (Settings → REST API).".into()))?;
        let response = self.http.send(self.get(&domain, email, key, "account")).await?;
        match response.status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(ConnectorError::Unauthorized(response.message(&[key])))
            }
            StatusCode::NOT_FOUND => {
                return Err(ConnectorError::InvalidInput(format!("There is no Gorgias helpdesk at {domain}.gorgias.com.")))
            }
            StatusCode::TOO_MANY_REQUESTS => {
                return Err(ConnectorError::Provider(OAuthError::Rejected(
                    "Gorgias is rate limiting this key (40 requests per 20 seconds); try again in a minute".into(),
                )))
            }
            _ => {}
        }
        let account: Value = response.success(&[key])?.json("Gorgias' account endpoint")?;
        if account.get("domain").and_then(Value::as_str) != Some(domain.as_str()) {
            return Err(ConnectorError::Provider(OAuthError::Rejected(
                "Gorgias answered for another account".into(),
            )));
        }
        Ok(AccountInfo {
            id: format!("{domain}:{email}"),
            label: format!("{domain}.gorgias.com"),
            currency: None,
            timezone: None,
            livemode: None,
        })
    }

    fn verify_webhook(&self, headers: &HeaderMap, _body: &[u8], secret: &str, _now: DateTime<Utc>) -> Result<(), WebhookError> {
        let presented = headers
            .get(webhook::SECRET_HEADER)
            .ok_or(WebhookError::MissingSignature)?
            .to_str()
            .map_err(|_| WebhookError::MalformedSignature)?;
        verify_gorgias_webhook(presented, secret)
    }

    fn webhook_delivery(&self, _headers: &HeaderMap, body: &[u8]) -> Result<WebhookDelivery, WebhookError> {
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
    fn domains_are_the_subdomain_however_typed() {
        for typed in ["acme", " ACME ", "acme.gorgias.com", "https://acme.gorgias.com/"] {
            assert_eq!(parse_domain(typed).unwrap(), "acme", "{typed}");
        }
        for bad in ["", "-acme", "acme corp", "evil.com/x"] {
            assert!(parse_domain(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_account("acme:ann@example.com").unwrap(),
            ("acme".to_owned(), "ann@example.com".to_owned())
        );
    }
}

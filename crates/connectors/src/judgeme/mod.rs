//! Judge.me: a shop's private API token and its shop domain, typed in by the user.
//!
//! Endpoint used: `GET {host}/api/v1/reviews?api_token=…&shop_domain=…&page=…
//! &per_page=…` (Judge.me's public REST API; the token and the shop travel in the
//! query, as Judge.me documents it), answering `{"current_page", "per_page",
//! "reviews": [...]}`. A review has `id`, `title`, `body`, `rating`,
//! `product_external_id`, `product_title`, `product_handle`, `reviewer {id, name,
//! email, …}`, `verified` (`buyer`, `nothing`, …), `published`, `hidden`,
//! `curated`, `created_at` and `updated_at`. With the private token the list
//! includes reviews not (yet) published. Errors come as `{"error": "…"}` (or
//! `{"message": "…"}`); `401` for a token that does not belong to the shop.
//! Judge.me throttles per shop without publishing numbers: a `429` is honoured
//! with its `Retry-After` (see `sync.rs`).
//!
//! The token is sent in the query, so nothing that could carry a URL is kept in
//! an error (the HTTP client's transport errors never name the URL, and
//! provider messages are scrubbed of the token).

mod catalog;
pub mod config;
mod derive;
mod sync;

pub use catalog::JUDGEME_METRICS;
pub use config::JudgeMeConfig;
pub use derive::{events as judgeme_events, items as judgeme_items, sentiment_milli, status};

use std::{collections::BTreeMap, sync::Arc};

use async_trait::async_trait;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;

use crate::{
    catalog::{AuthKind, KeyField, ProviderInfo},
    config::HttpConfig,
    provider::{AccountInfo, Provider},
    registry::ProviderDef,
    shopify::ShopDomain,
    support::error::{redact, ConnectorError, OAuthError},
    support::http::{endpoint, Http, Response},
};

/// Judge.me in the registry.
pub const PROVIDER: ProviderDef = ProviderDef {
    id: "judgeme",
    env_prefix: "JUDGEME",
    settings: config::SETTINGS,
    build: |settings, http| {
        let config = JudgeMeConfig::from_settings(settings)?;
        Ok(Arc::new(JudgeMeProvider::new(&config, http)?))
    },
};

/// The field names of `test_api_key`'s map: the private token is stored as the
/// integration's secret (`api_key`), the shop domain is the account.
pub const JUDGEME_TOKEN_FIELD: &str = "api_key";
pub const JUDGEME_SHOP_FIELD: &str = "shop_domain";

/// The reviews list, under the API host.
pub(crate) const REVIEWS_PATH: &str = "api/v1/reviews";

/// The Judge.me provider.
#[derive(Debug, Clone)]
pub struct JudgeMeProvider {
    config: JudgeMeConfig,
    http: Http,
}

/// Judge.me's error message (`error` or `message`), scrubbed of the token, or the
/// status line.
pub(crate) fn judgeme_message(response: &Response, secrets: &[&str]) -> String {
    serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|body| {
            body.get("error")
                .or_else(|| body.get("message"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .map(|message| redact(&message, secrets))
        .unwrap_or_else(|| format!("HTTP {}", response.status))
}

/// A shop domain as the user typed it (`acme-coffee`, `acme-coffee.myshopify.com`,
/// `https://acme-coffee.myshopify.com/`): Judge.me names shops by their
/// `.myshopify.com` domain.
pub(crate) fn parse_shop(input: &str) -> Result<ShopDomain, ConnectorError> {
    ShopDomain::from_user_input(input).map_err(|_| {
        ConnectorError::InvalidInput(
            "Enter the shop's domain as Judge.me knows it: your-shop.myshopify.com.".into(),
        )
    })
}

impl JudgeMeProvider {
    pub fn new(config: &JudgeMeConfig, http: &HttpConfig) -> Result<Self, ConnectorError> {
        Ok(Self {
            config: config.clone(),
            http: Http::new(http)?,
        })
    }

    /// `GET /api/v1/reviews` of one page, with the token and the shop.
    pub(crate) fn reviews_request(
        &self,
        token: &str,
        shop: &str,
        page: u32,
        per_page: u32,
    ) -> RequestBuilder {
        self.http
            .get(endpoint(&self.config.api_base, REVIEWS_PATH))
            .header(reqwest::header::ACCEPT, "application/json")
            .query(&[
                ("api_token", token),
                ("shop_domain", shop),
                ("page", &page.to_string()),
                ("per_page", &per_page.to_string()),
            ])
    }
}

#[async_trait]
impl Provider for JudgeMeProvider {
    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            id: "judgeme",
            name: "Judge.me",
            category: "reviews",
            auth: AuthKind::ApiKey {
                fields: vec![
                    KeyField {
                        name: JUDGEME_TOKEN_FIELD,
                        label: "Private API token",
                        secret: true,
                        placeholder: "b_UmJknnxEONTwVDs-E2…",
                        help: "In Judge.me: Settings → Integrations → Developers (View API token): copy the private token.",
                        pattern: Some("^\\S{16,}$"),
                    },
                    KeyField {
                        name: JUDGEME_SHOP_FIELD,
                        label: "Shop domain",
                        secret: false,
                        placeholder: "your-shop.myshopify.com",
                        help: "The shop's .myshopify.com domain, the one Judge.me is installed on.",
                        pattern: Some("^[A-Za-z0-9][A-Za-z0-9-]*(\\.myshopify\\.com)?/?$"),
                    },
                ],
            },
            api_key: None,
            oauth_configured: false,
            metrics: JUDGEME_METRICS,
            default_cadence_minutes: 1440,
            options: vec![],
            call_budget: None,
            account: None,
            account_picker: false,
            env_prefix: PROVIDER.env_prefix,
        }
    }

    /// Reads the first review of the shop: a token of another shop, or a revoked
    /// one, is refused before anything is saved.
    async fn test_api_key(
        &self,
        fields: &BTreeMap<String, String>,
    ) -> Result<AccountInfo, ConnectorError> {
        let field = |name: &str| {
            fields
                .get(name)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
        };
        let token = field(JUDGEME_TOKEN_FIELD).ok_or_else(|| {
            ConnectorError::InvalidInput("Enter the shop's Judge.me private API token.".into())
        })?;
        if token.len() < 16 || token.chars().any(char::is_whitespace) {
            return Err(ConnectorError::InvalidInput(
                "A Judge.me private API token is one long word (Settings → Integrations → Developers)."
                    .into(),
            ));
        }
        let shop = parse_shop(field(JUDGEME_SHOP_FIELD).unwrap_or_default())?;
        let response = self
            .http
            .send(self.reviews_request(token, shop.as_str(), 1, 1))
            .await?;
        match response.status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(ConnectorError::Unauthorized(format!(
                    "Judge.me refused this token for {} ({}): copy the private API token of that shop",
                    shop.as_str(),
                    judgeme_message(&response, &[token])
                )))
            }
            StatusCode::NOT_FOUND => {
                return Err(ConnectorError::InvalidInput(format!(
                    "Judge.me knows no shop {}.",
                    shop.as_str()
                )))
            }
            status
                if !status.is_success()
                    && status != StatusCode::TOO_MANY_REQUESTS
                    && !status.is_server_error() =>
            {
                return Err(ConnectorError::Provider(OAuthError::Rejected(
                    judgeme_message(&response, &[token]),
                )))
            }
            _ => {}
        }
        let body: Value = response.success(&[token])?.json("Judge.me's reviews list")?;
        if !body.get("reviews").is_some_and(Value::is_array) {
            return Err(ConnectorError::Provider(OAuthError::Rejected(
                "unexpected response shape from Judge.me's reviews list".into(),
            )));
        }
        Ok(AccountInfo {
            id: shop.as_str().to_owned(),
            label: format!("Judge.me ({})", shop.as_str()),
            currency: None,
            timezone: None,
            livemode: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    #[test]
    fn shops_are_myshopify_domains() {
        assert_eq!(
            parse_shop(" acme-coffee ").unwrap().as_str(),
            "acme-coffee.myshopify.com"
        );
        assert_eq!(
            parse_shop("https://acme-coffee.myshopify.com/").unwrap().as_str(),
            "acme-coffee.myshopify.com"
        );
        for bad in ["", "acme coffee", "evil.com/x"] {
            assert!(parse_shop(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn error_messages_never_carry_the_token() {
        let response = Response {
            status: StatusCode::UNAUTHORIZED,
            headers: HeaderMap::new(),
            body: br#"{"error":"Invalid api_token abcdefghijklmnop"}"#.to_vec(),
        };
        assert_eq!(
            judgeme_message(&response, &["abcdefghijklmnop"]),
            "Invalid api_token ***"
        );
    }
}

//! KnoCommerce: a brand's API client (client ID and client secret), typed in by
//! the user.
//!
//! KnoCommerce's REST API (developers.knocommerce.com) authenticates with the
//! OAuth 2 client-credentials grant: `POST {auth}/api/oauth2/token` with HTTP
//! Basic `client_id:client_secret` (each URL-encoded) and the form
//! `grant_type=client_credentials&scope=RESPONSES` answers `{access_token,
//! token_type, expires_in, scope}`; a wrong pair is a `400`/`401` with
//! `{"error", "error_description"}`. Then `GET {api}/api/rest/responses` with
//! `Authorization: Bearer …`, `maxPageSize` (up to 250), `pageToken`,
//! `status=completed`, `expand=order` and `updatedAt[gte]` answers `{results,
//! nextPageToken, hasMore}`. A response has `id`, `survey_id`, `created_at`,
//! `updated_at`, `completed_at`, `customer_id`, `order` (expanded: `id`, `name`…)
//! and `response`, the answers: `{question_id, label, type, value,
//! attribution_type}`.
//!
//! The public documentation is thin past that: it types an answer and the
//! expanded order only as "object". The answer fields follow the documented
//! webhook payload of a response (`response/create`), which lists them; the
//! order's id is read from `order.id` or `order_id`. A `429` is honoured with its
//! `Retry-After`; KnoCommerce publishes no numbers for its limits.
//!
//! The client secret is the integration's secret (`api_key`); the client ID is
//! the account (`AccountInfo.id`), so each sync can exchange the pair for a token.

mod catalog;
pub mod config;
mod derive;
mod sync;

pub use catalog::KNOCOMMERCE_METRICS;
pub use config::KnoCommerceConfig;
pub use derive::{answered_at, events as knocommerce_events, order_id};

use std::{collections::BTreeMap, sync::Arc};

use async_trait::async_trait;
use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    catalog::{AuthKind, KeyField, ProviderInfo},
    config::HttpConfig,
    provider::{AccountInfo, Provider},
    registry::ProviderDef,
    support::error::{redact, ConnectorError, OAuthError},
    support::http::{endpoint, Http, Response},
};

/// KnoCommerce in the registry.
pub const PROVIDER: ProviderDef = ProviderDef {
    id: "knocommerce",
    env_prefix: "KNOCOMMERCE",
    settings: config::SETTINGS,
    build: |settings, http| {
        let config = KnoCommerceConfig::from_settings(settings)?;
        Ok(Arc::new(KnoCommerceProvider::new(&config, http)?))
    },
};

/// The field names of `test_api_key`'s map: the client secret is stored as the
/// integration's secret (`api_key`), the client ID is the account.
pub const KNOCOMMERCE_SECRET_FIELD: &str = "api_key";
pub const KNOCOMMERCE_CLIENT_ID_FIELD: &str = "client_id";

const TOKEN_PATH: &str = "api/oauth2/token";
pub(crate) const RESPONSES_PATH: &str = "api/rest/responses";

/// The KnoCommerce provider.
#[derive(Debug, Clone)]
pub struct KnoCommerceProvider {
    config: KnoCommerceConfig,
    http: Http,
}

/// KnoCommerce's error message (`error_description`, `message` or `error`),
/// scrubbed of what we sent, or the status line.
pub(crate) fn kno_message(response: &Response, secrets: &[&str]) -> String {
    serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|body| {
            ["error_description", "message", "error"]
                .iter()
                .find_map(|name| body.get(*name).and_then(Value::as_str).map(str::to_owned))
        })
        .map(|message| redact(&message, secrets))
        .unwrap_or_else(|| format!("HTTP {}", response.status))
}

/// Percent-encodes a credential for HTTP Basic, as the OAuth 2 spec asks of
/// client credentials (RFC 6749 §2.3.1).
fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

impl KnoCommerceProvider {
    pub fn new(config: &KnoCommerceConfig, http: &HttpConfig) -> Result<Self, ConnectorError> {
        Ok(Self {
            config: config.clone(),
            http: Http::new(http)?,
        })
    }

    /// Exchanges the client's ID and secret for an access token.
    pub(crate) async fn token(&self, client_id: &str, secret: &str) -> Result<String, OAuthError> {
        let request = self
            .http
            .post(endpoint(&self.config.auth_base, TOKEN_PATH))
            .basic_auth(form_encode(client_id), Some(form_encode(secret)))
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "RESPONSES"),
            ]);
        let response = self.http.send(request).await?;
        match response.status {
            status if status.is_success() => {
                let body: Value = response.json("KnoCommerce's token endpoint")?;
                body.get("access_token")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        OAuthError::Rejected(
                            "unexpected response shape from KnoCommerce's token endpoint: no access_token"
                                .into(),
                        )
                    })
            }
            StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                Err(OAuthError::InvalidGrant(format!(
                    "KnoCommerce refused the API client ({}): create a client with the Responses permission in KnoCommerce → Settings → API Access and connect again",
                    kno_message(&response, &[secret])
                )))
            }
            StatusCode::TOO_MANY_REQUESTS => Err(OAuthError::RateLimited {
                retry_after: crate::support::http::retry_after(&response.headers),
                reason: Some("KnoCommerce: the token endpoint's rate limit is reached".into()),
            }),
            status if status.is_server_error() => {
                Err(OAuthError::Transient(kno_message(&response, &[secret])))
            }
            _ => Err(OAuthError::Rejected(kno_message(&response, &[secret]))),
        }
    }

    /// `GET /api/rest/responses` with a token and the query.
    pub(crate) async fn list(
        &self,
        token: &str,
        query: &[(&str, String)],
    ) -> Result<Response, OAuthError> {
        let request = self
            .http
            .get(endpoint(&self.config.api_base, RESPONSES_PATH))
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/json")
            .query(query);
        self.http.send(request).await
    }
}

#[async_trait]
impl Provider for KnoCommerceProvider {
    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            id: "knocommerce",
            name: "KnoCommerce",
            category: "surveys",
            auth: AuthKind::ApiKey {
                fields: vec![
                    KeyField {
                        name: KNOCOMMERCE_CLIENT_ID_FIELD,
                        label: "Client ID",
                        secret: false,
                        placeholder: "3cfacec8-3869-41ba-b8c0-8fb7d7f85fcd",
                        help: "In KnoCommerce: Settings → API Access → create an API client with the Responses permission, and copy its client ID.",
                        pattern: Some("^[A-Za-z0-9_.-]{6,}$"),
                    },
                    KeyField {
                        name: KNOCOMMERCE_SECRET_FIELD,
                        label: "Client secret",
                        secret: true,
                        placeholder: "kno_…",
                        help: "The same API client's secret (shown once when the client is created).",
                        pattern: Some("^\\S{12,}$"),
                    },
                ],
            },
            api_key: None,
            oauth_configured: false,
            metrics: KNOCOMMERCE_METRICS,
            default_cadence_minutes: 1440,
            options: vec![],
            call_budget: None,
            account: None,
            account_picker: false,
            env_prefix: PROVIDER.env_prefix,
        }
    }

    /// Exchanges the pair for a token and reads one response, so a client without
    /// the Responses permission is refused before anything is saved.
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
        let client_id = field(KNOCOMMERCE_CLIENT_ID_FIELD).ok_or_else(|| {
            ConnectorError::InvalidInput("Enter the KnoCommerce API client's ID.".into())
        })?;
        if client_id.len() < 6
            || !client_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(ConnectorError::InvalidInput(
                "A KnoCommerce client ID is letters, digits and dashes (Settings → API Access)."
                    .into(),
            ));
        }
        let secret = field(KNOCOMMERCE_SECRET_FIELD).ok_or_else(|| {
            ConnectorError::InvalidInput("Enter the KnoCommerce API client's secret.".into())
        })?;
        if secret.len() < 12 || secret.chars().any(char::is_whitespace) {
            return Err(ConnectorError::InvalidInput(
                "A KnoCommerce client secret is one long word (shown when the API client is created)."
                    .into(),
            ));
        }
        let token = self.token(client_id, secret).await.map_err(|e| match e {
            OAuthError::InvalidGrant(message) => ConnectorError::Unauthorized(message),
            other => ConnectorError::Provider(other),
        })?;
        let response = self
            .list(&token, &[("maxPageSize", "1".to_owned())])
            .await?;
        if matches!(
            response.status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ) {
            return Err(ConnectorError::Unauthorized(format!(
                "KnoCommerce did not let this API client read survey responses ({}): give it the Responses permission",
                kno_message(&response, &[secret, &token])
            )));
        }
        let body: Value = response
            .success(&[secret, &token])?
            .json("KnoCommerce's responses list")?;
        if !body.get("results").is_some_and(Value::is_array) {
            return Err(ConnectorError::Provider(OAuthError::Rejected(
                "unexpected response shape from KnoCommerce's responses list".into(),
            )));
        }
        let short: String = client_id.chars().take(8).collect();
        Ok(AccountInfo {
            id: client_id.to_owned(),
            label: format!("KnoCommerce (API client {short}…)"),
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
    fn oauth_errors_are_read_and_scrubbed() {
        let response = Response {
            status: StatusCode::UNAUTHORIZED,
            headers: HeaderMap::new(),
            body: br#"{"error":"invalid_client","error_description":"Client authentication failed for s3cr3t-value"}"#.to_vec(),
        };
        assert_eq!(
            kno_message(&response, &["s3cr3t-value"]),
            "Client authentication failed for ***"
        );
        assert_eq!(form_encode("a:b c"), "a%3Ab+c");
    }
}

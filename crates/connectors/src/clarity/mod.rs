//! Microsoft Clarity: a project's Data Export API token (a bearer JWT).
//!
//! One endpoint, `GET {api}/export-data/api/v1/project-live-insights?numOfDays=1..3
//! &dimension1..3=…`, answers the project's dashboard metrics for the last 24–72
//! hours, broken down by up to three dimensions, at most 10 calls per project and
//! day (HTTP 429 past that). Every call counts, the connection test included, so
//! the sync keeps a budget (see `sync.rs`).

mod catalog;
pub mod config;
mod derive;
mod sync;

pub use catalog::CLARITY_METRICS;
pub use config::{ClarityConfig, CLARITY_DAILY_LIMIT};
pub use derive::{page_of, reported_day};

use std::{collections::BTreeMap, sync::Arc};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{
    catalog::{AuthKind, CallBudget, KeyField, ProviderInfo},
    config::HttpConfig,
    provider::{AccountInfo, Provider},
    registry::ProviderDef,
    support::error::{ConnectorError, OAuthError},
    support::http::{endpoint, Http, Response},
};

/// Microsoft Clarity in the registry.
pub const PROVIDER: ProviderDef = ProviderDef {
    id: "clarity",
    env_prefix: "CLARITY",
    settings: config::SETTINGS,
    build: |settings, http| {
        let config = ClarityConfig::from_settings(settings)?;
        Ok(Arc::new(ClarityProvider::new(&config, http)?))
    },
};

/// The field name of the token in `test_api_key`'s map. The server stores one
/// secret key field per integration, under this name, whatever the provider calls it.
pub const CLARITY_TOKEN_FIELD: &str = "api_key";

/// The export endpoint, under the API host.
const EXPORT_PATH: &str = "export-data/api/v1/project-live-insights";

/// The Microsoft Clarity provider.
#[derive(Debug, Clone)]
pub struct ClarityProvider {
    config: ClarityConfig,
    http: Http,
}

/// One export call's answer: the metric groups and when Clarity computed them.
pub(crate) struct Export {
    pub response: Vec<Value>,
    /// Clarity's `Date` header, else our clock when the answer came.
    pub fetched_at: DateTime<Utc>,
}

impl ClarityProvider {
    pub fn new(config: &ClarityConfig, http: &HttpConfig) -> Result<Self, ConnectorError> {
        Ok(Self {
            config: config.clone(),
            http: Http::new(http)?,
        })
    }

    /// One `GET` of the export endpoint, never retried here: every attempt spends
    /// one of the project's daily calls.
    pub(crate) async fn export_call(
        &self,
        token: &str,
        num_of_days: u8,
        dimensions: &[&str],
    ) -> Result<Response, OAuthError> {
        let mut query = vec![("numOfDays".to_owned(), num_of_days.to_string())];
        for (i, dimension) in dimensions.iter().enumerate().take(3) {
            query.push((format!("dimension{}", i + 1), (*dimension).to_owned()));
        }
        let request = self
            .http
            .get(endpoint(&self.config.api_base, EXPORT_PATH))
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/json")
            .query(&query);
        self.http.send(request).await
    }

    /// The metric groups of a successful answer; a body that is not a list of
    /// `{metricName, information: [...]}` is refused, naming the endpoint.
    pub(crate) fn parse_export(response: &Response, now: DateTime<Utc>) -> Result<Export, OAuthError> {
        let malformed =
            || OAuthError::Rejected("unexpected response shape from Clarity's Data Export API".into());
        let groups: Vec<Value> = response.json("Clarity's Data Export API")?;
        let well_formed = groups.iter().all(|group| {
            group.get("metricName").is_some_and(Value::is_string)
                && group.get("information").is_some_and(Value::is_array)
        });
        if !well_formed {
            return Err(malformed());
        }
        let fetched_at = response
            .headers
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now);
        Ok(Export {
            response: groups,
            fetched_at,
        })
    }
}

/// A stable id for the project a token reads: Clarity tokens carry no documented
/// project claim, so it is a fingerprint of the token (a SHA-256 prefix, which
/// reveals nothing of it). Connecting another token of the same project makes
/// another integration.
pub fn token_fingerprint(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    hex::encode(&digest[..6])
}

/// Checks the shape of a token before it is sent anywhere: Clarity's tokens are
/// JWTs, three base64url parts separated by dots.
pub fn validate_clarity_token(token: &str) -> Result<(), ConnectorError> {
    let parts: Vec<&str> = token.split('.').collect();
    let base64url = |part: &&str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
    };
    if parts.len() == 3 && parts.iter().all(base64url) && token.len() >= 20 {
        Ok(())
    } else {
        Err(ConnectorError::InvalidInput(
            "A Clarity Data Export token is a long string of three parts separated by dots \
             (eyJ…). Create one in Clarity under Settings → Data Export → Generate new API token."
                .into(),
        ))
    }
}

#[async_trait]
impl Provider for ClarityProvider {
    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            id: "clarity",
            name: "Microsoft Clarity",
            category: "behavior",
            auth: AuthKind::ApiKey {
                fields: vec![KeyField {
                    name: CLARITY_TOKEN_FIELD,
                    label: "Data Export API token",
                    secret: true,
                    placeholder: "eyJhbGciOi…",
                    help: "In your Clarity project: Settings → Data Export → Generate new API token \
                           (project admins only). Clarity allows 10 export calls per project a day and \
                           keeps 3 days, so history starts the day before you connect; testing the token \
                           uses one of the day's calls.",
                    pattern: Some("^[A-Za-z0-9_=-]+\\.[A-Za-z0-9_=-]+\\.[A-Za-z0-9_=-]+$"),
                }],
            },
            api_key: None,
            oauth_configured: false,
            metrics: CLARITY_METRICS,
            default_cadence_minutes: 1440,
            account: None,
            account_picker: false,
            options: vec![],
            call_budget: Some(CallBudget {
                limit: self.config.daily_calls,
                unit: "export calls",
            }),
            env_prefix: PROVIDER.env_prefix,
        }
    }

    /// One export call (`numOfDays=1`, no breakdown): Clarity has no cheaper
    /// endpoint, so the test spends one of the project's 10 daily calls, which
    /// the first sync counts (see `sync.rs`).
    async fn test_api_key(
        &self,
        fields: &BTreeMap<String, String>,
    ) -> Result<AccountInfo, ConnectorError> {
        let token = fields
            .get(CLARITY_TOKEN_FIELD)
            .map(|k| k.trim())
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                ConnectorError::InvalidInput("Enter a Clarity Data Export API token.".into())
            })?;
        validate_clarity_token(token)?;
        let response = self.export_call(token, 1, &[]).await?;
        match response.status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(ConnectorError::Unauthorized(format!(
                    "Clarity answered {} to this token: it is invalid, expired or was revoked \
                     (a token stops working when its creator leaves the project)",
                    response.status
                )))
            }
            StatusCode::TOO_MANY_REQUESTS => {
                return Err(ConnectorError::Provider(OAuthError::Rejected(
                    "Clarity's 10 export calls for this project are used up today; connect again \
                     after midnight UTC"
                        .into(),
                )))
            }
            _ => {}
        }
        let response = response.success(&[token])?;
        Self::parse_export(&response, Utc::now())?;
        let id = token_fingerprint(token);
        Ok(AccountInfo {
            label: format!("Clarity project (token {id})"),
            id,
            currency: None,
            timezone: Some("UTC".into()),
            livemode: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked_for_shape_without_being_echoed() {
        assert!(validate_clarity_token("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl").is_ok());
        for bad in ["", "abc", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0", "a b.c d.e f", "eyJh..sig"] {
            let error = validate_clarity_token(bad).unwrap_err();
            assert!(bad.len() < 4 || !error.to_string().contains(bad), "{error}");
        }
    }

    #[test]
    fn the_account_is_a_fingerprint_of_the_token() {
        let id = token_fingerprint("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl");
        assert_eq!(id.len(), 12);
        assert_eq!(id, token_fingerprint("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"));
        assert_ne!(id, token_fingerprint("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyIn0.c2lnbmF0dXJl"));
    }
}

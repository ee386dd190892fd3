//! Google Analytics 4: Google OAuth (offline access, PKCE, the read-only Analytics
//! scope), the Admin API to check and describe the property, the Data API's
//! `runReport` to sync (`sync.rs`) and the rows' metric events (`derive.rs`).
//!
//! Endpoints used: `GET {auth}` (the consent screen), `POST {token}` (code exchange
//! and refresh, form-encoded with the client id and secret), `POST {revoke}`,
//! `GET {admin}/v1beta/accountSummaries`, `GET {admin}/v1beta/properties/{id}` and
//! `POST {data}/v1beta/properties/{id}:runReport`.
//!
//! The property is named by the user before the flow starts (`info().account`) and
//! checked after consent: the Google account that consented must be able to read it.
//! [`Ga4Provider::list_properties`] lists what an access token can read, for a
//! property picker after consent.

mod catalog;
pub mod config;
mod derive;
mod sync;

pub use catalog::GA4_METRICS;
pub use config::{Ga4Config, GA4_SCOPE};

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde::Deserialize;
use url::Url;

use crate::{
    catalog::{AuthKind, KeyField, ProviderInfo},
    config::HttpConfig,
    provider::{
        AccountChoice, AccountInfo, AccountRef, AuthorizeRequest, CodeExchange, Connected, Provider, TokenSet,
    },
    registry::ProviderDef,
    support::backoff::{with_backoff, RetryPolicy},
    support::error::{ConnectorError, OAuthError},
    support::http::{endpoint, Http},
};

/// GA4 in the registry.
pub const PROVIDER: ProviderDef = ProviderDef {
    id: "ga4",
    env_prefix: "GA4",
    settings: config::SETTINGS,
    build: |settings, http| {
        let config = Ga4Config::from_settings(settings)?;
        Ok(Arc::new(Ga4Provider::new(&config, http)?))
    },
};

/// The GA4 provider.
#[derive(Debug, Clone)]
pub struct Ga4Provider {
    config: Ga4Config,
    http: Http,
    lookup_retry: RetryPolicy,
}

/// A property the granted Google account can read, from the Admin API's account
/// summaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ga4Property {
    /// The property's number (`123456789`), as Pulseboard stores it.
    pub id: String,
    pub display_name: String,
    /// The display name of the Analytics account it belongs to.
    pub account_name: String,
}

/// The token endpoint's answer. A refresh carries no `refresh_token`: Google does not
/// rotate them.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<i64>,
    scope: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountSummaries {
    #[serde(default)]
    account_summaries: Vec<AccountSummary>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountSummary {
    display_name: Option<String>,
    #[serde(default)]
    property_summaries: Vec<PropertySummary>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PropertySummary {
    /// `properties/123456789`.
    property: String,
    display_name: Option<String>,
}

/// The parts of `GET /v1beta/properties/{id}` Pulseboard uses.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Property {
    display_name: Option<String>,
    time_zone: Option<String>,
    currency_code: Option<String>,
}

/// A property id as users write it: `properties/123456789` or `123456789`, normalised
/// to the number.
pub fn parse_property_id(input: &str) -> Result<String, ConnectorError> {
    let trimmed = input.trim();
    let number = trimmed.strip_prefix("properties/").unwrap_or(trimmed);
    let valid = !number.is_empty()
        && number.len() <= 20
        && number.bytes().all(|b| b.is_ascii_digit())
        && number.bytes().any(|b| b != b'0');
    if !valid {
        return Err(ConnectorError::InvalidInput(
            "Enter the GA4 property ID: the number in Admin → Property details (123456789), \
             or properties/123456789."
                .into(),
        ));
    }
    Ok(number.trim_start_matches('0').to_owned())
}

impl Ga4Provider {
    pub fn new(config: &Ga4Config, http: &HttpConfig) -> Result<Self, ConnectorError> {
        Ok(Self {
            config: config.clone(),
            http: Http::new(http)?,
            lookup_retry: http.lookup_retry.clone(),
        })
    }

    fn credentials(&self) -> Result<(&str, &str), OAuthError> {
        match (&self.config.client_id, &self.config.client_secret) {
            (Some(id), Some(secret)) => Ok((id, secret.expose_secret())),
            _ => Err(OAuthError::Rejected(
                "Google OAuth is not configured on this server".into(),
            )),
        }
    }

    /// `POST {token}`, form-encoded, with the client credentials in the body.
    async fn token_call(
        &self,
        form: &[(&str, &str)],
        secrets: &[&str],
    ) -> Result<TokenResponse, OAuthError> {
        let (client_id, client_secret) = self.credentials()?;
        let mut body = form.to_vec();
        body.extend([("client_id", client_id), ("client_secret", client_secret)]);
        let mut known = secrets.to_vec();
        known.push(client_secret);
        let request = self.http.post(self.config.token_url.clone()).form(&body);
        self.http
            .send(request)
            .await?
            .success(&known)?
            .json("Google's token endpoint")
    }

    /// A GET against the Admin API.
    async fn admin_get<T: serde::de::DeserializeOwned>(
        &self,
        access_token: &str,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, OAuthError> {
        let request = self
            .http
            .get(endpoint(&self.config.admin_base, path))
            .bearer_auth(access_token)
            .query(query);
        let response = self.http.send(request).await?;
        if response.status == StatusCode::UNAUTHORIZED {
            return Err(OAuthError::InvalidGrant(format!(
                "Google refused the access token: {}",
                response.message(&[access_token])
            )));
        }
        response
            .success(&[access_token])?
            .json("the Google Analytics Admin API")
    }

    /// Every property the token's Google account can read, walking all pages of
    /// `accountSummaries`.
    async fn property_summaries(&self, access_token: &str) -> Result<Vec<Ga4Property>, OAuthError> {
        let mut out = Vec::new();
        let mut page_token: Option<String> = None;
        // A bound on pages: 200 pages of 50 accounts is far beyond any real user.
        for _ in 0..200 {
            let mut query = Vec::new();
            if let Some(token) = &page_token {
                query.push(("pageToken", token.as_str()));
            }
            let page: AccountSummaries = self
                .admin_get(access_token, "v1beta/accountSummaries", &query)
                .await?;
            for account in page.account_summaries {
                let account_name = account.display_name.unwrap_or_default();
                for property in account.property_summaries {
                    let Ok(id) = parse_property_id(&property.property) else {
                        continue;
                    };
                    out.push(Ga4Property {
                        display_name: property.display_name.unwrap_or_else(|| id.clone()),
                        id,
                        account_name: account_name.clone(),
                    });
                }
            }
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(next) => page_token = Some(next),
                None => return Ok(out),
            }
        }
        Err(OAuthError::Rejected(
            "Google's account summaries did not end".into(),
        ))
    }

    /// The property's details, after checking the granted Google account can read it.
    async fn property_account(&self, token: &str, property_id: &str) -> Result<AccountInfo, OAuthError> {
        let property_id = property_id.to_owned();

        // The Google account that consented must be able to read the property.
        let readable =
            with_backoff(&self.lookup_retry, || self.property_summaries(token)).await?;
        if !readable.iter().any(|p| p.id == property_id) {
            return Err(OAuthError::Rejected(format!(
                "this Google account cannot read property {property_id}: sign in with a Google \
                 account that has at least Viewer access to it, or check the property ID"
            )));
        }
        let summary_name = readable
            .iter()
            .find(|p| p.id == property_id)
            .map(|p| p.display_name.clone());
        let details = with_backoff(&self.lookup_retry, || self.property(token, &property_id)).await;
        Ok(match details {
            Ok(property) => AccountInfo {
                label: property
                    .display_name
                    .filter(|n| !n.trim().is_empty())
                    .or(summary_name)
                    .unwrap_or_else(|| format!("GA4 property {property_id}")),
                currency: property.currency_code,
                timezone: property.time_zone,
                livemode: None,
                id: property_id,
            },
            Err(error) => {
                tracing::warn!(%error, property = %property_id, "GA4 property lookup failed; using its summary");
                AccountInfo {
                    label: summary_name.unwrap_or_else(|| format!("GA4 property {property_id}")),
                    currency: None,
                    timezone: None,
                    livemode: None,
                    id: property_id,
                }
            }
        })
    }

    /// The GA4 properties the access token's Google account can read, as
    /// `(property number, property name, account name)`, for a property picker.
    pub async fn list_properties(
        &self,
        access_token: &str,
    ) -> Result<Vec<(String, String, String)>, OAuthError> {
        Ok(self
            .property_summaries(access_token)
            .await?
            .into_iter()
            .map(|p| (p.id, p.display_name, p.account_name))
            .collect())
    }

    /// The property's name, time zone and currency.
    async fn property(&self, access_token: &str, id: &str) -> Result<Property, OAuthError> {
        self.admin_get(access_token, &format!("v1beta/properties/{id}"), &[])
            .await
    }

    /// Revokes a Google access or refresh token (`POST {revoke}` with `token=`); a
    /// refresh token takes its access tokens with it.
    pub async fn revoke_token(&self, token: &str) -> Result<(), ConnectorError> {
        let request = self
            .http
            .post(self.config.revoke_url.clone())
            .form(&[("token", token)]);
        self.http.send(request).await?.success(&[token])?;
        Ok(())
    }

    fn token_set(response: &TokenResponse, fallback_refresh: Option<&str>) -> TokenSet {
        TokenSet::from_grant(
            &response.access_token,
            response.refresh_token.as_deref(),
            fallback_refresh,
            response.expires_in,
            response.scope.clone(),
        )
    }
}

/// Whether a granted scope string (space-separated) includes the Analytics read scope.
/// Google's granular consent lets the user untick it; no scope at all means the
/// request's was granted.
fn grants_analytics(scope: Option<&str>) -> bool {
    scope.is_none_or(|s| {
        s.split_whitespace()
            .any(|granted| granted == GA4_SCOPE || granted.ends_with("/auth/analytics"))
    })
}

#[async_trait]
impl Provider for Ga4Provider {
    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            id: "ga4",
            name: "Google Analytics 4",
            category: "analytics",
            auth: AuthKind::OAuth2 {
                scopes: vec![GA4_SCOPE.to_owned()],
                pkce: true,
                needs_shop_domain: false,
            },
            api_key: None,
            oauth_configured: self.config.client_id.is_some()
                && self.config.client_secret.is_some(),
            metrics: GA4_METRICS,
            default_cadence_minutes: 60,
            account: Some(KeyField {
                name: "property",
                label: "GA4 property ID",
                secret: false,
                placeholder: "123456789",
                help: "In Google Analytics: Admin → Property details → Property ID.",
                pattern: Some("^(properties/)?[0-9]{1,20}$"),
            }),
            // Leave the property empty to pick it from the account's list after consent.
            account_picker: true,
            options: vec![],
            call_budget: None,
            env_prefix: PROVIDER.env_prefix,
        }
    }

    fn parse_account(&self, input: &str) -> Result<AccountRef, ConnectorError> {
        parse_property_id(input).map(AccountRef::new_validated)
    }

    fn authorize_url(&self, req: &AuthorizeRequest) -> Result<Url, ConnectorError> {
        let client_id = self
            .config
            .client_id
            .as_deref()
            .ok_or_else(|| ConnectorError::NotConfigured("Google OAuth (client id)".into()))?;
        let challenge = req.pkce_challenge.as_deref().ok_or_else(|| {
            ConnectorError::InvalidInput("GA4 connects with PKCE: a challenge is needed".into())
        })?;
        let mut url = self.config.auth_url.clone();
        url.query_pairs_mut()
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", req.redirect_uri.as_str())
            .append_pair("response_type", "code")
            .append_pair("scope", GA4_SCOPE)
            // A refresh token, so syncs run without the user; `prompt=consent` makes
            // Google issue one even when the user consented before.
            .append_pair("access_type", "offline")
            .append_pair("prompt", "consent")
            .append_pair("include_granted_scopes", "true")
            .append_pair("state", &req.state)
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(url)
    }

    async fn exchange_code(&self, req: &CodeExchange) -> Result<Connected, OAuthError> {
        // No property named: the user picks one after consent (`list_accounts`).
        let property_id = req
            .account
            .as_ref()
            .map(|a| {
                parse_property_id(a.as_str())
                    .map_err(|_| OAuthError::Rejected(format!("{a} is not a GA4 property ID")))
            })
            .transpose()?;
        let verifier = req.pkce_verifier.as_deref().unwrap_or_default();
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", req.code.as_str()),
            ("redirect_uri", req.redirect_uri.as_str()),
        ];
        if !verifier.is_empty() {
            form.push(("code_verifier", verifier));
        }
        let response = self.token_call(&form, &[&req.code, verifier]).await?;
        if !grants_analytics(response.scope.as_deref()) {
            return Err(OAuthError::AccessDenied(
                "read access to Google Analytics was not granted; connect again and keep \
                 \"See and download your Google Analytics data\" ticked"
                    .into(),
            ));
        }
        if response.refresh_token.is_none() {
            return Err(OAuthError::Rejected(
                "Google issued no refresh token, so Pulseboard could not sync on its own".into(),
            ));
        }
        let tokens = Self::token_set(&response, None);
        let account = match property_id {
            Some(id) => self.property_account(&response.access_token, &id).await?,
            None => AccountInfo {
                id: String::new(),
                label: "Google Analytics 4 (pick a property)".into(),
                currency: None,
                timezone: None,
                livemode: None,
            },
        };
        Ok(Connected { tokens, account })
    }

    async fn refresh(
        &self,
        refresh_token: &str,
        _account: Option<&AccountRef>,
    ) -> Result<TokenSet, OAuthError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        let response = self.token_call(&form, &[refresh_token]).await?;
        Ok(Self::token_set(&response, Some(refresh_token)))
    }

    /// Revoking the refresh token ends the whole grant at Google.
    async fn revoke_grant(&self, token: &str) -> Result<(), ConnectorError> {
        self.revoke_token(token).await
    }

    async fn list_accounts(&self, access_token: &str) -> Result<Vec<AccountChoice>, ConnectorError> {
        Ok(self
            .list_properties(access_token)
            .await?
            .into_iter()
            .map(|(id, label, account)| AccountChoice {
                id,
                label,
                group: Some(account),
            })
            .collect())
    }

    async fn choose_account(
        &self,
        access_token: &str,
        account: &AccountRef,
    ) -> Result<AccountInfo, ConnectorError> {
        match self.property_account(access_token, account.as_str()).await {
            Err(OAuthError::Rejected(message)) => Err(ConnectorError::InvalidInput(message)),
            other => Ok(other?),
        }
    }

    // `revoke(account_id)` keeps the default (nothing): Google revokes tokens, not
    // properties, and the trait is given only the property. `revoke_token` does it
    // for a caller that holds the token.
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_ids_are_normalised_to_the_number() {
        assert_eq!(parse_property_id("123456789").unwrap(), "123456789");
        assert_eq!(parse_property_id(" properties/123456789 ").unwrap(), "123456789");
        assert_eq!(parse_property_id("0042").unwrap(), "42");
        for bad in ["", "properties/", "G-ABC123", "UA-1234-1", "12 34", "0", "properties/x", "accounts/12"] {
            assert!(parse_property_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn granular_consent_is_checked() {
        assert!(grants_analytics(None));
        assert!(grants_analytics(Some(&format!("openid {GA4_SCOPE}"))));
        assert!(!grants_analytics(Some("openid email")));
    }

    #[test]
    fn the_authorize_url_asks_for_offline_access_with_pkce() {
        let config = Ga4Config {
            client_id: Some("cid.apps.googleusercontent.com".into()),
            ..Ga4Config::default()
        };
        let provider = Ga4Provider::new(&config, &HttpConfig::default()).unwrap();
        let url = provider
            .authorize_url(&AuthorizeRequest {
                state: "st".into(),
                redirect_uri: Url::parse("https://app.example/api/oauth/ga4/callback").unwrap(),
                pkce_challenge: Some("ch".into()),
                account: Some(AccountRef::new_validated("1")),
            })
            .unwrap();
        assert!(url.as_str().starts_with("https://accounts.google.com/o/oauth2/v2/auth?"));
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        for (k, v) in [
            ("access_type", "offline"),
            ("prompt", "consent"),
            ("include_granted_scopes", "true"),
            ("code_challenge", "ch"),
            ("code_challenge_method", "S256"),
            ("response_type", "code"),
            ("scope", GA4_SCOPE),
        ] {
            assert!(pairs.contains(&(k.into(), v.into())), "{k}");
        }
        let info = provider.info();
        assert!(!info.oauth_configured, "no secret");
        assert_eq!(info.account.unwrap().name, "property");
    }
}

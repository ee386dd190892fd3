//! Shopify: OAuth app install per shop, the GraphQL Admin API, signed callbacks
//! and webhooks; syncing (`sync.rs`) and metric events (`derive.rs`).
//!
//! Endpoints used, relative to the shop base (`https://{shop}` in production):
//! `GET /admin/oauth/authorize`, `POST /admin/oauth/access_token` and
//! `POST /admin/api/{version}/graphql.json`.

mod catalog;
pub mod config;
mod derive;
mod shop_domain;
mod sync;
mod webhooks;

pub use catalog::SHOPIFY_METRICS;
pub use config::ShopifyConfig;
pub use shop_domain::ShopDomain;

use std::{collections::BTreeSet, fmt, sync::Arc, time::Duration};

use async_trait::async_trait;
use base64::{engine::general_purpose::STANDARD, Engine};
use chrono::{DateTime, Utc};
use reqwest::{header::HeaderMap, StatusCode};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{json, Value};
use url::Url;

use crate::{
    catalog::{AuthKind, KeyField, ProviderInfo},
    config::HttpConfig,
    provider::{
        AccountInfo, AccountRef, AuthorizeRequest, CallbackParams, CodeExchange, Connected,
        Provider, TokenSet,
    },
    registry::ProviderDef,
    support::backoff::{with_backoff, RetryPolicy},
    support::error::{CallbackError, ConnectorError, OAuthError, WebhookError},
    support::http::{endpoint, Http},
    support::signature::{hmac_sha256, hmac_sha256_matches},
};

/// Shopify in the registry.
pub const PROVIDER: ProviderDef = ProviderDef {
    id: "shopify",
    env_prefix: "SHOPIFY",
    settings: config::SETTINGS,
    build: |settings, http| {
        let config = ShopifyConfig::from_settings(settings)?;
        Ok(Arc::new(ShopifyProvider::new(&config, http)?))
    },
};

/// The shop an account names. Only `parse_account` makes Shopify accounts, so a
/// failure here means the value came from somewhere else.
fn shop_of(account: Option<&AccountRef>) -> Result<ShopDomain, OAuthError> {
    let account =
        account.ok_or_else(|| OAuthError::Rejected("a Shopify shop domain is required".into()))?;
    ShopDomain::parse(account.as_str())
        .map_err(|_| OAuthError::Rejected(format!("{account} is not a shop domain")))
}

/// How old an OAuth callback may be (Pulseboard's OAuth state lives 10 minutes).
pub const SHOPIFY_CALLBACK_TOLERANCE: Duration = Duration::from_secs(600);

/// How far in the future a callback timestamp may be, to absorb clock skew
/// between Shopify and this server. Anything later is refused.
const FUTURE_SKEW: Duration = Duration::from_secs(60);

/// The GraphQL query that names a shop.
const SHOP_QUERY: &str = "{ shop { name myshopifyDomain currencyCode ianaTimezone } }";

/// The Shopify provider.
#[derive(Debug, Clone)]
pub struct ShopifyProvider {
    config: ShopifyConfig,
    http: Http,
    lookup_retry: RetryPolicy,
}

/// `POST /admin/oauth/access_token` response. Offline tokens do not expire; the
/// expiring kind adds `expires_in` and a `refresh_token`.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    scope: Option<String>,
    expires_in: Option<i64>,
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Shop {
    name: String,
    currency_code: Option<String>,
    iana_timezone: Option<String>,
}

impl ShopifyProvider {
    /// Fails with `NotConfigured` when the shop base template lacks `{shop}` or does
    /// not make a URL.
    pub fn new(config: &ShopifyConfig, http: &HttpConfig) -> Result<Self, ConnectorError> {
        let provider = Self {
            config: config.clone(),
            http: Http::new(http)?,
            lookup_retry: http.lookup_retry.clone(),
        };
        let example = ShopDomain::parse("example.myshopify.com").expect("valid shop");
        if !config.shop_base_template.contains("{shop}") || provider.shop_base(&example).is_err() {
            return Err(ConnectorError::NotConfigured(
                "Shopify: the shop base template must be a URL containing {shop}".into(),
            ));
        }
        Ok(provider)
    }

    fn shop_base(&self, shop: &ShopDomain) -> Result<Url, url::ParseError> {
        Url::parse(
            &self
                .config
                .shop_base_template
                .replace("{shop}", shop.as_str()),
        )
    }

    fn base_for(&self, account: Option<&AccountRef>) -> Result<(Url, ShopDomain), OAuthError> {
        let shop = shop_of(account)?;
        // `new` checked the template with a valid shop; any ShopDomain fits it.
        let base = self.checked_base(&shop)?;
        Ok((base, shop))
    }

    fn checked_base(&self, shop: &ShopDomain) -> Result<Url, OAuthError> {
        self.shop_base(shop)
            .map_err(|_| OAuthError::Rejected("invalid shop URL".into()))
    }

    fn credentials(&self) -> Result<(&str, &str), OAuthError> {
        match (&self.config.api_key, &self.config.api_secret) {
            (Some(key), Some(secret)) => Ok((key, secret.expose_secret())),
            _ => Err(OAuthError::Rejected(
                "the Shopify app is not configured on this server".into(),
            )),
        }
    }

    /// `POST /admin/oauth/access_token` with a JSON body.
    async fn token_call(
        &self,
        base: &Url,
        mut body: Value,
        secrets: &[&str],
    ) -> Result<TokenResponse, OAuthError> {
        let (api_key, api_secret) = self.credentials()?;
        body["client_id"] = json!(api_key);
        body["client_secret"] = json!(api_secret);
        let mut known = secrets.to_vec();
        known.push(api_secret);
        let request = self
            .http
            .post(endpoint(base, "admin/oauth/access_token"))
            .json(&body);
        self.http
            .send(request)
            .await?
            .success(&known)?
            .json("Shopify's token endpoint")
    }

    /// `{shop base}/admin/api/{version}/graphql.json`.
    fn graphql_url(&self, shop: &ShopDomain) -> Result<Url, OAuthError> {
        let base = self.checked_base(shop)?;
        Ok(endpoint(
            &base,
            &format!("admin/api/{}/graphql.json", self.config.api_version),
        ))
    }

    /// Runs a GraphQL Admin API query and returns its `data`. A `THROTTLED` error,
    /// which Shopify sends with status 200, becomes `RateLimited`.
    pub async fn graphql(
        &self,
        shop: &ShopDomain,
        access_token: &str,
        query: &str,
        variables: Value,
    ) -> Result<Value, ConnectorError> {
        let url = self.graphql_url(shop)?;
        let request = self
            .http
            .post(url)
            .header("X-Shopify-Access-Token", access_token)
            .json(&json!({ "query": query, "variables": variables }));
        let response = self.http.send(request).await?;
        if matches!(
            response.status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ) {
            return Err(ConnectorError::Unauthorized(
                response.message(&[access_token]),
            ));
        }
        let mut body: Value = response
            .success(&[access_token])?
            .json("Shopify's GraphQL API")?;
        if let Some(errors) = body
            .get("errors")
            .and_then(Value::as_array)
            .filter(|e| !e.is_empty())
        {
            let throttled = errors.iter().any(|e| {
                e.pointer("/extensions/code").and_then(Value::as_str) == Some("THROTTLED")
            });
            if throttled {
                return Err(OAuthError::rate_limited(None).into());
            }
            let message = errors
                .iter()
                .filter_map(|e| e.get("message").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(OAuthError::Rejected(message).into());
        }
        Ok(body.get_mut("data").map(Value::take).unwrap_or(Value::Null))
    }

    async fn shop_info(
        &self,
        shop: &ShopDomain,
        access_token: &str,
    ) -> Result<Shop, ConnectorError> {
        let data = self
            .graphql(shop, access_token, SHOP_QUERY, json!({}))
            .await?;
        serde_json::from_value(data.get("shop").cloned().unwrap_or(Value::Null)).map_err(|_| {
            OAuthError::Rejected("unexpected response shape from Shopify's shop query".into())
                .into()
        })
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

#[async_trait]
impl Provider for ShopifyProvider {
    fn record_url(&self, account_id: &str, object_type: &str, external_id: &str) -> Option<String> {
        let section = match object_type {
            "order" => "orders",
            "customer" => "customers",
            "checkout" => "checkouts",
            _ => return None,
        };
        // Shopify's admin addresses a shop by its handle and objects by number
        // (`gid://shopify/Order/450789469` → 450789469).
        let shop = account_id.strip_suffix(".myshopify.com").unwrap_or(account_id);
        let number = external_id.rsplit('/').next()?;
        Some(format!("https://admin.shopify.com/store/{shop}/{section}/{number}"))
    }

    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            id: "shopify",
            name: "Shopify",
            category: "commerce",
            auth: AuthKind::OAuth2 {
                scopes: self.config.scopes.clone(),
                pkce: false,
                needs_shop_domain: true,
            },
            api_key: None,
            oauth_configured: self.config.api_key.is_some() && self.config.api_secret.is_some(),
            metrics: SHOPIFY_METRICS,
            default_cadence_minutes: 30,
            account: Some(KeyField {
                name: "shop",
                label: "Shop domain",
                secret: false,
                placeholder: "your-store.myshopify.com",
                help: "The .myshopify.com address of the store.",
                pattern: None,
            }),
            account_picker: false,
            options: vec![],
            call_budget: None,
            env_prefix: PROVIDER.env_prefix,
        }
    }

    /// Strict: only `<handle>.myshopify.com` (a bare handle is completed), since the
    /// shop decides where tokens are sent.
    fn parse_account(&self, input: &str) -> Result<AccountRef, ConnectorError> {
        let shop = ShopDomain::from_user_input(input).map_err(|e| {
            ConnectorError::InvalidInput(format!("{e}: enter your-shop.myshopify.com"))
        })?;
        Ok(AccountRef::new_validated(shop.as_str()))
    }

    fn authorize_url(&self, req: &AuthorizeRequest) -> Result<Url, ConnectorError> {
        let api_key = self
            .config
            .api_key
            .as_deref()
            .ok_or_else(|| ConnectorError::NotConfigured("the Shopify app (API key)".into()))?;
        let shop = shop_of(req.account.as_ref()).map_err(|_| {
            ConnectorError::InvalidInput("Enter your shop's myshopify.com domain.".into())
        })?;
        let base = self
            .shop_base(&shop)
            .map_err(|_| ConnectorError::InvalidInput("invalid shop URL".into()))?;
        let mut url = endpoint(&base, "admin/oauth/authorize");
        // No `grant_options[]`: an offline token, so syncs run without a user session.
        url.query_pairs_mut()
            .append_pair("client_id", api_key)
            .append_pair("scope", &self.config.scopes.join(","))
            .append_pair("redirect_uri", req.redirect_uri.as_str())
            .append_pair("state", &req.state);
        Ok(url)
    }

    fn verify_callback(
        &self,
        query_pairs: &[(String, String)],
        now: DateTime<Utc>,
    ) -> Result<CallbackParams, CallbackError> {
        let secret = self
            .config
            .api_secret
            .as_ref()
            .ok_or(CallbackError::NotConfigured)?;
        let verified = verify_shopify_callback(
            query_pairs,
            secret.expose_secret(),
            now,
            SHOPIFY_CALLBACK_TOLERANCE,
        )?;
        Ok(CallbackParams {
            code: verified.code,
            state: verified.state,
            account: Some(AccountRef::new_validated(verified.shop.as_str())),
        })
    }

    async fn exchange_code(&self, req: &CodeExchange) -> Result<Connected, OAuthError> {
        let (base, shop) = self.base_for(req.account.as_ref())?;
        let response = self
            .token_call(&base, json!({ "code": req.code }), &[&req.code])
            .await?;
        let tokens = Self::token_set(&response, None);

        let lookup = with_backoff(&self.lookup_retry, || {
            self.shop_info(&shop, &response.access_token)
        })
        .await;
        let (label, currency, timezone) = match lookup {
            Ok(info) => (info.name, info.currency_code, info.iana_timezone),
            Err(error) => {
                tracing::warn!(%error, %shop, "Shopify shop lookup failed; using the domain as label");
                (shop.to_string(), None, None)
            }
        };
        let account = AccountInfo {
            id: shop.to_string(),
            label,
            currency,
            timezone,
            livemode: None,
        };
        Ok(Connected { tokens, account })
    }

    async fn refresh(
        &self,
        refresh_token: &str,
        account: Option<&AccountRef>,
    ) -> Result<TokenSet, OAuthError> {
        let (base, _) = self.base_for(account)?;
        let body = json!({ "grant_type": "refresh_token", "refresh_token": refresh_token });
        let response = self.token_call(&base, body, &[refresh_token]).await?;
        Ok(Self::token_set(&response, Some(refresh_token)))
    }

    fn verify_webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        secret: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), WebhookError> {
        let header = headers
            .get("x-shopify-hmac-sha256")
            .ok_or(WebhookError::MissingSignature)?
            .to_str()
            .map_err(|_| WebhookError::MalformedSignature)?;
        verify_shopify_webhook(body, header, secret)
    }

    fn webhook_delivery(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<crate::provider::WebhookDelivery, WebhookError> {
        webhooks::delivery(headers, body)
    }

    fn webhook_setup(&self) -> Option<crate::provider::WebhookSetup> {
        Some(webhooks::SETUP)
    }

    fn webhook_app_secret(&self) -> Option<String> {
        self.config
            .api_secret
            .as_ref()
            .map(|s| s.expose_secret().to_owned())
    }
}

/// Verifies a Shopify webhook: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256
/// of the raw body with the app's secret. (Shopify webhooks carry no signed
/// timestamp; replays are handled by the inbox's idempotency on the event id.)
pub fn verify_shopify_webhook(
    payload: &[u8],
    hmac_header: &str,
    secret: &str,
) -> Result<(), WebhookError> {
    let expected = STANDARD
        .decode(hmac_header.trim())
        .map_err(|_| WebhookError::MalformedSignature)?;
    if hmac_sha256_matches(secret.as_bytes(), &[payload], &expected) {
        Ok(())
    } else {
        Err(WebhookError::BadSignature)
    }
}

/// A Shopify OAuth callback whose signature, shop and timestamp were checked.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedCallback {
    pub shop: ShopDomain,
    pub code: String,
    pub state: String,
    /// Base64 of the shop's admin host, used by embedded apps.
    pub host: Option<String>,
    pub timestamp: DateTime<Utc>,
}

impl fmt::Debug for VerifiedCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedCallback")
            .field("shop", &self.shop)
            .field("code", &"***")
            .field("state", &self.state)
            .field("host", &self.host)
            .field("timestamp", &self.timestamp)
            .finish()
    }
}

/// The message Shopify signs on a callback: every parameter except `hmac` (and
/// the legacy `signature`), sorted by key, as `k=v` joined with `&`, with `%` and
/// `&` (and `=` in keys) percent-escaped so a value cannot fake a separator.
fn callback_message(pairs: &[(String, String)]) -> String {
    let mut kept: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != "hmac" && k != "signature")
        .map(|(k, v)| {
            let value = v.replace('%', "%25").replace('&', "%26");
            let key = k
                .replace('%', "%25")
                .replace('&', "%26")
                .replace('=', "%3D");
            (key, value)
        })
        .collect();
    kept.sort();
    kept.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The hex `hmac` Shopify would put on a callback with these parameters; for
/// tests of code that receives callbacks.
pub fn sign_shopify_callback(pairs: &[(String, String)], api_secret: &str) -> String {
    hex::encode(hmac_sha256(
        api_secret.as_bytes(),
        &[callback_message(pairs).as_bytes()],
    ))
}

/// Verifies the query of a Shopify OAuth callback (decoded pairs, in any order):
/// no repeated parameter, a hex `hmac` matching the HMAC-SHA256 of the other
/// parameters (constant-time), a valid `*.myshopify.com` shop, a `timestamp` no
/// older than `tolerance` and at most a minute in the future, and a `code` and a
/// `state`. The state must still be checked against the server-side record.
pub fn verify_shopify_callback(
    query_pairs: &[(String, String)],
    api_secret: &str,
    now: DateTime<Utc>,
    tolerance: Duration,
) -> Result<VerifiedCallback, CallbackError> {
    let mut seen = BTreeSet::new();
    for (key, _) in query_pairs {
        if !seen.insert(key.as_str()) {
            return Err(CallbackError::DuplicateParam(key.clone()));
        }
    }
    let get = |name: &'static str| {
        query_pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .ok_or(CallbackError::MissingParam(name))
    };

    let signature = hex::decode(get("hmac")?).map_err(|_| CallbackError::BadSignature)?;
    let message = callback_message(query_pairs);
    if !hmac_sha256_matches(api_secret.as_bytes(), &[message.as_bytes()], &signature) {
        return Err(CallbackError::BadSignature);
    }

    let shop = ShopDomain::parse(get("shop")?).map_err(|_| CallbackError::InvalidShop)?;
    let seconds: i64 = get("timestamp")?
        .parse()
        .map_err(|_| CallbackError::InvalidTimestamp)?;
    let timestamp = DateTime::from_timestamp(seconds, 0).ok_or(CallbackError::InvalidTimestamp)?;
    if timestamp > now {
        if (timestamp - now).to_std().unwrap_or(Duration::MAX) > FUTURE_SKEW {
            return Err(CallbackError::FromTheFuture);
        }
    } else if (now - timestamp).to_std().unwrap_or(Duration::MAX) > tolerance {
        return Err(CallbackError::Stale);
    }

    Ok(VerifiedCallback {
        shop,
        code: get("code")?.to_owned(),
        state: get("state")?.to_owned(),
        host: get("host").ok().map(str::to_owned),
        timestamp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    /// The example from Shopify's OAuth documentation (secret `hush`); the digest
    /// was recomputed independently with Python's hmac module.
    fn documented_callback() -> Vec<(String, String)> {
        pairs(&[
            ("code", "0907a61c0c8d55e99db179b68161bc00"),
            (
                "hmac",
                "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf",
            ),
            ("shop", "some-shop.myshopify.com"),
            ("state", "0.6784241404160823"),
            ("timestamp", "1337178173"),
        ])
    }

    const NOW: i64 = 1_337_178_173 + 60;

    fn verify(query: &[(String, String)]) -> Result<VerifiedCallback, CallbackError> {
        verify_shopify_callback(query, "hush", at(NOW), SHOPIFY_CALLBACK_TOLERANCE)
    }

    fn resign(mut query: Vec<(String, String)>, secret: &str) -> Vec<(String, String)> {
        query.retain(|(k, _)| k != "hmac");
        let hmac = sign_shopify_callback(&query, secret);
        query.push(("hmac".into(), hmac));
        query
    }

    fn with(query: &[(String, String)], key: &str, value: &str) -> Vec<(String, String)> {
        query
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    if k == key {
                        value.to_owned()
                    } else {
                        v.clone()
                    },
                )
            })
            .collect()
    }

    #[test]
    fn accepts_the_documented_example_in_any_order() {
        let verified = verify(&documented_callback()).unwrap();
        assert_eq!(verified.shop.as_str(), "some-shop.myshopify.com");
        assert_eq!(verified.code, "0907a61c0c8d55e99db179b68161bc00");
        assert_eq!(verified.state, "0.6784241404160823");
        let mut reversed = documented_callback();
        reversed.reverse();
        assert!(verify(&reversed).is_ok());
        // Upper-case hex is the same signature.
        let upper = with(
            &documented_callback(),
            "hmac",
            "700E2DADB827FCC8609E9D5CE208B2E9CDAAB9DF07390D2CBCA10D7C328FC4BF",
        );
        assert!(verify(&upper).is_ok());
        assert!(!format!("{verified:?}").contains("0907a61c"));
    }

    #[test]
    fn refuses_tampered_parameters() {
        let base = documented_callback();
        for (key, value) in [
            ("code", "0907a61c0c8d55e99db179b68161bc01"),
            ("shop", "other-shop.myshopify.com"),
            ("state", "0.1"),
            ("timestamp", "1337178174"),
            ("hmac", "00"),
            ("hmac", "zz"),
        ] {
            assert_eq!(
                verify(&with(&base, key, value)),
                Err(CallbackError::BadSignature),
                "{key}={value}"
            );
        }
        let mut extra = base.clone();
        extra.push((
            "host".into(),
            "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZXZpbA".into(),
        ));
        assert_eq!(verify(&extra), Err(CallbackError::BadSignature));
        assert_eq!(
            verify_shopify_callback(&base, "wrong-secret", at(NOW), SHOPIFY_CALLBACK_TOLERANCE),
            Err(CallbackError::BadSignature)
        );
    }

    #[test]
    fn refuses_foreign_shops_even_when_signed() {
        for shop in [
            "evil.com",
            "x.myshopify.com.evil.com",
            "some-shop.myshopify.com:8443",
            "",
        ] {
            let query = resign(with(&documented_callback(), "shop", shop), "hush");
            assert_eq!(verify(&query), Err(CallbackError::InvalidShop), "{shop}");
        }
        // Upper case is a valid spelling of a valid shop, normalised.
        let query = resign(
            with(&documented_callback(), "shop", "Some-Shop.MYSHOPIFY.com"),
            "hush",
        );
        assert_eq!(
            verify(&query).unwrap().shop.as_str(),
            "some-shop.myshopify.com"
        );
    }

    #[test]
    fn refuses_stale_and_future_timestamps() {
        let query = documented_callback();
        let tolerance = SHOPIFY_CALLBACK_TOLERANCE;
        let issued = 1_337_178_173;
        assert!(verify_shopify_callback(&query, "hush", at(issued + 600), tolerance).is_ok());
        assert_eq!(
            verify_shopify_callback(&query, "hush", at(issued + 601), tolerance),
            Err(CallbackError::Stale)
        );
        assert!(verify_shopify_callback(&query, "hush", at(issued - 60), tolerance).is_ok());
        assert_eq!(
            verify_shopify_callback(&query, "hush", at(issued - 61), tolerance),
            Err(CallbackError::FromTheFuture)
        );
        let garbled = resign(with(&query, "timestamp", "yesterday"), "hush");
        assert_eq!(verify(&garbled), Err(CallbackError::InvalidTimestamp));
    }

    #[test]
    fn refuses_missing_and_repeated_parameters() {
        for missing in ["hmac", "shop", "timestamp", "code", "state"] {
            let mut query = documented_callback();
            query.retain(|(k, _)| k != missing);
            let query = if missing == "hmac" {
                query
            } else {
                resign(query, "hush")
            };
            assert_eq!(
                verify(&query),
                Err(CallbackError::MissingParam(missing)),
                "{missing}"
            );
        }
        let mut repeated = documented_callback();
        repeated.push(("shop".into(), "evil.com".into()));
        assert_eq!(
            verify(&repeated),
            Err(CallbackError::DuplicateParam("shop".into()))
        );
    }

    #[test]
    fn signing_escapes_separators_and_ignores_signature() {
        let query = pairs(&[("b", "1&a=2"), ("a", "x%y"), ("signature", "legacy")]);
        assert_eq!(callback_message(&query), "a=x%25y&b=1%26a=2");
        let hmac = sign_shopify_callback(&query, "s");
        assert_eq!(
            hmac,
            hex::encode(hmac_sha256(b"s", &[b"a=x%25y&b=1%26a=2"]))
        );
    }

    #[test]
    fn webhook_hmac_is_base64_over_the_raw_body() {
        // Computed independently with Python: base64(hmac_sha256(secret, body)).
        let body = br#"{"id":820982911946154508,"email":"jon@example.com"}"#;
        let header = "uVbq/Mje+Yn9Yu0aFkV/sL+q59vCp0kSREnY128rnVw=";
        assert_eq!(
            verify_shopify_webhook(body, header, "shpss_webhook_secret"),
            Ok(())
        );
        assert_eq!(
            verify_shopify_webhook(body, header, "other"),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_shopify_webhook(b"{}", header, "shpss_webhook_secret"),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_shopify_webhook(body, "not base64!", "shpss_webhook_secret"),
            Err(WebhookError::MalformedSignature)
        );
    }

    #[test]
    fn template_must_name_the_shop() {
        let config = ShopifyConfig {
            shop_base_template: "https://shops.example".into(),
            ..ShopifyConfig::default()
        };
        assert!(ShopifyProvider::new(&config, &HttpConfig::default()).is_err());
        let provider =
            ShopifyProvider::new(&ShopifyConfig::default(), &HttpConfig::default()).unwrap();
        let shop = ShopDomain::parse("acme.myshopify.com").unwrap();
        assert_eq!(
            provider.shop_base(&shop).unwrap().as_str(),
            "https://acme.myshopify.com/"
        );
    }
}

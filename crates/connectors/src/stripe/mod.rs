//! Stripe: Connect OAuth (read-only) or a user-supplied restricted key.
//!
//! Endpoints used: `GET {connect}/oauth/authorize`, `POST {connect}/oauth/token`,
//! `POST {connect}/oauth/deauthorize` (authenticated with the platform secret
//! key) and `GET {api}/v1/account`.

mod catalog;
pub mod config;
mod derive;
mod sync;
mod webhooks;

pub use catalog::STRIPE_METRICS;
pub use config::StripeConfig;
pub use derive::monthly_amount;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::{header::HeaderMap, StatusCode};
use secrecy::ExposeSecret;
use serde::Deserialize;
use url::Url;

use crate::{
    catalog::{AuthKind, KeyField, ProviderInfo},
    config::HttpConfig,
    provider::{
        AccountInfo, AccountRef, AuthorizeRequest, CodeExchange, Connected, Provider, TokenSet,
        WebhookDelivery, WebhookSetup,
    },
    registry::ProviderDef,
    support::backoff::{with_backoff, RetryPolicy},
    support::error::{ConnectorError, OAuthError, WebhookError},
    support::http::{endpoint, Http},
    support::signature::{hmac_sha256, hmac_sha256_matches},
};

/// Stripe in the registry.
pub const PROVIDER: ProviderDef = ProviderDef {
    id: "stripe",
    env_prefix: "STRIPE",
    settings: config::SETTINGS,
    build: |settings, http| {
        let config = StripeConfig::from_settings(settings)?;
        Ok(Arc::new(StripeProvider::new(&config, http)?))
    },
};

/// Stripe's default webhook timestamp tolerance (the one its libraries use).
pub const STRIPE_WEBHOOK_TOLERANCE: Duration = Duration::from_secs(300);

/// The field name of the key in `test_api_key`'s map.
pub const STRIPE_API_KEY_FIELD: &str = "api_key";

/// The Stripe provider.
#[derive(Debug, Clone)]
pub struct StripeProvider {
    config: StripeConfig,
    http: Http,
    lookup_retry: RetryPolicy,
}

/// `POST /oauth/token` response.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: Option<String>,
    scope: Option<String>,
    stripe_user_id: String,
    livemode: Option<bool>,
    /// Stripe Connect tokens do not expire; honoured if ever present.
    expires_in: Option<i64>,
}

/// The parts of `GET /v1/account` Pulseboard uses.
#[derive(Deserialize)]
struct Account {
    id: String,
    business_profile: Option<BusinessProfile>,
    settings: Option<Settings>,
    default_currency: Option<String>,
}

#[derive(Deserialize)]
struct BusinessProfile {
    name: Option<String>,
}

#[derive(Deserialize)]
struct Settings {
    dashboard: Option<Dashboard>,
}

#[derive(Deserialize)]
struct Dashboard {
    display_name: Option<String>,
    timezone: Option<String>,
}

impl Account {
    fn into_info(self, livemode: Option<bool>) -> AccountInfo {
        let dashboard = self.settings.and_then(|s| s.dashboard);
        let display_name = dashboard.as_ref().and_then(|d| d.display_name.clone());
        let business_name = self.business_profile.and_then(|b| b.name);
        let label = [display_name, business_name]
            .into_iter()
            .flatten()
            .find(|name| !name.trim().is_empty())
            .unwrap_or_else(|| self.id.clone());
        AccountInfo {
            label,
            currency: self.default_currency,
            timezone: dashboard.and_then(|d| d.timezone),
            livemode,
            id: self.id,
        }
    }
}

impl StripeProvider {
    pub fn new(config: &StripeConfig, http: &HttpConfig) -> Result<Self, ConnectorError> {
        Ok(Self {
            config: config.clone(),
            http: Http::new(http)?,
            lookup_retry: http.lookup_retry.clone(),
        })
    }

    fn client_id(&self) -> Result<&str, ConnectorError> {
        self.config
            .client_id
            .as_deref()
            .ok_or_else(|| ConnectorError::NotConfigured("Stripe Connect (client id)".into()))
    }

    fn secret_key(&self) -> Result<&str, OAuthError> {
        self.config
            .secret_key
            .as_ref()
            .map(|k| k.expose_secret())
            .ok_or_else(|| {
                OAuthError::Rejected("Stripe Connect is not configured on this server".into())
            })
    }

    /// `POST /oauth/token` with the platform secret key as bearer credential.
    async fn token_call(
        &self,
        form: &[(&str, &str)],
        secrets: &[&str],
    ) -> Result<TokenResponse, OAuthError> {
        let secret_key = self.secret_key()?;
        let mut known = secrets.to_vec();
        known.push(secret_key);
        let request = self
            .http
            .post(endpoint(&self.config.connect_base, "oauth/token"))
            .bearer_auth(secret_key)
            .form(form);
        self.http
            .send(request)
            .await?
            .success(&known)?
            .json("Stripe's token endpoint")
    }

    /// `GET /v1/account` with a key or access token.
    async fn account(&self, key: &str) -> Result<Account, ConnectorError> {
        let request = self
            .http
            .get(endpoint(&self.config.api_base, "v1/account"))
            .bearer_auth(key);
        let response = self.http.send(request).await?;
        if matches!(
            response.status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ) {
            return Err(ConnectorError::Unauthorized(response.message(&[key])));
        }
        Ok(response
            .success(&[key])?
            .json("Stripe's account endpoint")?)
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

/// Checks the shape of a user-supplied key before it is sent anywhere.
///
/// Only restricted keys (`rk_live_…`, `rk_test_…`) are accepted: a standard secret
/// key (`sk_…`) grants full write access to the account, which a read-only
/// dashboard must not hold, so it is refused with a message that says how to make
/// a restricted key. Publishable keys (`pk_…`) cannot read data at all.
pub fn validate_stripe_key(key: &str) -> Result<(), ConnectorError> {
    let invalid = |message: &str| Err(ConnectorError::InvalidInput(message.to_owned()));
    if key.starts_with("sk_live_") || key.starts_with("sk_test_") {
        return invalid(
            "This is a secret key with full access. Create a restricted key with read-only \
             permissions in the Stripe Dashboard (Developers → API keys) and paste that (rk_live_… or rk_test_…).",
        );
    }
    if key.starts_with("pk_") {
        return invalid("This is a publishable key; a restricted read-only key (rk_live_… or rk_test_…) is needed.");
    }
    let body = key
        .strip_prefix("rk_live_")
        .or_else(|| key.strip_prefix("rk_test_"));
    match body {
        Some(rest) if rest.len() >= 8 && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') => Ok(()),
        _ => invalid("A Stripe restricted key starts with rk_live_ or rk_test_ followed by letters and digits."),
    }
}

#[async_trait]
impl Provider for StripeProvider {
    fn record_url(&self, account_id: &str, object_type: &str, external_id: &str) -> Option<String> {
        let section = match object_type {
            "charge" | "refund" => "payments",
            "balance_transaction" => "balance_transactions",
            "invoice" => "invoices",
            "subscription" => "subscriptions",
            "customer" => "customers",
            _ => return None,
        };
        // The account in the path opens the right one for a platform's user.
        Some(format!("https://dashboard.stripe.com/{account_id}/{section}/{external_id}"))
    }

    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            id: "stripe",
            name: "Stripe",
            category: "payments",
            auth: AuthKind::OAuth2 {
                scopes: vec![self.config.scope.clone()],
                pkce: false,
                needs_shop_domain: false,
            },
            api_key: Some(vec![KeyField {
                name: STRIPE_API_KEY_FIELD,
                label: "Restricted API key",
                secret: true,
                placeholder: "rk_live_…",
                help: "In the Stripe Dashboard, create a restricted key with Read access to \
                       charges, refunds, customers, subscriptions, invoices, events and account.",
                pattern: Some("^rk_(live|test)_[A-Za-z0-9_]{8,}$"),
            }]),
            oauth_configured: self.config.client_id.is_some() && self.config.secret_key.is_some(),
            metrics: STRIPE_METRICS,
            default_cadence_minutes: 15,
            account: None,
            account_picker: false,
            options: vec![],
            call_budget: None,
            env_prefix: PROVIDER.env_prefix,
        }
    }

    fn authorize_url(&self, req: &AuthorizeRequest) -> Result<Url, ConnectorError> {
        let client_id = self.client_id()?;
        let mut url = endpoint(&self.config.connect_base, "oauth/authorize");
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("scope", &self.config.scope)
            .append_pair("redirect_uri", req.redirect_uri.as_str())
            .append_pair("state", &req.state);
        Ok(url)
    }

    async fn exchange_code(&self, req: &CodeExchange) -> Result<Connected, OAuthError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", req.code.as_str()),
        ];
        let response = self.token_call(&form, &[&req.code]).await?;
        let tokens = Self::token_set(&response, None);

        let lookup =
            with_backoff(&self.lookup_retry, || self.account(&response.access_token)).await;
        let account = match lookup {
            Ok(account) if account.id == response.stripe_user_id => {
                account.into_info(response.livemode)
            }
            other => {
                if let Err(error) = other {
                    tracing::warn!(%error, account = %response.stripe_user_id, "Stripe account lookup failed; using the id as label");
                }
                AccountInfo {
                    id: response.stripe_user_id.clone(),
                    label: response.stripe_user_id.clone(),
                    currency: None,
                    timezone: None,
                    livemode: response.livemode,
                }
            }
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

    async fn test_api_key(
        &self,
        fields: &BTreeMap<String, String>,
    ) -> Result<AccountInfo, ConnectorError> {
        let key = fields
            .get(STRIPE_API_KEY_FIELD)
            .map(|k| k.trim())
            .filter(|k| !k.is_empty())
            .ok_or_else(|| ConnectorError::InvalidInput("Enter a Stripe restricted key.".into()))?;
        validate_stripe_key(key)?;
        let livemode = key.starts_with("rk_live_");
        Ok(self.account(key).await?.into_info(Some(livemode)))
    }

    async fn revoke(&self, account_id: &str) -> Result<(), ConnectorError> {
        let client_id = self.client_id()?;
        let secret_key = self.secret_key()?;
        let request = self
            .http
            .post(endpoint(&self.config.connect_base, "oauth/deauthorize"))
            .bearer_auth(secret_key)
            .form(&[("client_id", client_id), ("stripe_user_id", account_id)]);
        self.http.send(request).await?.success(&[secret_key])?;
        Ok(())
    }

    fn verify_webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<(), WebhookError> {
        let header = headers
            .get("stripe-signature")
            .ok_or(WebhookError::MissingSignature)?
            .to_str()
            .map_err(|_| WebhookError::MalformedSignature)?;
        verify_stripe_webhook(body, header, secret, now, STRIPE_WEBHOOK_TOLERANCE).map(|_| ())
    }

    fn webhook_delivery(
        &self,
        _headers: &HeaderMap,
        body: &[u8],
    ) -> Result<WebhookDelivery, WebhookError> {
        webhooks::delivery(body)
    }

    fn webhook_setup(&self) -> Option<WebhookSetup> {
        Some(webhooks::SETUP)
    }

    fn platform_webhook_secret(&self) -> Option<String> {
        self.config
            .platform_webhook_secret
            .as_ref()
            .map(|s| s.expose_secret().to_owned())
    }
}

/// The parsed `Stripe-Signature` header: `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`.
/// Several `v1` values appear while a webhook secret is being rolled; other
/// schemes (`v0`) are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeSignatureHeader {
    pub timestamp: i64,
    pub signatures: Vec<Vec<u8>>,
}

/// Parses a `Stripe-Signature` header.
pub fn parse_stripe_signature(header: &str) -> Result<StripeSignatureHeader, WebhookError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        let (key, value) = item
            .trim()
            .split_once('=')
            .ok_or(WebhookError::MalformedSignature)?;
        match key {
            "t" if timestamp.is_none() => {
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| WebhookError::MalformedSignature)?,
                );
            }
            "t" => return Err(WebhookError::MalformedSignature),
            // A v1 value that is not hex cannot match; skip it rather than fail, as
            // Stripe's own libraries do.
            "v1" => signatures.extend(hex::decode(value).ok()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(WebhookError::MalformedSignature)?;
    if signatures.is_empty() {
        return Err(WebhookError::MissingSignature);
    }
    Ok(StripeSignatureHeader {
        timestamp,
        signatures,
    })
}

/// Verifies a Stripe webhook: HMAC-SHA256 with the endpoint secret (`whsec_…`)
/// over `"{t}.{raw body}"`, compared in constant time with every `v1` signature,
/// and `t` within `tolerance` of `now` (either side). Returns the signed time.
pub fn verify_stripe_webhook(
    payload: &[u8],
    header: &str,
    secret: &str,
    now: DateTime<Utc>,
    tolerance: Duration,
) -> Result<DateTime<Utc>, WebhookError> {
    let parsed = parse_stripe_signature(header)?;
    let t = parsed.timestamp.to_string();
    let parts: [&[u8]; 3] = [t.as_bytes(), b".", payload];
    if !parsed
        .signatures
        .iter()
        .any(|sig| hmac_sha256_matches(secret.as_bytes(), &parts, sig))
    {
        return Err(WebhookError::BadSignature);
    }
    let signed_at =
        DateTime::from_timestamp(parsed.timestamp, 0).ok_or(WebhookError::MalformedSignature)?;
    let age = (now - signed_at).abs().to_std().unwrap_or(Duration::MAX);
    if age > tolerance {
        return Err(WebhookError::OutsideTolerance);
    }
    Ok(signed_at)
}

/// Builds a `Stripe-Signature` header the way Stripe does, for tests and the
/// simulator's webhook sender.
pub fn sign_stripe_webhook(payload: &[u8], secret: &str, timestamp: i64) -> String {
    let t = timestamp.to_string();
    let digest = hmac_sha256(secret.as_bytes(), &[t.as_bytes(), b".", payload]);
    format!("t={t},v1={}", hex::encode(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const BODY: &str = r#"{"id":"evt_1","object":"event"}"#;
    // HMAC-SHA256("whsec_test_secret", "1700000000." + BODY), computed independently
    // with Python's hmac module.
    const V1: &str = "0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd";

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    #[test]
    fn parses_signature_headers() {
        let parsed = parse_stripe_signature(&format!("t=1700000000,v1={V1},v0=abc,v1=zz")).unwrap();
        assert_eq!(parsed.timestamp, 1_700_000_000);
        assert_eq!(parsed.signatures, vec![hex::decode(V1).unwrap()]);
        for bad in ["", "t=1", "v1=00", "t=x,v1=00", "t=1,t=2,v1=00", "garbage"] {
            assert!(parse_stripe_signature(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn accepts_a_valid_signature_within_tolerance() {
        let header = format!("t=1700000000,v1={V1}");
        let tolerance = STRIPE_WEBHOOK_TOLERANCE;
        assert_eq!(
            verify_stripe_webhook(
                BODY.as_bytes(),
                &header,
                SECRET,
                at(1_700_000_000),
                tolerance
            ),
            Ok(at(1_700_000_000))
        );
        assert!(verify_stripe_webhook(
            BODY.as_bytes(),
            &header,
            SECRET,
            at(1_700_000_300),
            tolerance
        )
        .is_ok());
        // During a secret roll, one matching v1 among several is enough.
        let rolled = format!("t=1700000000,v1={},v1={V1}", "00".repeat(32));
        assert!(verify_stripe_webhook(
            BODY.as_bytes(),
            &rolled,
            SECRET,
            at(1_700_000_000),
            tolerance
        )
        .is_ok());
        assert_eq!(
            sign_stripe_webhook(BODY.as_bytes(), SECRET, 1_700_000_000),
            header
        );
    }

    #[test]
    fn refuses_tampering_wrong_secrets_and_replays() {
        let header = format!("t=1700000000,v1={V1}");
        let tolerance = STRIPE_WEBHOOK_TOLERANCE;
        let now = at(1_700_000_000);
        let tampered = BODY.replace("evt_1", "evt_2");
        assert_eq!(
            verify_stripe_webhook(tampered.as_bytes(), &header, SECRET, now, tolerance),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_stripe_webhook(BODY.as_bytes(), &header, "whsec_other", now, tolerance),
            Err(WebhookError::BadSignature)
        );
        // The timestamp is signed: moving it breaks the signature.
        let moved = format!("t=1700000999,v1={V1}");
        assert_eq!(
            verify_stripe_webhook(
                BODY.as_bytes(),
                &moved,
                SECRET,
                at(1_700_000_999),
                tolerance
            ),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_stripe_webhook(
                BODY.as_bytes(),
                &header,
                SECRET,
                at(1_700_000_301),
                tolerance
            ),
            Err(WebhookError::OutsideTolerance)
        );
        assert_eq!(
            verify_stripe_webhook(
                BODY.as_bytes(),
                &header,
                SECRET,
                at(1_699_999_699),
                tolerance
            ),
            Err(WebhookError::OutsideTolerance)
        );
    }

    #[test]
    fn verify_webhook_reads_the_header() {
        let provider =
            StripeProvider::new(&StripeConfig::default(), &HttpConfig::default()).unwrap();
        let mut headers = HeaderMap::new();
        assert_eq!(
            provider.verify_webhook(&headers, BODY.as_bytes(), SECRET, at(1_700_000_000)),
            Err(WebhookError::MissingSignature)
        );
        headers.insert(
            "Stripe-Signature",
            format!("t=1700000000,v1={V1}").parse().unwrap(),
        );
        assert!(provider
            .verify_webhook(&headers, BODY.as_bytes(), SECRET, at(1_700_000_000))
            .is_ok());
    }

    #[test]
    fn only_restricted_keys_pass_validation() {
        assert!(validate_stripe_key("rk_test_51Habcdefgh").is_ok());
        assert!(validate_stripe_key("rk_live_51Habcdefgh").is_ok());
        for bad in [
            "sk_test_51Habcdefgh",
            "sk_live_51Habcdefgh",
            "pk_test_51Habcdefgh",
            "rk_test_",
            "rk_test_short",
            "rk_prod_51Habcdefgh",
            "rk_test_51H abc def",
            "hello",
        ] {
            let err = validate_stripe_key(bad).unwrap_err();
            // A bare prefix is part of the help text; anything longer must not be echoed.
            assert!(
                bad == "rk_test_" || !err.to_string().contains(bad),
                "{err} echoes the key"
            );
        }
    }

    #[test]
    fn account_label_prefers_the_dashboard_name() {
        let account: Account = serde_json::from_value(serde_json::json!({
            "id": "acct_1", "business_profile": {"name": "Acme Inc."},
            "settings": {"dashboard": {"display_name": "Acme", "timezone": "Europe/Paris"}},
            "default_currency": "eur"
        }))
        .unwrap();
        let info = account.into_info(Some(false));
        assert_eq!(
            (info.label.as_str(), info.timezone.as_deref()),
            ("Acme", Some("Europe/Paris"))
        );
        let account: Account = serde_json::from_value(serde_json::json!({
            "id": "acct_1", "business_profile": {"name": "Acme Inc."}, "settings": {"dashboard": {"display_name": " "}}
        }))
        .unwrap();
        assert_eq!(account.into_info(None).label, "Acme Inc.");
        let account: Account = serde_json::from_value(serde_json::json!({"id": "acct_1"})).unwrap();
        assert_eq!(account.into_info(None).label, "acct_1");
    }
}

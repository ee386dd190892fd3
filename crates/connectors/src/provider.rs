//! The `Provider` trait every integration implements, the values that cross it,
//! (the `Registry` the server looks providers up in is in `registry.rs`).

use std::{collections::BTreeMap, fmt};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use secrecy::SecretString;
use serde::Serialize;
use url::Url;

use crate::{
    catalog::ProviderInfo,
    options::{check_declared, IntegrationOptions, OptionError},
    support::error::{redact, CallbackError, ConnectorError, OAuthError, WebhookError},
    sync::{Derive, Pull},
};

/// The account on the provider's side that a connection reads, named by the user
/// before an OAuth flow starts where the provider needs it: a Shopify shop domain, a
/// GA4 property, a PostHog project and host. Only the provider's
/// [`Provider::parse_account`] makes one, so a value is valid for its provider.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountRef(String);

impl AccountRef {
    /// Wraps a value the provider has validated and normalised.
    pub fn new_validated(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Input of [`Provider::authorize_url`].
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    /// The server-side CSRF state, echoed back on the callback.
    pub state: String,
    /// The exact callback URL registered with the provider.
    pub redirect_uri: Url,
    /// An `S256` PKCE challenge, used only by providers whose info says `pkce`.
    pub pkce_challenge: Option<String>,
    /// The account, required by providers whose info declares an `account` field.
    pub account: Option<AccountRef>,
}

/// Input of [`Provider::exchange_code`].
#[derive(Clone)]
pub struct CodeExchange {
    /// The authorization code from the callback.
    pub code: String,
    /// The same redirect URI as on the authorize URL.
    pub redirect_uri: Url,
    pub pkce_verifier: Option<String>,
    /// The (verified) account, for providers that declare one.
    pub account: Option<AccountRef>,
}

impl fmt::Debug for CodeExchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeExchange")
            .field("code", &"***")
            .field("redirect_uri", &self.redirect_uri.as_str())
            .field("pkce_verifier", &self.pkce_verifier.as_ref().map(|_| "***"))
            .field("account", &self.account)
            .finish()
    }
}

/// Tokens returned by a code exchange or a refresh. The secrets are wrapped so
/// they never appear in `Debug` output; call `expose_secret()` to store them.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    /// `None` for tokens that do not expire (Stripe Connect, Shopify offline tokens).
    pub expires_at: Option<DateTime<Utc>>,
    /// The scope the provider granted, as it spelled it.
    pub scope: Option<String>,
}

impl TokenSet {
    /// Tokens from an OAuth token response. A provider that does not rotate refresh
    /// tokens answers without one; `fallback_refresh` (the one just used) is kept then.
    pub(crate) fn from_grant(
        access_token: &str,
        refresh_token: Option<&str>,
        fallback_refresh: Option<&str>,
        expires_in: Option<i64>,
        scope: Option<String>,
    ) -> Self {
        Self {
            access_token: SecretString::from(access_token),
            refresh_token: refresh_token.or(fallback_refresh).map(SecretString::from),
            expires_at: expires_in.map(|secs| Utc::now() + chrono::Duration::seconds(secs)),
            scope,
        }
    }

    /// Whether the token should be refreshed now: it expires within `margin`
    /// (Pulseboard refreshes five minutes ahead).
    pub fn expires_within(&self, now: DateTime<Utc>, margin: chrono::Duration) -> bool {
        self.expires_at.is_some_and(|at| at <= now + margin)
    }
}

/// What a verified OAuth callback carries.
#[derive(Clone, PartialEq, Eq)]
pub struct CallbackParams {
    pub code: String,
    pub state: String,
    /// The account the callback is signed for (Shopify's shop).
    pub account: Option<AccountRef>,
}

impl fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackParams")
            .field("code", &"***")
            .field("state", &"***")
            .field("account", &self.account)
            .finish()
    }
}

/// The account on the provider's side a connection reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountInfo {
    /// Stripe's `acct_…` id or the shop domain: identifies the connection.
    pub id: String,
    /// What the UI calls the connection ("Acme Inc.").
    pub label: String,
    /// ISO 4217 code of the account's default currency, spelled as the provider
    /// spells it (Stripe lowercase, Shopify uppercase): compare case-insensitively.
    pub currency: Option<String>,
    /// IANA time zone of the account, when the provider reports one.
    pub timezone: Option<String>,
    /// Stripe's live/test mode; `None` where the notion does not exist.
    pub livemode: Option<bool>,
}

/// One account a user may pick after consent (a GA4 property).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountChoice {
    /// What `parse_account` accepts (the property's number).
    pub id: String,
    pub label: String,
    /// What it belongs to, for grouping (the GA4 account's name).
    pub group: Option<String>,
}

/// The result of a successful code exchange: the tokens and whose they are.
#[derive(Debug, Clone)]
pub struct Connected {
    pub tokens: TokenSet,
    pub account: AccountInfo,
}

/// One integration. Implementations hold their app credentials and HTTP client;
/// every method is a single attempt (wrap token calls in
/// [`with_backoff`](crate::with_backoff) where a retry is safe, e.g. `refresh`).
#[async_trait]
pub trait Provider: Pull + Derive + Send + Sync {
    /// Static description: auth kinds, key fields, metric catalog.
    fn info(&self) -> ProviderInfo;

    /// Validates and normalises the account a user named (`acme` →
    /// `acme.myshopify.com`). Providers that need none refuse every value.
    fn parse_account(&self, input: &str) -> Result<AccountRef, ConnectorError> {
        let _ = input;
        Err(ConnectorError::Unsupported {
            provider: self.info().id,
            what: "choosing an account before connecting",
        })
    }

    /// Validates and normalises an integration's options (the names of
    /// `info().options`), returning what the server stores and passes to every sync.
    /// The default checks their shape against the declared fields; providers with
    /// options check their meaning too.
    fn parse_options(&self, input: &IntegrationOptions) -> Result<IntegrationOptions, OptionError> {
        check_declared(&self.info().options, input)
    }

    /// The URL to send the user's browser to. Fails with `NotConfigured` when the
    /// app credentials are missing and `InvalidInput` when a shop is needed.
    /// Key-only providers (PostHog, Clarity) keep the default, which refuses.
    fn authorize_url(&self, req: &AuthorizeRequest) -> Result<Url, ConnectorError> {
        let _ = req;
        Err(ConnectorError::Unsupported {
            provider: self.info().id,
            what: "OAuth (it connects with keys)",
        })
    }

    /// Checks an OAuth callback's query (decoded pairs) and extracts the code. The
    /// default wants exactly one `code` and one `state`; Shopify also verifies the
    /// HMAC, the shop domain and the timestamp. Call [`oauth_callback_error`] first.
    /// The state must still be checked against the server-side record.
    fn verify_callback(
        &self,
        query_pairs: &[(String, String)],
        now: DateTime<Utc>,
    ) -> Result<CallbackParams, CallbackError> {
        let _ = now;
        let single = |name: &'static str| {
            let mut values = query_pairs.iter().filter(|(k, _)| k == name);
            match (values.next(), values.next()) {
                (Some((_, v)), None) if !v.is_empty() => Ok(v.clone()),
                (Some(_), Some(_)) => Err(CallbackError::DuplicateParam(name.into())),
                _ => Err(CallbackError::MissingParam(name)),
            }
        };
        Ok(CallbackParams {
            code: single("code")?,
            state: single("state")?,
            account: None,
        })
    }

    /// Exchanges the callback's code for tokens and looks up the account's label.
    /// The label lookup is best effort: if it fails, the account id stands in, so a
    /// freshly granted (single-use) code is never wasted.
    async fn exchange_code(&self, req: &CodeExchange) -> Result<Connected, OAuthError> {
        let _ = req;
        Err(OAuthError::Rejected(format!(
            "{} connects with keys, not OAuth",
            self.info().name
        )))
    }

    /// Uses a refresh token (`grant_type=refresh_token`). The returned set carries
    /// the new refresh token when the provider rotated it, else the one passed in.
    async fn refresh(
        &self,
        refresh_token: &str,
        account: Option<&AccountRef>,
    ) -> Result<TokenSet, OAuthError> {
        let _ = (refresh_token, account);
        Err(OAuthError::Rejected(format!(
            "{}'s keys are not refreshed",
            self.info().name
        )))
    }

    /// Validates user-supplied key fields (names from `info().api_key`) and returns
    /// the account they reach. Provider errors never contain the key.
    async fn test_api_key(
        &self,
        fields: &BTreeMap<String, String>,
    ) -> Result<AccountInfo, ConnectorError> {
        let _ = fields;
        Err(ConnectorError::Unsupported {
            provider: self.info().id,
            what: "API keys",
        })
    }

    /// The accounts the granted token can read, for providers whose info says
    /// `account_picker` (the user picks one after consent).
    async fn list_accounts(
        &self,
        access_token: &str,
    ) -> Result<Vec<AccountChoice>, ConnectorError> {
        let _ = access_token;
        Err(ConnectorError::Unsupported {
            provider: self.info().id,
            what: "picking an account after consent",
        })
    }

    /// The picked account's details, after checking the token can read it.
    async fn choose_account(
        &self,
        access_token: &str,
        account: &AccountRef,
    ) -> Result<AccountInfo, ConnectorError> {
        let _ = (access_token, account);
        Err(ConnectorError::Unsupported {
            provider: self.info().id,
            what: "picking an account after consent",
        })
    }

    /// Revokes the grant behind a token (Google revokes tokens, not accounts): given
    /// the stored refresh token, else the access token. The default does nothing.
    async fn revoke_grant(&self, token: &str) -> Result<(), ConnectorError> {
        let _ = token;
        Ok(())
    }

    /// Tells the provider to revoke an OAuth connection, where it has an endpoint
    /// for that (Stripe Connect's deauthorize). The default does nothing.
    async fn revoke(&self, account_id: &str) -> Result<(), ConnectorError> {
        let _ = account_id;
        Ok(())
    }

    /// Verifies an inbound webhook on its raw body with the endpoint's secret.
    fn verify_webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<(), WebhookError> {
        let _ = (headers, body, secret, now);
        Err(WebhookError::Unsupported(self.info().id))
    }

    /// What a delivery (already verified by [`Provider::verify_webhook`]) carries: its
    /// id for deduplication, and the objects in it as the raw records the sync stores
    /// for the same objects (same `object_type` and `external_id`), so one derivation
    /// serves both paths and a later sync replaces rather than adds.
    fn webhook_delivery(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<WebhookDelivery, WebhookError> {
        let _ = (headers, body);
        Err(WebhookError::Unsupported(self.info().id))
    }

    /// How a person sets up this provider's webhook: the events to subscribe to,
    /// the steps, and whether the signing secret is ours or the provider's. `None`:
    /// the provider sends no webhooks.
    fn webhook_setup(&self) -> Option<WebhookSetup> {
        None
    }

    /// The address of a stored object in the provider's own dashboard (a charge in
    /// Stripe, an order in Shopify's admin), for "show the records behind this
    /// number". `account_id` is the integration's account. `None` where unknown.
    fn record_url(
        &self,
        _account_id: &str,
        _object_type: &str,
        _external_id: &str,
    ) -> Option<String> {
        None
    }

    /// For providers that sign webhooks with the app's own secret
    /// ([`WebhookSecret::AppSecret`]): that secret, when this server has it.
    fn webhook_app_secret(&self) -> Option<String> {
        None
    }

    /// For platforms whose one endpoint receives every connected account's events
    /// (Stripe Connect), routed by [`WebhookDelivery::account`]: its signing secret,
    /// when configured.
    fn platform_webhook_secret(&self) -> Option<String> {
        None
    }
}

/// A verified webhook delivery, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookDelivery {
    /// The provider's id of this delivery or event (`evt_…`, `X-Shopify-Webhook-Id`):
    /// retries and replays carry the same one.
    pub event_id: String,
    /// `charge.succeeded`, `orders/create`, … (unknown types are kept, not refused).
    pub event_type: String,
    /// The connected account it concerns, when the payload names one (Stripe
    /// Connect's `account`), for platform endpoints that route by it.
    pub account: Option<String>,
    /// The objects it carries, as the sync would store them.
    pub records: Vec<crate::sync::RawRecord>,
    /// Money that moved, for the live pulse.
    pub revenue: Vec<RevenueMove>,
    /// The connection was revoked on the provider's side (Stripe
    /// `account.application.deauthorized`, Shopify `app/uninstalled`).
    pub revoked: bool,
    /// A privacy request (Shopify's mandatory compliance topics).
    pub redaction: Option<Redaction>,
}

/// What a privacy webhook asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redaction {
    /// Erase one customer's records and personal fields (by id and/or email).
    Customer {
        id: Option<String>,
        email: Option<String>,
    },
    /// The store's owner asked what is held about a customer: recorded for the
    /// organization's owners to answer.
    DataRequest { email: Option<String> },
    /// Erase everything held for the shop (sent after an uninstall).
    Shop,
}

/// One money movement a webhook announces (seed 002's `revenue_events`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevenueMove {
    /// Stable per source object (`charge/ch_…`, `order/123`): a replay or the later
    /// sync of the same object is the same move.
    pub source_id: String,
    pub kind: RevenueKind,
    /// Minor units; refunds are negative.
    pub amount_minor: i64,
    /// ISO 4217, upper case.
    pub currency: String,
    pub customer_email: Option<String>,
    pub occurred_at: DateTime<Utc>,
    /// The campaign that brought it: Stripe `metadata`, Shopify landing-site UTM or
    /// note attributes, LemonSqueezy/Paddle `custom_data`.
    pub campaign: Option<String>,
    /// `amount_minor` is the source's total so far, not one movement (LemonSqueezy
    /// reports an order's refunds as its cumulative `refunded_amount`): only what
    /// exceeds the amount already recorded for this source and kind counts, recorded
    /// under `{source_id}@{total}`, so a replay or an older total adds nothing.
    pub cumulative: bool,
    /// The `source_id` of the sale a refund takes back, when the delivery names it:
    /// a refund without a campaign of its own is shown under its sale's.
    pub reverses: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RevenueKind {
    Sale,
    Subscription,
    Renewal,
    Upsell,
    Refund,
}

impl RevenueKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sale => "sale",
            Self::Subscription => "subscription",
            Self::Renewal => "renewal",
            Self::Upsell => "upsell",
            Self::Refund => "refund",
        }
    }
}

/// How a webhook endpoint is set up on the provider's side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookSetup {
    /// Event types to subscribe to.
    pub events: &'static [&'static str],
    /// Step-by-step instructions, in order; `{url}` stands for the endpoint's URL.
    pub steps: &'static [&'static str],
    /// `Generated`: Pulseboard makes the signing secret and the user pastes it into
    /// the provider; `Pasted`: the provider makes it (Stripe's `whsec_…`) and the user
    /// pastes it here; the prefix checks what they paste.
    pub secret: WebhookSecret,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "source")]
pub enum WebhookSecret {
    Generated,
    Pasted {
        prefix: &'static str,
    },
    /// The app's own secret (Shopify signs with the app's client secret).
    AppSecret,
}

/// The refusal carried by an OAuth callback (`?error=access_denied&error_description=…`),
/// if any: `AccessDenied` when the user said no, `Rejected` for other errors.
/// Call it before looking for a `code`.
pub fn oauth_callback_error(query_pairs: &[(String, String)]) -> Option<OAuthError> {
    let get = |name: &str| {
        query_pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let error = get("error")?;
    let message = redact(get("error_description").unwrap_or(error), &[]);
    Some(match error {
        "access_denied" => OAuthError::AccessDenied(message),
        "invalid_grant" => OAuthError::InvalidGrant(message),
        _ => OAuthError::Rejected(message),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_errors_are_classified() {
        let query = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            oauth_callback_error(&query(&[
                ("error", "access_denied"),
                ("error_description", "The user denied your request"),
                ("state", "s")
            ])),
            Some(OAuthError::AccessDenied(
                "The user denied your request".into()
            ))
        );
        assert_eq!(
            oauth_callback_error(&query(&[("error", "invalid_scope")])),
            Some(OAuthError::Rejected("invalid_scope".into()))
        );
        assert_eq!(
            oauth_callback_error(&query(&[("code", "ac_1"), ("state", "s")])),
            None
        );
    }

    #[test]
    fn token_expiry_margin() {
        let now = Utc::now();
        let mut tokens = TokenSet {
            access_token: SecretString::from("at"),
            refresh_token: None,
            expires_at: Some(now + chrono::Duration::minutes(4)),
            scope: None,
        };
        assert!(tokens.expires_within(now, chrono::Duration::minutes(5)));
        tokens.expires_at = Some(now + chrono::Duration::minutes(6));
        assert!(!tokens.expires_within(now, chrono::Duration::minutes(5)));
        tokens.expires_at = None;
        assert!(!tokens.expires_within(now, chrono::Duration::minutes(5)));
    }

    #[test]
    fn debug_hides_codes_and_tokens() {
        let exchange = CodeExchange {
            code: "ac_secretcode".into(),
            redirect_uri: Url::parse("https://app.example/cb").unwrap(),
            pkce_verifier: Some("verifier-secret".into()),
            account: None,
        };
        let tokens = TokenSet {
            access_token: SecretString::from("sk_access_secret"),
            refresh_token: Some(SecretString::from("rt_refresh_secret")),
            expires_at: None,
            scope: Some("read_only".into()),
        };
        let debug = format!("{exchange:?} {tokens:?}");
        assert!(!debug.contains("secret"), "{debug}");
    }
}

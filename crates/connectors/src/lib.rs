//! Third-party API clients for Pulseboard: one [`Provider`] per integration,
//! the [`Registry`] that holds them, and the pure pieces around OAuth and
//! webhooks (signature checks, PKCE, shop domains, retries).
//!
//! This crate knows nothing of the web framework or the database: the server
//! stores what it returns and decides what to do with the errors, which are
//! classified for that ([`OAuthError::needs_reauthorization`], [`Retryable`]).
//! Every base URL comes from [`ProvidersConfig`], so tests and the demo run this
//! exact code against `pulseboard-simulator`.

mod backoff;
mod catalog;
mod config;
mod error;
mod http;
mod pkce;
mod provider;
mod shop_domain;
pub mod shopify;
mod signature;
pub mod stripe;
mod sync;

pub use backoff::{with_backoff, RetryHint, RetryPolicy, Retryable};
pub use catalog::{
    Aggregation, AuthKind, KeyField, MetricKind, MetricSpec, MetricUnit, ProviderInfo, Ratio,
    SHOPIFY_METRICS, STRIPE_METRICS,
};
pub use config::{HttpConfig, ProvidersConfig, ShopifyConfig, StripeConfig};
pub use error::{CallbackError, ConnectorError, OAuthError, WebhookError};
pub use pkce::{pkce_challenge, pkce_pair};
pub use provider::{
    oauth_callback_error, AccountInfo, AuthorizeRequest, CallbackParams, CodeExchange, Connected,
    Provider, Registry, TokenSet,
};
pub use shop_domain::ShopDomain;
pub use shopify::{
    sign_shopify_callback, verify_shopify_callback, verify_shopify_webhook, ShopifyProvider,
    VerifiedCallback, SHOPIFY_CALLBACK_TOLERANCE,
};
pub use stripe::{
    sign_stripe_webhook, validate_stripe_key, verify_stripe_webhook, StripeProvider,
    STRIPE_WEBHOOK_TOLERANCE,
};
pub use sync::{
    DimensionLabel, MetricEvent, RawRecord, SinkError, SyncError, SyncKind, SyncPage, SyncRequest,
    SyncSink, TokenSource,
};

/// Re-exported so callers can read tokens without naming `secrecy` themselves.
pub use secrecy::{ExposeSecret, SecretString};

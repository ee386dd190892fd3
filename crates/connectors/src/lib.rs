//! Third-party API clients for Pulseboard: one [`Provider`] per integration,
//! the [`Registry`] that holds them, and the pure pieces around OAuth and
//! webhooks (signature checks, PKCE, shop domains, retries).
//!
//! This crate knows nothing of the web framework or the database: the server
//! stores what it returns and decides what to do with the errors, which are
//! classified for that ([`OAuthError::needs_reauthorization`], [`Retryable`]).
//! Every base URL comes from a provider's settings in [`ProvidersConfig`], so tests and the demo run this
//! exact code against `pulseboard-simulator`.

// The shared vocabulary.
mod catalog;
mod config;
pub mod items;
pub mod options;
mod provider;
#[macro_use]
mod registry;
mod settings;
mod support;
mod sync;

// One folder per provider, and its name in this list, which declares its
// (public) module and puts its `PROVIDER` in `PROVIDERS` (see `registry.rs`).
providers!(
    stripe,
    shopify,
    clarity,
    ga4,
    posthog,
    lemonsqueezy,
    paddle,
    judgeme,
    knocommerce,
    intelligems,
    gorgias
);

pub use catalog::{
    joined, Aggregation, AuthKind, CallBudget, Definition, KeyField, MetricKind, MetricSpec,
    MetricUnit, OptionField, OptionKind, ProviderInfo, Ratio,
};
pub use config::{HttpConfig, ProvidersConfig};
pub use options::{IntegrationOptions, OptionError};
pub use provider::{
    oauth_callback_error, AccountChoice, AccountInfo, AccountRef, AuthorizeRequest, CallbackParams,
    CodeExchange, Connected, Provider, Redaction, RevenueKind, RevenueMove, TokenSet,
    WebhookDelivery, WebhookSecret, WebhookSetup,
};
pub use registry::{setting_vars, ProviderDef, Registry};
pub use settings::{Scoped, SettingSpec, Settings};
pub use shopify::{
    sign_shopify_callback, verify_shopify_callback, verify_shopify_webhook, ShopDomain,
    ShopifyConfig, ShopifyProvider, VerifiedCallback, SHOPIFY_CALLBACK_TOLERANCE, SHOPIFY_METRICS,
};
pub use stripe::{
    sign_stripe_webhook, validate_stripe_key, verify_stripe_webhook, StripeConfig, StripeProvider,
    STRIPE_METRICS, STRIPE_WEBHOOK_TOLERANCE,
};
pub use support::{
    backoff::{with_backoff, RetryHint, RetryPolicy, Retryable},
    error::{CallbackError, ConnectorError, OAuthError, WebhookError},
    pkce::{pkce_challenge, pkce_pair},
    sentiment::sentiment,
    signature::{sign_standard_webhook, verify_standard_webhook, STANDARD_WEBHOOKS_TOLERANCE},
};
pub use sync::{
    movements, Derivation, Derive, DimensionLabel, MetricEvent, Pull, RawRecord, SinkError,
    SourceTotal, Spend, SyncError, SyncKind, SyncPage, SyncRequest, SyncSink, TokenSource, ENTITY,
};

/// Re-exported so callers can read tokens without naming `secrecy` themselves.
pub use secrecy::{ExposeSecret, SecretString};

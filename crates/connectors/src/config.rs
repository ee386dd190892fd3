//! Configuration of the provider clients: the outgoing HTTP client and every
//! provider's settings (app credentials and base URLs, declared by each provider in
//! its own `config.rs`), so tests and the demo can point the real client code at the
//! simulator.

use std::time::Duration;

use crate::{settings::Settings, support::backoff::RetryPolicy};

/// Everything the provider registry needs. `Default` gives production URLs and no
/// app credentials (API-key connections still work; OAuth reports "not configured").
#[derive(Debug, Clone, Default)]
pub struct ProvidersConfig {
    pub http: HttpConfig,
    /// Every provider's settings by variable name (`PULSEBOARD_STRIPE_API_URL`).
    pub settings: Settings,
}

/// Settings of the outgoing HTTP client.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Whole-request timeout: a provider that hangs becomes `OAuthError::Transient`.
    pub timeout: Duration,
    /// `User-Agent` sent with every request.
    pub user_agent: String,
    /// Retries of the best-effort account lookup that follows a code exchange. The
    /// token calls themselves are not retried inside the providers: the caller
    /// wraps them in `with_backoff` where a retry is safe.
    pub lookup_retry: RetryPolicy,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(20),
            user_agent: concat!("Pulseboard/", env!("CARGO_PKG_VERSION")).to_owned(),
            lookup_retry: RetryPolicy {
                max_attempts: 3,
                ..RetryPolicy::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ShopifyConfig, StripeConfig};

    #[test]
    fn debug_output_never_shows_secrets() {
        let mut config = ProvidersConfig::default();
        config
            .settings
            .set("PULSEBOARD_STRIPE_SECRET_KEY", "sk_test_supersecret")
            .set("PULSEBOARD_SHOPIFY_API_SECRET", "shpss_supersecret");
        let stripe = StripeConfig::from_settings(
            config
                .settings
                .scoped("STRIPE", crate::stripe::config::SETTINGS),
        )
        .unwrap();
        let shopify = ShopifyConfig::from_settings(
            config
                .settings
                .scoped("SHOPIFY", crate::shopify::config::SETTINGS),
        )
        .unwrap();
        assert!(stripe.secret_key.is_some() && shopify.api_secret.is_some());
        let debug = format!("{config:?} {stripe:?} {shopify:?}");
        assert!(!debug.contains("supersecret"), "{debug}");
        assert!(debug.contains("connect.stripe.com"));
    }
}

//! Configuration of the provider clients: app credentials and every base URL,
//! so tests and the demo can point the real client code at the simulator.

use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use crate::backoff::RetryPolicy;

/// Everything the provider registry needs. `Default` gives production URLs and no
/// app credentials (API-key connections still work; OAuth reports "not configured").
#[derive(Debug, Clone, Default)]
pub struct ProvidersConfig {
    pub http: HttpConfig,
    pub stripe: StripeConfig,
    pub shopify: ShopifyConfig,
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

/// Stripe Connect app credentials and endpoints.
#[derive(Debug, Clone)]
pub struct StripeConfig {
    /// The Connect platform's client id (`ca_…`); OAuth is unavailable without it.
    pub client_id: Option<String>,
    /// The platform's secret key (`sk_…`), used as the OAuth `client_secret`.
    pub secret_key: Option<SecretString>,
    /// OAuth host, default `https://connect.stripe.com`.
    pub connect_base: Url,
    /// API host, default `https://api.stripe.com`.
    pub api_base: Url,
    /// The OAuth scope requested: `read_only` (Pulseboard never writes).
    pub scope: String,
}

impl Default for StripeConfig {
    fn default() -> Self {
        Self {
            client_id: None,
            secret_key: None,
            connect_base: Url::parse("https://connect.stripe.com").expect("static URL"),
            api_base: Url::parse("https://api.stripe.com").expect("static URL"),
            scope: "read_only".to_owned(),
        }
    }
}

/// Shopify app credentials and endpoints.
#[derive(Debug, Clone)]
pub struct ShopifyConfig {
    /// The app's API key (OAuth `client_id`).
    pub api_key: Option<String>,
    /// The app's API secret key: OAuth `client_secret`, and the key of callback and
    /// webhook HMACs.
    pub api_secret: Option<SecretString>,
    /// Base URL of a shop, with `{shop}` standing for the shop domain. Default
    /// `https://{shop}`; the simulator uses `http://127.0.0.1:PORT/shopify/{shop}`.
    pub shop_base_template: String,
    /// Admin API version, e.g. `2025-01`.
    pub api_version: String,
    /// OAuth scopes. `read_all_orders` matters: without it orders older than 60
    /// days silently vanish.
    pub scopes: Vec<String>,
}

impl Default for ShopifyConfig {
    fn default() -> Self {
        Self {
            api_key: None,
            api_secret: None,
            shop_base_template: "https://{shop}".to_owned(),
            api_version: "2025-01".to_owned(),
            scopes: [
                "read_orders",
                "read_all_orders",
                "read_products",
                "read_customers",
            ]
            .map(str::to_owned)
            .to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    #[test]
    fn debug_output_never_shows_secrets() {
        let config = ProvidersConfig {
            stripe: StripeConfig {
                secret_key: Some(SecretString::from("sk_test_supersecret")),
                ..StripeConfig::default()
            },
            shopify: ShopifyConfig {
                api_secret: Some(SecretString::from("shpss_supersecret")),
                ..ShopifyConfig::default()
            },
            ..ProvidersConfig::default()
        };
        let debug = format!("{config:?}");
        assert!(!debug.contains("supersecret"), "{debug}");
        assert!(debug.contains("connect.stripe.com"));
    }
}

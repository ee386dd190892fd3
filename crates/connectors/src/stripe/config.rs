//! Stripe's settings (`PULSEBOARD_STRIPE_…`) and the typed configuration built
//! from them.

use secrecy::SecretString;
use url::Url;

use crate::{
    settings::{Scoped, SettingSpec},
    ConnectorError,
};

/// What Stripe reads from the server's environment, as `PULSEBOARD_STRIPE_<NAME>`.
pub const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        name: "CLIENT_ID",
        help: "Stripe Connect platform client id (`ca_…`) for \"Connect with Stripe\"",
        secret: false,
        default: None,
    },
    SettingSpec {
        name: "SECRET_KEY",
        help: "Stripe platform secret key, the OAuth client secret",
        secret: true,
        default: None,
    },
    SettingSpec {
        name: "WEBHOOK_SECRET",
        help: "Signing secret (`whsec_…`) of the Connect platform's webhook endpoint, /api/webhooks/stripe/platform",
        secret: true,
        default: None,
    },
    SettingSpec {
        name: "CONNECT_URL",
        help: "Stripe OAuth host (override to point at the simulator)",
        secret: false,
        default: Some("https://connect.stripe.com"),
    },
    SettingSpec {
        name: "API_URL",
        help: "Stripe API host (override to point at the simulator)",
        secret: false,
        default: Some("https://api.stripe.com"),
    },
];

/// Stripe Connect app credentials and endpoints.
#[derive(Debug, Clone)]
pub struct StripeConfig {
    /// The Connect platform's client id (`ca_…`); OAuth is unavailable without it.
    pub client_id: Option<String>,
    /// The platform's secret key (`sk_…`), used as the OAuth `client_secret`.
    pub secret_key: Option<SecretString>,
    /// The Connect platform endpoint's signing secret (`whsec_…`): events of every
    /// connected account arrive there and are routed by their `account`.
    pub platform_webhook_secret: Option<SecretString>,
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
            platform_webhook_secret: None,
            connect_base: Url::parse("https://connect.stripe.com").expect("static URL"),
            api_base: Url::parse("https://api.stripe.com").expect("static URL"),
            scope: "read_only".to_owned(),
        }
    }
}

impl StripeConfig {
    /// The configuration the settings describe; a malformed URL names its variable.
    pub fn from_settings(settings: Scoped<'_>) -> Result<Self, ConnectorError> {
        Ok(Self {
            client_id: settings.get("CLIENT_ID").map(str::to_owned),
            secret_key: settings.get("SECRET_KEY").map(SecretString::from),
            platform_webhook_secret: settings.get("WEBHOOK_SECRET").map(SecretString::from),
            connect_base: settings.url("CONNECT_URL")?,
            api_base: settings.url("API_URL")?,
            ..Self::default()
        })
    }
}

//! Shopify's settings (`PULSEBOARD_SHOPIFY_…`) and the typed configuration built
//! from them.

use secrecy::SecretString;

use crate::{
    settings::{Scoped, SettingSpec},
    ConnectorError,
};

/// What Shopify reads from the server's environment, as `PULSEBOARD_SHOPIFY_<NAME>`.
pub const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        name: "API_KEY",
        help: "Shopify app API key (OAuth client id)",
        secret: false,
        default: None,
    },
    SettingSpec {
        name: "API_SECRET",
        help: "Shopify app API secret (OAuth client secret, callback and webhook HMAC key)",
        secret: true,
        default: None,
    },
    SettingSpec {
        name: "SHOP_URL",
        help: "A shop's base URL, `{shop}` standing for its domain (override to point at the simulator)",
        secret: false,
        default: Some("https://{shop}"),
    },
    SettingSpec {
        name: "API_VERSION",
        help: "Shopify Admin API version",
        secret: false,
        default: Some("2025-01"),
    },
];

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

impl ShopifyConfig {
    /// The configuration the settings describe; `ShopifyProvider::new` checks that
    /// the shop URL names `{shop}`.
    pub fn from_settings(settings: Scoped<'_>) -> Result<Self, ConnectorError> {
        let defaults = Self::default();
        Ok(Self {
            api_key: settings.get("API_KEY").map(str::to_owned),
            api_secret: settings.get("API_SECRET").map(SecretString::from),
            shop_base_template: settings
                .get("SHOP_URL")
                .map_or(defaults.shop_base_template.clone(), str::to_owned),
            api_version: settings
                .get("API_VERSION")
                .map_or(defaults.api_version.clone(), str::to_owned),
            ..defaults
        })
    }
}

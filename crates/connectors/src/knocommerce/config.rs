//! KnoCommerce's settings (`PULSEBOARD_KNOCOMMERCE_…`) and the typed configuration
//! built from them.

use url::Url;

use crate::{
    settings::{Scoped, SettingSpec},
    ConnectorError,
};

/// What KnoCommerce reads from the server's environment, as
/// `PULSEBOARD_KNOCOMMERCE_<NAME>`.
pub const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        name: "API_URL",
        help: "KnoCommerce REST API host (override to point at the simulator)",
        secret: false,
        default: Some("https://app-api.knocommerce.com"),
    },
    SettingSpec {
        name: "AUTH_URL",
        help: "KnoCommerce OAuth token host (override to point at the simulator)",
        secret: false,
        default: Some("https://api.knocommerce.com"),
    },
];

/// Where KnoCommerce's API and token endpoint are. API clients are the brands'
/// own: nothing else is configured.
#[derive(Debug, Clone)]
pub struct KnoCommerceConfig {
    /// Host of `/api/rest/…`, default `https://app-api.knocommerce.com`.
    pub api_base: Url,
    /// Host of `/api/oauth2/token`, default `https://api.knocommerce.com`.
    pub auth_base: Url,
}

impl Default for KnoCommerceConfig {
    fn default() -> Self {
        Self {
            api_base: Url::parse("https://app-api.knocommerce.com").expect("static URL"),
            auth_base: Url::parse("https://api.knocommerce.com").expect("static URL"),
        }
    }
}

impl KnoCommerceConfig {
    /// The configuration the settings describe; a malformed URL names its variable.
    pub fn from_settings(settings: Scoped<'_>) -> Result<Self, ConnectorError> {
        Ok(Self {
            api_base: settings.url("API_URL")?,
            auth_base: settings.url("AUTH_URL")?,
        })
    }
}

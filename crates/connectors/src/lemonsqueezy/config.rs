//! LemonSqueezy's settings (`PULSEBOARD_LEMONSQUEEZY_…`) and the typed configuration
//! built from them.

use url::Url;

use crate::{
    settings::{Scoped, SettingSpec},
    ConnectorError,
};

/// What LemonSqueezy reads from the server's environment, as
/// `PULSEBOARD_LEMONSQUEEZY_<NAME>`.
pub const SETTINGS: &[SettingSpec] = &[SettingSpec {
    name: "API_URL",
    help: "LemonSqueezy API host (override to point at the simulator)",
    secret: false,
    default: Some("https://api.lemonsqueezy.com"),
}];

/// Where LemonSqueezy's API is. Keys are the user's own: nothing else is configured.
#[derive(Debug, Clone)]
pub struct LemonSqueezyConfig {
    /// API host, default `https://api.lemonsqueezy.com`.
    pub api_base: Url,
}

impl Default for LemonSqueezyConfig {
    fn default() -> Self {
        Self {
            api_base: Url::parse("https://api.lemonsqueezy.com").expect("static URL"),
        }
    }
}

impl LemonSqueezyConfig {
    /// The configuration the settings describe; a malformed URL names its variable.
    pub fn from_settings(settings: Scoped<'_>) -> Result<Self, ConnectorError> {
        Ok(Self {
            api_base: settings.url("API_URL")?,
        })
    }
}

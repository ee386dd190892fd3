//! Intelligems' settings (`PULSEBOARD_INTELLIGEMS_…`) and the typed configuration
//! built from them.

use url::Url;

use crate::{
    settings::{Scoped, SettingSpec},
    ConnectorError,
};

/// What Intelligems reads from the server's environment, as
/// `PULSEBOARD_INTELLIGEMS_<NAME>`.
pub const SETTINGS: &[SettingSpec] = &[SettingSpec {
    name: "API_URL",
    help: "Intelligems external API base, version included (override to point at the simulator)",
    secret: false,
    default: Some("https://api.intelligems.io/v25-10-beta"),
}];

/// Where Intelligems' API is. Keys are the user's own: nothing else is configured.
#[derive(Debug, Clone)]
pub struct IntelligemsConfig {
    /// API base, default `https://api.intelligems.io/v25-10-beta`.
    pub api_base: Url,
}

impl Default for IntelligemsConfig {
    fn default() -> Self {
        Self {
            api_base: Url::parse("https://api.intelligems.io/v25-10-beta").expect("static URL"),
        }
    }
}

impl IntelligemsConfig {
    /// The configuration the settings describe; a malformed URL names its variable.
    pub fn from_settings(settings: Scoped<'_>) -> Result<Self, ConnectorError> {
        Ok(Self {
            api_base: settings.url("API_URL")?,
        })
    }
}

//! Judge.me's settings (`PULSEBOARD_JUDGEME_…`) and the typed configuration built
//! from them.

use url::Url;

use crate::{
    settings::{Scoped, SettingSpec},
    ConnectorError,
};

/// What Judge.me reads from the server's environment, as `PULSEBOARD_JUDGEME_<NAME>`.
pub const SETTINGS: &[SettingSpec] = &[SettingSpec {
    name: "API_URL",
    help: "Judge.me API host (override to point at the simulator)",
    secret: false,
    default: Some("https://judge.me"),
}];

/// Where Judge.me's API is. Tokens are the shops' own: nothing else is configured.
#[derive(Debug, Clone)]
pub struct JudgeMeConfig {
    /// API host, default `https://judge.me` (the API is under `/api/v1`).
    pub api_base: Url,
}

impl Default for JudgeMeConfig {
    fn default() -> Self {
        Self {
            api_base: Url::parse("https://judge.me").expect("static URL"),
        }
    }
}

impl JudgeMeConfig {
    /// The configuration the settings describe; a malformed URL names its variable.
    pub fn from_settings(settings: Scoped<'_>) -> Result<Self, ConnectorError> {
        Ok(Self {
            api_base: settings.url("API_URL")?,
        })
    }
}

//! Microsoft Clarity's settings (`PULSEBOARD_CLARITY_…`) and the typed
//! configuration built from them.

use url::Url;

use crate::{
    settings::{Scoped, SettingSpec},
    ConnectorError,
};

/// The number of Data Export API calls Clarity allows per project and day.
pub const CLARITY_DAILY_LIMIT: u32 = 10;

/// What Clarity reads from the server's environment, as `PULSEBOARD_CLARITY_<NAME>`.
pub const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        name: "API_URL",
        help: "Clarity Data Export API host (override to point at the simulator)",
        secret: false,
        default: Some("https://www.clarity.ms"),
    },
    SettingSpec {
        name: "DAILY_CALLS",
        help: "How many of a project's 10 daily Data Export calls Pulseboard may spend (1-10), \
               to leave some for other tools reading the same project",
        secret: false,
        default: Some("10"),
    },
];

/// Where the Data Export API is and how much of its quota Pulseboard uses.
#[derive(Debug, Clone)]
pub struct ClarityConfig {
    /// Host of the export API, default `https://www.clarity.ms`.
    pub api_base: Url,
    /// Calls per project and UTC day Pulseboard allows itself (at most Clarity's 10).
    pub daily_calls: u32,
}

impl Default for ClarityConfig {
    fn default() -> Self {
        Self {
            api_base: Url::parse("https://www.clarity.ms").expect("static URL"),
            daily_calls: CLARITY_DAILY_LIMIT,
        }
    }
}

impl ClarityConfig {
    /// The configuration the settings describe; a malformed value names its variable.
    pub fn from_settings(settings: Scoped<'_>) -> Result<Self, ConnectorError> {
        let raw = settings.get("DAILY_CALLS").unwrap_or("10");
        let daily_calls = raw
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=CLARITY_DAILY_LIMIT).contains(n))
            .ok_or_else(|| {
                ConnectorError::NotConfigured(format!(
                    "{} (a number of calls from 1 to {CLARITY_DAILY_LIMIT}: {raw:?})",
                    settings.var("DAILY_CALLS")
                ))
            })?;
        Ok(Self {
            api_base: settings.url("API_URL")?,
            daily_calls,
        })
    }
}

//! PostHog's settings (`PULSEBOARD_POSTHOG_…`) and the typed configuration built
//! from them.
//!
//! PostHog has no server-wide API base: every connection names its own host (US
//! cloud, EU cloud or a self-hosted instance), validated in `host.rs`. The one
//! setting decides whether loopback hosts are acceptable, which only the simulator
//! needs: in production a user-typed `http://127.0.0.1:…` would let anyone make the
//! server call its own internal services.

use crate::{
    settings::{Scoped, SettingSpec},
    ConnectorError,
};

/// What PostHog reads from the server's environment, as `PULSEBOARD_POSTHOG_<NAME>`.
pub const SETTINGS: &[SettingSpec] = &[SettingSpec {
    name: "ALLOW_LOOPBACK",
    help: "Accept PostHog hosts on the loopback interface (http://127.0.0.1:…, \
           http://localhost:…), for the simulator and local development only",
    secret: false,
    default: Some("false"),
}];

/// How PostHog connections are checked.
#[derive(Debug, Clone, Default)]
pub struct PosthogConfig {
    /// Whether a loopback host (plain `http` allowed, with a path prefix) is accepted.
    pub allow_loopback: bool,
}

impl PosthogConfig {
    /// The configuration the settings describe; a malformed value names its variable.
    pub fn from_settings(settings: Scoped<'_>) -> Result<Self, ConnectorError> {
        let raw = settings.get("ALLOW_LOOPBACK").unwrap_or("false");
        let allow_loopback = match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" | "" => false,
            _ => {
                return Err(ConnectorError::NotConfigured(format!(
                    "{} (expected true or false, got {raw:?})",
                    settings.var("ALLOW_LOOPBACK")
                )))
            }
        };
        Ok(Self { allow_loopback })
    }
}

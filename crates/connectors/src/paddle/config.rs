//! Paddle's settings (`PULSEBOARD_PADDLE_…`) and the typed configuration built from
//! them.

use url::Url;

use crate::{
    settings::{Scoped, SettingSpec},
    ConnectorError,
};

/// What Paddle reads from the server's environment, as `PULSEBOARD_PADDLE_<NAME>`.
pub const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        name: "API_URL",
        help: "Paddle Billing API host for live keys (override to point at the simulator)",
        secret: false,
        default: Some("https://api.paddle.com"),
    },
    SettingSpec {
        name: "SANDBOX_API_URL",
        help: "Paddle Billing API host for sandbox keys (pdl_sdbx_…; override to point at the simulator)",
        secret: false,
        default: Some("https://sandbox-api.paddle.com"),
    },
];

/// Where Paddle's API is, per environment. Keys are the user's own.
#[derive(Debug, Clone)]
pub struct PaddleConfig {
    /// Live host, default `https://api.paddle.com`.
    pub api_base: Url,
    /// Sandbox host, default `https://sandbox-api.paddle.com`.
    pub sandbox_api_base: Url,
}

impl Default for PaddleConfig {
    fn default() -> Self {
        Self {
            api_base: Url::parse("https://api.paddle.com").expect("static URL"),
            sandbox_api_base: Url::parse("https://sandbox-api.paddle.com").expect("static URL"),
        }
    }
}

impl PaddleConfig {
    /// The configuration the settings describe; a malformed URL names its variable.
    pub fn from_settings(settings: Scoped<'_>) -> Result<Self, ConnectorError> {
        Ok(Self {
            api_base: settings.url("API_URL")?,
            sandbox_api_base: settings.url("SANDBOX_API_URL")?,
        })
    }

    /// The host for an environment.
    pub fn base(&self, sandbox: bool) -> &Url {
        if sandbox {
            &self.sandbox_api_base
        } else {
            &self.api_base
        }
    }
}

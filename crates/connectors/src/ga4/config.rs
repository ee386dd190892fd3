//! Google Analytics 4's settings (`PULSEBOARD_GA4_…`) and the typed configuration
//! built from them.

use secrecy::SecretString;
use url::Url;

use crate::{
    settings::{Scoped, SettingSpec},
    ConnectorError,
};

/// What GA4 reads from the server's environment, as `PULSEBOARD_GA4_<NAME>`.
pub const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        name: "CLIENT_ID",
        help: "Google OAuth client id (`….apps.googleusercontent.com`) of a web application",
        secret: false,
        default: None,
    },
    SettingSpec {
        name: "CLIENT_SECRET",
        help: "Google OAuth client secret",
        secret: true,
        default: None,
    },
    SettingSpec {
        name: "AUTH_URL",
        help: "Google's authorization endpoint (override to point at the simulator)",
        secret: false,
        default: Some("https://accounts.google.com/o/oauth2/v2/auth"),
    },
    SettingSpec {
        name: "TOKEN_URL",
        help: "Google's token endpoint (override to point at the simulator)",
        secret: false,
        default: Some("https://oauth2.googleapis.com/token"),
    },
    SettingSpec {
        name: "REVOKE_URL",
        help: "Google's token revocation endpoint (override to point at the simulator)",
        secret: false,
        default: Some("https://oauth2.googleapis.com/revoke"),
    },
    SettingSpec {
        name: "ADMIN_API_URL",
        help: "Google Analytics Admin API host (override to point at the simulator)",
        secret: false,
        default: Some("https://analyticsadmin.googleapis.com"),
    },
    SettingSpec {
        name: "DATA_API_URL",
        help: "Google Analytics Data API host (override to point at the simulator)",
        secret: false,
        default: Some("https://analyticsdata.googleapis.com"),
    },
];

/// The read-only Analytics scope, the only one Pulseboard asks for.
pub const GA4_SCOPE: &str = "https://www.googleapis.com/auth/analytics.readonly";

/// Google OAuth app credentials and the endpoints GA4 uses.
#[derive(Debug, Clone)]
pub struct Ga4Config {
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    pub auth_url: Url,
    pub token_url: Url,
    pub revoke_url: Url,
    pub admin_base: Url,
    pub data_base: Url,
}

impl Default for Ga4Config {
    fn default() -> Self {
        let url = |s: &str| Url::parse(s).expect("static URL");
        Self {
            client_id: None,
            client_secret: None,
            auth_url: url("https://accounts.google.com/o/oauth2/v2/auth"),
            token_url: url("https://oauth2.googleapis.com/token"),
            revoke_url: url("https://oauth2.googleapis.com/revoke"),
            admin_base: url("https://analyticsadmin.googleapis.com"),
            data_base: url("https://analyticsdata.googleapis.com"),
        }
    }
}

impl Ga4Config {
    /// The configuration the settings describe; a malformed URL names its variable.
    pub fn from_settings(settings: Scoped<'_>) -> Result<Self, ConnectorError> {
        Ok(Self {
            client_id: settings.get("CLIENT_ID").map(str::to_owned),
            client_secret: settings.get("CLIENT_SECRET").map(SecretString::from),
            auth_url: settings.url("AUTH_URL")?,
            token_url: settings.url("TOKEN_URL")?,
            revoke_url: settings.url("REVOKE_URL")?,
            admin_base: settings.url("ADMIN_API_URL")?,
            data_base: settings.url("DATA_API_URL")?,
        })
    }
}

//! Gorgias' settings (`PULSEBOARD_GORGIAS_…`) and the typed configuration built
//! from them.

use crate::{
    settings::{Scoped, SettingSpec},
    ConnectorError,
};

/// What Gorgias reads from the server's environment, as `PULSEBOARD_GORGIAS_<NAME>`.
pub const SETTINGS: &[SettingSpec] = &[SettingSpec {
    name: "API_URL_TEMPLATE",
    help: "An account's REST API base, `{domain}` standing for its subdomain (override to point at the simulator)",
    secret: false,
    default: Some("https://{domain}.gorgias.com/api"),
}];

/// Where an account's API is.
#[derive(Debug, Clone)]
pub struct GorgiasConfig {
    /// `https://{domain}.gorgias.com/api`; the simulator's is
    /// `http://127.0.0.1:PORT/gorgias/{domain}/api`.
    pub api_template: String,
}

impl Default for GorgiasConfig {
    fn default() -> Self {
        Self {
            api_template: "https://{domain}.gorgias.com/api".to_owned(),
        }
    }
}

impl GorgiasConfig {
    /// The configuration the settings describe; a template without `{domain}` or
    /// that is not a URL names its variable.
    pub fn from_settings(settings: Scoped<'_>) -> Result<Self, ConnectorError> {
        let template = settings
            .get("API_URL_TEMPLATE")
            .unwrap_or("https://{domain}.gorgias.com/api")
            .trim()
            .to_owned();
        if !template.contains("{domain}") || url::Url::parse(&template.replace("{domain}", "x")).is_err() {
            return Err(ConnectorError::NotConfigured(format!(
                "{} (a URL with {{domain}} in it: {template:?})",
                settings.var("API_URL_TEMPLATE")
            )));
        }
        Ok(Self { api_template: template })
    }

    /// The API base of an account.
    pub fn api_base(&self, domain: &str) -> url::Url {
        url::Url::parse(&self.api_template.replace("{domain}", domain))
            .expect("a valid template with a validated subdomain")
    }
}

//! Server-side settings of the providers (app credentials, endpoint overrides),
//! declared by each provider and read generically.
//!
//! A provider lists its [`SettingSpec`]s; the server reads each from the
//! environment variable `PULSEBOARD_<PREFIX>_<NAME>` (`PULSEBOARD_STRIPE_CLIENT_ID`)
//! into [`Settings`], and the provider parses its own values when it is built. So a
//! new provider adds settings without a line in the server's configuration.

use std::{collections::BTreeMap, fmt};

use secrecy::{ExposeSecret, SecretString};

/// One setting a provider reads from the server's environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingSpec {
    /// Upper-case name after the provider's prefix (`CLIENT_ID`).
    pub name: &'static str,
    /// What it is, for `pulseboard --help` and the README.
    pub help: &'static str,
    /// Secret values are never printed (`Debug` shows `***`).
    pub secret: bool,
    /// The value when the variable is unset (production endpoints), if any.
    pub default: Option<&'static str>,
}

/// The environment variable of a provider's setting.
pub fn env_var(env_prefix: &str, setting: &SettingSpec) -> String {
    format!("PULSEBOARD_{env_prefix}_{}", setting.name)
}

/// Setting values by environment variable name (`PULSEBOARD_STRIPE_API_URL`). Values
/// are kept as secrets whatever they are, so `Debug` never shows one.
#[derive(Clone, Default)]
pub struct Settings {
    values: BTreeMap<String, SecretString>,
}

impl Settings {
    /// Sets a value by its full variable name (tests and the demo point providers at
    /// the simulator this way).
    pub fn set(&mut self, var: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.values
            .insert(var.into(), SecretString::from(value.into()));
        self
    }

    /// Removes a value, so the provider falls back to its default.
    pub fn unset(&mut self, var: &str) -> &mut Self {
        self.values.remove(var);
        self
    }

    /// Every given value with these names, read from the process environment
    /// (`lookup` is `std::env::var` outside tests).
    pub fn from_lookup<'a>(
        vars: impl IntoIterator<Item = String> + 'a,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let mut settings = Self::default();
        for var in vars {
            if let Some(value) = lookup(&var).filter(|v| !v.is_empty()) {
                settings.set(var, value);
            }
        }
        settings
    }

    /// A provider's view of these values: its own names without the prefix.
    pub fn scoped<'a>(&'a self, env_prefix: &'a str, specs: &'a [SettingSpec]) -> Scoped<'a> {
        Scoped {
            settings: self,
            env_prefix,
            specs,
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.values.keys()).finish()
    }
}

/// One provider's settings, by short name, with its declared defaults.
#[derive(Clone, Copy)]
pub struct Scoped<'a> {
    settings: &'a Settings,
    env_prefix: &'a str,
    specs: &'a [SettingSpec],
}

impl<'a> Scoped<'a> {
    /// The value of `name` (a name the provider declared), else its default.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        let spec = self.specs.iter().find(|s| s.name == name)?;
        self.settings
            .values
            .get(&env_var(self.env_prefix, spec))
            .map(|v| v.expose_secret())
            .or(spec.default)
    }

    /// The variable name of `name`, for error messages.
    pub fn var(&self, name: &str) -> String {
        format!("PULSEBOARD_{}_{name}", self.env_prefix)
    }

    /// The value of `name` parsed as a URL; the error names the variable.
    pub fn url(&self, name: &str) -> Result<url::Url, crate::ConnectorError> {
        let value = self.get(name).unwrap_or_default();
        url::Url::parse(value).map_err(|e| {
            crate::ConnectorError::NotConfigured(format!("{} ({e}: {value:?})", self.var(name)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[SettingSpec] = &[
        SettingSpec {
            name: "CLIENT_ID",
            help: "",
            secret: false,
            default: None,
        },
        SettingSpec {
            name: "API_URL",
            help: "",
            secret: false,
            default: Some("https://api.example"),
        },
        SettingSpec {
            name: "SECRET",
            help: "",
            secret: true,
            default: None,
        },
    ];

    #[test]
    fn values_are_read_by_variable_and_fall_back_to_defaults() {
        let vars = SPECS.iter().map(|s| env_var("ACME", s));
        let settings = Settings::from_lookup(vars, |var| match var {
            "PULSEBOARD_ACME_CLIENT_ID" => Some("ca_1".into()),
            "PULSEBOARD_ACME_SECRET" => Some("s3cr3t-value".into()),
            _ => None,
        });
        let acme = settings.scoped("ACME", SPECS);
        assert_eq!(acme.get("CLIENT_ID"), Some("ca_1"));
        assert_eq!(acme.get("API_URL"), Some("https://api.example"));
        assert_eq!(acme.get("UNDECLARED"), None);
        // Another provider's prefix does not see them.
        assert_eq!(settings.scoped("OTHER", SPECS).get("CLIENT_ID"), None);
        assert!(!format!("{settings:?}").contains("s3cr3t"));
    }

    #[test]
    fn bad_urls_name_their_variable() {
        let mut settings = Settings::default();
        settings.set("PULSEBOARD_ACME_API_URL", "not a url");
        let error = settings.scoped("ACME", SPECS).url("API_URL").unwrap_err();
        assert!(
            error.to_string().contains("PULSEBOARD_ACME_API_URL"),
            "{error}"
        );
    }
}

//! The providers this build offers: one name per provider in the
//! `providers!` list at the crate root, which makes [`PROVIDERS`], and the
//! [`Registry`] of configured instances the server looks them up in.

use std::{collections::BTreeMap, fmt, sync::Arc};

use crate::{
    catalog::ProviderInfo,
    config::{HttpConfig, ProvidersConfig},
    settings::{env_var, Scoped, SettingSpec},
    ConnectorError, Provider, PROVIDERS,
};

/// Builds a provider from its settings; fails when a setting is malformed.
pub type BuildProvider = fn(Scoped<'_>, &HttpConfig) -> Result<Arc<dyn Provider>, ConnectorError>;

/// What the server needs to know of a provider before it is built: where its
/// settings live and how to build it from them.
pub struct ProviderDef {
    /// The provider's id, as in its `info().id`.
    pub id: &'static str,
    /// Its settings are `PULSEBOARD_{env_prefix}_{name}`.
    pub env_prefix: &'static str,
    pub settings: &'static [SettingSpec],
    pub build: BuildProvider,
}

impl ProviderDef {
    /// The environment variables of this provider's settings, with their specs.
    pub fn setting_vars(&self) -> impl Iterator<Item = (String, &'static SettingSpec)> + '_ {
        self.settings
            .iter()
            .map(|s| (env_var(self.env_prefix, s), s))
    }
}

/// Declares the provider modules and [`PROVIDERS`]; invoked once, in
/// `lib.rs`, as `providers!(stripe, shopify);`.
///
/// Each name is a folder `src/<name>/` whose `mod.rs` has
/// `pub const PROVIDER: ProviderDef`. Adding a provider is that folder and its
/// name in the list.
macro_rules! providers {
    ($($provider:ident),+ $(,)?) => {
        $(pub mod $provider;)+

        /// Every built-in provider, in the order of the `providers!` list in
        /// `lib.rs`. Adding one is a folder in `src/` and its name in that list.
        pub const PROVIDERS: &[$crate::ProviderDef] = &[$($provider::PROVIDER),+];
    };
}

/// Every setting of every provider, as `(variable, spec)`.
pub fn setting_vars() -> impl Iterator<Item = (String, &'static SettingSpec)> {
    PROVIDERS.iter().flat_map(ProviderDef::setting_vars)
}

/// The providers this server offers, by id.
#[derive(Clone, Default)]
pub struct Registry {
    providers: BTreeMap<&'static str, Arc<dyn Provider>>,
}

impl Registry {
    /// All built-in providers, configured. Providers without app credentials are
    /// still registered (their info says `oauth_configured: false`).
    pub fn from_config(config: &ProvidersConfig) -> Result<Self, ConnectorError> {
        PROVIDERS.iter().try_fold(Self::default(), |registry, def| {
            let settings = config.settings.scoped(def.env_prefix, def.settings);
            Ok(registry.with((def.build)(settings, &config.http)?))
        })
    }

    /// Adds (or replaces) a provider under its `info().id`; tests use this to
    /// register fakes.
    pub fn with(mut self, provider: Arc<dyn Provider>) -> Self {
        self.providers.insert(provider.info().id, provider);
        self
    }

    /// The provider with this id.
    pub fn get(&self, id: &str) -> Option<Arc<dyn Provider>> {
        self.providers.get(id).cloned()
    }

    /// Every provider's info, ordered by id.
    pub fn infos(&self) -> Vec<ProviderInfo> {
        self.providers.values().map(|p| p.info()).collect()
    }

    /// Registered ids, ordered.
    pub fn ids(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.providers.keys().copied()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.providers.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_holds_the_built_in_providers() {
        let registry = Registry::from_config(&ProvidersConfig::default()).unwrap();
        let mut listed: Vec<&str> = PROVIDERS.iter().map(|def| def.id).collect();
        listed.sort_unstable();
        let ids: Vec<&str> = registry.ids().collect();
        assert_eq!(ids, listed, "every listed provider, ordered by id");
        assert!(ids.contains(&"shopify") && ids.contains(&"stripe"));
        let stripe = registry.get("stripe").unwrap().info();
        assert!(!stripe.oauth_configured);
        assert!(stripe.api_key.is_some());
        assert!(registry.get("nope").is_none());
        assert_eq!(format!("{registry:?}"), format!("{ids:?}"));
    }

    #[test]
    fn definitions_match_the_providers_they_build() {
        let config = ProvidersConfig::default();
        for def in PROVIDERS {
            let settings = config.settings.scoped(def.env_prefix, def.settings);
            let info = (def.build)(settings, &config.http).unwrap().info();
            assert_eq!(info.id, def.id);
            assert_eq!(info.env_prefix, def.env_prefix);
            assert!(info.default_cadence_minutes > 0, "{}", def.id);
        }
        let vars: Vec<_> = setting_vars().map(|(var, _)| var).collect();
        assert!(vars.contains(&"PULSEBOARD_STRIPE_CLIENT_ID".to_owned()));
        assert!(vars.contains(&"PULSEBOARD_SHOPIFY_SHOP_URL".to_owned()));
    }

    /// The catalog's definitions are what the info popover and `GET …/metrics/catalog`
    /// show: every metric of every provider has all four parts, and a money metric's
    /// formula says which currency its amounts are in.
    #[test]
    fn every_catalog_metric_has_a_written_definition() {
        let config = ProvidersConfig::default();
        let mut metrics = 0;
        for def in PROVIDERS {
            let settings = config.settings.scoped(def.env_prefix, def.settings);
            let info = (def.build)(settings, &config.http).unwrap().info();
            for metric in info.metrics {
                metrics += 1;
                let definition = &metric.definition;
                assert!(
                    definition.is_complete(),
                    "{}.{} lacks part of its definition: {definition:?}",
                    info.id,
                    metric.id
                );
                if metric.unit == crate::MetricUnit::CurrencyMinor {
                    assert!(
                        definition.formula.contains("currency"),
                        "{}.{}: a money metric's formula names its currency",
                        info.id,
                        metric.id
                    );
                }
            }
        }
        assert!(
            PROVIDERS.len() >= 11 && metrics >= 90,
            "{metrics} metrics checked"
        );
        assert!(!crate::Definition::default().is_complete());
    }

    #[tokio::test]
    async fn key_only_providers_refuse_oauth_without_writing_it() {
        let registry = Registry::from_config(&ProvidersConfig::default()).unwrap();
        let mut key_only = 0;
        for info in registry.infos() {
            if !matches!(info.auth, crate::AuthKind::ApiKey { .. }) {
                continue;
            }
            key_only += 1;
            let provider = registry.get(info.id).unwrap();
            let request = crate::AuthorizeRequest {
                state: "s".into(),
                redirect_uri: url::Url::parse("https://app.example/cb").unwrap(),
                pkce_challenge: None,
                account: None,
            };
            assert!(matches!(
                provider.authorize_url(&request),
                Err(ConnectorError::Unsupported { .. })
            ));
            let refreshed = provider.refresh("rt", None).await;
            assert!(
                matches!(refreshed, Err(crate::OAuthError::Rejected(_))),
                "{}",
                info.id
            );
        }
        assert!(key_only >= 2, "PostHog and Clarity connect with keys");
    }

    #[test]
    fn a_malformed_setting_stops_the_build_and_names_its_variable() {
        let mut config = ProvidersConfig::default();
        config.settings.set(
            "PULSEBOARD_SHOPIFY_SHOP_URL",
            "https://no-placeholder.example",
        );
        let error = Registry::from_config(&config).unwrap_err();
        assert!(error.to_string().contains("{shop}"), "{error}");
        config.settings.unset("PULSEBOARD_SHOPIFY_SHOP_URL");
        config
            .settings
            .set("PULSEBOARD_STRIPE_API_URL", "::not a url");
        let error = Registry::from_config(&config).unwrap_err();
        assert!(
            error.to_string().contains("PULSEBOARD_STRIPE_API_URL"),
            "{error}"
        );
    }
}

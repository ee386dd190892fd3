use std::{sync::Arc, time::Duration};

use pulseboard_connectors::{
    HttpConfig, Provider, ProvidersConfig, Registry, RetryPolicy, Settings, ShopifyConfig,
};
use pulseboard_simulator::{Simulator, SimulatorConfig, SimulatorHandle};
use reqwest::{header::LOCATION, StatusCode};
use url::Url;

/// A running simulator and a registry configured against it.
pub struct TestEnv {
    pub sim: SimulatorHandle,
    pub registry: Registry,
}

impl TestEnv {
    pub fn provider(&self, id: &str) -> Arc<dyn Provider> {
        self.registry.get(id).expect("registered provider")
    }
}

/// Starts a simulator with `sim_config` and builds providers pointing at it,
/// with a short client timeout so hangs are cheap to test.
pub async fn spawn_with(sim_config: SimulatorConfig) -> TestEnv {
    let sim = Simulator::start(sim_config)
        .await
        .expect("simulator starts");
    let config = providers_config(&sim);
    let registry = Registry::from_config(&config).expect("valid config");
    TestEnv { sim, registry }
}

pub async fn spawn() -> TestEnv {
    spawn_with(SimulatorConfig::default()).await
}

pub fn providers_config(sim: &SimulatorHandle) -> ProvidersConfig {
    ProvidersConfig {
        http: HttpConfig {
            // Short so hangs are cheap, but far above a debug build's slowest answer
            // on a loaded 2-core machine (300 ms timed out there).
            timeout: Duration::from_millis(1500),
            lookup_retry: fast_policy(),
            ..HttpConfig::default()
        },
        settings: sim_settings(sim),
    }
}

/// Settings that point every provider at the simulator, with its credentials.
pub fn sim_settings(sim: &SimulatorHandle) -> Settings {
    let mut settings = Settings::default();
    for (var, value) in pulseboard_simulator::connector_settings(&sim.base_url()) {
        settings.set(var, value);
    }
    settings
}

/// Shopify's typed configuration out of a providers configuration.
pub fn shopify_config(config: &ProvidersConfig) -> ShopifyConfig {
    ShopifyConfig::from_settings(
        config
            .settings
            .scoped("SHOPIFY", pulseboard_connectors::shopify::config::SETTINGS),
    )
    .unwrap()
}

/// Millisecond backoff so retry tests stay fast.
pub fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(2),
    }
}

pub fn redirect_uri(provider: &str) -> Url {
    Url::parse(&format!(
        "https://pulseboard.test/api/oauth/{provider}/callback"
    ))
    .unwrap()
}

/// Plays the browser on the consent screen: GETs the authorize URL and returns
/// where the provider redirects, without following it.
pub async fn follow_authorize(url: &Url) -> Url {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .get(url.clone())
        .send()
        .await
        .expect("authorize answers");
    assert_eq!(
        response.status(),
        StatusCode::FOUND,
        "authorize should redirect"
    );
    let location = response.headers()[LOCATION].to_str().unwrap();
    Url::parse(location).expect("absolute redirect")
}

pub fn query_pairs(url: &Url) -> Vec<(String, String)> {
    url.query_pairs().into_owned().collect()
}

pub fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

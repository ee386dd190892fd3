use pulseboard_simulator::{defaults, DataConfig, Simulator, SimulatorConfig, SimulatorHandle};
use reqwest::{header::HeaderMap, redirect::Policy, StatusCode};
use serde_json::{json, Value};

/// 2026-01-01T00:00:00Z: a fixed data clock, so runs are comparable.
pub const END: i64 = 1_767_225_600;
pub const DAY: i64 = 86_400;
pub const SHOP: &str = "acme.myshopify.com";
pub const ALL_SCOPES: &str = "read_orders,read_all_orders,read_products,read_customers";

pub fn config(history_days: u32) -> SimulatorConfig {
    SimulatorConfig {
        data: DataConfig {
            seed: 42,
            history_days,
            end: END,
            ..DataConfig::default()
        },
        ..SimulatorConfig::default()
    }
}

pub async fn start(config: SimulatorConfig) -> SimulatorHandle {
    Simulator::start(config).await.expect("simulator starts")
}

/// `GET {stripe}/{path}` with the default restricted key.
pub async fn stripe_get(sim: &SimulatorHandle, path: &str) -> (StatusCode, HeaderMap, Value) {
    stripe_get_as(sim, path, Some(defaults::STRIPE_RESTRICTED_KEY)).await
}

pub async fn stripe_get_as(
    sim: &SimulatorHandle,
    path: &str,
    key: Option<&str>,
) -> (StatusCode, HeaderMap, Value) {
    let mut request = reqwest::Client::new()
        .get(format!("{}/{path}", sim.stripe_api_base()))
        .header("Stripe-Account", defaults::STRIPE_ACCOUNT_ID);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.json().await.expect("json body"))
}

/// Every object of a Stripe list endpoint, walking `starting_after` pages of 100.
pub async fn stripe_walk(sim: &SimulatorHandle, path: &str, extra: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let after = cursor
            .as_ref()
            .map(|id| format!("&starting_after={id}"))
            .unwrap_or_default();
        let (status, _, page) = stripe_get(sim, &format!("{path}?limit=100{after}{extra}")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let data = page["data"].as_array().expect("data").clone();
        cursor = data.last().map(|o| o["id"].as_str().unwrap().to_owned());
        all.extend(data);
        if !page["has_more"].as_bool().unwrap() {
            return all;
        }
    }
}

/// Installs the app on `shop` with `scope` through the OAuth endpoints and
/// returns the access token.
pub async fn shopify_token(sim: &SimulatorHandle, shop: &str, scope: &str) -> String {
    let base = sim.shopify_shop_base_template().replace("{shop}", shop);
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let redirect = client
        .get(format!("{base}/admin/oauth/authorize"))
        .query(&[
            ("client_id", defaults::SHOPIFY_API_KEY),
            ("scope", scope),
            ("redirect_uri", "http://localhost/callback"),
            ("state", "s"),
        ])
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(redirect.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    let token: Value = client
        .post(format!("{base}/admin/oauth/access_token"))
        .json(&json!({
            "client_id": defaults::SHOPIFY_API_KEY,
            "client_secret": defaults::SHOPIFY_API_SECRET,
            "code": code,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    token["access_token"].as_str().unwrap().to_owned()
}

pub async fn graphql(
    sim: &SimulatorHandle,
    shop: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> (StatusCode, Value) {
    let base = sim.shopify_shop_base_template().replace("{shop}", shop);
    let response = reqwest::Client::new()
        .post(format!("{base}/admin/api/2025-01/graphql.json"))
        .header("X-Shopify-Access-Token", token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

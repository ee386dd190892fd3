use std::time::Duration;

use chrono::Utc;
use pulseboard_connectors::{
    oauth_callback_error, verify_shopify_callback, AuthorizeRequest, CallbackError, CodeExchange,
    ConnectorError, ExposeSecret, OAuthError, Provider, ShopDomain, ShopifyConfig, ShopifyProvider,
    VerifiedCallback, SHOPIFY_CALLBACK_TOLERANCE,
};
use pulseboard_simulator::{defaults, endpoints, SimulatorConfig};
use serde_json::json;

use crate::helpers::{
    follow_authorize, param, providers_config, query_pairs, redirect_uri, shopify_config, spawn,
    spawn_with, TestEnv,
};

fn shop() -> ShopDomain {
    ShopDomain::parse("acme-store.myshopify.com").unwrap()
}

fn authorize(shop: &ShopDomain) -> AuthorizeRequest {
    AuthorizeRequest {
        state: "nonce-42".into(),
        redirect_uri: redirect_uri("shopify"),
        pkce_challenge: None,
        account: Some(shop.clone().into()),
    }
}

/// Authorize, follow the simulator's redirect and verify the signed callback.
async fn install(env: &TestEnv, shop: &ShopDomain) -> VerifiedCallback {
    let url = env
        .provider("shopify")
        .authorize_url(&authorize(shop))
        .unwrap();
    let callback = follow_authorize(&url).await;
    verify_shopify_callback(
        &query_pairs(&callback),
        defaults::SHOPIFY_API_SECRET,
        Utc::now(),
        SHOPIFY_CALLBACK_TOLERANCE,
    )
    .expect("the simulator signs callbacks like Shopify")
}

fn exchange(callback: &VerifiedCallback) -> CodeExchange {
    CodeExchange {
        code: callback.code.clone(),
        redirect_uri: redirect_uri("shopify"),
        pkce_verifier: None,
        account: Some(callback.shop.clone().into()),
    }
}

#[tokio::test]
async fn oauth_install_verifies_the_callback_and_names_the_shop() {
    let env = spawn().await;
    let url = env
        .provider("shopify")
        .authorize_url(&authorize(&shop()))
        .unwrap();
    assert!(url.as_str().starts_with(&format!(
        "{}/shopify/acme-store.myshopify.com/admin/oauth/authorize?",
        env.sim.base_url()
    )));
    assert_eq!(
        param(&url, "scope").as_deref(),
        Some("read_orders,read_all_orders,read_products,read_customers")
    );

    let callback = install(&env, &shop()).await;
    assert_eq!(callback.shop, shop());
    assert_eq!(callback.state, "nonce-42");
    let connected = env
        .provider("shopify")
        .exchange_code(&exchange(&callback))
        .await
        .unwrap();

    assert_eq!(connected.account.id, "acme-store.myshopify.com");
    assert_eq!(connected.account.label, "Acme Store");
    assert_eq!(connected.account.currency.as_deref(), Some("USD"));
    assert_eq!(
        connected.account.timezone.as_deref(),
        Some("America/New_York")
    );
    assert!(connected
        .tokens
        .access_token
        .expose_secret()
        .starts_with("shpat_"));
    assert!(connected.tokens.refresh_token.is_none());
    assert_eq!(
        connected.tokens.scope.as_deref(),
        Some("read_orders,read_all_orders,read_products,read_customers")
    );
    assert_eq!(env.sim.calls(endpoints::SHOPIFY_TOKEN), 1);
    assert_eq!(env.sim.calls(endpoints::SHOPIFY_GRAPHQL), 1);
}

#[tokio::test]
async fn a_tampered_callback_is_refused() {
    let env = spawn().await;
    let url = env
        .provider("shopify")
        .authorize_url(&authorize(&shop()))
        .unwrap();
    let callback = follow_authorize(&url).await;
    let secret = defaults::SHOPIFY_API_SECRET;

    let mut other_shop = query_pairs(&callback);
    for (k, v) in &mut other_shop {
        if k == "shop" {
            *v = "victim.myshopify.com".into();
        }
    }
    let wrong_secret = verify_shopify_callback(
        &query_pairs(&callback),
        "another-apps-secret",
        Utc::now(),
        SHOPIFY_CALLBACK_TOLERANCE,
    );
    let later = Utc::now() + chrono::Duration::minutes(11);

    assert_eq!(
        verify_shopify_callback(&other_shop, secret, Utc::now(), SHOPIFY_CALLBACK_TOLERANCE),
        Err(CallbackError::BadSignature)
    );
    assert_eq!(wrong_secret, Err(CallbackError::BadSignature));
    assert_eq!(
        verify_shopify_callback(
            &query_pairs(&callback),
            secret,
            later,
            SHOPIFY_CALLBACK_TOLERANCE
        ),
        Err(CallbackError::Stale)
    );
}

#[tokio::test]
async fn a_code_only_works_for_its_own_shop() {
    let env = spawn().await;
    let callback = install(&env, &shop()).await;
    let mut elsewhere = exchange(&callback);
    elsewhere.account = Some(
        ShopDomain::parse("other-store.myshopify.com")
            .unwrap()
            .into(),
    );

    let err = env
        .provider("shopify")
        .exchange_code(&elsewhere)
        .await
        .unwrap_err();

    assert!(matches!(err, OAuthError::Rejected(_)), "{err:?}");
    assert!(!err.to_string().contains(&callback.code));
}

#[tokio::test]
async fn consent_denied_comes_back_as_access_denied() {
    let env = spawn().await;
    env.sim.deny_consent(endpoints::SHOPIFY_AUTHORIZE);
    let url = env
        .provider("shopify")
        .authorize_url(&authorize(&shop()))
        .unwrap();

    let callback = follow_authorize(&url).await;

    let err = oauth_callback_error(&query_pairs(&callback)).expect("an error");
    assert!(matches!(err, OAuthError::AccessDenied(_)), "{err:?}");
    assert_eq!(param(&callback, "state").as_deref(), Some("nonce-42"));
    assert_eq!(env.sim.calls(endpoints::SHOPIFY_TOKEN), 0);
}

#[tokio::test]
async fn authorize_needs_a_shop_and_credentials() {
    let env = spawn().await;
    let mut request = authorize(&shop());
    request.account = None;
    let err = env.provider("shopify").authorize_url(&request).unwrap_err();
    assert!(matches!(err, ConnectorError::InvalidInput(_)), "{err:?}");

    let config = providers_config(&env.sim);
    let unconfigured = ShopifyProvider::new(&ShopifyConfig::default(), &config.http).unwrap();
    assert!(!unconfigured.info().oauth_configured);
    assert!(matches!(
        unconfigured.authorize_url(&authorize(&shop())),
        Err(ConnectorError::NotConfigured(_))
    ));
}

#[tokio::test]
async fn expiring_tokens_refresh_and_rotate() {
    let env = spawn_with(SimulatorConfig {
        token_lifetime: Some(Duration::from_secs(3600)),
        ..SimulatorConfig::default()
    })
    .await;
    let shopify = env.provider("shopify");
    let callback = install(&env, &shop()).await;
    let connected = shopify.exchange_code(&exchange(&callback)).await.unwrap();
    assert!(connected.tokens.expires_at.is_some());
    let first = connected
        .tokens
        .refresh_token
        .expect("a refresh token")
        .expose_secret()
        .to_owned();

    let refreshed = shopify.refresh(&first, Some(&shop().into())).await.unwrap();

    let second = refreshed.refresh_token.unwrap().expose_secret().to_owned();
    assert_ne!(first, second);
    let err = shopify
        .refresh(&first, Some(&shop().into()))
        .await
        .unwrap_err();
    assert!(matches!(err, OAuthError::InvalidGrant(_)), "{err:?}");
    let missing_shop = shopify.refresh(&second, None).await.unwrap_err();
    assert!(matches!(missing_shop, OAuthError::Rejected(_)));
    // The refreshed access token works against the Admin API.
    let provider = ShopifyProvider::new(
        &shopify_config(&providers_config(&env.sim)),
        &providers_config(&env.sim).http,
    )
    .unwrap();
    let data = provider
        .graphql(
            &shop(),
            refreshed.access_token.expose_secret(),
            "{ shop { name } }",
            json!({}),
        )
        .await
        .unwrap();
    assert_eq!(data["shop"]["name"], "Acme Store");
}

#[tokio::test]
async fn scripted_invalid_grant_on_shopify_token() {
    let env = spawn().await;
    let callback = install(&env, &shop()).await;
    env.sim.invalid_grant(endpoints::SHOPIFY_TOKEN, 1);

    let err = env
        .provider("shopify")
        .exchange_code(&exchange(&callback))
        .await
        .unwrap_err();

    assert!(err.needs_reauthorization(), "{err:?}");
}

#[tokio::test]
async fn graphql_rejects_unknown_tokens() {
    let env = spawn().await;
    let config = providers_config(&env.sim);
    let provider = ShopifyProvider::new(&shopify_config(&config), &config.http).unwrap();

    let err = provider
        .graphql(
            &shop(),
            "shpat_not_a_real_token",
            "{ shop { name } }",
            json!({}),
        )
        .await
        .unwrap_err();

    assert!(matches!(err, ConnectorError::Unauthorized(_)), "{err:?}");
    assert!(!err.to_string().contains("not_a_real_token"));
}

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use pulseboard_connectors::{
    oauth_callback_error, with_backoff, AuthorizeRequest, CodeExchange, Connected, ConnectorError,
    ExposeSecret, OAuthError,
};
use pulseboard_simulator::{defaults, endpoints, SimulatorConfig};

use crate::helpers::{
    fast_policy, follow_authorize, param, query_pairs, redirect_uri, spawn, spawn_with, TestEnv,
};

/// Runs the browser part and the code exchange.
async fn connect(env: &TestEnv) -> Connected {
    let stripe = env.provider("stripe");
    let url = stripe
        .authorize_url(&AuthorizeRequest {
            state: "state-123".into(),
            redirect_uri: redirect_uri("stripe"),
            pkce_challenge: None,
            account: None,
        })
        .unwrap();
    let callback = follow_authorize(&url).await;
    assert_eq!(param(&callback, "state").as_deref(), Some("state-123"));
    let code = param(&callback, "code").expect("a code on the callback");
    stripe
        .exchange_code(&CodeExchange {
            code,
            redirect_uri: redirect_uri("stripe"),
            pkce_verifier: None,
            account: None,
        })
        .await
        .expect("code exchange")
}

fn api_key(key: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("api_key".to_owned(), key.to_owned())])
}

#[tokio::test]
async fn oauth_connects_and_labels_the_account() {
    let env = spawn().await;
    let url = env
        .provider("stripe")
        .authorize_url(&AuthorizeRequest {
            state: "s".into(),
            redirect_uri: redirect_uri("stripe"),
            pkce_challenge: None,
            account: None,
        })
        .unwrap();
    assert!(url.as_str().starts_with(&format!(
        "{}/oauth/authorize?",
        env.sim.stripe_connect_base()
    )));
    assert_eq!(param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(param(&url, "scope").as_deref(), Some("read_only"));
    assert_eq!(
        param(&url, "client_id").as_deref(),
        Some(defaults::STRIPE_CLIENT_ID)
    );

    let connected = connect(&env).await;

    assert_eq!(connected.account.id, defaults::STRIPE_ACCOUNT_ID);
    assert_eq!(connected.account.label, "Acme Analytics");
    assert_eq!(connected.account.currency.as_deref(), Some("usd"));
    assert_eq!(connected.account.livemode, Some(false));
    assert!(connected
        .tokens
        .access_token
        .expose_secret()
        .starts_with("sk_test_"));
    assert!(connected.tokens.refresh_token.is_some());
    assert_eq!(connected.tokens.expires_at, None);
    assert_eq!(connected.tokens.scope.as_deref(), Some("read_only"));
    assert_eq!(env.sim.calls(endpoints::STRIPE_TOKEN), 1);
    assert_eq!(env.sim.calls(endpoints::STRIPE_ACCOUNT), 1);
}

#[tokio::test]
async fn codes_are_single_use_and_errors_do_not_echo_them() {
    let env = spawn().await;
    let stripe = env.provider("stripe");
    let url = stripe
        .authorize_url(&AuthorizeRequest {
            state: "s".into(),
            redirect_uri: redirect_uri("stripe"),
            pkce_challenge: None,
            account: None,
        })
        .unwrap();
    let code = param(&follow_authorize(&url).await, "code").unwrap();
    let exchange = CodeExchange {
        code: code.clone(),
        redirect_uri: redirect_uri("stripe"),
        pkce_verifier: None,
        account: None,
    };
    stripe.exchange_code(&exchange).await.unwrap();

    let err = stripe.exchange_code(&exchange).await.unwrap_err();

    assert!(matches!(err, OAuthError::InvalidGrant(_)), "{err:?}");
    assert!(!err.to_string().contains(&code), "{err}");
    assert!(!format!("{err:?}").contains(&code[3..]), "{err:?}");
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token() {
    let env = spawn_with(SimulatorConfig {
        token_lifetime: Some(Duration::from_secs(3600)),
        ..SimulatorConfig::default()
    })
    .await;
    let stripe = env.provider("stripe");
    let connected = connect(&env).await;
    let expires_at = connected.tokens.expires_at.expect("expiring token");
    assert!(expires_at > chrono::Utc::now() + chrono::Duration::minutes(59));
    let first = connected
        .tokens
        .refresh_token
        .unwrap()
        .expose_secret()
        .to_owned();

    let refreshed = stripe.refresh(&first, None).await.unwrap();

    let second = refreshed.refresh_token.unwrap().expose_secret().to_owned();
    assert_ne!(first, second);
    assert_ne!(
        refreshed.access_token.expose_secret(),
        connected.tokens.access_token.expose_secret()
    );
    assert!(refreshed.expires_at.is_some());
    let reused = stripe.refresh(&first, None).await.unwrap_err();
    assert!(reused.needs_reauthorization(), "{reused:?}");
    assert!(stripe.refresh(&second, None).await.is_ok());
}

#[tokio::test]
async fn invalid_grant_is_classified_and_never_retried() {
    let env = spawn().await;
    let stripe = env.provider("stripe");
    let refresh = connect(&env).await.tokens.refresh_token.unwrap();
    env.sim.reset_calls();
    env.sim.invalid_grant(endpoints::STRIPE_TOKEN, 1);

    let err = with_backoff(&fast_policy(), || {
        stripe.refresh(refresh.expose_secret(), None)
    })
    .await
    .unwrap_err();

    assert!(matches!(err, OAuthError::InvalidGrant(_)), "{err:?}");
    assert!(err.needs_reauthorization());
    assert_eq!(env.sim.calls(endpoints::STRIPE_TOKEN), 1);
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff() {
    let env = spawn().await;
    let stripe = env.provider("stripe");
    let refresh = connect(&env).await.tokens.refresh_token.unwrap();
    env.sim.reset_calls();
    env.sim.fail(endpoints::STRIPE_TOKEN, 2);

    let tokens = with_backoff(&fast_policy(), || {
        stripe.refresh(refresh.expose_secret(), None)
    })
    .await;

    assert!(tokens.is_ok(), "{tokens:?}");
    assert_eq!(env.sim.calls(endpoints::STRIPE_TOKEN), 3);
}

#[tokio::test]
async fn server_errors_give_up_after_the_last_attempt() {
    let env = spawn().await;
    let stripe = env.provider("stripe");
    env.sim.fail(endpoints::STRIPE_TOKEN, 10);

    let err = with_backoff(&fast_policy(), || stripe.refresh("rt_whatever", None))
        .await
        .unwrap_err();

    assert!(matches!(err, OAuthError::Transient(_)), "{err:?}");
    assert_eq!(
        env.sim.calls(endpoints::STRIPE_TOKEN),
        fast_policy().max_attempts as usize
    );
}

#[tokio::test]
async fn rate_limits_honour_retry_after() {
    let env = spawn().await;
    let stripe = env.provider("stripe");
    let refresh = connect(&env).await.tokens.refresh_token.unwrap();
    env.sim.reset_calls();
    env.sim
        .rate_limit(endpoints::STRIPE_TOKEN, 1, Duration::from_secs(1));
    let started = Instant::now();

    let tokens = with_backoff(&fast_policy(), || {
        stripe.refresh(refresh.expose_secret(), None)
    })
    .await;

    assert!(tokens.is_ok(), "{tokens:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retried before Retry-After"
    );
    assert_eq!(env.sim.calls(endpoints::STRIPE_TOKEN), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_policy_is_handed_back() {
    let env = spawn().await;
    let stripe = env.provider("stripe");
    env.sim
        .rate_limit(endpoints::STRIPE_TOKEN, 1, Duration::from_secs(60));

    let err = with_backoff(&fast_policy(), || stripe.refresh("rt_x", None))
        .await
        .unwrap_err();

    assert_eq!(err, OAuthError::rate_limited(Some(Duration::from_secs(60))));
    assert_eq!(env.sim.calls(endpoints::STRIPE_TOKEN), 1);
}

#[tokio::test]
async fn a_hanging_provider_becomes_transient() {
    let env = spawn().await;
    let stripe = env.provider("stripe");
    env.sim
        .hang(endpoints::STRIPE_TOKEN, 1, Duration::from_secs(3));
    let started = Instant::now();

    let err = stripe.refresh("rt_x", None).await.unwrap_err();

    assert!(matches!(err, OAuthError::Transient(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_failing_account_lookup_does_not_waste_the_code() {
    let env = spawn().await;
    env.sim.fail(endpoints::STRIPE_ACCOUNT, 10);

    let connected = connect(&env).await;

    assert_eq!(connected.account.id, defaults::STRIPE_ACCOUNT_ID);
    assert_eq!(connected.account.label, defaults::STRIPE_ACCOUNT_ID);
    assert_eq!(
        env.sim.calls(endpoints::STRIPE_ACCOUNT),
        fast_policy().max_attempts as usize
    );
}

#[tokio::test]
async fn consent_denied_comes_back_as_access_denied() {
    let env = spawn().await;
    env.sim.deny_consent(endpoints::STRIPE_AUTHORIZE);
    let url = env
        .provider("stripe")
        .authorize_url(&AuthorizeRequest {
            state: "state-9".into(),
            redirect_uri: redirect_uri("stripe"),
            pkce_challenge: None,
            account: None,
        })
        .unwrap();

    let callback = follow_authorize(&url).await;

    assert_eq!(param(&callback, "code"), None);
    assert_eq!(param(&callback, "state").as_deref(), Some("state-9"));
    let err = oauth_callback_error(&query_pairs(&callback)).expect("an error");
    assert!(matches!(err, OAuthError::AccessDenied(_)), "{err:?}");
    assert_eq!(env.sim.calls(endpoints::STRIPE_TOKEN), 0);
}

#[tokio::test]
async fn restricted_key_is_accepted() {
    let env = spawn().await;

    let account = env
        .provider("stripe")
        .test_api_key(&api_key(defaults::STRIPE_RESTRICTED_KEY))
        .await
        .unwrap();

    assert_eq!(account.id, defaults::STRIPE_ACCOUNT_ID);
    assert_eq!(account.label, "Acme Analytics");
    assert_eq!(account.livemode, Some(false));
}

#[tokio::test]
async fn unknown_restricted_key_is_refused_without_echoing_it() {
    let env = spawn().await;
    let key = "rk_test_51UnknownKeyAbcd9876";

    let err = env
        .provider("stripe")
        .test_api_key(&api_key(key))
        .await
        .unwrap_err();

    assert!(matches!(err, ConnectorError::Unauthorized(_)), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("Invalid API Key provided"), "{shown}");
    assert!(!shown.contains("51UnknownKey"), "{shown}");
    assert!(!shown.contains("9876"), "{shown}");
}

#[tokio::test]
async fn secret_keys_are_refused_before_any_call() {
    let env = spawn().await;
    let stripe = env.provider("stripe");

    let err = stripe
        .test_api_key(&api_key("sk_live_51FullAccessKey123"))
        .await
        .unwrap_err();
    let empty = stripe.test_api_key(&BTreeMap::new()).await.unwrap_err();

    assert!(matches!(err, ConnectorError::InvalidInput(_)), "{err:?}");
    assert!(err.to_string().contains("restricted key"), "{err}");
    assert!(matches!(empty, ConnectorError::InvalidInput(_)));
    assert_eq!(env.sim.calls(endpoints::STRIPE_ACCOUNT), 0);
}

#[tokio::test]
async fn revoking_disconnects_the_account() {
    let env = spawn().await;
    let stripe = env.provider("stripe");
    let connected = connect(&env).await;
    let refresh = connected.tokens.refresh_token.unwrap();

    stripe.revoke(&connected.account.id).await.unwrap();

    assert_eq!(env.sim.calls(endpoints::STRIPE_DEAUTHORIZE), 1);
    let err = stripe
        .refresh(refresh.expose_secret(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, OAuthError::InvalidGrant(_)), "{err:?}");
    assert!(stripe.revoke(&connected.account.id).await.is_err());
}

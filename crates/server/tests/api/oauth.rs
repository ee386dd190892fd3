//! The OAuth connect flow against the simulator: Stripe and Shopify connect, and every
//! abuse of the callback is refused without storing anything or calling the token endpoint.

use pulseboard_connectors::sign_shopify_callback;
use pulseboard_server::integrations::credentials;
use pulseboard_simulator::{defaults, SimulatorConfig};
use reqwest::{header, Client, StatusCode};
use serde_json::{json, Value};
use url::Url;
use uuid::Uuid;

use crate::helpers::{expect_error, spawn_app_with_simulator, TestApp, TestUser, PASSWORD};

/// A started flow: where the provider sent the browser back, and the state cookie.
pub struct Started {
    pub callback: Url,
    pub state_cookie: String,
}

/// Starts a connection as `user` and follows the provider's (simulated, auto-approved)
/// consent screen; returns the callback URL without visiting it.
pub async fn start_flow(
    app: &TestApp,
    user: &TestUser,
    provider: &str,
    shop: Option<&str>,
) -> Started {
    let mut body = json!({ "store_id": user.store_id });
    if let Some(shop) = shop {
        body["shop"] = json!(shop);
    }
    let response = user
        .client
        .post(app.url(&format!(
            "/api/orgs/{}/integrations/{provider}/connect",
            user.org_slug
        )))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let state_cookie = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with(&format!("pb_oauth_{provider}=")))
        .expect("the state cookie is set");
    let started: Value = response.json().await.unwrap();
    let authorize = started["authorize_url"].as_str().unwrap();
    let consent = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(authorize)
        .send()
        .await
        .unwrap();
    assert!(consent.status().is_redirection(), "{}", consent.status());
    let callback = Url::parse(consent.headers()[header::LOCATION].to_str().unwrap()).unwrap();
    Started {
        callback,
        state_cookie,
    }
}

/// Visits a callback URL with `client` and returns the flash the server redirects to.
pub async fn visit(client: &Client, url: &Url) -> Vec<(String, String)> {
    let response = client.get(url.as_str()).send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "the callback always redirects"
    );
    let location = response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        location.starts_with("/settings/integrations?"),
        "{location}"
    );
    Url::parse(&format!("http://x{location}"))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn flash<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Asserts the callback was refused with `code`, with a message for people.
fn assert_refused(pairs: &[(String, String)], code: &str) {
    assert_eq!(flash(pairs, "error"), Some(code), "{pairs:?}");
    assert!(
        flash(pairs, "message").is_some_and(|m| m.len() > 10),
        "{pairs:?}"
    );
    assert_eq!(flash(pairs, "connected"), None);
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// A client that sends exactly these cookies (and keeps none).
pub fn client_with_cookies(cookies: &[&str]) -> Client {
    let mut headers = header::HeaderMap::new();
    let pairs: Vec<&str> = cookies
        .iter()
        .map(|c| c.split(';').next().unwrap())
        .collect();
    headers.insert(header::COOKIE, pairs.join("; ").parse().unwrap());
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

/// The session cookie of a fresh login as `email`.
pub async fn session_cookie(app: &TestApp, email: &str) -> String {
    let response = Client::new()
        .post(app.url("/api/auth/login"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("pb_session="))
        .unwrap()
}

fn with_param(url: &Url, key: &str, value: &str) -> Url {
    let mut out = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .map(|(k, v)| {
            if k == key {
                (k, value.to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    out.query_pairs_mut().clear().extend_pairs(pairs);
    out
}

/// Changes one parameter of a Shopify callback and signs it again with the app
/// secret, so only the changed value can make it fail.
fn resigned(url: &Url, key: &str, value: &str) -> Url {
    let changed = with_param(url, key, value);
    let pairs: Vec<(String, String)> = changed
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != "hmac")
        .collect();
    let hmac = sign_shopify_callback(&pairs, defaults::SHOPIFY_API_SECRET);
    with_param(&changed, "hmac", &hmac)
}

async fn stripe_integration(app: &TestApp) -> Option<Value> {
    sqlx::query_scalar::<_, Value>(
        "SELECT to_jsonb(i) FROM integrations i WHERE provider = 'stripe'",
    )
    .fetch_optional(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_admin_connects_stripe_through_oauth_and_disconnects_it() {
    let (app, sim) = spawn_app_with_simulator(SimulatorConfig::default()).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (meg, _) = app.join(&ann, "meg@example.com", "member").await;

    let refused = meg
        .post(app.url("/api/orgs/acme/integrations/stripe/connect"))
        .json(&json!({ "store_id": ann.store_id }))
        .send()
        .await
        .unwrap();
    expect_error(refused, StatusCode::FORBIDDEN, "forbidden").await;

    let response = ann
        .client
        .post(app.url("/api/orgs/acme/integrations/stripe/connect"))
        .json(&json!({ "store_id": ann.store_id }))
        .send()
        .await
        .unwrap();
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/api/oauth", "Max-Age=600"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let body: Value = response.json().await.unwrap();
    let authorize = Url::parse(body["authorize_url"].as_str().unwrap()).unwrap();
    let query: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    assert!(query.contains(&("redirect_uri".into(), app.url("/api/oauth/stripe/callback"))));
    assert!(query.contains(&("client_id".into(), defaults::STRIPE_CLIENT_ID.into())));
    let stored_states = count(&app, "oauth_states").await;
    assert_eq!(stored_states, 1);
    let state = &query.iter().find(|(k, _)| k == "state").unwrap().1;
    let raw_state_stored: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM oauth_states WHERE encode(state_hash, 'escape') LIKE '%' || $1 || '%')")
            .bind(state)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(!raw_state_stored, "only a hash of the state is kept");

    let started = start_flow(&app, &ann, "stripe", None).await;
    let pairs = visit(&ann.client, &started.callback).await;
    assert_eq!(flash(&pairs, "connected"), Some("stripe"), "{pairs:?}");
    assert_eq!(sim.calls("stripe.token"), 1);

    let list: Value = meg
        .get(app.url("/api/orgs/acme/integrations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let integration = &list[0];
    assert_eq!(integration["status"], "active");
    assert_eq!(integration["auth_kind"], "oauth");
    assert_eq!(
        integration["external_account_id"],
        defaults::STRIPE_ACCOUNT_ID
    );
    assert_eq!(integration["account_label"], "Acme Analytics");
    let id: Uuid = integration["id"].as_str().unwrap().parse().unwrap();
    let token = credentials::read(&app.app_state.db, &app.app_state.vault, id, "access_token")
        .await
        .unwrap()
        .expect("the access token is stored");
    assert!(!list.to_string().contains(&token));
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'integration.connected' AND details->>'auth' = 'oauth'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // Disconnecting revokes the grant at Stripe and deletes the tokens.
    let gone = ann
        .client
        .delete(app.url(&format!("/api/orgs/acme/integrations/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    assert_eq!(sim.calls("stripe.deauthorize"), 1);
    assert_eq!(count(&app, "integration_credentials").await, 0);
}

#[tokio::test]
async fn an_admin_connects_a_shopify_shop_through_oauth() {
    let (app, sim) = spawn_app_with_simulator(SimulatorConfig::default()).await;
    let ann = app.signup("ann@example.com", "Acme").await;

    let url = app.url("/api/orgs/acme/integrations/shopify/connect");
    for (shop, why) in [
        (None, "no shop"),
        (Some("evil.com"), "not myshopify"),
        (Some("x.myshopify.com.evil.com"), "suffix trick"),
    ] {
        let response = ann
            .client
            .post(&url)
            .json(&json!({ "store_id": ann.store_id, "shop": shop }))
            .send()
            .await
            .unwrap();
        let body = expect_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(body["error"]["field"], "shop", "{why}");
    }
    assert_eq!(count(&app, "oauth_states").await, 0);

    let started = start_flow(&app, &ann, "shopify", Some("acme-coffee")).await;
    let pairs = visit(&ann.client, &started.callback).await;
    assert_eq!(flash(&pairs, "connected"), Some("shopify"), "{pairs:?}");
    assert_eq!(sim.calls("shopify.token"), 1);
    let list: Value = ann
        .client
        .get(app.url("/api/orgs/acme/integrations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["provider"], "shopify");
    assert_eq!(list[0]["external_account_id"], "acme-coffee.myshopify.com");
    assert_eq!(list[0]["account_label"], "Acme Coffee");
    assert_eq!(list[0]["cadence_minutes"], 30);
}

#[tokio::test]
async fn forged_replayed_foreign_and_expired_stripe_callbacks_are_refused() {
    let (app, sim) = spawn_app_with_simulator(SimulatorConfig::default()).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (_bob, _) = app.join(&ann, "bob@example.com", "admin").await;
    let _carol = app.signup("carol@example.com", "Other").await;

    // Missing cookie: the browser that follows the link did not start the flow.
    let started = start_flow(&app, &ann, "stripe", None).await;
    let ann_session = session_cookie(&app, "ann@example.com").await;
    let pairs = visit(&client_with_cookies(&[&ann_session]), &started.callback).await;
    assert_refused(&pairs, "cookie_missing");

    // A cookie whose signature does not match.
    let started = start_flow(&app, &ann, "stripe", None).await;
    let forged = format!("{}0", started.state_cookie.split(';').next().unwrap());
    let pairs = visit(
        &client_with_cookies(&[&ann_session, &forged]),
        &started.callback,
    )
    .await;
    assert_refused(&pairs, "state_mismatch");

    // Another admin of the same org, even holding Ann's cookie: the state is Ann's.
    let started = start_flow(&app, &ann, "stripe", None).await;
    let bob_session = session_cookie(&app, "bob@example.com").await;
    let pairs = visit(
        &client_with_cookies(&[&bob_session, &started.state_cookie]),
        &started.callback,
    )
    .await;
    assert_refused(&pairs, "state_invalid");
    // An admin of another organization, likewise.
    let carol_session = session_cookie(&app, "carol@example.com").await;
    let pairs = visit(
        &client_with_cookies(&[&carol_session, &started.state_cookie]),
        &started.callback,
    )
    .await;
    assert_refused(&pairs, "state_invalid");
    // Not signed in at all.
    let pairs = visit(
        &client_with_cookies(&[&started.state_cookie]),
        &started.callback,
    )
    .await;
    assert_refused(&pairs, "not_signed_in");

    // Expired.
    let started = start_flow(&app, &ann, "stripe", None).await;
    sqlx::query("UPDATE oauth_states SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    let pairs = visit(&ann.client, &started.callback).await;
    assert_refused(&pairs, "state_expired");

    // Consent denied at Stripe.
    sim.deny_consent("stripe.authorize");
    let started = start_flow(&app, &ann, "stripe", None).await;
    sim.clear_faults();
    let pairs = visit(&ann.client, &started.callback).await;
    assert_refused(&pairs, "access_denied");

    // A state from one provider's flow used on another's callback.
    let started = start_flow(&app, &ann, "stripe", None).await;
    let mut elsewhere = started.callback.clone();
    elsewhere.set_path("/api/oauth/shopify/callback");
    let pairs = visit(
        &client_with_cookies(&[
            &ann_session,
            &started
                .state_cookie
                .replace("pb_oauth_stripe", "pb_oauth_shopify"),
        ]),
        &elsewhere,
    )
    .await;
    assert_refused(&pairs, "state_mismatch");

    assert_eq!(
        sim.calls("stripe.token"),
        0,
        "no refused callback reached the token endpoint"
    );
    assert_eq!(count(&app, "integrations").await, 0);
    assert_eq!(count(&app, "integration_credentials").await, 0);

    // Replayed: the first use works, the second is refused and stores nothing more.
    let started = start_flow(&app, &ann, "stripe", None).await;
    let first = visit(&ann.client, &started.callback).await;
    assert_eq!(flash(&first, "connected"), Some("stripe"));
    let before = stripe_integration(&app).await.unwrap();
    let again = visit(
        &client_with_cookies(&[&ann_session, &started.state_cookie]),
        &started.callback,
    )
    .await;
    assert_refused(&again, "state_used");
    assert_eq!(sim.calls("stripe.token"), 1);
    assert_eq!(stripe_integration(&app).await.unwrap(), before);
}

#[tokio::test]
async fn tampered_shopify_callbacks_are_refused() {
    let (app, sim) = spawn_app_with_simulator(SimulatorConfig::default()).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let ann_session = session_cookie(&app, "ann@example.com").await;
    let stale = (chrono::Utc::now() - chrono::Duration::minutes(11))
        .timestamp()
        .to_string();

    type Tamper = Box<dyn Fn(&Url) -> Url>;
    let cases: Vec<(&str, Tamper, &str)> = vec![
        (
            "bad hmac",
            Box::new(|u: &Url| with_param(u, "code", "attacker-code")),
            "callback_invalid",
        ),
        (
            "shop=evil.com",
            Box::new(|u: &Url| resigned(u, "shop", "evil.com")),
            "callback_invalid",
        ),
        (
            "suffix trick",
            Box::new(|u: &Url| resigned(u, "shop", "acme-coffee.myshopify.com.evil.com")),
            "callback_invalid",
        ),
        (
            "another valid shop",
            Box::new(|u: &Url| resigned(u, "shop", "other-shop.myshopify.com")),
            "shop_mismatch",
        ),
        (
            "stale timestamp",
            Box::new(move |u: &Url| resigned(u, "timestamp", &stale)),
            "callback_invalid",
        ),
    ];
    for (why, tamper, code) in cases {
        let started = start_flow(&app, &ann, "shopify", Some("acme-coffee.myshopify.com")).await;
        let tampered = tamper(&started.callback);
        let pairs = visit(
            &client_with_cookies(&[&ann_session, &started.state_cookie]),
            &tampered,
        )
        .await;
        assert_eq!(flash(&pairs, "error"), Some(code), "{why}: {pairs:?}");
        // The untouched callback cannot be used afterwards either: the state is spent.
        let pairs = visit(
            &client_with_cookies(&[&ann_session, &started.state_cookie]),
            &started.callback,
        )
        .await;
        assert_refused(&pairs, "state_used");
    }
    assert_eq!(sim.calls("shopify.token"), 0);
    assert_eq!(count(&app, "integrations").await, 0);
    assert_eq!(count(&app, "integration_credentials").await, 0);
}

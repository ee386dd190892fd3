//! Sign-up, login, sessions, API tokens, throttling, cross-site refusal.

use reqwest::{header, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{client, expect_error, spawn_app, PASSWORD};

#[tokio::test]
async fn signup_creates_org_workspace_and_store_and_signs_in() {
    let app = spawn_app().await;
    let c = client();
    let response = c
        .post(app.url("/api/auth/signup"))
        .json(&json!({
            "email": "Ann@Example.com", "password": PASSWORD, "name": "Ann", "org_name": "Acme Coffee",
            "store": { "name": "Acme EU", "currency": "EUR", "timezone": "Europe/Paris" }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("pb_session=pbs_"), "{cookie}");
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && !cookie.contains("Secure"),
        "{cookie}"
    );

    let me: Value = c
        .get(app.url("/api/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["email"], "ann@example.com");
    assert_eq!(me["memberships"][0]["org_slug"], "acme-coffee");
    assert_eq!(me["memberships"][0]["role"], "owner");
    assert_eq!(me["memberships"][0]["workspaces"][0]["role"], "admin");
    let stores: Value = c
        .get(app.url("/api/orgs/acme-coffee/stores"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stores[0]["currency"], "EUR");
    assert_eq!(stores[0]["timezone"], "Europe/Paris");
    assert_eq!(stores[0]["name"], "Acme EU");

    // The password is stored as argon2id, never as given.
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains(PASSWORD));
}

#[tokio::test]
async fn a_second_org_with_the_same_name_gets_a_unique_slug_and_emails_are_unique() {
    let app = spawn_app().await;
    let a = app.signup("a@example.com", "Acme").await;
    let b = app.signup("b@example.com", "Acme").await;
    assert_eq!(a.org_slug, "acme");
    assert_eq!(b.org_slug, "acme-2");
    let again = client()
        .post(app.url("/api/auth/signup"))
        .json(&json!({ "email": "A@example.com", "password": PASSWORD, "name": "A" }))
        .send()
        .await
        .unwrap();
    expect_error(again, StatusCode::CONFLICT, "email_taken").await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.signup("ann@example.com", "Acme").await;
    let login = |email: &'static str, password: &'static str| {
        let url = app.url("/api/auth/login");
        async move {
            client()
                .post(url)
                .json(&json!({ "email": email, "password": password }))
                .send()
                .await
                .unwrap()
        }
    };
    let wrong = login("ann@example.com", "not the password").await;
    let unknown = login("nobody@example.com", "not the password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.text().await.unwrap(), unknown.text().await.unwrap());

    let ok = login("ANN@example.com", PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn logout_revokes_the_session_and_expired_sessions_are_refused() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    assert_eq!(
        ann.client
            .get(app.url("/api/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    // A copy of the cookie taken before logout must stop working too.
    let stolen = {
        let c = client();
        let r = c
            .post(app.url("/api/auth/login"))
            .json(&json!({ "email": "ann@example.com", "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.headers()
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string()
    };
    let with_cookie = |cookie: String| {
        let url = app.url("/api/me");
        async move {
            reqwest::Client::new()
                .get(url)
                .header(header::COOKIE, cookie)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(with_cookie(stolen.clone()).await.status(), StatusCode::OK);
    let out = reqwest::Client::new()
        .post(app.url("/api/auth/logout"))
        .header(header::COOKIE, stolen.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    expect_error(
        with_cookie(stolen).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;

    // Ann's other session still works until it expires.
    assert_eq!(
        ann.client
            .get(app.url("/api/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    sqlx::query("UPDATE sessions SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    expect_error(
        ann.client.get(app.url("/api/me")).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn api_tokens_authenticate_until_revoked_and_are_shown_once() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let created: Value = ann
        .client
        .post(app.url("/api/me/tokens"))
        .json(&json!({ "name": "CI export" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("pbt_"));
    let id = created["api_token"]["id"].as_str().unwrap().to_string();

    let listed = ann
        .client
        .get(app.url("/api/me/tokens"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        listed.contains("CI export") && !listed.contains(&token),
        "the list never shows the secret"
    );
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM api_tokens WHERE token_hash = sha256($1::bytea)")
            .bind(token.as_bytes())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(stored, 1, "only the SHA-256 of the token is stored");

    let bearer = |t: String| {
        let url = app.url("/api/orgs/acme/stores");
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(bearer(token.clone()).await.status(), StatusCode::OK);
    expect_error(
        bearer("pbt_forged".into()).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;

    let revoked = ann
        .client
        .delete(app.url(&format!("/api/me/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    expect_error(
        bearer(token).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn repeated_failures_throttle_the_account_even_with_the_right_password() {
    let app = spawn_app().await;
    app.signup("ann@example.com", "Acme").await;
    let c = client();
    for _ in 0..5 {
        let r = c
            .post(app.url("/api/auth/login"))
            .json(&json!({ "email": "ann@example.com", "password": "wrong wrong" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = c
        .post(app.url("/api/auth/login"))
        .json(&json!({ "email": "ann@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key(header::RETRY_AFTER));
    expect_error(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[tokio::test]
async fn many_failures_from_one_address_throttle_that_address() {
    let app = spawn_app().await;
    app.signup("ann@example.com", "Acme").await;
    let c = client();
    for i in 0..20 {
        let r = c
            .post(app.url("/api/auth/login"))
            .json(&json!({ "email": format!("guess{i}@example.com"), "password": "wrong wrong" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = c
        .post(app.url("/api/auth/login"))
        .json(&json!({ "email": "ann@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[tokio::test]
async fn cross_site_state_changes_are_refused() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let post = |headers: Vec<(&'static str, &'static str)>| {
        let mut request = ann
            .client
            .post(app.url("/api/orgs/acme/workspaces"))
            .json(&json!({ "name": "Client X" }));
        for (k, v) in headers {
            request = request.header(k, v);
        }
        request.send()
    };
    expect_error(
        post(vec![("Sec-Fetch-Site", "cross-site")]).await.unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        post(vec![("Origin", "https://evil.example")])
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM workspaces WHERE name = 'Client X'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing was created by the refused requests");

    // The same request from the app's own origin goes through.
    let origin: &'static str = Box::leak(app.base.clone().into_boxed_str());
    let ok = post(vec![("Sec-Fetch-Site", "same-origin"), ("Origin", origin)])
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    // Reads are never blocked.
    let read = ann
        .client
        .get(app.url("/api/me"))
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
}

#[tokio::test]
async fn requests_without_credentials_are_unauthenticated() {
    let app = spawn_app().await;
    for path in [
        "/api/me",
        "/api/orgs",
        "/api/me/tokens",
        "/api/orgs/acme/stores",
    ] {
        let r = reqwest::get(app.url(path)).await.unwrap();
        expect_error(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }
}

#[tokio::test]
async fn an_authorization_header_that_is_not_a_valid_bearer_token_is_refused_even_with_a_session() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let created: Value = ann
        .client
        .post(app.url("/api/me/tokens"))
        .json(&json!({ "name": "script" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["token"].as_str().unwrap().to_string();
    let stores = app.url("/api/orgs/acme/stores");
    // Ann's client carries her session cookie: the header still decides.
    for header in [
        "Basic YW5uOnNlY3JldA==".to_owned(),
        "Bearer pbt_forged".to_owned(),
        "Bearer ".to_owned(),
        format!("Token {token}"),
        token.clone(),
    ] {
        let response = ann
            .client
            .get(&stores)
            .header("Authorization", &header)
            .send()
            .await
            .unwrap();
        expect_error(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }
    // The scheme is case-insensitive (RFC 9110), and the cookie alone still works.
    let lower = reqwest::Client::new()
        .get(&stores)
        .header("Authorization", format!("bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), StatusCode::OK);
    assert_eq!(
        ann.client.get(&stores).send().await.unwrap().status(),
        StatusCode::OK
    );
}

/// Twenty failed logins forwarded for one client address.
async fn fail_twenty_times(app: &crate::helpers::TestApp, forwarded_for: &str) {
    for i in 0..20 {
        let r = client()
            .post(app.url("/api/auth/login"))
            .header("X-Forwarded-For", forwarded_for)
            .json(&json!({ "email": format!("guess{i}@example.com"), "password": "wrong wrong" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_throttle() {
    let app = crate::helpers::spawn_app_with(|c| {
        c.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    app.signup("ann@example.com", "Acme").await;
    // The proxy appends the address it saw; what the client claimed before it is kept
    // but not believed past the last untrusted hop.
    fail_twenty_times(&app, "198.51.100.7, 203.0.113.5").await;
    let login = |forwarded: &'static str, header: &'static str| {
        client()
            .post(app.url("/api/auth/login"))
            .header(header, forwarded)
            .json(&json!({ "email": "ann@example.com", "password": PASSWORD }))
            .send()
    };
    let throttled = login("203.0.113.5", "X-Forwarded-For").await.unwrap();
    expect_error(throttled, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // RFC 7239's header names the same client.
    let same = login("for=\"203.0.113.5:4711\"", "Forwarded")
        .await
        .unwrap();
    expect_error(same, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Another user behind the same proxy is not locked out with them.
    let other = login("203.0.113.6", "X-Forwarded-For").await.unwrap();
    assert_eq!(other.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_trusted_proxies_a_forged_forwarded_for_escapes_nothing() {
    let app = spawn_app().await;
    app.signup("ann@example.com", "Acme").await;
    fail_twenty_times(&app, "203.0.113.5").await;
    let r = client()
        .post(app.url("/api/auth/login"))
        .header("X-Forwarded-For", "203.0.113.99")
        .json(&json!({ "email": "ann@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[tokio::test]
async fn changing_the_password_signs_out_other_sessions_and_needs_the_current_one() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    // A second session, on another device.
    let laptop = client();
    let r = laptop
        .post(app.url("/api/auth/login"))
        .json(&json!({ "email": "ann@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let change = |current: &str, new: &str| {
        ann.client
            .post(app.url("/api/me/password"))
            .json(&json!({ "current_password": current, "new_password": new }))
            .send()
    };
    let wrong = change("not my password", "a brand new passphrase")
        .await
        .unwrap();
    let body = expect_error(wrong, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["error"]["field"], "current_password");
    let short = change(PASSWORD, "short").await.unwrap();
    let body = expect_error(short, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["error"]["field"], "new_password");

    let done = change(PASSWORD, "a brand new passphrase").await.unwrap();
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    // This session carries on; the laptop's is signed out; only the new password works.
    assert_eq!(
        ann.client
            .get(app.url("/api/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    expect_error(
        laptop.get(app.url("/api/me")).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let login = |password: &'static str| {
        client()
            .post(app.url("/api/auth/login"))
            .json(&json!({ "email": "ann@example.com", "password": password }))
            .send()
    };
    assert_eq!(
        login(PASSWORD).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login("a brand new passphrase").await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn guessing_the_current_password_is_throttled_like_logins() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    for _ in 0..5 {
        let r = ann
            .client
            .post(app.url("/api/me/password"))
            .json(&json!({ "current_password": "a guess at it", "new_password": "a brand new passphrase" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let r = ann
        .client
        .post(app.url("/api/me/password"))
        .json(&json!({ "current_password": PASSWORD, "new_password": "a brand new passphrase" }))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

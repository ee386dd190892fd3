//! The token refresh helper: one refresh for many concurrent callers, rotated refresh
//! tokens saved, transient failures retried, `invalid_grant` ends in `reauth_required`
//! with one email, and reconnecting brings the integration back.

use std::time::Duration;

use pulseboard_server::integrations::{access_token as tokens, credentials};
use pulseboard_simulator::SimulatorConfig;
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::{
    helpers::{spawn_app_with_simulator, TestApp},
    oauth::{start_flow, visit},
};

fn expiring_tokens() -> SimulatorConfig {
    SimulatorConfig {
        token_lifetime: Some(Duration::from_secs(3600)),
        ..SimulatorConfig::default()
    }
}

async fn stored(app: &TestApp, id: Uuid, field: &str) -> Option<String> {
    credentials::read(&app.app_state.db, &app.app_state.vault, id, field)
        .await
        .unwrap()
}

/// Makes the stored token look like it expires in a minute.
async fn expire_soon(app: &TestApp, id: Uuid) {
    sqlx::query("UPDATE integrations SET expires_at = now() + interval '1 minute' WHERE id = $1")
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
}

async fn connected_stripe(app: &TestApp, user: &crate::helpers::TestUser) -> Uuid {
    let started = start_flow(app, user, "stripe", None).await;
    let flash = visit(&user.client, &started.callback).await;
    assert!(
        flash.contains(&("connected".into(), "stripe".into())),
        "{flash:?}"
    );
    sqlx::query_scalar("SELECT id FROM integrations WHERE provider = 'stripe'")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn ten_concurrent_callers_on_an_expiring_token_cause_one_refresh() {
    let (app, sim) = spawn_app_with_simulator(expiring_tokens()).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let id = connected_stripe(&app, &ann).await;
    let old_access = stored(&app, id, "access_token").await.unwrap();
    let old_refresh = stored(&app, id, "refresh_token").await.unwrap();

    // A fresh token is used as it is.
    let token = tokens::access_token(&app.app_state, id).await.unwrap();
    assert_eq!(
        pulseboard_connectors::ExposeSecret::expose_secret(&token),
        old_access
    );
    assert_eq!(
        sim.calls("stripe.token"),
        1,
        "only the code exchange so far"
    );

    expire_soon(&app, id).await;
    let callers = (0..10).map(|_| {
        let state = app.app_state.clone();
        tokio::spawn(async move { tokens::access_token(&state, id).await })
    });
    let mut seen = Vec::new();
    for caller in callers {
        let token = caller.await.unwrap().expect("every caller gets a token");
        seen.push(pulseboard_connectors::ExposeSecret::expose_secret(&token).to_owned());
    }
    assert_eq!(sim.calls("stripe.token"), 2, "exactly one refresh");
    seen.dedup();
    assert_eq!(seen.len(), 1, "every caller got the same new token");
    assert_ne!(seen[0], old_access);
    assert_eq!(stored(&app, id, "access_token").await.unwrap(), seen[0]);
    // Stripe rotates refresh tokens; the new one was saved (the old one no longer works).
    assert_ne!(
        stored(&app, id, "refresh_token").await.unwrap(),
        old_refresh
    );
    let expires_in: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM expires_at - now())::float8 FROM integrations WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(expires_in > 3000.0, "{expires_in}");

    // Two server errors are retried with backoff, then the refresh succeeds.
    expire_soon(&app, id).await;
    sim.fail("stripe.token", 2);
    tokens::access_token(&app.app_state, id).await.unwrap();
    assert_eq!(sim.calls("stripe.token"), 5);
}

#[tokio::test]
async fn invalid_grant_requires_reauthorization_with_one_email_then_reconnect_fixes_it() {
    let (app, sim) = spawn_app_with_simulator(expiring_tokens()).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (_ada, _) = app.join(&ann, "ada@example.com", "admin").await;
    let (_meg, _) = app.join(&ann, "meg@example.com", "member").await;
    let id = connected_stripe(&app, &ann).await;
    app.deliver_mail().await;
    let mails_before = app.mails().len();

    expire_soon(&app, id).await;
    sim.invalid_grant("stripe.token", 10);
    let callers: Vec<_> = (0..5)
        .map(|_| {
            let state = app.app_state.clone();
            tokio::spawn(async move { tokens::access_token(&state, id).await })
        })
        .collect();
    for caller in callers {
        let error = caller.await.unwrap().unwrap_err();
        assert!(
            matches!(error, tokens::TokenError::ReauthRequired(_)),
            "{error}"
        );
    }
    assert_eq!(
        sim.calls("stripe.token"),
        2,
        "one refused refresh, no retry loop"
    );
    let integration: Value = ann
        .client
        .get(app.url(&format!("/api/orgs/acme/integrations/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(integration["status"], "reauth_required");
    assert!(integration["sync_error"]
        .as_str()
        .unwrap()
        .contains("reconnect"));

    app.deliver_mail().await;
    let mails = app.mails();
    let new: Vec<&String> = mails[mails_before..].iter().collect();
    let to = |email: &str| {
        new.iter()
            .filter(|m| m.contains(&format!("To: {email}")))
            .count()
    };
    assert_eq!(
        (
            to("ann@example.com"),
            to("ada@example.com"),
            to("meg@example.com")
        ),
        (1, 1, 0)
    );
    assert_eq!(new.len(), 2);
    assert!(new[0].contains("/settings/integrations"), "{}", new[0]);

    // Reconnecting runs the OAuth flow again and brings it back to active.
    sim.clear_faults();
    let response = ann
        .client
        .post(app.url(&format!("/api/orgs/acme/integrations/{id}/reconnect")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let consent = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(body["authorize_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let callback = url::Url::parse(consent.headers()["location"].to_str().unwrap()).unwrap();
    let flash = visit(&ann.client, &callback).await;
    assert!(
        flash.contains(&("connected".into(), "stripe".into())),
        "{flash:?}"
    );
    let integration: Value = ann
        .client
        .get(app.url(&format!("/api/orgs/acme/integrations/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(integration["status"], "active");
    assert_eq!(integration["sync_error"], Value::Null);
    tokens::access_token(&app.app_state, id).await.unwrap();
}

#[tokio::test]
async fn a_failed_sync_does_not_lock_the_next_one_out_of_the_token() {
    let (app, _sim) = spawn_app_with_simulator(SimulatorConfig::default()).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let id = connected_stripe(&app, &ann).await;
    // A sync that failed for good leaves the integration in `error` ...
    sqlx::query(
        "UPDATE integrations SET status = 'error', sync_error = 'provider down' WHERE id = $1",
    )
    .bind(id)
    .execute(&app.db)
    .await
    .unwrap();
    // ... and the next scheduled sync still gets the token to try again.
    let token = tokens::access_token(&app.app_state, id).await.unwrap();
    assert_eq!(
        Some(pulseboard_connectors::ExposeSecret::expose_secret(&token).to_owned()),
        stored(&app, id, "access_token").await
    );
    // A disconnected integration gets none.
    sqlx::query("UPDATE integrations SET status = 'disconnected' WHERE id = $1")
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
    assert!(matches!(
        tokens::access_token(&app.app_state, id).await,
        Err(tokens::TokenError::Unavailable(_))
    ));
}

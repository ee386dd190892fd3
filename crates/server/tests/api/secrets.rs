//! No secret in any log line: every flow that handles one runs with logging at its
//! most verbose into a buffer, which is then searched for each secret.

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

use pulseboard_server::integrations::{access_token as tokens, credentials};
use pulseboard_simulator::{defaults, SimulatorConfig};
use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;
use uuid::Uuid;

use crate::{
    helpers::{spawn_app_with_simulator, PASSWORD},
    oauth::{start_flow, visit},
};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn no_token_or_secret_appears_in_any_log_line() {
    let logs = Captured::default();
    // The whole process logs here (nextest runs each test in its own process).
    tracing_subscriber::fmt()
        .json()
        // cookie_store is the test clients' jar (the browser's side), not the server's.
        .with_env_filter("trace,cookie_store=off")
        .with_writer(logs.clone())
        .try_init()
        .expect("this test installs the process's only subscriber");

    let (app, sim) = spawn_app_with_simulator(SimulatorConfig {
        token_lifetime: Some(Duration::from_secs(3600)),
        ..SimulatorConfig::default()
    })
    .await;
    let ann = app.signup("ann@example.com", "Acme").await;

    // OAuth with Stripe, including a refresh that rotates both tokens.
    let started = start_flow(&app, &ann, "stripe", None).await;
    let code = started
        .callback
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let state = started
        .callback
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    visit(&ann.client, &started.callback).await;
    let id: Uuid = sqlx::query_scalar("SELECT id FROM integrations")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let read = |field: &'static str| {
        let app_state = app.app_state.clone();
        async move {
            credentials::read(&app_state.db, &app_state.vault, id, field)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let first_access = read("access_token").await;
    let first_refresh = read("refresh_token").await;
    sqlx::query("UPDATE integrations SET expires_at = now() WHERE id = $1")
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
    tokens::access_token(&app.app_state, id).await.unwrap();
    let second_access = read("access_token").await;
    let second_refresh = read("refresh_token").await;

    // Shopify OAuth, a refused restricted key and an accepted one.
    let shop = start_flow(&app, &ann, "shopify", Some("acme-coffee")).await;
    visit(&ann.client, &shop.callback).await;
    let shopify_id: Uuid =
        sqlx::query_scalar("SELECT id FROM integrations WHERE provider = 'shopify'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let shopify_token = credentials::read(
        &app.app_state.db,
        &app.app_state.vault,
        shopify_id,
        "access_token",
    )
    .await
    .unwrap()
    .unwrap();
    for key in [
        "rk_test_wrong_key_value_123",
        defaults::STRIPE_RESTRICTED_KEY,
    ] {
        ann.client
            .post(app.url("/api/orgs/acme/integrations/stripe/api-key"))
            .json(&json!({ "store_id": ann.store_id, "fields": { "api_key": key } }))
            .send()
            .await
            .unwrap();
    }
    assert!(sim.calls("stripe.account") >= 2);

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("integration connected") && text.contains("access token refreshed"),
        "the capture works and saw the flows"
    );
    for (what, secret) in [
        ("Stripe access token", first_access.as_str()),
        ("rotated Stripe access token", second_access.as_str()),
        ("Stripe refresh token", first_refresh.as_str()),
        ("rotated Stripe refresh token", second_refresh.as_str()),
        ("Shopify access token", shopify_token.as_str()),
        ("authorization code", code.as_str()),
        ("OAuth state", state.as_str()),
        ("restricted key", defaults::STRIPE_RESTRICTED_KEY),
        ("refused key", "rk_test_wrong_key_value_123"),
        ("Stripe platform secret", defaults::STRIPE_SECRET_KEY),
        ("Shopify app secret", defaults::SHOPIFY_API_SECRET),
        ("password", PASSWORD),
    ] {
        if let Some(line) = text.lines().find(|l| l.contains(secret)) {
            panic!(
                "the {what} appears in the logs: {}",
                &line[..line.len().min(600)]
            );
        }
    }
}

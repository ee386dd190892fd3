//! No secret in any log line: every flow that handles one runs with logging at its
//! most verbose into a buffer, which is then searched for each secret.

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

use pulseboard_server::{
    db::{
        outbox::{self, NewEmail},
        slack,
    },
    integrations::{access_token as tokens, credentials},
};
use pulseboard_simulator::{defaults, endpoints, Simulator, SimulatorConfig};
use secrecy::SecretString;
use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;
use uuid::Uuid;

use crate::{
    helpers::{spawn_app_with, spawn_app_with_simulator, PASSWORD},
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

#[tokio::test]
async fn mail_and_slack_credentials_appear_in_no_log_line_or_response() {
    let logs = Captured::default();
    tracing_subscriber::fmt()
        .json()
        .with_env_filter("trace,cookie_store=off")
        .with_writer(logs.clone())
        .try_init()
        .expect("this test installs the process's only subscriber");
    let sim = Simulator::start(SimulatorConfig::default()).await.unwrap();

    // SMTP with a password, to a port where nothing listens: the failure is logged
    // and shown in the mailbox.
    let smtp_password = "smtp-pa55word-never-logged";
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let slack_prefix = format!("{}/slack/", sim.base_url());
    let smtp_url = format!("smtp://pulseboard:{smtp_password}@127.0.0.1:{port}");
    let app = spawn_app_with(move |c| {
        c.mail.smtp_url = Some(SecretString::from(smtp_url));
        c.slack.webhook_url_prefixes.push(slack_prefix);
    })
    .await;
    let ann = app.signup("ann@example.com", "Acme").await;
    outbox::enqueue(
        &app.db,
        NewEmail::text(
            ann.org_id,
            "alert",
            "ann@example.com",
            "Alert",
            "MRR is down",
        ),
    )
    .await
    .unwrap();
    assert_eq!(app.deliver_mail().await, 0);

    // A Slack channel that fails, then is archived.
    let webhook = format!("{}{}", sim.base_url(), defaults::SLACK_WEBHOOK_PATH);
    let webhook_secret = webhook.rsplit('/').next().unwrap().to_owned();
    let created = ann
        .client
        .post(app.url("/api/orgs/acme/slack-channels"))
        .json(&json!({ "name": "#growth", "webhook_url": webhook }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), reqwest::StatusCode::CREATED);
    let channel: Uuid = created.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    slack::enqueue(&app.db, ann.org_id, channel, &json!({ "text": "hi" }))
        .await
        .unwrap();
    sim.fail(endpoints::SLACK_WEBHOOK, 1);
    sim.reject(endpoints::SLACK_WEBHOOK, 410, "channel_is_archived", 1);
    app.deliver_slack().await;
    app.make_outbox_due().await;
    app.deliver_slack().await;

    // Resend, rate limited once, then accepted.
    let resend_base = format!("{}/resend", sim.base_url());
    let resend = spawn_app_with(move |c| {
        c.mail.resend_api_key = Some(SecretString::from(defaults::RESEND_API_KEY));
        c.mail.resend_url = resend_base.parse().unwrap();
    })
    .await;
    let bo = resend.signup("bo@example.com", "Bo").await;
    outbox::enqueue(
        &resend.db,
        NewEmail::text(bo.org_id, "alert", "bo@example.com", "Alert", "Down"),
    )
    .await
    .unwrap();
    sim.rate_limit(endpoints::RESEND_EMAILS, 1, Duration::from_secs(1));
    resend.deliver_mail().await;
    resend.make_outbox_due().await;
    assert_eq!(resend.deliver_mail().await, 1);

    let mut responses = String::new();
    for path in [
        "/api/orgs/acme/mailbox",
        "/api/orgs/acme/slack-channels",
        "/api/orgs/acme/audit-log",
    ] {
        let text = ann
            .client
            .get(app.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        responses.push_str(&text);
    }
    assert!(responses.contains("channel_is_archived"), "{responses}");
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("mail delivery failed") && text.contains("disabling the channel"),
        "the capture works and saw the failures"
    );
    for (what, secret) in [
        ("SMTP password", smtp_password),
        ("Resend API key", defaults::RESEND_API_KEY),
        ("Slack webhook secret", webhook_secret.as_str()),
    ] {
        if let Some(line) = text.lines().find(|l| l.contains(secret)) {
            panic!(
                "the {what} appears in the logs: {}",
                &line[..line.len().min(600)]
            );
        }
        assert!(
            !responses.contains(secret),
            "the {what} appears in an API response"
        );
    }
}

//! Real delivery: mail over SMTP to a real SMTP server (aiosmtpd, with scripted
//! replies), mail through Resend's API and Slack incoming webhooks through the
//! simulator. Retries are driven by the tests: "time passes" makes every queued
//! message due, then the outbox runs once more.

use std::{path::PathBuf, process::Stdio, time::Duration};

use chrono::{DateTime, Utc};
use pulseboard_server::db::{
    outbox::{self, InlineImage, NewEmail},
    slack,
};
use pulseboard_simulator::{
    defaults::{RESEND_API_KEY, SLACK_WEBHOOK_PATH},
    endpoints::{RESEND_EMAILS, SLACK_WEBHOOK},
    Simulator, SimulatorConfig, SimulatorHandle,
};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{json, Value};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};
use uuid::Uuid;

use crate::helpers::{expect_error, spawn_app_with, TestApp, TestUser};

// ---------------------------------------------------------------------------
// The SMTP server
// ---------------------------------------------------------------------------

/// `tests/support/smtp_server.py` running on a port of its own.
struct SmtpServer {
    _child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SmtpServer {
    async fn start(replies: &[&str]) -> Self {
        Self::start_on(free_port(), replies).await
    }

    /// Starts the server; fails the test (never skips it) when Python or aiosmtpd
    /// is missing: `scripts/test` installs them.
    async fn start_on(port: u16, replies: &[&str]) -> Self {
        let python = std::env::var("PULSEBOARD_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(&python)
            .arg(&script)
            .arg(port.to_string())
            .arg(dir.path())
            .args(replies)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {python} for the SMTP server ({e}); run scripts/test, which installs python3 and aiosmtpd")
            });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await;
        match ready {
            Ok(Ok(Some(line))) if line == "ready" => {}
            other => panic!(
                "the SMTP server did not start ({other:?}); is aiosmtpd installed for {python}? \
                 (`{python} -m pip install aiosmtpd`, as scripts/test does)"
            ),
        }
        Self {
            _child: child,
            port,
            dir,
        }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages that reached DATA with the given outcome, in order.
    fn messages(&self, outcome: &str) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().into_string().unwrap())
            .filter(|n| n.ends_with(&format!("-{outcome}.eml")))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|n| std::fs::read_to_string(self.dir.path().join(n)).unwrap())
            .collect()
    }

    fn accepted(&self) -> Vec<String> {
        self.messages("accepted")
    }

    fn rejected(&self) -> Vec<String> {
        self.messages("rejected")
    }
}

async fn app_with_smtp(url: &str) -> TestApp {
    let url = url.to_owned();
    spawn_app_with(move |c| c.mail.smtp_url = Some(SecretString::from(url))).await
}

/// The value of a header of a raw message (first occurrence, unfolded).
fn header(message: &str, name: &str) -> Option<String> {
    let head = message.split("\r\n\r\n").next().unwrap_or(message);
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

/// The mailbox page's entries.
async fn mailbox(app: &TestApp, user: &TestUser) -> Vec<Value> {
    let response = user
        .client
        .get(app.url(&format!("/api/orgs/{}/mailbox", user.org_slug)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json::<Vec<Value>>().await.unwrap()
}

async fn mailbox_entry(app: &TestApp, user: &TestUser, id: Uuid) -> Value {
    mailbox(app, user)
        .await
        .into_iter()
        .find(|e| e["id"] == id.to_string())
        .unwrap_or_else(|| panic!("message {id} is not in the mailbox"))
}

/// A digest-like message: text and HTML with an inline chart, unsubscribable.
async fn queue_rich_mail(app: &TestApp, user: &TestUser) -> Uuid {
    let images = [InlineImage {
        content_id: "chart-1".into(),
        content_type: "image/png".into(),
        bytes: b"\x89PNG\r\n\x1a\nfake chart".to_vec(),
    }];
    outbox::enqueue(
        &app.db,
        NewEmail {
            inline_images: &images,
            body_html: Some("<p>Revenue is up</p><img src=\"cid:chart-1\">"),
            unsubscribe_url: Some("https://pulseboard.example/api/unsubscribe/tok123"),
            ..NewEmail::text(
                user.org_id,
                "digest",
                "ann@example.com",
                "Your Monday digest",
                "Revenue is up",
            )
        },
    )
    .await
    .unwrap()
}

async fn queue_plain_mail(app: &TestApp, user: &TestUser) -> Uuid {
    outbox::enqueue(
        &app.db,
        NewEmail::text(
            user.org_id,
            "alert",
            "ann@example.com",
            "MRR dropped",
            "MRR is down 12%",
        ),
    )
    .await
    .unwrap()
}

async fn next_attempt_in(app: &TestApp, table: &str, id: Uuid) -> Duration {
    let at: DateTime<Utc> = sqlx::query_scalar(&format!(
        "SELECT next_attempt_at FROM {table} WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    (at - Utc::now()).to_std().unwrap_or_default()
}

// ---------------------------------------------------------------------------
// SMTP
// ---------------------------------------------------------------------------

#[tokio::test]
async fn smtp_delivers_multipart_mail_with_its_headers() {
    let server = SmtpServer::start(&[]).await;
    let app = app_with_smtp(&server.url()).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let id = queue_rich_mail(&app, &ann).await;

    assert_eq!(app.deliver_mail().await, 1);

    let accepted = server.accepted();
    assert_eq!(accepted.len(), 1);
    let mail = &accepted[0];
    assert_eq!(
        header(mail, "From").unwrap(),
        "Pulseboard <pulseboard@localhost>"
    );
    assert_eq!(header(mail, "To").unwrap(), "ann@example.com");
    assert_eq!(header(mail, "Subject").unwrap(), "Your Monday digest");
    assert_eq!(
        header(mail, "Message-ID").unwrap(),
        format!("<{id}@127.0.0.1>")
    );
    assert_eq!(
        header(mail, "List-Unsubscribe").unwrap(),
        "<https://pulseboard.example/api/unsubscribe/tok123>"
    );
    assert_eq!(
        header(mail, "List-Unsubscribe-Post").unwrap(),
        "List-Unsubscribe=One-Click"
    );
    assert!(header(mail, "Content-Type")
        .unwrap()
        .starts_with("multipart/alternative"));
    assert!(mail.contains("multipart/related"), "{mail}");
    assert!(mail.contains("Content-ID: <chart-1>"), "{mail}");
    assert!(mail.contains("Content-Type: image/png"), "{mail}");
    let entry = mailbox_entry(&app, &ann, id).await;
    assert_eq!(entry["state"], "sent");
    assert!(entry["last_error"].is_null());
}

#[tokio::test]
async fn smtp_temporary_refusal_is_retried_and_delivered_once() {
    let server = SmtpServer::start(&["451 4.3.0 try again later"]).await;
    let app = app_with_smtp(&server.url()).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let id = queue_plain_mail(&app, &ann).await;

    assert_eq!(app.deliver_mail().await, 0);
    let entry = mailbox_entry(&app, &ann, id).await;
    assert_eq!(entry["state"], "queued");
    assert_eq!(entry["last_error"], "451 4.3.0 try again later");
    // Not before the backoff.
    assert_eq!(app.deliver_mail().await, 0);
    assert!(next_attempt_in(&app, "email_outbox", id).await > Duration::from_secs(30));

    app.make_outbox_due().await;
    assert_eq!(app.deliver_mail().await, 1);
    app.make_outbox_due().await;
    assert_eq!(
        app.deliver_mail().await,
        0,
        "a sent message is never sent again"
    );

    assert_eq!(server.rejected().len(), 1);
    assert_eq!(server.accepted().len(), 1);
    // The retry is the same message.
    let first = header(&server.rejected()[0], "Message-ID").unwrap();
    assert_eq!(first, header(&server.accepted()[0], "Message-ID").unwrap());
    assert_eq!(first, format!("<{id}@127.0.0.1>"));
    let entry = mailbox_entry(&app, &ann, id).await;
    assert_eq!(entry["state"], "sent");
    assert_eq!(entry["attempts"], 2);
}

#[tokio::test]
async fn smtp_permanent_refusal_fails_the_message_with_the_servers_reply() {
    let server = SmtpServer::start(&["550 5.1.1 mailbox unavailable"]).await;
    let app = app_with_smtp(&server.url()).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let id = queue_plain_mail(&app, &ann).await;

    assert_eq!(app.deliver_mail().await, 0);
    app.make_outbox_due().await;
    assert_eq!(
        app.deliver_mail().await,
        0,
        "a failed message is not retried"
    );

    assert_eq!(server.rejected().len(), 1);
    assert!(server.accepted().is_empty());
    let entry = mailbox_entry(&app, &ann, id).await;
    assert_eq!(entry["state"], "failed");
    assert_eq!(entry["last_error"], "550 5.1.1 mailbox unavailable");
    assert!(entry["failed_at"].is_string());
}

#[tokio::test]
async fn smtp_server_down_keeps_the_message_until_it_is_back() {
    let port = free_port();
    let app = app_with_smtp(&format!("smtp://127.0.0.1:{port}")).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let id = queue_plain_mail(&app, &ann).await;

    assert_eq!(app.deliver_mail().await, 0);
    let entry = mailbox_entry(&app, &ann, id).await;
    assert_eq!(entry["state"], "queued");
    assert!(
        entry["last_error"].as_str().is_some_and(|e| !e.is_empty()),
        "{entry}"
    );

    let server = SmtpServer::start_on(port, &[]).await;
    app.make_outbox_due().await;
    assert_eq!(app.deliver_mail().await, 1);
    assert_eq!(server.accepted().len(), 1);
    assert_eq!(mailbox_entry(&app, &ann, id).await["state"], "sent");
}

#[tokio::test]
async fn a_message_out_of_attempts_fails() {
    let port = free_port();
    let app = app_with_smtp(&format!("smtp://127.0.0.1:{port}")).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let id = queue_plain_mail(&app, &ann).await;
    for _ in 0..outbox::MAX_ATTEMPTS {
        app.make_outbox_due().await;
        app.deliver_mail().await;
    }
    let entry = mailbox_entry(&app, &ann, id).await;
    assert_eq!(entry["state"], "failed", "{entry}");
    assert_eq!(entry["attempts"], outbox::MAX_ATTEMPTS);
}

#[tokio::test]
async fn both_mail_transports_refuse_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::helpers::test_config(None, dir.path().to_path_buf());
    config.mail.smtp_url = Some(SecretString::from("smtp://u:hunter2@127.0.0.1:25"));
    config.mail.resend_api_key = Some(SecretString::from("re_secret"));
    let error = pulseboard_server::notify::Mailer::from_config(&config).unwrap_err();
    let text = format!("{error:#}");
    assert!(text.contains("PULSEBOARD_SMTP_URL") && text.contains("PULSEBOARD_RESEND_API_KEY"));
    assert!(
        !text.contains("hunter2") && !text.contains("re_secret"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------
// Resend (through the simulator)
// ---------------------------------------------------------------------------

async fn app_with_resend() -> (TestApp, SimulatorHandle) {
    let sim = Simulator::start(SimulatorConfig::default()).await.unwrap();
    let base = format!("{}/resend", sim.base_url());
    let app = spawn_app_with(move |c| {
        c.mail.resend_api_key = Some(SecretString::from(RESEND_API_KEY));
        c.mail.resend_url = base.parse().unwrap();
    })
    .await;
    (app, sim)
}

#[tokio::test]
async fn resend_delivers_with_an_idempotency_key_and_inline_images() {
    let (app, sim) = app_with_resend().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let id = queue_rich_mail(&app, &ann).await;

    assert_eq!(app.deliver_mail().await, 1);

    let emails = sim.resend_emails();
    assert_eq!(emails.len(), 1);
    let email = &emails[0];
    assert_eq!(
        email.idempotency_key.as_deref(),
        Some(id.to_string().as_str())
    );
    assert_eq!(email.to, ["ann@example.com"]);
    assert_eq!(email.from, "Pulseboard <pulseboard@localhost>");
    assert_eq!(email.subject, "Your Monday digest");
    assert_eq!(email.text.as_deref(), Some("Revenue is up"));
    assert!(email.html.as_deref().unwrap().contains("cid:chart-1"));
    assert_eq!(email.headers["Message-ID"], format!("<{id}@127.0.0.1>"));
    assert_eq!(
        email.headers["List-Unsubscribe"],
        "<https://pulseboard.example/api/unsubscribe/tok123>"
    );
    assert_eq!(
        email.headers["List-Unsubscribe-Post"],
        "List-Unsubscribe=One-Click"
    );
    assert_eq!(email.attachments.len(), 1);
    assert_eq!(email.attachments[0]["content_id"], "chart-1");
    assert_eq!(email.attachments[0]["content_type"], "image/png");
    assert_eq!(mailbox_entry(&app, &ann, id).await["state"], "sent");
}

#[tokio::test]
async fn a_resend_retry_of_an_accepted_message_is_not_a_second_email() {
    let (app, sim) = app_with_resend().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let id = queue_plain_mail(&app, &ann).await;
    // An earlier attempt reached Resend, but its answer was lost.
    let body = json!({
        "from": "Pulseboard <pulseboard@localhost>", "to": ["ann@example.com"],
        "subject": "MRR dropped", "text": "MRR is down 12%",
        "headers": { "Message-ID": format!("<{id}@127.0.0.1>") },
    });
    let first = reqwest::Client::new()
        .post(format!("{}/resend/emails", sim.base_url()))
        .bearer_auth(RESEND_API_KEY)
        .header("Idempotency-Key", id.to_string())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);

    assert_eq!(app.deliver_mail().await, 1);

    assert_eq!(sim.calls(RESEND_EMAILS), 2);
    assert_eq!(
        sim.resend_emails().len(),
        1,
        "the same key is the same email"
    );
}

#[tokio::test]
async fn resend_rate_limit_is_retried_after_retry_after() {
    let (app, sim) = app_with_resend().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let id = queue_plain_mail(&app, &ann).await;
    sim.rate_limit(RESEND_EMAILS, 1, Duration::from_secs(600));

    assert_eq!(app.deliver_mail().await, 0);
    let entry = mailbox_entry(&app, &ann, id).await;
    assert_eq!(entry["state"], "queued");
    assert!(
        entry["last_error"]
            .as_str()
            .unwrap()
            .starts_with("429 rate_limit_exceeded"),
        "{entry}"
    );
    // Retry-After (10 minutes), not the first backoff step (1 minute).
    let wait = next_attempt_in(&app, "email_outbox", id).await;
    assert!(
        wait > Duration::from_secs(540) && wait <= Duration::from_secs(600),
        "{wait:?}"
    );

    app.make_outbox_due().await;
    assert_eq!(app.deliver_mail().await, 1);
    assert_eq!(sim.resend_emails().len(), 1);
    assert_eq!(sim.calls(RESEND_EMAILS), 2);
}

#[tokio::test]
async fn resend_server_error_is_retried() {
    let (app, sim) = app_with_resend().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let id = queue_plain_mail(&app, &ann).await;
    sim.fail(RESEND_EMAILS, 1);

    assert_eq!(app.deliver_mail().await, 0);
    let entry = mailbox_entry(&app, &ann, id).await;
    assert_eq!(entry["state"], "queued");
    assert!(entry["last_error"].as_str().unwrap().starts_with("500 "));

    app.make_outbox_due().await;
    assert_eq!(app.deliver_mail().await, 1);
    assert_eq!(sim.resend_emails().len(), 1);
}

#[tokio::test]
async fn resend_validation_error_fails_the_message() {
    let (app, sim) = app_with_resend().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let id = queue_plain_mail(&app, &ann).await;
    sim.reject(RESEND_EMAILS, 422, "validation_error", 1);

    assert_eq!(app.deliver_mail().await, 0);
    app.make_outbox_due().await;
    assert_eq!(app.deliver_mail().await, 0);

    assert_eq!(
        sim.calls(RESEND_EMAILS),
        1,
        "a permanent refusal is not retried"
    );
    let entry = mailbox_entry(&app, &ann, id).await;
    assert_eq!(entry["state"], "failed");
    assert!(
        entry["last_error"]
            .as_str()
            .unwrap()
            .starts_with("422 validation_error"),
        "{entry}"
    );
}

#[tokio::test]
async fn the_simulated_resend_checks_keys_and_fields_like_resend() {
    let sim = Simulator::start(SimulatorConfig::default()).await.unwrap();
    let url = format!("{}/resend/emails", sim.base_url());
    let client = reqwest::Client::new();
    let wrong_key = client
        .post(&url)
        .bearer_auth("re_wrong")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_key.status(), StatusCode::FORBIDDEN);
    let invalid = client
        .post(&url)
        .bearer_auth(RESEND_API_KEY)
        .json(&json!({ "from": "a@example.com", "to": "not an address", "subject": "s", "text": "t" }))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = invalid.json().await.unwrap();
    assert_eq!(body["statusCode"], 422);
    assert_eq!(body["name"], "validation_error");
    assert!(sim.resend_emails().is_empty());
}

// ---------------------------------------------------------------------------
// Slack (through the simulator)
// ---------------------------------------------------------------------------

async fn app_with_slack() -> (TestApp, SimulatorHandle) {
    let sim = Simulator::start(SimulatorConfig::default()).await.unwrap();
    let prefix = format!("{}/slack/", sim.base_url());
    let app = spawn_app_with(move |c| c.slack.webhook_url_prefixes.push(prefix)).await;
    (app, sim)
}

fn webhook_url(sim: &SimulatorHandle) -> String {
    format!("{}{SLACK_WEBHOOK_PATH}", sim.base_url())
}

async fn add_channel(app: &TestApp, user: &TestUser, url: &str) -> Uuid {
    let response = user
        .client
        .post(app.url(&format!("/api/orgs/{}/slack-channels", user.org_slug)))
        .json(&json!({ "name": "#growth", "webhook_url": url }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let channel: Value = response.json().await.unwrap();
    channel["id"].as_str().unwrap().parse().unwrap()
}

async fn channels(app: &TestApp, user: &TestUser) -> Vec<Value> {
    let response = user
        .client
        .get(app.url(&format!("/api/orgs/{}/slack-channels", user.org_slug)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn alert_payload(n: u32) -> Value {
    json!({
        "text": format!("MRR dropped below $10,000 ({n})"),
        "blocks": [{ "type": "section", "text": { "type": "mrkdwn", "text": format!("*MRR* dropped ({n})") } }],
    })
}

async fn slack_state(
    app: &TestApp,
    id: Uuid,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<String>) {
    sqlx::query_as("SELECT sent_at, failed_at, last_error FROM slack_outbox WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn slack_messages_are_posted_to_the_webhook() {
    let (app, sim) = app_with_slack().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let channel = add_channel(&app, &ann, &webhook_url(&sim)).await;
    let id = slack::enqueue(&app.db, ann.org_id, channel, &alert_payload(1))
        .await
        .unwrap();

    assert_eq!(app.deliver_slack().await, 1);
    app.make_outbox_due().await;
    assert_eq!(app.deliver_slack().await, 0);

    let messages = sim.slack_messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].payload, alert_payload(1));
    assert_eq!(messages[0].team, "T0SIM0001");
    let (sent, failed, _) = slack_state(&app, id).await;
    assert!(sent.is_some() && failed.is_none());
}

#[tokio::test]
async fn slack_rate_limit_is_retried_after_retry_after() {
    let (app, sim) = app_with_slack().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let channel = add_channel(&app, &ann, &webhook_url(&sim)).await;
    let id = slack::enqueue(&app.db, ann.org_id, channel, &alert_payload(1))
        .await
        .unwrap();
    sim.rate_limit(SLACK_WEBHOOK, 1, Duration::from_secs(300));

    assert_eq!(app.deliver_slack().await, 0);
    let (sent, failed, error) = slack_state(&app, id).await;
    assert!(sent.is_none() && failed.is_none());
    assert_eq!(error.as_deref(), Some("429 rate_limited"));
    let wait = next_attempt_in(&app, "slack_outbox", id).await;
    assert!(
        wait > Duration::from_secs(240) && wait <= Duration::from_secs(300),
        "{wait:?}"
    );

    app.make_outbox_due().await;
    assert_eq!(app.deliver_slack().await, 1);
    assert_eq!(sim.slack_messages().len(), 1);
    assert_eq!(sim.calls(SLACK_WEBHOOK), 2);
}

#[tokio::test]
async fn slack_server_error_is_retried() {
    let (app, sim) = app_with_slack().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let channel = add_channel(&app, &ann, &webhook_url(&sim)).await;
    let id = slack::enqueue(&app.db, ann.org_id, channel, &alert_payload(1))
        .await
        .unwrap();
    sim.fail(SLACK_WEBHOOK, 1);

    assert_eq!(app.deliver_slack().await, 0);
    assert_eq!(
        slack_state(&app, id).await.2.as_deref(),
        Some("500 internal_error")
    );
    app.make_outbox_due().await;
    assert_eq!(app.deliver_slack().await, 1);
    assert_eq!(sim.slack_messages().len(), 1);
}

#[tokio::test]
async fn an_archived_channel_is_disabled_and_not_posted_to_again() {
    let (app, sim) = app_with_slack().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let channel = add_channel(&app, &ann, &webhook_url(&sim)).await;
    let first = slack::enqueue(&app.db, ann.org_id, channel, &alert_payload(1))
        .await
        .unwrap();
    sim.reject(SLACK_WEBHOOK, 410, "channel_is_archived", 1);

    assert_eq!(app.deliver_slack().await, 0);

    let (sent, failed, error) = slack_state(&app, first).await;
    assert!(sent.is_none() && failed.is_some());
    assert_eq!(error.as_deref(), Some("410 channel_is_archived"));
    let listed = channels(&app, &ann).await;
    assert!(listed[0]["disabled_at"].is_string(), "{listed:?}");
    assert_eq!(listed[0]["disabled_reason"], "410 channel_is_archived");

    let second = slack::enqueue(&app.db, ann.org_id, channel, &alert_payload(2))
        .await
        .unwrap();
    app.make_outbox_due().await;
    assert_eq!(app.deliver_slack().await, 0);
    assert_eq!(
        sim.calls(SLACK_WEBHOOK),
        1,
        "a disabled channel is not posted to"
    );
    let (sent, failed, error) = slack_state(&app, second).await;
    assert!(sent.is_none() && failed.is_some());
    assert!(error.unwrap().contains("channel_is_archived"));
}

#[tokio::test]
async fn a_removed_webhook_disables_the_channel() {
    let (app, sim) = app_with_slack().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let channel = add_channel(&app, &ann, &webhook_url(&sim)).await;
    slack::enqueue(&app.db, ann.org_id, channel, &alert_payload(1))
        .await
        .unwrap();
    sim.reject(SLACK_WEBHOOK, 404, "no_service", 1);

    assert_eq!(app.deliver_slack().await, 0);
    assert_eq!(
        channels(&app, &ann).await[0]["disabled_reason"],
        "404 no_service"
    );
}

#[tokio::test]
async fn webhook_urls_are_checked_and_never_shown() {
    let (app, sim) = app_with_slack().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let url = webhook_url(&sim);
    let secret = url.rsplit('/').next().unwrap().to_owned();
    let path = format!("/api/orgs/{}/slack-channels", ann.org_slug);

    let created = ann
        .client
        .post(app.url(&path))
        .json(&json!({ "name": "#growth", "webhook_url": url }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = created.text().await.unwrap();
    let listed = ann
        .client
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let audit = ann
        .client
        .get(app.url(&format!("/api/orgs/{}/audit-log", ann.org_slug)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for text in [&created, &listed, &audit] {
        assert!(
            !text.contains(&secret),
            "the webhook's secret leaked: {text}"
        );
    }
    let listed: Vec<Value> = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed[0]["webhook_hint"], "…/T0SIM0001/B0SIM0001/****");
    assert_eq!(listed[0]["name"], "#growth");
    // Stored encrypted, not in the clear.
    let stored: String = sqlx::query_scalar("SELECT webhook_ciphertext FROM slack_channels")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(!stored.contains(&secret));

    for bad in [
        "https://hooks.slack.com.evil.example/services/T/B/X",
        "http://hooks.slack.com/services/T/B/X",
        "https://evil.example/services/T/B/X",
    ] {
        let response = ann
            .client
            .post(app.url(&path))
            .json(&json!({ "name": "#x", "webhook_url": bad }))
            .send()
            .await
            .unwrap();
        let body = expect_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(
            !body.to_string().contains("evil.example/services"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn members_read_channels_viewers_see_nothing_admins_write() {
    let (app, sim) = app_with_slack().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let channel = add_channel(&app, &ann, &webhook_url(&sim)).await;
    let (member, _) = app.join(&ann, "mo@example.com", "member").await;
    let (viewer, _) = app.join(&ann, "vi@example.com", "viewer").await;
    let path = format!("/api/orgs/{}/slack-channels", ann.org_slug);

    let listed = member.get(app.url(&path)).send().await.unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    let create = member
        .post(app.url(&path))
        .json(&json!({ "name": "#x", "webhook_url": webhook_url(&sim) }))
        .send()
        .await
        .unwrap();
    expect_error(create, StatusCode::FORBIDDEN, "forbidden").await;
    let delete = member
        .delete(app.url(&format!("{path}/{channel}")))
        .send()
        .await
        .unwrap();
    expect_error(delete, StatusCode::FORBIDDEN, "forbidden").await;
    let seen = viewer.get(app.url(&path)).send().await.unwrap();
    expect_error(seen, StatusCode::FORBIDDEN, "forbidden").await;

    let deleted = ann
        .client
        .delete(app.url(&format!("{path}/{channel}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert!(channels(&app, &ann).await.is_empty());
}

#[tokio::test]
async fn key_rotation_reseals_webhook_urls() {
    use pulseboard_server::{
        db::Database,
        integrations::{
            credentials,
            vault::{generate_key_entry, Vault},
        },
        notify::slack::SlackPoster,
    };
    let sim = Simulator::start(SimulatorConfig::default()).await.unwrap();
    let prefix = format!("{}/slack/", sim.base_url());
    let old_entry = generate_key_entry("old");
    let old_spec = old_entry.clone();
    let app = spawn_app_with(move |c| {
        c.slack.webhook_url_prefixes.push(prefix);
        c.encryption_keys = Some(SecretString::from(old_spec));
    })
    .await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let channel = add_channel(&app, &ann, &webhook_url(&sim)).await;
    slack::enqueue(&app.db, ann.org_id, channel, &alert_payload(1))
        .await
        .unwrap();

    let new_entry = generate_key_entry("new");
    let ring = Vault::from_spec(&format!("{new_entry},{old_entry}")).unwrap();
    let report = credentials::rotate(&Database::from_pool(app.db.clone()), &ring)
        .await
        .unwrap();
    assert_eq!(report.reencrypted, 1);
    assert!(report.failed.is_empty());

    // Only the new key is left, and the channel still works.
    let new_only = Vault::from_spec(&new_entry).unwrap();
    let poster = SlackPoster::new(Duration::from_secs(5)).unwrap();
    let sent = pulseboard_server::notify::slack::deliver_due(&app.app_state.db, &new_only, &poster)
        .await
        .unwrap();
    assert_eq!(sent, 1);
    assert_eq!(sim.slack_messages().len(), 1);
}

#[tokio::test]
async fn a_silent_smtp_server_times_out_and_the_message_stays_queued() {
    // Accepts connections and never says a word (not even the greeting).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let url = format!("smtp://127.0.0.1:{port}");
    let app = spawn_app_with(move |c| {
        c.mail.smtp_url = Some(SecretString::from(url));
        c.mail.timeout = Duration::from_millis(300);
    })
    .await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let id = queue_plain_mail(&app, &ann).await;

    let started = std::time::Instant::now();
    assert_eq!(app.deliver_mail().await, 0);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the timeout applies"
    );

    let entry = mailbox_entry(&app, &ann, id).await;
    assert_eq!(entry["state"], "queued", "{entry}");
    assert!(
        entry["last_error"]
            .as_str()
            .unwrap()
            .starts_with("timed out"),
        "{entry}"
    );
    held.abort();
}

#[tokio::test]
async fn a_slack_post_that_times_out_is_retried_and_posted_once() {
    let sim = Simulator::start(SimulatorConfig::default()).await.unwrap();
    let prefix = format!("{}/slack/", sim.base_url());
    let app = spawn_app_with(move |c| {
        c.slack.webhook_url_prefixes.push(prefix);
        c.slack.timeout = Duration::from_millis(300);
    })
    .await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let channel = add_channel(&app, &ann, &webhook_url(&sim)).await;
    let id = slack::enqueue(&app.db, ann.org_id, channel, &alert_payload(1))
        .await
        .unwrap();
    sim.hang(SLACK_WEBHOOK, 1, Duration::from_secs(3));

    assert_eq!(app.deliver_slack().await, 0);
    let (sent, failed, error) = slack_state(&app, id).await;
    assert!(sent.is_none() && failed.is_none());
    assert!(error.unwrap().starts_with("timed out"));

    app.make_outbox_due().await;
    assert_eq!(app.deliver_slack().await, 1);
    assert_eq!(
        sim.slack_messages().len(),
        1,
        "the abandoned post was not delivered too"
    );
}

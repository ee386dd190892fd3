//! "Forgot your password?": the mailed link, its single use and expiry, sessions
//! signed out, no account enumeration, and no token in responses or logs.

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tracing_subscriber::fmt::MakeWriter;

use crate::helpers::{client, expect_error, spawn_app, TestApp, PASSWORD};

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn ask_reset(app: &TestApp, email: &str) -> (StatusCode, String) {
    let response = client()
        .post(app.url("/api/auth/password-reset"))
        .json(&json!({ "email": email }))
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn confirm(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    client()
        .post(app.url("/api/auth/password-reset/confirm"))
        .json(&json!({ "token": token, "password": password }))
        .send()
        .await
        .unwrap()
}

async fn login(app: &TestApp, email: &str, password: &str) -> (StatusCode, Client) {
    let c = client();
    let status = c
        .post(app.url("/api/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
        .status();
    (status, c)
}

async fn me_status(app: &TestApp, c: &Client) -> StatusCode {
    c.get(app.url("/api/me")).send().await.unwrap().status()
}

/// The mail is sent in the background: wait (bounded) until `count` reset mails to
/// `email` are in the file mailbox; the token of the newest.
async fn reset_mail(app: &TestApp, email: &str, count: usize) -> (String, String) {
    for _ in 0..200 {
        let mails: Vec<String> = app
            .mails()
            .into_iter()
            .filter(|m| m.contains(&format!("To: {email}")) && m.contains("/reset-password/"))
            .collect();
        if mails.len() >= count {
            let mail = mails.last().unwrap().clone();
            let start = mail.find("/reset-password/").unwrap() + "/reset-password/".len();
            let token: String = mail[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            return (token, mail);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "no reset mail to {email} within 5 s; mails: {:?}",
        app.mails()
    );
}

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
async fn a_mailed_link_sets_a_new_password_once_and_signs_out_everywhere() {
    let logs = Captured::default();
    // The whole process logs here (nextest runs each test in its own process).
    tracing_subscriber::fmt()
        .json()
        .with_env_filter("trace,cookie_store=off")
        .with_writer(logs.clone())
        .try_init()
        .expect("this test installs the process's only subscriber");

    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (status, laptop) = login(&app, "ann@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = ask_reset(&app, "  Ann@Example.com ").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (token, mail) = reset_mail(&app, "ann@example.com", 1).await;
    assert!(token.starts_with("pbr_") && token.len() > 40, "{token}");
    assert!(
        mail.contains(&format!("{}/reset-password/{token}", app.base)),
        "{mail}"
    );
    assert!(
        mail.contains("Subject: Reset your Pulseboard password"),
        "{mail}"
    );

    // Not in the organization's outbox, which its admins can read.
    let outbox: i64 = sqlx::query_scalar("SELECT count(*) FROM email_outbox")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(outbox, 0);
    let mailbox: Value = ann
        .client
        .get(app.url(&format!("/api/orgs/{}/mailbox", ann.org_slug)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mailbox, json!([]));
    // Only the hash is stored.
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM password_resets")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&stored).contains(&token[4..]));

    let response = confirm(&app, &token, NEW_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(
        response.headers().get("set-cookie").is_none(),
        "a reset signs nobody in"
    );
    let confirm_body = response.text().await.unwrap();

    // Every session is signed out; the old password is gone, the new one works.
    assert_eq!(me_status(&app, &ann.client).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me_status(&app, &laptop).await, StatusCode::UNAUTHORIZED);
    let (status, _) = login(&app, "ann@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, fresh) = login(&app, "ann@example.com", NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me_status(&app, &fresh).await, StatusCode::OK);

    // The link works once.
    let reused = confirm(&app, &token, "yet another passphrase").await;
    let reused = expect_error(reused, StatusCode::BAD_REQUEST, "reset_token_used").await;
    let (status, _) = login(&app, "ann@example.com", NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "the reused link changed nothing");

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("password reset link mailed"),
        "the capture works and saw the flow"
    );
    for (what, haystack) in [
        ("logs", text.as_str()),
        ("request answer", body.as_str()),
        ("confirm answer", confirm_body.as_str()),
        ("reuse answer", &reused.to_string()),
    ] {
        assert!(
            !haystack.contains(&token[4..]),
            "the token appears in the {what}"
        );
    }
}

#[tokio::test]
async fn unknown_addresses_get_the_same_answer_and_no_mail() {
    let app = spawn_app().await;
    app.signup("ann@example.com", "Acme").await;

    let unknown = ask_reset(&app, "nobody@example.com").await;
    let known = ask_reset(&app, "ann@example.com").await;
    assert_eq!(unknown, known);
    assert_eq!(unknown.0, StatusCode::ACCEPTED);

    reset_mail(&app, "ann@example.com", 1).await;
    let mails = app.mails();
    assert_eq!(mails.len(), 1, "only Ann got a mail: {mails:?}");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM password_resets")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(rows, 1);

    // Not an address at all: a validation error, which says nothing about accounts.
    let response = client()
        .post(app.url("/api/auth/password-reset"))
        .json(&json!({ "email": "not an address" }))
        .send()
        .await
        .unwrap();
    expect_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn an_address_gets_at_most_three_links_an_hour() {
    let app = spawn_app().await;
    app.signup("ann@example.com", "Acme").await;
    for _ in 0..5 {
        assert_eq!(
            ask_reset(&app, "ann@example.com").await.0,
            StatusCode::ACCEPTED
        );
    }
    reset_mail(&app, "ann@example.com", 3).await;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM password_resets")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(rows, 3);
    assert_eq!(app.mails().len(), 3);
}

#[tokio::test]
async fn expired_unknown_and_superseded_links_change_nothing() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;

    let unknown = confirm(&app, "pbr_doesnotexist", NEW_PASSWORD).await;
    expect_error(unknown, StatusCode::BAD_REQUEST, "reset_token_unknown").await;

    ask_reset(&app, "ann@example.com").await;
    let (first, _) = reset_mail(&app, "ann@example.com", 1).await;
    // 31 minutes later: the link has expired.
    sqlx::query("UPDATE password_resets SET expires_at = now() - interval '1 minute'")
        .execute(&app.db)
        .await
        .unwrap();
    let expired = confirm(&app, &first, NEW_PASSWORD).await;
    expect_error(expired, StatusCode::BAD_REQUEST, "reset_token_expired").await;

    // A weak password is refused without spending the link.
    ask_reset(&app, "ann@example.com").await;
    let (second, _) = reset_mail(&app, "ann@example.com", 2).await;
    ask_reset(&app, "ann@example.com").await;
    let (third, _) = reset_mail(&app, "ann@example.com", 3).await;
    let weak = confirm(&app, &second, "short").await;
    let weak = expect_error(weak, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(weak["error"]["field"], "password");

    // Nothing changed: the old password still works, the session still stands.
    assert_eq!(me_status(&app, &ann.client).await, StatusCode::OK);
    assert_eq!(
        login(&app, "ann@example.com", PASSWORD).await.0,
        StatusCode::OK
    );

    // Using one link spends the other open one too.
    let ok = confirm(&app, &second, NEW_PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    let superseded = confirm(&app, &third, "the attacker's passphrase").await;
    expect_error(superseded, StatusCode::BAD_REQUEST, "reset_token_used").await;
    assert_eq!(
        login(&app, "ann@example.com", NEW_PASSWORD).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn password_resets_are_out_of_the_user_roles_reach() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    ask_reset(&app, "ann@example.com").await;
    reset_mail(&app, "ann@example.com", 1).await;
    let mut tx = app.db.begin().await.unwrap();
    sqlx::query("SELECT set_config('role', 'pulseboard_app', true), set_config('pulseboard.user_id', $1, true)")
        .bind(ann.id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let denied = sqlx::query("SELECT count(*) FROM password_resets")
        .execute(&mut *tx)
        .await;
    assert!(
        denied.is_err(),
        "the app role has no grant on password_resets"
    );
    tx.rollback().await.unwrap();
}

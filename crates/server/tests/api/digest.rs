//! The Monday digest: one per member per ISO week however often it runs (two cron
//! calls and a second process), movers that equal the arranged numbers and what the
//! metrics API answers for the same windows, no other organization's numbers, and
//! an unsubscribe link that acts only on POST with an intact token.

use chrono::{Duration, Utc};
use chrono_tz::Tz;
use pulseboard_server::{digest::send_weekly, startup::Application};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    alerts::{app_with_cron, noon, record, stripe_integration, CRON_SECRET, ZONE},
    helpers::{test_config, TestApp, TestUser},
};

/// (metric, the 7 days before last week, last week); refunds and failed payments
/// are bad news when they rise.
const WEEK: &[(&str, i64, i64)] = &[
    ("gross_revenue", 100_000, 150_000), // +50 %: a win
    ("refunds", 10_000, 4_000),          // −60 %: a win (fewer refunds)
    ("net_revenue", 90_000, 145_000),    // +61.1 %: a win
    ("new_customers", 20, 21),           // +5 %: a win, but fourth
    ("successful_charges", 100, 90),     // −10 %: a loss
    ("failed_payments", 5, 10),          // +100 %: a loss
];

async fn board_with_every_metric(app: &TestApp, user: &TestUser) {
    let board: Value = user
        .client
        .post(app.url(&format!("/api/orgs/{}/dashboards", user.org_slug)))
        .json(&json!({ "workspace_id": user.workspace_id, "name": "Weekly numbers" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (metric, _, _) in WEEK {
        let response = user
            .client
            .post(app.url(&format!(
                "/api/orgs/{}/dashboards/{}/widgets",
                user.org_slug,
                board["id"].as_str().unwrap()
            )))
            .json(&json!({ "type": "kpi_card", "title": metric,
                           "query_config": { "metric": format!("stripe.{metric}"), "range": "last_30_days",
                                             "scope": { "store": user.store_id } } }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
}

/// Seeds the two weeks for `user`'s store, `scale` times the table's numbers.
async fn seed_weeks(app: &TestApp, user: &TestUser, store_name: &str, scale: i64) {
    sqlx::query("UPDATE stores SET name = $2 WHERE id = $1")
        .bind(user.store_id)
        .bind(store_name)
        .execute(&app.db)
        .await
        .unwrap();
    let integration = stripe_integration(app, user, Utc::now()).await;
    let today = Utc::now()
        .with_timezone(&ZONE.parse::<Tz>().unwrap())
        .date_naive();
    for (metric, before, last) in WEEK {
        record(
            app,
            user,
            integration,
            metric,
            noon(today - Duration::days(10)),
            before * scale,
        )
        .await;
        record(
            app,
            user,
            integration,
            metric,
            noon(today - Duration::days(3)),
            last * scale,
        )
        .await;
    }
    board_with_every_metric(app, user).await;
}

async fn cron_digest(app: &TestApp) -> Value {
    let response = reqwest::Client::new()
        .post(app.url("/api/cron/weekly-digest"))
        .bearer_auth(CRON_SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|m| m["metric"].as_str().unwrap().to_owned())
        .collect()
}

fn mail_to<'a>(mails: &'a [String], to: &str) -> Vec<&'a String> {
    mails
        .iter()
        .filter(|m| m.contains(&format!("To: {to}")) && m.contains("Subject: Your week"))
        .collect()
}

#[tokio::test]
async fn one_digest_per_member_per_week_with_the_right_movers_and_only_their_own_org() {
    let app = app_with_cron().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    seed_weeks(&app, &ann, "Acme Coffee", 1).await;
    let (member, mo) = app.join(&ann, "mo@example.com", "member").await;
    // A member sees the dashboards of the workspaces they belong to.
    let response = ann
        .client
        .put(app.url(&format!(
            "/api/orgs/acme/workspaces/{}/members/{mo}",
            ann.workspace_id
        )))
        .json(&json!({ "role": "viewer" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    app.join(&ann, "vi@example.com", "viewer").await;
    let bob = app.signup("bob@example.com", "Bikes").await;
    seed_weeks(&app, &bob, "Bob's Bikes", 7).await;

    // An alert that fired this week is something to watch.
    sqlx::query(
        "WITH a AS (INSERT INTO alerts (id, org_id, name, metric, scope, kind, threshold)
                    VALUES (gen_random_uuid(), $1, 'Refund spike', 'stripe.refunds', jsonb_build_object('store', $2), 'above', 1)
                    RETURNING id)
         INSERT INTO alert_events (id, org_id, alert_id, window_key, message, fired_at)
         SELECT gen_random_uuid(), $1, id, 'w', 'm', now() - interval '2 days' FROM a",
    )
    .bind(ann.org_id)
    .bind(ann.store_id)
    .execute(&app.db)
    .await
    .unwrap();

    // Movers: the three largest good moves and the bad ones, by size.
    let preview: Value = ann
        .client
        .get(app.url("/api/orgs/acme/digest/preview"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        names(&preview["wins"]),
        [
            "stripe.net_revenue",
            "stripe.refunds",
            "stripe.gross_revenue"
        ]
    );
    assert_eq!(
        names(&preview["losses"]),
        ["stripe.failed_payments", "stripe.successful_charges"]
    );
    // Each equals the arranged numbers and the metrics API for the same windows.
    for mover in preview["wins"]
        .as_array()
        .unwrap()
        .iter()
        .chain(preview["losses"].as_array().unwrap())
    {
        let metric = mover["metric"].as_str().unwrap();
        let (_, before, last) = WEEK
            .iter()
            .find(|(m, _, _)| format!("stripe.{m}") == metric)
            .unwrap();
        assert_eq!(
            (mover["previous"].as_i64(), mover["current"].as_i64()),
            (Some(*before), Some(*last)),
            "{metric}"
        );
        let api: Value = ann
            .client
            .post(app.url("/api/orgs/acme/metrics/query"))
            .json(
                &json!({ "metric": metric, "range": "last_7_days", "compare_to": "previous_period",
                           "scope": { "store": ann.store_id } }),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(mover["current"], api["total"], "{metric}");
        assert_eq!(mover["previous"], api["previous"]["total"], "{metric}");
    }
    assert!(preview["html"].as_str().unwrap().contains("Acme Coffee"));
    let watch = preview["watch"].to_string();
    assert!(watch.contains("Refund spike"), "{watch}");

    // Two runs and a second process: each member once, viewers never.
    let first = cron_digest(&app).await;
    assert_eq!(first["sent"], 3, "{first}");
    let again = cron_digest(&app).await;
    assert_eq!(
        (again["sent"].as_u64(), again["already_sent"].as_u64()),
        (Some(0), Some(3))
    );
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(Some(app.database_url.clone()), dir.path().to_path_buf());
    config.sync.workers = 0;
    config.sync.alerts_every = None;
    config.sync.weekly_digest = false;
    let restarted = Application::build(config).await.unwrap();
    assert_eq!(
        send_weekly(restarted.state(), Utc::now())
            .await
            .unwrap()
            .sent,
        0
    );
    let audit: i64 =
        sqlx::query_scalar("SELECT count(*) FROM digests_sent WHERE email_id IS NOT NULL")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(audit, 3);

    app.deliver_mail().await;
    let mails = app.mails();
    for to in ["ann@example.com", "mo@example.com", "bob@example.com"] {
        assert_eq!(mail_to(&mails, to).len(), 1, "{to}");
    }
    assert!(mail_to(&mails, "vi@example.com").is_empty());
    let ann_mail = mail_to(&mails, "ann@example.com")[0];
    assert!(
        ann_mail.contains("$1,450.00") && ann_mail.contains("Acme Coffee"),
        "{ann_mail}"
    );
    assert!(ann_mail.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    // Bob's numbers are seven times Acme's; neither mail carries the other's.
    let bob_mail = mail_to(&mails, "bob@example.com")[0];
    assert!(bob_mail.contains("$10,150.00") && bob_mail.contains("Bob's Bikes"));
    assert!(
        !bob_mail.contains("Acme") && !bob_mail.contains("$1,450.00"),
        "{bob_mail}"
    );
    assert!(!ann_mail.contains("Bob's Bikes") && !ann_mail.contains("$10,150.00"));

    // Unsubscribe: a GET only asks, a forged token is refused, a POST unsubscribes.
    let mo_mail = mail_to(&mails, "mo@example.com")[0];
    let start = mo_mail
        .find("/api/mail/unsubscribe/")
        .expect("an unsubscribe link");
    let link: String = mo_mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "/_-.".contains(*c))
        .collect();
    let prefs = || async {
        member
            .get(app.url("/api/orgs/acme/notifications"))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    let page = reqwest::get(app.url(&link)).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("<form method=\"post\">"));
    assert_eq!(prefs().await["digest"], true, "a GET changes nothing");
    let token = link.trim_start_matches("/api/mail/unsubscribe/");
    let (payload, signature) = token.split_once('.').unwrap();
    let other_org = base64_url(&format!(
        "m1|{}|u:{}|digest",
        Uuid::new_v4(),
        Uuid::new_v4()
    ));
    for forged in [
        format!("{other_org}.{signature}"),
        format!("{payload}.{}", "0".repeat(64)),
    ] {
        let response = reqwest::Client::new()
            .post(app.url(&format!("/api/mail/unsubscribe/{forged}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    assert_eq!(prefs().await["digest"], true);
    // RFC 8058: the mail provider POSTs the form body from outside any browser.
    let response = reqwest::Client::new()
        .post(app.url(&link))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(prefs().await["digest"], false);

    // Next week Mo gets nothing; Ann still does.
    let next_week = Utc::now() + Duration::days(7);
    let report = send_weekly(&app.app_state, next_week).await.unwrap();
    assert_eq!((report.sent, report.opted_out), (2, 1));
}

fn base64_url(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

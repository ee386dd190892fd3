//! Alerts: rules fire exactly once per crossing whatever runs the check and however
//! often, honour cooldown and snooze, wait on stale data, and the pace and anomaly
//! detectors give the answers worked out here by hand (across a change of daylight
//! saving time and a month end). The numbers are arranged as metric events, the
//! shape every sync writes, so the rules read them through the real metrics service.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use pulseboard_server::alerts::evaluate::check_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{expect_error, spawn_app_with, TestApp, TestUser};

pub const CRON_SECRET: &str = "cron-secret-for-tests";

pub async fn app_with_cron() -> TestApp {
    spawn_app_with(|c| c.cron_secret = Some(CRON_SECRET.to_string().into())).await
}

pub const ZONE: &str = "America/New_York";

/// A connected Stripe integration on the user's store (New York, USD), last synced at `synced`.
pub async fn stripe_integration(app: &TestApp, user: &TestUser, synced: DateTime<Utc>) -> Uuid {
    sqlx::query("UPDATE stores SET timezone = $2, currency = 'USD' WHERE id = $1")
        .bind(user.store_id)
        .bind(ZONE)
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query_scalar(
        "INSERT INTO integrations (id, org_id, store_id, provider, auth_kind, external_account_id, account_label, cadence_minutes, last_synced_at)
         VALUES (gen_random_uuid(), $1, $2, 'stripe', 'api_key', 'acct_1', 'Acme Stripe', 15, $3) RETURNING id",
    )
    .bind(user.org_id)
    .bind(user.store_id)
    .bind(synced)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

pub async fn synced_at(app: &TestApp, integration: Uuid, at: DateTime<Utc>) {
    sqlx::query("UPDATE integrations SET last_synced_at = $2 WHERE id = $1")
        .bind(integration)
        .bind(at)
        .execute(&app.db)
        .await
        .unwrap();
}

/// Records `cents` of a Stripe metric at `at`, as a sync would, and rolls the day up.
pub async fn record(
    app: &TestApp,
    user: &TestUser,
    integration: Uuid,
    metric: &str,
    at: DateTime<Utc>,
    cents: i64,
) {
    let day = at.with_timezone(&ZONE.parse::<Tz>().unwrap()).date_naive();
    sqlx::query(
        "WITH e AS (INSERT INTO metric_events (org_id, store_id, integration_id, source, metric_name, metric_value, dimensions, recorded_at, source_record_id)
                    VALUES ($1, $2, $3, 'stripe', $4, $5, '{\"currency\": \"USD\"}', $6, 'charge/' || gen_random_uuid()))
         INSERT INTO rollup_dirty_days (org_id, store_id, day) VALUES ($1, $2, $7) ON CONFLICT DO NOTHING",
    )
    .bind(user.org_id)
    .bind(user.store_id)
    .bind(integration)
    .bind(metric)
    .bind(cents)
    .bind(at)
    .bind(day)
    .execute(&app.db)
    .await
    .unwrap();
    let state = &app.app_state;
    let catalog = |source: &str| {
        state
            .providers
            .get(source)
            .map_or(&[][..], |p| p.info().metrics)
    };
    pulseboard_server::sync::rollups::refresh_store(&state.db, user.store_id, &catalog)
        .await
        .unwrap();
}

/// Noon in New York on `day`.
pub fn noon(day: NaiveDate) -> DateTime<Utc> {
    local(day, "12:00")
}

pub fn local(day: NaiveDate, time: &str) -> DateTime<Utc> {
    let tz: Tz = ZONE.parse().unwrap();
    tz.from_local_datetime(&day.and_time(NaiveTime::parse_from_str(time, "%H:%M").unwrap()))
        .unwrap()
        .with_timezone(&Utc)
}

pub async fn create_alert(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let response = user
        .client
        .post(app.url(&format!("/api/orgs/{}/alerts", user.org_slug)))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn get_alert(app: &TestApp, user: &TestUser, id: &str) -> Value {
    user.client
        .get(app.url(&format!("/api/orgs/{}/alerts/{id}", user.org_slug)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn fired(app: &TestApp, alert: &str) -> Vec<(i64, i64)> {
    sqlx::query_as(
        "SELECT coalesce(value, 0), coalesce(baseline, 0) FROM alert_events WHERE alert_id = $1::uuid ORDER BY fired_at",
    )
    .bind(alert)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

async fn queued(app: &TestApp, kind: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM email_outbox WHERE kind = $1")
        .bind(kind)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn cron(app: &TestApp, route: &str) -> Value {
    let response = reqwest::Client::new()
        .post(app.url(&format!("/api/cron/{route}")))
        .bearer_auth(CRON_SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn below_1000(store: Uuid) -> Value {
    json!({ "name": "Revenue dipped", "metric": "stripe.gross_revenue", "scope": { "store": store },
            "kind": "below", "threshold": 100_000, "period": "yesterday" })
}

#[tokio::test]
async fn a_crossing_fires_once_across_concurrent_checks_and_reruns_then_honours_cooldown_snooze_and_staleness(
) {
    let app = app_with_cron().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let now = Utc::now();
    let integration = stripe_integration(&app, &ann, now).await;
    let tz: Tz = ZONE.parse().unwrap();
    let today = now.with_timezone(&tz).date_naive();
    record(
        &app,
        &ann,
        integration,
        "gross_revenue",
        noon(today - Duration::days(1)),
        50_000,
    )
    .await;
    let alert = create_alert(&app, &ann, below_1000(ann.store_id)).await;
    let id = alert["id"].as_str().unwrap();
    assert_eq!(alert["status"], "pending");
    assert_eq!(
        alert["recipient_user_ids"],
        json!([ann.id]),
        "the creator by default"
    );

    // Two concurrent checks, then a rerun: one event, one mail.
    let (first, second) = tokio::join!(cron(&app, "check-alerts"), cron(&app, "check-alerts"));
    assert_eq!(
        first["fired"].as_u64().unwrap() + second["fired"].as_u64().unwrap(),
        1
    );
    assert_eq!(cron(&app, "check-alerts").await["fired"], 0);
    assert_eq!(fired(&app, id).await, vec![(50_000, 0)]);
    assert_eq!(queued(&app, "alert").await, 1);
    let shown = get_alert(&app, &ann, id).await;
    assert_eq!(shown["status"], "triggered");
    assert_eq!(shown["last_value"], 50_000);
    assert!(shown["last_triggered_at"].is_string());

    // The mail says what crossed which line, with the facts and the links.
    app.deliver_mail().await;
    let mails = app.mails();
    let mail = mails
        .iter()
        .find(|m| m.contains("Subject: [Stripe]"))
        .expect("alert mail");
    assert!(
        mail.contains("Subject: [Stripe] [Gross revenue] [below] $1,000.00"),
        "{mail}"
    );
    assert!(mail.contains("$500.00"));
    assert!(mail.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    assert!(mail.contains("/api/mail/snooze/"));
    assert!(mail.contains("Stripe synced"));

    // Editing re-arms the rule for the same day, but the 24 h cooldown still holds it.
    let response = ann
        .client
        .put(app.url(&format!("/api/orgs/acme/alerts/{id}")))
        .json(&below_1000(ann.store_id))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(check_all(&app.app_state, now).await.unwrap().fired, 0);
    // A day later (fresh data, the condition holds again: no revenue that day) it fires.
    let later = now + Duration::hours(25);
    synced_at(&app, integration, later).await;
    assert_eq!(check_all(&app.app_state, later).await.unwrap().fired, 1);
    assert_eq!(fired(&app, id).await.len(), 2);

    // Snoozed: evaluated, not sent; unsnoozed: sent.
    let response = ann
        .client
        .post(app.url(&format!("/api/orgs/acme/alerts/{id}/snooze")))
        .json(&json!({ "hours": 720 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let snoozed: Value = response.json().await.unwrap();
    assert_eq!(snoozed["status"], "snoozed");
    let two_days = now + Duration::hours(50);
    synced_at(&app, integration, two_days).await;
    assert_eq!(check_all(&app.app_state, two_days).await.unwrap().fired, 0);
    let response = ann
        .client
        .delete(app.url(&format!("/api/orgs/acme/alerts/{id}/snooze")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // Stale data: Stripe last synced 5 hours before the check → waiting, nothing sent.
    let stale = two_days + Duration::hours(5);
    let report = check_all(&app.app_state, stale).await.unwrap();
    assert_eq!((report.fired, report.waiting), (0, 1));
    let shown = get_alert(&app, &ann, id).await;
    assert_eq!(shown["status"], "waiting");
    assert!(
        shown["status_reason"]
            .as_str()
            .unwrap()
            .contains("Stripe last synced"),
        "{shown}"
    );
    // Fresh again: it fires.
    synced_at(&app, integration, stale).await;
    assert_eq!(check_all(&app.app_state, stale).await.unwrap().fired, 1);
    assert_eq!(fired(&app, id).await.len(), 3);
    assert_eq!(queued(&app, "alert").await, 3);

    // History, newest first.
    let history: Value = ann
        .client
        .get(app.url(&format!("/api/orgs/acme/alerts/{id}/events")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(history.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn pace_cuts_last_week_at_the_same_local_hour_across_a_dst_change() {
    let app = app_with_cron().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    // Tuesday 2026-03-10 14:30 in New York (EDT, UTC−4); a week earlier New York was
    // on EST (UTC−5), so "14:30 last Tuesday" is 19:30 UTC, not 18:30.
    let day = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
    let week_ago = day - Duration::days(7);
    let now = local(day, "14:30");
    assert_eq!(
        now,
        "2026-03-10T18:30:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    let integration = stripe_integration(&app, &ann, now - Duration::minutes(10)).await;
    let last_week = [
        ("09:00", 30_000),
        ("14:00", 40_000),
        ("14:20", 30_000),
        ("14:45", 50_000),
        ("20:00", 90_000),
    ];
    for (time, cents) in last_week {
        record(
            &app,
            &ann,
            integration,
            "gross_revenue",
            local(week_ago, time),
            cents,
        )
        .await;
    }
    for (time, cents) in [("10:00", 25_000), ("13:00", 15_000)] {
        record(
            &app,
            &ann,
            integration,
            "gross_revenue",
            local(day, time),
            cents,
        )
        .await;
    }
    // Worked out by hand: last week until 14:30 local = 300 + 400 + 300 = $1,000;
    // today so far $400, 60 % behind.
    let expected_baseline: i64 = last_week
        .iter()
        .filter(|(t, _)| {
            NaiveTime::parse_from_str(t, "%H:%M").unwrap()
                <= NaiveTime::from_hms_opt(14, 30, 0).unwrap()
        })
        .map(|(_, c)| c)
        .sum();
    assert_eq!(expected_baseline, 100_000);

    let behind_half = create_alert(
        &app,
        &ann,
        json!({ "name": "Behind pace", "metric": "stripe.gross_revenue", "scope": { "store": ann.store_id },
                "kind": "pace", "threshold": 50 }),
    )
    .await;
    assert_eq!(behind_half["period"], "today");
    let behind_most = create_alert(
        &app,
        &ann,
        json!({ "name": "Far behind", "metric": "stripe.gross_revenue", "scope": { "store": ann.store_id },
                "kind": "pace", "threshold": 70 }),
    )
    .await;
    let report = check_all(&app.app_state, now).await.unwrap();
    assert_eq!(report.fired, 1);
    assert_eq!(
        fired(&app, behind_half["id"].as_str().unwrap()).await,
        vec![(40_000, expected_baseline)]
    );
    assert!(fired(&app, behind_most["id"].as_str().unwrap())
        .await
        .is_empty());
    let shown = get_alert(&app, &ann, behind_most["id"].as_str().unwrap()).await;
    assert_eq!(shown["status"], "ok");
    assert_eq!(shown["last_baseline"], expected_baseline);

    // At 09:30 last Tuesday had made $300 of its $2,400 day (12.5 %): too early to
    // call the pace, so the rule waits instead of firing on a handful of orders.
    let morning = local(day, "09:30");
    synced_at(&app, integration, morning).await;
    check_all(&app.app_state, morning).await.unwrap();
    let shown = get_alert(&app, &ann, behind_most["id"].as_str().unwrap()).await;
    assert_eq!(shown["status"], "waiting");
    assert!(
        shown["status_reason"].as_str().unwrap().contains("12%"),
        "{shown}"
    );
}

/// The usual band of the anomaly rule, computed here independently: median and
/// median absolute deviation, scaled by 1.4826, never narrower than 10 % of the median.
fn band(values: &[i64], k: f64) -> (f64, f64, f64) {
    let mut sorted: Vec<f64> = values.iter().map(|v| *v as f64).collect();
    sorted.sort_by(f64::total_cmp);
    let mid = |v: &[f64]| {
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    };
    let median = mid(&sorted);
    let mut deviations: Vec<f64> = sorted.iter().map(|v| (v - median).abs()).collect();
    deviations.sort_by(f64::total_cmp);
    let width = (k * 1.4826 * mid(&deviations))
        .max(0.1 * median.abs())
        .max(1.0);
    (median, median - width, median + width)
}

#[tokio::test]
async fn anomaly_judges_yesterday_against_the_same_weekday_over_eight_weeks_across_a_month_end_and_dst(
) {
    let app = app_with_cron().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    // Wednesday 2026-04-01, 11:00 in New York: yesterday is Tuesday March 31 (a month
    // end); the eight Tuesdays before it span February, March and the DST change.
    let today = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
    let yesterday = today - Duration::days(1);
    let now = local(today, "11:00");
    let integration = stripe_integration(&app, &ann, now - Duration::minutes(5)).await;
    let tuesdays: Vec<i64> = vec![
        100_000, 110_000, 90_000, 105_000, 95_000, 100_000, 102_000, 98_000,
    ];
    for (weeks, cents) in tuesdays.iter().enumerate() {
        let day = yesterday - Duration::weeks(weeks as i64 + 1);
        // Late evening: a zone mistake would move it to the next day.
        record(
            &app,
            &ann,
            integration,
            "gross_revenue",
            local(day, "23:30"),
            *cents,
        )
        .await;
    }
    // Other weekdays are noise the band must ignore.
    for back in [2, 3, 9] {
        record(
            &app,
            &ann,
            integration,
            "gross_revenue",
            noon(yesterday - Duration::days(back)),
            9_000_000,
        )
        .await;
    }
    record(
        &app,
        &ann,
        integration,
        "gross_revenue",
        local(yesterday, "23:30"),
        300_000,
    )
    .await;

    let (median, low, high) = band(&tuesdays, 3.0);
    assert!(300_000.0 > high && low > 0.0);
    let anomaly = create_alert(
        &app,
        &ann,
        json!({ "name": "Unusual revenue", "metric": "stripe.gross_revenue", "scope": { "store": ann.store_id },
                "kind": "anomaly", "threshold": 3 }),
    )
    .await;
    assert!(anomaly["method"]
        .as_str()
        .unwrap()
        .contains("median absolute deviation"));
    assert_eq!(check_all(&app.app_state, now).await.unwrap().fired, 1);
    assert_eq!(
        fired(&app, anomaly["id"].as_str().unwrap()).await,
        vec![(300_000, median.round() as i64)]
    );

    // A day inside the band does not fire: the same rule judged a week earlier
    // (Tuesday March 24, 100,000 ¢) with the seven Tuesdays before it.
    let earlier_now = local(today - Duration::days(7), "11:00");
    let (_, low, high) = band(&tuesdays[1..], 3.0);
    assert!((low..=high).contains(&(tuesdays[0] as f64)));
    let quiet = create_alert(
        &app,
        &ann,
        json!({ "name": "Quiet week", "metric": "stripe.gross_revenue", "scope": { "store": ann.store_id },
                "kind": "anomaly", "threshold": 3 }),
    )
    .await;
    synced_at(&app, integration, earlier_now).await;
    check_all(&app.app_state, earlier_now).await.unwrap();
    assert!(fired(&app, quiet["id"].as_str().unwrap()).await.is_empty());
    assert_eq!(
        get_alert(&app, &ann, quiet["id"].as_str().unwrap()).await["status"],
        "ok"
    );
}

#[tokio::test]
async fn rules_are_validated_and_only_admins_write_them() {
    let app = app_with_cron().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    stripe_integration(&app, &ann, Utc::now()).await;
    let url = app.url("/api/orgs/acme/alerts");
    let post = |body: Value| ann.client.post(&url).json(&body).send();
    let mut body = below_1000(ann.store_id);
    body["metric"] = json!("stripe.no_such_metric");
    expect_error(
        post(body).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let mut body = below_1000(ann.store_id);
    body["kind"] = json!("pace");
    body["period"] = json!("yesterday");
    let error = expect_error(
        post(body).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("today"),
        "{error}"
    );
    let mut body = below_1000(ann.store_id);
    body["recipient_emails"] = json!(["not-an-address"]);
    expect_error(
        post(body).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let mut body = below_1000(ann.store_id);
    body["colour"] = json!("red");
    expect_error(
        post(body).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let mut body = below_1000(ann.store_id);
    body["scope"] = json!({ "store": Uuid::new_v4() });
    expect_error(
        post(body).await.unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM alerts")
            .fetch_one(&app.db)
            .await
            .unwrap(),
        0,
        "nothing half-saved"
    );

    // A member reads rules but cannot write them; a viewer sees none.
    let alert = create_alert(&app, &ann, below_1000(ann.store_id)).await;
    let (member, _) = app.join(&ann, "mo@example.com", "member").await;
    let listed: Value = member.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let response = member
        .post(&url)
        .json(&below_1000(ann.store_id))
        .send()
        .await
        .unwrap();
    expect_error(response, StatusCode::FORBIDDEN, "forbidden").await;
    let response = member
        .delete(app.url(&format!(
            "/api/orgs/acme/alerts/{}",
            alert["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    expect_error(response, StatusCode::FORBIDDEN, "forbidden").await;
    let (viewer, _) = app.join(&ann, "vi@example.com", "viewer").await;
    expect_error(
        viewer.get(&url).send().await.unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn send_test_mails_the_caller_a_marked_sample_and_records_nothing() {
    let app = app_with_cron().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let integration = stripe_integration(&app, &ann, Utc::now()).await;
    let yesterday = Utc::now()
        .with_timezone(&ZONE.parse::<Tz>().unwrap())
        .date_naive()
        - Duration::days(1);
    record(
        &app,
        &ann,
        integration,
        "gross_revenue",
        noon(yesterday),
        250_000,
    )
    .await;
    let alert = create_alert(&app, &ann, below_1000(ann.store_id)).await;
    let response = ann
        .client
        .post(app.url(&format!(
            "/api/orgs/acme/alerts/{}/test",
            alert["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let sent: Value = response.json().await.unwrap();
    assert_eq!(sent["sent_to"], "ann@example.com");
    assert_eq!(sent["status"], "ok", "$2,500 is not below $1,000: {sent}");
    app.deliver_mail().await;
    let mails = app.mails();
    let mail = mails
        .iter()
        .find(|m| m.contains("Subject: [Test]"))
        .expect("a test mail");
    assert!(mail.contains("$2,500.00"), "{mail}");
    assert!(fired(&app, alert["id"].as_str().unwrap()).await.is_empty());
}

#[tokio::test]
async fn a_rule_with_a_slack_channel_posts_the_same_facts_there_once() {
    let app = app_with_cron().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let integration = stripe_integration(&app, &ann, Utc::now()).await;
    let yesterday = Utc::now()
        .with_timezone(&ZONE.parse::<Tz>().unwrap())
        .date_naive()
        - Duration::days(1);
    record(
        &app,
        &ann,
        integration,
        "gross_revenue",
        noon(yesterday),
        12_345,
    )
    .await;
    let channel: Value = ann
        .client
        .post(app.url("/api/orgs/acme/slack-channels"))
        .json(&json!({ "name": "#sales", "webhook_url": "https://hooks.slack.com/services/T1/B1/s3cr3t" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut rule = below_1000(ann.store_id);
    rule["slack_channel_id"] = channel["id"].clone();
    rule["recipient_user_ids"] = json!([]);
    let alert = create_alert(&app, &ann, rule).await;
    assert_eq!(
        alert["recipient_user_ids"],
        json!([]),
        "Slack alone is enough"
    );
    let mut unknown = below_1000(ann.store_id);
    unknown["slack_channel_id"] = json!(Uuid::new_v4());
    let response = ann
        .client
        .post(app.url("/api/orgs/acme/alerts"))
        .json(&unknown)
        .send()
        .await
        .unwrap();
    expect_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    cron(&app, "check-alerts").await;
    cron(&app, "check-alerts").await;
    let payloads: Vec<Value> = sqlx::query_scalar("SELECT payload FROM slack_outbox")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(payloads.len(), 1);
    let body = payloads[0].to_string();
    assert!(payloads[0]["blocks"].is_array());
    assert!(
        body.contains("$123.45") && body.contains("$1,000.00"),
        "{body}"
    );
    assert_eq!(queued(&app, "alert").await, 0, "no mail recipients");
}

//! Gorgias against the simulator, through the real HTTP API: a wrong key is
//! refused before anything is saved; every catalog metric equals, day by day, what
//! the simulator's ledger says (computed here from its tickets); the HTTP
//! integration's deliveries bring new tickets and replies before any pull, a
//! replay and the reconciling pull count nothing twice, a wrong secret is refused
//! and stores nothing; the documented 429 snoozes the job.

use std::{collections::BTreeMap, time::Duration};

use chrono::{DateTime, Days, NaiveDate, Utc};
use pulseboard_connectors::sentiment;
use pulseboard_simulator::{defaults, endpoints, GorgiasLedger};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    helpers::{expect_error, spawn_app_with_simulator, TestApp, TestUser},
    metrics::{assert_daily_series, query},
    sync::{run_all, small_history},
};

const METRICS: [&str; 10] = [
    "tickets_created",
    "tickets_closed",
    "tagged_tickets",
    "replied_tickets",
    "first_response_seconds_total",
    "resolution_seconds_total",
    "csat_responses",
    "csat_score_total",
    "sentiment_total",
    "first_response_seconds",
];

async fn store(app: &TestApp, user: &TestUser) -> Uuid {
    app.create_store(user, "Coffee", "UTC").await
}

async fn connect(app: &TestApp, user: &TestUser, store_id: Uuid, key: &str) -> reqwest::Response {
    let fields = [
        ("domain", "acme-coffee.gorgias.com"),
        ("email", defaults::GORGIAS_EMAIL),
        ("api_key", key),
    ];
    app.connect_api_key(user, "gorgias", store_id, &fields)
        .await
}

fn day(unix: i64) -> NaiveDate {
    DateTime::from_timestamp(unix, 0).unwrap().date_naive()
}

/// Metric → UTC day → value, from the ledger's tickets as of its clock.
fn expected(ledger: &GorgiasLedger) -> BTreeMap<&'static str, BTreeMap<NaiveDate, i64>> {
    let mut out: BTreeMap<&'static str, BTreeMap<NaiveDate, i64>> = BTreeMap::new();
    let mut add = |metric: &'static str, at: i64, value: i64| {
        *out.entry(metric).or_default().entry(day(at)).or_default() += value;
    };
    let before = |at: Option<i64>| at.filter(|a| *a < ledger.end);
    for t in ledger
        .tickets
        .iter()
        .filter(|t| !t.spam && t.created_at < ledger.end)
    {
        add("tickets_created", t.created_at, 1);
        for _ in &t.tags {
            add("tagged_tickets", t.created_at, 1);
        }
        add(
            "sentiment_total",
            t.created_at,
            (sentiment(&t.first_message) * 1000.0).round() as i64,
        );
        if let Some(replied) = before(t.replied_at) {
            add("replied_tickets", replied, 1);
            add(
                "first_response_seconds_total",
                replied,
                replied - t.created_at,
            );
        }
        if let Some(closed) = before(t.closed_at) {
            add("tickets_closed", closed, 1);
            add("resolution_seconds_total", closed, closed - t.created_at);
        }
        if let Some((score, scored)) = t.survey.filter(|(_, at)| *at < ledger.end) {
            add("csat_responses", scored, 1);
            add("csat_score_total", scored, score * 100);
        }
    }
    // The average first response per day, rounded half up as the service does.
    let totals = out
        .get("first_response_seconds_total")
        .cloned()
        .unwrap_or_default();
    let replied = out.get("replied_tickets").cloned().unwrap_or_default();
    let averages: BTreeMap<NaiveDate, i64> = totals
        .iter()
        .map(|(d, total)| (*d, (2 * total + replied[d]) / (2 * replied[d])))
        .collect();
    out.insert("first_response_seconds", averages);
    out
}

async fn assert_matches_ledger(
    app: &TestApp,
    user: &TestUser,
    store_id: Uuid,
    ledger: &GorgiasLedger,
    label: &str,
) {
    let to = Utc::now().date_naive();
    let from = to.checked_sub_days(Days::new(24)).unwrap();
    let span: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
    assert_daily_series(
        app,
        user,
        store_id,
        "gorgias",
        &METRICS,
        &expected(ledger),
        &span,
        &[],
        label,
    )
    .await;
    // CSAT over the span is the ledger's average score ×100.
    let r = query(
        app,
        user,
        json!({ "metric": "gorgias.csat", "range": { "custom": { "from": from, "to": to } }, "scope": { "store": store_id } }),
    )
    .await;
    let scores: Vec<i64> = ledger
        .tickets
        .iter()
        .filter(|t| !t.spam)
        .filter_map(|t| {
            t.survey
                .filter(|(_, at)| *at < ledger.end)
                .map(|(s, _)| s * 100)
        })
        .collect();
    let n = scores.len() as i64;
    let sum: i64 = scores.iter().sum();
    assert_eq!(
        r["total"].as_i64().unwrap(),
        (2 * sum + n) / (2 * n),
        "{label}: {r}"
    );
}

async fn event_pairs(app: &TestApp, integration: Uuid) -> (i64, i64) {
    sqlx::query_as(
        "SELECT count(*), count(DISTINCT (metric_name, source_record_id, dimensions)) FROM metric_events WHERE integration_id = $1",
    )
    .bind(integration)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn gorgias_numbers_equal_the_ledger_and_webhooks_then_a_pull_count_once() {
    let mut config = small_history(14);
    config.data.end -= 6 * 3600;
    let (app, sim) = spawn_app_with_simulator(config).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let store_id = store(&app, &ann).await;

    let refused = connect(&app, &ann, store_id, "not_the_key_0000").await;
    let body = expect_error(
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(!body.to_string().contains("not_the_key"), "{body}");
    let none: i64 = sqlx::query_scalar("SELECT count(*) FROM integrations")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(none, 0, "a refused connection stores nothing");

    let response = connect(&app, &ann, store_id, defaults::GORGIAS_API_KEY).await;
    let status = response.status();
    let integration: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{integration}");
    assert_eq!(integration["account_label"], "acme-coffee.gorgias.com");
    let integration: Uuid = integration["id"].as_str().unwrap().parse().unwrap();

    assert_eq!(run_all(&app).await, 1);
    let job = app.latest_job(&ann).await;
    assert_eq!(
        (job["status"].as_str(), job["sync_type"].as_str()),
        (Some("success"), Some("backfill")),
        "{job}"
    );
    let ledger = sim.gorgias_ledger();
    assert!(ledger.tickets.len() > 10, "{}", ledger.tickets.len());
    assert!(sim.calls(endpoints::GORGIAS_TICKETS) >= 1);
    assert_eq!(
        sim.calls(endpoints::GORGIAS_MESSAGES),
        ledger.tickets.len(),
        "one messages call per ticket"
    );
    assert_matches_ledger(&app, &ann, store_id, &ledger, "pull").await;

    // Live: six hours of tickets and replies arrive through the HTTP integration.
    let created: Value = ann
        .client
        .post(app.url(&format!(
            "/api/orgs/acme/integrations/{integration}/webhook"
        )))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["secret_source"], "generated", "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    let url = created["url"].as_str().unwrap();
    let path = url[url.find("/api/webhooks/").unwrap()..].to_owned();
    sim.advance_to(Utc::now().timestamp());
    let later = sim.gorgias_ledger();
    let deliveries = sim.gorgias_webhooks(&secret);
    assert!(!deliveries.is_empty(), "six hours bring news");

    let post = |body: String, headers: Vec<(String, String)>| {
        let mut request = reqwest::Client::new().post(app.url(&path)).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    let mut wrong = deliveries[0].headers.clone();
    wrong[1].1 = "a guessed secret".into();
    let response = post(deliveries[0].body.clone(), wrong).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let inbox: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_inbox")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(inbox, 0, "a refused delivery stores nothing");
    for _ in 0..2 {
        for delivery in &deliveries {
            let response = post(delivery.body.clone(), delivery.headers.clone())
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::OK,
                "{}",
                response.text().await.unwrap()
            );
        }
    }
    crate::webhooks::settle(&app).await;
    assert_matches_ledger(&app, &ann, store_id, &later, "webhooks").await;

    let before = event_pairs(&app, integration).await;
    assert_eq!(before.0, before.1, "no event twice");
    assert_eq!(
        app.request_sync(&ann, integration).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(run_all(&app).await, 1);
    let job = app.latest_job(&ann).await;
    assert_eq!(
        (job["status"].as_str(), job["sync_type"].as_str()),
        (Some("success"), Some("incremental")),
        "{job}"
    );
    assert_matches_ledger(&app, &ann, store_id, &later, "reconciled").await;
    assert_eq!(event_pairs(&app, integration).await, before);
}

#[tokio::test]
async fn a_gorgias_rate_limit_snoozes_the_job() {
    let (app, sim) = spawn_app_with_simulator(small_history(5)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let store_id = store(&app, &ann).await;
    let response = connect(&app, &ann, store_id, defaults::GORGIAS_API_KEY).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let integration: Uuid = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    sim.rate_limit(endpoints::GORGIAS_TICKETS, 1, Duration::from_secs(90));
    assert_eq!(run_all(&app).await, 1);
    let (status, attempt, run_in, error): (String, i32, f64, Option<String>) = sqlx::query_as(
        "SELECT status, attempt, extract(epoch FROM run_after - now())::float8, error FROM sync_jobs WHERE integration_id = $1",
    )
    .bind(integration)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        (status.as_str(), attempt),
        ("queued", 0),
        "a rate limit spends no attempt"
    );
    assert!(run_in > 60.0, "Retry-After is honoured: {run_in}");
    assert!(error
        .unwrap_or_default()
        .contains("40 requests per 20 seconds"));
}

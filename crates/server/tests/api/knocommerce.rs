//! KnoCommerce against the simulator, through the real HTTP API: the connect form
//! (client ID and secret exchanged for a token before anything is saved, a wrong
//! secret refused clearly), a first sync whose answers per question and per
//! answer equal the simulator's ledger over two windows, surveyed orders per
//! store-local day, the response rate against the simulated Shopify shop's orders
//! (`computed.response_rate`, both ledgers read independently), an incremental
//! sync that counts nothing twice, a 429 that snoozes the job and a malformed
//! page that fails it with a clear reason.

use std::{collections::BTreeMap, time::Duration};

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use pulseboard_simulator::{defaults, endpoints, DataConfig, SimulatorConfig, ThrottleConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    helpers::{expect_error, spawn_app_with_simulator, TestApp, TestUser},
    metrics::{assert_daily_series, query},
    oauth::{start_flow, visit},
    sync::{day_of, run_all, shopify_expected},
};

const ZONE: &str = "America/New_York";
const DAY: i64 = 86_400;
const HDYHAU: &str = "8fd7afc7-65f4-48a8-84ee-6f8e4580fd0b";
const WHY: &str = "1b3e5a20-9c4d-4f0e-8a61-2d7c9e0f4b12";

fn config(history: u32, days_ago: i64) -> SimulatorConfig {
    SimulatorConfig {
        data: DataConfig {
            history_days: history,
            shopify_daily_orders: 30.0,
            end: Utc::now().timestamp() - days_ago * DAY,
            ..DataConfig::default()
        },
        shopify_bucket: ThrottleConfig {
            maximum_available: 1000.0,
            restore_rate: 100_000.0,
        },
        ..SimulatorConfig::default()
    }
}

async fn in_new_york(app: &TestApp, user: &TestUser) {
    sqlx::query("UPDATE stores SET timezone = $2, currency = 'USD' WHERE id = $1")
        .bind(user.store_id)
        .bind(ZONE)
        .execute(&app.db)
        .await
        .unwrap();
}

async fn connect_with(
    app: &TestApp,
    user: &TestUser,
    client_id: &str,
    secret: &str,
) -> reqwest::Response {
    user.client
        .post(app.url(&format!(
            "/api/orgs/{}/integrations/knocommerce/api-key",
            user.org_slug
        )))
        .json(&json!({ "store_id": user.store_id, "fields": { "client_id": client_id, "api_key": secret } }))
        .send()
        .await
        .unwrap()
}

async fn connect(app: &TestApp, user: &TestUser) -> Uuid {
    let response = connect_with(
        app,
        user,
        defaults::KNOCOMMERCE_CLIENT_ID,
        defaults::KNOCOMMERCE_CLIENT_SECRET,
    )
    .await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{text}");
    assert!(!text.contains(defaults::KNOCOMMERCE_CLIENT_SECRET));
    let integration: Value = serde_json::from_str(&text).unwrap();
    integration["id"].as_str().unwrap().parse().unwrap()
}

fn unix(iso: &Value) -> i64 {
    DateTime::parse_from_rfc3339(iso.as_str().unwrap())
        .unwrap()
        .timestamp()
}

/// The completed responses of the ledger (the sync asks for `status=completed`).
fn completed(ledger: &Value) -> Vec<&Value> {
    ledger["responses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["completed_at"].is_null())
        .collect()
}

fn answered_day(response: &Value) -> NaiveDate {
    day_of(unix(&response["completed_at"]), ZONE.parse().unwrap())
}

/// Metric → store-local day → value, from the ledger alone.
fn expected(ledger: &Value) -> BTreeMap<&'static str, BTreeMap<NaiveDate, i64>> {
    let mut out: BTreeMap<&'static str, BTreeMap<NaiveDate, i64>> = BTreeMap::new();
    for response in completed(ledger) {
        let day = answered_day(response);
        let mut add = |metric| *out.entry(metric).or_default().entry(day).or_default() += 1;
        add("survey_responses");
        if !response["order"]["id"].is_null() {
            add("surveyed_orders");
        }
        for answer in response["response"].as_array().unwrap() {
            match &answer["value"] {
                Value::Array(values) => values.iter().for_each(|_| add("responses")),
                Value::Null => {}
                _ => add("responses"),
            }
        }
    }
    out
}

/// Answers to `question` per answer, over `[from, to]` (store-local days).
fn answers(
    ledger: &Value,
    question: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for response in completed(ledger) {
        let day = answered_day(response);
        if day < from || day > to {
            continue;
        }
        for answer in response["response"].as_array().unwrap() {
            if answer["question_id"] != question {
                continue;
            }
            let values = match &answer["value"] {
                Value::Array(values) => values.clone(),
                other => vec![other.clone()],
            };
            for value in values {
                *out.entry(value.as_str().unwrap().to_owned()).or_default() += 1;
            }
        }
    }
    out
}

async fn answers_api(
    app: &TestApp,
    user: &TestUser,
    question: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> (BTreeMap<String, i64>, Value) {
    let result = query(
        app,
        user,
        json!({
            "metric": "knocommerce.responses",
            "range": { "custom": { "from": from, "to": to } },
            "granularity": "day",
            "compare_to": "none",
            "scope": { "store": user.store_id },
            "group_by": "answer",
            "filters": [{ "dimension": "question", "in": [question] }],
        }),
    )
    .await;
    let groups = result["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap().to_owned(),
                g["total"].as_i64().unwrap_or(0),
            )
        })
        .filter(|(_, v)| *v != 0)
        .collect();
    (groups, result)
}

fn today() -> NaiveDate {
    let tz: Tz = ZONE.parse().unwrap();
    Utc::now().with_timezone(&tz).date_naive()
}

async fn assert_matches_ledger(app: &TestApp, user: &TestUser, ledger: &Value, label: &str) {
    let to = today();
    let from = to.checked_sub_days(Days::new(29)).unwrap();
    let span: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
    assert_daily_series(
        app,
        user,
        user.store_id,
        "knocommerce",
        &["responses", "survey_responses", "surveyed_orders"],
        &expected(ledger),
        &span,
        &[],
        label,
    )
    .await;
    // "How did you hear about us?" and "What made you buy today?" per answer, over
    // the last week and the three weeks before it.
    let week = to.checked_sub_days(Days::new(6)).unwrap();
    let before = week.checked_sub_days(Days::new(1)).unwrap();
    for (question, min_answers) in [(HDYHAU, 5), (WHY, 5)] {
        for (a, b) in [(week, to), (from, before)] {
            let want = answers(ledger, question, a, b);
            assert!(want.len() >= min_answers, "{label}: {want:?}");
            let (got, result) = answers_api(app, user, question, a, b).await;
            assert_eq!(got, want, "{label}: {question} from {a} to {b}: {result}");
        }
    }
    // The attribution metric is the "How did you hear about us?" answers alone,
    // "Other" (which KnoCommerce maps to no channel) included.
    let want = answers(ledger, HDYHAU, from, to);
    assert!(want.contains_key("Other"), "{label}: {want:?}");
    let result = query(
        app,
        user,
        json!({ "metric": "knocommerce.attribution", "range": { "custom": { "from": from, "to": to } },
                "compare_to": "none", "scope": { "store": user.store_id }, "group_by": "answer" }),
    )
    .await;
    let got: BTreeMap<String, i64> = result["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap().to_owned(),
                g["total"].as_i64().unwrap_or(0),
            )
        })
        .filter(|(_, v)| *v != 0)
        .collect();
    assert_eq!(got, want, "{label}: attribution answers: {result}");
}

/// `10 000 × numerator ÷ denominator`, rounded half away from zero.
fn basis_points(numerator: i64, denominator: i64) -> Option<i64> {
    (denominator != 0).then(|| (20_000 * numerator + denominator) / (2 * denominator))
}

#[tokio::test]
async fn knocommerce_answers_equal_the_ledger_and_the_response_rate_divides_by_shopify_orders() {
    let (app, sim) = spawn_app_with_simulator(config(40, 2)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    in_new_york(&app, &ann).await;
    let started = start_flow(&app, &ann, "shopify", Some("acme-coffee")).await;
    visit(&ann.client, &started.callback).await;
    assert_eq!(run_all(&app).await, 1);
    // Shopify as it was synced: later the clock moves on and orders get cancelled or
    // edited, which the ledger reflects but this sync has not seen.
    let shop_at_sync = sim.shopify_ledger("acme-coffee.myshopify.com");
    let integration = connect(&app, &ann).await;
    let info = app.provider_info(&ann, "knocommerce").await;
    assert_eq!(info["category"], "surveys");

    assert_eq!(run_all(&app).await, 1);
    let job = app.latest_job(&ann).await;
    assert_eq!(
        (job["status"].as_str(), job["sync_type"].as_str()),
        (Some("success"), Some("backfill")),
        "{job}"
    );
    let first = sim.knocommerce_ledger();
    assert_eq!(
        job["records_synced"].as_u64().unwrap() as usize,
        completed(&first).len(),
        "partial responses are not listed: {job}"
    );
    let pages = completed(&first).len().div_ceil(250);
    assert!(pages > 1, "{pages}");
    assert_eq!(
        sim.calls(endpoints::KNOCOMMERCE_RESPONSES),
        1 + pages,
        "the key test, then 250 a page"
    );
    assert_matches_ledger(&app, &ann, &first, "first sync").await;

    // Questions are labelled with their text.
    let (_, result) = answers_api(&app, &ann, HDYHAU, today() - Days::new(6), today()).await;
    let labelled = query(
        &app,
        &ann,
        json!({ "metric": "knocommerce.responses", "range": { "custom": { "from": today() - Days::new(6), "to": today() } },
                "granularity": "day", "compare_to": "none", "scope": { "store": ann.store_id }, "group_by": "question" }),
    )
    .await;
    assert!(
        labelled.to_string().contains("How did you hear about us?"),
        "{labelled} {result}"
    );

    // Two days later: new responses come in once.
    sim.advance_to(Utc::now().timestamp());
    let second = sim.knocommerce_ledger();
    assert!(completed(&second).len() > completed(&first).len());
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
    assert!(
        (job["records_synced"].as_u64().unwrap() as usize) < completed(&second).len() / 2,
        "only what changed is read again: {job}"
    );
    assert_matches_ledger(&app, &ann, &second, "incremental").await;

    // The response rate: surveyed orders (KnoCommerce's ledger) over orders
    // (Shopify's ledger, synced up to the first clock), per New York day.
    let tz: Tz = ZONE.parse().unwrap();
    let orders = shopify_expected(&shop_at_sync, tz)
        .remove("orders")
        .unwrap_or_default();
    let surveyed = expected(&second)
        .remove("surveyed_orders")
        .unwrap_or_default();
    let (from, to) = (today() - Days::new(20), today() - Days::new(3));
    let result = query(
        &app,
        &ann,
        json!({ "metric": "computed.response_rate", "granularity": "day", "compare_to": "none",
                "range": { "custom": { "from": from, "to": to } }, "scope": { "store": ann.store_id } }),
    )
    .await;
    assert_eq!(result["unit"], "basis_points", "{result}");
    let (mut all_surveyed, mut all_orders) = (0, 0);
    for point in result["series"].as_array().unwrap() {
        let day = NaiveDate::parse_from_str(&point["bucket"].as_str().unwrap()[..10], "%Y-%m-%d")
            .unwrap();
        let (s, o) = (
            surveyed.get(&day).copied().unwrap_or(0),
            orders.get(&day).copied().unwrap_or(0),
        );
        assert!(o > 0, "Shopify has orders on {day}");
        assert_eq!(
            point["value"].as_i64(),
            basis_points(s, o),
            "{day}: {s} surveyed / {o} orders"
        );
        all_surveyed += s;
        all_orders += o;
    }
    assert!(all_surveyed > 20, "{all_surveyed}");
    assert_eq!(
        result["total"].as_i64(),
        basis_points(all_surveyed, all_orders)
    );
}

#[tokio::test]
async fn knocommerce_refuses_a_wrong_secret_snoozes_on_429_and_fails_clearly_on_a_malformed_page() {
    let (app, sim) = spawn_app_with_simulator(config(20, 0)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    in_new_york(&app, &ann).await;
    let wrong = "kno_wrong_secret_12345";
    let response = connect_with(&app, &ann, defaults::KNOCOMMERCE_CLIENT_ID, wrong).await;
    let body = expect_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let text = body.to_string();
    assert!(
        text.contains("KnoCommerce refused the API client"),
        "{text}"
    );
    assert!(!text.contains(wrong), "{text}");
    let response = connect_with(&app, &ann, "no", defaults::KNOCOMMERCE_CLIENT_SECRET).await;
    let body = expect_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(body.to_string().contains("client ID"), "{body}");
    assert_eq!(
        sim.calls(endpoints::KNOCOMMERCE_TOKEN),
        1,
        "the malformed ID is refused before any call"
    );
    let none: i64 = sqlx::query_scalar("SELECT count(*) FROM integrations")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(none, 0, "a refused connection stores nothing");

    let integration = connect(&app, &ann).await;
    sim.rate_limit(endpoints::KNOCOMMERCE_RESPONSES, 1, Duration::from_secs(60));
    assert_eq!(run_all(&app).await, 1);
    let (status, attempt, run_in): (String, i32, f64) = sqlx::query_as(
        "SELECT status, attempt, extract(epoch FROM run_after - now())::float8 FROM sync_jobs WHERE integration_id = $1",
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
    assert!(run_in > 30.0, "Retry-After is honoured: {run_in}");
    sqlx::query("UPDATE sync_jobs SET run_after = now() WHERE integration_id = $1")
        .bind(integration)
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(run_all(&app).await, 1);
    assert_eq!(app.latest_job(&ann).await["status"], "success");
    let ledger = sim.knocommerce_ledger();
    let total: i64 = expected(&ledger)["survey_responses"].values().sum();
    let result = query(
        &app,
        &ann,
        json!({ "metric": "knocommerce.survey_responses", "granularity": "day", "compare_to": "none",
                "range": { "custom": { "from": today() - Days::new(25), "to": today() } }, "scope": { "store": ann.store_id } }),
    )
    .await;
    assert_eq!(result["total"].as_i64(), Some(total), "{result}");

    reqwest::Client::new()
        .post(format!("{}/_sim/knocommerce/malformed", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        app.request_sync(&ann, integration).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(run_all(&app).await, 1);
    let job = app.latest_job(&ann).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert!(
        job["error"]
            .as_str()
            .unwrap_or_default()
            .contains("unexpected response shape from KnoCommerce's responses list"),
        "{job}"
    );
    assert!(!job
        .to_string()
        .contains(defaults::KNOCOMMERCE_CLIENT_SECRET));
}

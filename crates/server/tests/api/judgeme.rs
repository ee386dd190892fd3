//! Judge.me against the simulator, through the real HTTP API: the connect form
//! and its refusals (a wrong token, another shop's token, a malformed shop), a
//! backfill whose numbers equal, day by day in the store's zone, what the
//! simulator's ledger says (reviews, stars, sentiment, pending reviews; counts per
//! rating, the average rating and the published share over the window), an
//! incremental sync after the shop moderated pending reviews, a 429 that snoozes
//! the job and a malformed page that fails it with a clear reason.

use std::{collections::BTreeMap, time::Duration};

use chrono::{Days, NaiveDate, Utc};
use chrono_tz::Tz;
use pulseboard_connectors::sentiment;
use pulseboard_simulator::{defaults, endpoints, SimulatorConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    helpers::{expect_error, spawn_app_with_simulator, TestApp, TestUser},
    metrics::{assert_daily_series, query},
    sync::{day_of, run_all, small_history},
};

const ZONE: &str = "America/New_York";
const SHOP: &str = defaults::JUDGEME_SHOP_DOMAIN;
const DAY: i64 = 86_400;

/// A history ending `days_ago` days before now, so the clock can move up to now.
fn config(history: u32, days_ago: i64) -> SimulatorConfig {
    let mut config = small_history(history);
    config.data.end -= days_ago * DAY;
    config
}

async fn connect(app: &TestApp, user: &TestUser) -> Uuid {
    sqlx::query("UPDATE stores SET timezone = $2 WHERE id = $1")
        .bind(user.store_id)
        .bind(ZONE)
        .execute(&app.db)
        .await
        .unwrap();
    let response = user
        .client
        .post(app.url(&format!(
            "/api/orgs/{}/integrations/judgeme/api-key",
            user.org_slug
        )))
        .json(&json!({ "store_id": user.store_id, "fields": {
            "api_key": defaults::JUDGEME_API_TOKEN, "shop_domain": "acme-coffee" } }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{text}");
    assert!(!text.contains(defaults::JUDGEME_API_TOKEN));
    let integration: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(integration["account_label"], format!("Judge.me ({SHOP})"));
    integration["id"].as_str().unwrap().parse().unwrap()
}

fn reviews(ledger: &Value) -> &Vec<Value> {
    ledger["shops"][SHOP]["reviews"].as_array().unwrap()
}

fn is_pending(review: &Value) -> bool {
    review["published"] == false && review["hidden"] == false
}

/// The score the catalog documents: VADER compound of "title. body", ×1000, rounded.
fn sentiment_milli(review: &Value) -> i64 {
    let text = format!(
        "{}. {}",
        review["title"].as_str().unwrap(),
        review["body"].as_str().unwrap()
    );
    (sentiment(&text) * 1000.0).round() as i64
}

/// Metric → store-local day → value, from the ledger alone: every review on the
/// day it was written; pending reviews as a stock of those written by that day
/// that still wait.
fn expected(
    ledger: &Value,
    span: &[NaiveDate],
) -> BTreeMap<&'static str, BTreeMap<NaiveDate, i64>> {
    let tz: Tz = ZONE.parse().unwrap();
    let mut out: BTreeMap<&'static str, BTreeMap<NaiveDate, i64>> = BTreeMap::new();
    for review in reviews(ledger) {
        let day = day_of(review["created_unix"].as_i64().unwrap(), tz);
        let mut add =
            |metric, value| *out.entry(metric).or_default().entry(day).or_default() += value;
        add("reviews", 1);
        add("rating_total", 100 * review["rating"].as_i64().unwrap());
        add("sentiment_total", sentiment_milli(review));
    }
    for &d in span {
        let pending = reviews(ledger)
            .iter()
            .filter(|r| is_pending(r) && day_of(r["created_unix"].as_i64().unwrap(), tz) <= d)
            .count() as i64;
        out.entry("pending_reviews").or_default().insert(d, pending);
    }
    out
}

fn span(days: u64) -> Vec<NaiveDate> {
    let tz: Tz = ZONE.parse().unwrap();
    let to = Utc::now().with_timezone(&tz).date_naive();
    let from = to.checked_sub_days(Days::new(days - 1)).unwrap();
    from.iter_days().take_while(|d| *d <= to).collect()
}

/// Division rounded half away from zero, like the engine's ratios.
fn ratio(numerator: i64, denominator: i64) -> i64 {
    let (n, d) = (numerator.abs(), denominator);
    numerator.signum() * ((2 * n + d) / (2 * d))
}

/// A query over the whole span, optionally grouped and filtered.
async fn window(
    app: &TestApp,
    user: &TestUser,
    metric: &str,
    days: &[NaiveDate],
    extra: Value,
) -> Value {
    let mut body = json!({
        "metric": format!("judgeme.{metric}"),
        "range": { "custom": { "from": days[0], "to": days[days.len() - 1] } },
        "granularity": "day",
        "compare_to": "none",
        "scope": { "store": user.store_id },
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    query(app, user, body).await
}

fn groups(result: &Value) -> BTreeMap<String, i64> {
    result["groups"]
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
        .collect()
}

async fn assert_matches_ledger(
    app: &TestApp,
    user: &TestUser,
    ledger: &Value,
    days: &[NaiveDate],
    label: &str,
) {
    let want = expected(ledger, days);
    assert_daily_series(
        app,
        user,
        user.store_id,
        "judgeme",
        &[
            "reviews",
            "rating_total",
            "sentiment_total",
            "pending_reviews",
        ],
        &want,
        days,
        &[],
        label,
    )
    .await;
    let tz: Tz = ZONE.parse().unwrap();
    let in_span: Vec<&Value> = reviews(ledger)
        .iter()
        .filter(|r| day_of(r["created_unix"].as_i64().unwrap(), tz) >= days[0])
        .collect();
    // Counts per rating over the window.
    let mut per_rating: BTreeMap<String, i64> = BTreeMap::new();
    for r in &in_span {
        *per_rating.entry(r["rating"].to_string()).or_default() += 1;
    }
    let got = window(app, user, "reviews", days, json!({ "group_by": "rating" })).await;
    assert_eq!(groups(&got), per_rating, "{label}: reviews per rating");
    // The average rating, in hundredths of a star, and that of the published ones.
    let stars: i64 = in_span
        .iter()
        .map(|r| 100 * r["rating"].as_i64().unwrap())
        .sum();
    let got = window(app, user, "rating", days, json!({})).await;
    assert_eq!(
        got["total"].as_i64(),
        Some(ratio(stars, in_span.len() as i64)),
        "{label}: {got}"
    );
    let published: Vec<&&Value> = in_span.iter().filter(|r| r["published"] == true).collect();
    let published_stars: i64 = published
        .iter()
        .map(|r| 100 * r["rating"].as_i64().unwrap())
        .sum();
    let got = window(
        app,
        user,
        "rating",
        days,
        json!({ "filters": [{ "dimension": "status", "in": ["published"] }] }),
    )
    .await;
    assert_eq!(
        got["total"].as_i64(),
        Some(ratio(published_stars, published.len() as i64)),
        "{label}: published average {got}"
    );
    // Reviews by status.
    let mut per_status: BTreeMap<String, i64> = BTreeMap::new();
    for r in &in_span {
        let status = if r["hidden"] == true {
            "hidden"
        } else if r["published"] == true {
            "published"
        } else {
            "pending"
        };
        *per_status.entry(status.to_owned()).or_default() += 1;
    }
    let got = window(app, user, "reviews", days, json!({ "group_by": "status" })).await;
    assert_eq!(groups(&got), per_status, "{label}: reviews per status");
}

/// (events, distinct (metric, record, instant, value)): equal when nothing counts twice.
async fn event_pairs(app: &TestApp, integration: Uuid) -> (i64, i64) {
    sqlx::query_as(
        "SELECT count(*), count(DISTINCT (metric_name, source_record_id, recorded_at, metric_value, dimensions)) FROM metric_events WHERE integration_id = $1",
    )
    .bind(integration)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn judgeme_numbers_equal_the_ledger_and_moderation_moves_the_pending_count() {
    let (app, sim) = spawn_app_with_simulator(config(45, 4)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let info = app.provider_info(&ann, "judgeme").await;
    assert_eq!(
        (info["name"].as_str(), info["category"].as_str()),
        (Some("Judge.me"), Some("reviews"))
    );
    let integration = connect(&app, &ann).await;

    assert_eq!(run_all(&app).await, 1);
    let job = app.latest_job(&ann).await;
    assert_eq!(
        (job["status"].as_str(), job["sync_type"].as_str()),
        (Some("success"), Some("backfill")),
        "{job}"
    );
    let first = sim.judgeme_ledger();
    assert_eq!(
        job["records_synced"].as_u64().unwrap() as usize,
        reviews(&first).len(),
        "{job}"
    );
    assert!(
        sim.calls(endpoints::JUDGEME_REVIEWS) > 2,
        "the reviews span several pages"
    );
    let pending_now = reviews(&first).iter().filter(|r| is_pending(r)).count();
    assert!(
        pending_now >= 2,
        "some reviews wait for moderation: {pending_now}"
    );
    let days = span(40);
    assert_matches_ledger(&app, &ann, &first, &days, "backfill").await;

    // Today's pending count is what an alert rule reads: exactly the waiting reviews.
    let today = window(
        &app,
        &ann,
        "pending_reviews",
        &days[days.len() - 1..],
        json!({}),
    )
    .await;
    assert_eq!(today["total"].as_i64(), Some(pending_now as i64), "{today}");

    // Four days later: new reviews, and the shop has moderated reviews that waited.
    let now = sim.advance_to(Utc::now().timestamp());
    let second = sim.judgeme_ledger();
    assert_eq!(second["end"].as_i64(), Some(now));
    let moderated = reviews(&first)
        .iter()
        .filter(|r| is_pending(r))
        .filter(|r| {
            reviews(&second)
                .iter()
                .any(|s| s["id"] == r["id"] && !is_pending(s))
        })
        .count();
    assert!(
        moderated >= 1,
        "a pending review was published or hidden since"
    );
    assert!(reviews(&second).len() > reviews(&first).len());
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
    assert_matches_ledger(&app, &ann, &second, &days, "incremental").await;
    let (events, distinct) = event_pairs(&app, integration).await;
    assert_eq!(events, distinct, "no event twice");
}

#[tokio::test]
async fn the_judgeme_connect_form_refuses_a_wrong_token_clearly() {
    let (app, sim) = spawn_app_with_simulator(small_history(5)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let url = app.url("/api/orgs/acme/integrations/judgeme/api-key");
    let wrong = "jm_not_a_token_we_know_of";
    for (token, shop, says) in [
        (wrong, SHOP, "refused this token"),
        (
            defaults::JUDGEME_OTHER_SHOP_TOKEN,
            SHOP,
            "refused this token",
        ),
        (defaults::JUDGEME_API_TOKEN, "acme coffee!", "myshopify.com"),
        ("short", SHOP, "one long word"),
    ] {
        let response = ann
            .client
            .post(&url)
            .json(&json!({ "store_id": ann.store_id, "fields": { "api_key": token, "shop_domain": shop } }))
            .send()
            .await
            .unwrap();
        let body = expect_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        let text = body.to_string();
        assert!(text.contains(says), "{text}");
        assert!(!text.contains(token) || token == "short", "{text}");
    }
    let none: i64 = sqlx::query_scalar("SELECT count(*) FROM integrations")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(none, 0, "a refused connection stores nothing");
    assert_eq!(
        sim.calls(endpoints::JUDGEME_REVIEWS),
        2,
        "malformed input is refused before any call"
    );
}

#[tokio::test]
async fn a_judgeme_rate_limit_snoozes_the_job_and_a_malformed_page_fails_it_clearly() {
    let (app, sim) = spawn_app_with_simulator(small_history(60)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let integration = connect(&app, &ann).await;
    // A 429 with a minute to wait on the first page: longer than a worker sleeps.
    sim.reset_calls();
    sim.rate_limit(endpoints::JUDGEME_REVIEWS, 1, Duration::from_secs(60));
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
        "a rate limit spends no attempt: {error:?}"
    );
    assert!(run_in > 30.0, "Retry-After is honoured: {run_in}");

    sqlx::query("UPDATE sync_jobs SET run_after = now() WHERE integration_id = $1")
        .bind(integration)
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(run_all(&app).await, 1);
    let job = app.latest_job(&ann).await;
    assert_eq!(job["status"], "success", "{job}");
    assert_matches_ledger(
        &app,
        &ann,
        &sim.judgeme_ledger(),
        &span(50),
        "after the snooze",
    )
    .await;

    // A page of the wrong shape: the sync fails and says which API answered it.
    reqwest::Client::new()
        .post(format!("{}/_sim/judgeme/malformed", sim.base_url()))
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
            .contains("unexpected response shape from Judge.me's reviews list"),
        "{job}"
    );
    assert!(!job.to_string().contains(defaults::JUDGEME_API_TOKEN));
}

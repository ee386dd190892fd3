//! PostHog against the simulator, through the real HTTP API: the connect form's
//! fields and its refusals, then daily numbers that equal what the simulator's
//! ledger says (recomputed here from its raw events in the project's time zone),
//! late events that replace their days without double counting, rate limits that
//! snooze the job and a key without query access that asks for a reconnection.
//!
//! Connections go through `POST …/integrations/posthog/api-key`: the key is stored
//! encrypted, the project and host are part of the account PostHog's project
//! endpoint confirmed.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use pulseboard_simulator::{defaults, endpoints, SimulatorHandle};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    helpers::{expect_error, spawn_app_with_simulator, TestApp, TestUser},
    metrics::query,
    sync::{run_all, small_history},
};

const PROJECT: u64 = defaults::POSTHOG_PROJECT_ID;
const ZONE: &str = "Asia/Tokyo";
const METRICS: [&str; 6] = [
    "pageviews",
    "unique_persons",
    "sessions",
    "signed_up",
    "checkout_started",
    "subscription_started",
];

fn fields(sim: &SimulatorHandle, key: &str) -> BTreeMap<String, String> {
    [
        ("api_key", key.to_owned()),
        ("project_id", PROJECT.to_string()),
        ("host", sim.posthog_host()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// A store in the project's time zone.
async fn store(app: &TestApp, user: &TestUser) -> Uuid {
    app.create_store(user, "Web", ZONE).await
}

/// Connects PostHog through the real route and returns the integration's id.
async fn connect(
    app: &TestApp,
    user: &TestUser,
    store_id: Uuid,
    fields: &BTreeMap<String, String>,
) -> Uuid {
    let response = user
        .client
        .post(app.url("/api/orgs/acme/integrations/posthog/api-key"))
        .json(&json!({ "store_id": store_id, "fields": fields }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let integration: Value = response.json().await.unwrap();
    integration["id"].as_str().unwrap().parse().unwrap()
}

/// Metric → local day → value, recomputed from the ledger's raw events.
fn expected(ledger: &Value) -> BTreeMap<&'static str, BTreeMap<NaiveDate, i64>> {
    let tz: Tz = ledger["timezone"].as_str().unwrap().parse().unwrap();
    let mut counts: BTreeMap<&'static str, BTreeMap<NaiveDate, i64>> = BTreeMap::new();
    let mut persons: BTreeMap<NaiveDate, BTreeSet<&str>> = BTreeMap::new();
    let mut sessions: BTreeMap<NaiveDate, BTreeSet<&str>> = BTreeMap::new();
    for event in ledger["events"].as_array().unwrap() {
        let at = DateTime::from_timestamp(event["timestamp"].as_i64().unwrap(), 0).unwrap();
        let day = at.with_timezone(&tz).date_naive();
        persons
            .entry(day)
            .or_default()
            .insert(event["person_id"].as_str().unwrap());
        if let Some(session) = event["session_id"].as_str() {
            sessions.entry(day).or_default().insert(session);
        }
        let metric = match event["event"].as_str().unwrap() {
            "$pageview" => "pageviews",
            "signed_up" => "signed_up",
            "checkout_started" => "checkout_started",
            "subscription_started" => "subscription_started",
            _ => continue,
        };
        *counts.entry(metric).or_default().entry(day).or_default() += 1;
    }
    counts.insert(
        "unique_persons",
        persons
            .into_iter()
            .map(|(d, s)| (d, s.len() as i64))
            .collect(),
    );
    counts.insert(
        "sessions",
        sessions
            .into_iter()
            .map(|(d, s)| (d, s.len() as i64))
            .collect(),
    );
    counts
}

/// The last `days` local days up to today.
fn recent(days: u64) -> (NaiveDate, NaiveDate) {
    let tz: Tz = ZONE.parse().unwrap();
    let today = Utc::now().with_timezone(&tz).date_naive();
    (today.checked_sub_days(Days::new(days - 1)).unwrap(), today)
}

/// Every metric, day by day over the last `days` days, as the metrics API answers.
async fn assert_matches_ledger(
    app: &TestApp,
    user: &TestUser,
    store_id: Uuid,
    ledger: &Value,
    days: u64,
    label: &str,
) {
    let expected = expected(ledger);
    let (from, to) = recent(days);
    for metric in METRICS {
        let r = query(
            app,
            user,
            json!({
                "metric": format!("posthog.{metric}"),
                "range": { "custom": { "from": from, "to": to } },
                "granularity": "day",
                "scope": { "store": store_id },
            }),
        )
        .await;
        let series = r["series"].as_array().unwrap();
        assert_eq!(series.len() as u64, days, "{label} {metric}: {r}");
        let mut mismatches = Vec::new();
        let mut total = 0;
        for point in series {
            let day: NaiveDate = point["bucket"].as_str().unwrap().parse().unwrap();
            let want = expected
                .get(metric)
                .and_then(|m| m.get(&day))
                .copied()
                .unwrap_or(0);
            total += want;
            if point["value"].as_i64().unwrap() != want {
                mismatches.push(format!("{day}: ledger {want}, API {}", point["value"]));
            }
        }
        assert!(
            mismatches.is_empty(),
            "{label}: {metric} differs: {mismatches:?}"
        );
        assert_eq!(r["total"].as_i64().unwrap(), total, "{label} {metric}");
        assert!(total > 0, "{label}: the ledger has {metric}");
    }
}

/// (events, distinct (metric, instant) pairs) of the integration: equal when no day
/// is counted twice.
async fn event_pairs(app: &TestApp, integration: Uuid) -> (i64, i64) {
    sqlx::query_as(
        "SELECT count(*), count(DISTINCT (metric_name, recorded_at)) FROM metric_events WHERE integration_id = $1",
    )
    .bind(integration)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn posthog_numbers_equal_the_ledger_and_late_events_replace_their_days() {
    let (app, sim) = spawn_app_with_simulator(small_history(100)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let store_id = store(&app, &ann).await;
    let integration = connect(
        &app,
        &ann,
        store_id,
        &fields(&sim, defaults::POSTHOG_PERSONAL_API_KEY),
    )
    .await;
    let listed: Value = ann
        .client
        .get(app.url(&format!("/api/orgs/acme/integrations/{integration}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["cadence_minutes"], 60);

    assert_eq!(run_all(&app).await, 1);
    let job = app.latest_job(&ann).await;
    assert_eq!(
        (job["status"].as_str(), job["sync_type"].as_str()),
        (Some("success"), Some("backfill")),
        "{job}"
    );
    // 90 days and the margins, one query per 31 days.
    assert!(
        (92..=94).contains(&job["records_synced"].as_i64().unwrap()),
        "{job}"
    );
    assert_eq!(sim.calls(endpoints::POSTHOG_QUERY), 3);
    let ledger = sim.posthog_ledger(PROJECT);
    assert_eq!(ledger["timezone"], ZONE);
    assert!(ledger["events"].as_array().unwrap().len() > 10_000);
    assert_matches_ledger(&app, &ann, store_id, &ledger, 85, "backfill").await;

    // Late arrivals for two days ago (some in a known session and for a known
    // person, so distinct counts must not simply add up), and six more hours of
    // traffic, with the generator's own late events.
    let old = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| {
            e["event"] == "$pageview"
                && e["timestamp"].as_i64().unwrap() < ledger["end"].as_i64().unwrap() - 2 * 86_400
        })
        .unwrap()
        .clone();
    let at = old["timestamp"].as_i64().unwrap() + 30;
    for _ in 0..3 {
        sim.posthog_late_event(PROJECT, "signed_up", at, None, None)
            .unwrap();
    }
    sim.posthog_late_event(
        PROJECT,
        "$pageview",
        at,
        old["person_id"].as_str(),
        old["session_id"].as_str(),
    )
    .unwrap();
    let now = sim.advance_to(ledger["end"].as_i64().unwrap() + 6 * 3600);
    let later = sim.posthog_ledger(PROJECT);
    assert_eq!(later["end"].as_i64().unwrap(), now);
    let before = expected(&ledger);
    let after = expected(&later);
    let late_day = DateTime::from_timestamp(at, 0)
        .unwrap()
        .with_timezone(&ZONE.parse::<Tz>().unwrap())
        .date_naive();
    assert_eq!(
        after["signed_up"].get(&late_day).copied().unwrap_or(0),
        before["signed_up"].get(&late_day).copied().unwrap_or(0) + 3
    );
    assert_eq!(
        after["unique_persons"][&late_day],
        before["unique_persons"][&late_day] + 3
    );
    assert_eq!(after["sessions"][&late_day], before["sessions"][&late_day]);

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
        job["records_synced"].as_i64().unwrap() <= 7,
        "only the recent days: {job}"
    );
    assert_matches_ledger(&app, &ann, store_id, &later, 85, "after late events").await;
    let (events, distinct) = event_pairs(&app, integration).await;
    assert_eq!(events, distinct, "one event per metric and day");

    // Replaying changes nothing.
    let totals = event_pairs(&app, integration).await;
    assert_eq!(
        app.request_sync(&ann, integration).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(run_all(&app).await, 1);
    assert_eq!(event_pairs(&app, integration).await, totals);
    assert_matches_ledger(&app, &ann, store_id, &later, 85, "replayed").await;
}

#[tokio::test]
async fn the_query_limit_snoozes_the_job_and_it_resumes_where_it_stopped() {
    let (app, sim) = spawn_app_with_simulator(small_history(100)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let store_id = store(&app, &ann).await;
    // Two queries an hour: the backfill's third window is refused with PostHog's 429.
    sim.posthog_query_limit(2);
    let integration = connect(
        &app,
        &ann,
        store_id,
        &fields(&sim, defaults::POSTHOG_PERSONAL_API_KEY),
    )
    .await;
    assert_eq!(run_all(&app).await, 1);
    let (status, attempt, run_in, reason): (String, i32, f64, String) = sqlx::query_as(
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
    assert!(
        run_in > 3000.0,
        "Retry-After (about an hour) is honoured: {run_in}"
    );
    assert!(
        reason.starts_with("PostHog: the key's HogQL query rate limit is reached; next try after ")
            && reason.ends_with(" UTC"),
        "{reason}"
    );
    assert_eq!(sim.calls(endpoints::POSTHOG_QUERY), 3);
    let cursor: Value =
        sqlx::query_scalar("SELECT cursor FROM sync_cursors WHERE integration_id = $1")
            .bind(integration)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(
        cursor["through"].is_string(),
        "the two windows read are kept: {cursor}"
    );

    // A short Retry-After is waited out inside the run; the job then finishes.
    sim.posthog_query_limit(defaults::POSTHOG_QUERIES_PER_HOUR);
    sim.rate_limit(endpoints::POSTHOG_QUERY, 1, Duration::from_secs(1));
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
        store_id,
        &sim.posthog_ledger(PROJECT),
        85,
        "resumed",
    )
    .await;
}

#[tokio::test]
async fn a_key_without_query_access_asks_for_a_reconnection_and_never_leaks() {
    let (app, sim) = spawn_app_with_simulator(small_history(20)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let store_id = store(&app, &ann).await;
    let key = defaults::POSTHOG_PROJECT_READ_ONLY_KEY;
    let integration = connect(&app, &ann, store_id, &fields(&sim, key)).await;
    assert_eq!(run_all(&app).await, 1);
    let job = app.latest_job(&ann).await;
    assert_eq!(job["status"], "failed", "{job}");
    let text = job.to_string();
    assert!(text.contains("query:read") && !text.contains(key), "{text}");
    let status: String = sqlx::query_scalar("SELECT status FROM integrations WHERE id = $1")
        .bind(integration)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(status, "reauth_required");
}

#[tokio::test]
async fn the_connect_form_has_three_fields_and_refuses_bad_ones_clearly() {
    let (app, sim) = spawn_app_with_simulator(small_history(10)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let store_id = store(&app, &ann).await;
    let posthog = app.provider_info(&ann, "posthog").await;
    assert_eq!(
        (posthog["name"].as_str(), posthog["category"].as_str()),
        (Some("PostHog"), Some("analytics"))
    );
    assert_eq!(posthog["default_cadence_minutes"], 60);
    assert_eq!(posthog["auth"]["type"], "api_key");
    let names: Vec<&str> = posthog["auth"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["api_key", "project_id", "host"]);
    assert_eq!(posthog["auth"]["fields"][0]["secret"], true);
    let metrics: Vec<&str> = posthog["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(metrics[..METRICS.len()], METRICS);
    assert_eq!(metrics[METRICS.len()..], ["events"]);
    let options: Vec<(&str, &str)> = posthog["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["name"].as_str().unwrap(),
                o["kind"]["type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        options,
        [("events", "list"), ("breakdown_property", "text")]
    );
    assert_eq!(posthog["options"][0]["kind"]["max_items"], 10);

    let url = app.url("/api/orgs/acme/integrations/posthog/api-key");
    let connect =
        |fields: BTreeMap<String, String>| json!({ "store_id": store_id, "fields": fields });
    let with = |name: &str, value: &str| {
        let mut f = fields(&sim, defaults::POSTHOG_PERSONAL_API_KEY);
        f.insert(name.into(), value.into());
        f
    };
    // Refused before any call: a project key, a bad project id, unsafe hosts.
    for (name, value) in [
        ("api_key", "phc_projectkeyprojectkey123"),
        ("project_id", "acme"),
        ("host", "http://us.posthog.com"),
        ("host", "https://169.254.169.254"),
        ("host", "https://us.posthog.com/api"),
        ("host", "https://user:pw@us.posthog.com"),
    ] {
        let response = ann
            .client
            .post(&url)
            .json(&connect(with(name, value)))
            .send()
            .await
            .unwrap();
        let body = expect_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(!body.to_string().contains("phc_projectkey"), "{body}");
    }
    assert_eq!(sim.calls(endpoints::POSTHOG_PROJECT), 0);

    // A wrong key is refused by PostHog, without echoing it.
    let wrong = "phx_wrongwrongwrongwrong";
    let response = ann
        .client
        .post(&url)
        .json(&connect(with("api_key", wrong)))
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
        !body.to_string().contains(wrong) && body.to_string().contains("invalid"),
        "{body}"
    );
    assert_eq!(sim.calls(endpoints::POSTHOG_PROJECT), 1);

    // A PostHog outage is a clear 424, not a 500.
    sim.fail(endpoints::POSTHOG_PROJECT, 1);
    let response = ann
        .client
        .post(&url)
        .json(&connect(fields(&sim, defaults::POSTHOG_PERSONAL_API_KEY)))
        .send()
        .await
        .unwrap();
    expect_error(
        response,
        StatusCode::FAILED_DEPENDENCY,
        "provider_unavailable",
    )
    .await;
    let none: i64 = sqlx::query_scalar("SELECT count(*) FROM integrations")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(none, 0, "a refused connection stores nothing");
}

/// The real route stores the key encrypted and never echoes it.
#[tokio::test]
async fn connecting_through_the_api_route() {
    let (app, sim) = spawn_app_with_simulator(small_history(10)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let store_id = store(&app, &ann).await;
    let response = ann
        .client
        .post(app.url("/api/orgs/acme/integrations/posthog/api-key"))
        .json(&json!({ "store_id": store_id, "fields": fields(&sim, defaults::POSTHOG_PERSONAL_API_KEY) }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{text}");
    assert!(!text.contains(defaults::POSTHOG_PERSONAL_API_KEY));
    let integration: Value = serde_json::from_str(&text).unwrap();
    assert!(!integration["account_label"].as_str().unwrap().is_empty());
    assert_eq!(run_all(&app).await, 1);
}

/// `PATCH …/integrations/{id}` with `options`.
async fn set_options(
    app: &TestApp,
    user: &TestUser,
    integration: Uuid,
    options: Value,
) -> reqwest::Response {
    user.client
        .patch(app.url(&format!("/api/orgs/acme/integrations/{integration}")))
        .json(&json!({ "options": options }))
        .send()
        .await
        .unwrap()
}

/// (event, local day) → breakdown value (`(none)` without one) → count, from the
/// ledger's raw events.
fn expected_picks(
    ledger: &Value,
    events: &[&str],
    property: &str,
) -> BTreeMap<(String, NaiveDate), BTreeMap<String, i64>> {
    let tz: Tz = ledger["timezone"].as_str().unwrap().parse().unwrap();
    let mut out: BTreeMap<(String, NaiveDate), BTreeMap<String, i64>> = BTreeMap::new();
    for event in ledger["events"].as_array().unwrap() {
        let name = event["event"].as_str().unwrap();
        if !events.contains(&name) {
            continue;
        }
        let at = DateTime::from_timestamp(event["timestamp"].as_i64().unwrap(), 0).unwrap();
        let day = at.with_timezone(&tz).date_naive();
        let value = event["properties"][property]
            .as_str()
            .unwrap_or("(none)")
            .to_owned();
        *out.entry((name.to_owned(), day))
            .or_default()
            .entry(value)
            .or_default() += 1;
    }
    out
}

/// Each picked event's daily counts per breakdown value over the last `days` days,
/// as the metrics API answers them, against the ledger.
async fn assert_picks_match_ledger(
    app: &TestApp,
    user: &TestUser,
    store_id: Uuid,
    events: &[&str],
    property: &str,
    days: u64,
    sim: &SimulatorHandle,
) {
    let expected = expected_picks(&sim.posthog_ledger(PROJECT), events, property);
    let (from, to) = recent(days);
    for event in events {
        let r = query(
            app,
            user,
            json!({
                "metric": "posthog.events",
                "range": { "custom": { "from": from, "to": to } },
                "granularity": "day",
                "group_by": "breakdown",
                "filters": [{ "dimension": "event", "in": [event] }],
                "scope": { "store": store_id },
            }),
        )
        .await;
        let mut got: BTreeMap<NaiveDate, BTreeMap<String, i64>> = BTreeMap::new();
        for group in r["groups"].as_array().unwrap() {
            for point in group["series"].as_array().unwrap() {
                let value = point["value"].as_i64().unwrap_or(0);
                if value != 0 {
                    let day: NaiveDate = point["bucket"].as_str().unwrap().parse().unwrap();
                    got.entry(day)
                        .or_default()
                        .insert(group["key"].as_str().unwrap().to_owned(), value);
                }
            }
        }
        let want: BTreeMap<NaiveDate, BTreeMap<String, i64>> = from
            .iter_days()
            .take_while(|d| *d <= to)
            .filter_map(|d| {
                expected
                    .get(&(event.to_string(), d))
                    .map(|v| (d, v.clone()))
            })
            .collect();
        assert_eq!(got, want, "{event} by {property}");
        let values: BTreeSet<&String> = want.values().flat_map(|v| v.keys()).collect();
        assert!(
            values.len() >= 2,
            "{event}: the ledger has several {property} values: {values:?}"
        );
    }
}

#[tokio::test]
async fn picked_events_by_a_chosen_property_equal_the_ledger_and_new_picks_replace_old_ones() {
    let (app, sim) = spawn_app_with_simulator(small_history(30)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let store_id = store(&app, &ann).await;
    let integration = connect(
        &app,
        &ann,
        store_id,
        &fields(&sim, defaults::POSTHOG_PERSONAL_API_KEY),
    )
    .await;

    // The provider checks the options, naming the one it refuses.
    let eleven: Vec<String> = (0..11).map(|i| format!("event_{i}")).collect();
    for (options, field) in [
        (json!({ "events": eleven }), "options.events"),
        (json!({ "events": "signed_up" }), "options.events"),
        (
            json!({ "breakdown_property": ["plan"] }),
            "options.breakdown_property",
        ),
        (
            json!({ "breakdown_property": "a\u{0007}b" }),
            "options.breakdown_property",
        ),
        (json!({ "colour": "red" }), "options.colour"),
    ] {
        let body = expect_error(
            set_options(&app, &ann, integration, options.clone()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(body["error"]["field"], field, "{options}: {body}");
    }

    // Normalised as stored: trimmed, without repeats.
    let response = set_options(
        &app,
        &ann,
        integration,
        json!({ "events": ["signed_up", " checkout_started ", "signed_up"], "breakdown_property": "plan" }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let updated: Value = response.json().await.unwrap();
    assert_eq!(
        updated["options"],
        json!({ "events": ["signed_up", "checkout_started"], "breakdown_property": "plan" })
    );
    // The connection's sync is still queued: it runs with the options.
    assert_eq!(run_all(&app).await, 1);
    assert_picks_match_ledger(
        &app,
        &ann,
        store_id,
        &["signed_up", "checkout_started"],
        "plan",
        20,
        &sim,
    )
    .await;

    // Other picks: pageviews by browser; the sync they queue counts them over the
    // whole window, and the events no longer picked stop counting.
    let response = set_options(
        &app,
        &ann,
        integration,
        json!({ "events": ["$pageview"], "breakdown_property": "$browser" }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(run_all(&app).await, 1);
    let job = app.latest_job(&ann).await;
    assert_eq!(
        (job["trigger"].as_str(), job["sync_type"].as_str()),
        (Some("options"), Some("backfill")),
        "{job}"
    );
    assert_picks_match_ledger(&app, &ann, store_id, &["$pageview"], "$browser", 20, &sim).await;
    let (from, to) = recent(20);
    let old = query(
        &app,
        &ann,
        json!({
            "metric": "posthog.events",
            "range": { "custom": { "from": from, "to": to } },
            "filters": [{ "dimension": "event", "in": ["signed_up"] }],
            "scope": { "store": store_id },
        }),
    )
    .await;
    assert_eq!(old["total"].as_i64().unwrap_or(0), 0, "{old}");
    // Unchanged options queue nothing.
    set_options(
        &app,
        &ann,
        integration,
        json!({ "events": ["$pageview"], "breakdown_property": "$browser" }),
    )
    .await;
    assert_eq!(run_all(&app).await, 0);
}

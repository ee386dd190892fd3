//! Microsoft Clarity against the simulator: the numbers the metrics API gives per
//! day and per device, browser, country and page equal what the simulator's ledger
//! says for the windows its export calls covered (computed here from the sessions,
//! following the documented rule: a fetch's 24-hour window is reported on the UTC
//! day before the fetch, the day's latest fetch wins); no click ever makes the
//! simulator see an 11th call in a day; errors are clear.
//!
//! The server's clock cannot be moved, so "the next day" is the simulator's data
//! clock moved a day and the budget cursor's day moved back one, the way other tests
//! age cursors and jobs in the database.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use pulseboard_simulator::{defaults, endpoints, DataConfig, SimulatorConfig};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    helpers::{expect_error, spawn_app_with_simulator, TestApp, TestUser},
    metrics::query,
    sync::run_all,
};

const DAY: i64 = 86_400;
const PROJECT: &str = "acme-coffee";
const SITE_DIMS: [&str; 3] = ["Device", "Browser", "Country/Region"];

#[derive(Debug, Deserialize)]
struct Ledger {
    end: i64,
    projects: BTreeMap<String, ProjectLedger>,
    calls: Vec<Call>,
}

#[derive(Debug, Deserialize)]
struct ProjectLedger {
    sessions: Vec<Session>,
}

#[derive(Debug, Deserialize)]
struct Session {
    start: i64,
    device: String,
    browser: String,
    country: String,
    pages: Vec<PageView>,
}

#[derive(Debug, Deserialize)]
struct PageView {
    url: String,
    active_seconds: i64,
    scroll_depth: i64,
    dead_clicks: i64,
    rage_clicks: i64,
    quickbacks: i64,
    excessive_scrolls: i64,
}

#[derive(Debug, Deserialize)]
struct Call {
    at: i64,
    day: String,
    project: Option<String>,
    dimensions: Vec<String>,
    status: u16,
}

async fn ledger(sim: &pulseboard_simulator::SimulatorHandle) -> Ledger {
    reqwest::get(format!("{}/_sim/clarity/ledger", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Requests the simulator answered for the project on its current day.
fn calls_today(ledger: &Ledger) -> Vec<&Call> {
    let today = utc_day(ledger.end).to_string();
    ledger
        .calls
        .iter()
        .filter(|c| c.project.as_deref() == Some(PROJECT) && c.day == today)
        .collect()
}

fn utc_day(at: i64) -> NaiveDate {
    DateTime::from_timestamp(at, 0).unwrap().date_naive()
}

/// A data clock at 06:00 UTC `days_ago` days before today: fetch days in the past,
/// so every reported day is a whole day for the metrics API.
fn config(days_ago: i64) -> SimulatorConfig {
    let today = Utc::now().timestamp().div_euclid(DAY) * DAY;
    SimulatorConfig {
        data: DataConfig {
            history_days: 10,
            end: today - days_ago * DAY + 6 * 3600,
            ..DataConfig::default()
        },
        ..SimulatorConfig::default()
    }
}

/// Connects Clarity to the sign-up store (in New York) with the default token.
async fn connect(app: &TestApp, user: &TestUser) -> Uuid {
    connect_store(app, user, user.store_id).await
}

/// Connects Clarity to a store of the user's (set to New York) with the default token.
async fn connect_store(app: &TestApp, user: &TestUser, store_id: Uuid) -> Uuid {
    sqlx::query("UPDATE stores SET timezone = 'America/New_York' WHERE id = $1")
        .bind(store_id)
        .execute(&app.db)
        .await
        .unwrap();
    let response = user
        .client
        .post(app.url(&format!(
            "/api/orgs/{}/integrations/clarity/api-key",
            user.org_slug
        )))
        .json(
            &json!({ "store_id": store_id, "fields": { "api_key": defaults::CLARITY_API_TOKEN } }),
        )
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(!body.to_string().contains(defaults::CLARITY_API_TOKEN));
    body["id"].as_str().unwrap().parse().unwrap()
}

async fn job(app: &TestApp) -> (String, Option<String>, f64) {
    sqlx::query_as(
        "SELECT status, error, extract(epoch FROM run_after - now())::float8 FROM sync_jobs
         ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// Today's call count of the project, as the server keeps it (for every integration
/// of the project together).
async fn budget(app: &TestApp) -> Value {
    sqlx::query_scalar(
        "SELECT json_build_object('calls', calls) FROM provider_call_budgets
         WHERE provider = 'clarity' AND day = (now() AT TIME ZONE 'UTC')::date",
    )
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// Moves the server's budget counters a day back, as if a day had passed.
async fn a_day_passes_for_the_budget(app: &TestApp) {
    sqlx::query("UPDATE provider_call_budgets SET day = day - 1")
        .execute(&app.db)
        .await
        .unwrap();
}

/// Division rounded half away from zero, like the metrics engine's ratios.
fn ratio(numerator: i64, denominator: i64) -> i64 {
    (2 * numerator + denominator) / (2 * denominator)
}

/// What the ledger says one reported day should show: metric → group → value,
/// with the group `""` for the whole site.
type Expected = BTreeMap<&'static str, BTreeMap<(&'static str, String), i64>>;

/// Sums and averages over the sessions of `[at − 24 h, at)`: the site metrics by
/// device, browser and country, the page metrics by page (a session counts on each
/// page it viewed).
fn expected(sessions: &[Session], site_at: i64, pages_at: i64) -> Expected {
    type Sums = BTreeMap<(&'static str, String), [i64; 7]>;
    let mut site: Sums = BTreeMap::new();
    for s in sessions
        .iter()
        .filter(|s| s.start >= site_at - DAY && s.start < site_at)
    {
        let active: i64 = s.pages.iter().map(|p| p.active_seconds).sum();
        let scroll = s.pages.iter().map(|p| p.scroll_depth).max().unwrap();
        let sum = |f: fn(&PageView) -> i64| s.pages.iter().map(f).sum::<i64>();
        let values = [
            1,
            active,
            scroll,
            sum(|p| p.dead_clicks),
            sum(|p| p.rage_clicks),
            sum(|p| p.quickbacks),
            sum(|p| p.excessive_scrolls),
        ];
        for group in [
            ("", String::new()),
            ("device", s.device.clone()),
            ("browser", s.browser.clone()),
            ("country", s.country.clone()),
        ] {
            let slot = site.entry(group).or_default();
            for (a, b) in slot.iter_mut().zip(values) {
                *a += b;
            }
        }
    }
    let mut pages: Sums = BTreeMap::new();
    for s in sessions
        .iter()
        .filter(|s| s.start >= pages_at - DAY && s.start < pages_at)
    {
        for p in &s.pages {
            let values = [
                1,
                p.active_seconds,
                p.scroll_depth,
                p.dead_clicks,
                p.rage_clicks,
                p.quickbacks,
                p.excessive_scrolls,
            ];
            for group in [("", String::new()), ("page", p.url.clone())] {
                let slot = pages.entry(group).or_default();
                for (a, b) in slot.iter_mut().zip(values) {
                    *a += b;
                }
            }
        }
    }
    let mut out = Expected::new();
    for (prefix, sums) in [("", site), ("page_", pages)] {
        let names: [&'static str; 7] = if prefix.is_empty() {
            [
                "sessions",
                "engagement_time",
                "scroll_depth",
                "dead_clicks",
                "rage_clicks",
                "quickbacks",
                "excessive_scrolling",
            ]
        } else {
            [
                "page_sessions",
                "page_engagement_time",
                "page_scroll_depth",
                "page_dead_clicks",
                "page_rage_clicks",
                "page_quickbacks",
                "page_excessive_scrolling",
            ]
        };
        for (group, v) in sums {
            for (i, name) in names.iter().enumerate() {
                let value = match i {
                    1 | 2 => ratio(v[i], v[0]),
                    _ => v[i],
                };
                out.entry(name).or_default().insert(group.clone(), value);
            }
        }
    }
    out
}

/// The reported day and the windows (site, pages) of the latest successful fetch
/// of each fetch day, from the simulator's log of calls.
fn fetches(ledger: &Ledger) -> BTreeMap<NaiveDate, (i64, i64)> {
    let mut out: BTreeMap<NaiveDate, (i64, i64)> = BTreeMap::new();
    for call in ledger.calls.iter().filter(|c| {
        c.status == 200 && c.project.as_deref() == Some(PROJECT) && !c.dimensions.is_empty()
    }) {
        let reported = utc_day(call.at) - Duration::days(1);
        let slot = out.entry(reported).or_insert((0, 0));
        if call.dimensions == SITE_DIMS {
            slot.0 = slot.0.max(call.at);
        } else if call.dimensions == ["URL"] {
            slot.1 = slot.1.max(call.at);
        }
    }
    out
}

/// Compares every metric, whole and by each of its dimensions, on each reported day.
async fn assert_matches_ledger(app: &TestApp, user: &TestUser, ledger: &Ledger, label: &str) {
    let sessions = &ledger.projects[PROJECT].sessions;
    let fetched = fetches(ledger);
    assert!(
        !fetched.is_empty(),
        "{label}: no fetch in the simulator's log"
    );
    for (day, (site_at, pages_at)) in &fetched {
        let want = expected(sessions, *site_at, *pages_at);
        assert!(
            want["sessions"][&("", String::new())] > 50,
            "{label}: a meaningful day"
        );
        for (metric, by_group) in &want {
            let dims: &[&str] = if metric.starts_with("page_") {
                &["", "page"]
            } else {
                &["", "device", "browser", "country"]
            };
            for dim in dims {
                let mut body = json!({
                    "metric": format!("clarity.{metric}"),
                    "range": { "custom": { "from": day, "to": day } },
                    "granularity": "day",
                    "compare_to": "none",
                    "scope": { "store": user.store_id },
                });
                if !dim.is_empty() {
                    body["group_by"] = json!(dim);
                }
                let result = query(app, user, body).await;
                let got: BTreeMap<String, i64> = if dim.is_empty() {
                    [(String::new(), result["total"].as_i64().unwrap_or(0))].into()
                } else {
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
                };
                let wanted: BTreeMap<String, i64> = by_group
                    .iter()
                    .filter(|((d, _), v)| d == dim && (**v != 0 || dim.is_empty()))
                    .map(|((_, key), v)| (key.clone(), *v))
                    .collect();
                assert_eq!(got, wanted, "{label}: {metric} by {dim:?} on {day}");
            }
        }
    }
}

/// The heatmap summary of the one reported day: every device and page with its
/// sessions, average scroll depth, rage and dead clicks, as the ledger sums them;
/// pages ordered by rage clicks per session, at most ten.
async fn assert_heatmap_matches_ledger(app: &TestApp, user: &TestUser, ledger: &Ledger) {
    let fetched = fetches(ledger);
    let (day, (site_at, pages_at)) = fetched.iter().next().unwrap();
    let want = expected(&ledger.projects[PROJECT].sessions, *site_at, *pages_at);
    let response = user
        .client
        .post(app.url(&format!("/api/orgs/{}/widgets/preview", user.org_slug)))
        .json(&json!({ "type": "heatmap_summary", "query_config": {
            "scope": { "store": user.store_id }, "range": { "custom": { "from": day, "to": day } } } }))
        .send()
        .await
        .unwrap();
    let data: Value = response.json().await.unwrap();
    assert_eq!(data["state"], "heatmap", "{data}");
    for (rows, dim, prefix) in [("devices", "device", ""), ("pages", "page", "page_")] {
        let rows = data["heatmap"][rows].as_array().unwrap();
        let value = |metric: &str, key: &str| {
            want[format!("{prefix}{metric}").as_str()]
                .get(&(dim, key.to_owned()))
                .copied()
                .unwrap_or(0)
        };
        let keys: Vec<&String> = want[format!("{prefix}sessions").as_str()]
            .keys()
            .filter(|(d, _)| *d == dim)
            .map(|(_, k)| k)
            .collect();
        assert_eq!(
            rows.len(),
            keys.len().min(if dim == "page" { 10 } else { usize::MAX }),
            "{dim}: {data}"
        );
        let mut last = f64::INFINITY;
        for row in rows {
            let key = row["key"].as_str().unwrap();
            assert_eq!(
                row["sessions"].as_i64().unwrap(),
                value("sessions", key),
                "{key}"
            );
            assert_eq!(
                row["rage_clicks"].as_i64().unwrap(),
                value("rage_clicks", key),
                "{key}"
            );
            assert_eq!(
                row["dead_clicks"].as_i64().unwrap(),
                value("dead_clicks", key),
                "{key}"
            );
            let scroll = row["scroll_depth"].as_f64().unwrap();
            assert_eq!(scroll.round() as i64, value("scroll_depth", key), "{key}");
            let per_100 = row["rage_per_100"].as_f64().unwrap();
            let sessions = value("sessions", key) as f64;
            assert!((per_100 - value("rage_clicks", key) as f64 * 100.0 / sessions).abs() < 1e-9);
            if dim == "page" {
                assert!(
                    per_100 <= last,
                    "pages are ordered by rage clicks per session"
                );
                last = per_100;
            }
        }
    }
    // A one-day window is charted by the hour, and its breakdown still comes back
    // (from the daily rollups): the bar chart of "yesterday by device".
    let result = query(
        app,
        user,
        json!({ "metric": "clarity.sessions", "range": { "custom": { "from": day, "to": day } },
                "compare_to": "none", "scope": { "store": user.store_id }, "group_by": "device" }),
    )
    .await;
    let got: BTreeMap<String, i64> = result["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap().to_owned(),
                g["total"].as_i64().unwrap(),
            )
        })
        .collect();
    let wanted: BTreeMap<String, i64> = want["sessions"]
        .iter()
        .filter(|((d, _), _)| *d == "device")
        .map(|((_, k), v)| (k.clone(), *v))
        .collect();
    assert!(!wanted.is_empty());
    assert_eq!(got, wanted, "{result}");
}

#[tokio::test]
async fn clarity_numbers_equal_the_ledger_per_day_and_dimension_and_a_refetch_replaces() {
    let (app, sim) = spawn_app_with_simulator(config(2)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let integration = connect(&app, &ann).await;
    let clarity = app.provider_info(&ann, "clarity").await;
    assert_eq!(clarity["category"], "behavior");
    assert_eq!(clarity["default_cadence_minutes"], 1440);

    // The first sync: two calls, the day before the fetch.
    assert_eq!(run_all(&app).await, 1);
    let (status, error, _) = job(&app).await;
    assert_eq!(status, "success", "{error:?}");
    let first = ledger(&sim).await;
    assert_eq!(calls_today(&first).len(), 3, "the test and two exports");
    assert_eq!(budget(&app).await["calls"], 3);
    assert_matches_ledger(&app, &ann, &first, "first sync").await;
    assert_heatmap_matches_ledger(&app, &ann, &first).await;

    // The next day's sync adds the next day; an earlier one stays as it was.
    sim.advance_to(first.end + DAY);
    assert_eq!(
        app.request_sync(&ann, integration).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(run_all(&app).await, 1);
    let second = ledger(&sim).await;
    assert_eq!(fetches(&second).len(), 2);
    assert_matches_ledger(&app, &ann, &second, "second day").await;

    // Fetching again the same day, three hours later: the day now shows the later
    // window, replacing (not adding to) the earlier one.
    sim.advance_to(second.end + 3 * 3600);
    app.request_sync(&ann, integration).await;
    assert_eq!(run_all(&app).await, 1);
    let third = ledger(&sim).await;
    assert_matches_ledger(&app, &ann, &third, "a refetch").await;
    let records: i64 =
        sqlx::query_scalar("SELECT count(*) FROM raw_records WHERE integration_id = $1")
            .bind(integration)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(records, 4, "one record per fetch day and breakdown");
}

#[tokio::test]
async fn no_amount_of_refreshing_makes_an_eleventh_call_and_the_next_day_resumes() {
    let (app, sim) = spawn_app_with_simulator(config(1)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let integration = connect(&app, &ann).await;
    assert_eq!(run_all(&app).await, 1);
    let mut snoozed = false;
    for click in 0..8 {
        let status = app.request_sync(&ann, integration).await;
        run_all(&app).await;
        let seen = calls_today(&ledger(&sim).await).len();
        assert!(seen <= 10, "click {click}: the simulator saw {seen} calls");
        let (state, error, wait) = job(&app).await;
        if state == "queued" {
            // Snoozed until just after midnight UTC, with the reason shown; later
            // clicks return the waiting job instead of queueing another.
            assert_eq!(seen, 10);
            let error = error.unwrap();
            assert!(
                error.starts_with("Clarity: 10 of 10 export calls used today; next call ")
                    && (error.ends_with("after 00:05 UTC") || error.contains(" in ")),
                "{error}"
            );
            assert!(wait > 4.0 * 60.0 && wait <= (DAY + 600) as f64, "{wait}");
            if snoozed {
                assert_eq!(status, StatusCode::OK);
            }
            // The sync monitor says when the next call is possible.
            let jobs: serde_json::Value = ann
                .client
                .get(app.url("/api/orgs/acme/sync-jobs?limit=1"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let next: chrono::DateTime<chrono::Utc> =
                jobs[0]["next_run_at"].as_str().unwrap().parse().unwrap();
            let in_seconds = (next - chrono::Utc::now()).num_seconds() as f64;
            assert!((in_seconds - wait).abs() < 5.0, "{in_seconds} vs {wait}");
            snoozed = true;
        }
    }
    assert!(snoozed, "the refresh after the 10th call is snoozed");
    assert_eq!(budget(&app).await["calls"], 10);

    // Even run by force, the waiting job makes no call: the budget says no.
    sqlx::query("UPDATE sync_jobs SET run_after = now() WHERE status = 'queued'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(run_all(&app).await, 1);
    let after = ledger(&sim).await;
    assert_eq!(calls_today(&after).len(), 10);
    assert!(
        after.calls.iter().all(|c| c.status != 429),
        "Clarity never had to refuse"
    );
    assert_eq!(job(&app).await.0, "queued");

    // The next day: the simulator's day and the budget's both turn over.
    sim.advance_to(after.end + DAY);
    a_day_passes_for_the_budget(&app).await;
    sqlx::query("UPDATE sync_jobs SET run_after = now() WHERE status = 'queued'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(run_all(&app).await, 1);
    assert_eq!(job(&app).await.0, "success");
    assert_eq!(calls_today(&ledger(&sim).await).len(), 2);
    assert_eq!(budget(&app).await["calls"], 2);
}

#[tokio::test]
async fn bad_tokens_provider_failures_and_clarity_own_limit_are_clear() {
    let (app, sim) = spawn_app_with_simulator(config(1)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let connect_with = |token: &'static str| {
        ann.client
            .post(app.url("/api/orgs/acme/integrations/clarity/api-key"))
            .json(&json!({ "store_id": ann.store_id, "fields": { "api_key": token } }))
            .send()
    };
    // Not a token at all: refused before any call.
    let body = expect_error(
        connect_with("hello").await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Data Export"),
        "{body}"
    );
    assert_eq!(sim.calls(endpoints::CLARITY_EXPORT), 0);
    // A token Clarity does not know.
    let unknown = "eyJhbGciOiJSUzI1NiJ9.eyJqdGkiOiJ1bmtub3duIn0.bm90LWEtcmVhbC1zaWduYXR1cmU";
    let body = expect_error(
        connect_with(unknown).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("refused") && message.contains("401"),
        "{body}"
    );
    assert!(!body.to_string().contains(unknown));

    connect(&app, &ann).await;
    // A server error: retried later.
    sim.fail(endpoints::CLARITY_EXPORT, 1);
    assert_eq!(run_all(&app).await, 1);
    let (status, error, _) = job(&app).await;
    assert_eq!(status, "queued", "{error:?}");
    // A 429 with Retry-After: waits that long, not until midnight.
    sim.rate_limit(
        endpoints::CLARITY_EXPORT,
        1,
        std::time::Duration::from_secs(120),
    );
    sqlx::query("UPDATE sync_jobs SET run_after = now()")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(run_all(&app).await, 1);
    let (status, error, wait) = job(&app).await;
    assert_eq!(status, "queued");
    assert!((100.0..=125.0).contains(&wait), "{wait}");
    assert!(
        error
            .as_deref()
            .unwrap()
            .starts_with("Clarity answered 429 (too many requests); next call after "),
        "{error:?}"
    );
    // Another tool spends the project's calls: Clarity's own 429 (no Retry-After)
    // marks the day spent and the job waits for midnight.
    let url = format!(
        "{}/clarity/export-data/api/v1/project-live-insights?numOfDays=1",
        sim.base_url()
    );
    while reqwest::Client::new()
        .get(&url)
        .bearer_auth(defaults::CLARITY_API_TOKEN)
        .send()
        .await
        .unwrap()
        .status()
        == StatusCode::OK
    {}
    sqlx::query("UPDATE sync_jobs SET run_after = now()")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(run_all(&app).await, 1);
    let (status, error, wait) = job(&app).await;
    assert_eq!(status, "queued");
    assert!(wait > 4.0 * 60.0, "{wait} {error:?}");
    assert!(
        error.as_deref().unwrap().starts_with("Clarity: the project's 10 export calls for today are used (Clarity refused one); next call "),
        "{error:?}"
    );
    assert_eq!(budget(&app).await["calls"], 10);

    // The next day, a malformed answer: the sync fails, saying so.
    sim.advance_to(ledger(&sim).await.end + DAY);
    a_day_passes_for_the_budget(&app).await;
    reqwest::Client::new()
        .post(format!("{}/_sim/clarity/malformed", sim.base_url()))
        .send()
        .await
        .unwrap();
    sqlx::query("UPDATE sync_jobs SET run_after = now()")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(run_all(&app).await, 1);
    let (status, error, _) = job(&app).await;
    assert_eq!(status, "failed");
    assert!(error
        .unwrap()
        .contains("unexpected response shape from Clarity"));
    let listed: Value = ann
        .client
        .get(app.url("/api/orgs/acme/integrations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        listed[0]["sync_error"]
            .as_str()
            .unwrap()
            .contains("Clarity"),
        "{listed}"
    );
    assert!(!listed.to_string().contains(defaults::CLARITY_API_TOKEN));
}

/// Clarity's 10 calls are per project: two integrations reading one project (two
/// stores, one token) share them, and the integration list says how many are left.
#[tokio::test]
async fn two_integrations_of_one_project_share_its_ten_calls_a_day() {
    let (app, sim) = spawn_app_with_simulator(config(1)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let store: Value = ann
        .client
        .post(app.url("/api/orgs/acme/stores"))
        .json(&json!({ "workspace_id": ann.workspace_id, "name": "Outlet", "currency": "USD", "timezone": "UTC" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let outlet: Uuid = store["id"].as_str().unwrap().parse().unwrap();
    let first = connect(&app, &ann).await;
    let second = connect_store(&app, &ann, outlet).await;
    assert_ne!(first, second);

    let left = |list: &Value, id: Uuid| -> Value {
        list.as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id.to_string())
            .unwrap()["call_budget"]
            .clone()
    };
    let list = |app: &TestApp| {
        let request = ann.client.get(app.url("/api/orgs/acme/integrations"));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    // Two key tests so far, counted for the project and shown on both.
    let listed = list(&app).await;
    for id in [first, second] {
        let budget = left(&listed, id);
        assert_eq!(
            (
                budget["limit"].as_i64(),
                budget["used"].as_i64(),
                budget["remaining"].as_i64()
            ),
            (Some(10), Some(2), Some(8)),
            "{budget}"
        );
        assert_eq!(budget["unit"], "export calls");
        let resets: chrono::DateTime<Utc> = budget["resets_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            resets,
            (Utc::now().date_naive() + Duration::days(1))
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
        );
    }

    // Both connection syncs, then refreshes on both, alternating, well past the limit.
    assert_eq!(run_all(&app).await, 2);
    for click in 0..10 {
        let integration = if click % 2 == 0 { first } else { second };
        app.request_sync(&ann, integration).await;
        // Force any snoozed job to run anyway: the budget must still say no.
        sqlx::query("UPDATE sync_jobs SET run_after = now() WHERE status = 'queued'")
            .execute(&app.db)
            .await
            .unwrap();
        run_all(&app).await;
        let seen = calls_today(&ledger(&sim).await).len();
        assert!(seen <= 10, "click {click}: the simulator saw {seen} calls");
        let listed = list(&app).await;
        assert_eq!(
            left(&listed, first)["used"].as_i64(),
            Some(seen as i64),
            "click {click}"
        );
        assert_eq!(
            left(&listed, second)["remaining"].as_i64(),
            Some(10 - seen as i64),
            "click {click}"
        );
    }
    let after = ledger(&sim).await;
    assert_eq!(calls_today(&after).len(), 10, "the ten calls were used");
    assert!(
        after.calls.iter().all(|c| c.status != 429),
        "Clarity never had to refuse"
    );
    assert_eq!(budget(&app).await["calls"], 10);
    let waiting: i64 = sqlx::query_scalar("SELECT count(*) FROM sync_jobs WHERE status = 'queued'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(waiting, 2, "both integrations wait for tomorrow");
}

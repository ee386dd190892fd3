//! GA4 through the real API against the simulated Google: the OAuth connect flow
//! with PKCE and the property check, abuse of the callback, the sync compared per day
//! and per breakdown with the simulator's ledger, late revisions replacing (not
//! adding to) a day, the property's quota snoozing the job, and a revoked grant
//! ending in `reauth_required` with one email. Google's callback names no property:
//! the server hands the code exchange the property the flow was started for.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate, Utc};
use pulseboard_simulator::{defaults, endpoints, DataConfig, SimulatorConfig, SimulatorHandle};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use url::Url;
use uuid::Uuid;

use crate::{
    helpers::{expect_error, spawn_app_with_simulator, TestApp, TestUser},
    oauth::{client_with_cookies, session_cookie, start_flow, visit},
    sync::{agency, run_all},
};

const BLOCKED: &str = "the server's OAuth callback refuses providers whose callback names no account (src/http/oauth.rs: shop_mismatch); see the module docs";

/// Ten metrics, as the metrics API names them, and the ledger's field for each.
const METRICS: [(&str, &str); 10] = [
    ("sessions", "sessions"),
    ("users", "users"),
    ("new_users", "new_users"),
    ("page_views", "page_views"),
    ("engaged_sessions", "engaged_sessions"),
    ("key_events", "key_events"),
    ("add_to_carts", "add_to_carts"),
    ("checkouts", "checkouts"),
    ("purchases", "purchases"),
    ("purchase_revenue", "purchase_revenue_minor"),
];

/// Breakdowns: the metrics API's dimension and the ledger cell's field.
const BREAKDOWNS: [(&str, &str); 4] = [
    ("device", "device"),
    ("channel", "channel"),
    ("country", "country"),
    ("landing_page", "landing_page"),
];

/// A simulator whose data clock stands 30 hours ago, so moving it to now makes the
/// last days grow, as GA4's late data does.
fn sim_config() -> SimulatorConfig {
    SimulatorConfig {
        data: DataConfig {
            history_days: 100,
            end: Utc::now().timestamp() - 30 * 3600,
            shopify_daily_orders: 30.0,
            ..DataConfig::default()
        },
        ..SimulatorConfig::default()
    }
}

async fn set_store(app: &TestApp, store: Uuid, timezone: &str, currency: &str) {
    sqlx::query("UPDATE stores SET timezone = $2, currency = $3 WHERE id = $1")
        .bind(store)
        .bind(timezone)
        .bind(currency)
        .execute(&app.db)
        .await
        .unwrap();
}

/// Connects `property` to the user's store through the real OAuth flow.
pub async fn connect(app: &TestApp, user: &TestUser, property: &str) -> Uuid {
    let started = start_flow(app, user, "ga4", Some(property)).await;
    let flash = visit(&user.client, &started.callback).await;
    assert!(
        flash.contains(&("connected".into(), "ga4".into())),
        "{flash:?}"
    );
    sqlx::query_scalar("SELECT id FROM integrations WHERE provider = 'ga4'")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// The simulator's cells of each day in `[from, to]`, as they stand now.
pub async fn ledger(
    sim: &SimulatorHandle,
    property: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Value {
    Client::new()
        .get(format!(
            "{}/_sim/ga4/properties/{property}/ledger?from={from}&to={to}",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The simulator's users rule (its docs): a row adding up more than one cell with
/// users counts `sum − ⌊sum / 25⌋`.
fn dedup(sum: i64, cells: usize) -> i64 {
    if cells > 1 {
        sum - sum / 25
    } else {
        sum
    }
}

/// What GA4 reports for `field` over `cells` (one row).
fn row_value(cells: &[&Value], field: &str) -> i64 {
    let sum: i64 = cells.iter().map(|c| c[field].as_i64().unwrap()).sum();
    if field == "users" || field == "new_users" {
        dedup(
            sum,
            cells
                .iter()
                .filter(|c| c[field].as_i64().unwrap() > 0)
                .count(),
        )
    } else {
        sum
    }
}

/// Per day: the day's total of each metric, and per breakdown value.
struct Expected {
    totals: BTreeMap<(&'static str, NaiveDate), i64>,
    /// (metric, dimension, value) → sum over the days.
    groups: BTreeMap<(&'static str, &'static str, String), i64>,
    /// (metric, dimension) → total − Σ parts, summed over the days: the `(none)` group.
    rest: BTreeMap<(&'static str, &'static str), i64>,
}

fn expected(ledger: &Value) -> Expected {
    let mut out = Expected {
        totals: BTreeMap::new(),
        groups: BTreeMap::new(),
        rest: BTreeMap::new(),
    };
    for day in ledger["days"].as_array().unwrap() {
        let date = NaiveDate::parse_from_str(day["date"].as_str().unwrap(), "%Y%m%d").unwrap();
        let cells: Vec<&Value> = day["cells"].as_array().unwrap().iter().collect();
        for (metric, field) in METRICS {
            let total = row_value(&cells, field);
            out.totals.insert((metric, date), total);
            for (dimension, key) in BREAKDOWNS {
                let mut by_value: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
                for cell in &cells {
                    by_value
                        .entry(cell[key].as_str().unwrap().to_owned())
                        .or_default()
                        .push(cell);
                }
                let mut parts = 0;
                for (value, cells) in by_value {
                    let v = row_value(&cells, field);
                    parts += v;
                    *out.groups.entry((metric, dimension, value)).or_default() += v;
                }
                *out.rest.entry((metric, dimension)).or_default() += total - parts;
            }
        }
    }
    out
}

/// Scripts the default property's remaining quota in the simulated Data API.
async fn set_quota(sim: &SimulatorHandle, remaining: Value) {
    Client::new()
        .post(format!(
            "{}/_sim/ga4/properties/{}/quota",
            sim.base_url(),
            defaults::GA4_PROPERTY_ID
        ))
        .json(&remaining)
        .send()
        .await
        .unwrap();
}

/// Lets a snoozed job of the integration run now instead of at its reset.
async fn run_now(app: &TestApp, integration: Uuid) {
    sqlx::query("UPDATE sync_jobs SET run_after = now() WHERE integration_id = $1")
        .bind(integration)
        .execute(&app.db)
        .await
        .unwrap();
}

async fn query(app: &TestApp, user: &TestUser, body: Value) -> Value {
    crate::metrics::query(app, user, body).await
}

/// Compares every metric per day, and every breakdown's groups, with the ledger.
async fn assert_matches(
    app: &TestApp,
    user: &TestUser,
    store: Uuid,
    ledger: &Value,
    from: NaiveDate,
    to: NaiveDate,
    label: &str,
) {
    let want = expected(ledger);
    let range = json!({ "custom": { "from": from.to_string(), "to": to.to_string() } });
    for (metric, _) in METRICS {
        let r = query(app, user, json!({ "metric": format!("ga4.{metric}"), "range": range, "granularity": "day", "scope": { "store": store } })).await;
        let mut mismatches = Vec::new();
        for point in r["series"].as_array().unwrap() {
            let day: NaiveDate = point["bucket"].as_str().unwrap().parse().unwrap();
            let want = want.totals.get(&(metric, day)).copied().unwrap_or(0);
            let have = point["value"].as_i64().unwrap_or(0);
            if want != have {
                mismatches.push(format!("{day}: ledger {want}, API {have}"));
            }
        }
        assert!(mismatches.is_empty(), "{label}: {metric}: {mismatches:?}");
        let total: i64 = (0..)
            .map_while(|n| from.checked_add_days(Days::new(n)).filter(|d| *d <= to))
            .map(|d| want.totals.get(&(metric, d)).copied().unwrap_or(0))
            .sum();
        assert_eq!(
            r["total"].as_i64().unwrap(),
            total,
            "{label}: {metric} total"
        );
        if metric == "purchase_revenue" {
            assert_eq!(r["currency"], ledger["currency"]);
        }
    }
    for (metric, _) in [METRICS[0], METRICS[1], METRICS[9]] {
        for (dimension, _) in BREAKDOWNS {
            let r = query(app, user, json!({ "metric": format!("ga4.{metric}"), "range": range, "group_by": dimension, "scope": { "store": store } })).await;
            for group in r["groups"].as_array().unwrap() {
                let key = group["key"].as_str().unwrap();
                let have = group["total"].as_i64().unwrap();
                if key == "(none)" {
                    let rest = want.rest[&(metric, dimension)];
                    assert_eq!(have, rest, "{label}: {metric} by {dimension}: (none)");
                    continue;
                }
                let wanted = want
                    .groups
                    .get(&(metric, dimension, key.to_owned()))
                    .copied()
                    .unwrap_or_else(|| {
                        panic!("{label}: {metric} by {dimension}: {key} is not in the ledger")
                    });
                assert_eq!(have, wanted, "{label}: {metric} by {dimension} = {key}");
                if dimension == "country" && key == "US" {
                    assert_eq!(group["label"], "United States");
                }
            }
            let named = r["groups"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|g| g["key"] != "(none)")
                .count();
            let in_ledger = want
                .groups
                .iter()
                .filter(|((m, d, _), v)| *m == metric && *d == dimension && **v != 0)
                .count();
            assert_eq!(
                named, in_ledger,
                "{label}: {metric} by {dimension}: every value"
            );
        }
    }
}

fn sim_today(sim: &SimulatorHandle, tz: chrono_tz::Tz) -> NaiveDate {
    chrono::DateTime::from_timestamp(sim.data_end() - 1, 0)
        .unwrap()
        .with_timezone(&tz)
        .date_naive()
}

async fn event_count(app: &TestApp, integration: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM metric_events WHERE integration_id = $1")
        .bind(integration)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn ga4_connects_with_google_oauth_and_its_numbers_equal_the_ledger_and_follow_revisions() {
    let _ = BLOCKED;
    let (app, sim) = spawn_app_with_simulator(sim_config()).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    agency(&app, &ann).await;
    set_store(&app, ann.store_id, "America/New_York", "USD").await;

    // A property named first is checked: a measurement ID is not a property. (None
    // at all is picked after consent: see the picker test below.)
    let url = app.url("/api/orgs/acme/integrations/ga4/connect");
    for bad in [json!("G-ABC123"), json!("UA-1-1")] {
        let response = ann
            .client
            .post(&url)
            .json(&json!({ "store_id": ann.store_id, "account": bad }))
            .send()
            .await
            .unwrap();
        let body = expect_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(body["error"]["field"], "property", "{bad}");
    }
    // The authorize URL asks for offline access with PKCE and the read-only scope.
    let response = ann
        .client
        .post(&url)
        .json(&json!({ "store_id": ann.store_id, "account": "properties/312000001" }))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    let authorize = Url::parse(body["authorize_url"].as_str().unwrap()).unwrap();
    let query_pairs: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    for (k, v) in [
        ("access_type", "offline"),
        ("prompt", "consent"),
        ("include_granted_scopes", "true"),
        ("code_challenge_method", "S256"),
        (
            "scope",
            "https://www.googleapis.com/auth/analytics.readonly",
        ),
        ("client_id", defaults::GA4_CLIENT_ID),
    ] {
        assert!(
            query_pairs.contains(&(k.into(), v.into())),
            "{k}: {query_pairs:?}"
        );
    }
    assert!(query_pairs.iter().any(|(k, _)| k == "code_challenge"));

    let integration = connect(&app, &ann, "properties/312000001").await;
    assert_eq!(sim.calls(endpoints::GA4_TOKEN), 1);
    let row: Value = sqlx::query_scalar("SELECT to_jsonb(i) FROM integrations i WHERE id = $1")
        .bind(integration)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(row["external_account_id"], defaults::GA4_PROPERTY_ID);
    assert_eq!(row["account_label"], "Acme Coffee – GA4");
    assert_eq!(row["cadence_minutes"], 60);

    assert_eq!(run_all(&app).await, 1);
    let first = app.latest_job(&ann).await;
    assert_eq!(first["status"], "success", "{first}");
    assert_eq!(first["sync_type"], "backfill");

    let tz: chrono_tz::Tz = "America/New_York".parse().unwrap();
    let today = sim_today(&sim, tz);
    let from = today.checked_sub_days(Days::new(29)).unwrap();
    let before = ledger(&sim, defaults::GA4_PROPERTY_ID, from, today).await;
    assert_matches(&app, &ann, ann.store_id, &before, from, today, "backfill").await;
    assert!(expected(&before).totals[&("purchases", from)] > 0);

    // The data clock moves 30 hours: the last days grow (late data) and a new day
    // starts. The next sync re-pulls them and replaces them.
    let events_before = event_count(&app, integration).await;
    sim.advance_to(Utc::now().timestamp());
    let today2 = sim_today(&sim, tz);
    let after = ledger(&sim, defaults::GA4_PROPERTY_ID, from, today2).await;
    let yesterday = today;
    assert!(
        expected(&after).totals[&("sessions", yesterday)]
            > expected(&before).totals[&("sessions", yesterday)],
        "the ledger revised {yesterday}"
    );
    let status = app.request_sync(&ann, integration).await;
    assert!(status.is_success(), "{status}");
    assert_eq!(run_all(&app).await, 1);
    let second = app.latest_job(&ann).await;
    assert_eq!(
        (second["status"].as_str(), second["sync_type"].as_str()),
        (Some("success"), Some("incremental")),
        "{second}"
    );
    assert!(
        second["records_synced"].as_i64().unwrap() < first["records_synced"].as_i64().unwrap() / 10
    );
    assert_matches(
        &app,
        &ann,
        ann.store_id,
        &after,
        from,
        today2,
        "after revisions",
    )
    .await;
    // Replaced, not added: a replayed sync changes nothing.
    let events = event_count(&app, integration).await;
    assert!(events > events_before);
    let status = app.request_sync(&ann, integration).await;
    assert!(status.is_success(), "{status}");
    assert_eq!(run_all(&app).await, 1);
    assert_eq!(event_count(&app, integration).await, events);
    assert_matches(&app, &ann, ann.store_id, &after, from, today2, "replayed").await;
}

#[tokio::test]
async fn days_of_a_property_far_east_and_yen_land_on_the_right_store_days() {
    let (app, sim) = spawn_app_with_simulator(sim_config()).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    agency(&app, &ann).await;
    // Auckland is 12–13 hours ahead of UTC: noon UTC would land on the next day.
    set_store(&app, ann.store_id, "Pacific/Auckland", "NZD").await;
    connect(&app, &ann, defaults::GA4_PROPERTY_ID_AUCKLAND).await;
    assert_eq!(run_all(&app).await, 1);
    let tz: chrono_tz::Tz = "Pacific/Auckland".parse().unwrap();
    let today = sim_today(&sim, tz).min(Utc::now().with_timezone(&tz).date_naive());
    let from = today.checked_sub_days(Days::new(20)).unwrap();
    let to = today.checked_sub_days(Days::new(1)).unwrap();
    let want = ledger(&sim, defaults::GA4_PROPERTY_ID_AUCKLAND, from, to).await;
    assert_matches(&app, &ann, ann.store_id, &want, from, to, "Auckland").await;

    // A yen property: revenue without a minor unit.
    let bob = app.signup("bob@example.com", "Bobco").await;
    agency(&app, &bob).await;
    set_store(&app, bob.store_id, "Asia/Tokyo", "JPY").await;
    connect(&app, &bob, defaults::GA4_PROPERTY_ID_JPY).await;
    assert_eq!(run_all(&app).await, 1);
    let tz: chrono_tz::Tz = "Asia/Tokyo".parse().unwrap();
    let today = sim_today(&sim, tz);
    let from = today.checked_sub_days(Days::new(20)).unwrap();
    let want = ledger(&sim, defaults::GA4_PROPERTY_ID_JPY, from, today).await;
    assert_matches(&app, &bob, bob.store_id, &want, from, today, "yen").await;
}

#[tokio::test]
async fn a_property_the_google_account_cannot_read_is_refused_clearly() {
    let (app, sim) = spawn_app_with_simulator(sim_config()).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let started = start_flow(&app, &ann, "ga4", Some(defaults::GA4_FORBIDDEN_PROPERTY_ID)).await;
    let flash = visit(&ann.client, &started.callback).await;
    let get = |k: &str| {
        flash
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("error"), Some("exchange_failed"), "{flash:?}");
    assert!(
        get("message")
            .unwrap()
            .contains("cannot read property 399999999"),
        "{flash:?}"
    );
    assert_eq!(sim.calls(endpoints::GA4_TOKEN), 1);
    let integrations: i64 = sqlx::query_scalar("SELECT count(*) FROM integrations")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(integrations, 0);
}

#[tokio::test]
async fn an_exhausted_quota_snoozes_the_job_with_a_reason_and_it_resumes() {
    let (app, sim) = spawn_app_with_simulator(sim_config()).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    agency(&app, &ann).await;
    set_store(&app, ann.store_id, "America/New_York", "USD").await;
    // The hour's tokens are nearly spent before the first sync.
    set_quota(&sim, json!({ "tokens_per_hour_remaining": 60 })).await;
    let integration = connect(&app, &ann, defaults::GA4_PROPERTY_ID).await;
    let calls = sim.calls(endpoints::GA4_RUN_REPORT);
    assert_eq!(run_all(&app).await, 1);
    assert_eq!(
        sim.calls(endpoints::GA4_RUN_REPORT) - calls,
        1,
        "no retry loop"
    );
    let snoozed = app.latest_job(&ann).await;
    assert_eq!(snoozed["status"], "queued", "{snoozed}");
    // The sync monitor names the provider's limit and when it resets.
    assert!(
        snoozed["error"]
            .as_str()
            .unwrap()
            .starts_with("GA4 property quota exhausted (tokens per hour); next try "),
        "{snoozed}"
    );
    let (attempt, wait): (i32, f64) = sqlx::query_as(
        "SELECT attempt, extract(epoch FROM run_after - now())::float8 FROM sync_jobs WHERE integration_id = $1",
    )
    .bind(integration)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(attempt, 0, "a snooze spends no attempt");
    assert!(
        (50.0..=3600.0).contains(&wait),
        "until the top of the hour: {wait}"
    );
    // Nothing runs before then.
    assert_eq!(run_all(&app).await, 0);

    // Spent outright: GA4's 429 RESOURCE_EXHAUSTED (per day) snoozes until Pacific midnight.
    set_quota(&sim, json!({ "tokens_per_day_remaining": 0 })).await;
    run_now(&app, integration).await;
    assert_eq!(run_all(&app).await, 1);
    let wait: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM run_after - now())::float8 FROM sync_jobs WHERE integration_id = $1",
    )
    .bind(integration)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!((50.0..=25.0 * 3600.0).contains(&wait), "{wait}");
    assert_eq!(
        app.latest_job(&ann).await["error"],
        "GA4 property quota exhausted (tokens per day); next try 00:00 PT"
    );

    // The quota refills; the job resumes where it stopped and finishes.
    set_quota(&sim, json!({ "reset": true })).await;
    run_now(&app, integration).await;
    assert_eq!(run_all(&app).await, 1);
    assert_eq!(app.latest_job(&ann).await["status"], "success");
    let tz: chrono_tz::Tz = "America/New_York".parse().unwrap();
    let today = sim_today(&sim, tz);
    let from = today.checked_sub_days(Days::new(29)).unwrap();
    let want = ledger(&sim, defaults::GA4_PROPERTY_ID, from, today).await;
    assert_matches(
        &app,
        &ann,
        ann.store_id,
        &want,
        from,
        today,
        "after the snooze",
    )
    .await;
}

#[tokio::test]
async fn a_revoked_grant_requires_reauthorization_with_exactly_one_email() {
    let (app, sim) = spawn_app_with_simulator(sim_config()).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    agency(&app, &ann).await;
    let integration = connect(&app, &ann, defaults::GA4_PROPERTY_ID).await;
    assert_eq!(run_all(&app).await, 1);
    app.deliver_mail().await;
    let mails_before = app.mails().len();

    // The user removes Pulseboard in their Google account; the hour-long token expires.
    Client::new()
        .post(format!("{}/_sim/ga4/revoke", sim.base_url()))
        .send()
        .await
        .unwrap();
    sqlx::query("UPDATE integrations SET expires_at = now() + interval '1 minute' WHERE id = $1")
        .bind(integration)
        .execute(&app.db)
        .await
        .unwrap();
    let status = app.request_sync(&ann, integration).await;
    assert!(status.is_success(), "{status}");
    assert_eq!(run_all(&app).await, 1);
    let failed = app.latest_job(&ann).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(
        sim.calls(endpoints::GA4_TOKEN),
        2,
        "one refresh, refused, never retried"
    );
    // A sync asked again is refused until someone reconnects; nothing more is sent.
    let again = ann
        .client
        .post(app.url(&format!("/api/orgs/acme/integrations/{integration}/sync")))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(run_all(&app).await, 0);
    let status: String = sqlx::query_scalar("SELECT status FROM integrations WHERE id = $1")
        .bind(integration)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(status, "reauth_required");
    app.deliver_mail().await;
    let mails = app.mails();
    let new: Vec<&String> = mails[mails_before..].iter().collect();
    assert_eq!(new.len(), 1, "exactly one email: {new:?}");
    assert!(
        new[0].contains("Reconnect Google Analytics 4"),
        "{}",
        new[0]
    );
}

/// The same abuse cases as Stripe's: a state that is missing its cookie, forged,
/// someone else's, expired, or replayed never reaches Google's token endpoint.
#[tokio::test]
async fn forged_foreign_expired_and_replayed_google_callbacks_never_reach_the_token_endpoint() {
    let (app, sim) = spawn_app_with_simulator(sim_config()).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (_bob, _) = app.join(&ann, "bob@example.com", "admin").await;
    let _carol = app.signup("carol@example.com", "Other").await;
    let property = Some(defaults::GA4_PROPERTY_ID);

    let refused = |pairs: &[(String, String)], code: &str| {
        let error = pairs
            .iter()
            .find(|(k, _)| k == "error")
            .map(|(_, v)| v.as_str());
        assert_eq!(error, Some(code), "{pairs:?}");
        assert!(!pairs.iter().any(|(k, _)| k == "connected"), "{pairs:?}");
    };
    let ann_session = session_cookie(&app, "ann@example.com").await;

    // No state cookie: this browser did not start the flow.
    let started = start_flow(&app, &ann, "ga4", property).await;
    refused(
        &visit(&client_with_cookies(&[&ann_session]), &started.callback).await,
        "cookie_missing",
    );
    // A forged cookie.
    let started = start_flow(&app, &ann, "ga4", property).await;
    let forged = format!("{}0", started.state_cookie.split(';').next().unwrap());
    refused(
        &visit(
            &client_with_cookies(&[&ann_session, &forged]),
            &started.callback,
        )
        .await,
        "state_mismatch",
    );
    // Another admin of the org, and an admin of another org, holding Ann's cookie.
    let started = start_flow(&app, &ann, "ga4", property).await;
    let bob_session = session_cookie(&app, "bob@example.com").await;
    refused(
        &visit(
            &client_with_cookies(&[&bob_session, &started.state_cookie]),
            &started.callback,
        )
        .await,
        "state_invalid",
    );
    let carol_session = session_cookie(&app, "carol@example.com").await;
    refused(
        &visit(
            &client_with_cookies(&[&carol_session, &started.state_cookie]),
            &started.callback,
        )
        .await,
        "state_invalid",
    );
    // Expired.
    let started = start_flow(&app, &ann, "ga4", property).await;
    sqlx::query("UPDATE oauth_states SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    refused(
        &visit(&ann.client, &started.callback).await,
        "state_expired",
    );
    // Consent refused at Google.
    sim.deny_consent(endpoints::GA4_AUTHORIZE);
    let started = start_flow(&app, &ann, "ga4", property).await;
    refused(
        &visit(&ann.client, &started.callback).await,
        "access_denied",
    );
    // A Stripe state on Google's callback.
    let started = start_flow(&app, &ann, "stripe", None).await;
    let mut elsewhere = started.callback.clone();
    elsewhere.set_path("/api/oauth/ga4/callback");
    refused(
        &visit(
            &client_with_cookies(&[
                &ann_session,
                &started
                    .state_cookie
                    .replace("pb_oauth_stripe", "pb_oauth_ga4"),
            ]),
            &elsewhere,
        )
        .await,
        "state_mismatch",
    );
    assert_eq!(
        sim.calls(endpoints::GA4_TOKEN),
        0,
        "no refused callback reached Google"
    );

    // Replayed: whatever the first use did, the second is refused before Google.
    let started = start_flow(&app, &ann, "ga4", property).await;
    visit(&ann.client, &started.callback).await;
    let calls = sim.calls(endpoints::GA4_TOKEN);
    refused(
        &visit(
            &client_with_cookies(&[&ann_session, &started.state_cookie]),
            &started.callback,
        )
        .await,
        "state_used",
    );
    assert_eq!(sim.calls(endpoints::GA4_TOKEN), calls);
    let credentials: i64 = sqlx::query_scalar("SELECT count(*) FROM integration_credentials")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(credentials <= 2, "at most the one connection's two tokens");
}

#[tokio::test]
async fn without_a_property_the_user_picks_one_after_consent_and_only_then_it_syncs() {
    let (app, sim) = spawn_app_with_simulator(sim_config()).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    set_store(&app, ann.store_id, "America/New_York", "USD").await;
    let started = start_flow(&app, &ann, "ga4", None).await;
    let flash = visit(&ann.client, &started.callback).await;
    let choose = flash
        .iter()
        .find(|(k, _)| k == "choose")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no picker: {flash:?}"));
    let id: Uuid = choose.parse().unwrap();
    let row = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            sqlx::query_as::<_, (String, String)>(
                "SELECT status, external_account_id FROM integrations WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&db)
            .await
            .unwrap()
        }
    };
    assert_eq!(row(&app).await.0, "choosing_account");
    assert_eq!(run_all(&app).await, 0, "nothing syncs before the pick");

    // The picker lists what the consenting Google account can read.
    let accounts = ann
        .client
        .get(app.url(&format!("/api/orgs/acme/integrations/{id}/accounts")))
        .send()
        .await
        .unwrap();
    assert_eq!(accounts.status(), StatusCode::OK);
    let accounts: Value = accounts.json().await.unwrap();
    let ids: Vec<&str> = accounts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&defaults::GA4_PROPERTY_ID), "{ids:?}");
    assert!(
        !ids.contains(&defaults::GA4_FORBIDDEN_PROPERTY_ID),
        "{ids:?}"
    );
    assert!(accounts[0]["label"].as_str().is_some_and(|l| !l.is_empty()));

    // A property it cannot read is refused and changes nothing.
    let url = app.url(&format!("/api/orgs/acme/integrations/{id}/account"));
    for (body, status, field) in [
        (
            json!({ "account": defaults::GA4_FORBIDDEN_PROPERTY_ID }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "account",
        ),
        (
            json!({ "account": "not a property" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "account",
        ),
    ] {
        let response = ann.client.post(&url).json(&body).send().await.unwrap();
        let error = expect_error(response, status, "validation_failed").await;
        assert_eq!(error["error"]["field"], field);
    }
    assert_eq!(row(&app).await.0, "choosing_account");

    let chosen = ann
        .client
        .post(&url)
        .json(&json!({ "account": defaults::GA4_PROPERTY_ID }))
        .send()
        .await
        .unwrap();
    assert_eq!(chosen.status(), StatusCode::OK);
    assert_eq!(
        row(&app).await,
        ("active".to_owned(), defaults::GA4_PROPERTY_ID.to_owned())
    );
    assert_eq!(run_all(&app).await, 1, "the first sync runs after the pick");
    let again = ann
        .client
        .post(&url)
        .json(&json!({ "account": defaults::GA4_PROPERTY_ID }))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let sessions = query(
        &app,
        &ann,
        json!({ "metric": "ga4.sessions", "range": "last_7_days", "scope": { "store": ann.store_id } }),
    )
    .await;
    assert!(sessions["total"].as_i64().unwrap() > 0, "{sessions}");
    drop(sim);
}

#[tokio::test]
async fn disconnecting_revokes_the_grant_at_google() {
    let (app, sim) = spawn_app_with_simulator(sim_config()).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    set_store(&app, ann.store_id, "America/New_York", "USD").await;
    let id = connect(&app, &ann, defaults::GA4_PROPERTY_ID).await;
    assert_eq!(sim.calls(endpoints::GA4_REVOKE), 0);
    let response = ann
        .client
        .delete(app.url(&format!("/api/orgs/acme/integrations/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        sim.calls(endpoints::GA4_REVOKE),
        1,
        "the grant was revoked once"
    );
    let status: String = sqlx::query_scalar("SELECT status FROM integrations WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(status, "disconnected");
}

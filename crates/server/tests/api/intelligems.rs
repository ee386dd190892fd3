//! Intelligems against the simulator, through the real HTTP API: a wrong key is
//! refused before anything is saved; a pull's visitors, orders and revenue equal,
//! day by day and per variant, what the simulator's ledger says; the experiment
//! items carry the ledger's totals, control first, and the card's lift is the
//! ledger's; signed webhook deliveries bring the new activity before any pull, a
//! replay and the reconciling pull count nothing twice, a forged one is refused
//! and stores nothing; a 429 snoozes the job.

use std::{collections::BTreeMap, time::Duration};

use chrono::{Days, NaiveDate, Utc};
use pulseboard_connectors::{items::Item, RawRecord};
use pulseboard_server::dashboards::experiments::analyze;
use pulseboard_simulator::{defaults, endpoints, IntelligemsLedger};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    helpers::{expect_error, spawn_app_with_simulator, TestApp, TestUser},
    metrics::{assert_daily_series, query},
    sync::{run_all, small_history},
};

const METRICS: [&str; 3] = ["visitors", "orders", "revenue"];

async fn store(app: &TestApp, user: &TestUser) -> Uuid {
    app.create_store(user, "Coffee", "UTC").await
}

async fn connect(app: &TestApp, user: &TestUser, store_id: Uuid, key: &str) -> reqwest::Response {
    app.connect_api_key(user, "intelligems", store_id, &[("api_key", key)])
        .await
}

/// Metric → UTC day → value, from the ledger alone.
fn expected(ledger: &IntelligemsLedger) -> BTreeMap<&'static str, BTreeMap<NaiveDate, i64>> {
    let mut out: BTreeMap<&'static str, BTreeMap<NaiveDate, i64>> = BTreeMap::new();
    for e in &ledger.experiences {
        for (day, variations) in &e.days {
            let day: NaiveDate = day.parse().unwrap();
            for stats in variations.values() {
                *out.entry("visitors").or_default().entry(day).or_default() +=
                    stats.visitors as i64;
                *out.entry("orders").or_default().entry(day).or_default() += stats.orders as i64;
                *out.entry("revenue").or_default().entry(day).or_default() += stats.revenue_minor;
            }
        }
    }
    out
}

async fn assert_matches_ledger(
    app: &TestApp,
    user: &TestUser,
    store_id: Uuid,
    ledger: &IntelligemsLedger,
    label: &str,
) {
    let to = Utc::now().date_naive();
    let from = to.checked_sub_days(Days::new(59)).unwrap();
    let span: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
    assert_daily_series(
        app,
        user,
        store_id,
        "intelligems",
        &METRICS,
        &expected(ledger),
        &span,
        &[],
        label,
    )
    .await;
    // Per variant, over the whole span, named as Intelligems names them.
    let r = query(
        app,
        user,
        json!({ "metric": "intelligems.orders", "range": { "custom": { "from": from, "to": to } },
                "group_by": "variant", "scope": { "store": store_id } }),
    )
    .await;
    let mut per_variant: BTreeMap<&str, (i64, &str)> = BTreeMap::new();
    for e in &ledger.experiences {
        for v in &e.variations {
            let orders: u64 = e
                .days
                .values()
                .filter_map(|d| d.get(&v.id))
                .map(|s| s.orders)
                .sum();
            if orders > 0 {
                per_variant.insert(&v.id, (orders as i64, &v.name));
            }
        }
    }
    let groups = r["groups"].as_array().unwrap();
    assert_eq!(groups.len(), per_variant.len(), "{label}: {r}");
    for g in groups {
        let (orders, name) = per_variant[g["key"].as_str().unwrap()];
        assert_eq!(g["total"].as_i64().unwrap(), orders, "{label} {}", g["key"]);
        assert_eq!(g["label"], name, "{label}");
    }
}

/// (events, distinct (metric, day record, variant)): equal when each variant's day counts once.
async fn event_pairs(app: &TestApp, integration: Uuid) -> (i64, i64) {
    sqlx::query_as(
        "SELECT count(*), count(DISTINCT (metric_name, source_record_id, dimensions)) FROM metric_events WHERE integration_id = $1",
    )
    .bind(integration)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// The experiment items the stored experience records stand for.
async fn stored_experiments(
    app: &TestApp,
    integration: Uuid,
) -> Vec<pulseboard_connectors::items::Experiment> {
    let rows: Vec<(String, Value)> = sqlx::query_as(
        "SELECT external_id, payload FROM raw_records WHERE integration_id = $1 AND object_type = 'experience' ORDER BY external_id",
    )
    .bind(integration)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let provider = app.app_state.providers.get("intelligems").unwrap();
    rows.into_iter()
        .flat_map(|(id, payload)| {
            provider.items(&RawRecord {
                object_type: "experience".into(),
                external_id: id,
                updated_at: None,
                payload,
            })
        })
        .map(|item| match item {
            Item::Experiment(e) => e,
            other => panic!("{other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn intelligems_numbers_equal_the_ledger_and_webhooks_then_a_pull_count_once() {
    // The data clock starts six hours ago: the hours since are live activity.
    let mut config = small_history(60);
    config.data.end -= 6 * 3600;
    let (app, sim) = spawn_app_with_simulator(config).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let store_id = store(&app, &ann).await;

    // A wrong key is refused and nothing is saved.
    let refused = connect(&app, &ann, store_id, "ig_wrong_key_0000000000").await;
    let body = expect_error(
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(!body.to_string().contains("ig_wrong_key"), "{body}");
    let none: i64 = sqlx::query_scalar("SELECT count(*) FROM integrations")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(none, 0);

    let response = connect(&app, &ann, store_id, defaults::INTELLIGEMS_API_KEY).await;
    let status = response.status();
    let integration: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{integration}");
    assert!(!integration
        .to_string()
        .contains(defaults::INTELLIGEMS_API_KEY));
    let integration: Uuid = integration["id"].as_str().unwrap().parse().unwrap();

    assert_eq!(run_all(&app).await, 1);
    let job = app.latest_job(&ann).await;
    assert_eq!(
        (job["status"].as_str(), job["sync_type"].as_str()),
        (Some("success"), Some("backfill")),
        "{job}"
    );
    let ledger = sim.intelligems_ledger();
    assert_matches_ledger(&app, &ann, store_id, &ledger, "pull").await;

    // The items: each experiment with the ledger's totals, control first; the
    // draft is listed without numbers.
    let experiments = stored_experiments(&app, integration).await;
    assert_eq!(experiments.len(), ledger.experiences.len());
    for e in &ledger.experiences {
        let item = experiments.iter().find(|x| x.id == e.id).unwrap();
        assert!(item.variants[0].is_control, "{}", e.id);
        let totals = e.totals();
        for v in &item.variants {
            let t = totals.get(&v.id).cloned().unwrap_or_default();
            assert_eq!(
                (v.visitors, v.orders, v.revenue_minor),
                (t.visitors, t.orders, t.revenue_minor),
                "{} {}",
                e.id,
                v.id
            );
        }
    }
    // The card's lift of the shipping test is the ledger's, and the sentence says
    // the probability in whole percents.
    let shipping = experiments
        .iter()
        .find(|x| x.name == "Free shipping threshold")
        .unwrap();
    let stats = analyze(shipping);
    let totals = ledger
        .experiences
        .iter()
        .find(|e| e.id == shipping.id)
        .unwrap()
        .totals();
    let (a, b) = (&totals["v-ship-50"], &totals["v-ship-40"]);
    let ledger_lift =
        (b.orders as f64 / b.visitors as f64) / (a.orders as f64 / a.visitors as f64) - 1.0;
    let comparison = &stats.treatments[0];
    assert!((comparison.conversion_lift.unwrap() - ledger_lift).abs() < 1e-12);
    let p = comparison.probability_to_beat_control.unwrap();
    assert_eq!(
        comparison.sentence.as_deref().unwrap(),
        format!(
            "{:.0} % chance that Free over $40 converts better than the control",
            (p * 100.0).round()
        )
    );

    // Live: six hours of new activity arrive by webhook, before any pull.
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
    let later = sim.intelligems_ledger();
    assert!(
        expected(&later)["visitors"].values().sum::<i64>()
            > expected(&ledger)["visitors"].values().sum::<i64>()
    );
    let deliveries = sim.intelligems_webhooks(&secret);
    assert_eq!(deliveries.len(), 2, "the two running tests");

    let post = |body: String, headers: Vec<(String, String)>| {
        let mut request = reqwest::Client::new().post(app.url(&path)).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    // A forged delivery (the body changed after signing) is refused and stored nowhere.
    let forged = deliveries[0]
        .body
        .replace("\"n_orders\":", "\"n_orders\": 1000 + ");
    let response = post(forged, deliveries[0].headers.clone()).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let inbox: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_inbox")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(inbox, 0, "a forged delivery stores nothing");
    // Each delivery twice (a retry).
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
    let running = stored_experiments(&app, integration).await;
    let price = running
        .iter()
        .find(|x| x.name == "Espresso blend price test")
        .unwrap();
    let price_totals = later
        .experiences
        .iter()
        .find(|e| e.id == price.id)
        .unwrap()
        .totals();
    assert_eq!(
        price.variants[0].visitors, price_totals["v-price-18"].visitors,
        "the card's totals are live"
    );

    // The reconciling pull changes nothing and counts nothing twice.
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
async fn an_intelligems_rate_limit_snoozes_the_job() {
    let (app, sim) = spawn_app_with_simulator(small_history(60)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let store_id = store(&app, &ann).await;
    let response = connect(&app, &ann, store_id, defaults::INTELLIGEMS_API_KEY).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let integration: Uuid = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    sim.rate_limit(endpoints::INTELLIGEMS_ANALYTICS, 1, Duration::from_secs(90));
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
    assert!(run_in > 60.0, "Retry-After is honoured: {run_in}");

    sqlx::query("UPDATE sync_jobs SET run_after = now() WHERE integration_id = $1")
        .bind(integration)
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(run_all(&app).await, 1);
    assert_eq!(app.latest_job(&ann).await["status"], "success");
    assert_matches_ledger(
        &app,
        &ann,
        store_id,
        &sim.intelligems_ledger(),
        "after the wait",
    )
    .await;
}

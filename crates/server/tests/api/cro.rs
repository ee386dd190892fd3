//! The CRO widgets' data through the builder's preview (the same path a dashboard
//! load takes), against what the simulators' ledgers say: the review feed lists the
//! newest reviews (filtered by rating and moderation), the sentiment gauge combines
//! the window's ratings and review text, the experiment card shows the running
//! tests with their control first, and a store without the provider is offered it.

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use pulseboard_connectors::sentiment;
use pulseboard_simulator::defaults;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    helpers::{spawn_app_with_simulator, TestApp, TestUser},
    sync::{run_all, small_history},
};

const ZONE: &str = "America/New_York";
const SHOP: &str = defaults::JUDGEME_SHOP_DOMAIN;

async fn preview(app: &TestApp, user: &TestUser, kind: &str, query_config: Value) -> Value {
    let response = user
        .client
        .post(app.url(&format!("/api/orgs/{}/widgets/preview", user.org_slug)))
        .json(&json!({ "type": kind, "query_config": query_config }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn connect(app: &TestApp, user: &TestUser, provider: &str, fields: Value) {
    let response = user
        .client
        .post(app.url(&format!(
            "/api/orgs/{}/integrations/{provider}/api-key",
            user.org_slug
        )))
        .json(&json!({ "store_id": user.store_id, "fields": fields }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "{provider}");
}

fn at(review: &Value) -> DateTime<Utc> {
    review["created_at"].as_str().unwrap().parse().unwrap()
}

/// The ledger's reviews a feed may show (hidden ones never), newest first.
fn feed(ledger: &Value, keep: impl Fn(&Value) -> bool) -> Vec<String> {
    let mut reviews: Vec<&Value> = ledger["shops"][SHOP]["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["hidden"] != true && keep(r))
        .collect();
    reviews.sort_by(|a, b| {
        at(b)
            .cmp(&at(a))
            .then(a["id"].to_string().cmp(&b["id"].to_string()))
    });
    reviews
        .iter()
        .map(|r| r["id"].to_string().trim_matches('"').to_owned())
        .collect()
}

fn ids(data: &Value, list: &str) -> Vec<String> {
    data[list]
        .as_array()
        .unwrap_or_else(|| panic!("{data}"))
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_review_feed_and_the_sentiment_gauge_follow_the_judgeme_ledger() {
    let (app, sim) = spawn_app_with_simulator(small_history(45)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    sqlx::query("UPDATE stores SET timezone = $2 WHERE id = $1")
        .bind(ann.store_id)
        .bind(ZONE)
        .execute(&app.db)
        .await
        .unwrap();
    let scope = json!({ "store": ann.store_id });

    // Before Judge.me is connected, the widgets offer it.
    let offered = preview(&app, &ann, "review_feed", json!({ "scope": scope })).await;
    assert_eq!(offered["state"], "not_connected", "{offered}");
    assert_eq!(offered["provider"], "judgeme");
    let gauge = preview(
        &app,
        &ann,
        "sentiment_gauge",
        json!({ "scope": scope, "range": "last_30_days" }),
    )
    .await;
    assert_eq!(gauge["state"], "not_connected", "{gauge}");

    connect(
        &app,
        &ann,
        "judgeme",
        json!({ "api_key": defaults::JUDGEME_API_TOKEN, "shop_domain": "acme-coffee" }),
    )
    .await;
    assert_eq!(run_all(&app).await, 1);
    let ledger = sim.judgeme_ledger();

    // The newest six, then the critical ones, then those waiting for moderation.
    let latest = preview(
        &app,
        &ann,
        "review_feed",
        json!({ "scope": scope, "limit": 6 }),
    )
    .await;
    assert_eq!(latest["state"], "reviews", "{latest}");
    assert_eq!(
        ids(&latest, "reviews"),
        feed(&ledger, |_| true)[..6].to_vec()
    );
    let critical = preview(
        &app,
        &ann,
        "review_feed",
        json!({ "scope": scope, "ratings": [1, 2] }),
    )
    .await;
    let want = feed(&ledger, |r| r["rating"].as_i64().unwrap() <= 2);
    assert!(!want.is_empty());
    assert_eq!(
        ids(&critical, "reviews"),
        want.into_iter().take(10).collect::<Vec<_>>()
    );
    let pending = preview(
        &app,
        &ann,
        "review_feed",
        json!({ "scope": scope, "status": "pending", "limit": 50 }),
    )
    .await;
    let want = feed(&ledger, |r| r["published"] != true);
    assert!(!want.is_empty(), "the simulator keeps some reviews waiting");
    assert_eq!(
        ids(&pending, "reviews"),
        want.into_iter().take(50).collect::<Vec<_>>()
    );
    assert!(pending["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["published"] == false));

    // The gauge over the last 30 complete store days (yesterday and the 29 before): the mean of two signals on 0–100,
    // stars (1 → 0, 5 → 100) and VADER's score of "title. body" (−1 → 0, 1 → 100).
    let tz: Tz = ZONE.parse().unwrap();
    let today: NaiveDate = Utc::now().with_timezone(&tz).date_naive();
    let (from, to) = (today - Days::new(30), today - Days::new(1));
    let window: Vec<&Value> = ledger["shops"][SHOP]["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            let day = at(r).with_timezone(&tz).date_naive();
            day >= from && day <= to
        })
        .collect();
    let n = window.len() as f64;
    assert!(n > 10.0);
    let stars = window
        .iter()
        .map(|r| r["rating"].as_f64().unwrap())
        .sum::<f64>()
        / n;
    let text = window
        .iter()
        .map(|r| {
            sentiment(&format!(
                "{}. {}",
                r["title"].as_str().unwrap(),
                r["body"].as_str().unwrap()
            ))
        })
        .sum::<f64>()
        / n;
    let want = ((stars - 1.0) / 4.0 * 100.0 + (text + 1.0) / 2.0 * 100.0) / 2.0;
    let gauge = preview(
        &app,
        &ann,
        "sentiment_gauge",
        json!({ "scope": scope, "range": "last_30_days" }),
    )
    .await;
    assert_eq!(gauge["state"], "sentiment", "{gauge}");
    let score = gauge["sentiment"]["score"].as_f64().unwrap();
    // Text scores are stored to a thousandth each: the mean may differ by that much.
    assert!(
        (score - want).abs() < 0.1,
        "{score} vs {want} (n {n}, stars {stars}, text {text}): {gauge}"
    );
    let parts = gauge["sentiment"]["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2, "Gorgias is not connected: {gauge}");
    assert_eq!(parts[0]["count"].as_f64().unwrap(), n);
    assert!((parts[0]["average"].as_f64().unwrap() - stars).abs() < 1e-9);

    // Settings the widget cannot take are refused before anything runs.
    let bad = ann
        .client
        .post(app.url("/api/orgs/acme/widgets/preview"))
        .json(&json!({ "type": "review_feed", "query_config": { "scope": scope, "ratings": [6] } }))
        .send()
        .await
        .unwrap();
    let body =
        crate::helpers::expect_error(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            .await;
    assert_eq!(body["error"]["field"], "query_config.ratings");
}

#[tokio::test]
async fn the_experiment_card_shows_running_tests_with_the_ledgers_totals() {
    let (app, sim) = spawn_app_with_simulator(small_history(60)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let scope = json!({ "store": ann.store_id });
    let offered = preview(&app, &ann, "experiment_card", json!({ "scope": scope })).await;
    assert_eq!(offered["provider"], "intelligems", "{offered}");

    connect(
        &app,
        &ann,
        "intelligems",
        json!({ "api_key": defaults::INTELLIGEMS_API_KEY }),
    )
    .await;
    assert_eq!(run_all(&app).await, 1);
    let ledger = sim.intelligems_ledger();
    let now = Utc::now().timestamp();

    let card = preview(
        &app,
        &ann,
        "experiment_card",
        json!({ "scope": scope, "limit": 10 }),
    )
    .await;
    assert_eq!(card["state"], "experiments", "{card}");
    let shown: Vec<&Value> = card["experiments"].as_array().unwrap().iter().collect();
    let running: Vec<&str> = ledger
        .experiences
        .iter()
        .filter(|e| e.status(now) == "started")
        .map(|e| e.id.as_str())
        .collect();
    let mut shown_ids: Vec<&str> = shown.iter().map(|e| e["id"].as_str().unwrap()).collect();
    shown_ids.sort();
    let mut want = running.clone();
    want.sort();
    assert_eq!(shown_ids, want, "running tests only: {card}");
    for e in &shown {
        let experience = ledger.experiences.iter().find(|x| x.id == e["id"]).unwrap();
        let totals = experience.totals();
        let control = &e["control"];
        assert_eq!(control["is_control"], true);
        let t = &totals[control["variant_id"].as_str().unwrap()];
        assert_eq!(control["visitors"].as_u64(), Some(t.visitors));
        assert_eq!(control["orders"].as_u64(), Some(t.orders));
        for treatment in e["treatments"].as_array().unwrap() {
            let arm = &treatment["treatment"];
            let t = &totals[arm["variant_id"].as_str().unwrap()];
            assert_eq!(arm["visitors"].as_u64(), Some(t.visitors), "{e}");
            let p = treatment["probability_to_beat_control"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&p));
            assert!(treatment["sentence"]
                .as_str()
                .unwrap()
                .contains(arm["name"].as_str().unwrap()));
        }
    }
    // With ended tests too, every test that has started is listed.
    let all = preview(
        &app,
        &ann,
        "experiment_card",
        json!({ "scope": scope, "include_ended": true, "limit": 10 }),
    )
    .await;
    let started = ledger
        .experiences
        .iter()
        .filter(|e| e.status(now) != "pending")
        .count();
    let listed = all["experiments"].as_array().unwrap();
    assert!(listed.len() >= started, "{all}");
}

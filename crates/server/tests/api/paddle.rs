//! Paddle Billing against the simulator, through the real HTTP API: the connect
//! form and its refusals, a backfill whose every catalog metric equals, day by day,
//! the simulator's ledger (recomputed here from its transactions, adjustments,
//! subscriptions and customers), an incremental sync from `/events` that picks up a
//! new transaction and a refund once, signed webhook deliveries of the same objects
//! that name exactly the records the sync stored, and a 429 that snoozes the job.

use std::{collections::BTreeMap, time::Duration};

use chrono::{DateTime, Days, NaiveDate, Utc};
use pulseboard_simulator::{defaults, endpoints};
use reqwest::{header::HeaderMap, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    helpers::{created_without_secret, expect_error, spawn_app_with_simulator, TestApp, TestUser},
    metrics::assert_daily_series,
    subscriptions::assert_rates_over_windows,
    sync::{run_all, small_history, MovementBook, MAY_STAY_ZERO, MOVEMENT_METRICS},
};

const METRICS: [&str; 13] = [
    "gross_revenue",
    "refunds",
    "net_revenue",
    "paddle_fees",
    "earnings",
    "new_customers",
    "mrr",
    "arr",
    "active_subscriptions",
    "new_subscriptions",
    "churned_subscriptions",
    "trials_started",
    "trial_conversions",
];

fn fields(key: &str, seller: &str) -> BTreeMap<String, String> {
    [("api_key", key), ("seller_id", seller)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

async fn store(app: &TestApp, user: &TestUser) -> Uuid {
    app.create_store(user, "SaaS", "UTC").await
}

async fn connect(app: &TestApp, user: &TestUser, store_id: Uuid) -> Uuid {
    let account = defaults::PADDLE_SELLER_ID.to_string();
    let fields = [
        ("api_key", defaults::PADDLE_API_KEY),
        ("seller_id", account.as_str()),
    ];
    let response = app.connect_api_key(user, "paddle", store_id, &fields).await;
    let integration = created_without_secret(response, defaults::PADDLE_API_KEY).await;
    assert_eq!(
        integration["account_label"],
        "Paddle seller 12345 (sandbox)"
    );
    integration["id"].as_str().unwrap().parse().unwrap()
}

fn day(unix: i64) -> NaiveDate {
    DateTime::from_timestamp(unix, 0).unwrap().date_naive()
}

fn num(v: &Value) -> i64 {
    v.as_i64().unwrap()
}

/// Metric → UTC day → value, from the ledger alone.
fn expected(
    ledger: &Value,
    days: &[NaiveDate],
) -> BTreeMap<&'static str, BTreeMap<NaiveDate, i64>> {
    let mut out: BTreeMap<&'static str, BTreeMap<NaiveDate, i64>> = BTreeMap::new();
    let mut add = |metric: &'static str, d: NaiveDate, value: i64| {
        *out.entry(metric).or_default().entry(d).or_default() += value;
    };
    for t in ledger["transactions"].as_array().unwrap() {
        let (d, total) = (day(num(&t["billed_at"])), num(&t["total"]));
        add("gross_revenue", d, total);
        add("net_revenue", d, total);
        // Paddle keeps 5 % (rounded down) as merchant of record; no tax here.
        add("paddle_fees", d, total * 5 / 100);
        add("earnings", d, total - total * 5 / 100);
    }
    for a in ledger["adjustments"].as_array().unwrap() {
        add("refunds", day(num(&a["created_at"])), num(&a["total"]));
        add("net_revenue", day(num(&a["created_at"])), -num(&a["total"]));
        // The simulated refunds give back no fee: earnings lose the whole amount.
        add("earnings", day(num(&a["created_at"])), -num(&a["total"]));
    }
    for c in ledger["customers"].as_array().unwrap() {
        add("new_customers", day(num(&c["created_at"])), 1);
    }
    let prices: BTreeMap<&str, &Value> = ledger["prices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p))
        .collect();
    let subscriptions = ledger["subscriptions"].as_array().unwrap();
    // A trial that converted has paid for a period; one canceled unpaid has not.
    let paying_from = |s: &Value| -> Option<i64> {
        match s["trial_end"].as_i64() {
            Some(end) => (num(&s["periods_billed"]) > 0).then_some(end),
            None => Some(num(&s["created_at"])),
        }
    };
    for s in subscriptions {
        add("new_subscriptions", day(num(&s["created_at"])), 1);
        if let Some(end) = s["trial_end"].as_i64() {
            add("trials_started", day(num(&s["created_at"])), 1);
            if paying_from(s).is_some() {
                add("trial_conversions", day(end), 1);
            }
        }
        if s["status"] == "canceled" && paying_from(s).is_some() {
            add("churned_subscriptions", day(num(&s["canceled_at"])), 1);
        }
    }
    // Movements need each customer's whole history: a customer first paying before
    // the span is not new in it. Every day from the ledger's first is booked.
    let mut movements = MovementBook::default();
    let first = day(num(&ledger["start"])).min(days[0]);
    let all_days: Vec<NaiveDate> = first
        .iter_days()
        .take_while(|d| d <= days.last().unwrap())
        .collect();
    for &d in &all_days {
        let end = d
            .succ_opt()
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp();
        let mut active = 0;
        for s in subscriptions {
            let canceled = s["status"] == "canceled" && num(&s["canceled_at"]) < end;
            if paying_from(s).is_some_and(|from| from < end) && !canceled {
                active += 1;
            }
        }
        // MRR: what the paid billing periods covering the end of the day (today: now)
        // are worth a month, net of their discounts (half away from zero: a year is
        // 12 months).
        let at = end.min(Utc::now().timestamp());
        let (mut mrr, mut levels) = (0, BTreeMap::<String, i64>::new());
        for t in ledger["transactions"].as_array().unwrap() {
            let Some(period) = t["billing_period"].as_array() else {
                continue;
            };
            if !(num(&period[0]) < at && num(&period[1]) >= at) {
                continue;
            }
            let net = num(&t["subtotal"]) - num(&t["discount"]);
            let price = prices[t["price_id"].as_str().unwrap()];
            let monthly = match price["interval"].as_str().unwrap() {
                "year" => (2 * net + 12) / 24,
                _ => net,
            };
            mrr += monthly;
            let customer = t["customer_id"].as_str().unwrap().to_owned();
            *levels.entry(customer).or_default() += monthly;
        }
        add("mrr", d, mrr);
        add("arr", d, 12 * mrr);
        movements.day(d, &levels, &mut add);
        add("active_subscriptions", d, active);
    }
    out
}

async fn assert_matches_ledger(
    app: &TestApp,
    user: &TestUser,
    store_id: Uuid,
    ledger: &Value,
    days: u64,
    label: &str,
) {
    let to = Utc::now().date_naive();
    let from = to.checked_sub_days(Days::new(days - 1)).unwrap();
    let span: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
    let expected = expected(ledger, &span);
    let metrics: Vec<&str> = METRICS.iter().chain(&MOVEMENT_METRICS).copied().collect();
    assert_daily_series(
        app,
        user,
        store_id,
        "paddle",
        &metrics,
        &expected,
        &span,
        MAY_STAY_ZERO,
        label,
    )
    .await;
}

async fn event_pairs(app: &TestApp, integration: Uuid) -> (i64, i64) {
    sqlx::query_as(
        "SELECT count(*), count(DISTINCT (metric_name, source_record_id, recorded_at, metric_value)) FROM metric_events WHERE integration_id = $1",
    )
    .bind(integration)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn paddle_numbers_equal_the_ledger_and_events_bring_new_sales_and_refunds_once() {
    // The data clock starts six hours ago: the hours since are new to the second sync.
    let mut config = small_history(120);
    config.data.end -= 6 * 3600;
    let (app, sim) = spawn_app_with_simulator(config).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let store_id = store(&app, &ann).await;
    let integration = connect(&app, &ann, store_id).await;

    assert_eq!(run_all(&app).await, 1);
    let job = app.latest_job(&ann).await;
    assert_eq!(
        (job["status"].as_str(), job["sync_type"].as_str()),
        (Some("success"), Some("backfill")),
        "{job}"
    );
    let ledger = serde_json::to_value(sim.paddle_ledger()).unwrap();
    let entities: usize = ["customers", "subscriptions", "transactions", "adjustments"]
        .iter()
        .map(|list| ledger[*list].as_array().unwrap().len())
        .sum();
    assert_eq!(
        job["records_synced"].as_u64().unwrap() as usize,
        entities,
        "{job}"
    );
    assert!(
        sim.calls(endpoints::PADDLE_TRANSACTIONS) > 10,
        "30 transactions a page"
    );
    assert_matches_ledger(&app, &ann, store_id, &ledger, 100, "backfill").await;
    // Churn rates, net revenue retention and LTV over the windows widgets offer, from
    // the movements worked out of the whole ledger.
    let want = expected(&ledger, &[Utc::now().date_naive()]);
    // Discounts that stop after their last period are expansion when they do.
    assert!(
        ledger["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| num(&t["discount"]) > 0),
        "discounted transactions"
    );
    assert!(
        want.get("mrr_expansion")
            .is_some_and(|d| d.values().any(|v| *v > 0)),
        "a discount ended"
    );
    assert_rates_over_windows(&app, &ann, store_id, "paddle_", &want).await;

    // Six hours of business, a sale tagged with a campaign and a refund of an old
    // one-off sale: all of it arrives through /events.
    sim.advance_to(Utc::now().timestamp());
    let sale = sim
        .paddle_new_transaction("pri_01simiconpack", Some("launch"))
        .unwrap();
    let old_sale = ledger["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["subscription_id"].is_null())
        .unwrap();
    sim.paddle_refund(old_sale["id"].as_str().unwrap(), 500)
        .unwrap();
    let later = serde_json::to_value(sim.paddle_ledger()).unwrap();
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
    assert_matches_ledger(&app, &ann, store_id, &later, 100, "incremental").await;
    let (events, distinct) = event_pairs(&app, integration).await;
    assert_eq!(events, distinct, "no event twice");

    // The webhooks of the same activity verify and name exactly the records the
    // sync stored: a webhook and a sync of one object are one record.
    let provider = app.app_state.providers.get("paddle").unwrap();
    let deliveries = sim.paddle_webhooks(defaults::PADDLE_WEBHOOK_SECRET);
    assert!(deliveries.len() > 3, "{}", deliveries.len());
    let mut sale_moves = 0;
    for delivery in &deliveries {
        let mut headers = HeaderMap::new();
        for (name, value) in &delivery.headers {
            headers.insert(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        provider
            .verify_webhook(
                &headers,
                delivery.body.as_bytes(),
                defaults::PADDLE_WEBHOOK_SECRET,
                Utc::now(),
            )
            .unwrap();
        let parsed = provider
            .webhook_delivery(&headers, delivery.body.as_bytes())
            .unwrap();
        for record in &parsed.records {
            let stored: Option<Value> = sqlx::query_scalar(
                "SELECT payload FROM raw_records WHERE integration_id = $1 AND object_type = $2 AND external_id = $3",
            )
            .bind(integration)
            .bind(&record.object_type)
            .bind(&record.external_id)
            .fetch_optional(&app.db)
            .await
            .unwrap();
            let stored = stored.unwrap_or_else(|| {
                panic!("{} {} was synced", record.object_type, record.external_id)
            });
            if record.object_type == "transaction" {
                assert_eq!(stored, record.payload);
            }
        }
        for revenue in &parsed.revenue {
            if revenue.source_id == format!("transaction/{sale}") {
                sale_moves += 1;
                assert_eq!(revenue.kind.as_str(), "sale");
                assert_eq!(
                    (revenue.amount_minor, revenue.currency.as_str()),
                    (2900, "USD")
                );
                assert_eq!(revenue.campaign.as_deref(), Some("launch"));
            }
        }
    }
    assert_eq!(sale_moves, 1);
    // Replaying the sync changes nothing.
    assert_eq!(
        app.request_sync(&ann, integration).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(run_all(&app).await, 1);
    assert_eq!(event_pairs(&app, integration).await, (events, distinct));
}

#[tokio::test]
async fn a_paddle_rate_limit_snoozes_the_job_and_it_resumes_where_it_stopped() {
    let (app, sim) = spawn_app_with_simulator(small_history(60)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let store_id = store(&app, &ann).await;
    let integration = connect(&app, &ann, store_id).await;
    sim.rate_limit(endpoints::PADDLE_ADJUSTMENTS, 1, Duration::from_secs(60));
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
    let transactions = sim.calls(endpoints::PADDLE_TRANSACTIONS);
    sqlx::query("UPDATE sync_jobs SET run_after = now() WHERE integration_id = $1")
        .bind(integration)
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(run_all(&app).await, 1);
    let job = app.latest_job(&ann).await;
    assert_eq!(job["status"], "success", "{job}");
    assert_eq!(
        sim.calls(endpoints::PADDLE_TRANSACTIONS),
        transactions,
        "resumed at adjustments"
    );
    let ledger = serde_json::to_value(sim.paddle_ledger()).unwrap();
    assert_matches_ledger(&app, &ann, store_id, &ledger, 50, "resumed").await;
}

#[tokio::test]
async fn the_paddle_connect_form_refuses_a_wrong_key_or_seller_clearly() {
    let (app, sim) = spawn_app_with_simulator(small_history(10)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let store_id = store(&app, &ann).await;
    let info = app.provider_info(&ann, "paddle").await;
    assert_eq!(
        (info["name"].as_str(), info["category"].as_str()),
        (Some("Paddle"), Some("payments"))
    );
    let metrics: Vec<&str> = info["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(metrics[..METRICS.len()], METRICS);
    assert_eq!(metrics[METRICS.len()..], MOVEMENT_METRICS);
    let url = app.url("/api/orgs/acme/integrations/paddle/api-key");
    let seller = defaults::PADDLE_SELLER_ID.to_string();
    let wrong = "pdl_sdbx_apikey_01wrongwrongwrongwrong";
    for (key, seller, says) in [
        (wrong, seller.as_str(), "permitted"),
        (defaults::PADDLE_API_KEY, "acme", "Seller ID is a number"),
    ] {
        let response = ann
            .client
            .post(&url)
            .json(&json!({ "store_id": store_id, "fields": fields(key, seller) }))
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
        assert!(text.contains(says) && !text.contains(wrong), "{text}");
    }
    assert_eq!(sim.calls(endpoints::PADDLE_TRANSACTIONS), 1);
    let none: i64 = sqlx::query_scalar("SELECT count(*) FROM integrations")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(none, 0, "a refused connection stores nothing");
}

#[tokio::test]
async fn paddle_webhooks_through_the_endpoint_reach_the_pulse_once() {
    let (app, sim) = spawn_app_with_simulator(small_history(30)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let store_id = store(&app, &ann).await;
    let integration = connect(&app, &ann, store_id).await;
    assert_eq!(run_all(&app).await, 1);
    // Paddle makes the secret of its notification destination; the user pastes it.
    let secret = "pdl_ntfset_01simulatedsecretkey";
    let response = ann
        .client
        .post(app.url(&format!(
            "/api/orgs/acme/integrations/{integration}/webhook"
        )))
        .json(&json!({ "secret": "whsec_not_paddles" }))
        .send()
        .await
        .unwrap();
    expect_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let created: Value = ann
        .client
        .post(app.url(&format!(
            "/api/orgs/acme/integrations/{integration}/webhook"
        )))
        .json(&json!({ "secret": secret }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["secret_source"], "pasted", "{created}");
    let url = created["url"].as_str().unwrap();
    let path = url[url.find("/api/webhooks/").unwrap()..].to_owned();

    sim.advance_to(Utc::now().timestamp());
    let transaction = sim
        .paddle_new_transaction("pri_01simiconpack", Some("launch"))
        .unwrap();
    let deliveries = sim.paddle_webhooks(secret);
    assert!(!deliveries.is_empty());
    for _ in 0..2 {
        for delivery in &deliveries {
            let mut request = reqwest::Client::new()
                .post(app.url(&path))
                .body(delivery.body.clone());
            for (name, value) in &delivery.headers {
                request = request.header(name.as_str(), value.as_str());
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status(),
                StatusCode::OK,
                "{}",
                response.text().await.unwrap()
            );
        }
    }
    crate::webhooks::settle(&app).await;
    let (sales, campaign): (i64, Option<String>) = sqlx::query_as(
        "SELECT count(*), max(campaign) FROM revenue_events WHERE source_id LIKE '%' || $1 AND kind <> 'refund'",
    )
    .bind(&transaction)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((sales, campaign.as_deref()), (1, Some("launch")));
}

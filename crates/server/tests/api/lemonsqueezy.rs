//! LemonSqueezy against the simulator, through the real HTTP API: the connect form
//! and its refusals, a backfill whose every catalog metric equals, day by day, what
//! the simulator's ledger says (recomputed here from its orders, invoices,
//! subscriptions and customers), an incremental sync that picks up new orders and
//! refunds without counting anything twice, and a 429 that snoozes the job.

use std::{collections::BTreeMap, time::Duration};

use chrono::{DateTime, Days, NaiveDate, Utc};
use pulseboard_simulator::{defaults, endpoints};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    helpers::{created_without_secret, expect_error, spawn_app_with_simulator, TestApp, TestUser},
    metrics::assert_daily_series,
    subscriptions::assert_rates_over_windows,
    sync::{run_all, small_history, MovementBook, MAY_STAY_ZERO, MOVEMENT_METRICS},
};

const METRICS: [&str; 11] = [
    "gross_revenue",
    "refunds",
    "net_revenue",
    "new_customers",
    "mrr",
    "arr",
    "active_subscriptions",
    "new_subscriptions",
    "churned_subscriptions",
    "trials_started",
    "trial_conversions",
];

fn fields(key: &str, store: &str) -> BTreeMap<String, String> {
    [("api_key", key), ("store_id", store)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

async fn store(app: &TestApp, user: &TestUser) -> Uuid {
    app.create_store(user, "Digital", "UTC").await
}

async fn connect(app: &TestApp, user: &TestUser, store_id: Uuid) -> Uuid {
    let account = defaults::LEMONSQUEEZY_STORE_ID.to_string();
    let fields = [
        ("api_key", defaults::LEMONSQUEEZY_API_KEY),
        ("store_id", account.as_str()),
    ];
    let response = app
        .connect_api_key(user, "lemonsqueezy", store_id, &fields)
        .await;
    let integration = created_without_secret(response, defaults::LEMONSQUEEZY_API_KEY).await;
    assert_eq!(integration["account_label"], "Pulse Digital");
    integration["id"].as_str().unwrap().parse().unwrap()
}

fn day(unix: i64) -> NaiveDate {
    DateTime::from_timestamp(unix, 0).unwrap().date_naive()
}

/// Metric → UTC day → value, from the ledger alone: money on the day it moved,
/// subscriptions counted from creation until they expired.
fn expected(
    ledger: &Value,
    days: &[NaiveDate],
) -> BTreeMap<&'static str, BTreeMap<NaiveDate, i64>> {
    let mut out: BTreeMap<&'static str, BTreeMap<NaiveDate, i64>> = BTreeMap::new();
    let mut add = |metric: &'static str, d: NaiveDate, value: i64| {
        *out.entry(metric).or_default().entry(d).or_default() += value;
    };
    let renewals = ledger["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["billing_reason"] != "initial");
    for payment in ledger["orders"].as_array().unwrap().iter().chain(renewals) {
        let total = payment["total"].as_i64().unwrap();
        add(
            "gross_revenue",
            day(payment["created_at"].as_i64().unwrap()),
            total,
        );
        add(
            "net_revenue",
            day(payment["created_at"].as_i64().unwrap()),
            total,
        );
        let refunded = payment["refunded_amount"].as_i64().unwrap();
        if refunded > 0 {
            let at = day(payment["refunded_at"].as_i64().unwrap());
            add("refunds", at, refunded);
            add("net_revenue", at, -refunded);
        }
    }
    for customer in ledger["customers"].as_array().unwrap() {
        add(
            "new_customers",
            day(customer["created_at"].as_i64().unwrap()),
            1,
        );
    }
    let prices: BTreeMap<u64, &Value> = ledger["prices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_u64().unwrap(), p))
        .collect();
    let discounts: BTreeMap<u64, &Value> = ledger["discounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["id"].as_u64().unwrap(), d))
        .collect();
    let subscriptions = ledger["subscriptions"].as_array().unwrap();
    // When a subscription starts paying: when created, or when its trial ends unless
    // it is still on trial or ends with it (never, then).
    let paying_from = |sub: &Value| -> Option<i64> {
        let Some(trial_end) = sub["trial_end"].as_i64() else {
            return sub["created_at"].as_i64();
        };
        let ends_with_trial = sub["ends_at"].as_i64().is_some_and(|e| e <= trial_end);
        (sub["status"] != "on_trial" && !ends_with_trial).then_some(trial_end)
    };
    for sub in subscriptions {
        let created = day(sub["created_at"].as_i64().unwrap());
        add("new_subscriptions", created, 1);
        if let Some(trial_end) = sub["trial_end"].as_i64() {
            add("trials_started", created, 1);
            if paying_from(sub).is_some() {
                add("trial_conversions", day(trial_end), 1);
            }
        }
        if sub["status"] == "expired" && paying_from(sub).is_some() {
            add(
                "churned_subscriptions",
                day(sub["ends_at"].as_i64().unwrap()),
                1,
            );
        }
    }
    // Movements need each customer's whole history: a customer first paying before
    // the span is not new in it. Every day from the ledger's first is booked.
    let mut movements = MovementBook::default();
    let first = day(ledger["start"].as_i64().unwrap()).min(days[0]);
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
        let (mut mrr, mut active) = (0, 0);
        let mut levels: BTreeMap<String, i64> = BTreeMap::new();
        for sub in subscriptions {
            let expired = sub["status"] == "expired" && sub["ends_at"].as_i64().unwrap() < end;
            if paying_from(sub).is_some_and(|from| from < end) && !expired {
                active += 1;
                let price = prices[&sub["price_id"].as_u64().unwrap()];
                let yearly = price["interval"] == "year";
                let mut payment =
                    price["unit_price"].as_i64().unwrap() * sub["quantity"].as_i64().unwrap();
                // A discount code takes its part off while it lasts from the first
                // payment: one billing period (`once`), some months (`repeating`) or
                // for good (`forever`).
                if let Some(discount) = sub["discount_id"].as_u64().map(|id| &discounts[&id]) {
                    let months = match discount["duration"].as_str().unwrap() {
                        "once" if yearly => Some(12),
                        "once" => Some(1),
                        "repeating" => {
                            Some(discount["duration_in_months"].as_u64().unwrap() as u32)
                        }
                        _ => None,
                    };
                    let first = DateTime::from_timestamp(paying_from(sub).unwrap(), 0).unwrap();
                    // Today's level is the one at this moment.
                    let at = end.min(Utc::now().timestamp());
                    let lasts = months.is_none_or(|n| {
                        first
                            .checked_add_months(chrono::Months::new(n))
                            .unwrap()
                            .timestamp()
                            >= at
                    });
                    if lasts {
                        let amount = discount["amount"].as_i64().unwrap();
                        payment -= match discount["amount_type"].as_str().unwrap() {
                            "percent" => (payment * amount + 50) / 100,
                            _ => amount.min(payment),
                        };
                    }
                }
                // Half away from zero, as documented: a year is 12 months.
                let monthly = if yearly {
                    (2 * payment + 12) / 24
                } else {
                    payment
                };
                mrr += monthly;
                *levels.entry(sub["customer_id"].to_string()).or_default() += monthly;
            }
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
        "lemonsqueezy",
        &metrics,
        &expected,
        &span,
        MAY_STAY_ZERO,
        label,
    )
    .await;
}

/// (events, distinct (metric, record, instant) triples): equal when nothing counts twice.
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
async fn lemonsqueezy_numbers_equal_the_ledger_and_new_orders_count_once() {
    // The data clock starts six hours ago, so the business of the hours since is
    // new to the second sync and none of it lies in the future.
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
    let ledger = serde_json::to_value(sim.lemonsqueezy_ledger()).unwrap();
    let records = ledger["orders"].as_array().unwrap().len()
        + ledger["invoices"].as_array().unwrap().len()
        + ledger["subscriptions"].as_array().unwrap().len()
        + ledger["customers"].as_array().unwrap().len();
    assert_eq!(
        job["records_synced"].as_u64().unwrap() as usize,
        records,
        "{job}"
    );
    assert!(
        sim.calls(endpoints::LEMONSQUEEZY_ORDERS) > 1,
        "orders span several pages"
    );
    assert_matches_ledger(&app, &ann, store_id, &ledger, 100, "backfill").await;
    // Churn rates, net revenue retention and LTV over the windows widgets offer, from
    // the movements worked out of the whole ledger.
    let want = expected(&ledger, &[Utc::now().date_naive()]);
    // Discounts that stop (once, or after three months) are expansion when they do.
    assert!(
        want.get("mrr_expansion")
            .is_some_and(|d| d.values().any(|v| *v > 0)),
        "a discount ended"
    );
    assert_rates_over_windows(&app, &ann, store_id, "lemonsqueezy_", &want).await;

    // Six more hours of business and two orders placed now: the next sync is
    // incremental and counts each once.
    let now = sim.advance_to(Utc::now().timestamp());
    assert!(now >= ledger["end"].as_i64().unwrap() + 6 * 3600);
    let first = sim.lemonsqueezy_new_order(304, Some("launch")).unwrap();
    sim.lemonsqueezy_new_order(305, None).unwrap();
    let later = serde_json::to_value(sim.lemonsqueezy_ledger()).unwrap();
    assert_eq!(later["end"].as_i64().unwrap(), now);
    assert!(later["orders"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["id"] == first));
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
    // sync stored (an order's payload is the synced one), and the live order is
    // one sale with its campaign.
    let provider = app.app_state.providers.get("lemonsqueezy").unwrap();
    let deliveries = sim.lemonsqueezy_webhooks(defaults::LEMONSQUEEZY_WEBHOOK_SECRET);
    assert!(deliveries.len() >= 2, "{}", deliveries.len());
    let mut sales = 0;
    for delivery in &deliveries {
        let mut headers = reqwest::header::HeaderMap::new();
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
                defaults::LEMONSQUEEZY_WEBHOOK_SECRET,
                Utc::now(),
            )
            .unwrap();
        assert!(provider
            .verify_webhook(
                &headers,
                delivery.body.as_bytes(),
                "another secret",
                Utc::now()
            )
            .is_err());
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
            if record.object_type == "order" {
                assert_eq!(stored, record.payload);
            }
        }
        for revenue in &parsed.revenue {
            if revenue.source_id == format!("order/{first}") {
                sales += 1;
                assert_eq!(revenue.kind.as_str(), "sale");
                assert_eq!(revenue.campaign.as_deref(), Some("launch"));
                assert_eq!(revenue.amount_minor, 2900);
            }
        }
    }
    assert_eq!(sales, 1);

    // Replaying changes nothing.
    assert_eq!(
        app.request_sync(&ann, integration).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(run_all(&app).await, 1);
    assert_eq!(event_pairs(&app, integration).await, (events, distinct));
}

#[tokio::test]
async fn a_rate_limit_snoozes_the_job_and_it_resumes_where_it_stopped() {
    let (app, sim) = spawn_app_with_simulator(small_history(60)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let store_id = store(&app, &ann).await;
    let integration = connect(&app, &ann, store_id).await;
    // LemonSqueezy's 429 with a minute to wait: longer than a worker sleeps.
    sim.rate_limit(endpoints::LEMONSQUEEZY_ORDERS, 1, Duration::from_secs(60));
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
    let cursor: Value = sqlx::query_scalar(
        "SELECT cursor FROM sync_cursors WHERE integration_id = $1 AND stream = 'lemonsqueezy.backfill'",
    )
    .bind(integration)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        cursor["list"], "orders",
        "the lists before orders are kept: {cursor}"
    );
    let before_orders = sim.calls(endpoints::LEMONSQUEEZY_CUSTOMERS);

    sqlx::query("UPDATE sync_jobs SET run_after = now() WHERE integration_id = $1")
        .bind(integration)
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(run_all(&app).await, 1);
    let job = app.latest_job(&ann).await;
    assert_eq!(job["status"], "success", "{job}");
    assert_eq!(
        sim.calls(endpoints::LEMONSQUEEZY_CUSTOMERS),
        before_orders,
        "resumed at orders"
    );
    let ledger = serde_json::to_value(sim.lemonsqueezy_ledger()).unwrap();
    assert_matches_ledger(&app, &ann, store_id, &ledger, 50, "resumed").await;
}

#[tokio::test]
async fn the_connect_form_refuses_a_wrong_key_or_store_clearly() {
    let (app, sim) = spawn_app_with_simulator(small_history(10)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let store_id = store(&app, &ann).await;
    let info = app.provider_info(&ann, "lemonsqueezy").await;
    assert_eq!(
        (info["name"].as_str(), info["category"].as_str()),
        (Some("LemonSqueezy"), Some("payments"))
    );
    let names: Vec<&str> = info["auth"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["api_key", "store_id"]);
    let metrics: Vec<&str> = info["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(metrics[..METRICS.len()], METRICS);
    assert_eq!(metrics[METRICS.len()..], MOVEMENT_METRICS);

    let url = app.url("/api/orgs/acme/integrations/lemonsqueezy/api-key");
    let store = defaults::LEMONSQUEEZY_STORE_ID.to_string();
    let wrong = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.wrongwrong";
    for (key, store, says) in [
        (wrong, store.as_str(), "Unauthenticated"),
        (
            defaults::LEMONSQUEEZY_API_KEY,
            "999",
            "no LemonSqueezy store 999",
        ),
        (defaults::LEMONSQUEEZY_API_KEY, "my-store", "is a number"),
    ] {
        let response = ann
            .client
            .post(&url)
            .json(&json!({ "store_id": store_id, "fields": fields(key, store) }))
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
    let none: i64 = sqlx::query_scalar("SELECT count(*) FROM integrations")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(none, 0, "a refused connection stores nothing");
    assert_eq!(
        sim.calls(endpoints::LEMONSQUEEZY_STORE),
        2,
        "the malformed store id is refused before any call"
    );
}

#[tokio::test]
async fn lemonsqueezy_webhooks_through_the_endpoint_reach_the_pulse_once() {
    let (app, sim) = spawn_app_with_simulator(small_history(30)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let store_id = store(&app, &ann).await;
    let integration = connect(&app, &ann, store_id).await;
    assert_eq!(run_all(&app).await, 1);
    // LemonSqueezy takes the secret Pulseboard makes: it is shown once.
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
    let shown: Value = ann
        .client
        .get(app.url(&format!(
            "/api/orgs/acme/integrations/{integration}/webhook"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!shown.to_string().contains(&secret), "shown once only");

    sim.advance_to(Utc::now().timestamp());
    let order = sim.lemonsqueezy_new_order(304, Some("launch")).unwrap();
    let deliveries = sim.lemonsqueezy_webhooks(&secret);
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
    // Processed by the server's background worker (or here, whichever is first).
    crate::webhooks::settle(&app).await;
    let (sales, campaign): (i64, Option<String>) = sqlx::query_as(
        "SELECT count(*), max(campaign) FROM revenue_events WHERE source_id LIKE '%' || $1 AND kind <> 'refund'",
    )
    .bind(order.to_string())
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((sales, campaign.as_deref()), (1, Some("launch")));
    let (events, distinct) = event_pairs(&app, integration).await;
    assert_eq!(events, distinct, "webhook and sync records count once");
}

/// LemonSqueezy's `X-Signature`: hex HMAC-SHA256 of the raw body (computed here,
/// independently of the connector).
fn ls_signature(secret: &str, body: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn a_second_partial_refund_counts_its_difference_once() {
    let (app, _sim) = spawn_app_with_simulator(small_history(30)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let store_id = store(&app, &ann).await;
    let integration = connect(&app, &ann, store_id).await;
    assert_eq!(run_all(&app).await, 1);
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
    let secret = created["secret"].as_str().unwrap().to_owned();
    let url = created["url"].as_str().unwrap();
    let path = url[url.find("/api/webhooks/").unwrap()..].to_owned();

    let at = |minutes_ago: i64| {
        (Utc::now() - chrono::Duration::minutes(minutes_ago))
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string()
    };
    let (t0, t1, t2, t3) = (at(120), at(90), at(30), at(10));
    // The order as LemonSqueezy sends it: `refunded_amount` is the total so far.
    let order = |event: &str,
                 status: &str,
                 refunded: i64,
                 refunded_at: Option<&str>,
                 updated: &str| {
        json!({ "meta": { "event_name": event, "custom_data": { "campaign": "launch" }, "test_mode": false, "webhook_id": "wh-9" },
                "data": { "type": "orders", "id": "990001", "attributes": {
                    "store_id": defaults::LEMONSQUEEZY_STORE_ID, "user_email": "ada@example.com", "currency": "usd",
                    "status": status, "total": 4900, "refunded": status == "refunded", "refunded_amount": refunded,
                    "created_at": t0, "refunded_at": refunded_at, "updated_at": updated } } })
        .to_string()
    };
    let paid = order("order_created", "paid", 0, None, &t0);
    let first = order("order_refunded", "partial_refund", 1500, Some(&t1), &t1);
    let second = order("order_refunded", "partial_refund", 3500, Some(&t2), &t2);
    let full = order("order_refunded", "refunded", 4900, Some(&t3), &t3);
    let send = |body: String| {
        let request = reqwest::Client::new()
            .post(app.url(&path))
            .header("content-type", "application/json")
            .header("X-Event-Name", "order_refunded")
            .header("X-Signature", ls_signature(&secret, &body))
            .body(body);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
        }
    };
    let revenue = || async {
        let rows: Vec<(String, i64, DateTime<Utc>)> = sqlx::query_as(
            "SELECT kind, amount_minor, occurred_at FROM revenue_events
             WHERE integration_id = $1 AND source_id LIKE 'order/990001%' ORDER BY seq",
        )
        .bind(integration)
        .fetch_all(&app.db)
        .await
        .unwrap();
        rows
    };
    let db = app.db.clone();
    let metric = |name: &'static str| {
        let db = db.clone();
        async move {
            let sum: Option<i64> = sqlx::query_scalar(
                "SELECT sum(metric_value)::bigint FROM metric_events
                 WHERE integration_id = $1 AND source_record_id = 'order/990001' AND metric_name = $2",
            )
            .bind(integration)
            .bind(name)
            .fetch_one(&db)
            .await
            .unwrap();
            sum.unwrap_or(0)
        }
    };
    let moved = |rows: &[(String, i64, DateTime<Utc>)]| {
        rows.iter()
            .map(|(kind, amount, _)| (kind.clone(), *amount))
            .collect::<Vec<_>>()
    };

    // Deliveries sent together may be processed in either order; settling after
    // each keeps the rows in the order the assertions below read them.
    send(paid.clone()).await;
    crate::webhooks::settle(&app).await;
    send(first.clone()).await;
    crate::webhooks::settle(&app).await;
    // The second refund, each delivery twice, and the first one replayed late.
    for body in [&second, &second, &first, &paid] {
        send(body.clone()).await;
        crate::webhooks::settle(&app).await;
    }
    let rows = revenue().await;
    assert_eq!(
        moved(&rows),
        [
            ("sale".to_owned(), 4900),
            ("refund".to_owned(), -1500),
            ("refund".to_owned(), -2000)
        ],
        "the second refund counts its difference, once"
    );
    let second_at = DateTime::parse_from_rfc3339(&t2).unwrap();
    assert_eq!(rows[2].2, second_at, "on the second refund's time");
    assert_eq!(metric("gross_revenue").await, 4900);
    assert_eq!(metric("refunds").await, 3500);
    assert_eq!(metric("net_revenue").await, 4900 - 3500);

    // The rest refunded: the remaining 1,400; replays add nothing.
    for body in [&full, &full, &second] {
        send(body.clone()).await;
        crate::webhooks::settle(&app).await;
    }
    let rows = revenue().await;
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[3].1, -1400);
    assert_eq!(rows.iter().map(|r| r.1).sum::<i64>(), 0);
    assert_eq!(metric("refunds").await, 4900);
    assert_eq!(metric("net_revenue").await, 0);
    let (events, distinct) = event_pairs(&app, integration).await;
    assert_eq!(events, distinct, "no metric event twice");
}

//! Webhooks: Stripe deliveries verified on the raw body (signed here with Stripe's
//! documented scheme, independently of the server), stored once however often they
//! arrive, processed into the same records a sync stores and into revenue events,
//! and streamed to browsers over SSE with exact resumption, across two server
//! instances and never across organizations.

use std::time::Duration as StdDuration;

use chrono::Utc;
use hmac::{Hmac, Mac};
use pulseboard_server::{startup::Application, webhooks::process_due};
use pulseboard_simulator::{defaults, DataConfig, SimulatorConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Sha256;
use uuid::Uuid;

use crate::{
    alerts::{app_with_cron, stripe_integration},
    helpers::{spawn_app_with_simulator, test_config, TestApp, TestUser},
    sync::run_all,
};

pub const SECRET: &str = "whsec_test_0123456789abcdef";

/// Stripe's scheme: `t=<unix>,v1=hex(HMAC-SHA256(secret, "<t>.<body>"))`.
pub fn stripe_signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

pub async fn endpoint(app: &TestApp, user: &TestUser, integration: Uuid) -> String {
    let response = user
        .client
        .post(app.url(&format!(
            "/api/orgs/{}/integrations/{integration}/webhook",
            user.org_slug
        )))
        .json(&json!({ "secret": SECRET }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    assert!(
        created["secret"].is_null(),
        "a pasted secret is never echoed"
    );
    assert!(!created.to_string().contains(SECRET));
    assert_eq!(created["secret_source"], "pasted");
    let url = created["url"].as_str().unwrap();
    url[url.find("/api/webhooks/").unwrap()..].to_owned()
}

pub fn charge_event(id: &str, charge: &str, amount: i64, campaign: Option<&str>) -> String {
    json!({ "id": id, "object": "event", "type": "charge.succeeded", "created": Utc::now().timestamp(),
            "data": { "object": { "id": charge, "object": "charge", "amount": amount, "amount_refunded": 0,
                "currency": "usd", "created": Utc::now().timestamp(), "invoice": null, "paid": true,
                "status": "succeeded", "captured": true, "refunded": false,
                "metadata": campaign.map_or(json!({}), |c| json!({ "utm_campaign": c })) } } })
    .to_string()
}

async fn post(
    app: &TestApp,
    path: &str,
    body: &str,
    signature: Option<String>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header("Stripe-Signature", signature);
    }
    request.send().await.unwrap()
}

async fn deliver(app: &TestApp, path: &str, body: &str) -> Value {
    let response = post(
        app,
        path,
        body,
        Some(stripe_signature(SECRET, Utc::now().timestamp(), body)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Processes the inbox until every delivery is done (the server's own background
/// processor may hold some: wait for it rather than skip them).
pub async fn settle(app: &TestApp) {
    for _ in 0..200 {
        process_due(&app.app_state).await.unwrap();
        let waiting: i64 = count(
            app,
            "SELECT count(*) FROM webhook_inbox WHERE processed_at IS NULL AND error IS NULL",
        )
        .await;
        if waiting == 0 {
            return rollups_refreshed(app).await;
        }
        tokio::time::sleep(StdDuration::from_millis(25)).await;
    }
    panic!("the inbox did not drain");
}

/// Refreshes (and waits up to ten seconds for) the rollups of the days deliveries
/// touched. The server's own processing loop may have taken the deliveries first and
/// handed their refresh to its `Refresher`, which runs beside it, and a day marked
/// again while it ran waits for the next refresh. Days before today are read from
/// the rollups, so a delivery booked yesterday (a webhook window across midnight) is
/// only counted once they are refreshed.
async fn rollups_refreshed(app: &TestApp) {
    let providers = &app.app_state.providers;
    let catalog = |source: &str| providers.get(source).map_or(&[][..], |p| p.info().metrics);
    for _ in 0..400 {
        let stores: Vec<uuid::Uuid> =
            sqlx::query_scalar("SELECT DISTINCT store_id FROM rollup_dirty_days")
                .fetch_all(&app.db)
                .await
                .unwrap();
        if stores.is_empty() {
            return;
        }
        for store in stores {
            // Days a running refresh has claimed are skipped; the loop waits for them.
            pulseboard_server::sync::rollups::refresh_store(&app.app_state.db, store, &catalog)
                .await
                .unwrap();
        }
        tokio::time::sleep(StdDuration::from_millis(25)).await;
    }
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

#[tokio::test]
async fn forged_altered_expired_or_unsigned_deliveries_are_refused_and_store_nothing() {
    let app = app_with_cron().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let integration = stripe_integration(&app, &ann, Utc::now()).await;
    let path = endpoint(&app, &ann, integration).await;
    let body = charge_event("evt_1", "ch_1", 4200, None);
    let now = Utc::now().timestamp();
    let cases = [
        (
            "a wrong secret",
            body.clone(),
            Some(stripe_signature("whsec_someone_else", now, &body)),
        ),
        (
            "an altered body",
            body.replace("4200", "9999"),
            Some(stripe_signature(SECRET, now, &body)),
        ),
        (
            "an expired timestamp",
            body.clone(),
            Some(stripe_signature(SECRET, now - 600, &body)),
        ),
        ("no signature", body.clone(), None),
        ("a malformed header", body.clone(), Some("v1=abc".into())),
    ];
    for (what, sent, signature) in cases {
        let response = post(&app, &path, &sent, signature).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{what}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], "invalid_signature", "{what}");
    }
    assert_eq!(count(&app, "SELECT count(*) FROM webhook_inbox").await, 0);
    let metrics = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            r#"pulseboard_webhooks_rejected_total{provider="stripe",reason="bad_signature"} 2"#
        ),
        "{metrics}"
    );
    // An unknown endpoint, or a known one under another provider's name.
    let unknown = format!("/api/webhooks/stripe/{}", Uuid::new_v4());
    assert_eq!(
        post(&app, &unknown, &body, None).await.status(),
        StatusCode::NOT_FOUND
    );
    let renamed = path.replace("/stripe/", "/shopify/");
    assert_eq!(
        post(&app, &renamed, &body, None).await.status(),
        StatusCode::NOT_FOUND
    );

    // Valid: stored and acknowledged; a replay is acknowledged and not stored again.
    assert_eq!(deliver(&app, &path, &body).await["stored"], true);
    assert_eq!(deliver(&app, &path, &body).await["stored"], false);
    // An unknown event type is stored and acknowledged, not refused.
    let payout = json!({ "id": "evt_payout", "type": "payout.paid", "data": { "object": { "id": "po_1", "object": "payout" } } }).to_string();
    assert_eq!(deliver(&app, &path, &payout).await["stored"], true);
    assert_eq!(count(&app, "SELECT count(*) FROM webhook_inbox").await, 2);
    settle(&app).await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM webhook_inbox WHERE processed_at IS NOT NULL AND error IS NULL"
        )
        .await,
        2
    );

    // The endpoint page says it has received deliveries, and never shows the secret.
    let info: Value = ann
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
    assert!(info["endpoint"]["last_received_at"].is_string());
    assert!(info["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e == "charge.succeeded"));
    assert!(!info.to_string().contains(SECRET));
}

#[tokio::test]
async fn fifty_concurrent_copies_count_once_and_out_of_order_versions_end_correct() {
    let app = app_with_cron().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let integration = stripe_integration(&app, &ann, Utc::now()).await;
    let path = endpoint(&app, &ann, integration).await;
    let body = charge_event("evt_dup", "ch_dup", 5000, Some("launch-day"));
    let sends = (0..50).map(|_| deliver(&app, &path, &body));
    let stored = futures_util::future::join_all(sends).await;
    assert_eq!(stored.iter().filter(|s| s["stored"] == true).count(), 1);
    settle(&app).await;
    settle(&app).await;
    assert_eq!(count(&app, "SELECT count(*) FROM revenue_events").await, 1);
    assert_eq!(
        count(&app, "SELECT count(*) FROM metric_events WHERE source_record_id = 'charge/ch_dup' AND metric_name = 'gross_revenue'").await,
        1
    );
    let campaign: String = sqlx::query_scalar("SELECT campaign FROM revenue_events")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(campaign, "launch-day");

    // The refund's update arrives before the charge's creation: the newer version wins.
    let t = Utc::now().timestamp();
    let charge = |amount_refunded: i64, created: i64, kind: &str, id: &str| {
        json!({ "id": id, "type": kind, "created": created, "data": { "object": {
            "id": "ch_late", "object": "charge", "amount": 3000, "amount_refunded": amount_refunded, "currency": "usd",
            "created": t - 100, "invoice": null, "paid": true, "status": "succeeded", "captured": true,
            "refunded": amount_refunded == 3000, "metadata": {} } } })
        .to_string()
    };
    deliver(
        &app,
        &path,
        &charge(3000, t, "charge.refunded", "evt_refunded"),
    )
    .await;
    settle(&app).await;
    deliver(
        &app,
        &path,
        &charge(0, t - 50, "charge.succeeded", "evt_created"),
    )
    .await;
    settle(&app).await;
    let stored: Value = sqlx::query_scalar(
        "SELECT payload FROM raw_records WHERE object_type = 'charge' AND external_id = 'ch_late'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        stored["amount_refunded"], 3000,
        "the older version did not replace the newer"
    );
}

/// A provider's retry arriving while a worker processes the first copy is
/// acknowledged at once as a repeat, not when the worker's batch commits.
#[tokio::test]
async fn a_retry_during_processing_of_its_first_copy_is_acknowledged_at_once() {
    let app = app_with_cron().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let integration = stripe_integration(&app, &ann, Utc::now()).await;
    let path = endpoint(&app, &ann, integration).await;
    let body = charge_event("evt_retry", "ch_retry", 2500, None);
    assert_eq!(deliver(&app, &path, &body).await["stored"], true);
    // A worker's processing transaction: the delivery claimed and not yet committed.
    let mut worker = app.db.begin().await.unwrap();
    let claimed = sqlx::query(
        "UPDATE webhook_inbox SET attempts = attempts + 1 WHERE event_id = 'evt_retry'",
    )
    .execute(&mut *worker)
    .await
    .unwrap();
    assert_eq!(claimed.rows_affected(), 1);
    let retry = tokio::time::timeout(StdDuration::from_secs(20), deliver(&app, &path, &body))
        .await
        .expect("the retry waited for the worker's transaction");
    assert_eq!(retry["stored"], false, "a repeat");
    worker.rollback().await.unwrap();
    settle(&app).await;
    assert_eq!(count(&app, "SELECT count(*) FROM revenue_events").await, 1);
    assert_eq!(count(&app, "SELECT count(*) FROM webhook_inbox").await, 1);
}

#[tokio::test]
async fn a_charge_delivered_by_webhook_and_then_synced_counts_once() {
    let (app, sim) = spawn_app_with_simulator(SimulatorConfig {
        data: DataConfig {
            history_days: 60,
            ..DataConfig::default()
        },
        ..SimulatorConfig::default()
    })
    .await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let connected: Value = ann
        .client
        .post(app.url("/api/orgs/acme/integrations/stripe/api-key"))
        .json(&json!({ "store_id": ann.store_id, "fields": { "api_key": defaults::STRIPE_RESTRICTED_KEY } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let integration: Uuid = connected["id"].as_str().unwrap().parse().unwrap();
    let path = endpoint(&app, &ann, integration).await;
    // A charge the simulator holds, delivered before the first sync runs.
    let ledger = sim.stripe_ledger();
    let charge = ledger
        .charges
        .iter()
        .rev()
        .find(|c| c.paid() && c.invoice.is_none() && c.amount_refunded == 0)
        .expect("a one-off paid charge");
    let object = ledger.charge_json(charge);
    let body = json!({ "id": "evt_sim", "object": "event", "type": "charge.succeeded",
                       "created": charge.created, "data": { "object": object } })
    .to_string();
    deliver(&app, &path, &body).await;
    settle(&app).await;
    let sql = format!(
        "SELECT count(*) FROM metric_events WHERE source_record_id = 'charge/{}' AND metric_name = 'gross_revenue'",
        charge.id
    );
    assert_eq!(count(&app, &sql).await, 1);
    assert_eq!(run_all(&app).await, 1);
    assert_eq!(
        count(&app, &sql).await,
        1,
        "the sync replaced the webhook's record"
    );
    let sum: i64 = count(
        &app,
        &format!("SELECT coalesce(sum(metric_value), 0)::bigint FROM metric_events WHERE source_record_id = 'charge/{}' AND metric_name = 'gross_revenue'", charge.id),
    )
    .await;
    assert_eq!(sum, charge.amount);
}

/// Reads SSE frames (`id:` and `data:`) from a streaming response until `n` events.
pub async fn read_events(response: &mut reqwest::Response, n: usize) -> Vec<(i64, Value)> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    while events.len() < n {
        let chunk = tokio::time::timeout(StdDuration::from_secs(10), response.chunk())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let id = frame
                .lines()
                .find_map(|l| l.strip_prefix("id: ").or(l.strip_prefix("id:")));
            let data = frame
                .lines()
                .find_map(|l| l.strip_prefix("data: ").or(l.strip_prefix("data:")));
            if let (Some(id), Some(data)) = (id, data) {
                events.push((
                    id.trim().parse().unwrap(),
                    serde_json::from_str(data).unwrap(),
                ));
            }
        }
    }
    events
}

pub async fn open_stream(
    app_url: &str,
    user: &TestUser,
    last_event_id: Option<i64>,
) -> reqwest::Response {
    let mut request = user
        .client
        .get(format!("{app_url}/api/orgs/{}/live?after=0", user.org_slug));
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id.to_string());
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    response
}

#[tokio::test]
async fn the_live_stream_resumes_exactly_serves_from_every_instance_and_stays_in_its_org() {
    let app = app_with_cron().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let bob = app.signup("bob@example.com", "Bikes").await;
    let path_a = endpoint(&app, &ann, stripe_integration(&app, &ann, Utc::now()).await).await;
    let path_b = endpoint(&app, &bob, stripe_integration(&app, &bob, Utc::now()).await).await;

    // A second instance on the same database.
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(Some(app.database_url.clone()), dir.path().to_path_buf());
    config.sync.workers = 0;
    config.sync.alerts_every = None;
    config.sync.weekly_digest = false;
    let second = Application::build(config).await.unwrap();
    let second_url = format!("http://127.0.0.1:{}", second.port());
    let stop = second.shutdown_token();
    tokio::spawn(second.run_until_stopped());

    let mut on_first = open_stream(&app.base, &ann, None).await;
    let mut on_second = open_stream(&second_url, &ann, None).await;
    let mut bobs = open_stream(&app.base, &bob, None).await;

    // Bob's sale first: it must never reach Ann's streams.
    deliver(&app, &path_b, &charge_event("evt_b1", "ch_b1", 777, None)).await;
    for (n, amount) in [(1, 1000), (2, 2000), (3, 3000)] {
        deliver(
            &app,
            &path_a,
            &charge_event(&format!("evt_a{n}"), &format!("ch_a{n}"), amount, None),
        )
        .await;
    }
    settle(&app).await;
    let first = read_events(&mut on_first, 3).await;
    // Numbered in the order they were processed (deliveries may be processed in parallel).
    let mut amounts: Vec<i64> = first
        .iter()
        .map(|(_, e)| e["amount_minor"].as_i64().unwrap())
        .collect();
    amounts.sort();
    assert_eq!(amounts, [1000, 2000, 3000]);
    assert_eq!(
        first.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(
        read_events(&mut on_second, 3).await,
        first,
        "the other instance streams the same"
    );
    let bob_events = read_events(&mut bobs, 1).await;
    assert_eq!(bob_events[0].1["amount_minor"], 777);

    // Ann's browser drops after event 2; two more sales land; it resumes.
    drop(on_first);
    for (n, amount) in [(4, 4000), (5, 5000)] {
        deliver(
            &app,
            &path_a,
            &charge_event(&format!("evt_a{n}"), &format!("ch_a{n}"), amount, None),
        )
        .await;
    }
    settle(&app).await;
    let mut resumed = open_stream(&app.base, &ann, Some(2)).await;
    let missed = read_events(&mut resumed, 3).await;
    assert_eq!(
        missed.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [3, 4, 5]
    );
    let later = read_events(&mut on_second, 2).await;
    assert_eq!(later.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [4, 5]);

    // The snapshot the Pulse page starts from.
    let pulse: Value = ann
        .client
        .get(app.url("/api/orgs/acme/pulse"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pulse["last_seq"], 5);
    assert_eq!(pulse["events"].as_array().unwrap().len(), 5);
    assert!(
        !pulse.to_string().contains("777"),
        "only Ann's organization"
    );
    stop.cancel();
}

/// Reads a stream for `window`; the events it carried (none expected, usually).
async fn events_within(response: &mut reqwest::Response, window: StdDuration) -> Vec<String> {
    let mut text = String::new();
    let _ = tokio::time::timeout(window, async {
        while let Ok(Some(chunk)) = response.chunk().await {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    text.lines()
        .filter(|l| l.starts_with("id:"))
        .map(str::to_owned)
        .collect()
}

async fn stream_of(app: &TestApp, client: &reqwest::Client, org_slug: &str) -> reqwest::Response {
    let response = client
        .get(app.url(&format!("/api/orgs/{org_slug}/live?after=0")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response
}

#[tokio::test]
async fn streams_of_one_organization_share_one_feed_and_see_only_their_orgs_events_once() {
    let app = app_with_cron().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let bob = app.signup("bob@example.com", "Bikes").await;
    let (cat, cat_id) = app.join(&ann, "cat@example.com", "viewer").await;
    let path_a = endpoint(&app, &ann, stripe_integration(&app, &ann, Utc::now()).await).await;
    let path_b = endpoint(&app, &bob, stripe_integration(&app, &bob, Utc::now()).await).await;

    let mut anns = stream_of(&app, &ann.client, "acme").await;
    let mut cats = stream_of(&app, &cat, "acme").await;
    let mut bobs = stream_of(&app, &bob.client, &bob.org_slug).await;

    // Interleaved sales of the two organizations, in two batches.
    for (n, (path, amount)) in [
        (&path_a, 1001),
        (&path_b, 2001),
        (&path_a, 1002),
        (&path_b, 2002),
        (&path_a, 1003),
    ]
    .into_iter()
    .enumerate()
    {
        deliver(
            &app,
            path,
            &charge_event(&format!("evt_{n}"), &format!("ch_{n}"), amount, None),
        )
        .await;
        if n == 2 {
            settle(&app).await;
        }
    }
    settle(&app).await;
    let amounts = |events: &[(i64, Value)]| {
        let mut a: Vec<i64> = events
            .iter()
            .map(|(_, e)| e["amount_minor"].as_i64().unwrap())
            .collect();
        a.sort();
        a
    };
    let ids = |events: &[(i64, Value)]| events.iter().map(|(id, _)| *id).collect::<Vec<_>>();
    let ann_events = read_events(&mut anns, 3).await;
    assert_eq!(amounts(&ann_events), [1001, 1002, 1003]);
    assert_eq!(ids(&ann_events), [1, 2, 3]);
    assert_eq!(
        read_events(&mut cats, 3).await,
        ann_events,
        "the same, once"
    );
    let bob_events = read_events(&mut bobs, 2).await;
    assert_eq!(amounts(&bob_events), [2001, 2002]);
    assert_eq!(ids(&bob_events), [1, 2]);
    // One feed per organization on this instance, whatever the number of streams.
    assert_eq!(app.app_state.live.feeds(), 2);

    // The next sale of each organization reaches its streams only, as the next number.
    deliver(&app, &path_b, &charge_event("evt_b3", "ch_b3", 2003, None)).await;
    deliver(&app, &path_a, &charge_event("evt_a4", "ch_a4", 1004, None)).await;
    settle(&app).await;
    for stream in [&mut anns, &mut cats] {
        let next = read_events(stream, 1).await;
        assert_eq!(
            (next[0].0, next[0].1["amount_minor"].clone()),
            (4, json!(1004))
        );
    }
    let next = read_events(&mut bobs, 1).await;
    assert_eq!(
        (next[0].0, next[0].1["amount_minor"].clone()),
        (3, json!(2003))
    );
    for stream in [&mut anns, &mut cats, &mut bobs] {
        assert_eq!(
            events_within(stream, StdDuration::from_millis(1500)).await,
            Vec::<String>::new(),
            "nothing repeated, nothing of the other organization"
        );
    }

    // A removed member's stream ends instead of showing the next sale.
    let removed = ann
        .client
        .delete(app.url(&format!("/api/orgs/acme/members/{cat_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    deliver(&app, &path_a, &charge_event("evt_a5", "ch_a5", 1005, None)).await;
    settle(&app).await;
    assert_eq!(read_events(&mut anns, 1).await[0].0, 5);
    let mut rest = String::new();
    loop {
        match tokio::time::timeout(StdDuration::from_secs(10), cats.chunk()).await {
            Ok(Ok(Some(chunk))) => rest.push_str(&String::from_utf8_lossy(&chunk)),
            Ok(_) => break,
            Err(_) => panic!("a removed member's stream stays open"),
        }
    }
    assert!(!rest.contains("1005"), "{rest}");

    // Closed streams release their feeds.
    drop((anns, cats, bobs));
    for _ in 0..100 {
        if app.app_state.live.feeds() == 0 {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert_eq!(app.app_state.live.feeds(), 0);
}

#[tokio::test]
async fn a_deauthorization_disconnects_the_integration() {
    let app = app_with_cron().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let integration = stripe_integration(&app, &ann, Utc::now()).await;
    let path = endpoint(&app, &ann, integration).await;
    let body = json!({ "id": "evt_deauth", "type": "account.application.deauthorized", "account": "acct_1",
                       "data": { "object": { "id": "ca_1", "object": "application" } } })
    .to_string();
    deliver(&app, &path, &body).await;
    settle(&app).await;
    let inbox: Value = sqlx::query_scalar("SELECT to_jsonb(i) - 'body' FROM webhook_inbox i")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(inbox["error"].is_null(), "{inbox}");
    let status: String = sqlx::query_scalar("SELECT status FROM integrations WHERE id = $1")
        .bind(integration)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(status, "disconnected");
    // A disconnected integration's endpoint takes nothing more.
    let next = charge_event("evt_after", "ch_after", 100, None);
    let response = post(
        &app,
        &path,
        &next,
        Some(stripe_signature(SECRET, Utc::now().timestamp(), &next)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

const SHOPIFY_APP_SECRET: &str = "shpss_webhook_test_app_secret";

/// Shopify's scheme: base64(HMAC-SHA256(app secret, raw body)).
fn shopify_signature(body: &str) -> String {
    use base64::Engine;
    let mut mac = Hmac::<Sha256>::new_from_slice(SHOPIFY_APP_SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

async fn shopify_post(
    app: &TestApp,
    path: &str,
    topic: &str,
    id: &str,
    body: &str,
    hmac: &str,
) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url(path))
        .header("content-type", "application/json")
        .header("x-shopify-topic", topic)
        .header("x-shopify-webhook-id", id)
        .header("x-shopify-shop-domain", "acme.myshopify.com")
        .header("x-shopify-hmac-sha256", hmac)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn shopify_orders_reach_the_pulse_and_privacy_and_uninstall_topics_are_honoured() {
    let app = crate::helpers::spawn_app_with(|c| {
        c.providers
            .set("PULSEBOARD_SHOPIFY_API_KEY", "shopify-app-key");
        c.providers
            .set("PULSEBOARD_SHOPIFY_API_SECRET", SHOPIFY_APP_SECRET);
    })
    .await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let integration: Uuid = sqlx::query_scalar(
        "INSERT INTO integrations (id, org_id, store_id, provider, auth_kind, external_account_id, account_label, cadence_minutes, last_synced_at)
         VALUES (gen_random_uuid(), $1, $2, 'shopify', 'oauth', 'acme.myshopify.com', 'acme.myshopify.com', 30, now()) RETURNING id",
    )
    .bind(ann.org_id)
    .bind(ann.store_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
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
    assert_eq!(created["secret_source"], "app_secret", "{created}");
    assert!(!created.to_string().contains(SHOPIFY_APP_SECRET));
    let url = created["url"].as_str().unwrap();
    let path = url[url.find("/api/webhooks/").unwrap()..].to_owned();

    // Shopify's REST order: two units at 24.95 with 5.00 off, 15.00 of tax and shipping.
    let order_json = json!({ "id": 450789469, "total_price": "59.90", "currency": "USD", "email": "pat@example.com",
                        "created_at": "2026-12-01T10:00:00-05:00", "updated_at": "2026-12-01T10:00:00-05:00",
                        "source_name": "web", "landing_site": "/?utm_campaign=holiday",
                        "line_items": [{ "id": 1, "quantity": 2, "price": "24.95", "product_id": 632910392,
                                         "discount_allocations": [{ "amount": "5.00" }] }] });
    let order = order_json.to_string();
    let forged = shopify_post(&app, &path, "orders/create", "w1", &order, "AAAA").await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    for _ in 0..2 {
        let response = shopify_post(
            &app,
            &path,
            "orders/create",
            "w1",
            &order,
            &shopify_signature(&order),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    settle(&app).await;
    let (amount, campaign, email): (i64, Option<String>, Option<String>) =
        sqlx::query_as("SELECT amount_minor, campaign, customer_email FROM revenue_events")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        (amount, campaign.as_deref(), email.as_deref()),
        (5990, Some("holiday"), Some("pat@example.com"))
    );
    // The order's numbers are on dashboards at once, as its synced copy's would be.
    let order_metrics = || async {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT metric_name, sum(metric_value)::bigint FROM metric_events
             WHERE integration_id = $1 AND source_record_id = 'order/gid://shopify/Order/450789469'
             GROUP BY 1 ORDER BY 1",
        )
        .bind(integration)
        .fetch_all(&app.db)
        .await
        .unwrap();
        rows.into_iter()
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let first = order_metrics().await;
    assert_eq!(first.get("orders"), Some(&1), "{first:?}");
    assert_eq!(first.get("gross_sales"), Some(&(2 * 2495)));
    assert_eq!(first.get("net_sales"), Some(&(2 * 2495 - 500)));
    assert_eq!(first.get("units_sold"), Some(&2));

    // A refund of 10.00: the pulse shows it under the order's campaign, and the
    // order's update (which carries the refund) moves the numbers once, however
    // often each arrives; an older copy delivered late changes nothing.
    let refund = json!({ "id": 509562969, "order_id": 450789469, "created_at": "2026-12-02T09:00:00-05:00",
                         "transactions": [{ "kind": "refund", "status": "success", "amount": "10.00", "currency": "USD" }] })
    .to_string();
    let mut updated_json = order_json.clone();
    updated_json["updated_at"] = json!("2026-12-02T09:00:00-05:00");
    updated_json["refunds"] = json!([{ "id": 509562969, "created_at": "2026-12-02T09:00:00-05:00",
                                       "transactions": [{ "kind": "refund", "status": "success", "amount": "10.00" }] }]);
    let updated = updated_json.to_string();
    for (topic, id, body) in [
        ("refunds/create", "w-refund", &refund),
        ("orders/updated", "w-updated", &updated),
        ("orders/updated", "w-updated", &updated),
        ("orders/create", "w1-late-retry", &order),
    ] {
        let response = shopify_post(&app, &path, topic, id, body, &shopify_signature(body)).await;
        assert_eq!(response.status(), StatusCode::OK);
        settle(&app).await;
    }
    let (refund_amount, refund_campaign): (i64, Option<String>) =
        sqlx::query_as("SELECT amount_minor, campaign FROM revenue_events WHERE kind = 'refund'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        (refund_amount, refund_campaign.as_deref()),
        (-1000, Some("holiday"))
    );
    let after = order_metrics().await;
    assert_eq!(after.get("orders"), Some(&1), "{after:?}");
    assert_eq!(after.get("refunds"), Some(&1000));
    assert_eq!(after.get("net_sales"), Some(&(2 * 2495 - 500 - 1000)));
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM revenue_events WHERE kind = 'sale'"
        )
        .await,
        1,
        "the late retry of the creation is no second sale"
    );

    // customers/redact: the customer's record goes, records naming them lose the
    // personal fields, the feed forgets the email.
    sqlx::query(
        "INSERT INTO raw_records (org_id, integration_id, object_type, external_id, payload) VALUES
             ($1, $2, 'customer', 'gid://shopify/Customer/77', '{\"email\": \"pat@example.com\"}'),
             ($1, $2, 'order', 'gid://shopify/Order/1', '{\"email\": \"pat@example.com\", \"totalPrice\": \"59.90\"}'),
             ($1, $2, 'order', 'gid://shopify/Order/2', '{\"email\": \"sam@example.com\", \"totalPrice\": \"10.00\"}')",
    )
    .bind(ann.org_id)
    .bind(integration)
    .execute(&app.db)
    .await
    .unwrap();
    let redact = json!({ "shop_domain": "acme.myshopify.com", "customer": { "id": 77, "email": "pat@example.com" } }).to_string();
    let response = shopify_post(
        &app,
        &path,
        "customers/redact",
        "w2",
        &redact,
        &shopify_signature(&redact),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    settle(&app).await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM raw_records WHERE object_type = 'customer'"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM raw_records WHERE payload::text LIKE '%pat@example.com%'"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM raw_records WHERE payload->>'email' = 'sam@example.com'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM revenue_events WHERE customer_email IS NOT NULL"
        )
        .await,
        0
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM revenue_events").await,
        2,
        "the amounts stay"
    );

    // shop/redact erases what the shop sent; app/uninstalled disconnects it.
    let response = shopify_post(
        &app,
        &path,
        "shop/redact",
        "w3",
        "{}",
        &shopify_signature("{}"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    settle(&app).await;
    assert_eq!(count(&app, "SELECT count(*) FROM raw_records").await, 0);
    assert_eq!(count(&app, "SELECT count(*) FROM revenue_events").await, 0);
    assert_eq!(count(&app, "SELECT count(*) FROM metric_events").await, 0);
    let response = shopify_post(
        &app,
        &path,
        "app/uninstalled",
        "w4",
        "{}",
        &shopify_signature("{}"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    settle(&app).await;
    let status: String = sqlx::query_scalar("SELECT status FROM integrations WHERE id = $1")
        .bind(integration)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(status, "disconnected");
}

#[tokio::test]
async fn a_connect_platform_delivery_is_routed_by_its_account() {
    const PLATFORM: &str = "whsec_platform_secret_for_tests";
    let app = crate::helpers::spawn_app_with(|c| {
        c.providers
            .set("PULSEBOARD_STRIPE_WEBHOOK_SECRET", PLATFORM);
    })
    .await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let bob = app.signup("bob@example.com", "Bikes").await;
    stripe_integration(&app, &ann, Utc::now()).await; // acct_1
    let bobs = stripe_integration(&app, &bob, Utc::now()).await;
    sqlx::query("UPDATE integrations SET external_account_id = 'acct_2' WHERE id = $1")
        .bind(bobs)
        .execute(&app.db)
        .await
        .unwrap();
    let event = |id: &str, account: &str| {
        let mut e: Value = serde_json::from_str(&charge_event(
            id,
            &format!("ch_{id}"),
            1234,
            Some("connect"),
        ))
        .unwrap();
        e["account"] = json!(account);
        e.to_string()
    };
    let post_platform = |body: String, secret: &'static str| {
        let app = &app;
        async move {
            post(
                app,
                "/api/webhooks/stripe/platform",
                &body,
                Some(stripe_signature(secret, Utc::now().timestamp(), &body)),
            )
            .await
        }
    };
    let forged = post_platform(event("evt_p0", "acct_1"), "whsec_not_the_platform").await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    let routed = post_platform(event("evt_p1", "acct_1"), PLATFORM).await;
    assert_eq!(routed.status(), StatusCode::OK);
    assert_eq!(routed.json::<Value>().await.unwrap()["stored"], true);
    let stranger = post_platform(event("evt_p2", "acct_9"), PLATFORM).await;
    assert_eq!(stranger.json::<Value>().await.unwrap()["stored"], false);
    settle(&app).await;
    let per_org: Vec<(Uuid, i64)> =
        sqlx::query_as("SELECT org_id, count(*) FROM revenue_events GROUP BY org_id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(per_org, vec![(ann.org_id, 1)], "only acct_1's organization");
    // The endpoint made for the routed delivery has no secret of its own: a body
    // "signed" with an empty key is not accepted there.
    let endpoint: Uuid = sqlx::query_scalar("SELECT id FROM webhook_endpoints")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let body = event("evt_p3", "acct_1");
    let direct = post(
        &app,
        &format!("/api/webhooks/stripe/{endpoint}"),
        &body,
        Some(stripe_signature("", Utc::now().timestamp(), &body)),
    )
    .await;
    assert_eq!(direct.status(), StatusCode::NOT_FOUND);
}

/// A charge paid by `email` (Stripe puts the payer's address in `billing_details`).
fn charge_by(id: &str, charge: &str, amount: i64, email: &str) -> String {
    let mut event: Value =
        serde_json::from_str(&charge_event(id, charge, amount, Some("tv"))).unwrap();
    event["data"]["object"]["billing_details"] = json!({ "email": email });
    event.to_string()
}

/// An anonymous request (no session, as a TV's browser would make).
fn anonymous(app: &TestApp, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new().get(app.url(path))
}

#[tokio::test]
async fn a_pulse_share_link_shows_one_stores_sales_read_only_until_it_is_revoked() {
    let app = app_with_cron().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let bob = app.signup("bob@example.com", "Bikes").await;
    let path_a = endpoint(&app, &ann, stripe_integration(&app, &ann, Utc::now()).await).await;
    let path_b = endpoint(&app, &bob, stripe_integration(&app, &bob, Utc::now()).await).await;
    deliver(
        &app,
        &path_a,
        &charge_by("evt_a1", "ch_a1", 1500, "carol.buyer@example.net"),
    )
    .await;
    deliver(
        &app,
        &path_b,
        &charge_by("evt_b1", "ch_b1", 777, "dave.buyer@example.net"),
    )
    .await;
    settle(&app).await;

    // Only owners and admins share; a store of another organization cannot be named.
    let (viewer, _) = app.join(&ann, "vera@example.com", "viewer").await;
    let refused = viewer
        .post(app.url("/api/orgs/acme/pulse/shares"))
        .json(&json!({ "store_id": ann.store_id }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let foreign = bob
        .client
        .post(app.url(&format!("/api/orgs/{}/pulse/shares", bob.org_slug)))
        .json(&json!({ "store_id": ann.store_id }))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let created = ann
        .client
        .post(app.url("/api/orgs/acme/pulse/shares"))
        .json(&json!({ "store_id": ann.store_id }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(created["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/shared-pulse/{token}")));
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM pulse_shares")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_ne!(stored, token.as_bytes(), "only a hash of the token is kept");

    // The public snapshot: Ann's store's sale, no customer, nothing of Bob's.
    let snapshot = anonymous(&app, &format!("/api/shared-pulse/{token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(snapshot.status(), StatusCode::OK);
    let text = snapshot.text().await.unwrap();
    let snapshot: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(snapshot["currency"], "USD");
    let amounts: Vec<i64> = snapshot["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["amount_minor"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, [1500]);
    assert_eq!(snapshot["events"][0]["campaign"], "tv");
    for hidden in ["carol.buyer", "example.net", "777", "dave"] {
        assert!(!text.contains(hidden), "{hidden} leaked: {text}");
    }

    // The stream: Ann's next sale arrives, Bob's never does, no email either way.
    let after = snapshot["last_seq"].as_i64().unwrap();
    let mut stream = anonymous(
        &app,
        &format!("/api/shared-pulse/{token}/live?after={after}"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    deliver(
        &app,
        &path_b,
        &charge_by("evt_b2", "ch_b2", 778, "dave.buyer@example.net"),
    )
    .await;
    deliver(
        &app,
        &path_a,
        &charge_by("evt_a2", "ch_a2", 2500, "erin.buyer@example.net"),
    )
    .await;
    settle(&app).await;
    let events = read_events(&mut stream, 1).await;
    assert_eq!(events[0].1["amount_minor"], 2500);
    assert!(!events[0].1.to_string().contains("erin"));
    // Resuming with Last-Event-ID gets exactly what followed.
    let mut resumed = anonymous(&app, &format!("/api/shared-pulse/{token}/live"))
        .header("Last-Event-ID", after.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(read_events(&mut resumed, 1).await, events);

    // Another organization cannot revoke it; its owner can, and then nothing shows.
    let share_id = created["id"].as_str().unwrap();
    let other = bob
        .client
        .delete(app.url(&format!(
            "/api/orgs/{}/pulse/shares/{share_id}",
            bob.org_slug
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let revoked = ann
        .client
        .delete(app.url(&format!("/api/orgs/acme/pulse/shares/{share_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    for path in [
        format!("/api/shared-pulse/{token}"),
        format!("/api/shared-pulse/{token}/live"),
    ] {
        let gone = anonymous(&app, &path).send().await.unwrap();
        assert_eq!(gone.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // The open stream ends at its next read instead of showing the next sale.
    deliver(
        &app,
        &path_a,
        &charge_by("evt_a3", "ch_a3", 3500, "f@example.net"),
    )
    .await;
    settle(&app).await;
    let mut rest = String::new();
    loop {
        match tokio::time::timeout(StdDuration::from_secs(10), stream.chunk()).await {
            Ok(Ok(Some(chunk))) => rest.push_str(&String::from_utf8_lossy(&chunk)),
            Ok(_) => break,
            Err(_) => panic!("the stream of a revoked link stays open"),
        }
    }
    assert!(!rest.contains("3500"), "{rest}");
    let listed: Value = ann
        .client
        .get(app.url("/api/orgs/acme/pulse/shares"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(listed[0]["revoked_at"].is_string());
    let unknown = anonymous(&app, "/api/shared-pulse/pbp_not_a_token")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

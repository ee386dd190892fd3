//! Several instances on one database (DESIGN §3): two `serve` processes and one
//! `worker` process of the real binary, started with environment variables only,
//! behave as one installation. A session from one works on the other and a logout
//! on one ends it on the other; exactly one process is the scheduler; a schedule
//! tick runs an integration's sync once, not once per process; a dashboard read on
//! both instances shows new numbers on both after a sync; a sale reaches live
//! streams on both.
//!
//! The data is arranged first by an in-process app on the same database (sign-up,
//! connecting Stripe, the first sync, a dashboard, a webhook endpoint), which then
//! stops, so that only the three processes run the scheduler and the workers.
//! The in-process two-instance live test (`webhooks::the_live_stream_resumes_…`)
//! covers resumption across instances; here the stream is checked on processes.

use std::{process::Stdio, time::Duration};

use chrono::Utc;
use pulseboard_server::integrations::vault::generate_key_entry;
use pulseboard_simulator::{connector_settings, ChargeStatus};
use reqwest::{header, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};
use uuid::Uuid;

use crate::{
    helpers::{spawn_app_with, use_simulator, TestApp, TestUser, PASSWORD},
    sync::{run_all, scheduler_holders, small_history, stripe_store},
    webhooks::{charge_event, endpoint, open_stream, read_events, stripe_signature, SECRET},
};

const CRON_SECRET: &str = "scale-test-cron-secret";

/// A running `pulseboard` process, killed when dropped.
struct Process {
    _child: Child,
    _data_dir: tempfile::TempDir,
    /// For `serve`: the URL it printed once listening.
    base: Option<String>,
}

/// Starts `pulseboard <command>` on `database_url`, configured as an operator would:
/// environment variables only, one shared key ring, its own data directory, any
/// free port. For `serve`, waits (bounded) until it says where it listens.
async fn start(command: &str, database_url: &str, keys: &str, sim_base: &str) -> Process {
    let data_dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pulseboard"));
    cmd.arg(command)
        .env("DATABASE_URL", database_url)
        .env("PULSEBOARD_DATA_DIR", data_dir.path())
        .env("PULSEBOARD_ADDR", "127.0.0.1:0")
        .env("PULSEBOARD_ENCRYPTION_KEYS", keys)
        .env("PULSEBOARD_CRON_SECRET", CRON_SECRET)
        .env("PULSEBOARD_LOG_FORMAT", "json")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (var, value) in connector_settings(sim_base) {
        cmd.env(var, value);
    }
    let mut child = cmd.spawn().expect("the pulseboard binary starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut base = None;
    if command == "serve" {
        let found = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(url) = line.strip_prefix("Pulseboard is running at ") {
                    return url.trim().trim_end_matches('/').to_owned();
                }
            }
            panic!("`pulseboard serve` exited before listening");
        })
        .await
        .expect("`pulseboard serve` listens within 60 s");
        base = Some(found);
    }
    // Keep reading, so a full pipe never blocks the process.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Process {
        _child: child,
        _data_dir: data_dir,
        base,
    }
}

impl Process {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.as_deref().expect("a serve process"))
    }
}

async fn readyz(process: &Process) -> Value {
    reqwest::get(process.url("/readyz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Polls `check` every 100 ms for up to `secs` seconds (generous: CI is loaded).
async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The integration's jobs, oldest first: (trigger, status, attempt, claims).
async fn jobs(db: &sqlx::PgPool, integration: Uuid) -> Vec<(String, String, i32, i64)> {
    sqlx::query_as(
        "SELECT trigger, status, attempt, fence FROM sync_jobs WHERE integration_id = $1 ORDER BY created_at",
    )
    .bind(integration)
    .fetch_all(db)
    .await
    .unwrap()
}

/// Time passes: the integration is due again.
async fn make_due(db: &sqlx::PgPool, integration: Uuid) {
    sqlx::query("UPDATE integrations SET last_synced_at = now() - interval '1 day' WHERE id = $1")
        .bind(integration)
        .execute(db)
        .await
        .unwrap();
}

/// The refunds KPI of the dashboard, read on one instance.
async fn refunds_on(process: &Process, user: &TestUser, dashboard: &str) -> i64 {
    let response = user
        .client
        .get(process.url(&format!(
            "/api/orgs/{}/dashboards/{dashboard}/data",
            user.org_slug
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let data: Value = response.json().await.unwrap();
    let answer = &data["widgets"][0];
    assert_eq!(answer["state"], "ok", "{answer}");
    answer["result"]["total"]
        .as_i64()
        .unwrap_or_else(|| panic!("a total: {answer}"))
}

async fn refunds_dashboard(app: &TestApp, user: &TestUser, store: Uuid) -> String {
    let created: Value = user
        .client
        .post(app.url(&format!("/api/orgs/{}/dashboards", user.org_slug)))
        .json(
            &json!({ "workspace_id": user.workspace_id, "name": "Refunds",
                       "layout": { "columns": 1, "sections": [{ "id": "top", "title": "Top" }] } }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"]
        .as_str()
        .expect("dashboard created")
        .to_owned();
    let widget = user
        .client
        .post(app.url(&format!("/api/orgs/{}/dashboards/{id}/widgets", user.org_slug)))
        .json(&json!({ "type": "kpi_card", "title": "Refunds", "section": "top",
                       "query_config": { "metric": "stripe.refunds", "range": "year_to_date", "scope": { "store": store } } }))
        .send()
        .await
        .unwrap();
    assert_eq!(widget.status(), StatusCode::CREATED);
    id
}

#[tokio::test]
async fn two_servers_and_a_worker_on_one_database_act_as_one_installation() {
    // Arrange with an in-process app, then stop it.
    let keys = generate_key_entry("k1");
    let sim = pulseboard_simulator::Simulator::start(small_history(20))
        .await
        .unwrap();
    let ring = keys.clone();
    let setup = spawn_app_with(|c| {
        use_simulator(c, &sim);
        c.encryption_keys = Some(SecretString::from(ring));
    })
    .await;
    let ann = setup.signup("ann@example.com", "Acme").await;
    let (store, integration) = stripe_store(&setup, &ann, "UTC").await;
    assert_eq!(run_all(&setup).await, 1, "the first sync");
    let dashboard = refunds_dashboard(&setup, &ann, store).await;
    let webhook_path = endpoint(&setup, &ann, integration).await;
    let database_url = setup.database_url.clone();
    let db = sqlx::PgPool::connect(&database_url).await.unwrap();
    make_due(&db, integration).await;
    drop(setup);
    eventually(30, "the arranging app leaves the scheduler", || {
        let db = db.clone();
        async move { scheduler_holders(&db).await.is_empty().then_some(()) }
    })
    .await;

    // Two servers and a worker start together; each one's scheduler ticks at start.
    let sim_base = sim.base_url();
    let (a, b, worker) = tokio::join!(
        start("serve", &database_url, &keys, &sim_base),
        start("serve", &database_url, &keys, &sim_base),
        start("worker", &database_url, &keys, &sim_base),
    );

    // Exactly one scheduler among the three processes; the servers say which role
    // they have (the worker has no HTTP: if neither server leads, it does).
    let (ready_a, ready_b) = eventually(60, "both servers' schedulers ran", || async {
        let (ra, rb) = (readyz(&a).await, readyz(&b).await);
        (ra["scheduler"] != "not_running" && rb["scheduler"] != "not_running").then_some((ra, rb))
    })
    .await;
    assert_eq!(ready_a["status"], "ready");
    assert_eq!(ready_b["status"], "ready");
    let leaders = [&ready_a, &ready_b]
        .iter()
        .filter(|r| r["scheduler"] == "leader")
        .count();
    assert!(leaders <= 1, "{ready_a} {ready_b}");
    assert_eq!(
        scheduler_holders(&db).await.len(),
        1,
        "one scheduler lock holder across the processes"
    );

    // The integration was due: one tick of the elected scheduler queued one job, and
    // one of the workers (two per process) ran it once.
    let after_first_tick = eventually(60, "the scheduled sync finished", || {
        let db = db.clone();
        async move {
            let all = jobs(&db, integration).await;
            (all.len() == 2 && all[1].1 == "success").then_some(all)
        }
    })
    .await;
    assert_eq!(after_first_tick[1].0, "schedule");
    assert_eq!(
        (after_first_tick[1].2, after_first_tick[1].3),
        (1, 1),
        "one attempt, claimed once"
    );

    // A session from a login on A is valid on B; a logout on A ends it on B.
    let login = reqwest::Client::new()
        .post(a.url("/api/auth/login"))
        .json(&json!({ "email": "ann@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let cookie = login.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let me_on = |process: &Process| {
        reqwest::Client::new()
            .get(process.url("/api/me"))
            .header(header::COOKIE, cookie.clone())
            .send()
    };
    assert_eq!(me_on(&b).await.unwrap().status(), StatusCode::OK);
    let logout = reqwest::Client::new()
        .post(a.url("/api/auth/logout"))
        .header(header::COOKIE, cookie.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(me_on(&b).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me_on(&a).await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // The dashboard, read (and cached) on both instances.
    let before = refunds_on(&a, &ann, &dashboard).await;
    assert_eq!(refunds_on(&b, &ann, &dashboard).await, before);
    assert_eq!(refunds_on(&a, &ann, &dashboard).await, before, "cached");

    // A refund at Stripe; an external scheduler's tick lands on both servers at once:
    // still one job, run once.
    let charge = sim
        .stripe_ledger()
        .charges
        .iter()
        .rev()
        .find(|c| c.status == ChargeStatus::Succeeded && c.amount_refunded == 0)
        .expect("a refundable charge")
        .id
        .clone();
    sim.refund_stripe_charge(&charge, 1234).unwrap();
    make_due(&db, integration).await;
    let tick = |process: &Process| {
        reqwest::Client::new()
            .post(process.url("/api/cron/enqueue-syncs"))
            .bearer_auth(CRON_SECRET)
            .send()
    };
    let (on_a, on_b) = tokio::join!(tick(&a), tick(&b));
    let mut queued = 0;
    for response in [on_a.unwrap(), on_b.unwrap()] {
        assert_eq!(response.status(), StatusCode::OK);
        queued += response.json::<Value>().await.unwrap()["count"]
            .as_i64()
            .unwrap();
    }
    assert_eq!(queued, 1, "two ticks at once queue one job");
    let all = eventually(60, "the second scheduled sync finished", || {
        let db = db.clone();
        async move {
            let all = jobs(&db, integration).await;
            (all.len() == 3 && all[2].1 == "success").then_some(all)
        }
    })
    .await;
    assert!(
        all.iter().all(
            |(_, status, attempt, claims)| status == "success" && (*attempt, *claims) == (1, 1)
        ),
        "every sync ran once: {all:?}"
    );

    // Both instances show the new number (no stale cache on either).
    assert_eq!(refunds_on(&a, &ann, &dashboard).await, before + 1234);
    assert_eq!(refunds_on(&b, &ann, &dashboard).await, before + 1234);

    // A sale delivered to A reaches live streams on A and on B.
    let mut on_a = open_stream(a.base.as_deref().unwrap(), &ann, None).await;
    let mut on_b = open_stream(b.base.as_deref().unwrap(), &ann, None).await;
    let body = charge_event("evt_scale_1", "ch_scale_1", 4321, Some("launch"));
    let delivered = reqwest::Client::new()
        .post(a.url(&webhook_path))
        .header("content-type", "application/json")
        .header(
            "Stripe-Signature",
            stripe_signature(SECRET, Utc::now().timestamp(), &body),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(delivered.status(), StatusCode::OK);
    let seen_a = read_events(&mut on_a, 1).await;
    let seen_b = read_events(&mut on_b, 1).await;
    assert_eq!(seen_a[0].1["amount_minor"], 4321);
    assert_eq!(seen_a, seen_b, "the same event, numbered the same, on both");

    drop((a, b, worker));
}

//! Faults the service survives: PostgreSQL going away under load and during a
//! sync, providers that hang, rate-limit for long or answer garbage. Each against
//! the real HTTP stack and real PostgreSQL (a private cluster where the test stops it).

use std::time::{Duration, Instant};

use chrono_tz::Tz;
use pulseboard_server::{
    db::embedded::{BinarySearch, EmbeddedPostgres},
    sync::{queue, runner},
};
use pulseboard_simulator::{defaults, endpoints, Simulator};
use reqwest::{header::RETRY_AFTER, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    helpers::{spawn_app_with, use_simulator, TestApp, TestUser},
    sync::{assert_matches_ledger, job_row_in, run_all, small_history, snapshots_in, stripe_store},
};

/// Polls `check` every 100 ms until it returns `Some`, for at most `secs` seconds.
async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what} within {secs} s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn postgres_restarting_under_load_answers_503_then_recovers_and_the_sync_resumes() {
    // A PostgreSQL of this test's own, so stopping it disturbs no other test.
    let dir = crate::embedded::data_dir();
    let search = BinarySearch::from_environment(None);
    let mut pg = EmbeddedPostgres::start(dir.path(), &search).await.unwrap();
    let socket = pg.socket_path().display().to_string();
    let sim = Simulator::start(small_history(30)).await.unwrap();
    let url = pg.database_url();
    let app = spawn_app_with(|c| {
        use_simulator(c, &sim);
        c.database_url = Some(url.into());
        c.db_acquire_timeout = Duration::from_secs(1);
    })
    .await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (store_id, _) = stripe_store(&app, &ann, "UTC").await;
    let db = app.app_state.db.pool().clone();
    let job_id: Uuid = sqlx::query_scalar("SELECT id FROM sync_jobs")
        .fetch_one(&db)
        .await
        .unwrap();
    let stores = app.url(&format!("/api/orgs/{}/stores", ann.org_slug));
    assert_eq!(
        ann.client.get(&stores).send().await.unwrap().status(),
        StatusCode::OK
    );

    // A sync is mid-way (waiting on Stripe's charges) when PostgreSQL stops.
    sim.hang("stripe.charges", 1, Duration::from_secs(2));
    let state = app.app_state.clone();
    let worker = tokio::spawn(async move { runner::run_next(&state, "w1").await });
    eventually(30, "the sync reaches the charges", || async {
        (sim.calls("stripe.charges") > 0).then_some(())
    })
    .await;
    pg.stop().await;

    // Requests keep coming: each is refused quickly with 503 and Retry-After.
    let load: Vec<_> = (0..12)
        .map(|_| {
            let client = ann.client.clone();
            let url = stores.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                let response = client.get(&url).send().await.unwrap();
                let status = response.status();
                let retry_after = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                let body = response.text().await.unwrap();
                (status, retry_after, started.elapsed(), body)
            })
        })
        .collect();
    for request in load {
        let (status, retry_after, took, body) = request.await.unwrap();
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(retry_after.is_some_and(|s| s >= 1), "Retry-After: {body}");
        assert!(took < Duration::from_secs(10), "answered in {took:?}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"]["code"], "unavailable", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            !message.contains("postgres") && !message.contains(&socket),
            "no connection details: {message}"
        );
    }
    // Liveness does not need the database; readiness says it is gone, quickly.
    let healthz = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(healthz.status(), StatusCode::OK);
    let started = Instant::now();
    let readyz = reqwest::get(app.url("/readyz")).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(readyz.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(readyz.json::<Value>().await.unwrap()["database"], false);
    let _ = tokio::time::timeout(Duration::from_secs(30), worker)
        .await
        .expect("the worker gives up on the unreachable database");

    // PostgreSQL comes back; the same application serves again without a restart.
    let mut pg = EmbeddedPostgres::start(dir.path(), &search).await.unwrap();
    eventually(30, "requests succeed again", || async {
        let status = ann.client.get(&stores).send().await.unwrap().status();
        (status == StatusCode::OK).then_some(())
    })
    .await;
    let readyz = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(readyz.status(), StatusCode::OK);

    // The interrupted sync finishes from its cursor; the numbers equal the ledger
    // (nothing lost, nothing counted twice).
    sqlx::query(
        "UPDATE sync_jobs SET lease_expires_at = now() - interval '1 second', run_after = now()
         WHERE status IN ('running', 'queued')",
    )
    .execute(&db)
    .await
    .unwrap();
    queue::reap_expired(&db).await.unwrap();
    assert_eq!(run_all(&app).await, 1);
    let (status, _, error) = job_row_in(&db, job_id).await;
    assert_eq!(status, "success", "{error:?}");
    assert_matches_ledger(
        &snapshots_in(&db, store_id).await,
        &sim.stripe_ledger(),
        Tz::UTC,
        "after PostgreSQL restarted",
    );
    drop(app);
    pg.stop().await;
}

const PADDLE_LISTS: [&str; 5] = [
    endpoints::PADDLE_CUSTOMERS,
    endpoints::PADDLE_SUBSCRIPTIONS,
    endpoints::PADDLE_TRANSACTIONS,
    endpoints::PADDLE_ADJUSTMENTS,
    endpoints::PADDLE_EVENTS,
];

fn paddle_calls(sim: &pulseboard_simulator::SimulatorHandle) -> usize {
    PADDLE_LISTS.iter().map(|e| sim.calls(e)).sum()
}

async fn paddle_integration(app: &TestApp, user: &TestUser) -> Uuid {
    let store: Value = user
        .client
        .post(app.url(&format!("/api/orgs/{}/stores", user.org_slug)))
        .json(&json!({ "workspace_id": user.workspace_id, "name": "SaaS", "currency": "USD", "timezone": "UTC" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fields = json!({
        "api_key": defaults::PADDLE_API_KEY,
        "seller_id": defaults::PADDLE_SELLER_ID.to_string(),
    });
    let response = user
        .client
        .post(app.url(&format!(
            "/api/orgs/{}/integrations/paddle/api-key",
            user.org_slug
        )))
        .json(&json!({ "store_id": store["id"], "fields": fields }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let integration: Value = response.json().await.unwrap();
    integration["id"].as_str().unwrap().parse().unwrap()
}

/// The organization's job for `integration`, as the sync monitor shows it.
async fn job_of(app: &TestApp, user: &TestUser, integration: Uuid) -> Value {
    let jobs: Vec<Value> = user
        .client
        .get(app.url(&format!("/api/orgs/{}/sync-jobs", user.org_slug)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jobs.into_iter()
        .find(|j| j["integration_id"] == integration.to_string())
        .expect("a job for the integration")
}

async fn make_due(app: &TestApp) {
    sqlx::query("UPDATE sync_jobs SET run_after = now() WHERE status = 'queued'")
        .execute(&app.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_hanging_rate_limited_or_garbled_provider_fails_its_own_job_clearly_and_starves_no_one() {
    let sim = Simulator::start(small_history(30)).await.unwrap();
    let app = spawn_app_with(|c| {
        use_simulator(c, &sim);
        c.provider_timeout = Duration::from_secs(1);
    })
    .await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let bob = app.signup("bob@example.com", "Beta").await;
    let paddle = paddle_integration(&app, &ann).await;

    // Paddle hangs past the client timeout on every call. Its worker is stuck in
    // retries while Bob's Stripe sync, on a second worker, runs to completion.
    for endpoint in PADDLE_LISTS {
        sim.hang(endpoint, 20, Duration::from_secs(3));
    }
    let before = paddle_calls(&sim);
    let state = app.app_state.clone();
    let slow = tokio::spawn(async move { runner::run_next(&state, "slow").await });
    eventually(30, "the Paddle sync starts", || async {
        (paddle_calls(&sim) > before).then_some(())
    })
    .await;
    let (bob_store, stripe) = stripe_store(&app, &bob, "UTC").await;
    assert_eq!(run_all(&app).await, 1, "the other worker takes Bob's job");
    assert!(
        !slow.is_finished(),
        "Bob's sync finished while Paddle was still hanging"
    );
    assert_eq!(job_of(&app, &bob, stripe).await["status"], "success");
    assert_matches_ledger(
        &snapshots_in(&app.db, bob_store).await,
        &sim.stripe_ledger(),
        Tz::UTC,
        "beside a hanging provider",
    );
    assert!(slow.await.unwrap().unwrap(), "the slow worker ran its job");
    let job = job_of(&app, &ann, paddle).await;
    assert_eq!(
        (job["status"].as_str(), job["attempt"].as_i64()),
        (Some("queued"), Some(1)),
        "retried later: {job}"
    );
    let error = job["error"].as_str().unwrap();
    assert!(error.contains("no answer within 1000 ms"), "{error}");

    // Paddle answers 429 for ten minutes: the job waits for the limit without
    // spending an attempt.
    sim.clear_faults();
    for endpoint in PADDLE_LISTS {
        sim.rate_limit(endpoint, 100, Duration::from_secs(600));
    }
    make_due(&app).await;
    assert_eq!(run_all(&app).await, 1);
    let job = job_of(&app, &ann, paddle).await;
    assert_eq!(
        (job["status"].as_str(), job["attempt"].as_i64()),
        (Some("queued"), Some(1)),
        "{job}"
    );
    let next: chrono::DateTime<chrono::Utc> = job["next_run_at"]
        .as_str()
        .expect("the monitor says when it runs next")
        .parse()
        .unwrap();
    assert!(
        next > chrono::Utc::now() + chrono::Duration::minutes(8),
        "{job}"
    );

    // Paddle answers with JSON cut off mid-object: the job fails with a reason a
    // person can act on, shown on the integration too, with no credential in it.
    sim.clear_faults();
    for endpoint in PADDLE_LISTS {
        sim.malformed(endpoint, 100);
    }
    make_due(&app).await;
    assert_eq!(run_all(&app).await, 1);
    let job = job_of(&app, &ann, paddle).await;
    assert_eq!(job["status"], "failed", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(error.contains("unexpected response shape"), "{error}");
    assert!(!error.contains(defaults::PADDLE_API_KEY), "{error}");
    let integrations = ann
        .client
        .get(app.url(&format!("/api/orgs/{}/integrations", ann.org_slug)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        integrations.contains("unexpected response shape"),
        "{integrations}"
    );
    assert!(!integrations.contains(defaults::PADDLE_API_KEY));

    // The worker is fine: once Paddle behaves, a manual refresh syncs.
    sim.clear_faults();
    assert_eq!(app.request_sync(&ann, paddle).await, StatusCode::ACCEPTED);
    assert_eq!(run_all(&app).await, 1);
    let job = job_of(&app, &ann, paddle).await;
    assert_eq!(job["status"], "success", "{job}");
}

/// `pulseboard worker` as its own process against the test's database, with the
/// simulator as every provider and a 3-second lease; its log goes to `log`.
fn start_worker(
    app: &TestApp,
    sim: &pulseboard_simulator::SimulatorHandle,
    log: &std::path::Path,
) -> std::process::Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_pulseboard"))
        .arg("worker")
        .envs(pulseboard_simulator::connector_settings(&sim.base_url()))
        .env("DATABASE_URL", &app.database_url)
        .env("PULSEBOARD_DATA_DIR", app.data_dir.path())
        .env("PULSEBOARD_SYNC_LEASE_SECS", "3")
        .env("PULSEBOARD_SYNC_SCHEDULE_SECS", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn a_worker_killed_mid_page_is_resumed_by_another_and_counts_every_record_once() {
    let sim = Simulator::start(small_history(60)).await.unwrap();
    let app = spawn_app_with(|c| use_simulator(c, &sim)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (store_id, integration) = stripe_store(&app, &ann, "UTC").await;
    let job_id: Uuid = sqlx::query_scalar("SELECT id FROM sync_jobs")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let log = app.data_dir.path().join("workers.log");
    let log_tail = || std::fs::read_to_string(&log).unwrap_or_default();

    // The charges page hangs: the worker process is killed while it waits, after
    // committing the customers, subscriptions and invoices.
    sim.hang("stripe.charges", 1, Duration::from_secs(60));
    let mut doomed = start_worker(&app, &sim, &log);
    eventually(60, "the worker reaches the charges", || async {
        (sim.calls("stripe.charges") > 0).then_some(())
    })
    .await;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(doomed.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    doomed.wait().unwrap();
    let (status, attempt, _) = job_row_in(&app.db, job_id).await;
    assert_eq!(
        (status.as_str(), attempt),
        ("running", 1),
        "the dead worker still holds the lease"
    );
    let cursor: Value = sqlx::query_scalar(
        "SELECT cursor FROM sync_cursors WHERE integration_id = $1 AND stream = 'stripe.backfill'",
    )
    .bind(integration)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(cursor["list"], "charges", "{cursor}");
    let customers_listed = sim.calls("stripe.customers");

    // Another worker process takes over once the lease has run out. (This test's
    // own application is the elected scheduler, so the test runs the reaper pass it
    // would run every tick.)
    let mut rescuer = start_worker(&app, &sim, &log);
    let (status, _, error) = eventually(90, "the job completes", || async {
        queue::reap_expired(&app.db).await.unwrap();
        let row = job_row_in(&app.db, job_id).await;
        matches!(row.0.as_str(), "success" | "failed").then_some(row)
    })
    .await;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(rescuer.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let _ = rescuer.wait();
    assert_eq!(status, "success", "{error:?}\n{}", log_tail());
    assert_eq!(
        sim.calls("stripe.customers"),
        customers_listed,
        "resumed from the cursor, not restarted"
    );
    assert_matches_ledger(
        &snapshots_in(&app.db, store_id).await,
        &sim.stripe_ledger(),
        Tz::UTC,
        "after a worker was killed",
    );
}

#[tokio::test]
async fn an_exhausted_pool_answers_503_quickly_and_health_stays_answerable() {
    let app = spawn_app_with(|c| {
        c.db_max_connections = 3;
        c.db_acquire_timeout = Duration::from_secs(1);
    })
    .await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let store = app.url(&format!(
        "/api/orgs/{}/stores/{}",
        ann.org_slug, ann.store_id
    ));

    // Someone else holds the store's row: every rename waits on the lock, holding
    // a pooled connection.
    let mut blocker = app.db.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM stores WHERE id = $1 FOR UPDATE")
        .bind(ann.store_id)
        .execute(&mut *blocker)
        .await
        .unwrap();
    // Renames until every pooled connection is taken (the live fan-out and the
    // scheduler may hold some of them), each one seen waiting on the lock.
    let pool = app.app_state.db.pool().clone();
    let mut renames = Vec::new();
    while pool.size() < 3 || pool.num_idle() > 0 {
        assert!(renames.len() < 3, "the pool of 3 fills");
        let client = ann.client.clone();
        let url = store.clone();
        let n = renames.len();
        renames.push(tokio::spawn(async move {
            client
                .patch(&url)
                .json(&json!({ "name": format!("Renamed {n}") }))
                .send()
                .await
                .unwrap()
                .status()
        }));
        let db = app.db.clone();
        eventually(30, "the rename waits on the lock", || async {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .fetch_one(&db)
            .await
            .unwrap();
            (waiting as usize == renames.len()).then_some(())
        })
        .await;
    }

    // The next request finds no connection: 503 with Retry-After, not a queue.
    let started = Instant::now();
    let response = ann.client.get(app.url("/api/me")).send().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(response.headers().contains_key(RETRY_AFTER));
    crate::helpers::expect_error(response, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
    let healthz = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(healthz.status(), StatusCode::OK);
    let started = Instant::now();
    let readyz = reqwest::get(app.url("/readyz")).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(readyz.status(), StatusCode::SERVICE_UNAVAILABLE);

    // The lock goes away: the waiting renames finish and the service is back.
    blocker.rollback().await.unwrap();
    for rename in renames {
        assert_eq!(rename.await.unwrap(), StatusCode::OK);
    }
    let me = ann.client.get(app.url("/api/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_embedded_postgres_killed_under_a_running_server_is_restarted_and_serves_again() {
    use std::io::{BufRead, BufReader};
    let dir = crate::embedded::data_dir();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_pulseboard"))
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env("PULSEBOARD_DATA_DIR", dir.path())
        .env("PULSEBOARD_ADDR", "127.0.0.1:0")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = server.stderr.take().unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (url_tx, url_rx) = std::sync::mpsc::channel();
    let lines = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("Pulseboard is running at ") {
                let _ = url_tx.send(url.trim_end_matches('/').to_string());
            }
            let mut log = lines.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
    let base = url_rx
        .recv_timeout(Duration::from_secs(90))
        .expect("the server prints its URL");
    let client = crate::helpers::client();
    let signup = client
        .post(format!("{base}/api/auth/signup"))
        .json(&json!({ "email": "a@example.com", "password": crate::helpers::PASSWORD, "name": "A", "org_name": "Acme" }))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), StatusCode::CREATED);
    let readyz: Value = reqwest::get(format!("{base}/readyz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(readyz["embedded_postgres"], "running", "{readyz}");

    // The postmaster dies without warning.
    let pid_file = dir.path().join("postgres").join("postmaster.pid");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();

    // The server notices, restarts it, says so, and serves the same data again.
    let log_text = || log.lock().unwrap().clone();
    eventually(90, "the embedded PostgreSQL is restarted", || async {
        let text = log_text();
        (text.contains("exited unexpectedly") && text.contains("running again")).then_some(())
    })
    .await;
    let readyz = eventually(60, "/readyz is ready again", || async {
        let response = reqwest::get(format!("{base}/readyz")).await.ok()?;
        (response.status() == StatusCode::OK).then_some(())?;
        response.json::<Value>().await.ok()
    })
    .await;
    assert_eq!(readyz["embedded_postgres"], "running", "{readyz}");
    let me = eventually(30, "the session works again", || async {
        let response = client.get(format!("{base}/api/me")).send().await.ok()?;
        (response.status() == StatusCode::OK).then_some(())?;
        response.json::<Value>().await.ok()
    })
    .await;
    assert_eq!(me["user"]["email"], "a@example.com", "{me}");

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(server.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = tokio::task::spawn_blocking(move || server.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}\n{}", log_text());
    assert!(
        !pid_file.exists(),
        "the restarted cluster was stopped cleanly"
    );
}

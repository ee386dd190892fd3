//! Faults the service survives: PostgreSQL going away under load and during a
//! sync, providers that hang, rate-limit for long or answer garbage. Each against
//! the real HTTP stack and real PostgreSQL (a private cluster where the test stops it).

use std::time::{Duration, Instant};

use chrono_tz::Tz;
use pulseboard_server::{
    db::embedded::{BinarySearch, EmbeddedPostgres},
    sync::{queue, runner},
};
use pulseboard_simulator::Simulator;
use reqwest::{header::RETRY_AFTER, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    helpers::{spawn_app_with, use_simulator},
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

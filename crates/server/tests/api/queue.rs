//! The sync queue's worker pool: batched claims and finishes, the claim cursor, and
//! handing unfinished jobs back at shutdown. The jobs here do no provider work (the
//! pool is generic over running a job); the sync tests run real ones.

use std::{sync::Arc, time::Duration};

use pulseboard_server::sync::{
    queue::{self, ClaimCursor, Outcome},
    worker::{self, PoolSettings, Ran},
};
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::helpers::{spawn_app, TestApp};

/// `n` integrations on one new store, each with a queued job due `ago_secs` seconds
/// ago (one each, in order); the jobs' ids.
async fn queued_jobs(app: &TestApp, ago_secs: &[i64]) -> Vec<Uuid> {
    let user = app
        .signup(&format!("{}@example.com", Uuid::new_v4()), "Acme")
        .await;
    let store = app.create_store(&user, "Queue", "UTC").await;
    let mut jobs = Vec::new();
    for (k, ago) in ago_secs.iter().enumerate() {
        let integration: Uuid = sqlx::query_scalar(
            "INSERT INTO integrations (id, org_id, store_id, provider, auth_kind, external_account_id, account_label, cadence_minutes)
             SELECT gen_random_uuid(), org_id, id, 'shopify', 'oauth', $2, $2, 30 FROM stores WHERE id = $1
             RETURNING id",
        )
        .bind(store)
        .bind(format!("queue-{k}.myshopify.com"))
        .fetch_one(&app.db)
        .await
        .unwrap();
        let job: Uuid = sqlx::query_scalar(
            "INSERT INTO sync_jobs (id, org_id, integration_id, trigger, run_after)
             SELECT gen_random_uuid(), org_id, id, 'manual', now() - $2 * interval '1 second'
             FROM integrations WHERE id = $1 RETURNING id",
        )
        .bind(integration)
        .bind(*ago as f64)
        .fetch_one(&app.db)
        .await
        .unwrap();
        jobs.push(job);
    }
    jobs
}

async fn statuses(app: &TestApp, jobs: &[Uuid]) -> Vec<(String, i32, i64)> {
    let mut rows = Vec::new();
    for job in jobs {
        rows.push(
            sqlx::query_as("SELECT status, attempt, fence FROM sync_jobs WHERE id = $1")
                .bind(job)
                .fetch_one(&app.db)
                .await
                .unwrap(),
        );
    }
    rows
}

fn pool(name: &str, slots: usize, until_empty: bool) -> PoolSettings {
    PoolSettings {
        name: name.into(),
        slots,
        lease: Duration::from_secs(60),
        poll_every: Duration::from_millis(200),
        until_empty,
    }
}

async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_pool_runs_as_many_jobs_as_it_has_slots_and_hands_unfinished_ones_back_at_shutdown() {
    let app = spawn_app().await;
    let jobs = queued_jobs(&app, &[50, 40, 30, 20, 10]).await;
    let state = app.app_state.clone();
    let shutdown = CancellationToken::new();
    // The jobs wait for permits that never come: they are still running at shutdown.
    let gate = Arc::new(Semaphore::new(0));
    let settings = pool("test/slots", 3, false);
    let running = {
        let (state, shutdown, gate, settings) = (
            state.clone(),
            shutdown.clone(),
            gate.clone(),
            settings.clone(),
        );
        tokio::spawn(async move {
            let wakeup = Notify::new();
            worker::run(
                &state.db,
                &settings,
                &wakeup,
                &shutdown,
                |job| {
                    let gate = gate.clone();
                    async move {
                        let _permit = gate.acquire().await;
                        Ran {
                            job,
                            outcome: Some(Outcome::Success),
                            elapsed: Duration::ZERO,
                        }
                    }
                },
                |_, _| {},
            )
            .await
        })
    };
    wait_for("three running jobs", async || {
        statuses(&app, &jobs)
            .await
            .iter()
            .filter(|(s, ..)| s == "running")
            .count()
            == 3
    })
    .await;
    // The oldest three, claimed together, and no more while they run.
    let now = statuses(&app, &jobs).await;
    assert_eq!(
        now.iter().map(|(s, ..)| s.as_str()).collect::<Vec<_>>(),
        ["running", "running", "running", "queued", "queued"]
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        statuses(&app, &jobs).await,
        now,
        "a full pool claims nothing more"
    );

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(20), running)
        .await
        .unwrap()
        .unwrap();
    let after: Vec<(String, i32)> = statuses(&app, &jobs)
        .await
        .into_iter()
        .map(|(s, a, _)| (s, a))
        .collect();
    assert!(
        after.iter().all(|(s, a)| s == "queued" && *a == 0),
        "every job back in the queue with its attempt unspent: {after:?}"
    );

    // Another pool finishes them all, each claimed once more and recorded once.
    let recorded = std::sync::Mutex::new(Vec::new());
    worker::run(
        &state.db,
        &pool("test/drain", 2, true),
        &Notify::new(),
        &CancellationToken::new(),
        |job| async move {
            Ran {
                job,
                outcome: Some(Outcome::Success),
                elapsed: Duration::ZERO,
            }
        },
        |ran, was_recorded| recorded.lock().unwrap().push((ran.job.id, was_recorded)),
    )
    .await;
    let mut recorded = recorded.into_inner().unwrap();
    recorded.sort();
    let mut expected: Vec<(Uuid, bool)> = jobs.iter().map(|id| (*id, true)).collect();
    expected.sort();
    assert_eq!(recorded, expected);
    for (status, attempt, fence) in statuses(&app, &jobs).await {
        assert_eq!(status, "success");
        assert_eq!(attempt, 1, "the handed-back run did not spend an attempt");
        // Three were claimed twice (before and after the hand-back), two once.
        assert!(fence == 1 || fence == 2, "fence {fence}");
    }
    let synced: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM integrations i JOIN sync_jobs j ON j.integration_id = i.id
         WHERE j.id = ANY($1) AND i.last_synced_at IS NOT NULL",
    )
    .bind(&jobs)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(synced, 5, "each finished sync freshened its integration");
}

#[tokio::test]
async fn a_batch_records_each_outcome_and_refuses_results_of_jobs_taken_over() {
    let app = spawn_app().await;
    let jobs = queued_jobs(&app, &[40, 30, 20, 10]).await;
    let db = &app.app_state.db;
    let lease = Duration::from_secs(60);
    let mut tx = db.worker_tx().await.unwrap();
    let claimed = queue::claim_batch(&mut *tx, "w", lease, 4, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        claimed.iter().map(|j| j.id).collect::<Vec<_>>(),
        jobs,
        "oldest first"
    );

    // The last job's lease ran out and the reaper handed it to someone else.
    sqlx::query("UPDATE sync_jobs SET status = 'queued', fence = fence + 1 WHERE id = $1")
        .bind(jobs[3])
        .execute(&app.db)
        .await
        .unwrap();
    let outcomes = [
        Outcome::Success,
        Outcome::Failed {
            message: "revoked".into(),
            code: "reauth_required",
        },
        Outcome::Retry("timeout".into()),
        Outcome::Success,
    ];
    let finished: Vec<_> = claimed.iter().zip(&outcomes).collect();
    let mut tx = db.worker_tx().await.unwrap();
    let recorded = queue::finish_batch(&mut tx, &finished).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(recorded, [true, true, true, false]);
    let rows: Vec<(String, i32)> = statuses(&app, &jobs)
        .await
        .into_iter()
        .map(|(s, a, _)| (s, a))
        .collect();
    assert_eq!(
        rows,
        [
            ("success".to_owned(), 1),
            ("failed".to_owned(), 1),
            ("queued".to_owned(), 1), // retried later
            ("queued".to_owned(), 1), // the new owner's, untouched by the stale success
        ]
    );
    let errors: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT i.sync_error FROM sync_jobs j JOIN integrations i ON i.id = j.integration_id
         WHERE j.id = ANY($1) ORDER BY j.run_after",
    )
    .bind(&jobs[..2])
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(errors, [None, Some("revoked".to_owned())]);
}

#[tokio::test]
async fn a_job_queued_behind_the_claim_cursor_is_still_claimed() {
    let app = spawn_app().await;
    let jobs = queued_jobs(&app, &[30, 20]).await;
    let db = &app.app_state.db;
    let lease = Duration::from_secs(60);
    let mut cursor = ClaimCursor::default();
    let claim = async |cursor: &mut ClaimCursor| {
        let mut tx = db.worker_tx().await.unwrap();
        let claimed = cursor.claim(&mut tx, "w", lease, 1).await.unwrap();
        tx.commit().await.unwrap();
        claimed.into_iter().map(|job| job.id).collect::<Vec<_>>()
    };
    assert_eq!(claim(&mut cursor).await, [jobs[0]]);
    // A job due earlier than the one just claimed appears (a claim elsewhere rolled
    // back, or an enqueue committed late): the cursor has passed it.
    let late = queued_jobs(&app, &[60]).await[0];
    assert_eq!(
        claim(&mut cursor).await,
        [jobs[1]],
        "resumes after the last claim"
    );
    assert_eq!(
        claim(&mut cursor).await,
        Vec::<Uuid>::new(),
        "nothing after the cursor"
    );
    assert_eq!(
        claim(&mut cursor).await,
        [late],
        "a short claim sends the next to the front"
    );
}

/// Rollup refreshes claim dirty days in a short transaction and clear them with the
/// recomputation: a day marked again in between (a webhook, a sync page) stays dirty
/// for the next refresh, and a claim in progress keeps other refreshes off it.
#[tokio::test]
async fn a_day_marked_again_during_a_refresh_is_refreshed_again() {
    use pulseboard_server::db::rollups;
    let app = spawn_app().await;
    let user = app.signup("ann@example.com", "Acme").await;
    let store = app.create_store(&user, "Rollups", "UTC").await;
    let org: Uuid = sqlx::query_scalar("SELECT org_id FROM stores WHERE id = $1")
        .bind(store)
        .fetch_one(&app.db)
        .await
        .unwrap();
    let db = &app.app_state.db;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let claim = async || {
        let mut tx = db.worker_tx().await.unwrap();
        let claim = rollups::claim_dirty_days(&mut *tx, store).await.unwrap();
        tx.commit().await.unwrap();
        claim
    };
    let mark = async || {
        let mut tx = db.worker_tx().await.unwrap();
        rollups::mark_dirty_days(&mut *tx, org, store, &[day])
            .await
            .unwrap();
        tx.commit().await.unwrap();
    };
    let finish = async |claim: &rollups::DirtyClaim| {
        let mut tx = db.worker_tx().await.unwrap();
        rollups::finish_dirty_days(&mut tx, store, claim)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    };

    mark().await;
    let first = claim().await;
    assert_eq!(first.days, [day]);
    assert!(
        claim().await.days.is_empty(),
        "a claimed day is not claimed twice"
    );
    // New events for the day arrive while the first refresh recomputes.
    mark().await;
    finish(&first).await;
    let second = claim().await;
    assert_eq!(
        second.days,
        [day],
        "marked again: the next refresh takes it"
    );
    finish(&second).await;
    assert!(claim().await.days.is_empty(), "clean once refreshed");
}

//! Benchmark of the sync job queue (BENCHMARKS.md, issue 19).
//!
//! Claim-and-finish throughput, with the work of each job left out, on the same jobs
//! (one queued job per integration, integrations spread over 200 organizations),
//! side by side in one run:
//!
//! - the production queue, exactly as a process's worker pool drives it
//!   (`sync::worker::run` with a job that does nothing): each step is one worker
//!   transaction that records every finished job's outcome (`sync::queue::finish_batch`:
//!   the fenced row locks, the outcomes, the integrations' freshness) and claims as
//!   many due jobs as the pool has free slots (`sync::queue::ClaimCursor`: `UPDATE …
//!   FROM (SELECT … FOR UPDATE SKIP LOCKED LIMIT n)`, leases and fencing tokens),
//!   at each of the slot counts in `BENCH_SLOTS`;
//! - a textbook loop, one job per transaction: `BEGIN; SELECT id … FOR UPDATE SKIP
//!   LOCKED LIMIT 1; UPDATE … SET status = 'success'; COMMIT` (no lease, no fence,
//!   no freshness), in the same worker role;
//! - the production queue again while another connection holds a transaction open
//!   (`REPEATABLE READ` with an xid), so no row version the run leaves dead can be
//!   cleaned up until it ends: the xmin horizon held back.
//!
//! Each round runs the three on freshly queued jobs after a `VACUUM ANALYZE`; the
//! medians over the rounds are reported. Every run must finish every job, each
//! claimed exactly once (fence = 1): the bench fails otherwise.
//!
//! ```sh
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo run --release -p pulseboard-server --example queue_bench -- [jobs]
//! # BENCH_WORKERS=4 workers (processes' pools or loops, each its own connection),
//! # BENCH_SLOTS=4,32 jobs per pool at once (PULSEBOARD_SYNC_WORKERS), BENCH_ROUNDS=3.
//! ```

use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use pulseboard_server::{
    db::{Database, MIGRATOR},
    sync::{
        queue::Outcome,
        worker::{self, PoolSettings, Ran},
    },
};
use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    Connection, PgConnection, PgPool,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const ORGS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Method {
    /// The worker pool with this many slots.
    Production(usize),
    OnePerTransaction,
    /// The same, while a transaction holds the xmin horizon back.
    ProductionXminHeld(usize),
}

impl Method {
    fn label(self) -> String {
        match self {
            Method::Production(slots) => format!("production queue, {slots} slots per pool"),
            Method::OnePerTransaction => "one job per transaction, SKIP LOCKED".into(),
            Method::ProductionXminHeld(slots) => {
                format!("production queue, {slots} slots, xmin horizon held")
            }
        }
    }
}

fn env_usize(var: &str, default: usize) -> anyhow::Result<usize> {
    std::env::var(var).map_or(Ok(default), |v| v.parse().context(var.to_owned()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let jobs: usize = std::env::args().nth(1).map_or(Ok(10_000), |a| a.parse())?;
    let workers = env_usize("BENCH_WORKERS", 4)?;
    let rounds = env_usize("BENCH_ROUNDS", 3)?;
    let slots: Vec<usize> = std::env::var("BENCH_SLOTS")
        .unwrap_or_else(|_| "4,32".into())
        .split(',')
        .map(|n| n.trim().parse().context("BENCH_SLOTS"))
        .collect::<anyhow::Result<_>>()?;
    let admin = std::env::var("DATABASE_URL").context("DATABASE_URL")?;
    let name = format!("queue_bench_{}", std::process::id());
    let mut admin_conn = PgConnection::connect(&admin).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin_conn)
        .await?;
    let mut url = url::Url::parse(&admin)?;
    url.set_path(&format!("/{name}"));
    let result = run(url.as_str(), jobs, workers, &slots, rounds).await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin_conn)
        .await?;
    result
}

async fn run(
    url: &str,
    jobs: usize,
    workers: usize,
    slots: &[usize],
    rounds: usize,
) -> anyhow::Result<()> {
    // The server's own connection setting (db::Database::connect).
    let options = url.parse::<PgConnectOptions>()?.options([("jit", "off")]);
    let pool = PgPoolOptions::new()
        .max_connections(workers as u32 + 2)
        .connect_with(options.clone())
        .await?;
    MIGRATOR.run(&pool).await?;
    let integrations = seed(&pool, jobs).await?;
    let db = std::sync::Arc::new(Database::from_pool(pool.clone()));
    println!(
        "{jobs} jobs over {} organizations, {workers} worker loops, {rounds} rounds",
        ORGS.min(jobs)
    );

    let mut methods = vec![Method::OnePerTransaction];
    for &n in slots {
        methods.extend([Method::Production(n), Method::ProductionXminHeld(n)]);
    }
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); methods.len()];
    for round in 1..=rounds {
        for (m, method) in methods.iter().enumerate() {
            queue_all(&pool, &integrations).await?;
            let mut holder = None;
            if matches!(method, Method::ProductionXminHeld(_)) {
                let mut conn = PgConnection::connect_with(&options).await?;
                sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ")
                    .execute(&mut conn)
                    .await?;
                sqlx::query("SELECT txid_current()")
                    .execute(&mut conn)
                    .await?;
                holder = Some(conn);
            }
            let started = Instant::now();
            let mut tasks = Vec::new();
            for w in 0..workers {
                let (db, method) = (db.clone(), *method);
                tasks.push(tokio::spawn(async move {
                    worker_loop(&db, method, &format!("bench/{w}")).await
                }));
            }
            let mut done = 0;
            for task in tasks {
                done += task.await??;
            }
            let elapsed = started.elapsed();
            let dead: i64 = sqlx::query_scalar(
                "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'sync_jobs'",
            )
            .fetch_one(&pool)
            .await?;
            if let Some(mut conn) = holder {
                sqlx::query("ROLLBACK").execute(&mut conn).await?;
                conn.close().await?;
            }
            check(&pool, *method, jobs, done).await?;
            let rate = jobs as f64 / elapsed.as_secs_f64();
            rates[m].push(rate);
            println!(
                "round {round}: {:<42} {:>9.0} jobs/s  ({:.2} s; dead row versions left {dead})",
                method.label(),
                rate,
                elapsed.as_secs_f64()
            );
        }
    }

    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let naive = median(&rates[0]);
    println!("| | jobs/s | ratio |\n|---|---:|---:|");
    println!(
        "| {} | {naive:.0} | 1× |",
        Method::OnePerTransaction.label()
    );
    for (k, &n) in slots.iter().enumerate() {
        let (production, held) = (median(&rates[1 + 2 * k]), median(&rates[2 + 2 * k]));
        println!(
            "| {} | {production:.0} | {:.2}× the one-per-transaction loop |",
            Method::Production(n).label(),
            production / naive
        );
        println!(
            "| {} | {held:.0} | {:.2}× its unobstructed rate |",
            Method::ProductionXminHeld(n).label(),
            held / production
        );
    }
    Ok(())
}

/// Claims and finishes jobs until none is left; how many it finished.
async fn worker_loop(db: &Database, method: Method, worker: &str) -> anyhow::Result<usize> {
    let lease = Duration::from_secs(60);
    match method {
        Method::Production(slots) | Method::ProductionXminHeld(slots) => {
            let pool = PoolSettings {
                name: worker.to_owned(),
                slots,
                lease,
                poll_every: Duration::from_secs(1),
                until_empty: true,
            };
            let (mut done, mut dropped) = (0, 0);
            worker::run(
                db,
                &pool,
                &Notify::new(),
                &CancellationToken::new(),
                |job| async move {
                    Ran {
                        job,
                        outcome: Some(Outcome::Success),
                        elapsed: Duration::ZERO,
                    }
                },
                |_, recorded| {
                    if recorded {
                        done += 1
                    } else {
                        dropped += 1
                    }
                },
            )
            .await;
            ensure!(dropped == 0, "{dropped} jobs were taken over");
            Ok(done)
        }
        Method::OnePerTransaction => {
            let mut done = 0;
            loop {
                let mut tx = db.worker_tx().await?;
                let id: Option<Uuid> = sqlx::query_scalar(
                    "SELECT id FROM sync_jobs WHERE status = 'queued' AND run_after <= now()
                     ORDER BY run_after LIMIT 1 FOR UPDATE SKIP LOCKED",
                )
                .fetch_optional(&mut *tx)
                .await?;
                let Some(id) = id else { return Ok(done) };
                sqlx::query(
                    "UPDATE sync_jobs SET status = 'success', attempt = attempt + 1, fence = fence + 1,
                            started_at = now(), finished_at = now() WHERE id = $1",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                done += 1;
            }
        }
    }
}

/// Every job finished, each claimed once.
async fn check(pool: &PgPool, method: Method, jobs: usize, done: usize) -> anyhow::Result<()> {
    let (success, once): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'success'), count(*) FILTER (WHERE fence = 1)
         FROM sync_jobs",
    )
    .fetch_one(pool)
    .await?;
    ensure!(
        done == jobs && success == jobs as i64 && once == jobs as i64,
        "{method:?}: {done} finished by the workers, {success} successful, {once} claimed once, of {jobs}"
    );
    Ok(())
}

/// Organizations, one store each, and `jobs` integrations spread over them.
async fn seed(pool: &PgPool, jobs: usize) -> anyhow::Result<Vec<Uuid>> {
    let mut stores = Vec::new();
    for k in 0..ORGS.min(jobs) {
        let (org, workspace, store) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        sqlx::query(
            "INSERT INTO organizations (id, name, slug, plan) VALUES ($1, $2, $2, 'agency')",
        )
        .bind(org)
        .bind(format!("org-{k}"))
        .execute(pool)
        .await?;
        sqlx::query("INSERT INTO workspaces (id, org_id, name) VALUES ($1, $2, 'Main')")
            .bind(workspace)
            .bind(org)
            .execute(pool)
            .await?;
        sqlx::query(
            "INSERT INTO stores (id, org_id, workspace_id, name, currency, timezone)
             VALUES ($1, $2, $3, 'Store', 'USD', 'UTC')",
        )
        .bind(store)
        .bind(org)
        .bind(workspace)
        .execute(pool)
        .await?;
        stores.push((org, store));
    }
    let mut integrations = Vec::with_capacity(jobs);
    for i in 0..jobs {
        let (org, store) = stores[i % stores.len()];
        let id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO integrations (id, org_id, store_id, provider, auth_kind, external_account_id, account_label, cadence_minutes, last_synced_at)
             VALUES ($1, $2, $3, 'shopify', 'oauth', $4, $4, 30, now())",
        )
        .bind(id)
        .bind(org)
        .bind(store)
        .bind(format!("s{i}.myshopify.com"))
        .execute(pool)
        .await?;
        integrations.push(id);
    }
    Ok(integrations)
}

/// Empties the queue and queues one due job per integration, then vacuums, so every
/// run starts from the same clean table.
async fn queue_all(pool: &PgPool, integrations: &[Uuid]) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM sync_jobs").execute(pool).await?;
    sqlx::query(
        "INSERT INTO sync_jobs (id, org_id, integration_id, trigger, run_after)
         SELECT gen_random_uuid(), i.org_id, i.id, 'schedule', now() - interval '1 second'
         FROM integrations i WHERE i.id = ANY($1)",
    )
    .bind(integrations)
    .execute(pool)
    .await?;
    for table in ["sync_jobs", "integrations", "organizations"] {
        sqlx::query(&format!("VACUUM ANALYZE {table}"))
            .execute(pool)
            .await?;
    }
    Ok(())
}

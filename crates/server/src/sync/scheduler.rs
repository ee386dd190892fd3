//! The scheduler and the workers, in every `serve` and `worker` process.
//!
//! One process at a time is the scheduler: it holds a session-level advisory lock on
//! a connection of its own, and enqueues due integrations and reaps expired leases
//! every tick. If that process dies, its connection closes, the lock is released and
//! another process takes over at its next tick. Workers run in every process and
//! claim jobs continuously; a notification wakes them when a job is added here.
//! The leader also runs the hourly alert pass and Monday's digest ([`Periodic`]).

use chrono::{Datelike, Timelike, Utc, Weekday};
use sqlx::{pool::PoolConnection, Connection, PgConnection, Postgres};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{
    queue, runner,
    worker::{self, PoolSettings},
};
use crate::{db, state::AppState};

/// Arbitrary, fixed: the advisory lock that elects the scheduler.
const SCHEDULER_LOCK: i64 = 0x7075_6c73_6573_6368; // "pulsesch"

/// Spawns the scheduler loop and the worker pool (`config.sync.workers` jobs at once).
pub fn spawn(app: AppState, shutdown: CancellationToken) -> Vec<JoinHandle<()>> {
    let mut tasks = vec![tokio::spawn(schedule(app.clone(), shutdown.clone()))];
    if app.config.sync.workers > 0 {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
        let pool = PoolSettings {
            name: format!("{host}/{}", std::process::id()),
            slots: app.config.sync.workers,
            lease: app.config.sync.lease,
            poll_every: app.config.sync.poll_every,
            until_empty: false,
        };
        tasks.push(tokio::spawn(work(app.clone(), pool, shutdown.clone())));
    }
    tasks
}

async fn schedule(app: AppState, shutdown: CancellationToken) {
    app.metrics.scheduler_running.set(1);
    let mut leader: Option<PgConnection> = None;
    let mut periodic = Periodic::default();
    let mut tick = tokio::time::interval(app.config.sync.schedule_every);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        if let Err(error) = schedule_once(&app, &mut leader).await {
            tracing::warn!(%error, "scheduler pass failed");
            leader = None;
        }
        app.metrics
            .scheduler_leader
            .set(i64::from(leader.is_some()));
        if leader.is_some() {
            periodic.run_due(&app).await;
        }
    }
    if let Some(mut conn) = leader {
        let _ = db::advisory_locks::unlock(&mut conn, SCHEDULER_LOCK).await;
        let _ = conn.close().await;
    }
    app.metrics.scheduler_leader.set(0);
    app.metrics.scheduler_running.set(0);
}

async fn schedule_once(app: &AppState, leader: &mut Option<PgConnection>) -> sqlx::Result<()> {
    if leader.is_none() {
        // Detached: the lock lives with this session, which must never go back to the pool.
        let conn: PoolConnection<Postgres> = app.db.pool().acquire().await?;
        let mut conn = conn.detach();
        let won = db::advisory_locks::try_lock(&mut conn, SCHEDULER_LOCK).await?;
        if !won {
            let _ = conn.close().await;
            return Ok(());
        }
        tracing::info!("this process is now the sync scheduler");
        *leader = Some(conn);
    }
    let conn = leader.as_mut().expect("set above");
    // Still connected, so still the holder of the lock.
    db::ping(&mut *conn).await?;
    let mut tx = app.db.worker_tx().await?;
    let reaped = queue::reap_expired(&mut *tx).await?;
    let queued = queue::enqueue_due(&mut *tx).await?;
    tx.commit().await?;
    if reaped > 0 {
        tracing::warn!(
            reaped,
            "requeued sync jobs whose worker stopped heartbeating"
        );
    }
    if reaped + queued > 0 {
        // Each job logs its own line when it finishes.
        tracing::debug!(queued, reaped, "sync jobs scheduled");
        app.sync_wakeup.notify_waiters();
    }
    Ok(())
}

/// The leader's other duties: the hourly alert pass and Monday's digest. Both are
/// safe to repeat (each crossing fires once, each digest is sent once per week), so
/// a new leader after a failover simply runs them at its first tick.
#[derive(Default)]
struct Periodic {
    last_alert_pass: Option<tokio::time::Instant>,
    digest_week: Option<String>,
}

impl Periodic {
    async fn run_due(&mut self, app: &AppState) {
        if let Some(every) = app.config.sync.alerts_every {
            if self.last_alert_pass.is_none_or(|at| at.elapsed() >= every) {
                self.last_alert_pass = Some(tokio::time::Instant::now());
                if let Err(error) = crate::alerts::evaluate::check_all(app, Utc::now()).await {
                    tracing::warn!(error = %format!("{error:#}"), "alert pass failed");
                }
            }
        }
        let now = Utc::now();
        // Mondays from 09:00 UTC; a restart later that Monday still catches up.
        if app.config.sync.weekly_digest && now.weekday() == Weekday::Mon && now.hour() >= 9 {
            let week = crate::digest::iso_week(now);
            if self.digest_week.as_deref() != Some(week.as_str()) {
                match crate::digest::send_weekly(app, now).await {
                    Ok(_) => self.digest_week = Some(week),
                    Err(error) => {
                        tracing::warn!(error = %format!("{error:#}"), "weekly digest failed")
                    }
                }
            }
        }
    }
}

async fn work(app: AppState, pool: PoolSettings, shutdown: CancellationToken) {
    app.metrics.sync_workers.set(pool.slots as i64);
    worker::run(
        &app.db,
        &pool,
        &app.sync_wakeup,
        &shutdown,
        |job| runner::run_job(app.clone(), job),
        |ran, recorded| runner::report(&app, ran, recorded),
    )
    .await;
    app.metrics.sync_workers.set(0);
}

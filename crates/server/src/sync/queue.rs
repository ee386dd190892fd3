//! The job queue on `sync_jobs` (DESIGN §7).
//!
//! Claims are short transactions (`FOR UPDATE SKIP LOCKED`); nothing holds a
//! transaction across provider calls. A claim takes a lease and bumps the job's
//! fencing token; every later write of the worker (heartbeat, page commit, finish)
//! names that token, so once the reaper has handed an expired lease to another
//! worker, the old worker's writes change nothing.
//!
//! The statements are in [`db::sync_jobs`]; this module decides which run when
//! (one live job per integration, backoff, what each outcome records).

use std::time::Duration;

use sqlx::PgConnection;
use uuid::Uuid;

use crate::db;
pub use crate::db::sync_jobs::{
    claim, enqueue_due, heartbeat, hold, reap_expired, recent, view, ClaimedJob, JobView,
};

/// Queues a job unless the integration already has a queued or running one, which
/// is returned instead. `Ok((id, true))` when a new job was created.
pub async fn enqueue(
    conn: &mut PgConnection,
    org_id: Uuid,
    integration_id: Uuid,
    trigger: &str,
) -> sqlx::Result<(Uuid, bool)> {
    let created =
        db::sync_jobs::insert_unless_live(&mut *conn, org_id, integration_id, trigger).await?;
    if let Some(id) = created {
        return Ok((id, true));
    }
    let live = db::sync_jobs::live_for_integration(&mut *conn, integration_id).await?;
    Ok((live, false))
}

/// How a run ended, as the queue records it.
#[derive(Debug)]
pub enum Outcome {
    Success,
    /// Worth another attempt after a backoff (5xx, timeouts, a lost database).
    Retry(String),
    /// The provider asked us to wait: requeued for then, without spending an attempt.
    /// The reason is the provider's, in words (which limit, when it resets).
    RateLimited(Duration, Option<String>),
    /// Retrying cannot help (revoked access, plan limit, bad data).
    Failed {
        message: String,
        code: &'static str,
    },
    /// The integration went away (disconnected) while queued.
    Cancelled(String),
}

/// The delay before retry `attempt` + 1: 30 s, 2 min, 8 min… with ±20 % jitter.
fn retry_delay(attempt: i32) -> Duration {
    let base = 30.0 * 4f64.powi(attempt.saturating_sub(1).min(6));
    let jitter = 0.8 + 0.4 * rand::random::<f64>();
    Duration::from_secs_f64(base * jitter)
}

/// Records the outcome, fenced: `Ok(false)` when the job was taken over meanwhile
/// (the stale worker's result is dropped). Also updates the integration's freshness.
pub async fn finish(
    conn: &mut PgConnection,
    job: &ClaimedJob,
    outcome: &Outcome,
) -> sqlx::Result<bool> {
    if !hold(&mut *conn, job).await? {
        return Ok(false);
    }
    let ms = |d: Duration| d.as_millis() as f64;
    match outcome {
        Outcome::Success => {
            db::sync_jobs::mark_success(&mut *conn, job.id).await?;
            db::integrations::record_sync_success(&mut *conn, job.integration_id).await?;
        }
        Outcome::Retry(message) if job.attempt < job.max_attempts => {
            db::sync_jobs::requeue_retry(&mut *conn, job.id, ms(retry_delay(job.attempt)), message)
                .await?;
        }
        Outcome::RateLimited(wait, reason) => {
            db::sync_jobs::requeue_rate_limited(&mut *conn, job.id, ms(*wait), reason.as_deref())
                .await?;
        }
        Outcome::Retry(message) | Outcome::Failed { message, .. } => {
            let code = match outcome {
                Outcome::Failed { code, .. } => *code,
                _ => "attempts_exhausted",
            };
            db::sync_jobs::mark_failed(&mut *conn, job.id, message, code).await?;
            db::integrations::record_sync_failure(&mut *conn, job.integration_id, message, code)
                .await?;
        }
        Outcome::Cancelled(message) => {
            db::sync_jobs::mark_cancelled(&mut *conn, job.id, message).await?;
        }
    }
    Ok(true)
}

//! The job queue on `sync_jobs` (DESIGN §7).
//!
//! Claims are short transactions (`FOR UPDATE SKIP LOCKED`); nothing holds a
//! transaction across provider calls. A worker pool claims for all its free slots
//! at once and records the outcomes of every job that finished meanwhile in the
//! same transaction ([`finish_batch`], `sync::worker`), so the queue costs a few
//! statements per batch rather than per job. A claim takes a lease and bumps the job's
//! fencing token; every later write of the worker (heartbeat, page commit, finish)
//! names that token, so once the reaper has handed an expired lease to another
//! worker, the old worker's writes change nothing.
//!
//! The statements are in [`db::sync_jobs`]; this module decides which run when
//! (one live job per integration, backoff, what each outcome records).

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};

use sqlx::PgConnection;
use uuid::Uuid;

use crate::db;
pub use crate::db::sync_jobs::{
    claim_batch, enqueue_due, heartbeat, hold, reap_expired, recent, release_by_worker, view,
    ClaimedJob, JobView,
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

/// Claims the next due job, if any.
pub async fn claim(
    db: impl sqlx::PgExecutor<'_>,
    worker: &str,
    lease: Duration,
) -> sqlx::Result<Option<ClaimedJob>> {
    Ok(claim_batch(db, worker, lease, 1, None).await?.pop())
}

/// Where a pool's next claim resumes: just after the last job its previous claim
/// took. Every claim turns jobs from queued to running, which leaves their entries
/// in the due index behind until vacuum removes them; while a long transaction
/// holds the xmin horizon back it cannot, and a claim scanning from the front would
/// step over every one of them. Resuming after the last job taken skips them.
///
/// Jobs can still appear before the cursor: a claim elsewhere that rolled back, a
/// job queued by a transaction that committed late. So a claim that comes back
/// short (the end of the queue) and any claim a second after the last full scan
/// start from the front again.
#[derive(Debug)]
pub struct ClaimCursor {
    after: Option<(DateTime<Utc>, Uuid)>,
    full_scan_at: Instant,
}

impl Default for ClaimCursor {
    fn default() -> Self {
        Self {
            after: None,
            full_scan_at: Instant::now(),
        }
    }
}

impl ClaimCursor {
    const FULL_SCAN_EVERY: Duration = Duration::from_secs(1);

    /// Where the next claim starts; `None` is the front of the queue.
    fn start(&mut self) -> Option<(DateTime<Utc>, Uuid)> {
        if self.full_scan_at.elapsed() >= Self::FULL_SCAN_EVERY {
            self.after = None;
        }
        if self.after.is_none() {
            self.full_scan_at = Instant::now();
        }
        self.after
    }

    /// Moves past what a claim of `wanted` jobs took.
    fn advance(&mut self, claimed: &[ClaimedJob], wanted: usize) {
        self.after = if claimed.len() < wanted {
            None
        } else {
            claimed.iter().map(|job| (job.run_after, job.id)).max()
        };
    }

    /// Claims up to `wanted` jobs from where the cursor stands, and moves it.
    pub async fn claim(
        &mut self,
        conn: &mut PgConnection,
        worker: &str,
        lease: Duration,
        wanted: usize,
    ) -> sqlx::Result<Vec<ClaimedJob>> {
        if wanted == 0 {
            return Ok(Vec::new());
        }
        let claimed = claim_batch(&mut *conn, worker, lease, wanted, self.start()).await?;
        self.advance(&claimed, wanted);
        Ok(claimed)
    }
}

/// Records the outcome, fenced: `Ok(false)` when the job was taken over meanwhile
/// (the stale worker's result is dropped). Also updates the integration's freshness.
pub async fn finish(
    conn: &mut PgConnection,
    job: &ClaimedJob,
    outcome: &Outcome,
) -> sqlx::Result<bool> {
    Ok(finish_batch(conn, &[(job, outcome)]).await?[0])
}

/// Records several outcomes in one go, each fenced: for each job, whether it was
/// recorded (`false` when it was taken over meanwhile and its result is dropped).
/// Successes, by far the common case, take three statements for the whole batch.
pub async fn finish_batch(
    conn: &mut PgConnection,
    finished: &[(&ClaimedJob, &Outcome)],
) -> sqlx::Result<Vec<bool>> {
    if finished.is_empty() {
        return Ok(Vec::new());
    }
    let succeeded: Vec<&ClaimedJob> = finished
        .iter()
        .filter(|(_, outcome)| matches!(outcome, Outcome::Success))
        .map(|(job, _)| *job)
        .collect();
    let others: Vec<&ClaimedJob> = finished
        .iter()
        .filter(|(_, outcome)| !matches!(outcome, Outcome::Success))
        .map(|(job, _)| *job)
        .collect();
    // Successes: the fenced update itself says which were still this worker's.
    let mut held: HashSet<Uuid> = if succeeded.is_empty() {
        HashSet::new()
    } else {
        db::sync_jobs::mark_success(&mut *conn, &succeeded)
            .await?
            .into_iter()
            .collect()
    };
    let fresh: Vec<Uuid> = succeeded
        .iter()
        .filter(|job| held.contains(&job.id))
        .map(|job| job.integration_id)
        .collect();
    if !others.is_empty() {
        held.extend(db::sync_jobs::hold_many(&mut *conn, &others).await?);
    }
    for (job, outcome) in finished {
        if !matches!(outcome, Outcome::Success) && held.contains(&job.id) {
            record_unsuccessful(&mut *conn, job, outcome).await?;
        }
    }
    db::integrations::record_sync_success(&mut *conn, &fresh).await?;
    let recorded = finished
        .iter()
        .map(|(job, _)| held.contains(&job.id))
        .collect();
    Ok(recorded)
}

/// What a run that did not succeed leaves behind; the job is held.
async fn record_unsuccessful(
    conn: &mut PgConnection,
    job: &ClaimedJob,
    outcome: &Outcome,
) -> sqlx::Result<()> {
    let ms = |d: Duration| d.as_millis() as f64;
    match outcome {
        // Recorded with the batch in `finish_batch`.
        Outcome::Success => {}
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
    Ok(())
}

//! The job queue's table, `sync_jobs` (DESIGN §7): queuing, claiming, leases,
//! outcomes and the monitoring view. The queue's rules (when to retry, what a lost
//! fence means) are in `sync::queue`; these are its statements.
//!
//! Every write after a claim names the job's fencing token, or runs after
//! [`hold`] has locked the row for that token.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgExecutor};
use utoipa::ToSchema;
use uuid::Uuid;

/// A claimed job.
#[derive(Debug, Clone, FromRow)]
pub struct ClaimedJob {
    pub id: Uuid,
    pub org_id: Uuid,
    pub integration_id: Uuid,
    pub attempt: i32,
    pub max_attempts: i32,
    pub fence: i64,
    /// When it was due: the claim order (with the id), and where the next claim resumes.
    pub run_after: DateTime<Utc>,
    /// The integration's provider (for metrics and logs).
    pub provider: String,
}

/// Inserts a queued job unless the integration has a live (queued or running) one;
/// the new job's id, or `None` when there was one already.
pub async fn insert_unless_live(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    integration_id: Uuid,
    trigger: &str,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "INSERT INTO sync_jobs (id, org_id, integration_id, trigger) VALUES ($1, $2, $3, $4)
         ON CONFLICT (integration_id) WHERE status IN ('queued', 'running') DO NOTHING
         RETURNING id",
    )
    .bind(Uuid::new_v4())
    .bind(org_id)
    .bind(integration_id)
    .bind(trigger)
    .fetch_optional(db)
    .await
}

/// The integration's live (queued or running) job.
pub async fn live_for_integration(
    db: impl PgExecutor<'_>,
    integration_id: Uuid,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "SELECT id FROM sync_jobs WHERE integration_id = $1 AND status IN ('queued', 'running')",
    )
    .bind(integration_id)
    .fetch_one(db)
    .await
}

/// Queues a job for every active integration whose cadence has passed since its last
/// sync and that has no live job. Idempotent: the partial unique index makes a
/// second pass (or a second scheduler) add nothing.
pub async fn enqueue_due(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "INSERT INTO sync_jobs (id, org_id, integration_id, trigger)
         SELECT gen_random_uuid(), i.org_id, i.id, 'schedule' FROM integrations i
         WHERE i.status IN ('active', 'syncing', 'error')
           AND (i.last_synced_at IS NULL OR i.last_synced_at + make_interval(mins => i.cadence_minutes) <= now())
           AND NOT EXISTS (SELECT 1 FROM sync_jobs j WHERE j.integration_id = i.id AND j.status IN ('queued', 'running'))
           -- A job that just failed for good waits a cadence before the schedule tries again.
           AND NOT EXISTS (SELECT 1 FROM sync_jobs j WHERE j.integration_id = i.id AND j.status = 'failed'
                           AND j.finished_at + make_interval(mins => i.cadence_minutes) > now())
         ON CONFLICT (integration_id) WHERE status IN ('queued', 'running') DO NOTHING",
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// Claims up to `limit` due jobs, oldest `run_after` first (ties by id), each with
/// a lease and its fencing token bumped. `after` resumes the scan past the last job
/// a previous claim took (see `sync::queue::ClaimCursor`); `None` scans from the
/// front of the queue.
pub async fn claim_batch(
    db: impl PgExecutor<'_>,
    worker: &str,
    lease: Duration,
    limit: usize,
    after: Option<(DateTime<Utc>, Uuid)>,
) -> sqlx::Result<Vec<ClaimedJob>> {
    // Two statements rather than one with `$4 IS NULL OR …`: the row comparison
    // must be an index condition, which an `OR` would keep it from being.
    let due = match after {
        None => "status = 'queued' AND run_after <= now()",
        Some(_) => "status = 'queued' AND run_after <= now() AND (run_after, id) > ($4, $5)",
    };
    let sql = format!(
        "UPDATE sync_jobs j
         SET status = 'running', attempt = j.attempt + 1, locked_by = $1, fence = j.fence + 1,
             lease_expires_at = now() + $2 * interval '1 millisecond', heartbeat_at = now(),
             started_at = coalesce(j.started_at, now())
         FROM (SELECT id FROM sync_jobs WHERE {due}
               ORDER BY run_after, id LIMIT $3 FOR UPDATE SKIP LOCKED) next
         WHERE j.id = next.id
         RETURNING j.id, j.org_id, j.integration_id, j.attempt, j.max_attempts, j.fence, j.run_after,
                   (SELECT i.provider FROM integrations i WHERE i.id = j.integration_id) AS provider"
    );
    let query = sqlx::query_as(&sql)
        .bind(worker)
        .bind(lease.as_millis() as f64)
        .bind(limit as i64);
    match after {
        Some((at, id)) => query.bind(at).bind(id).fetch_all(db).await,
        None => query.fetch_all(db).await,
    }
}

/// Extends the lease; false when the job is no longer this worker's.
pub async fn heartbeat(
    db: impl PgExecutor<'_>,
    job: &ClaimedJob,
    lease: Duration,
) -> sqlx::Result<bool> {
    Ok(sqlx::query(
        "UPDATE sync_jobs SET heartbeat_at = now(), lease_expires_at = now() + $3 * interval '1 millisecond'
         WHERE id = $1 AND fence = $2 AND status = 'running'",
    )
    .bind(job.id)
    .bind(job.fence)
    .bind(lease.as_millis() as f64)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// Locks the job row if it is still this worker's (inside a page commit).
pub async fn hold(conn: &mut PgConnection, job: &ClaimedJob) -> sqlx::Result<bool> {
    Ok(sqlx::query_scalar::<_, i32>(
        "SELECT 1 FROM sync_jobs WHERE id = $1 AND fence = $2 AND status = 'running' FOR UPDATE",
    )
    .bind(job.id)
    .bind(job.fence)
    .fetch_optional(conn)
    .await?
    .is_some())
}

/// [`hold`] for several jobs in one statement: the ids of those still this worker's,
/// locked (in id order, so two finishers never wait on each other in a cycle).
pub async fn hold_many(conn: &mut PgConnection, jobs: &[&ClaimedJob]) -> sqlx::Result<Vec<Uuid>> {
    let ids: Vec<Uuid> = jobs.iter().map(|job| job.id).collect();
    let fences: Vec<i64> = jobs.iter().map(|job| job.fence).collect();
    sqlx::query_scalar(
        "SELECT j.id FROM sync_jobs j
         JOIN unnest($1::uuid[], $2::int8[]) AS mine(id, fence) ON mine.id = j.id AND mine.fence = j.fence
         WHERE j.status = 'running'
         ORDER BY j.id FOR UPDATE OF j",
    )
    .bind(ids)
    .bind(fences)
    .fetch_all(conn)
    .await
}

/// Puts a worker's running jobs back in the queue, due now, without spending their
/// attempt (a worker shutting down hands over what it had started).
pub async fn release_by_worker(db: impl PgExecutor<'_>, worker: &str) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "UPDATE sync_jobs SET status = 'queued', attempt = attempt - 1, locked_by = NULL,
                lease_expires_at = NULL, run_after = now()
         WHERE status = 'running' AND locked_by = $1",
    )
    .bind(worker)
    .execute(db)
    .await?
    .rows_affected())
}

/// Requeues jobs whose worker stopped heartbeating; a job out of attempts fails.
pub async fn reap_expired(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "UPDATE sync_jobs
         SET status = CASE WHEN attempt >= max_attempts THEN 'failed' ELSE 'queued' END,
             finished_at = CASE WHEN attempt >= max_attempts THEN now() END,
             locked_by = NULL, lease_expires_at = NULL, run_after = now(),
             error = 'the worker stopped responding before finishing (lease expired)'
         WHERE status = 'running' AND lease_expires_at < now()",
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// Records finished jobs as successes, fenced: the ids of those that were still the
/// worker's (the others were taken over, and stay as their new owner leaves them).
pub async fn mark_success(
    conn: &mut PgConnection,
    jobs: &[&ClaimedJob],
) -> sqlx::Result<Vec<Uuid>> {
    let ids: Vec<Uuid> = jobs.iter().map(|job| job.id).collect();
    let fences: Vec<i64> = jobs.iter().map(|job| job.fence).collect();
    sqlx::query_scalar(
        "UPDATE sync_jobs j SET status = 'success', finished_at = now(), locked_by = NULL,
                lease_expires_at = NULL, error = NULL
         FROM unnest($1::uuid[], $2::int8[]) AS mine(id, fence)
         WHERE mine.id = j.id AND mine.fence = j.fence AND j.status = 'running'
         RETURNING j.id",
    )
    .bind(ids)
    .bind(fences)
    .fetch_all(conn)
    .await
}

/// Puts a job back in the queue to run again after `delay_ms`, spending the attempt.
pub async fn requeue_retry(
    db: impl PgExecutor<'_>,
    id: Uuid,
    delay_ms: f64,
    message: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sync_jobs SET status = 'queued', locked_by = NULL, lease_expires_at = NULL,
                run_after = now() + $2 * interval '1 millisecond', error = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(delay_ms)
    .bind(message)
    .execute(db)
    .await?;
    Ok(())
}

/// Puts a job back in the queue to run after `wait_ms` without spending an attempt,
/// with the provider's reason (which limit, when it resets) when it gave one.
pub async fn requeue_rate_limited(
    db: impl PgExecutor<'_>,
    id: Uuid,
    wait_ms: f64,
    reason: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sync_jobs SET status = 'queued', locked_by = NULL, lease_expires_at = NULL,
                attempt = attempt - 1, run_after = now() + $2 * interval '1 millisecond',
                error = coalesce($3, 'waiting for the provider''s rate limit to reset') WHERE id = $1",
    )
    .bind(id)
    .bind(wait_ms)
    .bind(reason)
    .execute(db)
    .await?;
    Ok(())
}

/// Records a job as failed for good, with the failure's code in `error_details`.
pub async fn mark_failed(
    db: impl PgExecutor<'_>,
    id: Uuid,
    message: &str,
    code: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sync_jobs SET status = 'failed', finished_at = now(), locked_by = NULL,
                lease_expires_at = NULL, error = $2, error_details = jsonb_build_object('code', $3::text)
         WHERE id = $1",
    )
    .bind(id)
    .bind(message)
    .bind(code)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn mark_cancelled(db: impl PgExecutor<'_>, id: Uuid, message: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sync_jobs SET status = 'cancelled', finished_at = now(), locked_by = NULL,
                lease_expires_at = NULL, error = $2 WHERE id = $1",
    )
    .bind(id)
    .bind(message)
    .execute(db)
    .await?;
    Ok(())
}

/// Records whether the run was a backfill or incremental, if the job is still this
/// worker's (fenced).
pub async fn set_sync_type(
    db: impl PgExecutor<'_>,
    job: &ClaimedJob,
    kind: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE sync_jobs SET sync_type = $3 WHERE id = $1 AND fence = $2")
        .bind(job.id)
        .bind(job.fence)
        .bind(kind)
        .execute(db)
        .await?;
    Ok(())
}

/// Counts a page's records against the job (inside the page commit, after [`hold`]).
pub async fn add_records_synced(
    db: impl PgExecutor<'_>,
    id: Uuid,
    records: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE sync_jobs SET records_synced = records_synced + $2 WHERE id = $1")
        .bind(id)
        .bind(records)
        .execute(db)
        .await?;
    Ok(())
}

/// A job as the monitoring API shows it.
#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct JobView {
    pub id: Uuid,
    pub integration_id: Uuid,
    pub provider: String,
    pub account_label: String,
    /// `queued`, `running`, `success`, `failed` or `cancelled`.
    pub status: String,
    pub trigger: String,
    /// `backfill` or `incremental`, once known.
    pub sync_type: Option<String>,
    pub attempt: i32,
    pub max_attempts: i32,
    pub records_synced: i64,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Seconds from start to finish (or until now while running).
    pub duration_seconds: Option<f64>,
    /// For a queued job waiting on a provider's limit (Clarity's daily budget, GA4's
    /// quota): when it runs next. `None` once it ran or when it may run now.
    pub next_run_at: Option<DateTime<Utc>>,
}

/// The monitoring view of jobs; callers add the WHERE clause.
const VIEW_SELECT: &str = "SELECT j.id, j.integration_id, i.provider, i.account_label, j.status, j.trigger,
        j.sync_type, j.attempt, j.max_attempts, j.records_synced, j.error, j.created_at, j.started_at,
        j.finished_at,
        extract(epoch FROM coalesce(j.finished_at, CASE WHEN j.status = 'running' THEN now() END) - j.started_at)::float8
            AS duration_seconds,
        CASE WHEN j.status = 'queued' AND j.run_after > now() THEN j.run_after END AS next_run_at
    FROM sync_jobs j JOIN integrations i ON i.id = j.integration_id";

pub async fn recent(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<JobView>> {
    sqlx::query_as(&format!(
        "{VIEW_SELECT} WHERE j.org_id = $1 ORDER BY j.created_at DESC LIMIT $2"
    ))
    .bind(org_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn view(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<JobView>> {
    sqlx::query_as(&format!("{VIEW_SELECT} WHERE j.org_id = $1 AND j.id = $2"))
        .bind(org_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

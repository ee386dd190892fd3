//! Figures for `/metrics` read across every tenant (only counts and ages leave):
//! the job queue, how stale each provider's integrations are, the outboxes.

use sqlx::PgConnection;

/// The queue, lag and outbox figures at one moment.
#[derive(Debug, Default)]
pub struct Figures {
    pub queued: i64,
    pub running: i64,
    /// Seconds the oldest queued job that is due (`run_after` passed) has waited.
    pub oldest_queued_seconds: f64,
    /// Per provider: seconds since its least recently synced integration last
    /// succeeded (since it was connected, if it never did).
    pub lag: Vec<(String, f64)>,
    /// Per channel (`email`, `slack`): messages pending and messages given up on.
    pub outbox: Vec<(String, i64, i64)>,
}

pub async fn figures(conn: &mut PgConnection) -> sqlx::Result<Figures> {
    let (queued, running, oldest_queued_seconds): (i64, i64, f64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'queued'),
                count(*) FILTER (WHERE status = 'running'),
                coalesce(extract(epoch FROM now() - min(run_after)
                    FILTER (WHERE status = 'queued' AND run_after <= now())), 0)::float8
         FROM sync_jobs WHERE status IN ('queued', 'running')",
    )
    .fetch_one(&mut *conn)
    .await?;
    // Integrations awaiting an account choice or disconnected are not expected to sync.
    let lag = sqlx::query_as(
        "SELECT provider,
                extract(epoch FROM now() - min(coalesce(last_synced_at, created_at)))::float8
         FROM integrations
         WHERE status NOT IN ('disconnected', 'choosing_account')
         GROUP BY provider ORDER BY provider",
    )
    .fetch_all(&mut *conn)
    .await?;
    let outbox = sqlx::query_as(
        "SELECT 'email', count(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NULL),
                count(*) FILTER (WHERE failed_at IS NOT NULL)
         FROM email_outbox
         UNION ALL
         SELECT 'slack', count(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NULL),
                count(*) FILTER (WHERE failed_at IS NOT NULL)
         FROM slack_outbox",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(Figures {
        queued,
        running,
        oldest_queued_seconds,
        lag,
        outbox,
    })
}

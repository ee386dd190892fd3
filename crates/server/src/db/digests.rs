//! The weekly digest's reads and its audit trail (`digests_sent`).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// Organizations with at least one integration that is not disconnected.
pub async fn orgs_with_active_integrations(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT DISTINCT org_id FROM integrations WHERE status <> 'disconnected' ORDER BY org_id",
    )
    .fetch_all(db)
    .await
}

/// Members who already have this week's digest.
pub async fn sent_to(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    iso_week: &str,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar("SELECT user_id FROM digests_sent WHERE org_id = $1 AND iso_week = $2")
        .bind(org_id)
        .bind(iso_week)
        .fetch_all(db)
        .await
}

/// Claims this week's digest for a member: false when it was already sent (or is
/// being sent by a concurrent run, which then owns it).
pub async fn claim(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    user_id: Uuid,
    iso_week: &str,
) -> sqlx::Result<bool> {
    let claimed = sqlx::query(
        "INSERT INTO digests_sent (org_id, user_id, iso_week) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(org_id)
    .bind(user_id)
    .bind(iso_week)
    .execute(db)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

pub async fn record_email(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    user_id: Uuid,
    iso_week: &str,
    email_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE digests_sent SET email_id = $4 WHERE org_id = $1 AND user_id = $2 AND iso_week = $3")
        .bind(org_id)
        .bind(user_id)
        .bind(iso_week)
        .bind(email_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Alerts that fired since `since`: (rule name, when), newest first.
pub async fn alerts_fired(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    since: DateTime<Utc>,
) -> sqlx::Result<Vec<(String, DateTime<Utc>)>> {
    sqlx::query_as(
        "SELECT a.name, e.fired_at FROM alert_events e JOIN alerts a ON a.id = e.alert_id
         WHERE e.org_id = $1 AND e.fired_at >= $2 ORDER BY e.fired_at DESC LIMIT 10",
    )
    .bind(org_id)
    .bind(since)
    .fetch_all(db)
    .await
}

/// Integrations whose syncs fail or that need reconnecting: (provider, label, status).
pub async fn troubled_integrations(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
) -> sqlx::Result<Vec<(String, String, String)>> {
    sqlx::query_as(
        "SELECT provider, account_label, status FROM integrations
         WHERE org_id = $1 AND status IN ('error', 'reauth_required') ORDER BY provider",
    )
    .bind(org_id)
    .fetch_all(db)
    .await
}

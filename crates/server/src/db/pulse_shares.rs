//! Share links of an organization's Pulse page: owners and admins manage them as
//! themselves (RLS: admins only); the public page finds a live one by its token's hash
//! as the worker role.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgExecutor};
use utoipa::ToSchema;
use uuid::Uuid;

/// A Pulse share link as its organization's admins see it (never its token).
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct PulseShare {
    pub id: Uuid,
    /// The store whose sales the link shows.
    pub store_id: Uuid,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, store_id, expires_at, revoked_at, created_at";

/// The organization's links, newest first, revoked and expired ones included.
pub async fn list(db: impl PgExecutor<'_>, org_id: Uuid) -> sqlx::Result<Vec<PulseShare>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM pulse_shares WHERE org_id = $1 ORDER BY created_at DESC, id"
    ))
    .bind(org_id)
    .fetch_all(db)
    .await
}

/// A new link; only the token's hash is stored.
pub async fn create(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    store_id: Uuid,
    token_hash: &[u8],
    expires_at: Option<DateTime<Utc>>,
    created_by: Uuid,
) -> sqlx::Result<PulseShare> {
    sqlx::query_as(&format!(
        "INSERT INTO pulse_shares (id, org_id, store_id, token_hash, expires_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    ))
    .bind(Uuid::new_v4())
    .bind(org_id)
    .bind(store_id)
    .bind(token_hash)
    .bind(expires_at)
    .bind(created_by)
    .fetch_one(db)
    .await
}

/// Revokes a link (revoking twice keeps the first time); false if the organization
/// has no such link.
pub async fn revoke(db: impl PgExecutor<'_>, org_id: Uuid, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE pulse_shares SET revoked_at = coalesce(revoked_at, now()) WHERE org_id = $1 AND id = $2",
    )
    .bind(org_id)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// What a live link opens.
#[derive(Debug, Clone, Copy, FromRow)]
pub struct SharedPulse {
    pub id: Uuid,
    pub org_id: Uuid,
    pub store_id: Uuid,
}

/// The live (neither revoked nor expired) link with this token hash. Runs as the
/// worker role: the caller is anonymous, so no policy can scope this read.
pub async fn find_live(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> sqlx::Result<Option<SharedPulse>> {
    sqlx::query_as(
        "SELECT id, org_id, store_id FROM pulse_shares
         WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// Whether the link is still live (a stream opened through it ends once it is not).
pub async fn is_live(db: impl PgExecutor<'_>, org_id: Uuid, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pulse_shares WHERE org_id = $1 AND id = $2
             AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()))",
    )
    .bind(org_id)
    .bind(id)
    .fetch_one(db)
    .await
}

/// Of `ids`, the links of the organization that are still live (one read for every
/// share stream of an organization; the live hub's fan-out).
pub async fn live_among(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT id FROM pulse_shares WHERE org_id = $1 AND id = ANY($2)
             AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
    )
    .bind(org_id)
    .bind(ids)
    .fetch_all(db)
    .await
}

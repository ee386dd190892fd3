//! Invitations to join an organization: single use, expiring, stored as a hash.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgExecutor};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::OrgRole;

#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct Invite {
    pub id: Uuid,
    pub email: String,
    pub role: OrgRole,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, email, role, created_at, expires_at, accepted_at, revoked_at";

pub async fn create(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    email: &str,
    role: OrgRole,
    token_hash: &[u8],
    invited_by: Uuid,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<Invite> {
    sqlx::query_as(&format!(
        "INSERT INTO invites (id, org_id, email, role, token_hash, invited_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
    ))
    .bind(Uuid::new_v4())
    .bind(org_id)
    .bind(email)
    .bind(role)
    .bind(token_hash)
    .bind(invited_by)
    .bind(expires_at)
    .fetch_one(db)
    .await
}

pub async fn list(db: impl PgExecutor<'_>, org_id: Uuid) -> sqlx::Result<Vec<Invite>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM invites WHERE org_id = $1 ORDER BY created_at DESC"
    ))
    .bind(org_id)
    .fetch_all(db)
    .await
}

/// Revokes a pending invite; false if there is no such pending invite.
pub async fn revoke(db: impl PgExecutor<'_>, org_id: Uuid, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE invites SET revoked_at = now() WHERE org_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(org_id)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An invite found by its token, with the organization's name (worker role: the
/// person holding the token is not a member yet).
#[derive(Debug, FromRow)]
pub struct PendingInvite {
    pub id: Uuid,
    pub org_id: Uuid,
    pub org_name: String,
    pub org_slug: String,
    pub email: String,
    pub role: OrgRole,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Looks an invite up by token hash; `for_update` locks it so acceptance is single-use.
pub async fn find_by_token(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    for_update: bool,
) -> sqlx::Result<Option<PendingInvite>> {
    sqlx::query_as(&format!(
        "SELECT i.id, i.org_id, o.name AS org_name, o.slug AS org_slug, i.email, i.role, i.expires_at,
                i.accepted_at, i.revoked_at
         FROM invites i JOIN organizations o ON o.id = i.org_id
         WHERE i.token_hash = $1 {}",
        if for_update { "FOR UPDATE OF i" } else { "" }
    ))
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

pub async fn mark_accepted(db: impl PgExecutor<'_>, id: Uuid, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE invites SET accepted_at = now(), accepted_by = $2 WHERE id = $1")
        .bind(id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(())
}

//! The server-side half of an OAuth flow: a hashed, single-use, short-lived state
//! bound to (org, user, store, provider). Run as the user-facing role, RLS shows a
//! state only to the admin who started the flow, so a foreign state looks unknown.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

pub struct NewState<'a> {
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub store_id: Uuid,
    pub provider: &'a str,
    pub state_hash: &'a [u8],
    pub pkce_verifier: Option<&'a str>,
    pub account_ref: Option<&'a str>,
    pub integration_id: Option<Uuid>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(db: impl PgExecutor<'_>, s: NewState<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO oauth_states (id, org_id, user_id, store_id, provider, state_hash, pkce_verifier,
                                   account_ref, integration_id, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(Uuid::new_v4())
    .bind(s.org_id)
    .bind(s.user_id)
    .bind(s.store_id)
    .bind(s.provider)
    .bind(s.state_hash)
    .bind(s.pkce_verifier)
    .bind(s.account_ref)
    .bind(s.integration_id)
    .bind(s.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// A state as it was before this attempt consumed it.
#[derive(Debug, FromRow)]
pub struct ConsumedState {
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub store_id: Uuid,
    pub provider: String,
    pub pkce_verifier: Option<String>,
    pub account_ref: Option<String>,
    pub integration_id: Option<Uuid>,
    pub expires_at: DateTime<Utc>,
    /// Set when an earlier callback already used it (a replay).
    pub used_before: Option<DateTime<Utc>>,
}

/// Marks the state used and returns it as it was: a state works once, even when the
/// callback that uses it fails later. `None` when it does not exist for this user.
pub async fn consume(
    db: impl PgExecutor<'_>,
    state_hash: &[u8],
) -> sqlx::Result<Option<ConsumedState>> {
    sqlx::query_as(
        "UPDATE oauth_states s SET used_at = coalesce(s.used_at, now())
         FROM (SELECT id, used_at FROM oauth_states WHERE state_hash = $1 FOR UPDATE) before
         WHERE s.id = before.id
         RETURNING s.org_id, s.user_id, s.store_id, s.provider, s.pkce_verifier, s.account_ref,
                   s.integration_id, s.expires_at, before.used_at AS used_before",
    )
    .bind(state_hash)
    .fetch_optional(db)
    .await
}

/// Drops states that can no longer be used (the background loop calls this).
pub async fn delete_stale(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    Ok(
        sqlx::query("DELETE FROM oauth_states WHERE expires_at < now() - interval '1 day'")
            .execute(db)
            .await?
            .rows_affected(),
    )
}

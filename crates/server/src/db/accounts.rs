//! Users, sessions, personal API tokens and login throttling state.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgExecutor};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::{Credential, CurrentUser, EmailAddress},
    error::{ApiError, ApiResult, ResultExt},
};

/// Creates a user (worker role: the user does not exist yet, so no policy could admit it).
pub async fn create_user(
    db: impl PgExecutor<'_>,
    id: Uuid,
    email: &EmailAddress,
    name: &str,
    password_hash: &str,
) -> ApiResult<()> {
    sqlx::query("INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(email.as_str())
        .bind(name)
        .bind(password_hash)
        .execute(db)
        .await
        .on_constraint("users_email_key", |_| {
            ApiError::conflict(
                "email_taken",
                "an account with this email already exists; log in instead",
            )
        })?;
    Ok(())
}

// A user as their own profile shows them (no doc comment: it would become the
// schema's description in the OpenAPI document).
#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct UserProfile {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

pub async fn profile(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<UserProfile> {
    sqlx::query_as("SELECT id, email, name, created_at FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(db)
        .await
}

/// The id and password hash for an email, if such a user exists.
pub async fn login_lookup(
    db: impl PgExecutor<'_>,
    email: &str,
) -> sqlx::Result<Option<(Uuid, String)>> {
    sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(db)
        .await
}

pub async fn create_session(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
    user_agent: Option<&str>,
    client_addr: &str,
) -> sqlx::Result<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO sessions (id, user_id, token_hash, expires_at, user_agent, client_addr)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(user_id)
    .bind(token_hash)
    .bind(expires_at)
    .bind(user_agent)
    .bind(client_addr)
    .execute(db)
    .await?;
    Ok(id)
}

#[derive(FromRow)]
struct UserRow {
    id: Uuid,
    email: String,
    name: String,
    credential_id: Uuid,
}

/// The user behind a live (unexpired, unrevoked) session token.
pub async fn user_for_session(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> sqlx::Result<Option<CurrentUser>> {
    let row: Option<UserRow> = sqlx::query_as(
        "SELECT u.id, u.email, u.name, s.id AS credential_id
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| CurrentUser {
        id: r.id,
        email: r.email,
        name: r.name,
        credential: Credential::Session(r.credential_id),
    }))
}

/// The user behind a live API token; records when it was last used.
pub async fn user_for_api_token(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> sqlx::Result<Option<CurrentUser>> {
    let row: Option<UserRow> = sqlx::query_as(
        "WITH t AS (
             UPDATE api_tokens SET last_used_at = now()
             WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
             RETURNING id, user_id
         )
         SELECT u.id, u.email, u.name, t.id AS credential_id FROM t JOIN users u ON u.id = t.user_id",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| CurrentUser {
        id: r.id,
        email: r.email,
        name: r.name,
        credential: Credential::ApiToken(r.credential_id),
    }))
}

pub async fn revoke_session(db: impl PgExecutor<'_>, session_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL")
        .bind(session_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Failed logins for an email and for a client address within the window, counting
/// for the email only failures since its last success.
pub async fn recent_failures(
    db: impl PgExecutor<'_>,
    email: &str,
    client_addr: &str,
    window_secs: i64,
) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "SELECT
            count(*) FILTER (WHERE email = $1 AND NOT succeeded AND attempted_at > coalesce(
                (SELECT max(attempted_at) FROM login_attempts WHERE email = $1 AND succeeded), '-infinity')),
            count(*) FILTER (WHERE client_addr = $2 AND NOT succeeded)
         FROM login_attempts
         WHERE (email = $1 OR client_addr = $2) AND attempted_at > now() - make_interval(secs => $3)",
    )
    .bind(email)
    .bind(client_addr)
    .bind(window_secs as f64)
    .fetch_one(db)
    .await
}

pub async fn record_login_attempt(
    db: impl PgExecutor<'_>,
    email: &str,
    client_addr: &str,
    succeeded: bool,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO login_attempts (email, client_addr, succeeded) VALUES ($1, $2, $3)")
        .bind(email)
        .bind(client_addr)
        .bind(succeeded)
        .execute(db)
        .await?;
    Ok(())
}

/// A personal API token as listed: never the token itself.
#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    /// The token's first characters, to tell tokens apart.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn create_api_token(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    name: &str,
    prefix: &str,
    token_hash: &[u8],
    expires_at: Option<DateTime<Utc>>,
) -> sqlx::Result<ApiToken> {
    sqlx::query_as(
        "INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, name, prefix, created_at, last_used_at, expires_at, revoked_at",
    )
    .bind(Uuid::new_v4())
    .bind(user_id)
    .bind(name)
    .bind(prefix)
    .bind(token_hash)
    .bind(expires_at)
    .fetch_one(db)
    .await
}

/// The caller's tokens (RLS restricts the rows to their own).
pub async fn list_api_tokens(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<ApiToken>> {
    sqlx::query_as(
        "SELECT id, name, prefix, created_at, last_used_at, expires_at, revoked_at
         FROM api_tokens WHERE user_id = app_user_id() ORDER BY created_at DESC",
    )
    .fetch_all(db)
    .await
}

/// Revokes one of the caller's tokens; false when there is no such token.
pub async fn revoke_api_token(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<bool> {
    let done =
        sqlx::query("UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1")
            .bind(id)
            .execute(db)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// The stored password hash of a user.
pub async fn password_hash(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(db)
        .await
}

/// Replaces a user's password hash.
pub async fn set_password(db: impl PgExecutor<'_>, user_id: Uuid, hash: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .bind(user_id)
        .bind(hash)
        .execute(db)
        .await?;
    Ok(())
}

/// Revokes every live session of a user except `keep` (the one changing the password).
pub async fn revoke_sessions_except(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    keep: Option<Uuid>,
) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "UPDATE sessions SET revoked_at = now()
         WHERE user_id = $1 AND revoked_at IS NULL AND id IS DISTINCT FROM $2",
    )
    .bind(user_id)
    .bind(keep)
    .execute(db)
    .await?
    .rows_affected())
}

//! Password reset links: created for a typed-in email address, spent once by the
//! hash of the token in the link. Worker role only (`Bypass::PasswordReset`).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// The account a reset was asked for: its id and name (for the greeting).
pub async fn account_for_email(
    db: impl PgExecutor<'_>,
    email: &str,
) -> sqlx::Result<Option<(Uuid, String)>> {
    sqlx::query_as("SELECT id, name FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(db)
        .await
}

/// Links sent to this user in the last `window_secs` seconds.
pub async fn recent_count(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    window_secs: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM password_resets
         WHERE user_id = $1 AND created_at > now() - make_interval(secs => $2)",
    )
    .bind(user_id)
    .bind(window_secs as f64)
    .fetch_one(db)
    .await
}

pub async fn create(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
    client_addr: &str,
) -> sqlx::Result<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO password_resets (id, user_id, token_hash, expires_at, client_addr)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(user_id)
    .bind(token_hash)
    .bind(expires_at)
    .bind(client_addr)
    .execute(db)
    .await?;
    Ok(id)
}

/// What a token in a confirm request turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum Redeemed {
    /// Valid: now spent, with every other open link of the same user.
    User(Uuid),
    Unknown,
    Used,
    Expired,
}

/// Spends the link with this token hash if it is unused and unexpired. The row is
/// locked, so two confirms racing with one link cannot both succeed. The user's other
/// open links are spent too: after a reset, an older mail resets nothing.
pub async fn redeem(conn: &mut sqlx::PgConnection, token_hash: &[u8]) -> sqlx::Result<Redeemed> {
    let row: Option<(Uuid, Option<DateTime<Utc>>, bool)> = sqlx::query_as(
        "SELECT user_id, used_at, expires_at <= now() FROM password_resets
         WHERE token_hash = $1 FOR UPDATE",
    )
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((user_id, used_at, expired)) = row else {
        return Ok(Redeemed::Unknown);
    };
    if used_at.is_some() {
        return Ok(Redeemed::Used);
    }
    if expired {
        return Ok(Redeemed::Expired);
    }
    sqlx::query(
        "UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    Ok(Redeemed::User(user_id))
}

//! Session-level advisory locks: held by a connection until it unlocks or closes
//! (the sync scheduler's election). Transaction-scoped locks belong to the resource
//! they guard (`integrations::lock_token_refresh`).

use sqlx::PgConnection;

/// Takes the lock if no other session holds it; true when this session now does.
pub async fn try_lock(conn: &mut PgConnection, key: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(conn)
        .await
}

/// Releases a lock this session holds.
pub async fn unlock(conn: &mut PgConnection, key: i64) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

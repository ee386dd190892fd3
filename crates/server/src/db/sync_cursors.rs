//! `sync_cursors`: where each stream of an integration's sync left off, saved in the
//! page commit that covers the data up to it.

use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

/// Every stream's cursor of the integration.
pub async fn list(
    db: impl PgExecutor<'_>,
    integration_id: Uuid,
) -> sqlx::Result<Vec<(String, Value)>> {
    sqlx::query_as::<_, (String, Value)>(
        "SELECT stream, cursor FROM sync_cursors WHERE integration_id = $1",
    )
    .bind(integration_id)
    .fetch_all(db)
    .await
}

pub async fn save(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    integration_id: Uuid,
    stream: &str,
    cursor: &Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sync_cursors (org_id, integration_id, stream, cursor) VALUES ($1, $2, $3, $4)
         ON CONFLICT (integration_id, stream) DO UPDATE SET cursor = excluded.cursor, updated_at = now()",
    )
    .bind(org_id)
    .bind(integration_id)
    .bind(stream)
    .bind(cursor)
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets the cursors of these streams (the next sync starts them over).
pub async fn clear(
    db: impl PgExecutor<'_>,
    integration_id: Uuid,
    streams: &[String],
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sync_cursors WHERE integration_id = $1 AND stream = ANY($2)")
        .bind(integration_id)
        .bind(streams)
        .execute(db)
        .await?;
    Ok(())
}

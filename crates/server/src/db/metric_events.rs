//! `metric_events`: what syncs derive from raw records. They are written with COPY
//! (`sync::events::copy_events`, which encodes the rows); the other statements are here.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// Deletes the events of source records, each named with an instant its events were
/// recorded at (`raw_records.event_times`): they are found through the table's one index,
/// `(store_id, recorded_at)`.
pub async fn delete_for_records(
    conn: &mut PgConnection,
    store_id: Uuid,
    integration_id: Uuid,
    records_at: &[(&str, DateTime<Utc>)],
) -> sqlx::Result<u64> {
    if records_at.is_empty() {
        return Ok(0);
    }
    let (ids, times): (Vec<&str>, Vec<DateTime<Utc>>) = records_at.iter().copied().unzip();
    let deleted = sqlx::query(
        "DELETE FROM metric_events e
         USING unnest($3::text[], $4::timestamptz[]) AS k(source_record_id, recorded_at)
         WHERE e.store_id = $1 AND e.recorded_at = k.recorded_at
           AND e.integration_id = $2 AND e.source_record_id = k.source_record_id",
    )
    .bind(store_id)
    .bind(integration_id)
    .bind(&ids)
    .bind(&times)
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected())
}

//! `raw_records`: the latest version of every provider object a sync has seen, with
//! the instants of the events derived from it (how the next version finds them).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A batch of records as parallel columns (one element per record).
pub struct Columns<'a> {
    pub object_types: &'a [&'a str],
    pub external_ids: &'a [&'a str],
    pub updated_at: &'a [Option<DateTime<Utc>>],
    pub payloads: &'a [&'a serde_json::Value],
    /// `event_times` of each record as an array literal (`{"2024-…",…}`).
    pub event_times: &'a [String],
}

/// Upserts the records, never replacing a newer version with an older one. Returns
/// `(object_type, external_id, event_times)` of each record written (new or changed),
/// the instants being those of the version it replaced (empty for a new record).
pub async fn upsert(
    conn: &mut PgConnection,
    org_id: Uuid,
    integration_id: Uuid,
    records: &Columns<'_>,
) -> sqlx::Result<Vec<(String, String, Vec<DateTime<Utc>>)>> {
    // One statement: `previous` reads the rows as they were before the upsert.
    sqlx::query_as(
        "WITH incoming AS (
             SELECT * FROM unnest($3::text[], $4::text[], $5::timestamptz[], $6::jsonb[], $7::text[]) AS x(t, e, u, p, times)
         ), previous AS (
             SELECT r.object_type, r.external_id, r.event_times
             FROM raw_records r JOIN incoming i ON r.object_type = i.t AND r.external_id = i.e
             WHERE r.integration_id = $2
         ), written AS (
             INSERT INTO raw_records (org_id, integration_id, object_type, external_id, source_updated_at, payload, event_times)
             SELECT $1, $2, t, e, u, p, times::timestamptz[] FROM incoming
             ON CONFLICT (integration_id, object_type, external_id) DO UPDATE
             SET payload = excluded.payload, source_updated_at = excluded.source_updated_at,
                 event_times = excluded.event_times, synced_at = now()
             WHERE raw_records.source_updated_at IS NULL OR excluded.source_updated_at IS NULL
                OR excluded.source_updated_at >= raw_records.source_updated_at
             RETURNING object_type, external_id
         )
         SELECT w.object_type, w.external_id, coalesce(p.event_times, '{}')
         FROM written w LEFT JOIN previous p USING (object_type, external_id)",
    )
    .bind(org_id)
    .bind(integration_id)
    .bind(records.object_types)
    .bind(records.external_ids)
    .bind(records.updated_at)
    .bind(records.payloads)
    .bind(records.event_times)
    .fetch_all(conn)
    .await
}

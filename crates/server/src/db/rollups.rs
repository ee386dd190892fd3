//! `metric_rollups_daily` and `rollup_dirty_days`: per store, source, metric,
//! store-local day and dimension combination, the sum and count of events; and the
//! days a sync touched, waiting for their rollups to be recomputed.

use chrono::NaiveDate;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// Marks days of a store for recomputation (already marked ones stay as they are).
pub async fn mark_dirty_days(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    store_id: Uuid,
    days: &[NaiveDate],
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO rollup_dirty_days (org_id, store_id, day) SELECT $1, $2, unnest($3::date[])
         ON CONFLICT DO NOTHING",
    )
    .bind(org_id)
    .bind(store_id)
    .bind(days)
    .execute(db)
    .await?;
    Ok(())
}

/// Takes the store's dirty days that no concurrent refresh has claimed: they are
/// deleted here, so the claim commits with the recomputation.
pub async fn claim_dirty_days(
    db: impl PgExecutor<'_>,
    store_id: Uuid,
) -> sqlx::Result<Vec<NaiveDate>> {
    sqlx::query_scalar(
        "DELETE FROM rollup_dirty_days WHERE store_id = $1
         AND day IN (SELECT day FROM rollup_dirty_days WHERE store_id = $1 FOR UPDATE SKIP LOCKED)
         RETURNING day",
    )
    .bind(store_id)
    .fetch_all(db)
    .await
}

/// Rebuilds the rollups of the given store-local days (in `timezone`) from the
/// store's metric events. `days` must not be empty.
pub async fn recompute_days(
    conn: &mut PgConnection,
    store_id: Uuid,
    timezone: &str,
    days: &[NaiveDate],
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM metric_rollups_daily WHERE store_id = $1 AND day = ANY($2)")
        .bind(store_id)
        .bind(days)
        .execute(&mut *conn)
        .await?;
    // The time range bounds the scan; the day test picks the exact local days.
    let first = days.iter().min().expect("non-empty");
    let last = days.iter().max().expect("non-empty");
    sqlx::query(
        "INSERT INTO metric_rollups_daily (org_id, store_id, source, metric_name, day, dimensions, value_sum, event_count)
         SELECT org_id, store_id, source, metric_name, (recorded_at AT TIME ZONE $2)::date AS day, dimensions,
                sum(metric_value), count(*)
         FROM metric_events
         WHERE store_id = $1
           AND recorded_at >= ($4::date - 1)::timestamp AT TIME ZONE 'UTC'
           AND recorded_at < ($5::date + 2)::timestamp AT TIME ZONE 'UTC'
           AND (recorded_at AT TIME ZONE $2)::date = ANY($3)
         GROUP BY org_id, store_id, source, metric_name, day, dimensions",
    )
    .bind(store_id)
    .bind(timezone)
    .bind(days)
    .bind(first)
    .bind(last)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

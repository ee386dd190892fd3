//! `metric_rollups_daily` and `rollup_dirty_days`: per store, source, metric,
//! store-local day and dimension combination, the sum and count of events; and the
//! days a sync touched, waiting for their rollups to be recomputed.

use chrono::NaiveDate;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// Marks days of a store for recomputation. An unclaimed mark stays as it is; a day
/// a refresh has claimed is marked again (`dirty_again`), so the next refresh
/// recomputes it with what this transaction adds. The claim commits before the
/// refresh recomputes, so this never waits for a recomputation.
pub async fn mark_dirty_days(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    store_id: Uuid,
    days: &[NaiveDate],
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO rollup_dirty_days (org_id, store_id, day) SELECT $1, $2, unnest($3::date[])
         ON CONFLICT (store_id, day) DO UPDATE SET dirty_again = true
         WHERE rollup_dirty_days.claimed_at IS NOT NULL AND NOT rollup_dirty_days.dirty_again",
    )
    .bind(org_id)
    .bind(store_id)
    .bind(days)
    .execute(db)
    .await?;
    Ok(())
}

/// How long a claim keeps other refreshes off its days: longer than any
/// recomputation; a claim this old belongs to a refresh that died.
const CLAIM_EXPIRES_SECS: f64 = 600.0;

/// A refresh's claim on some of a store's dirty days.
#[derive(Debug)]
pub struct DirtyClaim {
    pub days: Vec<NaiveDate>,
    token: Uuid,
}

/// Claims the store's dirty days that no live refresh has claimed. Run it in a
/// transaction of its own and commit before recomputing; [`finish_dirty_days`]
/// in the recomputing transaction removes them.
pub async fn claim_dirty_days(db: impl PgExecutor<'_>, store_id: Uuid) -> sqlx::Result<DirtyClaim> {
    let token = Uuid::new_v4();
    let days: Vec<NaiveDate> = sqlx::query_scalar(
        "UPDATE rollup_dirty_days d SET claim = $3, claimed_at = now(), dirty_again = false
         FROM (SELECT day FROM rollup_dirty_days
               WHERE store_id = $1
                 AND (claimed_at IS NULL OR claimed_at < now() - $2 * interval '1 second')
               FOR UPDATE SKIP LOCKED) free
         WHERE d.store_id = $1 AND d.day = free.day
         RETURNING d.day",
    )
    .bind(store_id)
    .bind(CLAIM_EXPIRES_SECS)
    .bind(token)
    .fetch_all(db)
    .await?;
    Ok(DirtyClaim { days, token })
}

/// With the recomputation: the claimed days are clean, except those marked again
/// meanwhile, which go back to waiting for the next refresh.
pub async fn finish_dirty_days(
    conn: &mut PgConnection,
    store_id: Uuid,
    claim: &DirtyClaim,
) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM rollup_dirty_days
         WHERE store_id = $1 AND day = ANY($2) AND claim = $3 AND NOT dirty_again",
    )
    .bind(store_id)
    .bind(&claim.days)
    .bind(claim.token)
    .execute(&mut *conn)
    .await?;
    release_dirty_days(conn, store_id, claim).await
}

/// Gives claimed days back unclaimed: those marked again after a recomputation,
/// and all of them when a refresh failed.
pub async fn release_dirty_days(
    db: impl PgExecutor<'_>,
    store_id: Uuid,
    claim: &DirtyClaim,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE rollup_dirty_days SET claim = NULL, claimed_at = NULL, dirty_again = false
         WHERE store_id = $1 AND day = ANY($2) AND claim = $3",
    )
    .bind(store_id)
    .bind(&claim.days)
    .bind(claim.token)
    .execute(db)
    .await?;
    Ok(())
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
        // The customer an MRR event names (`entity`) is for the movements only: a
        // rollup row per customer would make the rollups as large as the events.
        "INSERT INTO metric_rollups_daily (org_id, store_id, source, metric_name, day, dimensions, value_sum, event_count)
         SELECT org_id, store_id, source, metric_name, (recorded_at AT TIME ZONE $2)::date AS day,
                dimensions - 'entity', sum(metric_value), count(*)
         FROM metric_events
         WHERE store_id = $1
           AND recorded_at >= ($4::date - 1)::timestamp AT TIME ZONE 'UTC'
           AND recorded_at < ($5::date + 2)::timestamp AT TIME ZONE 'UTC'
           AND (recorded_at AT TIME ZONE $2)::date = ANY($3)
         GROUP BY 1, 2, 3, 4, 5, 6",
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

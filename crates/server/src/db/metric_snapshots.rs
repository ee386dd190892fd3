//! `metric_snapshots` (seed 000): one value per metric definition and day, UPSERTed
//! on `(metric_def_id, captured_on)` from the daily rollups. What a flow, a stock and
//! a ratio are is in `sync::rollups`; these are the statements for each.

use chrono::NaiveDate;
use sqlx::PgExecutor;
use uuid::Uuid;

use super::metric_definitions::Definition;

/// The definition whose snapshots are written, and where its numbers come from.
#[derive(Clone, Copy)]
pub struct Series<'a> {
    pub org_id: Uuid,
    pub store_id: Uuid,
    pub definition: &'a Definition,
    /// The metric whose rollups are read (the definition's own, for a base metric).
    pub metric: &'a str,
}

/// A flow on the given days: the day's sum, zero when nothing is left.
pub async fn upsert_flow(
    db: impl PgExecutor<'_>,
    series: Series<'_>,
    days: &[NaiveDate],
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO metric_snapshots (org_id, metric_def_id, captured_on, value)
         SELECT $3, $2, d.day, coalesce(sum(r.value_sum), 0)
         FROM unnest($4::date[]) AS d(day)
         LEFT JOIN metric_rollups_daily r
           ON r.store_id = $1 AND r.source = $5 AND r.metric_name = $6 AND r.day = d.day AND r.dimensions @> $7
         GROUP BY d.day
         ON CONFLICT (metric_def_id, captured_on) DO UPDATE SET value = excluded.value, updated_at = now()",
    )
    .bind(series.store_id)
    .bind(series.definition.id)
    .bind(series.org_id)
    .bind(days)
    .bind(&series.definition.source)
    .bind(series.metric)
    .bind(&series.definition.filter)
    .execute(db)
    .await?;
    Ok(())
}

/// A stock from `first` to `end`: the running sum of its daily changes.
pub async fn upsert_stock(
    db: impl PgExecutor<'_>,
    series: Series<'_>,
    first: NaiveDate,
    end: NaiveDate,
) -> sqlx::Result<()> {
    sqlx::query(
        "WITH daily AS (
            SELECT r.day, sum(r.value_sum) AS change FROM metric_rollups_daily r
            WHERE r.store_id = $1 AND r.source = $5 AND r.metric_name = $6 AND r.dimensions @> $7 AND r.day <= $8
            GROUP BY r.day),
         opening AS (SELECT coalesce(sum(change), 0) AS level FROM daily WHERE day < $4),
         series AS (
            SELECT d::date AS day,
                   (SELECT level FROM opening)
                     + coalesce(sum(daily.change) OVER (ORDER BY d), 0) AS level
            FROM generate_series($4::date, $8::date, interval '1 day') d
            LEFT JOIN daily ON daily.day = d::date)
         INSERT INTO metric_snapshots (org_id, metric_def_id, captured_on, value)
         SELECT $3, $2, day, level FROM series
         ON CONFLICT (metric_def_id, captured_on) DO UPDATE SET value = excluded.value, updated_at = now()",
    )
    .bind(series.store_id)
    .bind(series.definition.id)
    .bind(series.org_id)
    .bind(first)
    .bind(&series.definition.source)
    .bind(series.metric)
    .bind(&series.definition.filter)
    .bind(end)
    .execute(db)
    .await?;
    Ok(())
}

/// A ratio from `from` to `to`: `series.metric` (the numerator) divided by
/// `denominator`, both summed per day (`kind` `flow`) or running (`stock`); a day
/// whose denominator is zero has no snapshot.
pub async fn upsert_ratio(
    db: impl PgExecutor<'_>,
    series: Series<'_>,
    denominator: &str,
    kind: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<()> {
    sqlx::query(
        "WITH days AS (SELECT d::date AS day FROM generate_series($4::date, $5::date, interval '1 day') d),
         daily AS (
            SELECT r.day, r.metric_name, sum(r.value_sum) AS v FROM metric_rollups_daily r
            WHERE r.store_id = $1 AND r.source = $6 AND r.metric_name IN ($7, $8) AND r.dimensions @> $9
              AND r.day <= $5 AND ($10 = 'stock' OR r.day >= $4)
            GROUP BY r.day, r.metric_name),
         levels AS (
            SELECT days.day,
              CASE WHEN $10 = 'stock'
                THEN (SELECT coalesce(sum(v), 0) FROM daily WHERE daily.metric_name = $7 AND daily.day <= days.day)
                ELSE (SELECT coalesce(sum(v), 0) FROM daily WHERE daily.metric_name = $7 AND daily.day = days.day) END AS num,
              CASE WHEN $10 = 'stock'
                THEN (SELECT coalesce(sum(v), 0) FROM daily WHERE daily.metric_name = $8 AND daily.day <= days.day)
                ELSE (SELECT coalesce(sum(v), 0) FROM daily WHERE daily.metric_name = $8 AND daily.day = days.day) END AS den
            FROM days),
         gone AS (
            DELETE FROM metric_snapshots s USING levels
            WHERE s.metric_def_id = $2 AND s.captured_on = levels.day AND levels.den = 0)
         INSERT INTO metric_snapshots (org_id, metric_def_id, captured_on, value)
         SELECT $3, $2, day, round(num::numeric / den)::bigint FROM levels WHERE den <> 0
         ON CONFLICT (metric_def_id, captured_on) DO UPDATE SET value = excluded.value, updated_at = now()",
    )
    .bind(series.store_id)
    .bind(series.definition.id)
    .bind(series.org_id)
    .bind(from)
    .bind(to)
    .bind(&series.definition.source)
    .bind(series.metric)
    .bind(denominator)
    .bind(&series.definition.filter)
    .bind(kind)
    .execute(db)
    .await?;
    Ok(())
}

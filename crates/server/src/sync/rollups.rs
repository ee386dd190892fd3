//! Daily rollups and metric snapshots, recomputed for the store days a sync touched.
//!
//! Rollups: per store, source, metric, store-local day and dimension combination, the
//! sum and count of events. Snapshots (seed 000): one value per metric definition and
//! day, UPSERTed on (metric_def_id, captured_on). A flow's value is the day's sum; a
//! stock's is the running sum of its daily changes up to that day, so a change on one
//! day moves every later snapshot; a ratio (AOV, ARPU) divides two others, and has no
//! value on a day whose denominator is zero.

use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;
use pulseboard_connectors::{MetricKind, MetricSpec, MetricUnit};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::Database;

/// Recomputes what the dirty days of `store_id` need, in one transaction. Returns the
/// number of days processed. Safe to run concurrently: the dirty rows are claimed.
pub async fn refresh_store(
    db: &Database,
    store_id: Uuid,
    catalog: &(dyn Fn(&str) -> &'static [MetricSpec] + Sync),
) -> sqlx::Result<usize> {
    let mut tx = db.worker_tx().await?;
    let days: Vec<NaiveDate> = sqlx::query_scalar(
        "DELETE FROM rollup_dirty_days WHERE store_id = $1
         AND day IN (SELECT day FROM rollup_dirty_days WHERE store_id = $1 FOR UPDATE SKIP LOCKED)
         RETURNING day",
    )
    .bind(store_id)
    .fetch_all(&mut *tx)
    .await?;
    if days.is_empty() {
        tx.commit().await?;
        return Ok(0);
    }
    let timezone: String = sqlx::query_scalar("SELECT timezone FROM stores WHERE id = $1")
        .bind(store_id)
        .fetch_one(&mut *tx)
        .await?;
    let tz: Tz = timezone.parse().unwrap_or(Tz::UTC);
    recompute_rollups(&mut tx, store_id, &timezone, &days).await?;
    recompute_snapshots(&mut tx, store_id, tz, &days, catalog).await?;
    tx.commit().await?;
    Ok(days.len())
}

async fn recompute_rollups(
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

#[derive(sqlx::FromRow)]
struct Definition {
    id: Uuid,
    source: String,
    metric_name: String,
    filter: serde_json::Value,
}

async fn recompute_snapshots(
    conn: &mut PgConnection,
    store_id: Uuid,
    tz: Tz,
    days: &[NaiveDate],
    catalog: &(dyn Fn(&str) -> &'static [MetricSpec] + Sync),
) -> sqlx::Result<()> {
    let definitions: Vec<Definition> = sqlx::query_as(
        "SELECT id, source, metric_name, filter FROM metric_definitions WHERE store_id = $1",
    )
    .bind(store_id)
    .fetch_all(&mut *conn)
    .await?;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let first = *days.iter().min().expect("non-empty");
    // Stocks change every later day, up to today (or the last dirty day, if later).
    let stock_end = today.max(*days.iter().max().expect("non-empty"));
    let spec_of = |d: &Definition| catalog(&d.source).iter().find(|m| m.id == d.metric_name);

    // Base metrics first, ratios after (they read the others' rollups).
    for definition in &definitions {
        let Some(spec) = spec_of(definition) else {
            continue;
        };
        if spec.ratio_of.is_some() {
            continue;
        }
        upsert_series(
            conn,
            store_id,
            definition,
            &definition.metric_name,
            spec.kind,
            days,
            first,
            stock_end,
        )
        .await?;
    }
    for definition in &definitions {
        let Some(spec) = spec_of(definition) else {
            continue;
        };
        let Some(ratio) = spec.ratio_of else { continue };
        let kind = catalog(&definition.source)
            .iter()
            .find(|m| m.id == ratio.numerator)
            .map_or(MetricKind::Flow, |m| m.kind);
        let (from, to) = match kind {
            MetricKind::Flow => (first, *days.iter().max().expect("non-empty")),
            MetricKind::Stock => (first, stock_end),
        };
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
        .bind(store_id)
        .bind(definition.id)
        .bind(org_of(conn, store_id).await?)
        .bind(from)
        .bind(to)
        .bind(&definition.source)
        .bind(ratio.numerator)
        .bind(ratio.denominator)
        .bind(&definition.filter)
        .bind(match kind {
            MetricKind::Flow => "flow",
            MetricKind::Stock => "stock",
        })
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn org_of(conn: &mut PgConnection, store_id: Uuid) -> sqlx::Result<Uuid> {
    sqlx::query_scalar("SELECT org_id FROM stores WHERE id = $1")
        .bind(store_id)
        .fetch_one(conn)
        .await
}

/// Snapshots of one base metric: flows on the dirty days (zero when nothing is left),
/// stocks as the running level from the first dirty day on.
#[allow(clippy::too_many_arguments)]
async fn upsert_series(
    conn: &mut PgConnection,
    store_id: Uuid,
    definition: &Definition,
    metric: &str,
    kind: MetricKind,
    days: &[NaiveDate],
    first: NaiveDate,
    stock_end: NaiveDate,
) -> sqlx::Result<()> {
    let org_id = org_of(conn, store_id).await?;
    match kind {
        MetricKind::Flow => {
            sqlx::query(
                "INSERT INTO metric_snapshots (org_id, metric_def_id, captured_on, value)
                 SELECT $3, $2, d.day, coalesce(sum(r.value_sum), 0)
                 FROM unnest($4::date[]) AS d(day)
                 LEFT JOIN metric_rollups_daily r
                   ON r.store_id = $1 AND r.source = $5 AND r.metric_name = $6 AND r.day = d.day AND r.dimensions @> $7
                 GROUP BY d.day
                 ON CONFLICT (metric_def_id, captured_on) DO UPDATE SET value = excluded.value, updated_at = now()",
            )
            .bind(store_id)
            .bind(definition.id)
            .bind(org_id)
            .bind(days)
            .bind(&definition.source)
            .bind(metric)
            .bind(&definition.filter)
            .execute(&mut *conn)
            .await?;
        }
        MetricKind::Stock => {
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
            .bind(store_id)
            .bind(definition.id)
            .bind(org_id)
            .bind(first)
            .bind(&definition.source)
            .bind(metric)
            .bind(&definition.filter)
            .bind(stock_end)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// Creates the default definitions for a newly connected provider: one per catalog
/// metric, money ones restricted to the store's currency. Existing ones are kept.
pub async fn ensure_default_definitions(
    conn: &mut PgConnection,
    org_id: Uuid,
    store_id: Uuid,
    source: &str,
    catalog: &[MetricSpec],
) -> sqlx::Result<()> {
    let currency: String = sqlx::query_scalar("SELECT currency FROM stores WHERE id = $1")
        .bind(store_id)
        .fetch_one(&mut *conn)
        .await?;
    for spec in catalog {
        let filter = match (spec.unit, spec.ratio_of) {
            (MetricUnit::CurrencyMinor, None) => serde_json::json!({ "currency": currency }),
            _ => serde_json::json!({}),
        };
        let aggregation = serde_json::to_value(spec.aggregation).expect("serialises");
        let unit = serde_json::to_value(spec.unit).expect("serialises");
        sqlx::query(
            "INSERT INTO metric_definitions (id, org_id, store_id, slug, name, source, metric_name, aggregation, filter, unit, format)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (store_id, slug) DO NOTHING",
        )
        .bind(Uuid::new_v4())
        .bind(org_id)
        .bind(store_id)
        .bind(format!("{source}.{}", spec.id))
        .bind(spec.name)
        .bind(source)
        .bind(spec.id)
        .bind(aggregation.as_str().unwrap_or("sum"))
        .bind(&filter)
        .bind(unit.as_str().unwrap_or("count"))
        .bind(match spec.unit {
            MetricUnit::CurrencyMinor => "currency",
            MetricUnit::Percent => "percent",
            MetricUnit::Count => "number",
        })
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

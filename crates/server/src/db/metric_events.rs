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
) -> sqlx::Result<Vec<String>> {
    if records_at.is_empty() {
        return Ok(vec![]);
    }
    let (ids, times): (Vec<&str>, Vec<DateTime<Utc>>) = records_at.iter().copied().unzip();
    // The customers whose MRR the deleted events moved: their movements are recomputed.
    let customers: Vec<Option<String>> = sqlx::query_scalar(
        "DELETE FROM metric_events e
         USING unnest($3::text[], $4::timestamptz[]) AS k(source_record_id, recorded_at)
         WHERE e.store_id = $1 AND e.recorded_at = k.recorded_at
           AND e.integration_id = $2 AND e.source_record_id = k.source_record_id
         RETURNING CASE WHEN e.metric_name = 'mrr' THEN e.dimensions->>'entity' END",
    )
    .bind(store_id)
    .bind(integration_id)
    .bind(&ids)
    .bind(&times)
    .fetch_all(conn)
    .await?;
    Ok(customers.into_iter().flatten().collect())
}

/// Recomputes the MRR movements (`pulseboard_connectors::movements`) of some
/// customers of one integration from their `mrr` events: per customer and
/// store-local day (in `timezone`), the day's change in their MRR is new (from
/// nothing, the first time), reactivation (from nothing, again), expansion,
/// contraction or churn (to nothing), each also as `mrr_movements` with its kind
/// in the `movement` dimension, with `paying_customers` ±1 and
/// `churned_customers` +1, `lost_mrr` and `retained_mrr_change` beside; each
/// movement is recorded at the day's first
/// change. Replaces the customers' earlier movements (`mrr_movement/{customer}`);
/// returns the instants of the events removed and written, whose days the rollups
/// must recompute. `customers` must be sorted (their locks are taken in that order).
pub async fn recompute_mrr_movements(
    conn: &mut PgConnection,
    origin: (Uuid, Uuid, Uuid, &str),
    timezone: &str,
    customers: &[String],
) -> sqlx::Result<Vec<DateTime<Utc>>> {
    let (org_id, store_id, integration_id, source) = origin;
    if customers.is_empty() {
        return Ok(vec![]);
    }
    // A sync page and a webhook delivery can touch one customer at once: each takes
    // the customer's lock (in the callers' sorted order, so two never deadlock) and
    // holds it to its commit, so the second recomputes from what the first wrote
    // instead of beside it.
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended($1::text || '/mrr/' || c, 0))
         FROM unnest($2::text[]) WITH ORDINALITY AS u(c, n) ORDER BY n",
    )
    .bind(integration_id)
    .bind(customers)
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar(
        "WITH gone AS (
            DELETE FROM metric_events
            WHERE integration_id = $2 AND store_id = $1
              AND source_record_id = ANY(SELECT 'mrr_movement/' || c FROM unnest($4::text[]) c)
            RETURNING recorded_at
         ), daily AS (
            SELECT dimensions->>'entity' AS customer, dimensions->>'currency' AS currency,
                   (recorded_at AT TIME ZONE $3)::date AS day, min(recorded_at) AS at,
                   sum(metric_value) AS delta
            FROM metric_events
            WHERE integration_id = $2 AND metric_name = 'mrr' AND dimensions ? 'entity'
              AND dimensions->>'entity' = ANY($4)
            GROUP BY 1, 2, 3
         ), levels AS (
            SELECT *, sum(delta) OVER (PARTITION BY customer, currency ORDER BY day) AS level
            FROM daily
         ), moves AS (
            SELECT customer, currency, at, level, level - delta AS before,
                   coalesce(bool_or(level > 0) OVER (PARTITION BY customer, currency ORDER BY day
                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), false) AS paid_before
            FROM levels
         ), written AS (
            INSERT INTO metric_events (org_id, store_id, integration_id, source, metric_name,
                                       metric_value, dimensions, recorded_at, source_record_id)
            SELECT $5, $1, $2, $6, x.metric, m.value,
                   jsonb_strip_nulls(jsonb_build_object('currency', currency, 'movement', x.movement)),
                   at, 'mrr_movement/' || customer
            FROM moves, LATERAL (VALUES
                ('mrr_new', CASE WHEN before <= 0 AND level > 0 AND NOT paid_before THEN level END),
                ('mrr_reactivation', CASE WHEN before <= 0 AND level > 0 AND paid_before THEN level END),
                ('mrr_expansion', CASE WHEN before > 0 AND level > before THEN level - before END),
                ('mrr_contraction', CASE WHEN before > 0 AND level > 0 AND level < before THEN level - before END),
                ('mrr_churned', CASE WHEN before > 0 AND level <= 0 THEN -before END),
                ('paying_customers', CASE WHEN before <= 0 AND level > 0 THEN 1
                                          WHEN before > 0 AND level <= 0 THEN -1 END),
                ('churned_customers', CASE WHEN before > 0 AND level <= 0 THEN 1 END),
                -- What the customers paying before the day lost (contraction and churn,
                -- positive) and their net change (expansion, contraction, churn):
                -- the numerators of the revenue churn rates and net revenue retention.
                ('lost_mrr', CASE WHEN before > 0 AND level < before THEN before - greatest(level, 0) END),
                ('retained_mrr_change', CASE WHEN before > 0 AND level <> before THEN greatest(level, 0) - before END)
            ) AS m(metric, value),
            -- Each movement also as `mrr_movements` by `movement` (new, expansion, …):
            -- one metric a chart stacks by that dimension.
            LATERAL (SELECT m.metric, NULL::text
                     UNION ALL
                     SELECT 'mrr_movements', substr(m.metric, 5)
                     WHERE m.metric IN ('mrr_new', 'mrr_expansion', 'mrr_contraction',
                                        'mrr_churned', 'mrr_reactivation')
            ) AS x(metric, movement)
            WHERE m.value IS NOT NULL
            RETURNING recorded_at
         )
         SELECT recorded_at FROM gone UNION ALL SELECT recorded_at FROM written",
    )
    .bind(store_id)
    .bind(integration_id)
    .bind(timezone)
    .bind(customers)
    .bind(org_id)
    .bind(source)
    .fetch_all(conn)
    .await
}

//! `usage_counters`: what each organization used per calendar month (UTC), against
//! its plan's caps.

use sqlx::PgExecutor;
use uuid::Uuid;

/// Adds to this month's event count and returns the new total.
pub async fn add_metric_events(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    events: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO usage_counters (org_id, month, metric_events)
         VALUES ($1, date_trunc('month', now() AT TIME ZONE 'UTC')::date, $2)
         ON CONFLICT (org_id, month) DO UPDATE SET metric_events = usage_counters.metric_events + excluded.metric_events
         RETURNING metric_events",
    )
    .bind(org_id)
    .bind(events)
    .fetch_one(db)
    .await
}

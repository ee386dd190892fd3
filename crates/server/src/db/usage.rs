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

/// An organization's plan and what it uses now.
#[derive(Debug)]
pub struct OrgUsage {
    pub plan: String,
    pub stores: i64,
    /// Integrations that are not disconnected.
    pub integrations: i64,
    /// Metric events stored this calendar month (UTC).
    pub metric_events_this_month: i64,
}

pub async fn of_org(db: impl PgExecutor<'_>, org_id: Uuid) -> sqlx::Result<OrgUsage> {
    let (plan, stores, integrations, metric_events_this_month): (String, i64, i64, i64) =
        sqlx::query_as(
            "SELECT o.plan,
                (SELECT count(*) FROM stores WHERE org_id = o.id),
                (SELECT count(*) FROM integrations WHERE org_id = o.id AND status <> 'disconnected'),
                coalesce((SELECT metric_events FROM usage_counters WHERE org_id = o.id
                          AND month = date_trunc('month', now() AT TIME ZONE 'UTC')::date), 0)
         FROM organizations o WHERE o.id = $1",
        )
        .bind(org_id)
        .fetch_one(db)
        .await?;
    Ok(OrgUsage {
        plan,
        stores,
        integrations,
        metric_events_this_month,
    })
}

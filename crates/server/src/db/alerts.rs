//! Alert rules, their firing history and members' notification preferences.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{types::Json, FromRow, PgConnection, PgExecutor};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::metrics::query::{Filter, Scope};

const COLUMNS: &str = "id, org_id, name, metric, scope, filters, period, kind, threshold, compare_days,
    recipient_user_ids, recipient_emails, slack_channel_id, cooldown_minutes, snoozed_until, enabled,
    dashboard_id, state, state_reason, last_value, last_baseline, last_series, last_evaluated_at,
    last_triggered_at, created_by, created_at, updated_at";

#[derive(Debug, Clone, FromRow)]
pub struct AlertRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub metric: String,
    pub scope: Json<Scope>,
    pub filters: Json<Vec<Filter>>,
    pub period: String,
    pub kind: String,
    pub threshold: f64,
    pub compare_days: i32,
    pub recipient_user_ids: Vec<Uuid>,
    pub recipient_emails: Vec<String>,
    pub slack_channel_id: Option<Uuid>,
    pub cooldown_minutes: i32,
    pub snoozed_until: Option<DateTime<Utc>>,
    pub enabled: bool,
    pub dashboard_id: Option<Uuid>,
    pub state: String,
    pub state_reason: Option<String>,
    pub last_value: Option<i64>,
    pub last_baseline: Option<i64>,
    pub last_series: Option<Json<Vec<Option<i64>>>>,
    pub last_evaluated_at: Option<DateTime<Utc>>,
    pub last_triggered_at: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The fields a user sets.
pub struct AlertFields<'a> {
    pub name: &'a str,
    pub metric: &'a str,
    pub scope: &'a Scope,
    pub filters: &'a [Filter],
    pub period: &'a str,
    pub kind: &'a str,
    pub threshold: f64,
    pub compare_days: i32,
    pub recipient_user_ids: &'a [Uuid],
    pub recipient_emails: &'a [String],
    pub slack_channel_id: Option<Uuid>,
    pub cooldown_minutes: i32,
    pub enabled: bool,
    pub dashboard_id: Option<Uuid>,
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    created_by: Uuid,
    f: &AlertFields<'_>,
) -> sqlx::Result<AlertRow> {
    sqlx::query_as(&format!(
        "INSERT INTO alerts (id, org_id, name, metric, scope, filters, period, kind, threshold, compare_days,
             recipient_user_ids, recipient_emails, slack_channel_id, cooldown_minutes, enabled, dashboard_id, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
         RETURNING {COLUMNS}"
    ))
    .bind(Uuid::new_v4())
    .bind(org_id)
    .bind(f.name)
    .bind(f.metric)
    .bind(Json(f.scope))
    .bind(Json(f.filters))
    .bind(f.period)
    .bind(f.kind)
    .bind(f.threshold)
    .bind(f.compare_days)
    .bind(f.recipient_user_ids)
    .bind(f.recipient_emails)
    .bind(f.slack_channel_id)
    .bind(f.cooldown_minutes)
    .bind(f.enabled)
    .bind(f.dashboard_id)
    .bind(created_by)
    .fetch_one(db)
    .await
}

/// Replaces a rule's settings; its evaluation state starts over (an edited rule may
/// fire again for the current window).
pub async fn update(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    id: Uuid,
    f: &AlertFields<'_>,
) -> sqlx::Result<Option<AlertRow>> {
    sqlx::query_as(&format!(
        "UPDATE alerts SET name = $3, metric = $4, scope = $5, filters = $6, period = $7, kind = $8,
             threshold = $9, compare_days = $10, recipient_user_ids = $11, recipient_emails = $12,
             slack_channel_id = $13, cooldown_minutes = $14, enabled = $15, dashboard_id = $16,
             state = 'pending', state_reason = NULL, updated_at = now()
         WHERE org_id = $1 AND id = $2
         RETURNING {COLUMNS}"
    ))
    .bind(org_id)
    .bind(id)
    .bind(f.name)
    .bind(f.metric)
    .bind(Json(f.scope))
    .bind(Json(f.filters))
    .bind(f.period)
    .bind(f.kind)
    .bind(f.threshold)
    .bind(f.compare_days)
    .bind(f.recipient_user_ids)
    .bind(f.recipient_emails)
    .bind(f.slack_channel_id)
    .bind(f.cooldown_minutes)
    .bind(f.enabled)
    .bind(f.dashboard_id)
    .fetch_optional(db)
    .await
}

pub async fn get(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<AlertRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM alerts WHERE org_id = $1 AND id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn list(db: impl PgExecutor<'_>, org_id: Uuid) -> sqlx::Result<Vec<AlertRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM alerts WHERE org_id = $1 ORDER BY created_at"
    ))
    .bind(org_id)
    .fetch_all(db)
    .await
}

pub async fn delete(db: impl PgExecutor<'_>, org_id: Uuid, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM alerts WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn set_snooze(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    id: Uuid,
    until: Option<DateTime<Utc>>,
) -> sqlx::Result<Option<AlertRow>> {
    sqlx::query_as(&format!(
        "UPDATE alerts SET snoozed_until = $3, updated_at = updated_at WHERE org_id = $1 AND id = $2 RETURNING {COLUMNS}"
    ))
    .bind(org_id)
    .bind(id)
    .bind(until)
    .fetch_optional(db)
    .await
}

/// Every enabled rule of every organization (the evaluator, as the worker role).
pub async fn all_enabled(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<AlertRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM alerts WHERE enabled ORDER BY org_id, created_at"
    ))
    .fetch_all(db)
    .await
}

/// One rule's evaluation, recorded in a batch.
#[derive(Debug, Serialize)]
pub struct Evaluated {
    pub id: Uuid,
    pub state: &'static str,
    pub reason: Option<String>,
    pub value: Option<i64>,
    pub baseline: Option<i64>,
    pub series: Vec<Option<i64>>,
}

/// Records many rules' evaluations in one statement. A rule that fired keeps
/// `triggered` (set with its event); this never moves `last_triggered_at`.
pub async fn record_evaluations(
    db: impl PgExecutor<'_>,
    evaluated: &[Evaluated],
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    if evaluated.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE alerts a SET state = e.state, state_reason = e.reason, last_value = e.value,
             last_baseline = e.baseline, last_series = e.series, last_evaluated_at = $2
         FROM jsonb_to_recordset($1::jsonb)
              AS e(id uuid, state text, reason text, value bigint, baseline bigint, series jsonb)
         WHERE a.id = e.id",
    )
    .bind(Json(evaluated))
    .bind(at)
    .execute(db)
    .await?;
    Ok(())
}

/// The fields that decide, under the row's lock, whether a crossing may still fire.
#[derive(Debug, FromRow)]
pub struct FiringGate {
    pub enabled: bool,
    pub snoozed_until: Option<DateTime<Utc>>,
    pub last_triggered_at: Option<DateTime<Utc>>,
    pub cooldown_minutes: i32,
    pub updated_at: DateTime<Utc>,
}

/// Locks the rule for the rest of the transaction: two passes deciding the same
/// crossing take turns, and the second sees the first's `last_triggered_at`.
pub async fn lock_for_firing(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<FiringGate>> {
    sqlx::query_as(
        "SELECT enabled, snoozed_until, last_triggered_at, cooldown_minutes, updated_at
         FROM alerts WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub struct NewEvent<'a> {
    pub org_id: Uuid,
    pub alert_id: Uuid,
    pub window_key: &'a str,
    pub value: Option<i64>,
    pub baseline: Option<i64>,
    pub message: &'a str,
}

/// The event of a crossing, or `None` when that window already fired.
pub async fn insert_event(conn: &mut PgConnection, e: &NewEvent<'_>) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "INSERT INTO alert_events (id, org_id, alert_id, window_key, value, baseline, message)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (alert_id, window_key) DO NOTHING RETURNING id",
    )
    .bind(Uuid::new_v4())
    .bind(e.org_id)
    .bind(e.alert_id)
    .bind(e.window_key)
    .bind(e.value)
    .bind(e.baseline)
    .bind(e.message)
    .fetch_optional(conn)
    .await
}

pub async fn mark_fired(
    conn: &mut PgConnection,
    id: Uuid,
    event_id: Uuid,
    recipients: i32,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE alerts SET last_triggered_at = $2, state = 'triggered' WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE alert_events SET recipients = $2 WHERE id = $1")
        .bind(event_id)
        .bind(recipients)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct AlertEvent {
    pub id: Uuid,
    pub alert_id: Uuid,
    /// The evaluated window (its last day).
    pub window_key: String,
    pub fired_at: DateTime<Utc>,
    pub value: Option<i64>,
    pub baseline: Option<i64>,
    pub message: String,
    /// How many people and channels it was sent to.
    pub recipients: i32,
}

/// A rule's history, newest first, or every rule's since `since`.
pub async fn events(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    alert_id: Option<Uuid>,
    since: Option<DateTime<Utc>>,
    limit: i64,
) -> sqlx::Result<Vec<AlertEvent>> {
    sqlx::query_as(
        "SELECT id, alert_id, window_key, fired_at, value, baseline, message, recipients
         FROM alert_events
         WHERE org_id = $1 AND ($2::uuid IS NULL OR alert_id = $2) AND ($3::timestamptz IS NULL OR fired_at >= $3)
         ORDER BY fired_at DESC LIMIT $4",
    )
    .bind(org_id)
    .bind(alert_id)
    .bind(since)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// A member who may receive mail, with their choices.
#[derive(Debug, Clone, FromRow)]
pub struct Recipient {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub digest: bool,
    pub digest_everything: bool,
    pub alert_mail: bool,
}

/// The organization's members (all of them, or those named) with their preferences.
pub async fn members(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    only: Option<&[Uuid]>,
) -> sqlx::Result<Vec<Recipient>> {
    sqlx::query_as(
        "SELECT u.id AS user_id, u.email, u.name, m.role,
                coalesce(p.digest, true) AS digest,
                coalesce(p.digest_everything, false) AS digest_everything,
                coalesce(p.alert_mail, true) AS alert_mail
         FROM org_members m JOIN users u ON u.id = m.user_id
         LEFT JOIN notification_preferences p ON p.org_id = m.org_id AND p.user_id = m.user_id
         WHERE m.org_id = $1 AND ($2::uuid[] IS NULL OR m.user_id = ANY($2))
         ORDER BY u.email",
    )
    .bind(org_id)
    .bind(only)
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Preferences {
    /// The weekly digest on Mondays.
    pub digest: bool,
    /// The digest lists every dashboard metric, not only the week's movers.
    pub digest_everything: bool,
    /// Alert emails addressed to me.
    pub alert_mail: bool,
}

pub async fn preferences(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<Preferences> {
    let found: Option<Preferences> = sqlx::query_as(
        "SELECT digest, digest_everything, alert_mail FROM notification_preferences WHERE org_id = $1 AND user_id = $2",
    )
    .bind(org_id)
    .bind(user_id)
    .fetch_optional(db)
    .await?;
    Ok(found.unwrap_or(Preferences {
        digest: true,
        digest_everything: false,
        alert_mail: true,
    }))
}

pub async fn save_preferences(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    user_id: Uuid,
    p: &Preferences,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO notification_preferences (org_id, user_id, digest, digest_everything, alert_mail)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (org_id, user_id) DO UPDATE SET digest = $3, digest_everything = $4, alert_mail = $5, updated_at = now()",
    )
    .bind(org_id)
    .bind(user_id)
    .bind(p.digest)
    .bind(p.digest_everything)
    .bind(p.alert_mail)
    .execute(db)
    .await?;
    Ok(())
}

/// Turns one kind of mail off for a member (one-click unsubscribe).
pub async fn unsubscribe(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    user_id: Uuid,
    digest: bool,
) -> sqlx::Result<()> {
    let column = if digest { "digest" } else { "alert_mail" };
    sqlx::query(&format!(
        "INSERT INTO notification_preferences (org_id, user_id, {column}) VALUES ($1, $2, false)
         ON CONFLICT (org_id, user_id) DO UPDATE SET {column} = false, updated_at = now()"
    ))
    .bind(org_id)
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Removes an outside address from every rule of the organization.
pub async fn remove_address(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    email: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE alerts SET recipient_emails = array_remove(recipient_emails, $2) WHERE org_id = $1",
    )
    .bind(org_id)
    .bind(email)
    .execute(db)
    .await?;
    Ok(())
}

//! Dashboards, their widgets and their share links, plus the organization's data
//! version that keys the dashboards' result cache.
//!
//! Each function takes an executor, so the caller chooses the transaction (and with
//! it the role): the user's RLS transaction for API requests, the worker's for the
//! public share page and background warming.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

use crate::domain::dashboards::{Dashboard, Layout, Share, Widget};

const DASHBOARD_COLUMNS: &str =
    "id, workspace_id, name, description, layout, visibility, template, created_by, created_at, updated_at";
const WIDGET_COLUMNS: &str =
    "id, dashboard_id, type, title, query_config, display_config, size, created_at, updated_at";
const SHARE_COLUMNS: &str = "id, dashboard_id, widget_ids, expires_at, revoked_at, created_at";

pub async fn get(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<Dashboard>> {
    sqlx::query_as(&format!(
        "SELECT {DASHBOARD_COLUMNS} FROM dashboards WHERE org_id = $1 AND id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The dashboards the caller can see, by name.
pub async fn list(db: impl PgExecutor<'_>, org_id: Uuid) -> sqlx::Result<Vec<Dashboard>> {
    sqlx::query_as(&format!(
        "SELECT {DASHBOARD_COLUMNS} FROM dashboards WHERE org_id = $1 ORDER BY name, created_at"
    ))
    .bind(org_id)
    .fetch_all(db)
    .await
}

/// What a new dashboard starts with.
pub struct NewDashboard<'a> {
    pub org_id: Uuid,
    pub workspace_id: Uuid,
    pub name: &'a str,
    pub description: &'a str,
    pub layout: &'a Layout,
    pub visibility: &'a str,
    /// The built-in template it was made from, if any.
    pub template: Option<&'a str>,
    pub created_by: Uuid,
}

pub async fn create(db: impl PgExecutor<'_>, new: &NewDashboard<'_>) -> sqlx::Result<Dashboard> {
    sqlx::query_as(&format!(
        "INSERT INTO dashboards (id, org_id, workspace_id, name, description, layout, visibility, template, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {DASHBOARD_COLUMNS}"
    ))
    .bind(Uuid::new_v4())
    .bind(new.org_id)
    .bind(new.workspace_id)
    .bind(new.name)
    .bind(new.description)
    .bind(sqlx::types::Json(new.layout))
    .bind(new.visibility)
    .bind(new.template)
    .bind(new.created_by)
    .fetch_one(db)
    .await
}

/// Saves a dashboard's name, description, layout and visibility. `None` when the
/// caller may see the dashboard but not change it (RLS hides the row from UPDATE).
pub async fn update(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    dashboard: &Dashboard,
) -> sqlx::Result<Option<Dashboard>> {
    sqlx::query_as(&format!(
        "UPDATE dashboards SET name = $3, description = $4, layout = $5, visibility = $6, updated_at = now()
         WHERE org_id = $1 AND id = $2 RETURNING {DASHBOARD_COLUMNS}"
    ))
    .bind(org_id)
    .bind(dashboard.id)
    .bind(&dashboard.name)
    .bind(&dashboard.description)
    .bind(&dashboard.layout)
    .bind(&dashboard.visibility)
    .fetch_optional(db)
    .await
}

/// Saves a dashboard's layout alone; `None` as for [`update`].
pub async fn set_layout(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    id: Uuid,
    layout: &Layout,
) -> sqlx::Result<Option<Dashboard>> {
    sqlx::query_as(&format!(
        "UPDATE dashboards SET layout = $3, updated_at = now() WHERE org_id = $1 AND id = $2 RETURNING {DASHBOARD_COLUMNS}"
    ))
    .bind(org_id)
    .bind(id)
    .bind(sqlx::types::Json(layout))
    .fetch_optional(db)
    .await
}

/// Deletes a dashboard (its widgets and shares go with it); false if no row was.
pub async fn delete(db: impl PgExecutor<'_>, org_id: Uuid, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM dashboards WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// A dashboard's widgets in creation order (the layout's order is the caller's to apply).
pub async fn list_widgets(
    db: impl PgExecutor<'_>,
    dashboard_id: Uuid,
) -> sqlx::Result<Vec<Widget>> {
    sqlx::query_as(&format!(
        "SELECT {WIDGET_COLUMNS} FROM widgets WHERE dashboard_id = $1 ORDER BY created_at"
    ))
    .bind(dashboard_id)
    .fetch_all(db)
    .await
}

pub async fn get_widget(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    dashboard_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<Widget>> {
    sqlx::query_as(&format!(
        "SELECT {WIDGET_COLUMNS} FROM widgets WHERE org_id = $1 AND dashboard_id = $2 AND id = $3"
    ))
    .bind(org_id)
    .bind(dashboard_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// What a new widget is made of (its place in the layout is saved separately).
pub struct NewWidget<'a> {
    pub org_id: Uuid,
    pub dashboard_id: Uuid,
    pub kind: &'a str,
    pub title: &'a str,
    pub query: &'a Value,
    pub display: &'a Value,
    pub size: &'a str,
}

pub async fn create_widget(db: impl PgExecutor<'_>, new: &NewWidget<'_>) -> sqlx::Result<Widget> {
    sqlx::query_as(&format!(
        "INSERT INTO widgets (id, org_id, dashboard_id, type, title, query_config, display_config, size)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {WIDGET_COLUMNS}"
    ))
    .bind(Uuid::new_v4())
    .bind(new.org_id)
    .bind(new.dashboard_id)
    .bind(new.kind)
    .bind(new.title)
    .bind(new.query)
    .bind(new.display)
    .bind(new.size)
    .fetch_one(db)
    .await
}

/// Saves a widget's title, query, display and size; `None` when the caller may see
/// it but not change it.
pub async fn update_widget(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    widget: &Widget,
) -> sqlx::Result<Option<Widget>> {
    sqlx::query_as(&format!(
        "UPDATE widgets SET title = $3, query_config = $4, display_config = $5, size = $6, updated_at = now()
         WHERE org_id = $1 AND id = $2 RETURNING {WIDGET_COLUMNS}"
    ))
    .bind(org_id)
    .bind(widget.id)
    .bind(&widget.title)
    .bind(&widget.query_config)
    .bind(&widget.display_config)
    .bind(&widget.size)
    .fetch_optional(db)
    .await
}

/// Deletes a widget (not its place in the layout); false if no row was.
pub async fn delete_widget(db: impl PgExecutor<'_>, org_id: Uuid, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM widgets WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// A dashboard's share links, newest first, revoked and expired ones included.
pub async fn list_shares(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    dashboard_id: Uuid,
) -> sqlx::Result<Vec<Share>> {
    sqlx::query_as(&format!(
        "SELECT {SHARE_COLUMNS} FROM dashboard_shares WHERE org_id = $1 AND dashboard_id = $2 ORDER BY created_at DESC"
    ))
    .bind(org_id)
    .bind(dashboard_id)
    .fetch_all(db)
    .await
}

/// A new share link; only the token's hash is stored.
pub struct NewShare<'a> {
    pub org_id: Uuid,
    pub dashboard_id: Uuid,
    pub token_hash: &'a [u8],
    pub widget_ids: Option<&'a [Uuid]>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
}

pub async fn create_share(db: impl PgExecutor<'_>, new: &NewShare<'_>) -> sqlx::Result<Share> {
    sqlx::query_as(&format!(
        "INSERT INTO dashboard_shares (id, org_id, dashboard_id, token_hash, widget_ids, expires_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {SHARE_COLUMNS}"
    ))
    .bind(Uuid::new_v4())
    .bind(new.org_id)
    .bind(new.dashboard_id)
    .bind(new.token_hash)
    .bind(new.widget_ids)
    .bind(new.expires_at)
    .bind(new.created_by)
    .fetch_one(db)
    .await
}

/// Revokes a share link (revoking twice keeps the first time); false if there is no
/// such link on that dashboard.
pub async fn revoke_share(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    dashboard_id: Uuid,
    id: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE dashboard_shares SET revoked_at = coalesce(revoked_at, now())
         WHERE org_id = $1 AND dashboard_id = $2 AND id = $3",
    )
    .bind(org_id)
    .bind(dashboard_id)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// What a share link's token opens.
#[derive(Debug, FromRow)]
pub struct ShareTarget {
    pub id: Uuid,
    pub org_id: Uuid,
    pub dashboard_id: Uuid,
    /// Only these widgets are shown; `None` for all.
    pub widget_ids: Option<Vec<Uuid>>,
}

/// The live (neither revoked nor expired) share link with this token hash. Runs as
/// the worker role: the caller is anonymous, so no policy can scope this read.
pub async fn find_live_share(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> sqlx::Result<Option<ShareTarget>> {
    sqlx::query_as(
        "SELECT id, org_id, dashboard_id, widget_ids FROM dashboard_shares
         WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// The widget subset of a share link if it is still live on that dashboard:
/// `None` for a revoked, expired or unknown link, `Some(None)` for "every widget".
pub async fn live_share_widgets(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    dashboard_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<Option<Vec<Uuid>>>> {
    sqlx::query_scalar(
        "SELECT widget_ids FROM dashboard_shares
         WHERE id = $1 AND org_id = $2 AND dashboard_id = $3 AND revoked_at IS NULL
           AND (expires_at IS NULL OR expires_at > now())",
    )
    .bind(id)
    .bind(org_id)
    .bind(dashboard_id)
    .fetch_optional(db)
    .await
}

/// The organization's data version: `organizations.data_changed_at` (moved by
/// triggers whenever an integration connects, disconnects or changes status, or a
/// store changes) with the sum of its integrations' `last_synced_at` (which only
/// ever grows, so any finished sync changes it, even two finishing out of order).
/// `None` for an organization the caller cannot see.
pub async fn data_version(db: impl PgExecutor<'_>, org_id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT (extract(epoch FROM o.data_changed_at) * 1e6)::int8::text || '.' ||
                coalesce((SELECT sum((extract(epoch FROM i.last_synced_at) * 1e6)::int8)
                          FROM integrations i WHERE i.org_id = o.id), 0)::text
         FROM organizations o WHERE o.id = $1",
    )
    .bind(org_id)
    .fetch_optional(db)
    .await
}

//! Stores: the businesses being measured, each with its currency and time zone.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgExecutor};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct Store {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    /// ISO 4217 code; money for this store is in its minor units.
    pub currency: String,
    /// IANA zone; daily numbers are days in this zone.
    pub timezone: String,
    pub created_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT id, workspace_id, name, currency, timezone, created_at FROM stores";

/// Stores the caller can see, optionally in one workspace.
pub async fn list(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    workspace_id: Option<Uuid>,
) -> sqlx::Result<Vec<Store>> {
    sqlx::query_as(&format!(
        "{SELECT} WHERE org_id = $1 AND ($2::uuid IS NULL OR workspace_id = $2) ORDER BY name, created_at"
    ))
    .bind(org_id)
    .bind(workspace_id)
    .fetch_all(db)
    .await
}

pub async fn get(db: impl PgExecutor<'_>, org_id: Uuid, id: Uuid) -> sqlx::Result<Option<Store>> {
    sqlx::query_as(&format!("{SELECT} WHERE org_id = $1 AND id = $2"))
        .bind(org_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn create(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    workspace_id: Uuid,
    name: &str,
    currency: &str,
    timezone: &str,
) -> sqlx::Result<Store> {
    sqlx::query_as(
        "INSERT INTO stores (id, org_id, workspace_id, name, currency, timezone) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, workspace_id, name, currency, timezone, created_at",
    )
    .bind(Uuid::new_v4())
    .bind(org_id)
    .bind(workspace_id)
    .bind(name)
    .bind(currency)
    .bind(timezone)
    .fetch_one(db)
    .await
}

/// Applies the given changes; `None` keeps a value.
pub async fn update(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    id: Uuid,
    name: Option<&str>,
    currency: Option<&str>,
    timezone: Option<&str>,
) -> sqlx::Result<Option<Store>> {
    sqlx::query_as(
        "UPDATE stores SET name = coalesce($3, name), currency = coalesce($4, currency), timezone = coalesce($5, timezone)
         WHERE org_id = $1 AND id = $2
         RETURNING id, workspace_id, name, currency, timezone, created_at",
    )
    .bind(org_id)
    .bind(id)
    .bind(name)
    .bind(currency)
    .bind(timezone)
    .fetch_optional(db)
    .await
}

pub async fn delete(db: impl PgExecutor<'_>, org_id: Uuid, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM stores WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A store's IANA time zone (worker role: no org scope).
pub async fn timezone(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<String> {
    sqlx::query_scalar("SELECT timezone FROM stores WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await
}

/// A store's ISO 4217 currency code (worker role: no org scope).
pub async fn currency(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<String> {
    sqlx::query_scalar("SELECT currency FROM stores WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await
}

/// The organization a store belongs to (worker role: no org scope).
pub async fn org_id(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Uuid> {
    sqlx::query_scalar("SELECT org_id FROM stores WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await
}

//! Integrations (a provider account connected to a store) and their encrypted credentials.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgExecutor};
use utoipa::ToSchema;
use uuid::Uuid;

/// An integration as the API shows it: never any credential material.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Integration {
    pub id: Uuid,
    pub store_id: Uuid,
    pub provider: String,
    /// `oauth` or `api_key`.
    pub auth_kind: String,
    pub external_account_id: String,
    pub account_label: String,
    /// `active`, `syncing`, `error`, `reauth_required` or `disconnected`.
    pub status: String,
    pub cadence_minutes: i32,
    /// When the access token expires (refreshed 5 minutes before).
    pub expires_at: Option<DateTime<Utc>>,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub sync_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The integration's options, by the names its provider's `options` fields
    /// declare (`{}` when none are set).
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    pub options: serde_json::Value,
    /// Today's share of the provider's daily call budget for this account, shared
    /// with every integration reading it (Clarity's 10 export calls per project);
    /// absent for providers without one.
    #[sqlx(skip)]
    pub call_budget: Option<CallBudgetView>,
}

/// Where an account's daily call budget stands today (UTC).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallBudgetView {
    pub limit: i32,
    pub used: i32,
    /// `limit - used`, never below 0.
    pub remaining: i32,
    /// What a call is ("export calls").
    pub unit: String,
    /// When the day's budget resets: the next midnight UTC.
    pub resets_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, store_id, provider, auth_kind, external_account_id, account_label, status, \
                       cadence_minutes, expires_at, last_synced_at, sync_error, created_at, options";

pub async fn list(db: impl PgExecutor<'_>, org_id: Uuid) -> sqlx::Result<Vec<Integration>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM integrations WHERE org_id = $1 ORDER BY created_at"
    ))
    .bind(org_id)
    .fetch_all(db)
    .await
}

pub async fn get(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<Integration>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM integrations WHERE org_id = $1 AND id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Everything needed to record a successful connection.
pub struct Connected<'a> {
    pub org_id: Uuid,
    pub store_id: Uuid,
    pub provider: &'a str,
    pub auth_kind: &'a str,
    pub external_account_id: &'a str,
    pub account_label: &'a str,
    pub cadence_minutes: i32,
    pub expires_at: Option<DateTime<Utc>>,
    pub connected_by: Uuid,
    /// `active`, or `choosing_account` while the user picks the account after consent.
    pub status: &'a str,
}

/// Creates the integration, or brings the existing one for the same account back to
/// `active` (reconnect). Returns its id. Worker role: credentials are written alongside.
pub async fn upsert_connected(db: impl PgExecutor<'_>, c: Connected<'_>) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "INSERT INTO integrations (id, org_id, store_id, provider, auth_kind, external_account_id, account_label,
                                   cadence_minutes, expires_at, connected_by, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (org_id, store_id, provider, external_account_id) DO UPDATE
         SET auth_kind = excluded.auth_kind, account_label = excluded.account_label, expires_at = excluded.expires_at,
             connected_by = excluded.connected_by, status = excluded.status, sync_error = NULL, updated_at = now()
         RETURNING id",
    )
    .bind(Uuid::new_v4())
    .bind(c.org_id)
    .bind(c.store_id)
    .bind(c.provider)
    .bind(c.auth_kind)
    .bind(c.external_account_id)
    .bind(c.account_label)
    .bind(c.cadence_minutes)
    .bind(c.expires_at)
    .bind(c.connected_by)
    .bind(c.status)
    .fetch_one(db)
    .await
}

/// Sets the account a `choosing_account` integration reads (the user's pick) and
/// makes it active; `None` when it is not waiting for a pick. Another integration of
/// the same store and account is a conflict (`integrations_org_id_store_id_provider_external_account_id_key`).
pub async fn choose_account(
    db: impl PgExecutor<'_>,
    id: Uuid,
    external_account_id: &str,
    account_label: &str,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "UPDATE integrations SET external_account_id = $2, account_label = $3, status = 'active',
                sync_error = NULL, updated_at = now()
         WHERE id = $1 AND status = 'choosing_account'
         RETURNING id",
    )
    .bind(id)
    .bind(external_account_id)
    .bind(account_label)
    .fetch_optional(db)
    .await
}

pub async fn set_status(
    db: impl PgExecutor<'_>,
    id: Uuid,
    status: &str,
    sync_error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE integrations SET status = $2, sync_error = $3, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(sync_error)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_expires_at(
    db: impl PgExecutor<'_>,
    id: Uuid,
    expires_at: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE integrations SET expires_at = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(expires_at)
        .execute(db)
        .await?;
    Ok(())
}

/// Changes how often the integration is synced.
pub async fn set_cadence(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    id: Uuid,
    minutes: i32,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE integrations SET cadence_minutes = $3, updated_at = now() WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .bind(minutes)
        .execute(db)
        .await?;
    Ok(())
}

/// Replaces the integration's options (already validated by its provider).
pub async fn set_options(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    id: Uuid,
    options: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE integrations SET options = $3, updated_at = now() WHERE org_id = $1 AND id = $2",
    )
    .bind(org_id)
    .bind(id)
    .bind(options)
    .execute(db)
    .await?;
    Ok(())
}

/// The providers of the organization's integrations that are not disconnected, by id.
pub async fn connected_providers(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT DISTINCT provider FROM integrations WHERE org_id = $1 AND status <> 'disconnected' ORDER BY provider",
    )
    .bind(org_id)
    .fetch_all(db)
    .await
}

/// What a sync job needs to know about its integration and store.
#[derive(Debug, FromRow)]
pub struct SyncSubject {
    pub org_id: Uuid,
    pub store_id: Uuid,
    pub provider: String,
    pub status: String,
    pub external_account_id: String,
    pub timezone: String,
    pub options: serde_json::Value,
    /// The provider's sync version its stored data comes from.
    pub sync_version: i32,
}

pub async fn sync_subject(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<SyncSubject> {
    sqlx::query_as(
        "SELECT i.org_id, i.store_id, i.provider, i.status, i.external_account_id, s.timezone, i.options,
                i.sync_version
         FROM integrations i JOIN stores s ON s.id = i.store_id WHERE i.id = $1",
    )
    .bind(id)
    .fetch_one(db)
    .await
}

/// Starts the integration's streams over for a newer version of its provider's sync:
/// every cursor forgotten, the version recorded, in one transaction (so a backfill
/// that fails half-way resumes instead of starting over again).
pub async fn start_over_for_version(
    conn: &mut PgConnection,
    id: Uuid,
    version: i32,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sync_cursors WHERE integration_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE integrations SET sync_version = $2 WHERE id = $1")
        .bind(id)
        .bind(version)
        .execute(conn)
        .await?;
    Ok(())
}

/// Successful syncs: each integration is fresh, and back to `active` if it was in
/// `error` or `syncing`. The fresher `last_synced_at` moves the organization's data
/// version by itself (`db::dashboards::data_version`), so finishing a batch of syncs
/// takes no lock on the organizations they belong to.
pub async fn record_sync_success(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    // The status trigger fires only for the rare rows whose status really changes.
    sqlx::query(
        "UPDATE integrations SET last_synced_at = now(), sync_error = NULL, updated_at = now(),
                status = CASE WHEN status IN ('error', 'syncing') THEN 'active' ELSE status END
         WHERE id = ANY($1)",
    )
    .bind(ids)
    .execute(conn)
    .await?;
    Ok(())
}

/// A sync that failed for good: the integration shows why, and an active one goes to
/// `error` (unless the failure was the plan's limit, `code` `plan_limit`).
pub async fn record_sync_failure(
    db: impl PgExecutor<'_>,
    id: Uuid,
    message: &str,
    code: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE integrations SET sync_error = $2, updated_at = now(),
                status = CASE WHEN status = 'active' AND $3 <> 'plan_limit' THEN 'error' ELSE status END
         WHERE id = $1",
    )
    .bind(id)
    .bind(message)
    .bind(code)
    .execute(db)
    .await?;
    Ok(())
}

/// What refreshing an integration's access token needs to know.
#[derive(Debug, FromRow)]
pub struct TokenState {
    pub org_id: Uuid,
    pub provider: String,
    pub external_account_id: String,
    pub account_label: String,
    pub status: String,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn token_state(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<TokenState>> {
    sqlx::query_as(
        "SELECT org_id, provider, external_account_id, account_label, status, expires_at
         FROM integrations WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// [`token_state`] of an integration that must exist, locking its row.
pub async fn lock_token_state(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<TokenState> {
    sqlx::query_as::<_, TokenState>(
        "SELECT org_id, provider, external_account_id, account_label, status, expires_at
         FROM integrations WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_one(db)
    .await
}

/// Waits for this integration's token-refresh lock (a transaction-scoped advisory
/// lock: one refresh at a time across processes; released at commit).
pub async fn lock_token_refresh(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended('pulseboard.refresh.' || $1::text, 0))",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Stores one encrypted credential field (worker role only).
pub async fn put_credential(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    integration_id: Uuid,
    field: &str,
    key_id: &str,
    ciphertext: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO integration_credentials (org_id, integration_id, field, key_id, ciphertext)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (integration_id, field) DO UPDATE
         SET key_id = excluded.key_id, ciphertext = excluded.ciphertext, updated_at = now()",
    )
    .bind(org_id)
    .bind(integration_id)
    .bind(field)
    .bind(key_id)
    .bind(ciphertext)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn get_credential(
    db: impl PgExecutor<'_>,
    integration_id: Uuid,
    field: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT ciphertext FROM integration_credentials WHERE integration_id = $1 AND field = $2",
    )
    .bind(integration_id)
    .bind(field)
    .fetch_optional(db)
    .await
}

pub async fn delete_credential(
    db: impl PgExecutor<'_>,
    integration_id: Uuid,
    field: &str,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM integration_credentials WHERE integration_id = $1 AND field = $2")
        .bind(integration_id)
        .bind(field)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn delete_credentials(db: impl PgExecutor<'_>, integration_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM integration_credentials WHERE integration_id = $1")
        .bind(integration_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Replaces a stored credential's ciphertext and key (re-encryption; worker role only).
pub async fn rekey_credential(
    db: impl PgExecutor<'_>,
    integration_id: Uuid,
    field: &str,
    key_id: &str,
    ciphertext: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE integration_credentials SET key_id = $3, ciphertext = $4, updated_at = now() WHERE integration_id = $1 AND field = $2")
        .bind(integration_id)
        .bind(field)
        .bind(key_id)
        .bind(ciphertext)
        .execute(db)
        .await?;
    Ok(())
}

/// Every credential not yet under `active_key` (for `pulseboard keys rotate`).
#[derive(Debug, FromRow)]
pub struct StoredCredential {
    pub integration_id: Uuid,
    pub field: String,
    pub ciphertext: String,
}

pub async fn credentials_not_under(
    db: impl PgExecutor<'_>,
    active_key: &str,
) -> sqlx::Result<Vec<StoredCredential>> {
    sqlx::query_as(
        "SELECT integration_id, field, ciphertext FROM integration_credentials WHERE key_id <> $1",
    )
    .bind(active_key)
    .fetch_all(db)
    .await
}

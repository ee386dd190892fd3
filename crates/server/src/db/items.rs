//! `items`: the source records widgets show as themselves (reviews, experiments),
//! written by the sync sink from connectors' `Derive::items`.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// Where the items of one sync page come from.
pub struct Origin<'a> {
    pub org_id: Uuid,
    pub store_id: Uuid,
    pub integration_id: Uuid,
    pub provider: &'a str,
}

/// The items of some source records, as parallel columns with each `(kind, id)` at
/// most once.
pub struct Rows<'a> {
    pub kinds: &'a [&'a str],
    pub ids: &'a [&'a str],
    pub sources: &'a [&'a str],
    pub occurred: &'a [DateTime<Utc>],
    pub data: &'a [Value],
}

/// Replaces the items of the records `written` (their `source_record_id`s) with
/// `rows`: an item a record no longer gives is removed, the others upserted.
pub async fn replace(
    conn: &mut PgConnection,
    origin: &Origin<'_>,
    written: &[&str],
    rows: &Rows<'_>,
) -> sqlx::Result<()> {
    if written.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "DELETE FROM items WHERE integration_id = $1 AND source_record_id = ANY($2)
           AND (kind, item_id) NOT IN (SELECT * FROM unnest($3::text[], $4::text[]))",
    )
    .bind(origin.integration_id)
    .bind(written)
    .bind(rows.kinds)
    .bind(rows.ids)
    .execute(&mut *conn)
    .await?;
    if rows.kinds.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO items (org_id, store_id, integration_id, provider, kind, item_id, source_record_id, occurred_at, data)
         SELECT $1, $2, $3, $4, k, i, s, o, d
         FROM unnest($5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::jsonb[]) AS x(k, i, s, o, d)
         ON CONFLICT (integration_id, kind, item_id) DO UPDATE
            SET occurred_at = excluded.occurred_at, data = excluded.data,
                source_record_id = excluded.source_record_id, updated_at = now()
          WHERE items.data IS DISTINCT FROM excluded.data OR items.occurred_at <> excluded.occurred_at",
    )
    .bind(origin.org_id)
    .bind(origin.store_id)
    .bind(origin.integration_id)
    .bind(origin.provider)
    .bind(rows.kinds)
    .bind(rows.ids)
    .bind(rows.sources)
    .bind(rows.occurred)
    .bind(rows.data)
    .execute(conn)
    .await?;
    Ok(())
}

/// One stored item as a widget reads it.
#[derive(Debug, sqlx::FromRow)]
pub struct StoredItem {
    pub provider: String,
    pub store_id: Uuid,
    pub data: Value,
}

/// The stores of a widget's scope: these stores, or those of these workspaces.
const SCOPE_STORES: &str =
    "SELECT id FROM stores WHERE org_id = $1 AND (id = ANY($2) OR workspace_id = ANY($3))";

/// The newest items of a kind in the scope's stores, newest first. An item must
/// contain one of `filters` (jsonb containment: `{"rating": 5}`); pass `[{}]` for all.
pub async fn latest(
    conn: &mut PgConnection,
    org_id: Uuid,
    (store_ids, workspace_ids): (&[Uuid], &[Uuid]),
    kind: &str,
    filters: &[Value],
    limit: i64,
) -> sqlx::Result<Vec<StoredItem>> {
    sqlx::query_as(&format!(
        "SELECT provider, store_id, data FROM items
         WHERE org_id = $1 AND store_id IN ({SCOPE_STORES}) AND kind = $4
           AND EXISTS (SELECT 1 FROM unnest($5::jsonb[]) f WHERE data @> f)
         ORDER BY occurred_at DESC, item_id
         LIMIT $6"
    ))
    .bind(org_id)
    .bind(store_ids)
    .bind(workspace_ids)
    .bind(kind)
    .bind(filters)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// How many stores the scope names that exist (and the caller may see).
pub async fn stores_in_scope(
    conn: &mut PgConnection,
    org_id: Uuid,
    (store_ids, workspace_ids): (&[Uuid], &[Uuid]),
) -> sqlx::Result<i64> {
    sqlx::query_scalar(&format!("SELECT count(*) FROM ({SCOPE_STORES}) s"))
        .bind(org_id)
        .bind(store_ids)
        .bind(workspace_ids)
        .fetch_one(conn)
        .await
}

/// Whether a store of the scope has a (not disconnected) integration of `provider`.
pub async fn connected(
    conn: &mut PgConnection,
    org_id: Uuid,
    (store_ids, workspace_ids): (&[Uuid], &[Uuid]),
    provider: &str,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(&format!(
        "SELECT EXISTS (SELECT 1 FROM integrations
                         WHERE org_id = $1 AND store_id IN ({SCOPE_STORES}) AND provider = $4
                           AND status <> 'disconnected')"
    ))
    .bind(org_id)
    .bind(store_ids)
    .bind(workspace_ids)
    .bind(provider)
    .fetch_one(conn)
    .await
}

//! `metric_definitions`: the metrics a store tracks (a provider's metric, filtered by
//! dimensions), each with its daily snapshots.

use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// What recomputing a definition's snapshots needs.
#[derive(Debug, FromRow)]
pub struct Definition {
    pub id: Uuid,
    pub source: String,
    pub metric_name: String,
    pub filter: serde_json::Value,
}

pub async fn list_for_store(
    db: impl PgExecutor<'_>,
    store_id: Uuid,
) -> sqlx::Result<Vec<Definition>> {
    sqlx::query_as(
        "SELECT id, source, metric_name, filter FROM metric_definitions WHERE store_id = $1",
    )
    .bind(store_id)
    .fetch_all(db)
    .await
}

/// A definition to create unless the store has one with its slug.
pub struct NewDefinition<'a> {
    pub org_id: Uuid,
    pub store_id: Uuid,
    pub slug: &'a str,
    pub name: &'a str,
    pub source: &'a str,
    pub metric_name: &'a str,
    pub aggregation: &'a str,
    pub filter: &'a serde_json::Value,
    pub unit: &'a str,
    pub format: &'a str,
}

/// Creates the definition; an existing one with the same slug is kept as it is.
pub async fn insert_unless_exists(
    db: impl PgExecutor<'_>,
    new: &NewDefinition<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO metric_definitions (id, org_id, store_id, slug, name, source, metric_name, aggregation, filter, unit, format)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (store_id, slug) DO NOTHING",
    )
    .bind(Uuid::new_v4())
    .bind(new.org_id)
    .bind(new.store_id)
    .bind(new.slug)
    .bind(new.name)
    .bind(new.source)
    .bind(new.metric_name)
    .bind(new.aggregation)
    .bind(new.filter)
    .bind(new.unit)
    .bind(new.format)
    .execute(db)
    .await?;
    Ok(())
}

//! `dimension_labels`: the names providers give dimension values (a product id's title).

use sqlx::PgExecutor;
use uuid::Uuid;

/// Upserts names of dimension values, given as parallel columns with each
/// `(dimension, value)` at most once; an unchanged name is not rewritten.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    store_id: Uuid,
    dimensions: &[&str],
    values: &[&str],
    labels: &[&str],
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO dimension_labels (org_id, store_id, dimension, value, label)
         SELECT $1, $2, d, v, l FROM unnest($3::text[], $4::text[], $5::text[]) AS x(d, v, l)
         ON CONFLICT (store_id, dimension, value) DO UPDATE SET label = excluded.label, updated_at = now()
         WHERE dimension_labels.label <> excluded.label",
    )
    .bind(org_id)
    .bind(store_id)
    .bind(dimensions)
    .bind(values)
    .bind(labels)
    .execute(db)
    .await?;
    Ok(())
}

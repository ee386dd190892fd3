//! Daily rollups and metric snapshots, recomputed for the store days a sync touched.
//!
//! Rollups: per store, source, metric, store-local day and dimension combination, the
//! sum and count of events. Snapshots (seed 000): one value per metric definition and
//! day, UPSERTed on (metric_def_id, captured_on). A flow's value is the day's sum; a
//! stock's is the running sum of its daily changes up to that day, so a change on one
//! day moves every later snapshot; a ratio (AOV, ARPU) divides two others, and has no
//! value on a day whose denominator is zero.

use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;
use pulseboard_connectors::{MetricKind, MetricSpec, MetricUnit};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::{
    self,
    metric_definitions::{Definition, NewDefinition},
    metric_snapshots::Series,
    Database,
};

/// Recomputes what the dirty days of `store_id` need, in one transaction. Returns the
/// number of days processed. Safe to run concurrently: the dirty rows are claimed.
pub async fn refresh_store(
    db: &Database,
    store_id: Uuid,
    catalog: &(dyn Fn(&str) -> &'static [MetricSpec] + Sync),
) -> sqlx::Result<usize> {
    // The claim commits at once: marking a day dirty never waits for a recomputation.
    let mut tx = db.worker_tx().await?;
    let claim = crate::db::rollups::claim_dirty_days(&mut *tx, store_id).await?;
    tx.commit().await?;
    if claim.days.is_empty() {
        return Ok(0);
    }
    let recomputed = async {
        let mut tx = db.worker_tx().await?;
        let timezone = crate::db::stores::timezone(&mut *tx, store_id).await?;
        let tz: Tz = timezone.parse().unwrap_or(Tz::UTC);
        crate::db::rollups::recompute_days(&mut tx, store_id, &timezone, &claim.days).await?;
        recompute_snapshots(&mut tx, store_id, tz, &claim.days, catalog).await?;
        crate::db::rollups::finish_dirty_days(&mut tx, store_id, &claim).await?;
        tx.commit().await
    }
    .await;
    if let Err(error) = recomputed {
        // Give the days back for the next refresh; if even that fails, the claim
        // expires on its own.
        if let Ok(mut tx) = db.worker_tx().await {
            if crate::db::rollups::release_dirty_days(&mut *tx, store_id, &claim)
                .await
                .is_ok()
            {
                let _ = tx.commit().await;
            }
        }
        return Err(error);
    }
    Ok(claim.days.len())
}

async fn recompute_snapshots(
    conn: &mut PgConnection,
    store_id: Uuid,
    tz: Tz,
    days: &[NaiveDate],
    catalog: &(dyn Fn(&str) -> &'static [MetricSpec] + Sync),
) -> sqlx::Result<()> {
    let definitions = db::metric_definitions::list_for_store(&mut *conn, store_id).await?;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let first = *days.iter().min().expect("non-empty");
    // Stocks change every later day, up to today (or the last dirty day, if later).
    let stock_end = today.max(*days.iter().max().expect("non-empty"));
    let spec_of = |d: &Definition| catalog(&d.source).iter().find(|m| m.id == d.metric_name);

    // Base metrics first, ratios after (they read the others' rollups).
    for definition in &definitions {
        let Some(spec) = spec_of(definition) else {
            continue;
        };
        if spec.ratio_of.is_some() {
            continue;
        }
        upsert_series(
            conn,
            store_id,
            definition,
            &definition.metric_name,
            spec.kind,
            days,
            first,
            stock_end,
        )
        .await?;
    }
    for definition in &definitions {
        let Some(spec) = spec_of(definition) else {
            continue;
        };
        let Some(ratio) = spec.ratio_of else { continue };
        let kind = catalog(&definition.source)
            .iter()
            .find(|m| m.id == ratio.numerator)
            .map_or(MetricKind::Flow, |m| m.kind);
        let (from, to) = match kind {
            MetricKind::Flow => (first, *days.iter().max().expect("non-empty")),
            MetricKind::Stock => (first, stock_end),
        };
        let org_id = org_of(conn, store_id).await?;
        db::metric_snapshots::upsert_ratio(
            &mut *conn,
            Series {
                org_id,
                store_id,
                definition,
                metric: ratio.numerator,
            },
            ratio.denominator,
            match kind {
                MetricKind::Flow => "flow",
                MetricKind::Stock => "stock",
            },
            from,
            to,
        )
        .await?;
    }
    Ok(())
}

async fn org_of(conn: &mut PgConnection, store_id: Uuid) -> sqlx::Result<Uuid> {
    db::stores::org_id(conn, store_id).await
}

/// Snapshots of one base metric: flows on the dirty days (zero when nothing is left),
/// stocks as the running level from the first dirty day on.
#[allow(clippy::too_many_arguments)]
async fn upsert_series(
    conn: &mut PgConnection,
    store_id: Uuid,
    definition: &Definition,
    metric: &str,
    kind: MetricKind,
    days: &[NaiveDate],
    first: NaiveDate,
    stock_end: NaiveDate,
) -> sqlx::Result<()> {
    let org_id = org_of(conn, store_id).await?;
    let series = Series {
        org_id,
        store_id,
        definition,
        metric,
    };
    match kind {
        MetricKind::Flow => db::metric_snapshots::upsert_flow(&mut *conn, series, days).await,
        MetricKind::Stock => {
            db::metric_snapshots::upsert_stock(&mut *conn, series, first, stock_end).await
        }
    }
}

/// Creates the default definitions for a newly connected provider: one per catalog
/// metric, money ones restricted to the store's currency. Existing ones are kept.
pub async fn ensure_default_definitions(
    conn: &mut PgConnection,
    org_id: Uuid,
    store_id: Uuid,
    source: &str,
    catalog: &[MetricSpec],
) -> sqlx::Result<()> {
    let currency = db::stores::currency(&mut *conn, store_id).await?;
    for spec in catalog {
        let filter = match (spec.unit, spec.ratio_of) {
            (MetricUnit::CurrencyMinor, None) => serde_json::json!({ "currency": currency }),
            _ => serde_json::json!({}),
        };
        let aggregation = serde_json::to_value(spec.aggregation).expect("serialises");
        let unit = serde_json::to_value(spec.unit).expect("serialises");
        db::metric_definitions::insert_unless_exists(
            &mut *conn,
            &NewDefinition {
                org_id,
                store_id,
                slug: &format!("{source}.{}", spec.id),
                name: spec.name,
                source,
                metric_name: spec.id,
                aggregation: aggregation.as_str().unwrap_or("sum"),
                filter: &filter,
                unit: unit.as_str().unwrap_or("count"),
                format: match spec.unit {
                    MetricUnit::CurrencyMinor => "currency",
                    MetricUnit::Percent | MetricUnit::BasisPoints => "percent",
                    MetricUnit::Count => "number",
                },
            },
        )
        .await?;
    }
    Ok(())
}

//! The database side of a sync: each page is one transaction that checks the job's
//! fence, upserts the raw records (never replacing a newer version with an older
//! one), replaces the events of the records that changed (found by the instants
//! their raw records remember), saves the names of dimension values they carry, marks
//! their days for the rollups, counts usage against the plan, saves the stream's cursor and advances
//! `records_synced`. A crash anywhere leaves the cursor with the data it covers.

use std::{collections::BTreeSet, sync::Arc};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use chrono_tz::Tz;
use pulseboard_connectors::{
    items::Item, CallBudget, DimensionLabel, MetricEvent, Provider, RawRecord, SinkError, Spend,
    SyncPage, SyncSink, ENTITY,
};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    events::{copy_events, EventRow},
    queue::ClaimedJob,
};
use crate::{
    db::{self, Database},
    domain::plans,
};

/// Where a job's data goes.
#[derive(Clone)]
pub struct Target {
    pub org_id: Uuid,
    pub store_id: Uuid,
    pub integration_id: Uuid,
    pub source: String,
    /// The account the integration reads, which a provider's call budget is kept for.
    pub account_id: String,
    pub timezone: Tz,
    pub events_per_month_cap: Option<i64>,
}

pub struct DbSink<'a> {
    pub db: &'a Database,
    pub job: &'a ClaimedJob,
    pub target: &'a Target,
    pub provider: Arc<dyn Provider>,
    /// Pages committed by this run.
    pub pages: usize,
}

fn storage(error: sqlx::Error) -> SinkError {
    SinkError::Storage(error.to_string())
}

/// `{object_type}/{external_id}`: what an event says it was derived from.
pub fn source_record_id(record: &RawRecord) -> String {
    format!("{}/{}", record.object_type, record.external_id)
}

/// The store-local day of an instant.
pub fn local_day(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

impl DbSink<'_> {
    /// The provider's call budget, and a transaction that still holds the job's lease.
    async fn budget_tx(&self) -> Result<(CallBudget, crate::db::Tx), SinkError> {
        let budget = self.provider.info().call_budget.ok_or_else(|| {
            SinkError::Storage(format!("{} keeps no call budget", self.target.source))
        })?;
        let mut tx = self.db.worker_tx().await.map_err(storage)?;
        if !db::sync_jobs::hold(&mut tx, self.job)
            .await
            .map_err(storage)?
        {
            return Err(SinkError::LeaseLost);
        }
        Ok((budget, tx))
    }
}

#[async_trait]
impl SyncSink for DbSink<'_> {
    async fn spend_call(&mut self) -> Result<Spend, SinkError> {
        let (budget, mut tx) = self.budget_tx().await?;
        let (source, account) = (&self.target.source, &self.target.account_id);
        let day = Utc::now().date_naive();
        let limit = i32::try_from(budget.limit).unwrap_or(i32::MAX);
        let spend = match db::call_budgets::take(&mut *tx, source, account, day, limit)
            .await
            .map_err(storage)?
        {
            Some(used) => Spend::Spent {
                used: used as u32,
                limit: budget.limit,
            },
            None => Spend::Exhausted {
                used: db::call_budgets::used(&mut *tx, source, account, day)
                    .await
                    .map_err(storage)? as u32,
                limit: budget.limit,
            },
        };
        tx.commit().await.map_err(storage)?;
        Ok(spend)
    }

    async fn exhaust_calls(&mut self) -> Result<(), SinkError> {
        let (budget, mut tx) = self.budget_tx().await?;
        let limit = i32::try_from(budget.limit).unwrap_or(i32::MAX);
        db::call_budgets::exhaust(
            &mut *tx,
            &self.target.source,
            &self.target.account_id,
            Utc::now().date_naive(),
            limit,
        )
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)
    }

    async fn commit(&mut self, page: SyncPage) -> Result<(), SinkError> {
        let mut tx = self.db.worker_tx().await.map_err(storage)?;
        if !db::sync_jobs::hold(&mut tx, self.job)
            .await
            .map_err(storage)?
        {
            return Err(SinkError::LeaseLost);
        }
        store_records(&mut tx, self.target, self.provider.as_ref(), &page.records).await?;
        if let Some(cursor) = &page.cursor {
            db::sync_cursors::save(
                &mut *tx,
                self.target.org_id,
                self.target.integration_id,
                &page.stream,
                cursor,
            )
            .await
            .map_err(storage)?;
        }
        if !page.clear.is_empty() {
            db::sync_cursors::clear(&mut *tx, self.target.integration_id, &page.clear)
                .await
                .map_err(storage)?;
        }
        db::sync_jobs::add_records_synced(&mut *tx, self.job.id, page.records.len() as i64)
            .await
            .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        self.pages += 1;
        Ok(())
    }
}

/// Stores records of one integration in the caller's transaction: upserts the raw
/// records (never replacing a newer version with an older one), replaces the events
/// of those that changed, saves the names of dimension values they carry, counts usage
/// against the plan and marks their days for the rollups. A sync page and a webhook
/// delivery both come through here, so the same object counts once whichever arrives
/// first.
pub async fn store_records(
    tx: &mut PgConnection,
    target: &Target,
    provider: &dyn Provider,
    records: &[RawRecord],
) -> Result<(), SinkError> {
    // Events are derived before the write: each raw record stores the instants of
    // its events, which is how the next version of it finds them to replace.
    let derived: Vec<Derived> = latest_versions(records)
        .into_iter()
        .map(|record| Derived::of(record, provider.derive_events(record)))
        .collect();
    let written = upsert_raw(&mut *tx, target, &derived)
        .await
        .map_err(storage)?;
    // Names from the versions written only: an older copy never renames a value back.
    let labels: Vec<DimensionLabel> = written
        .iter()
        .flat_map(|(record, _)| provider.dimension_labels(derived[*record].record))
        .collect();
    save_labels(&mut *tx, target, &labels)
        .await
        .map_err(storage)?;
    let items: Vec<(&str, Item)> = written
        .iter()
        .flat_map(|(record, _)| {
            let record = &derived[*record];
            provider
                .items(record.record)
                .into_iter()
                .map(|item| (record.source_record_id.as_str(), item))
        })
        .collect();
    let sources: Vec<&str> = written
        .iter()
        .map(|(record, _)| derived[*record].source_record_id.as_str())
        .collect();
    save_items(&mut *tx, target, &sources, &items)
        .await
        .map_err(storage)?;

    let mut days = BTreeSet::new();
    let mut previous = Vec::new();
    for (record, previous_times) in &written {
        let record = &derived[*record];
        for at in previous_times {
            days.insert(local_day(*at, target.timezone));
            previous.push((record.source_record_id.as_str(), *at));
        }
    }
    // Customers whose MRR changed: their movements are derived again below.
    let mut customers: BTreeSet<String> = db::metric_events::delete_for_records(
        &mut *tx,
        target.store_id,
        target.integration_id,
        &previous,
    )
    .await
    .map_err(storage)?
    .into_iter()
    .collect();
    let mut rows = Vec::new();
    for (record, _) in &written {
        let record = &derived[*record];
        for event in &record.events {
            days.insert(local_day(event.at, target.timezone));
            if event.metric == "mrr" {
                customers.extend(event.dimensions.get(ENTITY).cloned());
            }
            rows.push(EventRow {
                org_id: target.org_id,
                store_id: target.store_id,
                integration_id: target.integration_id,
                source: target.source.clone(),
                metric_name: event.metric.to_owned(),
                metric_value: event.value,
                dimensions: serde_json::to_string(&event.dimensions)
                    .expect("string map serialises"),
                recorded_at: event.at,
                source_record_id: record.source_record_id.clone(),
            });
        }
    }

    if !rows.is_empty() {
        let used = db::usage::add_metric_events(&mut *tx, target.org_id, rows.len() as i64)
            .await
            .map_err(storage)?;
        if let Some(cap) = target.events_per_month_cap {
            if used > cap {
                return Err(SinkError::PlanLimit(format!(
                        "this organization's plan allows {cap} metric events a month and this sync would \
                         go past it; the data synced so far is kept — upgrade the plan to continue"
                    )));
            }
        }
    }
    copy_events(&mut *tx, &rows).await.map_err(storage)?;
    let customers: Vec<String> = customers.into_iter().collect();
    let moved = db::metric_events::recompute_mrr_movements(
        &mut *tx,
        (
            target.org_id,
            target.store_id,
            target.integration_id,
            &target.source,
        ),
        target.timezone.name(),
        &customers,
    )
    .await
    .map_err(storage)?;
    days.extend(moved.into_iter().map(|at| local_day(at, target.timezone)));
    mark_dirty(&mut *tx, target, &days).await.map_err(storage)?;

    Ok(())
}

/// A record of a page with the events derived from it.
struct Derived<'p> {
    record: &'p RawRecord,
    source_record_id: String,
    events: Vec<MetricEvent>,
}

impl<'p> Derived<'p> {
    fn of(record: &'p RawRecord, events: Vec<MetricEvent>) -> Self {
        Derived {
            record,
            source_record_id: source_record_id(record),
            events,
        }
    }

    /// `raw_records.event_times` as an array literal: the distinct instants, to the
    /// microsecond PostgreSQL keeps.
    fn event_times(&self) -> String {
        let times: BTreeSet<DateTime<Utc>> = self.events.iter().map(|e| e.at).collect();
        let quoted: Vec<String> = times
            .iter()
            .map(|t| format!("\"{}\"", t.to_rfc3339_opts(SecondsFormat::Micros, true)))
            .collect();
        format!("{{{}}}", quoted.join(","))
    }
}

/// A page can name one object twice (two events); the last version wins.
fn latest_versions(records: &[RawRecord]) -> Vec<&RawRecord> {
    let mut latest: Vec<&RawRecord> = Vec::with_capacity(records.len());
    for record in records {
        match latest
            .iter_mut()
            .find(|r| r.object_type == record.object_type && r.external_id == record.external_id)
        {
            Some(slot) => *slot = record,
            None => latest.push(record),
        }
    }
    latest
}

/// Upserts raw records with their event instants, keeping the newer version; returns
/// the records written (new or changed; as indexes into `records`), whose events must be
/// replaced, each with the instants of the events of the version it replaced.
async fn upsert_raw(
    conn: &mut PgConnection,
    target: &Target,
    records: &[Derived<'_>],
) -> sqlx::Result<Vec<(usize, Vec<DateTime<Utc>>)>> {
    if records.is_empty() {
        return Ok(vec![]);
    }
    let types: Vec<&str> = records
        .iter()
        .map(|r| r.record.object_type.as_str())
        .collect();
    let ids: Vec<&str> = records
        .iter()
        .map(|r| r.record.external_id.as_str())
        .collect();
    let updated: Vec<Option<DateTime<Utc>>> = records.iter().map(|r| r.record.updated_at).collect();
    let payloads: Vec<&serde_json::Value> = records.iter().map(|r| &r.record.payload).collect();
    let times: Vec<String> = records.iter().map(Derived::event_times).collect();
    // One statement: it reports the event instants of the versions it replaced.
    let written = db::raw_records::upsert(
        &mut *conn,
        target.org_id,
        target.integration_id,
        &db::raw_records::Columns {
            object_types: &types,
            external_ids: &ids,
            updated_at: &updated,
            payloads: &payloads,
            event_times: &times,
        },
    )
    .await?;
    let mut previous: std::collections::HashMap<(String, String), Vec<DateTime<Utc>>> = written
        .into_iter()
        .map(|(object_type, external_id, times)| ((object_type, external_id), times))
        .collect();
    Ok(records
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            previous
                .remove(&(r.record.object_type.clone(), r.record.external_id.clone()))
                .map(|times| (i, times))
        })
        .collect())
}

/// Upserts the names of dimension values (a page can name one value twice; the last
/// name wins).
async fn save_labels(
    conn: &mut PgConnection,
    target: &Target,
    labels: &[DimensionLabel],
) -> sqlx::Result<()> {
    let mut latest: std::collections::BTreeMap<(&str, &str), &str> = Default::default();
    for l in labels {
        latest.insert((l.dimension, l.value.as_str()), l.label.as_str());
    }
    if latest.is_empty() {
        return Ok(());
    }
    let dimensions: Vec<&str> = latest.keys().map(|(d, _)| *d).collect();
    let values: Vec<&str> = latest.keys().map(|(_, v)| *v).collect();
    let names: Vec<&str> = latest.values().copied().collect();
    db::dimension_labels::upsert(
        conn,
        target.org_id,
        target.store_id,
        &dimensions,
        &values,
        &names,
    )
    .await
}

/// Replaces the items of the written records with what they show as now (a page
/// can carry one item twice; the last version wins).
async fn save_items(
    conn: &mut PgConnection,
    target: &Target,
    written: &[&str],
    items: &[(&str, Item)],
) -> sqlx::Result<()> {
    let mut latest: std::collections::BTreeMap<(&str, &str), &(&str, Item)> = Default::default();
    for entry in items {
        latest.insert((entry.1.kind(), entry.1.id()), entry);
    }
    let kinds: Vec<&str> = latest.keys().map(|(k, _)| *k).collect();
    let ids: Vec<&str> = latest.keys().map(|(_, i)| *i).collect();
    let sources: Vec<&str> = latest.values().map(|(s, _)| *s).collect();
    let occurred: Vec<DateTime<Utc>> = latest.values().map(|(_, i)| i.occurred_at()).collect();
    let data: Vec<serde_json::Value> = latest
        .values()
        .map(|(_, i)| serde_json::to_value(i).expect("items serialise"))
        .collect();
    let origin = db::items::Origin {
        org_id: target.org_id,
        store_id: target.store_id,
        integration_id: target.integration_id,
        provider: &target.source,
    };
    let rows = db::items::Rows {
        kinds: &kinds,
        ids: &ids,
        sources: &sources,
        occurred: &occurred,
        data: &data,
    };
    db::items::replace(conn, &origin, written, &rows).await
}

async fn mark_dirty(
    conn: &mut PgConnection,
    target: &Target,
    days: &BTreeSet<NaiveDate>,
) -> sqlx::Result<()> {
    if days.is_empty() {
        return Ok(());
    }
    let days: Vec<NaiveDate> = days.iter().copied().collect();
    db::rollups::mark_dirty_days(conn, target.org_id, target.store_id, &days).await
}

/// The plan cap of an organization's monthly events.
pub async fn events_cap(db: &Database, org_id: Uuid) -> sqlx::Result<Option<i64>> {
    let mut tx = db.worker_tx().await?;
    let plan = crate::db::orgs::plan(&mut *tx, org_id).await?;
    tx.commit().await?;
    Ok(plans::plan(&plan).max_events_per_month)
}

//! Processing verified webhook deliveries from the inbox (DESIGN §11). The intake
//! (`http/webhooks.rs`) only verifies, stores and acknowledges; here the workers turn
//! each delivery into the raw records the sync would store (through the same
//! `sync::sink::store_records`, so an object arriving by webhook and again by sync
//! counts once, and an older version never replaces a newer one whatever the order),
//! its money movements into `revenue_events`, and wake the live streams.

use std::collections::{BTreeMap, BTreeSet};

use pulseboard_connectors::{Provider, Redaction, SinkError};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use uuid::Uuid;

use crate::{
    db::{self, webhooks::Pending},
    state::AppState,
    sync::{
        rollups,
        sink::{store_records, Target},
    },
};

/// Deliveries taken per transaction.
const BATCH: i64 = 50;

/// Under a stream of deliveries, how often the touched stores' rollups are refreshed
/// and the live streams woken: the refresh recomputes each touched day, so doing it
/// per batch made processing compete with the intake for the CPU; the live streams
/// batch their reads at `live::BATCH_INTERVAL` anyway. A delivery after a quiet
/// spell is flushed at once.
const FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

/// What one processed delivery touched.
struct Touched {
    org_id: Uuid,
    store_id: Uuid,
    last_seq: Option<i64>,
}

/// Stores whose rollups and organizations whose live streams are behind the
/// committed deliveries.
#[derive(Default)]
struct Unflushed {
    stores: BTreeSet<Uuid>,
    seqs: BTreeMap<Uuid, i64>,
}

impl Unflushed {
    fn add(&mut self, touched: Touched) {
        self.stores.insert(touched.store_id);
        if let Some(seq) = touched.last_seq {
            let newest = self.seqs.entry(touched.org_id).or_default();
            *newest = (*newest).max(seq);
        }
    }

    /// Rollups first, so a KPI card that refreshes on the ping sees the new numbers;
    /// then one wake-up per organization, never one per row (DESIGN §11).
    async fn flush(&mut self, app: &AppState) -> anyhow::Result<()> {
        let catalog = |source: &str| {
            app.providers
                .get(source)
                .map_or(&[][..], |p| p.info().metrics)
        };
        for store in std::mem::take(&mut self.stores) {
            rollups::refresh_store(&app.db, store, &catalog).await?;
        }
        for (org_id, seq) in std::mem::take(&mut self.seqs) {
            db::webhooks::ping_live(app.db.pool(), org_id, seq).await?;
        }
        Ok(())
    }
}

/// Processes every waiting delivery; returns how many were processed.
pub async fn process_due(app: &AppState) -> anyhow::Result<usize> {
    let mut processed = 0;
    let mut unflushed = Unflushed::default();
    let mut last_flush: Option<std::time::Instant> = None;
    loop {
        let mut tx = app.db.worker_tx().await?;
        let batch = db::webhooks::claim(&mut tx, BATCH).await?;
        if batch.is_empty() {
            tx.commit().await?;
            unflushed.flush(app).await?;
            return Ok(processed);
        }
        processed += batch.len();
        process_batch(app, tx, &batch, &mut unflushed).await?;
        if last_flush.is_none_or(|at| at.elapsed() >= FLUSH_INTERVAL) {
            unflushed.flush(app).await?;
            last_flush = Some(std::time::Instant::now());
        }
    }
}

/// Processes one stored delivery at once, in a transaction of its own: what a
/// handler that processes before acknowledging would do. Only the intake benchmark's
/// baseline uses it (`examples/pulse_bench.rs`); the server acknowledges first and
/// processes in batches. False when the delivery was already processed.
pub async fn process_now(
    app: &AppState,
    endpoint_id: Uuid,
    event_id: &str,
) -> anyhow::Result<bool> {
    let mut tx = app.db.worker_tx().await?;
    let batch = db::webhooks::claim_one(&mut tx, endpoint_id, event_id).await?;
    if batch.is_empty() {
        tx.commit().await?;
        return Ok(false);
    }
    let mut unflushed = Unflushed::default();
    process_batch(app, tx, &batch, &mut unflushed).await?;
    unflushed.flush(app).await?;
    Ok(true)
}

/// Processes claimed deliveries in the claiming transaction and commits; what they
/// touched is left in `unflushed`.
async fn process_batch(
    app: &AppState,
    mut tx: db::Tx,
    batch: &[Pending],
    unflushed: &mut Unflushed,
) -> anyhow::Result<()> {
    let mut touched = Vec::new();
    for item in batch {
        // A savepoint per delivery: one that fails is recorded, the rest stand.
        let mut savepoint = sqlx::Connection::begin(&mut *tx).await?;
        match process_one(app, &mut savepoint, item).await {
            Ok(t) => {
                savepoint.commit().await?;
                db::webhooks::mark_processed(&mut tx, item.id, None).await?;
                touched.extend(t);
            }
            Err(error) => {
                savepoint.rollback().await?;
                tracing::warn!(inbox_id = item.id, attempt = item.attempts, %error, "webhook delivery could not be processed");
                db::webhooks::mark_processed(&mut tx, item.id, Some(&error)).await?;
            }
        }
    }
    tx.commit().await?;
    touched.into_iter().for_each(|t| unflushed.add(t));
    Ok(())
}

fn headers_of(stored: &serde_json::Value) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in stored.as_object().into_iter().flatten() {
        if let (Ok(name), Some(Ok(value))) = (
            HeaderName::from_bytes(name.as_bytes()),
            value.as_str().map(HeaderValue::from_str),
        ) {
            headers.insert(name, value);
        }
    }
    headers
}

async fn process_one(
    app: &AppState,
    tx: &mut sqlx::PgConnection,
    item: &Pending,
) -> Result<Option<Touched>, String> {
    let storage = |e: sqlx::Error| e.to_string();
    let Some(receiver) = db::webhooks::receiver(&mut *tx, item.endpoint_id)
        .await
        .map_err(storage)?
    else {
        // The integration was disconnected after the delivery was accepted.
        return Ok(None);
    };
    let provider = app
        .providers
        .get(&receiver.provider)
        .ok_or_else(|| format!("unknown provider {}", receiver.provider))?;
    let delivery = provider
        .webhook_delivery(&headers_of(&item.headers.0), &item.body)
        .map_err(|e| e.to_string())?;
    let subject = db::integrations::sync_subject(&mut *tx, receiver.integration_id)
        .await
        .map_err(storage)?;
    match &delivery.redaction {
        Some(Redaction::Customer { id, email }) => {
            db::webhooks::redact_customer(
                &mut *tx,
                receiver.integration_id,
                id.as_deref(),
                email.as_deref(),
            )
            .await
            .map_err(storage)?;
            tracing::info!(integration_id = %receiver.integration_id, "customer data redacted at the provider's request");
        }
        Some(Redaction::Shop) => {
            db::webhooks::erase_integration_data(&mut *tx, receiver.integration_id)
                .await
                .map_err(storage)?;
            tracing::info!(integration_id = %receiver.integration_id, "shop data erased at the provider's request");
        }
        Some(Redaction::DataRequest { .. }) => {
            // What Pulseboard holds about a customer is the merchant's own store data;
            // the request stays in the inbox as the record that it came.
            tracing::info!(integration_id = %receiver.integration_id, "customer data request received");
        }
        None => {}
    }
    if delivery.revoked {
        db::integrations::set_status(
            &mut *tx,
            receiver.integration_id,
            "disconnected",
            Some("the connection was revoked on the provider's side"),
        )
        .await
        .map_err(storage)?;
        tracing::info!(integration_id = %receiver.integration_id, "integration revoked by its provider");
        return Ok(None);
    }
    let target = Target {
        org_id: subject.org_id,
        store_id: subject.store_id,
        integration_id: receiver.integration_id,
        source: subject.provider.clone(),
        account_id: subject.external_account_id.clone(),
        timezone: subject.timezone.parse().unwrap_or(chrono_tz::Tz::UTC),
        // Read on this transaction's connection: a second one could wait behind
        // intake requests that themselves wait on this transaction's row lock.
        events_per_month_cap: crate::domain::plans::plan(
            &db::orgs::plan(&mut *tx, subject.org_id)
                .await
                .map_err(storage)?,
        )
        .max_events_per_month,
    };
    store_records(
        &mut *tx,
        &target,
        provider.as_ref() as &dyn Provider,
        &delivery.records,
    )
    .await
    .map_err(|e: SinkError| e.to_string())?;
    let mut last_seq = None;
    for m in &delivery.revenue {
        let seq = db::webhooks::insert_revenue(
            &mut *tx,
            &db::webhooks::NewRevenue {
                org_id: subject.org_id,
                store_id: subject.store_id,
                integration_id: receiver.integration_id,
                provider: &subject.provider,
                source_id: &m.source_id,
                kind: m.kind.as_str(),
                amount_minor: m.amount_minor,
                currency: &m.currency,
                customer_email: m.customer_email.as_deref(),
                campaign: m.campaign.as_deref(),
                occurred_at: m.occurred_at,
                cumulative: m.cumulative,
                reverses: m.reverses.as_deref(),
            },
        )
        .await
        .map_err(storage)?;
        last_seq = last_seq.max(seq);
    }
    db::webhooks::touch_org(&mut *tx, subject.org_id)
        .await
        .map_err(storage)?;
    Ok(Some(Touched {
        org_id: subject.org_id,
        store_id: subject.store_id,
        last_seq,
    }))
}

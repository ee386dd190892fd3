//! Processing verified webhook deliveries from the inbox (DESIGN §11). The intake
//! (`http/webhooks.rs`) only verifies, stores and acknowledges; here the workers turn
//! each delivery into the raw records the sync would store (through the same
//! `sync::sink::store_records`, so an object arriving by webhook and again by sync
//! counts once, and an older version never replaces a newer one whatever the order),
//! its money movements into `revenue_events`, and wake the live streams.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
};

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
/// (and cached dashboards invalidated): the refresh recomputes each touched day, so
/// doing it per batch made processing compete with the intake for the CPU. A
/// delivery after a quiet spell is flushed at once. The live streams are woken after
/// every batch, without waiting for this.
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
    /// Store → its organization.
    stores: BTreeMap<Uuid, Uuid>,
    seqs: BTreeMap<Uuid, i64>,
}

impl Unflushed {
    fn add(&mut self, touched: Touched) {
        self.stores.insert(touched.store_id, touched.org_id);
        if let Some(seq) = touched.last_seq {
            let newest = self.seqs.entry(touched.org_id).or_default();
            *newest = (*newest).max(seq);
        }
    }

    /// Wakes the live streams of every organization with new revenue events, one
    /// wake-up per organization, never one per row (DESIGN §11). Right after the
    /// commit: the pulse reads the events themselves, so a sale reaches the browser
    /// without waiting for the rollups.
    async fn ping(&mut self, app: &AppState) -> anyhow::Result<()> {
        for (org_id, seq) in std::mem::take(&mut self.seqs) {
            db::webhooks::ping_live(app.db.pool(), org_id, seq).await?;
        }
        Ok(())
    }

    /// Refreshes the touched stores' rollups (here, or handed to `refresher`), and
    /// wakes the live streams of anything not yet pinged.
    async fn flush(&mut self, app: &AppState, refresher: Option<&Refresher>) -> anyhow::Result<()> {
        let stores = std::mem::take(&mut self.stores);
        match refresher {
            Some(refresher) => refresher.submit(app, stores),
            None => refresh_rollups(app, stores).await?,
        }
        self.ping(app).await
    }
}

/// Refreshes the stores' rollups, then moves their organizations' data version, so a
/// dashboard computed before the refresh is not served from the cache after it. (A
/// dashboard refetches a second after a live sale, by when the refresh is normally
/// done.)
async fn refresh_rollups(app: &AppState, stores: BTreeMap<Uuid, Uuid>) -> anyhow::Result<()> {
    let catalog = |source: &str| {
        app.providers
            .get(source)
            .map_or(&[][..], |p| p.info().metrics)
    };
    for store in stores.keys() {
        rollups::refresh_store(&app.db, *store, &catalog).await?;
    }
    let orgs: BTreeSet<Uuid> = stores.into_values().collect();
    if !orgs.is_empty() {
        let mut tx = app.db.worker_tx().await?;
        for org in orgs {
            db::webhooks::touch_org(&mut tx, org).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// Rollup refreshes handed off by the processing loop, so a slow refresh (a busy
/// store's day is recomputed whole) never holds up the next deliveries or their
/// way to the live streams. One refresh runs at a time per process; stores handed
/// over meanwhile are refreshed together by the next.
#[derive(Clone, Default)]
pub struct Refresher {
    pending: Arc<Mutex<BTreeMap<Uuid, Uuid>>>,
    running: Arc<AtomicBool>,
}

impl Refresher {
    fn submit(&self, app: &AppState, stores: BTreeMap<Uuid, Uuid>) {
        if stores.is_empty() {
            return;
        }
        lock(&self.pending).extend(stores);
        if self.running.swap(true, Ordering::AcqRel) {
            return; // the running refresh takes them next
        }
        let (this, app) = (self.clone(), app.clone());
        tokio::spawn(async move {
            loop {
                let stores = std::mem::take(&mut *lock(&this.pending));
                if stores.is_empty() {
                    this.running.store(false, Ordering::Release);
                    // Handed over between the take and the store: run again, unless
                    // another submit already started a refresh.
                    if lock(&this.pending).is_empty() || this.running.swap(true, Ordering::AcqRel) {
                        return;
                    }
                    continue;
                }
                if let Err(error) = refresh_rollups(&app, stores).await {
                    tracing::warn!(error = %format!("{error:#}"), "rollup refresh after webhooks failed; the next sync redoes it");
                }
            }
        });
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Processes every waiting delivery, its rollups refreshed before it returns (tests
/// and benchmarks); returns how many were processed.
pub async fn process_due(app: &AppState) -> anyhow::Result<usize> {
    process(app, None).await
}

/// [`process_due`] for the server's processing loop: rollup refreshes run beside it
/// (`refresher`), so the loop goes on with the next deliveries at once.
pub async fn process_due_with(app: &AppState, refresher: &Refresher) -> anyhow::Result<usize> {
    process(app, Some(refresher)).await
}

async fn process(app: &AppState, refresher: Option<&Refresher>) -> anyhow::Result<usize> {
    let mut processed = 0;
    let mut unflushed = Unflushed::default();
    let mut last_flush: Option<std::time::Instant> = None;
    loop {
        let mut tx = app.db.worker_tx().await?;
        let batch = db::webhooks::claim(&mut tx, BATCH).await?;
        if batch.is_empty() {
            tx.commit().await?;
            unflushed.flush(app, refresher).await?;
            return Ok(processed);
        }
        processed += batch.len();
        process_batch(app, tx, &batch, &mut unflushed).await?;
        unflushed.ping(app).await?;
        if last_flush.is_none_or(|at| at.elapsed() >= FLUSH_INTERVAL) {
            unflushed.flush(app, refresher).await?;
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
    unflushed.flush(app, None).await?;
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
    Ok(Some(Touched {
        org_id: subject.org_id,
        store_id: subject.store_id,
        last_seq,
    }))
}

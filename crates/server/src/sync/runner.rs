//! Running one claimed job: the provider pulls, the sink stores, a heartbeat keeps
//! the lease, and the outcome goes back to the queue (fenced).

use std::{collections::HashMap, time::Duration};

use async_trait::async_trait;
use chrono::Utc;
use chrono_tz::Tz;
use pulseboard_connectors::{
    OAuthError, SecretString, SinkError, SyncError, SyncKind, SyncRequest, TokenSource,
};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{
    queue::{self, ClaimedJob, Outcome},
    rollups,
    sink::{events_cap, DbSink, Target},
    worker::Ran,
};
use crate::{
    db,
    integrations::access_token::{self as tokens, TokenError},
    state::AppState,
};

/// Claims and runs the next due job. `Ok(false)` when nothing was due.
pub async fn run_next(app: &AppState, worker: &str) -> anyhow::Result<bool> {
    let mut tx = app.db.worker_tx().await?;
    let job = queue::claim(&mut *tx, worker, app.config.sync.lease).await?;
    tx.commit().await?;
    let Some(job) = job else { return Ok(false) };
    let ran = run_job(app.clone(), job).await;
    let recorded = match &ran.outcome {
        Some(outcome) => {
            let mut tx = app.db.worker_tx().await?;
            let recorded = queue::finish(&mut tx, &ran.job, outcome).await?;
            tx.commit().await?;
            recorded
        }
        None => false,
    };
    report(app, &ran, recorded);
    Ok(true)
}

/// Runs a claimed job to its outcome (the worker pool records it).
pub async fn run_job(app: AppState, job: ClaimedJob) -> Ran {
    tracing::debug!(job_id = %job.id, integration_id = %job.integration_id, attempt = job.attempt, "sync job started");
    let started = std::time::Instant::now();
    app.metrics.sync_workers_busy.inc();
    let outcome = run_claimed(&app, &job, app.config.sync.lease).await;
    app.metrics.sync_workers_busy.dec();
    Ran {
        job,
        outcome,
        elapsed: started.elapsed(),
    }
}

/// The metrics and the one log line of a finished run, once the queue has its outcome
/// (`recorded` false: it was taken over, and the result dropped).
pub fn report(app: &AppState, ran: &Ran, recorded: bool) {
    let Ran {
        job,
        outcome,
        elapsed,
    } = ran;
    let Some(outcome) = outcome else {
        tracing::warn!(job_id = %job.id, "sync job taken over by another worker; dropping this run");
        return;
    };
    if let Some(reason) = failure_reason(outcome) {
        app.metrics.sync_failed(&job.provider, reason);
    }
    if recorded {
        // The one line per sync an operator watches (the start is at debug level).
        tracing::info!(
            job_id = %job.id,
            provider = %job.provider,
            attempt = job.attempt,
            seconds = elapsed.as_secs(),
            outcome = ?outcome,
            "sync job finished"
        );
    } else {
        tracing::warn!(job_id = %job.id, "sync job finished after losing its lease; result dropped");
    }
}

/// The reason class `sync_failures_total` counts a run under; `None` for a success
/// or a cancellation (the integration went away: nothing failed).
fn failure_reason(outcome: &Outcome) -> Option<&'static str> {
    match outcome {
        Outcome::Success | Outcome::Cancelled(_) => None,
        Outcome::Retry(_) => Some("transient"),
        Outcome::RateLimited(..) => Some("rate_limited"),
        Outcome::Failed { code, .. } => Some(code),
    }
}

/// Runs the job; `None` when the lease was lost (the new owner records the outcome).
async fn run_claimed(app: &AppState, job: &ClaimedJob, lease: Duration) -> Option<Outcome> {
    match run_inner(app, job, lease).await {
        Ok(outcome) => Some(outcome),
        Err(RunError::LeaseLost) => None,
        Err(RunError::Database(error)) => Some(Outcome::Retry(format!(
            "the database was unavailable: {error}"
        ))),
    }
}

enum RunError {
    LeaseLost,
    Database(sqlx::Error),
}

impl From<sqlx::Error> for RunError {
    fn from(error: sqlx::Error) -> Self {
        Self::Database(error)
    }
}

async fn run_inner(app: &AppState, job: &ClaimedJob, lease: Duration) -> Result<Outcome, RunError> {
    let mut tx = app.db.worker_tx().await?;
    let subject = db::integrations::sync_subject(&mut *tx, job.integration_id).await?;
    // A newer version of the provider's sync reads and derives differently: start the
    // streams over once, so every stored record follows (a full re-read).
    if let Some(provider) = app.providers.get(&subject.provider) {
        let version = provider.sync_version();
        if subject.sync_version < version {
            db::integrations::start_over_for_version(&mut tx, job.integration_id, version).await?;
            tracing::info!(integration_id = %job.integration_id, provider = %subject.provider, version, "the provider's sync changed; reading everything again");
        }
    }
    let cursors: HashMap<String, Value> = db::sync_cursors::list(&mut *tx, job.integration_id)
        .await?
        .into_iter()
        .collect();
    tx.commit().await?;

    match subject.status.as_str() {
        "disconnected" => {
            return Ok(Outcome::Cancelled(
                "the integration was disconnected".into(),
            ))
        }
        "reauth_required" => {
            return Ok(Outcome::Failed {
                message: "the provider no longer accepts this connection; reconnect it".into(),
                code: "reauth_required",
            })
        }
        _ => {}
    }
    let Some(provider) = app.providers.get(&subject.provider) else {
        return Ok(Outcome::Failed {
            message: format!("unknown provider {}", subject.provider),
            code: "unsupported",
        });
    };
    let target = Target {
        org_id: subject.org_id,
        store_id: subject.store_id,
        integration_id: job.integration_id,
        source: subject.provider.clone(),
        account_id: subject.external_account_id.clone(),
        timezone: subject.timezone.parse().unwrap_or(Tz::UTC),
        events_per_month_cap: events_cap(&app.db, subject.org_id).await?,
    };
    let tokens = IntegrationTokens {
        app: app.clone(),
        integration_id: job.integration_id,
    };
    let options = match &subject.options {
        Value::Object(options) => options.clone(),
        _ => Default::default(),
    };
    let request = SyncRequest {
        tokens: &tokens,
        account_id: &subject.external_account_id,
        cursors: &cursors,
        options: &options,
        now: Utc::now(),
    };
    let mut sink = DbSink {
        db: &app.db,
        job,
        target: &target,
        provider: provider.clone(),
        pages: 0,
    };

    // The heartbeat runs beside the sync; losing the lease stops the sync.
    let lost = CancellationToken::new();
    let heartbeat = tokio::spawn(heartbeat(app.clone(), job.clone(), lease, lost.clone()));
    let result = tokio::select! {
        result = provider.sync(&request, &mut sink) => Some(result),
        _ = lost.cancelled() => None,
    };
    heartbeat.abort();
    // Whatever was committed is real data: bring rollups and snapshots up to date.
    let catalog = |source: &str| {
        app.providers
            .get(source)
            .map_or(&[][..], |p| p.info().metrics)
    };
    if let Err(error) = rollups::refresh_store(&app.db, target.store_id, &catalog).await {
        tracing::warn!(%error, store_id = %target.store_id, "rollup refresh failed; the next sync retries it");
    }
    let Some(result) = result else {
        return Err(RunError::LeaseLost);
    };
    Ok(match result {
        Ok(kind) => {
            let kind = match kind {
                SyncKind::Backfill => "backfill",
                SyncKind::Incremental => "incremental",
            };
            db::sync_jobs::set_sync_type(app.db.pool(), job, kind).await?;
            // Yesterday's totals against the provider's own, once a day.
            super::drift::check_after_sync(app, provider.as_ref(), &request, &target).await;
            Outcome::Success
        }
        Err(SyncError::Sink(SinkError::LeaseLost)) => return Err(RunError::LeaseLost),
        Err(SyncError::Sink(SinkError::PlanLimit(message))) => Outcome::Failed {
            message,
            code: "plan_limit",
        },
        Err(SyncError::Sink(SinkError::Storage(message))) => Outcome::Retry(message),
        Err(SyncError::Provider(error)) => match error {
            OAuthError::RateLimited {
                retry_after,
                reason,
            } => Outcome::RateLimited(retry_after.unwrap_or(Duration::from_secs(60)), reason),
            OAuthError::Transient(message) => Outcome::Retry(message),
            OAuthError::InvalidGrant(message) | OAuthError::AccessDenied(message) => {
                tokens::require_reauthorization(app, job.integration_id, &message).await?;
                Outcome::Failed {
                    message: format!("the provider refused our access: {message}"),
                    code: "reauth_required",
                }
            }
            OAuthError::Rejected(message) => Outcome::Failed {
                message: format!("the provider rejected the request: {message}"),
                code: "provider_rejected",
            },
        },
        Err(SyncError::Unsupported) => Outcome::Failed {
            message: format!("{} cannot be synced yet", subject.provider),
            code: "unsupported",
        },
    })
}

async fn heartbeat(app: AppState, job: ClaimedJob, lease: Duration, lost: CancellationToken) {
    let mut tick = tokio::time::interval(lease / 3);
    tick.tick().await;
    loop {
        tick.tick().await;
        match queue::heartbeat(app.db.pool(), &job, lease).await {
            Ok(true) => {}
            Ok(false) => {
                lost.cancel();
                return;
            }
            // A database blip is not a lost lease; the next beat tries again.
            Err(error) => tracing::warn!(%error, job_id = %job.id, "heartbeat failed"),
        }
    }
}

/// The integration's token, refreshed through the single-flight helper.
struct IntegrationTokens {
    app: AppState,
    integration_id: Uuid,
}

#[async_trait]
impl TokenSource for IntegrationTokens {
    async fn access_token(&self) -> Result<SecretString, OAuthError> {
        tokens::access_token(&self.app, self.integration_id)
            .await
            .map_err(|error| match error {
                TokenError::ReauthRequired(message) => OAuthError::InvalidGrant(message),
                TokenError::Provider(error) => error,
                other => OAuthError::Transient(other.to_string()),
            })
    }
}

/// Runs every due job now (the cron route and tests), at most `limit`.
pub async fn drain(app: &AppState, worker: &str, limit: usize) -> anyhow::Result<usize> {
    let mut ran = 0;
    while ran < limit && run_next(app, worker).await? {
        ran += 1;
    }
    Ok(ran)
}

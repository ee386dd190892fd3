//! Operations endpoints: liveness, readiness, Prometheus metrics.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, State},
    http::{header, HeaderMap, StatusCode},
    response::IntoResponse,
    routing::get,
    Json, Router,
};
use prometheus::{Encoder, TextEncoder};

use secrecy::ExposeSecret;

use super::{extract::bearer_token, AppState};
use crate::{db, domain::secrets::token_hash, error::ApiError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The longest `/readyz` waits for the database.
const READY_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The process is up (answers without the database).
async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// The database answers and every migration this binary knows is applied. Also says
/// what background work this process does: whether it runs the scheduler and is
/// its elected leader (one process per database), and its sync workers (neither
/// affects readiness: a standby scheduler is healthy).
/// A database that does not answer within [`READY_CHECK_TIMEOUT`] counts as down, so a
/// load balancer's probe gets its answer quickly even while PostgreSQL is unreachable.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let check = async {
        let database = db::ping(state.db.pool()).await.is_ok();
        let migrations = database && state.db.migrations_current().await.unwrap_or(false);
        (database, migrations)
    };
    let (database, migrations) = tokio::time::timeout(READY_CHECK_TIMEOUT, check)
        .await
        .unwrap_or((false, false));
    let status = if database && migrations {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(serde_json::json!({
            "status": if status == StatusCode::OK { "ready" } else { "not_ready" },
            "database": database,
            "migrations_current": migrations,
            // Embedded mode only: `running`, or `restarting` after the cluster exited.
            "embedded_postgres": state.db.embedded_state(),
            "scheduler": match (state.metrics.scheduler_running.get(), state.metrics.scheduler_leader.get()) {
                (0, _) => "not_running",
                (_, 0) => "standby",
                _ => "leader",
            },
            "workers": {
                "running": state.metrics.sync_workers.get(),
                "busy": state.metrics.sync_workers_busy.get(),
            },
        })),
    )
}

/// Prometheus metrics, for whoever holds `PULSEBOARD_METRICS_TOKEN` as a bearer token;
/// without one configured, for callers on the loopback interface only (a scraper on
/// the same host), since the figures describe every tenant's activity.
async fn metrics(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    match &state.config.metrics_token {
        Some(expected) => {
            let given = headers.get(header::AUTHORIZATION).and_then(bearer_token);
            // Comparing digests keeps the comparison time independent of the token.
            if given.map(token_hash) != Some(token_hash(expected.expose_secret())) {
                return Err(ApiError::Unauthenticated);
            }
        }
        None if !peer.ip().is_loopback() => {
            return Err(ApiError::forbidden(
                "/metrics answers loopback callers only; set PULSEBOARD_METRICS_TOKEN to scrape it from elsewhere",
            ));
        }
        None => {}
    }
    let pool = state.db.pool();
    state.metrics.pool_size.set(i64::from(pool.size()));
    state.metrics.pool_idle.set(pool.num_idle() as i64);
    // A database that does not answer leaves these figures as they were; the pool
    // gauges and the request counters still tell what happened.
    if let Err(error) = refresh_operations(&state).await {
        tracing::warn!(%error, "reading the queue and outbox figures for /metrics failed");
    }
    let mut buffer = Vec::new();
    let _ = TextEncoder::new().encode(&state.metrics.registry.gather(), &mut buffer);
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        buffer,
    ))
}

/// Sets the gauges read from the database: the queue, the lag per provider, the outboxes.
async fn refresh_operations(state: &AppState) -> sqlx::Result<()> {
    let mut tx = state.db.bypass_tx(db::Bypass::Operations).await?;
    let figures = db::operations::figures(&mut tx).await?;
    tx.commit().await?;
    let m = &state.metrics;
    m.sync_jobs
        .with_label_values(&["queued"])
        .set(figures.queued);
    m.sync_jobs
        .with_label_values(&["running"])
        .set(figures.running);
    m.sync_oldest_queued.set(figures.oldest_queued_seconds);
    // A provider whose last integration went away must not keep its last value.
    m.sync_lag.reset();
    for (provider, seconds) in &figures.lag {
        m.sync_lag.with_label_values(&[provider]).set(*seconds);
    }
    for (channel, pending, failed) in &figures.outbox {
        m.outbox_pending.with_label_values(&[channel]).set(*pending);
        m.outbox_failed.with_label_values(&[channel]).set(*failed);
    }
    Ok(())
}

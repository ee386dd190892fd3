//! Operations endpoints: liveness, readiness, Prometheus metrics.

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::IntoResponse,
    routing::get,
    Json, Router,
};
use prometheus::{Encoder, TextEncoder};

use super::AppState;
use crate::db;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The process is up.
async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// The database answers and every migration this binary knows is applied.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let database = db::ping(state.db.pool()).await.is_ok();
    let migrations = database && state.db.migrations_current().await.unwrap_or(false);
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
        })),
    )
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let pool = state.db.pool();
    state.metrics.pool_size.set(i64::from(pool.size()));
    state.metrics.pool_idle.set(pool.num_idle() as i64);
    let mut buffer = Vec::new();
    let _ = TextEncoder::new().encode(&state.metrics.registry.gather(), &mut buffer);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        buffer,
    )
}

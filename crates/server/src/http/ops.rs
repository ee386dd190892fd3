//! Operations endpoints: liveness, readiness, Prometheus metrics.

use std::time::Duration;

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::IntoResponse,
    routing::get,
    Json, Router,
};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use super::AppState;

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
    let database = sqlx::query("SELECT 1")
        .execute(state.db.pool())
        .await
        .is_ok();
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

/// Prometheus collectors for HTTP traffic and the connection pool. One registry per
/// application instance, so several instances can live in one test process.
pub struct HttpMetrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_size: IntGauge,
    pool_idle: IntGauge,
}

impl HttpMetrics {
    pub fn new() -> Self {
        let registry =
            Registry::new_custom(Some("pulseboard".into()), None).expect("valid registry prefix");
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["method", "route", "status"],
        )
        .expect("valid counter");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route and method",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["method", "route"],
        )
        .expect("valid histogram");
        let pool_size =
            IntGauge::new("db_pool_connections", "Open database connections").expect("valid gauge");
        let pool_idle = IntGauge::new("db_pool_idle_connections", "Idle database connections")
            .expect("valid gauge");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(pool_size.clone()),
            Box::new(pool_idle.clone()),
        ] {
            registry
                .register(collector)
                .expect("collectors are registered once");
        }
        Self {
            registry,
            requests,
            latency,
            pool_size,
            pool_idle,
        }
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }
}

impl Default for HttpMetrics {
    fn default() -> Self {
        Self::new()
    }
}

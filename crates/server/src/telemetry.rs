//! Logging (JSON lines by default, or human-readable, filtered by `RUST_LOG`) and
//! the Prometheus collectors that `/metrics` serves.

use std::time::Duration;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};
use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;

/// Installs the global subscriber. Safe to call more than once (later calls are no-ops).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

/// Prometheus collectors for HTTP traffic and the connection pool. One registry per
/// application instance, so several instances can live in one test process.
pub struct HttpMetrics {
    pub(crate) registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pub(crate) pool_size: IntGauge,
    pub(crate) pool_idle: IntGauge,
    webhooks_rejected: IntCounterVec,
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
        let webhooks_rejected = IntCounterVec::new(
            Opts::new(
                "webhooks_rejected_total",
                "Webhook deliveries refused before anything was stored, by provider and reason",
            ),
            &["provider", "reason"],
        )
        .expect("valid counter");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(webhooks_rejected.clone()),
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
            webhooks_rejected,
        }
    }

    /// A webhook refused at the door (bad or missing signature, stale timestamp).
    pub fn webhook_rejected(&self, provider: &str, reason: &str) {
        self.webhooks_rejected
            .with_label_values(&[provider, reason])
            .inc();
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

//! Logging (JSON lines by default, or human-readable, filtered by `RUST_LOG`) and
//! the Prometheus collectors that `/metrics` serves.

use std::time::Duration;

use prometheus::{
    Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry,
};
use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;

/// The target of the one line logged per HTTP request (`request finished`), so a
/// filter can silence requests alone: `RUST_LOG=info,pulseboard::request=warn`.
pub const REQUEST_LOG_TARGET: &str = "pulseboard::request";

/// The filter when `RUST_LOG` is unset.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_http=info";

/// The demo's filter when `RUST_LOG` is unset: the browser polls every few seconds,
/// so request lines would scroll the sign-ins away; warnings, errors and one line
/// per sync stay. `RUST_LOG=info` brings the request lines back.
pub const DEMO_FILTER: &str = "info,sqlx=warn,tower_http=info,pulseboard::request=warn";

/// Installs the global subscriber with [`DEFAULT_FILTER`] unless `RUST_LOG` is set.
/// Safe to call more than once (later calls are no-ops).
pub fn init(format: LogFormat) {
    init_with(format, DEFAULT_FILTER)
}

/// Installs the global subscriber with `default_filter` unless `RUST_LOG` is set.
pub fn init_with(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
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

/// Prometheus collectors for HTTP traffic, the connection pool, the background work
/// of this process and (refreshed on every scrape from the database, so the same in
/// every instance) the queue, sync lag and outboxes. One registry per application
/// instance, so several instances can live in one test process.
pub struct HttpMetrics {
    pub(crate) registry: Registry,
    requests: IntCounterVec,
    request_errors: IntCounterVec,
    latency: HistogramVec,
    pub(crate) pool_size: IntGauge,
    pub(crate) pool_idle: IntGauge,
    webhooks_rejected: IntCounterVec,
    sync_failures: IntCounterVec,
    /// 1 while this process's scheduler loop runs (`serve`, `worker`, `demo`).
    pub scheduler_running: IntGauge,
    /// 1 while this process holds the scheduler lock (one process per database).
    pub scheduler_leader: IntGauge,
    /// Sync worker loops running in this process, and how many are running a job.
    pub sync_workers: IntGauge,
    pub sync_workers_busy: IntGauge,
    pub(crate) sync_jobs: IntGaugeVec,
    pub(crate) sync_oldest_queued: Gauge,
    pub(crate) sync_lag: GaugeVec,
    pub(crate) outbox_pending: IntGaugeVec,
    pub(crate) outbox_failed: IntGaugeVec,
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
        let request_errors = IntCounterVec::new(
            Opts::new(
                "http_request_errors_total",
                "HTTP responses with a 4xx or 5xx status, by route and class",
            ),
            &["route", "class"],
        )
        .expect("valid counter");
        let sync_failures = IntCounterVec::new(
            Opts::new(
                "sync_failures_total",
                "Sync runs that did not succeed, by provider and reason (transient, rate_limited, or the failure's code)",
            ),
            &["provider", "reason"],
        )
        .expect("valid counter");
        let gauge = |name: &str, help: &str| IntGauge::new(name, help).expect("valid gauge");
        let scheduler_running = gauge(
            "scheduler_running",
            "1 when this process runs the sync scheduler loop",
        );
        let scheduler_leader = gauge(
            "scheduler_leader",
            "1 when this process is the elected scheduler",
        );
        let sync_workers = gauge(
            "sync_workers",
            "Sync jobs this process runs at once (its slots)",
        );
        let sync_workers_busy = gauge(
            "sync_workers_busy",
            "Sync workers of this process running a job now",
        );
        let sync_jobs = IntGaugeVec::new(
            Opts::new("sync_jobs", "Sync jobs queued or running, in the database"),
            &["status"],
        )
        .expect("valid gauge");
        let sync_oldest_queued = Gauge::new(
            "sync_oldest_queued_job_age_seconds",
            "How long the oldest due queued sync job has waited (0 when none waits)",
        )
        .expect("valid gauge");
        let sync_lag = GaugeVec::new(
            Opts::new(
                "sync_lag_seconds",
                "Seconds since the least recently synced connected integration of each provider last succeeded (since it was connected, if never)",
            ),
            &["provider"],
        )
        .expect("valid gauge");
        let outbox_pending = IntGaugeVec::new(
            Opts::new(
                "outbox_pending_messages",
                "Messages waiting to be sent, by channel (email, slack)",
            ),
            &["channel"],
        )
        .expect("valid gauge");
        let outbox_failed = IntGaugeVec::new(
            Opts::new(
                "outbox_failed_messages",
                "Messages given up on (refused, or out of attempts), by channel; alert on increase()",
            ),
            &["channel"],
        )
        .expect("valid gauge");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(request_errors.clone()),
            Box::new(sync_failures.clone()),
            Box::new(scheduler_running.clone()),
            Box::new(scheduler_leader.clone()),
            Box::new(sync_workers.clone()),
            Box::new(sync_workers_busy.clone()),
            Box::new(sync_jobs.clone()),
            Box::new(sync_oldest_queued.clone()),
            Box::new(sync_lag.clone()),
            Box::new(outbox_pending.clone()),
            Box::new(outbox_failed.clone()),
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
            request_errors,
            latency,
            pool_size,
            pool_idle,
            webhooks_rejected,
            sync_failures,
            scheduler_running,
            scheduler_leader,
            sync_workers,
            sync_workers_busy,
            sync_jobs,
            sync_oldest_queued,
            sync_lag,
            outbox_pending,
            outbox_failed,
        }
    }

    /// A webhook refused at the door (bad or missing signature, stale timestamp).
    pub fn webhook_rejected(&self, provider: &str, reason: &str) {
        self.webhooks_rejected
            .with_label_values(&[provider, reason])
            .inc();
    }

    /// A sync run that did not succeed: `reason` is a class (`transient`,
    /// `rate_limited`, `database`) or the failure's code (`reauth_required`, …),
    /// never the provider's message.
    pub fn sync_failed(&self, provider: &str, reason: &str) {
        self.sync_failures
            .with_label_values(&[provider, reason])
            .inc();
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        if status >= 400 {
            let class = if status >= 500 { "5xx" } else { "4xx" };
            self.request_errors.with_label_values(&[route, class]).inc();
        }
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

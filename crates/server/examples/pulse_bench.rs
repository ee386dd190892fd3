//! Benchmarks of the live revenue pulse (BENCHMARKS.md, issue 15).
//!
//! `intake`: webhook deliveries posted over loopback HTTP by a load generator in this
//! process, to the real router. Two handlers side by side on one server:
//!
//! - the production intake, `POST /api/webhooks/lemonsqueezy/{endpoint}`: verify the
//!   signature, store the delivery in the inbox, acknowledge; the server's processing
//!   loop turns the inbox into records and revenue events behind it;
//! - a baseline mounted beside it for this benchmark, `POST /bench/inline/{endpoint}`:
//!   the same verification and inbox write, then the delivery processed
//!   (`webhooks::process_now`: records, revenue event, rollups, the live ping) and
//!   committed before the answer.
//!
//! Each is driven closed-loop (`BENCH_CONCURRENCY` requests in flight, default 32) to
//! its maximum rate; the production intake is then driven open-loop at half that rate,
//! acknowledgement latency measured from each request's scheduled send time. 10 % of
//! the deliveries are sent twice. Afterwards every delivery's revenue events must be
//! in `revenue_events` exactly once (0 lost, 0 duplicated): the bench fails otherwise.
//!
//! `live`: writers (the processing of a backlog of deliveries, `webhooks::process_due`)
//! with no live subscriber and with 200 SSE subscribers connected over HTTP, rounds
//! alternating; then event-to-browser latency (acknowledged webhook → event read by
//! every subscriber), and the server's memory per idle SSE client with 1,000 clients
//! connected. The subscribers run in a child process (this example re-executed), so
//! their memory and CPU are not the server's.
//!
//! ```sh
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo run --release -p pulseboard-server --example pulse_bench -- [intake|live|all] [deliveries]
//! ```

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    io::{BufRead, Write},
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{bail, Context};
use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing, Json, Router,
};
use chrono::Utc;
use pulseboard_connectors::Registry;
use pulseboard_server::{
    config::{Config, ConfigArgs},
    db::{self, Bypass, Database, MIGRATOR},
    http,
    integrations::vault::{generate_key_entry, Vault},
    state::AppState,
};
use pulseboard_simulator::{defaults, DataConfig, Simulator, SimulatorConfig, SimulatorHandle};
use serde_json::{json, Value};
use sqlx::{postgres::PgPoolOptions, Connection, PgConnection};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// One signed delivery, ready to post.
#[derive(Clone)]
struct Delivery {
    headers: Vec<(String, String)>,
    body: Bytes,
    /// The revenue events it must produce: (source id, kind).
    revenue: Vec<(String, String)>,
}

struct Bench {
    state: AppState,
    base: String,
    org: String,
    cookie: String,
    endpoint_id: Uuid,
    integration_id: Uuid,
    secret: String,
    sim: SimulatorHandle,
    /// The server's processing loop runs only while this is set.
    processing: Arc<AtomicBool>,
    client: reqwest::Client,
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn unix_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_micros() as i64
}

fn rss_kib() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("sse-clients") {
        // The clients stand in for browsers on other machines: one thread, so what
        // they take of this machine's two cores is as little as it can be.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let mode = ClientMode::parse(&args[5])?;
        return runtime.block_on(sse_clients(&args[2], &args[3], args[4].parse()?, mode));
    }
    tokio::runtime::Runtime::new()?.block_on(bench_main(args))
}

async fn bench_main(args: Vec<String>) -> anyhow::Result<()> {
    let what = args.get(1).cloned().unwrap_or_else(|| "all".into());
    let deliveries: usize = args.get(2).map_or(Ok(10_000), |a| a.parse())?;
    let admin = std::env::var("DATABASE_URL").context("DATABASE_URL")?;
    let name = format!("pulse_bench_{}", std::process::id());
    let mut admin_conn = PgConnection::connect(&admin).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin_conn)
        .await?;
    let mut url = url::Url::parse(&admin)?;
    url.set_path(&format!("/{name}"));
    let result = async {
        let bench = setup(url.as_str()).await?;
        if what == "intake" || what == "all" {
            intake(&bench, deliveries).await?;
        }
        if what == "live" || what == "all" {
            live(&bench, deliveries / 4).await?;
        }
        bench.state.db.pool().close().await;
        anyhow::Ok(())
    }
    .await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin_conn)
        .await?;
    result
}

/// The server (the real router plus the baseline route, the live listener and a
/// processing loop that can be paused), the simulator, and a tenant with a
/// LemonSqueezy store and its webhook endpoint, set up over HTTP.
async fn setup(database_url: &str) -> anyhow::Result<Arc<Bench>> {
    let pool = PgPoolOptions::new()
        .max_connections(20)
        .connect(database_url)
        .await?;
    MIGRATOR.run(&pool).await?;
    let sim = Simulator::start(SimulatorConfig {
        data: DataConfig {
            history_days: 7,
            end: Utc::now().timestamp(),
            ..DataConfig::default()
        },
        ..SimulatorConfig::default()
    })
    .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let dir = tempfile::tempdir()?;
    let mut config = Config::from_args(ConfigArgs {
        addr,
        ..ConfigArgs::for_local(dir.path().to_path_buf())
    })?;
    std::mem::forget(dir);
    for (var, value) in pulseboard_simulator::connector_settings(&sim.base_url()) {
        config.providers.set(var, value);
    }
    let providers = Registry::from_config(&config.providers_config())?;
    let mailer = pulseboard_server::notify::Mailer::from_config(&config)?;
    let state = AppState::new(
        Database::from_pool(pool.clone()),
        config,
        Vault::from_spec(&generate_key_entry("bench"))?,
        providers,
        mailer,
    );
    let router: Router = http::router(state.clone()).merge(
        Router::new()
            .route("/bench/inline/{endpoint_id}", routing::post(inline))
            .with_state(state.clone()),
    );
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    let shutdown = CancellationToken::new();
    tokio::spawn(pulseboard_server::live::listen(
        state.clone(),
        shutdown.clone(),
    ));
    let processing = Arc::new(AtomicBool::new(true));
    {
        // The server's webhook loop (startup.rs), with a switch.
        let (state, processing) = (state.clone(), processing.clone());
        tokio::spawn(async move {
            let refresher = pulseboard_server::webhooks::Refresher::default();
            loop {
                if state.db.pool().is_closed() {
                    return;
                }
                if processing.load(Ordering::SeqCst) {
                    if let Err(error) =
                        pulseboard_server::webhooks::process_due_with(&state, &refresher).await
                    {
                        eprintln!("processing pass failed: {error:#}");
                    }
                }
                tokio::select! {
                    _ = state.webhook_wakeup.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
        });
    }

    let base = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let signup = client
        .post(format!("{base}/api/auth/signup"))
        .json(&json!({ "email": "bench@example.com", "password": "pulseboard-bench", "name": "Bench",
            "org_name": "Bench", "store": { "name": "Bench", "currency": "USD", "timezone": "UTC" } }))
        .send()
        .await?;
    let cookie = signup
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("pb_session="))
        .and_then(|v| v.split(';').next())
        .context("session cookie")?
        .to_owned();
    let me: Value = signup.json().await?;
    let org = me["memberships"][0]["org_slug"]
        .as_str()
        .context("org slug")?
        .to_owned();
    let as_owner = |r: reqwest::RequestBuilder| r.header("cookie", &cookie);
    let stores: Value = as_owner(client.get(format!("{base}/api/orgs/{org}/stores")))
        .send()
        .await?
        .json()
        .await?;
    let store = stores[0]["id"].as_str().context("store")?.to_owned();
    let integration: Value = as_owner(client.post(format!(
        "{base}/api/orgs/{org}/integrations/lemonsqueezy/api-key"
    )))
    .json(&json!({ "store_id": store, "fields": {
        "api_key": defaults::LEMONSQUEEZY_API_KEY,
        "store_id": defaults::LEMONSQUEEZY_STORE_ID.to_string() } }))
    .send()
    .await?
    .json()
    .await?;
    let integration_id: Uuid = integration["id"]
        .as_str()
        .with_context(|| format!("integration: {integration}"))?
        .parse()?;
    let created: Value = as_owner(client.post(format!(
        "{base}/api/orgs/{org}/integrations/{integration_id}/webhook"
    )))
    .json(&json!({}))
    .send()
    .await?
    .json()
    .await?;
    let secret = created["secret"].as_str().context("secret")?.to_owned();
    let endpoint_id: Uuid = created["endpoint"]["id"]
        .as_str()
        .context("endpoint")?
        .parse()?;
    sim.advance_to(Utc::now().timestamp());
    // Anything the store announced before now is not part of any measurement.
    sim.lemonsqueezy_webhooks(&secret);
    Ok(Arc::new(Bench {
        state,
        base,
        org,
        cookie,
        endpoint_id,
        integration_id,
        secret,
        sim,
        processing,
        client,
    }))
}

/// The baseline: verify, store, process and commit, then answer.
async fn inline(
    State(state): State<AppState>,
    Path(endpoint_id): Path<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, (StatusCode, String)> {
    let fail = |e: &dyn std::fmt::Display| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    let mut tx = state
        .db
        .bypass_tx(Bypass::Webhook)
        .await
        .map_err(|e| fail(&e))?;
    let receiver = db::webhooks::receiver(&mut *tx, endpoint_id)
        .await
        .map_err(|e| fail(&e))?
        .ok_or((StatusCode::NOT_FOUND, "endpoint".into()))?;
    let provider = state
        .providers
        .get(&receiver.provider)
        .ok_or((StatusCode::NOT_FOUND, "provider".into()))?;
    let secret = state
        .vault
        .decrypt(
            receiver.integration_id,
            db::webhooks::SECRET_FIELD,
            &receiver.secret_ciphertext,
        )
        .map_err(|e| fail(&e))?;
    provider
        .verify_webhook(&headers, &body, &secret, Utc::now())
        .map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))?;
    let delivery = provider
        .webhook_delivery(&headers, &body)
        .map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))?;
    let stored = db::webhooks::receive(
        &mut tx,
        &db::webhooks::Delivery {
            org_id: receiver.org_id,
            endpoint_id,
            event_id: &delivery.event_id,
            event_type: &delivery.event_type,
            body: &body,
            headers: &json!({}),
        },
    )
    .await
    .map_err(|e| fail(&e))?;
    tx.commit().await.map_err(|e| fail(&e))?;
    pulseboard_server::webhooks::process_now(&state, endpoint_id, &delivery.event_id)
        .await
        .map_err(|e| fail(&e))?;
    Ok(Json(json!({ "stored": stored })))
}

/// `n` new one-off orders at the simulated store, as signed `order_created` deliveries.
fn new_deliveries(bench: &Bench, n: usize, tag: &str) -> anyhow::Result<Vec<Delivery>> {
    for i in 0..n {
        let campaign = format!("{tag}-{}", i % 7);
        bench
            .sim
            .lemonsqueezy_new_order(304 + (i % 2) as u64, Some(&campaign))
            .context("a new order")?;
    }
    let provider = bench
        .state
        .providers
        .get("lemonsqueezy")
        .context("lemonsqueezy")?;
    let mut out = Vec::with_capacity(n);
    for w in bench.sim.lemonsqueezy_webhooks(&bench.secret) {
        let mut headers = HeaderMap::new();
        for (k, v) in &w.headers {
            headers.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes())?,
                v.parse()?,
            );
        }
        let parsed = provider
            .webhook_delivery(&headers, w.body.as_bytes())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        out.push(Delivery {
            headers: w.headers,
            body: Bytes::from(w.body),
            revenue: parsed
                .revenue
                .iter()
                .map(|m| (m.source_id.clone(), m.kind.as_str().to_owned()))
                .collect(),
        });
    }
    if out.len() < n {
        bail!("expected {n} deliveries, got {}", out.len());
    }
    Ok(out)
}

async fn post(bench: &Bench, path: &str, d: &Delivery) -> anyhow::Result<()> {
    let mut request = bench.client.post(format!("{}{path}", bench.base));
    for (k, v) in &d.headers {
        request = request.header(k.as_str(), v.as_str());
    }
    let response = request.body(d.body.clone()).send().await?;
    if response.status() != StatusCode::OK {
        bail!("{}: {}", response.status(), response.text().await?);
    }
    Ok(())
}

/// Posts every delivery (each tenth twice) with `concurrency` requests in flight;
/// returns (acknowledgements per second, sorted latencies in ms).
async fn closed_loop(
    bench: &Arc<Bench>,
    path: &str,
    deliveries: &[Delivery],
    concurrency: usize,
) -> anyhow::Result<(f64, Vec<f64>)> {
    let mut sends: Vec<Delivery> = deliveries.to_vec();
    // Replays arrive later, as a provider's retries do.
    sends.extend(deliveries.iter().step_by(10).cloned());
    let sends = Arc::new(sends);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (bench, sends, next, path) =
            (bench.clone(), sends.clone(), next.clone(), path.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(d) = sends.get(i) else { break };
                let t = Instant::now();
                post(&bench, &path, d).await?;
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let rate = sends.len() as f64 / started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    Ok((rate, latencies))
}

/// Posts at `rate` per second on a fixed schedule, each request on its own task;
/// latency from the scheduled send time (so a stall is not hidden by fewer sends).
async fn open_loop(
    bench: &Arc<Bench>,
    path: &str,
    deliveries: &[Delivery],
    rate: f64,
) -> anyhow::Result<Vec<f64>> {
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let mut tasks = Vec::with_capacity(deliveries.len());
    for (i, d) in deliveries.iter().enumerate() {
        let at = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(at).await;
        let (bench, d, path) = (bench.clone(), d.clone(), path.to_owned());
        tasks.push(tokio::spawn(async move {
            post(&bench, &path, &d).await?;
            anyhow::Ok((tokio::time::Instant::now() - at).as_secs_f64() * 1000.0)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.push(task.await??);
    }
    latencies.sort_by(f64::total_cmp);
    Ok(latencies)
}

/// Waits until the inbox is processed; how long it took.
async fn settle(bench: &Bench) -> anyhow::Result<Duration> {
    let started = Instant::now();
    loop {
        let waiting: i64 =
            sqlx::query_scalar("SELECT count(*) FROM webhook_inbox WHERE processed_at IS NULL")
                .fetch_one(bench.state.db.pool())
                .await?;
        if waiting == 0 {
            return Ok(started.elapsed());
        }
        bench.state.webhook_wakeup.notify_one();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every delivery's events are stored exactly once, and nothing else is: (lost, duplicated).
async fn audit(bench: &Bench, all_sent: &[Delivery]) -> anyhow::Result<(usize, usize)> {
    let failed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM webhook_inbox WHERE error IS NOT NULL")
            .fetch_one(bench.state.db.pool())
            .await?;
    if failed > 0 {
        bail!("{failed} deliveries failed to process");
    }
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT source_id, kind FROM revenue_events WHERE integration_id = $1")
            .bind(bench.integration_id)
            .fetch_all(bench.state.db.pool())
            .await?;
    let mut counts: HashMap<(String, String), usize> = HashMap::new();
    for row in rows {
        *counts.entry(row).or_default() += 1;
    }
    let expected: BTreeSet<(String, String)> = all_sent
        .iter()
        .flat_map(|d| d.revenue.iter().cloned())
        .collect();
    let lost = expected.iter().filter(|k| !counts.contains_key(*k)).count();
    let duplicated = counts.values().map(|c| c - 1).sum::<usize>();
    let inbox: Vec<(String, i64)> = sqlx::query_as(
        "SELECT event_id, count(*) FROM webhook_inbox GROUP BY event_id HAVING count(*) > 1",
    )
    .fetch_all(bench.state.db.pool())
    .await?;
    Ok((lost, duplicated + inbox.len()))
}

async fn intake(bench: &Arc<Bench>, n: usize) -> anyhow::Result<()> {
    let concurrency: usize = std::env::var("BENCH_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    let durable_path = format!("/api/webhooks/lemonsqueezy/{}", bench.endpoint_id);
    let inline_path = format!("/bench/inline/{}", bench.endpoint_id);
    let mut sent = Vec::new();
    println!("intake: {n} deliveries per run, {concurrency} in flight, 10 % sent twice");

    let warm = new_deliveries(bench, 500, "warm")?;
    closed_loop(bench, &durable_path, &warm, concurrency).await?;
    closed_loop(bench, &inline_path, &warm[..100], concurrency).await?;
    settle(bench).await?;
    sent.extend(warm);

    let batch = new_deliveries(bench, n, "durable")?;
    let (durable_rate, durable_lat) =
        closed_loop(bench, &durable_path, &batch, concurrency).await?;
    let drained = settle(bench).await?;
    println!(
        "durable intake, max: {durable_rate:.0} acks/s; ack p50 {:.1} ms, p99 {:.1} ms; inbox processed {:.1} s after the last ack",
        pct(&durable_lat, 0.5),
        pct(&durable_lat, 0.99),
        drained.as_secs_f64()
    );
    sent.extend(batch);

    let inline_n = (n / 4).max(200);
    let batch = new_deliveries(bench, inline_n, "inline")?;
    let (inline_rate, inline_lat) = closed_loop(bench, &inline_path, &batch, concurrency).await?;
    settle(bench).await?;
    println!(
        "verify + process + commit per request, max: {inline_rate:.0} acks/s ({inline_n} deliveries); p50 {:.1} ms, p99 {:.1} ms",
        pct(&inline_lat, 0.5),
        pct(&inline_lat, 0.99)
    );
    sent.extend(batch);

    let half = durable_rate / 2.0;
    let seconds = 10.0;
    let batch = new_deliveries(bench, (half * seconds) as usize, "half")?;
    let lat = open_loop(bench, &durable_path, &batch, half).await?;
    let drained = settle(bench).await?;
    println!(
        "durable intake at half the max ({half:.0}/s for {seconds} s, open loop): ack p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; inbox processed {:.1} s after the last ack",
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN),
        drained.as_secs_f64()
    );
    sent.extend(batch);

    let (lost, duplicated) = audit(bench, &sent).await?;
    let events: usize = sent.iter().map(|d| d.revenue.len()).sum();
    println!(
        "throughput {:.1}× the baseline; {} deliveries, {events} revenue events: {lost} lost, {duplicated} duplicated",
        durable_rate / inline_rate,
        sent.len()
    );
    assert_eq!(
        (lost, duplicated),
        (0, 0),
        "every sale counted exactly once"
    );
    Ok(())
}

/// What the subscribers do with the stream.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientMode {
    /// Count the events each connection reads (a search for `id:` lines, no parsing):
    /// while the writers are timed, the clients should cost this machine as little
    /// as they can.
    Count,
    /// Read every event's id and note when it arrived (event-to-browser latency).
    Trace,
}

impl ClientMode {
    fn parse(arg: &str) -> anyhow::Result<Self> {
        Ok(match arg {
            "count" => Self::Count,
            "trace" => Self::Trace,
            other => bail!("client mode {other}"),
        })
    }

    fn arg(self) -> &'static str {
        match self {
            Self::Count => "count",
            Self::Trace => "trace",
        }
    }
}

/// A child process holding `n` SSE connections; prints `connected` once they all
/// answered, then, when stdin closes, `count {events}` for every connection
/// (`Count`), or `seq unix_micros` for every event every connection read (`Trace`).
async fn sse_clients(url: &str, cookie: &str, n: usize, mode: ClientMode) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let seen: Arc<Mutex<Vec<(i64, i64)>>> = Arc::default();
    let counts: Arc<Vec<AtomicUsize>> = Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect());
    let connected = Arc::new(AtomicUsize::new(0));
    for connection in 0..n {
        let (client, url, cookie, seen, counts, connected) = (
            client.clone(),
            url.to_owned(),
            cookie.to_owned(),
            seen.clone(),
            counts.clone(),
            connected.clone(),
        );
        tokio::spawn(async move {
            let mut response = client
                .get(&url)
                .header("cookie", cookie)
                .header("accept", "text/event-stream")
                .send()
                .await?;
            if response.status() != StatusCode::OK {
                bail!("{}", response.status());
            }
            connected.fetch_add(1, Ordering::SeqCst);
            let id_line = memchr::memmem::Finder::new(b"\nid:");
            // The last bytes of the previous chunk, so an `id:` line cut between two
            // reads is found once; the stream's first line follows a virtual newline.
            let mut carry: Vec<u8> = b"\n".to_vec();
            // Trace: linear in what arrives, like a browser's EventSource: messages
            // are cut from the front of the buffer, shortened once per chunk.
            let mut pending: Vec<u8> = Vec::new();
            let mut read = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                if mode == ClientMode::Count {
                    carry.extend_from_slice(&chunk);
                    let found = id_line.find_iter(&carry).count();
                    counts[connection].fetch_add(found, Ordering::Relaxed);
                    carry.drain(..carry.len().saturating_sub(3));
                    continue;
                }
                let at = unix_micros();
                pending.extend_from_slice(&chunk);
                let mut start = 0;
                while let Some(len) = pending[start..].windows(2).position(|w| w == b"\n\n") {
                    let message = std::str::from_utf8(&pending[start..start + len])?;
                    if let Some(id) = message.lines().find_map(|l| l.strip_prefix("id:")) {
                        read.push((id.trim().parse()?, at));
                    }
                    start += len + 2;
                }
                pending.drain(..start);
                seen.lock().unwrap().append(&mut read);
            }
            anyhow::Ok(())
        });
    }
    while connected.load(Ordering::SeqCst) < n {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("connected");
    std::io::stdout().flush()?;
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        while std::io::stdin().lock().read_line(&mut line).unwrap_or(0) > 0 {
            line.clear();
        }
    })
    .await?;
    let mut out = std::io::stdout().lock();
    match mode {
        ClientMode::Count => {
            for count in counts.iter() {
                writeln!(out, "count {}", count.load(Ordering::Relaxed))?;
            }
        }
        ClientMode::Trace => {
            for (seq, at) in seen.lock().unwrap().iter() {
                writeln!(out, "{seq} {at}")?;
            }
        }
    }
    Ok(())
}

struct Subscribers {
    child: tokio::process::Child,
    stdin: Option<tokio::process::ChildStdin>,
    stdout: tokio::io::BufReader<tokio::process::ChildStdout>,
}

async fn subscribe(bench: &Bench, n: usize, mode: ClientMode) -> anyhow::Result<Subscribers> {
    use tokio::io::AsyncBufReadExt;
    let url = format!("{}/api/orgs/{}/live", bench.base, bench.org);
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .args([
            "sse-clients",
            &url,
            &bench.cookie,
            &n.to_string(),
            mode.arg(),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let stdin = child.stdin.take();
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().context("stdout")?);
    let mut line = String::new();
    stdout.read_line(&mut line).await?;
    if line.trim() != "connected" {
        bail!("subscribers: {line}");
    }
    Ok(Subscribers {
        child,
        stdin,
        stdout,
    })
}

/// What the clients read, by their mode.
struct Seen {
    /// Events each connection read (`Count`).
    counts: Vec<usize>,
    /// (seq, unix micros) of every event every connection read (`Trace`).
    events: Vec<(i64, i64)>,
}

impl Subscribers {
    /// Stops the clients and collects what they read.
    async fn finish(mut self) -> anyhow::Result<Seen> {
        use tokio::io::AsyncBufReadExt;
        drop(self.stdin.take());
        let mut seen = Seen {
            counts: Vec::new(),
            events: Vec::new(),
        };
        let mut line = String::new();
        while self.stdout.read_line(&mut line).await? > 0 {
            let mut parts = line.split_whitespace();
            match (parts.next(), parts.next()) {
                (Some("count"), Some(n)) => seen.counts.push(n.parse()?),
                (Some(seq), Some(at)) => seen.events.push((seq.parse()?, at.parse()?)),
                _ => {}
            }
            line.clear();
        }
        self.child.wait().await?;
        Ok(seen)
    }
}

/// Takes out what earlier rounds added (their deliveries, records, events and sales,
/// all stored after `mark`) and vacuums, so every round processes its deliveries into
/// the same database. Otherwise each round adds to the same store-day, whose rollups
/// are recomputed whole, and every round is slower than the one before (468 → 328
/// deliveries/s over one run), which drowns the subscribers' effect.
async fn reset_to(bench: &Bench, mark: chrono::DateTime<Utc>) -> anyhow::Result<()> {
    let pool = bench.state.db.pool();
    for statement in [
        "DELETE FROM metric_events WHERE integration_id = $1 AND synced_at >= $2",
        "DELETE FROM raw_records WHERE integration_id = $1 AND synced_at >= $2",
        "DELETE FROM revenue_events WHERE integration_id = $1 AND received_at >= $2",
        "DELETE FROM webhook_inbox WHERE endpoint_id = $3 AND received_at >= $2",
    ] {
        sqlx::query(statement)
            .bind(bench.integration_id)
            .bind(mark)
            .bind(bench.endpoint_id)
            .execute(pool)
            .await?;
    }
    sqlx::query(
        "VACUUM ANALYZE metric_events, raw_records, revenue_events, webhook_inbox, metric_rollups_daily",
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Posts deliveries to the inbox with processing paused, then times processing them.
async fn writers(bench: &Arc<Bench>, n: usize, mark: chrono::DateTime<Utc>) -> anyhow::Result<f64> {
    reset_to(bench, mark).await?;
    let batch = new_deliveries(bench, n, "writers")?;
    bench.processing.store(false, Ordering::SeqCst);
    // Let a pass in progress finish.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let path = format!("/api/webhooks/lemonsqueezy/{}", bench.endpoint_id);
    let sends = Arc::new(batch);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (shared, sends, next, path) =
            (bench.clone(), sends.clone(), next.clone(), path.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(d) = sends.get(i) else { break };
                post(&shared, &path, d).await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let started = Instant::now();
    let processed = pulseboard_server::webhooks::process_due(&bench.state).await?;
    let elapsed = started.elapsed().as_secs_f64();
    bench.processing.store(true, Ordering::SeqCst);
    if processed != n {
        bail!("processed {processed} of {n}");
    }
    Ok(n as f64 / elapsed)
}

/// CPU seconds (user + system) of this process's children that have been waited for
/// (`/proc/self/stat` fields 16 and 17, in clock ticks of 1/100 s).
fn children_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    // `rest` starts at field 3 (state): cutime is field 16, cstime 17.
    let ticks = |field: usize| {
        fields
            .get(field - 3)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(16) + ticks(17)) / 100.0
}

async fn live(bench: &Arc<Bench>, n: usize) -> anyhow::Result<()> {
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    println!("live: writers process {n} deliveries per round, {rounds} rounds each way");
    settle(bench).await?;
    // Every round starts from the database as it is now (`reset_to`). The two
    // configurations still take turns going first (ABBA), and each round's ratio
    // compares neighbours, so any drift left favours neither.
    let mark: chrono::DateTime<Utc> = sqlx::query_scalar("SELECT now()")
        .fetch_one(bench.state.db.pool())
        .await?;
    // One untimed round first: the first pass over fresh tables and caches is unlike
    // the rest (run 1 of session 13: 536 deliveries/s against 425–490 after).
    writers(bench, n, mark).await?;
    let mut without = Vec::new();
    let mut with = Vec::new();
    let mut client_shares = Vec::new();
    for round in 0..rounds {
        let subscribed_first = round % 2 == 1;
        if !subscribed_first {
            without.push(writers(bench, n, mark).await?);
        }
        let clients_before = children_cpu_seconds();
        let subscribers = subscribe(bench, 200, ClientMode::Count).await?;
        let rate = writers(bench, n, mark).await?;
        with.push(rate);
        // The streams' last batch.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let seen = subscribers.finish().await?;
        // What the 200 clients (a child process, waited for) took of the two cores
        // while the writers processed: the part of the gap that is the benchmark's
        // own clients sharing the server's machine, not the server's work.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        client_shares.push((children_cpu_seconds() - clients_before) / (cores * n as f64 / rate));
        let fewest = seen.counts.iter().copied().min().unwrap_or(0);
        if seen.counts.len() != 200 || fewest < n {
            bail!("a subscriber read {fewest} of {n} events");
        }
        if subscribed_first {
            without.push(writers(bench, n, mark).await?);
        }
    }
    let mut ratios: Vec<f64> = with.iter().zip(&without).map(|(w, o)| w / o).collect();
    let pooled = with.iter().sum::<f64>() / without.iter().sum::<f64>();
    let geometric = (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp();
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "writers: without subscribers {:?} deliveries/s; with 200 {:?}; per-round ratios {:?}: median {:.2}×, geometric mean {:.2}×, pooled {:.3}×; the clients' share of the machine's CPU while the writers ran: {:?}",
        without.iter().map(|r| r.round()).collect::<Vec<_>>(),
        with.iter().map(|r| r.round()).collect::<Vec<_>>(),
        ratios.iter().map(|r| (r * 100.0).round() / 100.0).collect::<Vec<_>>(),
        median(&mut ratios),
        geometric,
        pooled,
        client_shares.iter().map(|s| format!("{:.1} %", s * 100.0)).collect::<Vec<_>>(),
    );

    // Event to browser: acknowledged webhook → read by each of the 200 subscribers.
    let subscribers = subscribe(bench, 200, ClientMode::Trace).await?;
    let batch = new_deliveries(bench, 400, "latency")?;
    let path = format!("/api/webhooks/lemonsqueezy/{}", bench.endpoint_id);
    let mut acked: BTreeMap<String, i64> = BTreeMap::new();
    for (i, d) in batch.iter().enumerate() {
        post(bench, &path, d).await?;
        let at = unix_micros();
        for (source, _) in &d.revenue {
            acked.insert(source.clone(), at);
        }
        // 20 sales a second, unevenly spaced.
        tokio::time::sleep(Duration::from_millis(25 + (i as u64 * 37) % 50)).await;
    }
    settle(bench).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let seen = subscribers.finish().await?;
    let seqs: Vec<(i64, String)> =
        sqlx::query_as("SELECT seq, source_id FROM revenue_events WHERE integration_id = $1")
            .bind(bench.integration_id)
            .fetch_all(bench.state.db.pool())
            .await?;
    let ack_of: HashMap<i64, i64> = seqs
        .into_iter()
        .filter_map(|(seq, source)| acked.get(&source).map(|at| (seq, *at)))
        .collect();
    let mut latencies: Vec<f64> = seen
        .events
        .iter()
        .filter_map(|(seq, at)| ack_of.get(seq).map(|ack| (at - ack) as f64 / 1000.0))
        .collect();
    latencies.sort_by(f64::total_cmp);
    let expected = ack_of.len() * 200;
    println!(
        "event to browser (200 subscribers, {} events, {} reads of {expected}): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (batch interval {} ms)",
        ack_of.len(),
        latencies.len(),
        pct(&latencies, 0.5),
        pct(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN),
        pulseboard_server::live::BATCH_INTERVAL.as_millis()
    );
    assert_eq!(
        latencies.len(),
        expected,
        "every subscriber read every event"
    );

    // Memory per idle client.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rss_kib();
    let idle = subscribe(bench, 1000, ClientMode::Count).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = rss_kib();
    println!(
        "memory: server RSS {before} KiB, with 1,000 idle SSE clients {after} KiB: {:.1} KiB per client",
        (after - before) as f64 / 1000.0
    );
    idle.finish().await?;
    Ok(())
}

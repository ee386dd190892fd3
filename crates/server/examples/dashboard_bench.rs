//! Benchmark: the dashboard data endpoint under concurrent clients over HTTP on
//! loopback (BENCHMARKS.md, issue 19).
//!
//! The server is `pulseboard serve` in a child process (this example re-executed: its
//! child mode hands the command line `pulseboard serve` to the same `cli::run` the
//! binary's `main` calls, configured by environment variables only, without the
//! demo's simulator), so its memory is the server's alone. This process seeds one
//! store through the production paths (a sign-up over HTTP, events by binary `COPY`,
//! rollups as syncs build them), creates a six-widget dashboard over the API (the
//! widgets of `query_bench`), checks that every widget answers, then runs a
//! closed-loop load generator: `BENCH_CLIENTS` (default 200) clients, each with its
//! own connection, each sending `GET /api/orgs/{org}/dashboards/{id}/data` with the
//! session cookie as soon as its previous answer arrived, for `BENCH_SECONDS`
//! (default 20). Reported: requests per second, p50/p99 latency, errors (anything but
//! a complete 200), and the server's resident memory (`/proc/PID/status`: VmRSS idle
//! after seeding, and VmHWM / VmRSS after the load).
//!
//! ```sh
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo run --release -p pulseboard-server --example dashboard_bench -- [events]
//! # BENCH_CLIENTS=200 BENCH_SECONDS=20 BENCH_PORT=18851
//! ```

use std::{
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::{bail, ensure, Context};
use chrono::Utc;
use clap::Parser;
use pulseboard_connectors::{ProvidersConfig, Registry};
use pulseboard_server::{
    cli::Cli,
    db::{Database, MIGRATOR},
    sync::{
        events::{copy_events, EventRow},
        rollups,
    },
};
use serde_json::{json, Value};
use sqlx::{postgres::PgPoolOptions, Connection, PgConnection};
use uuid::Uuid;

const COUNTRIES: &[&str] = &["US", "CA", "GB", "DE", "AU", "FR", "NL", "SE"];
const METRICS: &[(&str, u64, i64)] = &[
    ("orders", 25, 1),
    ("gross_sales", 25, 20_000),
    ("net_sales", 25, 18_000),
    ("units_sold", 20, 4),
    ("refunds", 5, 5_000),
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn env_usize(var: &str, default: usize) -> anyhow::Result<usize> {
    std::env::var(var).map_or(Ok(default), |v| v.parse().context(var.to_owned()))
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if std::env::args().nth(1).as_deref() == Some("serve-child") {
        // Exactly what the `pulseboard` binary's main does with `pulseboard serve`.
        return runtime.block_on(pulseboard_server::cli::run(Cli::parse_from([
            "pulseboard",
            "serve",
        ])));
    }
    runtime.block_on(bench())
}

/// The server child, killed when dropped.
struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn memory_kb(pid: u32) -> anyhow::Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> anyhow::Result<u64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .with_context(|| format!("{name} in /proc/{pid}/status"))?;
        Ok(line.split_whitespace().nth(1).unwrap_or("0").parse()?)
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

async fn bench() -> anyhow::Result<()> {
    let events: usize = std::env::args().nth(1).map_or(Ok(500_000), |a| a.parse())?;
    let clients = env_usize("BENCH_CLIENTS", 200)?;
    let seconds = env_usize("BENCH_SECONDS", 20)?;
    let port = env_usize("BENCH_PORT", 18851)?;
    let admin = std::env::var("DATABASE_URL").context("DATABASE_URL")?;
    let name = format!("dashboard_bench_{}", std::process::id());
    let mut admin_conn = PgConnection::connect(&admin).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin_conn)
        .await?;
    let mut url = url::Url::parse(&admin)?;
    url.set_path(&format!("/{name}"));
    let result = run(url.as_str(), events, clients, seconds, port).await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin_conn)
        .await?;
    result
}

async fn run(
    url: &str,
    events: usize,
    clients: usize,
    seconds: usize,
    port: usize,
) -> anyhow::Result<()> {
    let data_dir = tempfile::tempdir()?;
    let base = format!("http://127.0.0.1:{port}");
    let server = Server(
        Command::new(std::env::current_exe()?)
            .arg("serve-child")
            .env("DATABASE_URL", url)
            .env("PULSEBOARD_ADDR", format!("127.0.0.1:{port}"))
            .env("PULSEBOARD_DATA_DIR", data_dir.path())
            .env("PULSEBOARD_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?,
    );
    let pid = server.0.id();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .timeout(Duration::from_secs(60))
        .build()?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await {
            if r.status().is_success() {
                break;
            }
        }
        ensure!(Instant::now() < deadline, "the server did not become ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A user, an organization and its store, signed up over HTTP.
    let signup = http
        .post(format!("{base}/api/auth/signup"))
        .json(
            &json!({ "email": "bench@example.com", "password": "correct horse battery staple",
                       "name": "Bench", "org_name": "Bench" }),
        )
        .send()
        .await?;
    ensure!(
        signup.status().as_u16() == 201,
        "signup: {}",
        signup.status()
    );
    let cookie = signup
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .context("a session cookie")?
        .to_str()?
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    let me: Value = signup.json().await?;
    let org_slug = me["memberships"][0]["org_slug"]
        .as_str()
        .context("org slug")?
        .to_owned();
    let org: Uuid = me["memberships"][0]["org_id"]
        .as_str()
        .context("org id")?
        .parse()?;
    let workspace = me["memberships"][0]["workspaces"][0]["workspace_id"]
        .as_str()
        .context("workspace")?
        .to_owned();
    let get = |path: String| {
        http.get(format!("{base}{path}"))
            .header(reqwest::header::COOKIE, cookie.clone())
    };
    let stores: Value = get(format!("/api/orgs/{org_slug}/stores"))
        .send()
        .await?
        .json()
        .await?;
    let store: Uuid = stores[0]["id"].as_str().context("store")?.parse()?;

    // Its Shopify history: events loaded and rolled up as syncs do.
    let pool = PgPoolOptions::new().max_connections(2).connect(url).await?;
    MIGRATOR.run(&pool).await?;
    let db = Database::from_pool(pool.clone());
    sqlx::query("UPDATE organizations SET plan = 'agency' WHERE id = $1")
        .bind(org)
        .execute(&pool)
        .await?;
    let integration = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO integrations (id, org_id, store_id, provider, auth_kind, external_account_id, account_label, cadence_minutes, last_synced_at)
         VALUES ($1, $2, $3, 'shopify', 'oauth', 'bench.myshopify.com', 'bench.myshopify.com', 30, now())",
    )
    .bind(integration)
    .bind(org)
    .bind(store)
    .execute(&pool)
    .await?;
    let end = Utc::now();
    let span = chrono::Duration::days(730).num_seconds();
    let start = end - chrono::Duration::days(730);
    let mut rng = Rng(2026);
    let mut conn = pool.acquire().await?.detach();
    let mut batch = Vec::with_capacity(50_000);
    for i in 0..events {
        let pick = rng.below(100);
        let mut acc = 0;
        let (metric, _, range) = *METRICS
            .iter()
            .find(|(_, share, _)| {
                acc += share;
                pick < acc
            })
            .expect("shares sum to 100");
        batch.push(EventRow {
            org_id: org,
            store_id: store,
            integration_id: integration,
            source: "shopify".into(),
            metric_name: metric.into(),
            metric_value: 1 + rng.below(range as u64) as i64,
            dimensions: format!(
                r#"{{"channel": "web", "country": "{}", "currency": "USD"}}"#,
                COUNTRIES[rng.below(COUNTRIES.len() as u64) as usize]
            ),
            recorded_at: start + chrono::Duration::seconds(span * i as i64 / events as i64),
            source_record_id: format!("order/{}", i / 4),
        });
        if batch.len() == batch.capacity() || i + 1 == events {
            let mut tx = conn.begin().await?;
            copy_events(&mut tx, &batch).await?;
            tx.commit().await?;
            batch.clear();
        }
    }
    sqlx::query(
        "INSERT INTO rollup_dirty_days (org_id, store_id, day)
         SELECT DISTINCT org_id, store_id, (recorded_at AT TIME ZONE 'UTC')::date FROM metric_events",
    )
    .execute(&mut conn)
    .await?;
    let providers = Registry::from_config(&ProvidersConfig::default())?;
    let catalog = |source: &str| providers.get(source).map_or(&[][..], |p| p.info().metrics);
    rollups::refresh_store(&db, store, &catalog).await?;
    sqlx::query("VACUUM ANALYZE").execute(&mut conn).await?;

    // The dashboard, over the API.
    let post = |path: String, body: Value| {
        http.post(format!("{base}{path}"))
            .header(reqwest::header::COOKIE, cookie.clone())
            .json(&body)
    };
    let created: Value = post(
        format!("/api/orgs/{org_slug}/dashboards"),
        json!({ "workspace_id": workspace, "name": "Bench",
                "layout": { "columns": 2, "sections": [{ "id": "top", "title": "Top" }] } }),
    )
    .send()
    .await?
    .json()
    .await?;
    let dashboard = created["id"].as_str().context("dashboard")?.to_owned();
    let widgets = [
        (
            "line_chart",
            json!({ "metric": "shopify.net_sales", "range": "last_30_days", "granularity": "day" }),
        ),
        (
            "bar_chart",
            json!({ "metric": "shopify.orders", "range": "last_30_days", "group_by": "country" }),
        ),
        (
            "line_chart",
            json!({ "metric": "shopify.gross_sales", "range": "last_90_days", "granularity": "day" }),
        ),
        (
            "line_chart",
            json!({ "metric": "shopify.units_sold", "range": "last_90_days", "granularity": "day" }),
        ),
        (
            "line_chart",
            json!({ "metric": "shopify.net_sales", "range": "last_365_days", "granularity": "day" }),
        ),
        (
            "kpi_card",
            json!({ "metric": "shopify.refunds", "range": "last_365_days" }),
        ),
    ];
    for (kind, mut query) in widgets {
        query["scope"] = json!({ "store": store });
        query["compare_to"] = json!("previous_period");
        let r = post(
            format!("/api/orgs/{org_slug}/dashboards/{dashboard}/widgets"),
            json!({ "type": kind, "title": kind, "section": "top", "query_config": query }),
        )
        .send()
        .await?;
        ensure!(r.status().as_u16() == 201, "widget: {}", r.text().await?);
    }
    let path = format!("/api/orgs/{org_slug}/dashboards/{dashboard}/data");
    let first: Value = get(path.clone()).send().await?.json().await?;
    let answers = first["widgets"].as_array().context("widgets")?;
    ensure!(answers.len() == 6, "six answers: {first}");
    for answer in answers {
        if answer["state"] != "ok" {
            bail!("a widget did not answer: {answer}");
        }
    }
    let body_bytes = serde_json::to_vec(&first)?.len();
    let (idle_rss, _) = memory_kb(pid)?;

    // The load.
    let until = Instant::now() + Duration::from_secs(seconds as u64);
    let errors = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        // One client each: its own connection, like a browser.
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        let (url, cookie, errors) = (format!("{base}{path}"), cookie.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < until {
                let sent = Instant::now();
                let ok = match client
                    .get(&url)
                    .header(reqwest::header::COOKIE, &cookie)
                    .send()
                    .await
                {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                };
                if ok {
                    latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            latencies
        }));
    }
    let started = Instant::now();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (rss, hwm) = memory_kb(pid)?;
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{events} events in one store; 6-widget dashboard, {body_bytes} bytes of JSON per answer"
    );
    println!(
        "{clients} clients for {elapsed:.1} s: {} requests, {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms, {} errors",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        errors.load(Ordering::Relaxed)
    );
    println!(
        "server memory: {:.1} MB resident idle after seeding; after the load {:.1} MB resident, peak {:.1} MB (VmHWM)",
        idle_rss as f64 / 1024.0,
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0
    );
    drop(server);
    pool.close().await;
    Ok(())
}

//! Benchmark: dashboard queries (BENCHMARKS.md).
//!
//! Generates metric events deterministically over 500 stores with a skewed size
//! distribution (store k gets a share proportional to 1/k), time-ordered over two years,
//! loads them through the production path, builds the rollups the way syncs do, then
//! times a 6-widget dashboard (30/90/365 days, one grouped by a dimension, each with its
//! previous period) for the largest store and a median one:
//! the metrics service, against (a) a naive GROUP BY over the raw table (no index on
//! it) and (b) the same GROUP BY with a btree index on (store, metric, time). All in one
//! run, on one database, and the results must be equal.
//!
//! ```sh
//! DATABASE_URL=postgres://… cargo run --release -p pulseboard-server --example query_bench -- 10000000
//! ```

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use pulseboard_connectors::{ProvidersConfig, Registry};
use pulseboard_server::{
    dashboards::{
        data::{evaluate, Overrides, ResultCache},
        model::Widget,
    },
    db::{Database, MIGRATOR},
    metrics::{engine, query::QueryConfig},
    sync::{
        events::{copy_events, EventRow},
        rollups,
    },
};
use serde_json::json;
use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    Connection, PgConnection,
};
use uuid::Uuid;

const STORES: usize = 500;
const COUNTRIES: &[&str] = &["US", "CA", "GB", "DE", "AU", "FR", "NL", "SE"];
/// (metric, share of events, value range)
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

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index]
}

/// The six widgets' queries for a store.
fn dashboard(store: Uuid) -> Vec<QueryConfig> {
    [
        json!({ "metric": "shopify.net_sales", "range": "last_30_days", "granularity": "day" }),
        json!({ "metric": "shopify.orders", "range": "last_30_days", "group_by": "country" }),
        json!({ "metric": "shopify.gross_sales", "range": "last_90_days", "granularity": "day" }),
        json!({ "metric": "shopify.units_sold", "range": "last_90_days", "granularity": "day" }),
        json!({ "metric": "shopify.net_sales", "range": "last_365_days", "granularity": "day" }),
        json!({ "metric": "shopify.refunds", "range": "last_365_days", "granularity": "day" }),
    ]
    .into_iter()
    .map(|mut q| {
        q["scope"] = json!({ "store": store });
        q["compare_to"] = json!("previous_period");
        serde_json::from_value(q).expect("valid query")
    })
    .collect()
}

/// The same widget as one GROUP BY over the raw events (current and previous period):
/// daily (or per-group) sums between the same store-local bounds.
async fn raw_widget(
    conn: &mut PgConnection,
    store: Uuid,
    q: &engine::QueryResult,
) -> anyhow::Result<(i64, i64)> {
    let metric = q.metric.trim_start_matches("shopify.");
    let mut totals = [0i64; 2];
    let windows = [Some(q.range), q.previous.as_ref().map(|p| p.range)];
    for (slot, window) in windows.iter().enumerate() {
        let Some(window) = window else { continue };
        let rows: Vec<(Option<String>, i64)> = sqlx::query_as(
            "SELECT CASE WHEN $5 THEN dimensions->>'country' ELSE (recorded_at AT TIME ZONE 'UTC')::date::text END,
                    sum(metric_value)::bigint
             FROM metric_events
             WHERE store_id = $1 AND metric_name = $2 AND dimensions @> '{\"currency\": \"USD\"}'
               AND recorded_at >= $3::date::timestamp AT TIME ZONE 'UTC' AND recorded_at < ($4::date + 1)::timestamp AT TIME ZONE 'UTC'
             GROUP BY 1",
        )
        .bind(store)
        .bind(metric)
        .bind(window.from)
        .bind(window.to)
        .bind(!q.groups.is_empty())
        .fetch_all(&mut *conn)
        .await?;
        totals[slot] = rows.iter().map(|(_, v)| v).sum();
    }
    Ok((totals[0], totals[1]))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(Ok(10_000_000), |a| a.parse())?;
    let runs: usize = std::env::args().nth(2).map_or(Ok(20), |a| a.parse())?;
    let admin = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    // BENCH_KEEP_DB=name: load into (or reuse, when it exists) a database that is kept.
    let kept = std::env::var("BENCH_KEEP_DB").ok();
    let name = kept
        .clone()
        .unwrap_or_else(|| format!("pulseboard_qbench_{}", Uuid::new_v4().simple()));
    let mut admin_conn = PgConnection::connect(&admin).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin_conn)
            .await?;
    if !exists {
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin_conn)
            .await?;
    }
    let mut url = url::Url::parse(&admin)?;
    url.set_path(&format!("/{name}"));
    // The server's own connection setting (db::Database::connect), for every variant.
    let options = url
        .as_str()
        .parse::<PgConnectOptions>()?
        .options([("jit", "off")]);
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await?;
    MIGRATOR.run(&pool).await?;
    if exists {
        let org: Uuid = sqlx::query_scalar("SELECT id FROM organizations")
            .fetch_one(&pool)
            .await?;
        println!("events: reusing {name}");
        let conn = pool.acquire().await?.detach();
        return measure(conn, org, runs).await;
    }
    let db = Database::from_pool(pool.clone());

    // 500 stores with integrations, in UTC.
    let (org, workspace) = (Uuid::new_v4(), Uuid::new_v4());
    sqlx::query(
        "INSERT INTO organizations (id, name, slug, plan) VALUES ($1, 'Bench', 'bench', 'agency')",
    )
    .bind(org)
    .execute(&pool)
    .await?;
    sqlx::query("INSERT INTO workspaces (id, org_id, name) VALUES ($1, $2, 'Main')")
        .bind(workspace)
        .bind(org)
        .execute(&pool)
        .await?;
    let mut stores = Vec::new();
    for k in 0..STORES {
        let (store, integration) = (Uuid::new_v4(), Uuid::new_v4());
        sqlx::query("INSERT INTO stores (id, org_id, workspace_id, name, currency, timezone) VALUES ($1, $2, $3, $4, 'USD', 'UTC')")
            .bind(store).bind(org).bind(workspace).bind(format!("Store {k}")).execute(&pool).await?;
        sqlx::query(
            "INSERT INTO integrations (id, org_id, store_id, provider, auth_kind, external_account_id, account_label, cadence_minutes, last_synced_at)
             VALUES ($1, $2, $3, 'shopify', 'oauth', $4, $4, 30, now())",
        )
        .bind(integration).bind(org).bind(store).bind(format!("s{k}.myshopify.com")).execute(&pool).await?;
        stores.push((store, integration));
    }
    // Skewed sizes: weight 1/(k+1); cumulative table for sampling.
    let weights: Vec<f64> = (0..STORES).map(|k| 1.0 / (k as f64 + 1.0)).collect();
    let total_weight: f64 = weights.iter().sum();
    let mut cumulative = Vec::with_capacity(STORES);
    let mut acc = 0.0;
    for w in &weights {
        acc += w / total_weight;
        cumulative.push(acc);
    }

    // Time-ordered events over two years ending now.
    let end: DateTime<Utc> = Utc::now();
    let span = Duration::days(730).num_seconds();
    let start = end - Duration::days(730);
    let mut rng = Rng(2026);
    let mut conn = pool.acquire().await?.detach();
    let load_started = Instant::now();
    let mut batch = Vec::with_capacity(50_000);
    for i in 0..n {
        let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        let k = cumulative.partition_point(|c| *c < u).min(STORES - 1);
        let pick = rng.below(100);
        let mut acc = 0;
        let (metric, _, range) = *METRICS
            .iter()
            .find(|(_, share, _)| {
                acc += share;
                pick < acc
            })
            .unwrap();
        let (store, integration) = stores[k];
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
            recorded_at: start + Duration::seconds(span * i as i64 / n as i64),
            source_record_id: format!("order/{}", i / 4),
        });
        if batch.len() == batch.capacity() {
            let mut tx = conn.begin().await?;
            copy_events(&mut tx, &batch).await?;
            tx.commit().await?;
            batch.clear();
        }
    }
    let mut tx = conn.begin().await?;
    copy_events(&mut tx, &batch).await?;
    tx.commit().await?;
    let loaded = load_started.elapsed().as_secs_f64();

    // Rollups, as syncs build them (every day dirty once).
    let rollup_started = Instant::now();
    sqlx::query(
        "INSERT INTO rollup_dirty_days (org_id, store_id, day)
         SELECT DISTINCT org_id, store_id, (recorded_at AT TIME ZONE 'UTC')::date FROM metric_events",
    )
    .execute(&mut conn)
    .await?;
    let providers = Registry::from_config(&ProvidersConfig::default())?;
    let catalog = |source: &str| providers.get(source).map_or(&[][..], |p| p.info().metrics);
    for (store, _) in &stores {
        rollups::refresh_store(&db, *store, &catalog).await?;
    }
    sqlx::query("VACUUM ANALYZE").execute(&mut conn).await?;
    let rolled = rollup_started.elapsed().as_secs_f64();

    println!("events: {n} over {STORES} stores; load {loaded:.1} s, rollups {rolled:.1} s");
    measure(conn, org, runs).await?;
    drop(pool);
    if kept.is_none() {
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut admin_conn)
            .await?;
    }
    Ok(())
}

/// Times the dashboard for the largest and a median store.
async fn measure(mut conn: PgConnection, org: Uuid, runs: usize) -> anyhow::Result<()> {
    let providers = Registry::from_config(&ProvidersConfig::default())?;
    // The largest store and a median one, by event count.
    let mut sizes: Vec<(i64, Uuid)> = sqlx::query_as(
        "SELECT count(*), store_id FROM metric_events GROUP BY store_id ORDER BY 1 DESC",
    )
    .fetch_all(&mut conn)
    .await?;
    sizes.sort_by_key(|b| std::cmp::Reverse(b.0));
    let targets = [("largest", sizes[0]), ("median", sizes[sizes.len() / 2])];

    // Every timed read runs as requests do: the app role, a member's id, RLS applied.
    let member: Uuid = sqlx::query_scalar(
        "WITH u AS (INSERT INTO users (id, email, name, password_hash) VALUES (gen_random_uuid(), 'bench@example.com', 'Bench', 'x')
                    ON CONFLICT DO NOTHING RETURNING id)
         SELECT id FROM u UNION ALL SELECT id FROM users WHERE email = 'bench@example.com'",
    )
    .fetch_one(&mut conn)
    .await?;
    sqlx::query("INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'owner') ON CONFLICT DO NOTHING")
        .bind(org)
        .bind(member)
        .execute(&mut conn)
        .await?;
    let now = Utc::now();
    for (label, (events, store)) in targets {
        let queries: Vec<_> = dashboard(store)
            .into_iter()
            .map(|q| q.validate(&providers).expect("valid"))
            .collect();
        // The metrics service.
        let mut service = Timings::default();
        let mut results = Vec::new();
        for run in 0..runs {
            let started = Instant::now();
            let batch: Vec<&_> = queries.iter().collect();
            let mut tx = as_member(&mut conn, member).await?;
            let inside = Instant::now();
            let answers = engine::run_many(&mut tx, org, &batch, now)
                .await
                .and_then(|all| all.into_iter().collect::<Result<Vec<_>, _>>())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            service.inside.push(ms_since(inside));
            tx.commit().await?;
            service.whole.push(ms_since(started));
            if run == 0 {
                results = answers;
            }
        }
        // The same dashboard as the data endpoint loads it, through the result cache
        // (warm: a dashboard opened again before its next sync).
        let cache = ResultCache::default();
        let widgets: Vec<Widget> = dashboard(store)
            .into_iter()
            .map(|q| Widget {
                id: Uuid::new_v4(),
                dashboard_id: Uuid::nil(),
                kind: "line_chart".into(),
                title: "w".into(),
                query_config: serde_json::to_value(&q).expect("serialises"),
                display_config: json!({}),
                size: "medium".into(),
                created_at: now,
                updated_at: now,
            })
            .collect();
        let mut tx = as_member(&mut conn, member).await?;
        evaluate(
            &mut tx,
            &providers,
            &cache,
            org,
            "bench",
            &widgets,
            &Overrides::default(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        tx.commit().await?;
        let mut cached = Timings::default();
        for _ in 0..runs {
            let started = Instant::now();
            let mut tx = as_member(&mut conn, member).await?;
            let inside = Instant::now();
            evaluate(
                &mut tx,
                &providers,
                &cache,
                org,
                "bench",
                &widgets,
                &Overrides::default(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            cached.inside.push(ms_since(inside));
            tx.commit().await?;
            cached.whole.push(ms_since(started));
        }
        // (a) no index on the raw table, (b) a btree on (store, metric, time).
        let mut timings = Vec::new();
        let skip_naive = std::env::var_os("BENCH_SKIP_NAIVE").is_some();
        for (variant, index) in [("naive", false), ("indexed", true)] {
            if skip_naive && !index {
                continue;
            }
            sqlx::query("DROP INDEX IF EXISTS metric_events_time")
                .execute(&mut conn)
                .await?;
            sqlx::query("DROP INDEX IF EXISTS bench_store_metric_time")
                .execute(&mut conn)
                .await?;
            if index {
                sqlx::query("CREATE INDEX bench_store_metric_time ON metric_events (store_id, metric_name, recorded_at)").execute(&mut conn).await?;
                sqlx::query("ANALYZE metric_events")
                    .execute(&mut conn)
                    .await?;
            }
            let raw_runs = if index { runs } else { runs.min(5) };
            let mut samples = Timings::default();
            for _ in 0..raw_runs {
                let started = Instant::now();
                let mut tx = as_member(&mut conn, member).await?;
                let inside = Instant::now();
                for result in &results {
                    let (current, previous) = raw_widget(&mut tx, store, result).await?;
                    anyhow::ensure!(
                        Some(current) == result.total,
                        "{variant}: {} current {current} vs service {:?}",
                        result.metric,
                        result.total
                    );
                    let service_previous = result.previous.as_ref().and_then(|p| p.total);
                    anyhow::ensure!(
                        Some(previous) == service_previous,
                        "{variant}: {} previous differs",
                        result.metric
                    );
                }
                samples.inside.push(ms_since(inside));
                tx.commit().await?;
                samples.whole.push(ms_since(started));
            }
            timings.push((variant, samples));
        }
        sqlx::query("DROP INDEX IF EXISTS bench_store_metric_time")
            .execute(&mut conn)
            .await?;
        sqlx::query("CREATE INDEX IF NOT EXISTS metric_events_time ON metric_events (store_id, recorded_at)").execute(&mut conn).await?;
        println!("{label} store ({events} events), 6-widget dashboard with previous periods, {runs} runs:");
        println!("  (whole: BEGIN as the member, the reads, COMMIT; inside: the reads alone, in the open transaction)");
        let service_p95 = service.report("metrics service, cold");
        let cached_p95 = cached.report("dashboard load, cached");
        for (variant, samples) in timings {
            let raw_p95 = samples.report(&format!("raw GROUP BY, {variant}"));
            println!(
                "    p95 vs {variant}: cold service {:.3}× (inside {:.3}×), cached {:.4}× (inside {:.4}×)",
                service_p95.0 / raw_p95.0,
                service_p95.1 / raw_p95.1,
                cached_p95.0 / raw_p95.0,
                cached_p95.1 / raw_p95.1,
            );
        }
    }
    Ok(())
}

fn ms_since(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

/// Samples of one variant, timed two ways.
#[derive(Default)]
struct Timings {
    /// From BEGIN to COMMIT, both included.
    whole: Vec<f64>,
    /// The reads alone, inside the open transaction (as within a request, whose
    /// transaction is opened for authentication before any metric is read).
    inside: Vec<f64>,
}

impl Timings {
    /// Prints p50/p95 of both; returns the p95s (whole, inside).
    fn report(mut self, label: &str) -> (f64, f64) {
        let (w50, w95) = (
            percentile(&mut self.whole, 0.5),
            percentile(&mut self.whole, 0.95),
        );
        let (i50, i95) = (
            percentile(&mut self.inside, 0.5),
            percentile(&mut self.inside, 0.95),
        );
        println!("  {label:24} whole p50 {w50:9.2} ms  p95 {w95:9.2} ms   inside p50 {i50:9.2} ms  p95 {i95:9.2} ms");
        (w95, i95)
    }
}

/// A transaction as a signed-in member: the app role with RLS, like a request's.
async fn as_member(
    conn: &mut PgConnection,
    member: Uuid,
) -> sqlx::Result<sqlx::Transaction<'_, sqlx::Postgres>> {
    // As db::Database::user_tx: BEGIN and the settings in one round trip.
    conn.begin_with(format!(
        "BEGIN; SELECT set_config('role', 'pulseboard_app', true), set_config('pulseboard.user_id', '{}', true)",
        member.hyphenated()
    ))
    .await
}

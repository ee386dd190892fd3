//! Benchmark: one hourly alert pass over 10,000 rules (BENCHMARKS.md, issue 14).
//!
//! Runs on the data set `query_bench` leaves behind with `BENCH_KEEP_DB` (500 stores of
//! skewed size, two years of events, rolled up), adds 10,000 rules spread over its
//! stores (every kind, five metrics, several periods), then in one run:
//!
//! - the production pass, `alerts::evaluate::check_all`: per organization, every
//!   rule's two queries in one metrics-service batch and one statement recording all
//!   states;
//! - the same rules evaluated one at a time: for each rule its two queries as their
//!   own batch and its state written by its own statement.
//!
//! Both are timed and their statements counted with `pg_stat_statements` (start the
//! server with `shared_preload_libraries=pg_stat_statements`; without it the counts
//! are skipped). The two must reach the same state and value for every rule.
//!
//! ```sh
//! BENCH_KEEP_DB=qbench cargo run --release -p pulseboard-server --example query_bench -- 2000000 1
//! BENCH_DB=qbench cargo run --release -p pulseboard-server --example alert_bench -- 10000
//! ```

use std::time::Instant;

use chrono::Utc;
use pulseboard_connectors::Registry;
use pulseboard_server::{
    alerts::{
        evaluate::{check_all, rule_of},
        rule::{judge, Context},
    },
    config::{Config, ConfigArgs},
    db::{alerts::AlertRow, Database, MIGRATOR},
    integrations::vault::{generate_key_entry, Vault},
    metrics::engine,
    state::AppState,
};
use sqlx::{postgres::PgPoolOptions, PgConnection};
use uuid::Uuid;

const METRICS: &[&str] = &[
    "shopify.net_sales",
    "shopify.orders",
    "shopify.gross_sales",
    "shopify.units_sold",
    "shopify.refunds",
];

/// (kind, period, threshold): thresholds chosen so that a few rules fire.
const SHAPES: &[(&str, &str, f64)] = &[
    ("above", "yesterday", 5_000_000.0),
    ("below", "last_7_days", 10.0),
    ("pct_change_above", "yesterday", 80.0),
    ("pct_change_below", "last_30_days", 50.0),
    ("anomaly", "yesterday", 3.0),
    ("pace", "today", 60.0),
];

async fn statements(conn: &mut PgConnection) -> Option<i64> {
    sqlx::query_scalar("SELECT sum(calls)::bigint FROM pg_stat_statements")
        .fetch_one(conn)
        .await
        .ok()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rules: usize = std::env::args().nth(1).map_or(Ok(10_000), |a| a.parse())?;
    let admin = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let name = std::env::var("BENCH_DB")
        .expect("BENCH_DB: the database query_bench kept with BENCH_KEEP_DB");
    let mut url = url::Url::parse(&admin)?;
    url.set_path(&format!("/{name}"));
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(url.as_str())
        .await?;
    MIGRATOR.run(&pool).await?;
    let mut conn = pool.acquire().await?.detach();
    let counting = sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .execute(&mut conn)
        .await
        .is_ok()
        && statements(&mut conn).await.is_some();

    // The rules, spread round-robin over the stores.
    let org: Uuid = sqlx::query_scalar("SELECT id FROM organizations")
        .fetch_one(&mut conn)
        .await?;
    let stores: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM stores ORDER BY name")
        .fetch_all(&mut conn)
        .await?;
    sqlx::query("DELETE FROM alerts").execute(&mut conn).await?;
    sqlx::query("UPDATE integrations SET last_synced_at = now()")
        .execute(&mut conn)
        .await?;
    for i in 0..rules {
        let (kind, period, threshold) = SHAPES[i % SHAPES.len()];
        let metric = METRICS[(i / SHAPES.len()) % METRICS.len()];
        let store = stores[i % stores.len()];
        sqlx::query(
            "INSERT INTO alerts (id, org_id, name, metric, scope, period, kind, threshold)
             VALUES (gen_random_uuid(), $1, $2, $3, jsonb_build_object('store', $4::uuid), $5, $6, $7)",
        )
        .bind(org)
        .bind(format!("rule {i}"))
        .bind(metric)
        .bind(store)
        .bind(period)
        .bind(kind)
        .bind(threshold)
        .execute(&mut conn)
        .await?;
    }
    sqlx::query("ANALYZE alerts").execute(&mut conn).await?;

    let dir = tempfile::tempdir()?;
    let config = Config::from_args(ConfigArgs::for_local(dir.path().to_path_buf()))?;
    let providers = Registry::from_config(&config.providers_config())?;
    let mailer = pulseboard_server::notify::Mailer::from_config(&config)?;
    let state = AppState::new(
        Database::from_pool(pool.clone()),
        config,
        Vault::from_spec(&generate_key_entry("bench"))?,
        providers.clone(),
        mailer,
    );
    let now = Utc::now();

    // The production pass.
    let before = statements(&mut conn).await;
    let started = Instant::now();
    let report = check_all(&state, now).await?;
    let batched = started.elapsed().as_secs_f64();
    let batched_statements = statements(&mut conn).await.zip(before).map(|(a, b)| a - b);
    let production: Vec<(Uuid, String, Option<i64>)> =
        sqlx::query_as("SELECT id, state, last_value FROM alerts ORDER BY id")
            .fetch_all(&mut conn)
            .await?;
    println!(
        "batched: {rules} rules in {batched:.2} s ({} fired, {} waiting, {} invalid){}",
        report.fired,
        report.waiting,
        report.invalid,
        batched_statements.map_or(String::new(), |n| format!(", {n} statements"))
    );

    // One rule at a time.
    let rows: Vec<AlertRow> = sqlx::query_as(
        "SELECT id, org_id, name, metric, scope, filters, period, kind, threshold, compare_days,
            recipient_user_ids, recipient_emails, slack_channel_id, cooldown_minutes, snoozed_until, enabled,
            dashboard_id, state, state_reason, last_value, last_baseline, last_series, last_evaluated_at,
            last_triggered_at, created_by, created_at, updated_at FROM alerts ORDER BY id",
    )
    .fetch_all(&mut conn)
    .await?;
    let before = statements(&mut conn).await;
    let started = Instant::now();
    let mut one_by_one = Vec::with_capacity(rows.len());
    for row in &rows {
        let rule = rule_of(row).expect("a valid rule");
        let queries = rule
            .queries(&providers)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut tx = state.db.worker_tx().await?;
        let mut answers =
            engine::run_many(&mut tx, org, &[&queries.current, &queries.history], now)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        let history = answers
            .pop()
            .expect("two")
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let current = answers
            .pop()
            .expect("two")
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let ctx = Context {
            metric_name: &current.name,
            now,
            providers: &providers,
            rise_is_bad: current.rise_is_bad,
        };
        let judgement = judge(&rule, &current, &history, &ctx);
        sqlx::query(
            "UPDATE alerts SET state = $2, last_value = $3, last_evaluated_at = $4 WHERE id = $1",
        )
        .bind(row.id)
        .bind(judgement.state)
        .bind(judgement.value)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        one_by_one.push((row.id, judgement.state.to_owned(), judgement.value));
    }
    let single = started.elapsed().as_secs_f64();
    let single_statements = statements(&mut conn).await.zip(before).map(|(a, b)| a - b);
    println!(
        "one query each: {rules} rules in {single:.2} s{}",
        single_statements.map_or(String::new(), |n| format!(", {n} statements"))
    );
    // A fired rule keeps `triggered`; everything else must agree exactly.
    assert_eq!(production.len(), one_by_one.len());
    for (p, o) in production.iter().zip(&one_by_one) {
        assert_eq!((p.0, &p.1, p.2), (o.0, &o.1, o.2), "both ways agree");
    }
    println!(
        "speed-up {:.1}×; statements {}",
        single / batched,
        if counting {
            "counted with pg_stat_statements"
        } else {
            "not counted (no pg_stat_statements)"
        }
    );
    Ok(())
}

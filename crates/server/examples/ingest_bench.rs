//! Benchmark: loading metric events (BENCHMARKS.md).
//!
//! Loads the same deterministic rows three ways into a fresh, migrated database, in one
//! run: (1) the production path (`sync::events::copy_events`, the function every sync
//! page goes through), (2) `psql \copy` of the same rows from a file, (3) multi-row
//! `INSERT … VALUES` statements of 1,000 rows as SQL text run by psql, and (4) the same
//! statements with bound parameters. The table is emptied between methods; each round
//! runs every method, and the medians are reported.
//!
//! ```sh
//! DATABASE_URL=postgres://… cargo run --release -p pulseboard-server --example ingest_bench -- 1000000
//! ```

use std::{io::Write, time::Instant};

use chrono::{DateTime, Duration, Utc};
use pulseboard_server::{
    db::MIGRATOR,
    sync::events::{copy_events, encode, EventRow, COPY_STATEMENT},
};
use sqlx::{postgres::PgPoolOptions, Connection, PgConnection, QueryBuilder};
use uuid::Uuid;

const METRICS: &[&str] = &[
    "gross_sales",
    "net_sales",
    "orders",
    "units_sold",
    "refunds",
];
const COUNTRIES: &[&str] = &["US", "CA", "GB", "DE", "AU", "FR"];

/// splitmix64: the same rows on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn rows(n: usize, org: Uuid, store: Uuid, integration: Uuid) -> Vec<EventRow> {
    let mut rng = Rng(7);
    let start: DateTime<Utc> = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    (0..n)
        .map(|i| {
            let metric = METRICS[(rng.next() % METRICS.len() as u64) as usize];
            let country = COUNTRIES[(rng.next() % COUNTRIES.len() as u64) as usize];
            EventRow {
                org_id: org,
                store_id: store,
                integration_id: integration,
                source: "shopify".into(),
                metric_name: metric.into(),
                metric_value: (rng.next() % 50_000) as i64,
                dimensions: format!(
                    r#"{{"channel": "web", "country": "{country}", "currency": "USD"}}"#
                ),
                recorded_at: start + Duration::seconds((i as i64) * 60),
                source_record_id: format!("order/{}", i / 5),
            }
        })
        .collect()
}

/// Runs psql quietly against the benchmark database.
fn psql(url: &url::Url, args: &[&str]) -> anyhow::Result<()> {
    let status = std::process::Command::new("psql")
        .arg(url.as_str())
        .arg("-q")
        .args(args)
        .status()?;
    anyhow::ensure!(status.success(), "psql {args:?} failed");
    Ok(())
}

/// A SQL literal: single quotes doubled (standard_conforming_strings is on).
fn literal(out: &mut String, value: &str) {
    out.push('\'');
    out.push_str(&value.replace('\'', "''"));
    out.push('\'');
}

/// The rows as 1,000-row `INSERT … VALUES` statements with literal values.
fn values_script(rows: &[EventRow], columns: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(rows.len() * 220);
    for chunk in rows.chunks(1_000) {
        let _ = write!(out, "INSERT INTO {columns} VALUES ");
        for (i, r) in chunk.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "('{}','{}','{}',",
                r.org_id, r.store_id, r.integration_id
            );
            literal(&mut out, &r.source);
            out.push(',');
            literal(&mut out, &r.metric_name);
            let _ = write!(out, ",{},", r.metric_value);
            literal(&mut out, &r.dimensions);
            let _ = write!(out, ",'{}',", r.recorded_at.to_rfc3339());
            literal(&mut out, &r.source_record_id);
            out.push(')');
        }
        out.push_str(";\n");
    }
    out
}

/// One multi-row `INSERT … VALUES` statement with bound parameters.
async fn insert_values(conn: &mut PgConnection, chunk: &[EventRow]) -> sqlx::Result<()> {
    let mut query = QueryBuilder::new(
        "INSERT INTO metric_events (org_id, store_id, integration_id, source, metric_name, metric_value, \
         dimensions, recorded_at, source_record_id) ",
    );
    query.push_values(chunk, |mut b, r| {
        b.push_bind(r.org_id)
            .push_bind(r.store_id)
            .push_bind(r.integration_id)
            .push_bind(&r.source)
            .push_bind(&r.metric_name)
            .push_bind(r.metric_value)
            .push_bind(sqlx::types::Json(
                serde_json::from_str::<serde_json::Value>(&r.dimensions).unwrap(),
            ))
            .push_bind(r.recorded_at)
            .push_bind(&r.source_record_id);
    });
    query.build().execute(conn).await?;
    Ok(())
}

async fn truncate(conn: &mut PgConnection) {
    sqlx::query("TRUNCATE metric_events")
        .execute(&mut *conn)
        .await
        .unwrap();
    for statement in ["VACUUM ANALYZE metric_events", "CHECKPOINT"] {
        sqlx::query(statement).execute(&mut *conn).await.unwrap();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(Ok(1_000_000), |a| a.parse())?;
    let admin = std::env::var("DATABASE_URL")
        .expect("DATABASE_URL (a server where a database may be created)");
    let name = format!("pulseboard_bench_{}", Uuid::new_v4().simple());
    let mut admin_conn = PgConnection::connect(&admin).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin_conn)
        .await?;
    let mut url = url::Url::parse(&admin)?;
    url.set_path(&format!("/{name}"));
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(url.as_str())
        .await?;
    MIGRATOR.run(&pool).await?;

    let (org, workspace, store, integration) = (
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    sqlx::query(
        "WITH o AS (INSERT INTO organizations (id, name, slug) VALUES ($1, 'Bench', 'bench')),
              w AS (INSERT INTO workspaces (id, org_id, name) VALUES ($2, $1, 'Main')),
              s AS (INSERT INTO stores (id, org_id, workspace_id, name, currency, timezone) VALUES ($3, $1, $2, 'Shop', 'USD', 'UTC'))
         INSERT INTO integrations (id, org_id, store_id, provider, auth_kind, external_account_id, account_label, cadence_minutes)
         VALUES ($4, $1, $3, 'shopify', 'oauth', 'bench.myshopify.com', 'Bench', 30)",
    )
    .bind(org)
    .bind(workspace)
    .bind(store)
    .bind(integration)
    .execute(&pool)
    .await?;

    // For comparison only: how much of each rate is index upkeep.
    if std::env::var_os("BENCH_WITHOUT_INDEXES").is_some() {
        sqlx::query("DROP INDEX metric_events_time")
            .execute(&pool)
            .await?;
        println!("(without indexes)");
    }
    let data = rows(n, org, store, integration);
    let mut conn = pool.acquire().await?.detach();
    let rounds: usize = std::env::var("BENCH_ROUNDS").map_or(Ok(3), |r| r.parse())?;

    let mut text = String::with_capacity(n * 200);
    encode(&data, &mut text);
    let file = std::env::temp_dir().join(format!("{name}.tsv"));
    std::fs::File::create(&file)?.write_all(text.as_bytes())?;
    drop(text);
    let columns = COPY_STATEMENT
        .trim_start_matches("COPY ")
        .trim_end_matches(" FROM STDIN");
    let script = std::env::temp_dir().join(format!("{name}.sql"));
    std::fs::File::create(&script)?.write_all(values_script(&data, columns).as_bytes())?;

    // Each round loads the rows once per method into the emptied table, after a
    // checkpoint, so no method pays for another's dirty pages.
    let mut times: [Vec<f64>; 4] = Default::default();
    for round in 1..=rounds {
        for (method, elapsed) in times.iter_mut().enumerate() {
            truncate(&mut conn).await;
            let started = Instant::now();
            match method {
                // 1. The production path, in transactions of 10,000 rows.
                0 => {
                    for chunk in data.chunks(10_000) {
                        let mut tx = conn.begin().await?;
                        copy_events(&mut tx, chunk).await?;
                        tx.commit().await?;
                    }
                }
                // 2. psql \copy of the same rows.
                1 => psql(
                    &url,
                    &["-c", &format!("\\copy {columns} FROM '{}'", file.display())],
                )?,
                // 3. Multi-row INSERT … VALUES, 1,000 rows per statement, as SQL text
                //    run by psql (what `pg_dump --rows-per-insert=1000` writes).
                2 => psql(&url, &["-f", &script.to_string_lossy()])?,
                // 4. The same statements with bound parameters, prepared once.
                _ => {
                    for chunk in data.chunks(1_000) {
                        insert_values(&mut conn, chunk).await?;
                    }
                }
            }
            elapsed.push(started.elapsed().as_secs_f64());
            let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM metric_events")
                .fetch_one(&mut conn)
                .await?;
            anyhow::ensure!(stored as usize == n, "method {method} stored {stored} rows");
        }
        println!(
            "round {round}: production {:.2} s, \\copy {:.2} s, VALUES as SQL text {:.2} s, VALUES bound {:.2} s",
            times[0][round - 1],
            times[1][round - 1],
            times[2][round - 1],
            times[3][round - 1]
        );
    }
    std::fs::remove_file(&file).ok();
    std::fs::remove_file(&script).ok();

    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let [production, psql, values_text, values] = [0, 1, 2, 3].map(|m| median(&times[m]));
    let rate = |secs: f64| n as f64 / secs;
    println!("rows: {n}, rounds: {rounds} (medians)");
    println!(
        "production path (COPY, 10k-row transactions): {production:.2} s, {:.0} rows/s",
        rate(production)
    );
    println!(
        "psql \\copy:                                   {psql:.2} s, {:.0} rows/s",
        rate(psql)
    );
    println!(
        "INSERT … VALUES, 1,000 rows, SQL text:       {values_text:.2} s, {:.0} rows/s",
        rate(values_text)
    );
    println!(
        "INSERT … VALUES, 1,000 rows, bound:          {values:.2} s, {:.0} rows/s",
        rate(values)
    );
    println!(
        "production / \\copy rate:               {:.2}×",
        psql / production
    );
    println!(
        "production / VALUES (SQL text) rate:    {:.2}×",
        values_text / production
    );
    println!(
        "production / VALUES (bound) rate:       {:.2}×",
        values / production
    );

    drop(conn);
    pool.close().await;
    sqlx::query(&format!("DROP DATABASE {name}"))
        .execute(&mut admin_conn)
        .await?;
    Ok(())
}

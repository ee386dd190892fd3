//! Database access: the pool, the per-request transactions that make RLS apply,
//! migrations, and one module of queries per resource.
//!
//! Every user-facing request runs in [`Database::user_tx`]: a transaction switched to
//! the `pulseboard_app` role with `pulseboard.user_id` set, so PostgreSQL's policies
//! decide what the request can see even if a query forgets its `WHERE org_id`.

pub mod accounts;
pub mod dashboards;
pub mod embedded;
pub mod integrations;
pub mod invites;
pub mod oauth_states;
pub mod orgs;
pub mod outbox;
pub mod stores;
pub mod workspaces;

use std::{str::FromStr, time::Duration};

use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::{
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
    PgPool, Postgres,
};
use uuid::Uuid;

use crate::config::Config;
use embedded::{BinarySearch, EmbeddedPostgres};

/// The migrations in `/migrations`, compiled into the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// A transaction that owns its connection.
pub type Tx = sqlx::Transaction<'static, Postgres>;

/// The pool plus, in embedded mode, the cluster behind it.
pub struct Database {
    pool: PgPool,
    embedded: tokio::sync::Mutex<Option<EmbeddedPostgres>>,
}

impl Database {
    /// Connects to `DATABASE_URL`, or starts the embedded cluster when it is unset.
    pub async fn connect(config: &Config) -> anyhow::Result<Self> {
        let (options, embedded) = match &config.database_url {
            Some(url) => (
                PgConnectOptions::from_str(url.expose_secret())
                    .context("DATABASE_URL is not a valid PostgreSQL URL")?,
                None,
            ),
            None => {
                let search = BinarySearch::from_environment(config.postgres_bin_dir.clone());
                let pg = EmbeddedPostgres::start(&config.data_dir, &search).await?;
                (pg.connect_options(), Some(pg))
            }
        };
        // JIT compiles a plan in tens of milliseconds: a loss for dashboard-sized reads.
        let options = options.options([("jit", "off")]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .context("connecting to PostgreSQL")?;
        Ok(Self {
            pool,
            embedded: tokio::sync::Mutex::new(embedded),
        })
    }

    /// Wraps an existing pool (tests that manage their own databases).
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            pool,
            embedded: tokio::sync::Mutex::new(None),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .context("applying migrations")
    }

    /// True when every embedded migration has been applied (for `/readyz`).
    pub async fn migrations_current(&self) -> anyhow::Result<bool> {
        let applied: Vec<i64> = sqlx::query_scalar(
            "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(MIGRATOR.iter().all(|m| applied.contains(&m.version)))
    }

    /// A transaction as the user-facing role with the user's id set: RLS applies.
    /// One round trip: BEGIN and the settings travel as one simple query (the id is a
    /// formatted `Uuid`, never caller text).
    pub async fn user_tx(&self, user_id: Uuid) -> Result<Tx, sqlx::Error> {
        self.pool
            .begin_with(format!(
                "BEGIN; SELECT set_config('role', 'pulseboard_app', true), \
                 set_config('pulseboard.user_id', '{}', true)",
                user_id.hyphenated()
            ))
            .await
    }

    /// A transaction as the worker role: background jobs and account bootstrap
    /// (sign-up, session lookup, invite acceptance) that act before a tenant is known.
    pub async fn worker_tx(&self) -> Result<Tx, sqlx::Error> {
        self.pool
            .begin_with("BEGIN; SELECT set_config('role', 'pulseboard_worker', true)")
            .await
    }

    /// Closes the pool and stops the embedded cluster, if any.
    pub async fn shutdown(&self) {
        self.pool.close().await;
        if let Some(mut pg) = self.embedded.lock().await.take() {
            pg.stop().await;
        }
    }
}

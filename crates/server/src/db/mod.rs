//! Database access: the pool, the per-request transactions that make RLS apply,
//! migrations, and one module of queries per resource.
//!
//! Every user-facing request runs in [`Database::user_tx`]: a transaction switched to
//! the `pulseboard_app` role with `pulseboard.user_id` set, so PostgreSQL's policies
//! decide what the request can see even if a query forgets its `WHERE org_id`.

pub mod accounts;
pub mod advisory_locks;
pub mod alerts;
pub mod backup;
pub mod call_budgets;
pub mod dashboards;
pub mod digests;
pub mod dimension_labels;
pub mod embedded;
pub mod integrations;
pub mod invites;
pub mod items;
pub mod metric_definitions;
pub mod metric_events;
pub mod metric_snapshots;
pub mod oauth_states;
pub mod operations;
pub mod orgs;
pub mod outbox;
pub mod password_resets;
pub mod plans;
pub mod pulse_shares;
pub mod raw_records;
pub mod rollups;
pub mod slack;
pub mod stores;
pub mod sync_cursors;
pub mod sync_jobs;
pub mod usage;
pub mod webhooks;
pub mod workspaces;

use std::{
    path::PathBuf,
    str::FromStr,
    sync::{
        atomic::{AtomicU8, Ordering},
        Arc,
    },
    time::Duration,
};

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

/// The embedded cluster, shared by the [`Database`] and its supervisor.
type Embedded = Arc<tokio::sync::Mutex<Option<EmbeddedPostgres>>>;

const EMBEDDED_NONE: u8 = 0;
const EMBEDDED_RUNNING: u8 = 1;
const EMBEDDED_RESTARTING: u8 = 2;

/// The pool plus, in embedded mode, the cluster behind it.
pub struct Database {
    pool: PgPool,
    embedded: Embedded,
    embedded_state: Arc<AtomicU8>,
}

impl Database {
    /// Connects to `DATABASE_URL`, or starts the embedded cluster when it is unset.
    pub async fn connect(config: &Config) -> anyhow::Result<Self> {
        let mut search = None;
        let (options, embedded) = match &config.database_url {
            Some(url) => (
                PgConnectOptions::from_str(url.expose_secret())
                    .context("DATABASE_URL is not a valid PostgreSQL URL")?,
                None,
            ),
            None => {
                let found = BinarySearch::from_environment(config.postgres_bin_dir.clone());
                let pg = EmbeddedPostgres::start(&config.data_dir, &found).await?;
                search = Some(found);
                (pg.connect_options(), Some(pg))
            }
        };
        // JIT compiles a plan in tens of milliseconds: a loss for dashboard-sized reads.
        let options = options.options([("jit", "off")]);
        let pool = PgPoolOptions::new()
            .max_connections(config.db_max_connections)
            .acquire_timeout(config.db_acquire_timeout)
            .connect_with(options)
            .await
            .context("connecting to PostgreSQL")?;
        let running = embedded.is_some();
        let db = Self {
            pool,
            embedded: Arc::new(tokio::sync::Mutex::new(embedded)),
            embedded_state: Arc::new(AtomicU8::new(if running {
                EMBEDDED_RUNNING
            } else {
                EMBEDDED_NONE
            })),
        };
        if let Some(search) = search {
            tokio::spawn(supervise(
                db.embedded.clone(),
                db.embedded_state.clone(),
                config.data_dir.clone(),
                search,
            ));
        }
        Ok(db)
    }

    /// The embedded cluster's state for `/readyz`: `running` or `restarting`, or
    /// `None` with `DATABASE_URL`.
    pub fn embedded_state(&self) -> Option<&'static str> {
        match self.embedded_state.load(Ordering::Relaxed) {
            EMBEDDED_RUNNING => Some("running"),
            EMBEDDED_RESTARTING => Some("restarting"),
            _ => None,
        }
    }

    /// Wraps an existing pool (tests that manage their own databases).
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            pool,
            embedded: Arc::new(tokio::sync::Mutex::new(None)),
            embedded_state: Arc::new(AtomicU8::new(EMBEDDED_NONE)),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies pending migrations, after refusing a database that a newer binary
    /// has migrated (see [`unknown_migrations`]).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let unknown = unknown_migrations(&self.pool).await?;
        if !unknown.is_empty() {
            let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
            anyhow::bail!(
                "the database has migrations this Pulseboard does not know ({}; this binary knows up to {known:04}): \
                 a newer Pulseboard has upgraded it. Run that version (or newer), or restore a backup taken \
                 before the upgrade; an older binary would misread the newer schema",
                unknown
                    .iter()
                    .map(|v| format!("{v:04}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
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

    /// A transaction as the worker role (BYPASSRLS), for background work: syncs,
    /// token refresh, the outbox, cache warming. Request handlers never call this
    /// (a test greps `src/http` for it); they name their reason with
    /// [`Database::bypass_tx`].
    pub async fn worker_tx(&self) -> Result<Tx, sqlx::Error> {
        self.pool
            .begin_with("BEGIN; SELECT set_config('role', 'pulseboard_worker', true)")
            .await
    }

    /// A worker-role transaction for a request handler, for one of the audited
    /// reasons in [`Bypass`]. Each reason says why leaving row-level security behind
    /// is safe there; a new reason is a reviewed change to that enum.
    pub async fn bypass_tx(&self, reason: Bypass) -> Result<Tx, sqlx::Error> {
        tracing::trace!(?reason, "worker-role transaction for a request");
        self.worker_tx().await
    }

    /// Closes the pool and stops the embedded cluster, if any.
    pub async fn shutdown(&self) {
        self.pool.close().await;
        if let Some(mut pg) = self.embedded.lock().await.take() {
            pg.stop().await;
        }
    }
}

/// Watches the embedded postmaster: when it exits without [`Database::shutdown`]
/// having stopped it (a crash, an OOM kill, someone's `kill -9`), starts it again,
/// with backoff from 1 s up to 30 s while starting fails. The pool reconnects to
/// the same socket by itself. Ends when the cluster has been shut down.
async fn supervise(
    embedded: Embedded,
    state: Arc<AtomicU8>,
    data_dir: PathBuf,
    search: BinarySearch,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let restarting = state.load(Ordering::Relaxed) == EMBEDDED_RESTARTING;
        tokio::time::sleep(if restarting {
            backoff
        } else {
            Duration::from_secs(1)
        })
        .await;
        let mut guard = embedded.lock().await;
        let Some(pg) = guard.as_mut() else { return };
        if !restarting {
            let Some(status) = pg.exited() else { continue };
            tracing::error!(%status, "the embedded PostgreSQL exited unexpectedly; restarting it");
            state.store(EMBEDDED_RESTARTING, Ordering::Relaxed);
            backoff = Duration::from_secs(1);
        }
        match EmbeddedPostgres::start(&data_dir, &search).await {
            Ok(started) => {
                *guard = Some(started);
                state.store(EMBEDDED_RUNNING, Ordering::Relaxed);
                tracing::info!("the embedded PostgreSQL is running again");
            }
            Err(error) => {
                tracing::warn!(
                    error = %format!("{error:#}"),
                    retry_in_seconds = backoff.as_secs(),
                    "restarting the embedded PostgreSQL failed; trying again"
                );
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// Versions recorded in `_sqlx_migrations` that this binary's migrations do not
/// include (empty for a fresh database). sqlx would refuse them too, one at a time
/// and as "previously applied but missing"; this names them all and says why.
pub async fn unknown_migrations(pool: &PgPool) -> anyhow::Result<Vec<i64>> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await
        .context("reading the applied migrations")?;
    if !exists {
        return Ok(Vec::new());
    }
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(pool)
            .await
            .context("reading the applied migrations")?;
    Ok(applied
        .into_iter()
        .filter(|v| !MIGRATOR.iter().any(|m| m.version == *v))
        .collect())
}

/// A round trip that touches no table: the connection (or pool) answers.
pub async fn ping(db: impl sqlx::PgExecutor<'_>) -> sqlx::Result<()> {
    sqlx::query("SELECT 1").execute(db).await?;
    Ok(())
}

/// Why a request handler may run a statement as the worker role, which row-level
/// security does not restrict. Every use is greppable as `Bypass::…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bypass {
    /// Sign-up and login: the user, and so any tenant, is not known yet. The
    /// statements touch only the account being created or the one whose password was
    /// just checked.
    Authentication,
    /// Resolving a session cookie or API token to its user: the lookup is by the
    /// hash of a secret only its holder has.
    SessionLookup,
    /// Creating an organization: its creator is not a member until it exists.
    OrgCreation,
    /// Looking up and accepting an invitation: the invitee is not a member yet; the
    /// token's hash selects the one invite, and acceptance checks its email.
    Invitation,
    /// Credentials are worker-only (the user role has no grant on them). Used after
    /// the handler has checked the caller is an admin of the integration's org.
    ConnectionBookkeeping,
    /// Counting an org's stores or integrations against its plan: the count must
    /// include rows the caller's workspaces cannot see; only the number leaves.
    PlanCaps,
    /// The public share pages: there is no user; the share token's hash selects the
    /// dashboard (or the store of a Pulse link, checked again at every read of its
    /// stream), and only that dashboard's (that store's) data is read.
    PublicShare,
    /// `/api/cron/*`: an external scheduler authenticated by the cron secret runs
    /// the same work the in-process scheduler runs.
    Cron,
    /// A webhook delivery: there is no user; the endpoint id in the path selects one
    /// endpoint, and nothing is written before the body's signature verifies with
    /// that endpoint's secret.
    Webhook,
    /// A signed link from a mail (one-click unsubscribe, snooze for 24 h): there is
    /// no session; the vault-signed token names the recipient, the organization and
    /// the action, and only that preference or that rule changes.
    MailLink,
    /// "Forgot your password?": there is no session. Asking for a link reads the one
    /// account with the typed-in email and writes only its `password_resets` row;
    /// confirming selects the one link by its token's hash, then sets that link's
    /// user's password and revokes that user's sessions.
    PasswordReset,
    /// `/metrics`: the queue, lag and outbox figures span every tenant; the caller
    /// holds the metrics token (or is on the loopback interface) and only counts
    /// and ages per provider or channel leave.
    Operations,
}
#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Modules whose work is background work, allowed to open worker-role
    /// transactions without naming a [`super::Bypass`] reason.
    const BACKGROUND: &[&str] = &[
        "db/",
        "sync/",
        "integrations/",
        "notify/",
        "dashboards/",
        "alerts/",
        "digest/",
        "webhooks/",
        "live/",
        "startup.rs",
    ];

    fn rust_files(dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push((
                    path.display().to_string(),
                    std::fs::read_to_string(&path).unwrap(),
                ));
            }
        }
    }

    #[test]
    fn only_background_modules_open_worker_transactions_unnamed() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        assert!(files.len() > 20, "the scan found the sources");
        let offenders: Vec<_> = files
            .iter()
            .filter(|(_, text)| text.contains(".worker_tx()"))
            .map(|(path, _)| {
                path.strip_prefix(&format!("{}/", src.display()))
                    .unwrap_or(path)
            })
            .filter(|rel| !BACKGROUND.iter().any(|allowed| rel.starts_with(allowed)))
            .collect();
        assert!(
            offenders.is_empty(),
            "request-handling code must use `db.bypass_tx(Bypass::…)` with a reason, \
             not `worker_tx()`: {offenders:?}"
        );
    }
}

//! The embedded default database (DESIGN §3): a private PostgreSQL cluster inside
//! the data directory, reachable only through a Unix socket in that directory.
//!
//! Layout under the data dir: `postgres/` (PGDATA), `postgres-run/` (the socket),
//! `postgres.log` (the server's output).

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use anyhow::{anyhow, bail, Context};
use nix::{
    sys::signal::{kill, Signal},
    unistd::{Gid, Pid, Uid, User},
};
use sqlx::{postgres::PgConnectOptions, Connection};
use tokio::process::{Child, Command};

/// The package that provides the server binaries, named in errors.
const INSTALL_HINT: &str =
    "install the PostgreSQL server (Debian/Ubuntu: `apt-get install postgresql`) \
     or point DATABASE_URL at an existing server";

/// The database the embedded cluster serves Pulseboard from.
pub const DATABASE_NAME: &str = "pulseboard";
const SUPERUSER: &str = "postgres";

/// A running embedded cluster. Call [`EmbeddedPostgres::stop`] to shut it down cleanly.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    pgdata: PathBuf,
    socket_dir: PathBuf,
    child: Option<Child>,
}

/// Where to look for `initdb` and `postgres`.
#[derive(Debug, Clone, Default)]
pub struct BinarySearch {
    /// An explicit directory (PULSEBOARD_POSTGRES_BIN_DIR); when set, nothing else is searched.
    pub explicit: Option<PathBuf>,
    /// Directories from PATH.
    pub path_dirs: Vec<PathBuf>,
    /// Glob-free list of version directories to try, highest version first.
    pub fallback_dirs: Vec<PathBuf>,
}

impl BinarySearch {
    /// The search used by the binary: PATH, `pg_config --bindir`, then `/usr/lib/postgresql/*/bin`.
    pub fn from_environment(explicit: Option<PathBuf>) -> Self {
        let path_dirs = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        let mut fallback_dirs = Vec::new();
        if let Ok(out) = std::process::Command::new("pg_config")
            .arg("--bindir")
            .output()
        {
            if out.status.success() {
                fallback_dirs.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
            }
        }
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                Some((version, e.path().join("bin")))
            })
            .collect();
        versions.sort_by_key(|v| std::cmp::Reverse(v.0));
        fallback_dirs.extend(versions.into_iter().map(|(_, p)| p));
        Self {
            explicit,
            path_dirs,
            fallback_dirs,
        }
    }

    /// The first directory holding `program` (`pg_dump`, `pg_restore`), searched like
    /// the server binaries.
    pub fn find_tool(&self, program: &str) -> anyhow::Result<PathBuf> {
        let dirs: Vec<&PathBuf> = match &self.explicit {
            Some(dir) => vec![dir],
            None => self.path_dirs.iter().chain(&self.fallback_dirs).collect(),
        };
        dirs.into_iter()
            .find(|d| d.join(program).is_file())
            .map(|d| d.join(program))
            .ok_or_else(|| anyhow!("`{program}` was not found: install the PostgreSQL client (Debian/Ubuntu: `apt-get install postgresql-client`) or set PULSEBOARD_POSTGRES_BIN_DIR"))
    }

    /// The first directory holding both `initdb` and `postgres`.
    pub fn find(&self) -> anyhow::Result<PathBuf> {
        let has_server =
            |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
        if let Some(dir) = &self.explicit {
            if has_server(dir) {
                return Ok(dir.clone());
            }
            bail!(
                "PULSEBOARD_POSTGRES_BIN_DIR={} holds no initdb/postgres binaries: {INSTALL_HINT}",
                dir.display()
            );
        }
        self.path_dirs
            .iter()
            .chain(&self.fallback_dirs)
            .find(|d| has_server(d))
            .map(|d| std::fs::canonicalize(d).unwrap_or_else(|_| d.clone()))
            .ok_or_else(|| {
                anyhow!(
                    "no PostgreSQL server binaries (initdb, postgres) were found: {INSTALL_HINT}"
                )
            })
    }
}

/// Who the cluster runs as: PostgreSQL refuses to run as root, so root hands it to `postgres`.
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: Uid,
    gid: Gid,
}

fn run_as() -> anyhow::Result<Option<RunAs>> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    let user = User::from_name(SUPERUSER)
        .context("looking up the postgres user")?
        .ok_or_else(|| anyhow!("running as root needs a `postgres` system user to run the embedded database: {INSTALL_HINT}"))?;
    Ok(Some(RunAs {
        uid: user.uid,
        gid: user.gid,
    }))
}

fn prepare_dir(dir: &Path, owner: Option<RunAs>) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("restricting {}", dir.display()))?;
    if let Some(owner) = owner {
        nix::unistd::chown(dir, Some(owner.uid), Some(owner.gid))
            .with_context(|| format!("handing {} to the postgres user", dir.display()))?;
    }
    Ok(())
}

fn command(bin_dir: &Path, program: &str, owner: Option<RunAs>) -> Command {
    let mut cmd = Command::new(bin_dir.join(program));
    if let Some(owner) = owner {
        cmd.uid(owner.uid.as_raw()).gid(owner.gid.as_raw());
    }
    cmd
}

/// The embedded cluster's socket directory under `data_dir`.
pub fn socket_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("postgres-run")
}

/// True when the data dir holds an embedded cluster (created by a first start).
pub fn exists(data_dir: &Path) -> bool {
    data_dir.join("postgres").join("PG_VERSION").exists()
}

/// Connection options for the Pulseboard database of an embedded cluster that is
/// already running (another `pulseboard` process started it), or `None`.
pub async fn running(data_dir: &Path) -> Option<PgConnectOptions> {
    let options = PgConnectOptions::new()
        .socket(socket_dir(data_dir))
        .username(SUPERUSER)
        .database(DATABASE_NAME);
    let conn = sqlx::PgConnection::connect_with(&options).await.ok()?;
    let _ = conn.close().await;
    Some(options)
}

/// The superuser the embedded cluster is reached as.
pub fn superuser() -> &'static str {
    SUPERUSER
}

impl EmbeddedPostgres {
    /// Creates the cluster on first use, otherwise reuses it, and starts it.
    pub async fn start(data_dir: &Path, search: &BinarySearch) -> anyhow::Result<Self> {
        let bin_dir = search.find()?;
        let owner = run_as()?;
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating data dir {}", data_dir.display()))?;
        let data_dir = std::fs::canonicalize(data_dir)?;
        if owner.is_some() {
            // The postgres user only needs to pass through the data dir to reach its own subfolders.
            let mode = std::fs::metadata(&data_dir)?.permissions().mode();
            if mode & 0o001 == 0 {
                std::fs::set_permissions(
                    &data_dir,
                    std::fs::Permissions::from_mode((mode & 0o7777) | 0o011),
                )?;
            }
        }
        let pgdata = data_dir.join("postgres");
        let socket_dir = socket_dir(&data_dir);
        let socket_file = socket_dir.join(".s.PGSQL.5432");
        // sun_path holds 107 bytes; a deeper data dir cannot carry a socket.
        if socket_file.as_os_str().len() > 100 {
            bail!(
                "the data directory path is too long for a Unix socket ({}); choose a shorter PULSEBOARD_DATA_DIR",
                data_dir.display()
            );
        }
        prepare_dir(&socket_dir, owner)?;

        if !pgdata.join("PG_VERSION").exists() {
            tracing::info!(pgdata = %pgdata.display(), "creating the embedded PostgreSQL cluster");
            prepare_dir(&pgdata, owner)?;
            let out = command(&bin_dir, "initdb", owner)
                .arg("-D")
                .arg(&pgdata)
                .args([
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-instructions",
                ])
                .output()
                .await
                .context("running initdb")?;
            if !out.status.success() {
                bail!(
                    "initdb failed{}: {}",
                    if owner.is_some() {
                        " (the postgres user must be able to reach the data directory)"
                    } else {
                        ""
                    },
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
        }

        let log_path = data_dir.join("postgres.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)?;
        if let Some(owner) = owner {
            nix::unistd::chown(&log_path, Some(owner.uid), Some(owner.gid))?;
        }
        let mut cmd = command(&bin_dir, "postgres", owner);
        cmd.arg("-D")
            .arg(&pgdata)
            .args(["-c", "listen_addresses="])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", socket_dir.display()))
            .args(["-c", "unix_socket_permissions=0700"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group: Ctrl-C reaches us, and we stop the database
            // only after the HTTP server has drained.
            .process_group(0)
            .kill_on_drop(false);
        let child = cmd.spawn().context("starting postgres")?;
        let mut pg = Self {
            pgdata,
            socket_dir,
            child: Some(child),
        };
        if let Err(e) = pg.wait_until_ready(&log_path).await {
            pg.stop().await;
            return Err(e);
        }
        pg.ensure_database().await?;
        Ok(pg)
    }

    fn options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.socket_dir)
            .username(SUPERUSER)
            .database(database)
    }

    /// Connection options for the Pulseboard database.
    pub fn connect_options(&self) -> PgConnectOptions {
        self.options(DATABASE_NAME)
    }

    /// A `DATABASE_URL` reaching this cluster over its socket (tests that need a server
    /// they can stop and start).
    pub fn database_url(&self) -> String {
        format!(
            "postgres://{SUPERUSER}@localhost/{DATABASE_NAME}?host={}",
            self.socket_dir.display()
        )
    }

    /// The socket directory (the `host` of a libpq connection).
    pub fn socket_path(&self) -> &Path {
        &self.socket_dir
    }

    /// The PGDATA directory.
    pub fn pgdata(&self) -> &Path {
        &self.pgdata
    }

    async fn wait_until_ready(&mut self, log_path: &Path) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    let log = std::fs::read_to_string(log_path).unwrap_or_default();
                    let tail: Vec<&str> = log.lines().rev().take(5).collect();
                    bail!(
                        "the embedded PostgreSQL exited during start-up ({status}); last log lines:\n{}",
                        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                    );
                }
            }
            if sqlx::PgConnection::connect_with(&self.options("postgres"))
                .await
                .is_ok()
            {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                bail!(
                    "the embedded PostgreSQL did not accept connections within 60 s (see {})",
                    log_path.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn ensure_database(&self) -> anyhow::Result<()> {
        let mut conn = sqlx::PgConnection::connect_with(&self.options("postgres")).await?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(DATABASE_NAME)
                .fetch_one(&mut conn)
                .await?;
        if !exists {
            sqlx::query(&format!("CREATE DATABASE {DATABASE_NAME}"))
                .execute(&mut conn)
                .await?;
        }
        conn.close().await?;
        Ok(())
    }

    /// The postmaster's exit status once it has exited: only after a crash or a
    /// kill from outside, since [`EmbeddedPostgres::stop`] forgets the process.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.as_mut()?.try_wait().ok().flatten()
    }

    /// Fast shutdown (SIGINT: disconnect clients, checkpoint, exit) and wait for it.
    pub async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(pid) = child.id() {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGINT);
        }
        match tokio::time::timeout(Duration::from_secs(30), child.wait()).await {
            Ok(_) => tracing::info!("embedded PostgreSQL stopped"),
            Err(_) => {
                tracing::warn!("embedded PostgreSQL did not stop within 30 s; forcing it");
                if let Some(pid) = child.id() {
                    let _ = kill(Pid::from_raw(pid as i32), Signal::SIGQUIT);
                }
                let _ = child.wait().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binaries_name_the_package_to_install() {
        let empty = tempfile::tempdir().unwrap();
        let search = BinarySearch {
            explicit: None,
            path_dirs: vec![empty.path().to_path_buf()],
            fallback_dirs: vec![empty.path().join("nope")],
        };
        let message = search.find().unwrap_err().to_string();
        assert!(message.contains("apt-get install postgresql"), "{message}");
    }

    #[test]
    fn explicit_dir_without_binaries_is_an_error_even_if_path_has_them() {
        let empty = tempfile::tempdir().unwrap();
        let full = tempfile::tempdir().unwrap();
        for name in ["initdb", "postgres"] {
            std::fs::write(full.path().join(name), "").unwrap();
        }
        let search = BinarySearch {
            explicit: Some(empty.path().to_path_buf()),
            path_dirs: vec![full.path().to_path_buf()],
            fallback_dirs: vec![],
        };
        assert!(search
            .find()
            .unwrap_err()
            .to_string()
            .contains("PULSEBOARD_POSTGRES_BIN_DIR"));
        let search = BinarySearch {
            explicit: None,
            ..search
        };
        assert_eq!(
            search.find().unwrap(),
            std::fs::canonicalize(full.path()).unwrap()
        );
    }
}

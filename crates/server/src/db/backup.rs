//! `pulseboard backup` and `pulseboard restore`: `pg_dump`/`pg_restore` of the
//! Pulseboard database, in the embedded cluster or at `DATABASE_URL`.
//!
//! A backup is `pg_dump -Fc`: one consistent snapshot (a repeatable-read
//! transaction), so it is taken while Pulseboard runs. With the embedded database
//! it reaches the running cluster through its socket in the data dir, or starts the
//! cluster for the duration when no Pulseboard is running.
//!
//! A restore replaces the database's contents with the backup's:
//! `pg_restore --clean --if-exists --single-transaction --exit-on-error --no-owner`.
//! We restore into the existing database rather than build a fresh cluster because
//! that is the one both modes can reach (with `DATABASE_URL` the operator's
//! server is not ours to recreate, and the role may not create databases); one
//! transaction makes it all or nothing, so a bad or mismatched file changes
//! nothing. Pulseboard must be stopped meanwhile: the embedded cluster refuses when
//! another process runs it, and with `DATABASE_URL` the operator stops the
//! instances. Cluster-wide roles are not in a dump; they are created first, as the
//! first migration does. The credential keys are not in the database either: both
//! commands say where they are.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

use anyhow::{bail, Context};
use secrecy::ExposeSecret;
use sqlx::{postgres::PgConnectOptions, ConnectOptions, Connection};
use tokio::process::Command;

use super::embedded::{self, BinarySearch, EmbeddedPostgres};
use crate::config::Config;

/// How `pg_dump`/`pg_restore` reach the database, and the embedded cluster this
/// command started (stopped when done), if any.
struct Target {
    args: Vec<String>,
    password: Option<String>,
    options: PgConnectOptions,
    started: Option<EmbeddedPostgres>,
}

impl Target {
    async fn open(config: &Config, restore: bool) -> anyhow::Result<Self> {
        if let Some(url) = &config.database_url {
            let mut url = url::Url::parse(url.expose_secret())
                .context("DATABASE_URL is not a valid PostgreSQL URL")?;
            let options: PgConnectOptions = url.as_str().parse()?;
            // The password goes in the environment: a command line is visible to
            // every local user.
            let password = url.password().map(percent_decode);
            let _ = url.set_password(None);
            return Ok(Self {
                args: vec![format!("--dbname={url}")],
                password,
                options,
                started: None,
            });
        }
        let data_dir = &config.data_dir;
        let started = match embedded::running(data_dir).await {
            Some(_) if restore => bail!(
                "the embedded database in {} is in use by a running Pulseboard: stop it, then restore",
                data_dir.display()
            ),
            Some(_) => None,
            None if !restore && !embedded::exists(data_dir) => bail!(
                "there is no embedded database in {} to back up (is PULSEBOARD_DATA_DIR right?)",
                data_dir.display()
            ),
            None => {
                let search = BinarySearch::from_environment(config.postgres_bin_dir.clone());
                Some(EmbeddedPostgres::start(data_dir, &search).await?)
            }
        };
        let socket = embedded::socket_dir(&std::fs::canonicalize(data_dir)?);
        Ok(Self {
            args: vec![
                format!("--host={}", socket.display()),
                format!("--username={}", embedded::superuser()),
                format!("--dbname={}", embedded::DATABASE_NAME),
            ],
            password: None,
            options: PgConnectOptions::new()
                .socket(&socket)
                .username(embedded::superuser())
                .database(embedded::DATABASE_NAME),
            started,
        })
    }

    async fn close(mut self) {
        if let Some(pg) = self.started.as_mut() {
            pg.stop().await;
        }
    }

    async fn run(&self, tool: &Path, args: &[String]) -> anyhow::Result<()> {
        let mut cmd = Command::new(tool);
        cmd.args(&self.args)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(password) = &self.password {
            cmd.env("PGPASSWORD", password);
        }
        let out = cmd
            .output()
            .await
            .with_context(|| format!("running {}", tool.display()))?;
        if !out.status.success() {
            bail!(
                "{} failed: {}",
                tool.file_name().unwrap_or_default().to_string_lossy(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }
}

/// The tool to use: for the embedded database the one beside its server (same
/// version), otherwise the first found.
fn tool(config: &Config, program: &str) -> anyhow::Result<PathBuf> {
    let search = BinarySearch::from_environment(config.postgres_bin_dir.clone());
    if config.database_url.is_none() {
        if let Ok(dir) = search.find() {
            if dir.join(program).is_file() {
                return Ok(dir.join(program));
            }
        }
    }
    search.find_tool(program)
}

/// The default backup file name: `pulseboard-<UTC time>.dump` in the current directory.
pub fn default_file() -> PathBuf {
    PathBuf::from(format!(
        "pulseboard-{}.dump",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    ))
}

/// Where the credential keys live, for the reminder both commands print.
pub fn key_reminder(config: &Config) -> String {
    if config.encryption_keys.is_some() {
        "Integration credentials in the database are encrypted with the keys in \
         PULSEBOARD_ENCRYPTION_KEYS, which are not in the backup: keep them with it \
         (stored apart), or the restored integrations must be reconnected."
            .to_string()
    } else {
        format!(
            "Integration credentials in the database are encrypted with the key file {}, \
             which is not in the backup: keep a copy of it with the backup (stored apart), \
             or the restored integrations must be reconnected.",
            config.data_dir.join("encryption-keys").display()
        )
    }
}

/// What a restore must be followed by: the keys the backed-up credentials need.
pub fn restore_reminder(config: &Config) -> String {
    if config.encryption_keys.is_some() {
        "The restored credentials open with the keys they were encrypted with: \
         PULSEBOARD_ENCRYPTION_KEYS must hold the backed-up installation's keys."
            .to_string()
    } else {
        format!(
            "The restored credentials open with the keys they were encrypted with: put the \
             backed-up installation's key file at {} before starting Pulseboard.",
            config.data_dir.join("encryption-keys").display()
        )
    }
}

/// Writes a consistent `pg_dump -Fc` archive of the Pulseboard database to `file`.
pub async fn backup(config: &Config, file: &Path) -> anyhow::Result<u64> {
    let pg_dump = tool(config, "pg_dump")?;
    let target = Target::open(config, false).await?;
    let partial = file.with_extension("partial");
    let result = target
        .run(
            &pg_dump,
            &[
                "--format=custom".into(),
                format!("--file={}", partial.display()),
            ],
        )
        .await;
    target.close().await;
    if let Err(error) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(error);
    }
    // Every tenant's data and the password hashes are in it: for the owner only.
    std::fs::set_permissions(
        &partial,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .with_context(|| format!("restricting {}", partial.display()))?;
    // Renamed only once complete, so a file at `file` is always a whole backup.
    std::fs::rename(&partial, file).with_context(|| format!("writing {}", file.display()))?;
    Ok(std::fs::metadata(file)?.len())
}

/// Replaces the Pulseboard database's contents with the backup in `file`, in one
/// transaction. Pulseboard must not be running against that database.
pub async fn restore(config: &Config, file: &Path) -> anyhow::Result<()> {
    let pg_restore = tool(config, "pg_restore")?;
    // Refuse a file that is not an archive before touching anything.
    let listed = Command::new(&pg_restore)
        .arg("--list")
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .await
        .context("running pg_restore")?;
    if !listed.status.success() {
        bail!(
            "{} is not a Pulseboard backup (pg_restore cannot read it: {})",
            file.display(),
            String::from_utf8_lossy(&listed.stderr).trim()
        );
    }
    let target = Target::open(config, true).await?;
    let result = async {
        prepare_roles(&target.options).await?;
        target
            .run(
                &pg_restore,
                &[
                    "--clean".into(),
                    "--if-exists".into(),
                    "--no-owner".into(),
                    "--single-transaction".into(),
                    "--exit-on-error".into(),
                    file.display().to_string(),
                ],
            )
            .await
    }
    .await;
    target.close().await;
    result
}

/// The roles the policies and grants name are cluster-wide, so not in the dump: a
/// new server needs them before the grants restore (as `0001_foundation.sql`).
async fn prepare_roles(options: &PgConnectOptions) -> anyhow::Result<()> {
    let mut conn = options
        .clone()
        .connect()
        .await
        .context("connecting to the database to restore into")?;
    sqlx::raw_sql(
        "DO $$
         BEGIN
             IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pulseboard_app') THEN
                 CREATE ROLE pulseboard_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
             END IF;
             IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pulseboard_worker') THEN
                 CREATE ROLE pulseboard_worker NOLOGIN NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE;
             END IF;
         END
         $$;
         GRANT pulseboard_app TO CURRENT_USER;
         GRANT pulseboard_worker TO CURRENT_USER;",
    )
    .execute(&mut conn)
    .await
    .context("creating the Pulseboard roles")?;
    conn.close().await?;
    Ok(())
}

/// A URL's percent-encoded password as the server knows it.
fn percent_decode(encoded: &str) -> String {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn url_passwords_are_percent_decoded() {
        assert_eq!(super::percent_decode("p%40ss%2Fw%3Ard"), "p@ss/w:rd");
        assert_eq!(super::percent_decode("plain%zz%"), "plain%zz%");
    }
}

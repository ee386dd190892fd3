//! The embedded default database: created on first start, reused after, stopped
//! cleanly, and a clear error when PostgreSQL is not installed.

use std::{
    io::{BufRead, BufReader},
    os::unix::fs::PermissionsExt,
    process::{Command, Stdio},
    time::Duration,
};

use nix::{
    sys::signal::{kill, Signal},
    unistd::Pid,
};
use pulseboard_server::db::embedded::{BinarySearch, EmbeddedPostgres};
use sqlx::{Connection, PgConnection};

pub fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("pb-")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[tokio::test]
async fn first_start_creates_the_cluster_and_the_second_reuses_it() {
    let dir = data_dir();
    let search = BinarySearch::from_environment(None);

    let mut pg = EmbeddedPostgres::start(dir.path(), &search)
        .await
        .expect("first start");
    assert!(pg.pgdata().join("PG_VERSION").exists());
    let mut conn = PgConnection::connect_with(&pg.connect_options())
        .await
        .unwrap();
    sqlx::query("CREATE TABLE marker (note text)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("INSERT INTO marker VALUES ('kept')")
        .execute(&mut conn)
        .await
        .unwrap();
    let listen: String = sqlx::query_scalar("SHOW listen_addresses")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(listen, "", "the embedded cluster listens on no TCP address");
    conn.close().await.unwrap();
    pg.stop().await;
    assert!(
        !pg.pgdata().join("postmaster.pid").exists(),
        "a clean stop removes the pid file"
    );

    let mut pg = EmbeddedPostgres::start(dir.path(), &search)
        .await
        .expect("second start");
    let mut conn = PgConnection::connect_with(&pg.connect_options())
        .await
        .unwrap();
    let note: String = sqlx::query_scalar("SELECT note FROM marker")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(note, "kept", "the second start reuses the same cluster");
    conn.close().await.unwrap();
    pg.stop().await;
}

/// Starts the real binary with the embedded database and returns it with its URL.
fn start_binary(dir: &std::path::Path) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pulseboard"))
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env("PULSEBOARD_DATA_DIR", dir)
        .env("PULSEBOARD_ADDR", "127.0.0.1:0")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("Pulseboard is running at ") {
                let _ = tx.send(url.trim_end_matches('/').to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(90))
        .expect("the server prints its URL");
    (child, url)
}

#[tokio::test]
async fn serve_runs_on_the_embedded_database_and_stops_cleanly_on_sigterm() {
    let dir = data_dir();
    let (mut child, url) = start_binary(dir.path());
    let ready = reqwest::get(format!("{url}/readyz")).await.unwrap();
    assert_eq!(ready.status(), reqwest::StatusCode::OK);
    let signup = reqwest::Client::new()
        .post(format!("{url}/api/auth/signup"))
        .json(&serde_json::json!({ "email": "a@example.com", "password": "long enough pw", "name": "A" }))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), reqwest::StatusCode::CREATED);

    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    assert!(
        !dir.path().join("postgres/postmaster.pid").exists(),
        "the embedded database was stopped"
    );

    // And it comes back with the same data.
    let (mut child, url) = start_binary(dir.path());
    let login = reqwest::Client::new()
        .post(format!("{url}/api/auth/login"))
        .json(&serde_json::json!({ "email": "a@example.com", "password": "long enough pw" }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), reqwest::StatusCode::OK);
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
}

#[test]
fn missing_postgres_binaries_give_a_clear_error() {
    let dir = data_dir();
    let output = Command::new(env!("CARGO_BIN_EXE_pulseboard"))
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env("PULSEBOARD_DATA_DIR", dir.path())
        .env(
            "PULSEBOARD_POSTGRES_BIN_DIR",
            dir.path().join("no-postgres-here"),
        )
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("apt-get install postgresql"), "{stderr}");
    assert!(
        !dir.path().join("postgres").exists(),
        "nothing was initialised"
    );
}

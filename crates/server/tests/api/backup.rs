//! Backups, restores and upgrades: a backup restored elsewhere has the same data,
//! the embedded cluster is backed up while it runs, a database migrated by a newer
//! binary is refused, and a database of the oldest schema upgrades without loss.

use std::{borrow::Cow, path::Path};

use pulseboard_server::{
    config::Config,
    db::{backup, embedded::EmbeddedPostgres, MIGRATOR},
    domain::{passwords, Password},
    Application,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::{migrate::Migrator, Connection, PgConnection, PgPool};
use uuid::Uuid;

use crate::{
    embedded::data_dir,
    helpers::{client, spawn_app, test_config, PASSWORD},
};

/// An empty database (no migrations) on the test server.
async fn empty_database() -> String {
    let admin = std::env::var("DATABASE_URL").unwrap();
    let mut conn = PgConnection::connect(&admin).await.unwrap();
    let name = format!("pulseboard_empty_{}", Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// Serves `database_url` (migrating it) and signs in as `email`; the client and base URL.
async fn serve_and_login(
    database_url: &str,
    email: &str,
) -> (reqwest::Client, String, tokio_util::sync::CancellationToken) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(Some(database_url.to_owned()), dir.keep());
    config.sync.workers = 0;
    let app = Application::build(config)
        .await
        .expect("application builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let stop = app.shutdown_token();
    tokio::spawn(app.run_until_stopped());
    let client = client();
    let login = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK, "{email} signs in");
    (client, base, stop)
}

async fn get(client: &reqwest::Client, url: String) -> Value {
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    response.json().await.unwrap()
}

fn config_for(database_url: Option<String>, data_dir: &Path) -> Config {
    test_config(database_url, data_dir.to_path_buf())
}

#[tokio::test]
async fn a_backup_restored_into_an_empty_database_has_the_org_and_its_dashboard() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let created = ann
        .client
        .post(app.url("/api/orgs/acme/dashboards"))
        .json(&json!({ "workspace_id": ann.workspace_id, "name": "Weekly numbers" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.status(),
        StatusCode::CREATED,
        "{:?}",
        created.text().await
    );

    // Backed up while the app still runs.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("acme.dump");
    let config = config_for(Some(app.database_url.clone()), dir.path());
    let bytes = backup::backup(&config, &file).await.expect("backup");
    assert!(bytes > 10_000, "{bytes} bytes");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o077, 0, "only the owner may read a backup");
    assert!(backup::key_reminder(&config)
        .contains(&dir.path().join("encryption-keys").display().to_string()));

    let restored = empty_database().await;
    backup::restore(&config_for(Some(restored.clone()), dir.path()), &file)
        .await
        .expect("restore");
    let (ann, base, _stop) = serve_and_login(&restored, "ann@example.com").await;
    let dashboards = get(&ann, format!("{base}/api/orgs/acme/dashboards")).await;
    let names: Vec<&str> = dashboards
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert!(names.contains(&"Weekly numbers"), "{dashboards}");

    // Restoring again over the data replaces it rather than failing on what exists.
    backup::restore(&config_for(Some(restored.clone()), dir.path()), &file)
        .await
        .expect("a second restore over the same data");
    let pool = PgPool::connect(&restored).await.unwrap();
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM dashboards WHERE name = 'Weekly numbers'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(count, 1);

    // A file that is not a backup changes nothing and says so.
    let junk = dir.path().join("junk.dump");
    std::fs::write(&junk, "not a dump").unwrap();
    let error = backup::restore(&config_for(Some(restored), dir.path()), &junk)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("not a Pulseboard backup"), "{error}");
}

#[tokio::test]
async fn the_embedded_database_is_backed_up_while_running_and_restored_into_a_new_data_dir() {
    let source = data_dir();
    let search = pulseboard_server::db::embedded::BinarySearch::from_environment(None);
    // A running Pulseboard holds the cluster.
    let mut running = EmbeddedPostgres::start(source.path(), &search)
        .await
        .unwrap();
    let mut conn = PgConnection::connect_with(&running.connect_options())
        .await
        .unwrap();
    sqlx::raw_sql("CREATE TABLE marker (note text); INSERT INTO marker VALUES ('kept')")
        .execute(&mut conn)
        .await
        .unwrap();
    let file = source.path().join("backup.dump");
    backup::backup(&config_for(None, source.path()), &file)
        .await
        .expect("backup of the running cluster");
    // Restoring into a cluster another process runs is refused.
    let busy = backup::restore(&config_for(None, source.path()), &file)
        .await
        .unwrap_err()
        .to_string();
    assert!(busy.contains("stop it"), "{busy}");
    conn.close().await.unwrap();
    running.stop().await;

    let target = data_dir();
    backup::restore(&config_for(None, target.path()), &file)
        .await
        .expect("restore into a new data dir");
    let mut pg = EmbeddedPostgres::start(target.path(), &search)
        .await
        .unwrap();
    let mut conn = PgConnection::connect_with(&pg.connect_options())
        .await
        .unwrap();
    let note: String = sqlx::query_scalar("SELECT note FROM marker")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(note, "kept");
    conn.close().await.unwrap();
    pg.stop().await;
}

#[tokio::test]
async fn migrations_refuse_a_database_a_newer_binary_migrated() {
    let app = spawn_app().await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (9998, 'from the future', true, '\\x00', 1), (9999, 'further', true, '\\x00', 1)",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let db = pulseboard_server::db::Database::from_pool(app.db.clone());
    let error = format!("{:#}", db.migrate().await.unwrap_err());
    assert!(error.contains("9998, 9999"), "{error}");
    assert!(error.contains("newer Pulseboard"), "{error}");
    // The server refuses to start on it too.
    let dir = tempfile::tempdir().unwrap();
    let refused = Application::build(test_config(
        Some(app.database_url.clone()),
        dir.path().to_path_buf(),
    ))
    .await;
    assert!(refused.is_err());
}

#[tokio::test]
async fn a_database_of_the_first_schema_upgrades_without_losing_its_data() {
    let url = empty_database().await;
    let pool = PgPool::connect(&url).await.unwrap();
    let early = Migrator {
        migrations: Cow::Owned(MIGRATOR.iter().take(5).cloned().collect()),
        ..Migrator::DEFAULT
    };
    early.run(&pool).await.expect("the first five migrations");
    let latest_early = early.iter().last().unwrap().version;
    assert!(
        MIGRATOR.iter().any(|m| m.version > latest_early),
        "there are later migrations to apply"
    );

    // Rows as that version of Pulseboard wrote them.
    let hash = passwords::hash(&Password::parse(PASSWORD).unwrap())
        .await
        .unwrap();
    let (user, org, workspace, store, integration, dashboard, widget) = (
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    let layout = json!({ "columns": 2, "sections": [{ "id": "main", "title": "Revenue", "widgets": [widget] }] });
    let mut tx = pool.begin().await.unwrap();
    for sql in [
        "INSERT INTO users (id, email, name, password_hash) VALUES ($1, 'old@example.com', 'Olga', $8)",
        "INSERT INTO organizations (id, name, slug, plan, created_by) VALUES ($2, 'Old Shop', 'old-shop', 'pro', $1)",
        "INSERT INTO org_members (org_id, user_id, role) VALUES ($2, $1, 'owner')",
        "INSERT INTO workspaces (id, org_id, name) VALUES ($3, $2, 'Default')",
        "INSERT INTO workspace_members (org_id, workspace_id, user_id, role) VALUES ($2, $3, $1, 'admin')",
        "INSERT INTO stores (id, org_id, workspace_id, name, currency, timezone) VALUES ($4, $2, $3, 'Old Shop', 'EUR', 'Europe/Berlin')",
        "INSERT INTO integrations (id, org_id, store_id, provider, auth_kind, external_account_id, account_label, cadence_minutes, last_synced_at, connected_by)
          VALUES ($5, $2, $4, 'stripe', 'api_key', 'acct_old', 'Old Shop (Stripe)', 60, now() - interval '2 hours', $1)",
        "INSERT INTO dashboards (id, org_id, workspace_id, name, layout, created_by) VALUES ($6, $2, $3, 'Since 2024', $9, $1)",
        "INSERT INTO widgets (id, org_id, dashboard_id, type, title, query_config) VALUES ($7, $2, $6, 'kpi_card', 'Gross revenue',
          jsonb_build_object('metric', 'stripe.gross_revenue', 'range', 'last_30_days', 'scope', jsonb_build_object('store', $4::text)))",
    ] {
        // Every statement gets all nine (typed) parameters and names those it uses.
        sqlx::query(sql)
            .bind(user)
            .bind(org)
            .bind(workspace)
            .bind(store)
            .bind(integration)
            .bind(dashboard)
            .bind(widget)
            .bind(&hash)
            .bind(&layout)
            .execute(&mut *tx).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    tx.commit().await.unwrap();
    pool.close().await;

    // The current binary migrates it at start and reads it through the API.
    let (olga, base, _stop) = serve_and_login(&url, "old@example.com").await;
    let me = get(&olga, format!("{base}/api/me")).await;
    assert_eq!(me["memberships"][0]["org_slug"], "old-shop", "{me}");
    let board = get(
        &olga,
        format!("{base}/api/orgs/old-shop/dashboards/{dashboard}"),
    )
    .await;
    assert_eq!(board["name"], "Since 2024", "{board}");
    assert_eq!(board["widgets"][0]["title"], "Gross revenue", "{board}");
    assert_eq!(
        board["widgets"][0]["query_config"]["metric"], "stripe.gross_revenue",
        "{board}"
    );
    let stores = get(&olga, format!("{base}/api/orgs/old-shop/stores")).await;
    assert_eq!(stores[0]["timezone"], "Europe/Berlin", "{stores}");
    assert_eq!(stores[0]["currency"], "EUR", "{stores}");
    let integrations = get(&olga, format!("{base}/api/orgs/old-shop/integrations")).await;
    let text = integrations.to_string();
    assert!(
        text.contains(&integration.to_string()) && text.contains("acct_old"),
        "{integrations}"
    );
    // Every migration is recorded as applied.
    let pool = PgPool::connect(&url).await.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(applied as usize, MIGRATOR.iter().count());
}

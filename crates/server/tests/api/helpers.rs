//! Test harness: a fresh database per test (cloned from a migrated template), the
//! real `Application` on port 0, and HTTP clients with their own cookie jars.

use std::path::PathBuf;

use pulseboard_server::{
    config::{Config, ConfigArgs},
    db::MIGRATOR,
    notify, Application,
};
use pulseboard_simulator::{Simulator, SimulatorConfig, SimulatorHandle};
use reqwest::{Client, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};
use sqlx::{postgres::PgPoolOptions, Connection, PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub struct TestApp {
    pub base: String,
    /// URL of this test's own database.
    pub database_url: String,
    /// Owner connection to this test's database, for arranging and inspecting state.
    pub db: PgPool,
    pub data_dir: tempfile::TempDir,
    pub app_state: pulseboard_server::http::AppState,
    mailer: pulseboard_server::notify::Mailer,
    slack: pulseboard_server::notify::slack::SlackPoster,
    shutdown: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn admin_url() -> String {
    std::env::var("DATABASE_URL").expect(
        "DATABASE_URL must point at a PostgreSQL server where tests may create databases; run `scripts/test`",
    )
}

fn with_database(url: &str, name: &str) -> String {
    let mut url = url::Url::parse(url).expect("DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// A database with every migration applied, cloned from a template that is built
/// once per migration set (guarded by an advisory lock across test processes).
pub async fn fresh_database() -> String {
    let admin = admin_url();
    let mut conn = PgConnection::connect(&admin)
        .await
        .expect("connect to the test server");
    let mut fingerprint = 0u64;
    for m in MIGRATOR.iter() {
        for b in m.checksum.iter() {
            fingerprint = fingerprint.wrapping_mul(31).wrapping_add(u64::from(*b));
        }
    }
    let template = format!("pulseboard_tmpl_{:x}", fingerprint & 0xffff_ffff_ffff);
    sqlx::query("SELECT pg_advisory_lock(727274)")
        .execute(&mut conn)
        .await
        .unwrap();
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&template)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    if !exists {
        let building = format!("{template}_building");
        sqlx::query(&format!("DROP DATABASE IF EXISTS {building}"))
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {building}"))
            .execute(&mut conn)
            .await
            .unwrap();
        let pool = PgPool::connect(&with_database(&admin, &building))
            .await
            .unwrap();
        MIGRATOR
            .run(&pool)
            .await
            .expect("migrations apply to an empty database");
        pool.close().await;
        sqlx::query(&format!("ALTER DATABASE {building} RENAME TO {template}"))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    sqlx::query("SELECT pg_advisory_unlock(727274)")
        .execute(&mut conn)
        .await
        .unwrap();
    let name = format!("pulseboard_test_{}", Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.ok();
    with_database(&admin, &name)
}

pub fn test_config(database_url: Option<String>, data_dir: PathBuf) -> Config {
    Config::from_args(ConfigArgs {
        database_url: database_url.map(SecretString::from),
        // Short sessions and small bodies, which tests check the limits of.
        session_ttl_hours: 24,
        max_body_bytes: 64 * 1024,
        ..ConfigArgs::for_local(data_dir)
    })
    .unwrap()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with the configuration adjusted first (e.g. provider URLs
/// pointed at the simulator).
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let database_url = fresh_database().await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = test_config(Some(database_url.clone()), data_dir.path().to_path_buf());
    // Tests drive the outbox themselves.
    config.background_interval = std::time::Duration::from_secs(3600);
    // Tests run sync jobs themselves (or start workers explicitly).
    config.sync.workers = 0;
    config.sync.schedule_every = std::time::Duration::from_secs(3600);
    // Tests check alerts and send digests through the cron routes.
    config.sync.alerts_every = None;
    config.sync.weekly_digest = false;
    configure(&mut config);
    let app = Application::build(config)
        .await
        .expect("application builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let shutdown = app.shutdown_token();
    let app_state = app.state().clone();
    let mailer = app.mailer().clone();
    let slack = app.slack_poster().clone();
    tokio::spawn(app.run_until_stopped());
    let db = PgPoolOptions::new()
        .max_connections(4)
        .connect(&database_url)
        .await
        .unwrap();
    TestApp {
        base,
        database_url,
        db,
        data_dir,
        app_state,
        mailer,
        slack,
        shutdown,
    }
}

/// Points every provider setting at a running simulator, with its app credentials.
pub fn use_simulator(config: &mut Config, sim: &SimulatorHandle) {
    for (var, value) in pulseboard_simulator::connector_settings(&sim.base_url()) {
        config.providers.set(var, value);
    }
}

/// An app whose providers are the simulator started with `sim_config`.
pub async fn spawn_app_with_simulator(sim_config: SimulatorConfig) -> (TestApp, SimulatorHandle) {
    let sim = Simulator::start(sim_config).await.unwrap();
    let app = spawn_app_with(|c| use_simulator(c, &sim)).await;
    (app, sim)
}

/// A signed-in user with the organization created at sign-up.
#[derive(Clone)]
pub struct TestUser {
    pub client: Client,
    pub id: Uuid,
    pub org_slug: String,
    pub org_id: Uuid,
    pub workspace_id: Uuid,
    pub store_id: Uuid,
}

pub const PASSWORD: &str = "correct horse battery staple";

/// A browser-like client with its own cookie jar. It does not follow redirects, so
/// tests can read where the server sends the browser.
pub fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl TestApp {
    /// Creates a USD store named `name` in the user's workspace, in `timezone`.
    pub async fn create_store(&self, user: &TestUser, name: &str, timezone: &str) -> Uuid {
        let response = user
            .client
            .post(self.url(&format!("/api/orgs/{}/stores", user.org_slug)))
            .json(&serde_json::json!({ "workspace_id": user.workspace_id, "name": name, "currency": "USD", "timezone": timezone }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let store: serde_json::Value = response.json().await.unwrap();
        store["id"].as_str().unwrap().parse().unwrap()
    }

    /// Posts an API-key connect form (`fields` by name) for `provider` to `store_id`.
    pub async fn connect_api_key(
        &self,
        user: &TestUser,
        provider: &str,
        store_id: Uuid,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let fields: std::collections::BTreeMap<&str, &str> = fields.iter().copied().collect();
        user.client
            .post(self.url(&format!(
                "/api/orgs/{}/integrations/{provider}/api-key",
                user.org_slug
            )))
            .json(&serde_json::json!({ "store_id": store_id, "fields": fields }))
            .send()
            .await
            .unwrap()
    }

    /// The organization's most recent sync job, as the sync monitor lists it.
    pub async fn latest_job(&self, user: &TestUser) -> serde_json::Value {
        let jobs: Vec<serde_json::Value> = user
            .client
            .get(self.url(&format!("/api/orgs/{}/sync-jobs", user.org_slug)))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        jobs[0].clone()
    }

    /// Asks for a manual sync of `integration` (the Refresh button); its status.
    pub async fn request_sync(&self, user: &TestUser, integration: Uuid) -> StatusCode {
        user.client
            .post(self.url(&format!(
                "/api/orgs/{}/integrations/{integration}/sync",
                user.org_slug
            )))
            .send()
            .await
            .unwrap()
            .status()
    }

    /// One provider's entry of `GET /api/providers`.
    pub async fn provider_info(&self, user: &TestUser, id: &str) -> serde_json::Value {
        let providers: Vec<serde_json::Value> = user
            .client
            .get(self.url("/api/providers"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        providers
            .into_iter()
            .find(|p| p["id"] == id)
            .unwrap_or_else(|| panic!("no provider {id}"))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Signs up a new user with their own organization.
    pub async fn signup(&self, email: &str, org_name: &str) -> TestUser {
        let client = client();
        let response = client
            .post(self.url("/api/auth/signup"))
            .json(&json!({ "email": email, "password": PASSWORD, "name": email.split('@').next().unwrap(), "org_name": org_name }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "signup of {email}");
        let me: Value = response.json().await.unwrap();
        let membership = &me["memberships"][0];
        let org_slug = membership["org_slug"].as_str().unwrap().to_string();
        let stores: Value = client
            .get(self.url(&format!("/api/orgs/{org_slug}/stores")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        TestUser {
            id: me["user"]["id"].as_str().unwrap().parse().unwrap(),
            org_id: membership["org_id"].as_str().unwrap().parse().unwrap(),
            workspace_id: membership["workspaces"][0]["workspace_id"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap(),
            store_id: stores[0]["id"].as_str().unwrap().parse().unwrap(),
            org_slug,
            client,
        }
    }

    /// Invites `email` into `by`'s organization with `role` and returns the invite token,
    /// read from the delivered mail like a person would.
    pub async fn invite(&self, by: &TestUser, email: &str, role: &str) -> String {
        let response = by
            .client
            .post(self.url(&format!("/api/orgs/{}/invites", by.org_slug)))
            .json(&json!({ "email": email, "role": role }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{}",
            response.text().await.unwrap()
        );
        self.deliver_mail().await;
        self.invite_token_for(email)
    }

    /// Runs the outbox once, as the background loop would.
    pub async fn deliver_mail(&self) -> usize {
        notify::deliver_due(&self.app_state.db, &self.mailer)
            .await
            .unwrap()
    }

    /// Runs the Slack outbox once, as the background loop would.
    pub async fn deliver_slack(&self) -> usize {
        notify::slack::deliver_due(&self.app_state.db, &self.app_state.vault, &self.slack)
            .await
            .unwrap()
    }

    /// Time passes: every queued mail and Slack message is due now.
    pub async fn make_outbox_due(&self) {
        for table in ["email_outbox", "slack_outbox"] {
            sqlx::query(&format!(
                "UPDATE {table} SET next_attempt_at = now() WHERE sent_at IS NULL AND failed_at IS NULL"
            ))
            .execute(&self.db)
            .await
            .unwrap();
        }
    }

    /// Every delivered message, as a mail client would show it: headers plus the
    /// body with quoted-printable soft line breaks and escapes decoded.
    pub fn mails(&self) -> Vec<String> {
        let dir = self.data_dir.path().join("mail");
        let Ok(entries) = std::fs::read_dir(dir) else {
            return vec![];
        };
        let mut files: Vec<_> = entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .map(|e| (e.metadata().unwrap().modified().unwrap(), e.path()))
            .collect();
        // Oldest first, so the last message to someone is the newest.
        files.sort();
        files
            .into_iter()
            .map(|(_, path)| decode_quoted_printable(&std::fs::read_to_string(path).unwrap()))
            .collect()
    }

    pub fn invite_token_for(&self, email: &str) -> String {
        let mails = self.mails();
        let mail = mails
            .iter()
            .rfind(|m| m.contains(&format!("To: {email}")))
            .unwrap_or_else(|| panic!("no mail to {email}"));
        let start = mail
            .find("/invite/")
            .unwrap_or_else(|| panic!("no invite link in mail:\n{mail}"))
            + "/invite/".len();
        mail[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect()
    }

    /// Signs up `email` through an invite from `by` with `role`; returns the new user's client and id.
    pub async fn join(&self, by: &TestUser, email: &str, role: &str) -> (Client, Uuid) {
        let token = self.invite(by, email, role).await;
        let client = client();
        let response = client
            .post(self.url("/api/auth/signup"))
            .json(&json!({ "email": email, "password": PASSWORD, "name": "Invited", "invite_token": token }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let me: Value = response.json().await.unwrap();
        (client, me["user"]["id"].as_str().unwrap().parse().unwrap())
    }
}

/// Asserts a JSON error response with the given status and code; returns the body.
/// A 201 whose body never repeats `secret`, as JSON.
pub async fn created_without_secret(
    response: reqwest::Response,
    secret: &str,
) -> serde_json::Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{text}");
    assert!(!text.contains(secret), "the response repeats the secret");
    serde_json::from_str(&text).unwrap()
}

pub async fn expect_error(response: reqwest::Response, status: StatusCode, code: &str) -> Value {
    let actual = response.status();
    let body: Value = response
        .json()
        .await
        .unwrap_or_else(|e| panic!("error body is JSON ({actual}): {e}"));
    assert_eq!(actual, status, "unexpected status, body: {body}");
    assert_eq!(
        body["error"]["code"], code,
        "unexpected error code, body: {body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "error has a message: {body}"
    );
    body
}

fn decode_quoted_printable(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

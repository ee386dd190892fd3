//! Credentials at rest: encrypted per row and field, rotatable, failing closed per integration.

use pulseboard_server::{
    db::Database,
    integrations::credentials::{self, CredentialError},
    integrations::vault::{generate_key_entry, Vault, VaultError},
};
use uuid::Uuid;

use crate::helpers::spawn_app;

/// Inserts an integration for the user's default store, as a connection would.
async fn integration(app: &crate::helpers::TestApp, org: Uuid, store: Uuid, account: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO integrations (id, org_id, store_id, provider, auth_kind, external_account_id, account_label, cadence_minutes)
         VALUES (gen_random_uuid(), $1, $2, 'stripe', 'api_key', $3, $3, 15) RETURNING id",
    )
    .bind(org)
    .bind(store)
    .bind(account)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn rotation_reencrypts_everything_and_old_ciphertexts_keep_working_until_then() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let first = integration(&app, ann.org_id, ann.store_id, "acct_1").await;
    let second = integration(&app, ann.org_id, ann.store_id, "acct_2").await;
    let db = Database::from_pool(app.db.clone());

    let old_entry = generate_key_entry("old");
    let old = Vault::from_spec(&old_entry).unwrap();
    for (id, secret) in [(first, "rk_test_one"), (second, "rk_test_two")] {
        let mut conn = app.db.acquire().await.unwrap();
        credentials::save(&mut conn, &old, ann.org_id, id, "api_key", secret)
            .await
            .unwrap();
    }
    let raw: Vec<String> = sqlx::query_scalar("SELECT ciphertext FROM integration_credentials")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert!(
        raw.iter().all(|c| !c.contains("rk_test")),
        "secrets are not stored in clear"
    );

    // A new key goes first; the old one stays in the ring, so old ciphertexts still decrypt.
    let ring = Vault::from_spec(&format!("{},{old_entry}", generate_key_entry("new"))).unwrap();
    assert_eq!(
        credentials::read(&db, &ring, first, "api_key")
            .await
            .unwrap()
            .as_deref(),
        Some("rk_test_one")
    );

    let report = credentials::rotate(&db, &ring).await.unwrap();
    assert_eq!(report.reencrypted, 2);
    assert!(report.failed.is_empty());
    let keys: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT key_id FROM integration_credentials")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(keys, vec!["new".to_string()]);
    assert_eq!(
        credentials::rotate(&db, &ring).await.unwrap().reencrypted,
        0,
        "rotation is idempotent"
    );
    assert_eq!(
        credentials::read(&db, &ring, second, "api_key")
            .await
            .unwrap()
            .as_deref(),
        Some("rk_test_two")
    );

    // After rotation the old key can leave the ring: a vault without it still reads everything.
    let old_gone = Vault::from_spec(&generate_key_entry("unrelated")).unwrap();
    assert!(
        credentials::read(&db, &old_gone, first, "api_key")
            .await
            .is_err(),
        "sanity: another key cannot read"
    );
}

#[tokio::test]
async fn a_moved_ciphertext_or_unknown_key_disables_only_that_integration() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let healthy = integration(&app, ann.org_id, ann.store_id, "acct_ok").await;
    let victim = integration(&app, ann.org_id, ann.store_id, "acct_victim").await;
    let db = Database::from_pool(app.db.clone());
    let vault = Vault::from_spec(&generate_key_entry("k1")).unwrap();
    for id in [healthy, victim] {
        let mut conn = app.db.acquire().await.unwrap();
        credentials::save(&mut conn, &vault, ann.org_id, id, "api_key", "rk_test_x")
            .await
            .unwrap();
    }

    // Copy the healthy integration's ciphertext onto the victim's row.
    sqlx::query(
        "UPDATE integration_credentials SET ciphertext = (SELECT ciphertext FROM integration_credentials WHERE integration_id = $1)
         WHERE integration_id = $2",
    )
    .bind(healthy)
    .bind(victim)
    .execute(&app.db)
    .await
    .unwrap();
    let moved = credentials::read(&db, &vault, victim, "api_key").await;
    assert!(matches!(
        moved,
        Err(CredentialError::Vault(VaultError::Undecryptable))
    ));

    let status = |id: Uuid| {
        let pool = app.db.clone();
        async move {
            sqlx::query_as::<_, (String, Option<String>)>(
                "SELECT status, sync_error FROM integrations WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let (victim_status, reason) = status(victim).await;
    assert_eq!(victim_status, "error");
    assert!(reason.unwrap().contains("does not decrypt"));
    assert_eq!(status(healthy).await.0, "active");
    assert_eq!(
        credentials::read(&db, &vault, healthy, "api_key")
            .await
            .unwrap()
            .as_deref(),
        Some("rk_test_x")
    );

    // A key ring that lost the key: fails closed with a status naming the missing key.
    let stranger = Vault::from_spec(&generate_key_entry("k2")).unwrap();
    let unknown = credentials::read(&db, &stranger, healthy, "api_key").await;
    assert!(
        matches!(unknown, Err(CredentialError::Vault(VaultError::UnknownKey(ref k))) if k == "k1")
    );
    let (healthy_status, reason) = status(healthy).await;
    assert_eq!(healthy_status, "error");
    assert!(reason.unwrap().contains("`k1`"));
    // Rotation reports what it could not re-encrypt instead of failing everything.
    let report = credentials::rotate(&db, &stranger).await.unwrap();
    assert_eq!(report.reencrypted, 0);
    assert_eq!(report.failed.len(), 2);
}

#[tokio::test]
async fn the_user_facing_role_cannot_read_credentials_even_in_its_own_org() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let id = integration(&app, ann.org_id, ann.store_id, "acct_1").await;
    let vault = Vault::from_spec(&generate_key_entry("k1")).unwrap();
    let mut conn = app.db.acquire().await.unwrap();
    credentials::save(&mut conn, &vault, ann.org_id, id, "api_key", "rk_test_x")
        .await
        .unwrap();
    let db = Database::from_pool(app.db.clone());
    let mut tx = db.user_tx(ann.id).await.unwrap();
    let denied = sqlx::query("SELECT ciphertext FROM integration_credentials")
        .fetch_all(&mut *tx)
        .await;
    let code = denied
        .unwrap_err()
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.to_string());
    assert_eq!(
        code.as_deref(),
        Some("42501"),
        "permission denied, not an empty result"
    );
}

#[tokio::test]
async fn the_keys_commands_generate_a_usable_key_and_rotate_stored_credentials() {
    let generated = std::process::Command::new(env!("CARGO_BIN_EXE_pulseboard"))
        .args(["keys", "generate", "--id", "k9"])
        .output()
        .unwrap();
    assert!(generated.status.success());
    let new_entry = String::from_utf8(generated.stdout)
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(Vault::from_spec(&new_entry).unwrap().active_key_id(), "k9");

    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let id = integration(&app, ann.org_id, ann.store_id, "acct_1").await;
    let old_entry = generate_key_entry("k1");
    let old = Vault::from_spec(&old_entry).unwrap();
    let mut conn = app.db.acquire().await.unwrap();
    credentials::save(
        &mut conn,
        &old,
        ann.org_id,
        id,
        "access_token",
        "secret-token",
    )
    .await
    .unwrap();
    drop(conn);

    let database_url: String = app.database_url.clone();
    let rotated = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_pulseboard"))
            .args(["keys", "rotate"])
            .env("DATABASE_URL", database_url)
            .env(
                "PULSEBOARD_ENCRYPTION_KEYS",
                format!("{new_entry},{old_entry}"),
            )
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&rotated.stderr);
    assert!(rotated.status.success(), "{stderr}");
    assert!(stderr.contains("re-encrypted 1 credential"), "{stderr}");
    assert!(!stderr.contains("secret-token"));
    let key: String = sqlx::query_scalar("SELECT key_id FROM integration_credentials")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(key, "k9");
}

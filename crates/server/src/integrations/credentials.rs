//! Reading and writing integration secrets through the vault. Decryption failures
//! fail closed for the one integration concerned, with a status saying why.

use uuid::Uuid;

use crate::{
    db::{self, Database},
    integrations::vault::{Vault, VaultError},
};

/// Encrypts and stores one secret field of an integration (inside the caller's worker transaction).
pub async fn save(
    conn: &mut sqlx::PgConnection,
    vault: &Vault,
    org_id: Uuid,
    integration_id: Uuid,
    field: &str,
    secret: &str,
) -> sqlx::Result<()> {
    let sealed = vault.encrypt(integration_id, field, secret);
    db::integrations::put_credential(
        conn,
        org_id,
        integration_id,
        field,
        vault.active_key_id(),
        &sealed,
    )
    .await
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Decrypts one secret field. When it cannot be decrypted, the integration is put in
/// `error` with the reason, and only that integration stops working.
pub async fn read(
    db: &Database,
    vault: &Vault,
    integration_id: Uuid,
    field: &str,
) -> Result<Option<String>, CredentialError> {
    let mut tx = db.worker_tx().await?;
    let secret = read_in(&mut tx, vault, integration_id, field).await;
    tx.commit().await?;
    secret
}

/// [`read`] inside the caller's worker transaction (the status change commits with it).
pub async fn read_in(
    conn: &mut sqlx::PgConnection,
    vault: &Vault,
    integration_id: Uuid,
    field: &str,
) -> Result<Option<String>, CredentialError> {
    let Some(sealed) = db::integrations::get_credential(&mut *conn, integration_id, field).await?
    else {
        return Ok(None);
    };
    match vault.decrypt(integration_id, field, &sealed) {
        Ok(secret) => Ok(Some(secret)),
        Err(error) => {
            tracing::warn!(%integration_id, field, %error, "credential cannot be decrypted; integration disabled");
            db::integrations::set_status(
                &mut *conn,
                integration_id,
                "error",
                Some(&error.to_string()),
            )
            .await?;
            Err(error.into())
        }
    }
}

/// What `pulseboard keys rotate` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RotationReport {
    pub reencrypted: usize,
    /// Secrets whose key is missing or which do not decrypt, by integration (or
    /// Slack channel) id: left as they are.
    pub failed: Vec<(Uuid, String)>,
}

/// Re-encrypts every credential (and every Slack webhook URL and webhook signing
/// secret) under the vault's
/// active key, one row at a time.
pub async fn rotate(db: &Database, vault: &Vault) -> anyhow::Result<RotationReport> {
    let mut report = RotationReport::default();
    let mut tx = db.worker_tx().await?;
    let rows = db::integrations::credentials_not_under(&mut *tx, vault.active_key_id()).await?;
    for row in rows {
        match vault.decrypt(row.integration_id, &row.field, &row.ciphertext) {
            Ok(secret) => {
                let sealed = vault.encrypt(row.integration_id, &row.field, &secret);
                db::integrations::rekey_credential(
                    &mut *tx,
                    row.integration_id,
                    &row.field,
                    vault.active_key_id(),
                    &sealed,
                )
                .await?;
                report.reencrypted += 1;
            }
            Err(error) => report
                .failed
                .push((row.integration_id, format!("{}: {error}", row.field))),
        }
    }
    // Slack channels' webhook URLs are sealed by the same vault.
    for row in db::slack::webhooks_not_under(&mut *tx, vault.active_key_id()).await? {
        match vault.decrypt(row.id, db::slack::WEBHOOK_FIELD, &row.webhook_ciphertext) {
            Ok(url) => {
                let sealed = vault.encrypt(row.id, db::slack::WEBHOOK_FIELD, &url);
                db::slack::rekey_webhook(&mut *tx, row.id, &sealed).await?;
                report.reencrypted += 1;
            }
            Err(error) => report
                .failed
                .push((row.id, format!("Slack webhook URL: {error}"))),
        }
    }
    // So are webhook endpoints' signing secrets.
    for (id, integration, sealed) in
        db::webhooks::secrets_not_under(&mut *tx, vault.active_key_id()).await?
    {
        match vault.decrypt(integration, db::webhooks::SECRET_FIELD, &sealed) {
            Ok(secret) => {
                let resealed = vault.encrypt(integration, db::webhooks::SECRET_FIELD, &secret);
                db::webhooks::rekey_secret(&mut *tx, id, vault.active_key_id(), &resealed).await?;
                report.reencrypted += 1;
            }
            Err(error) => report
                .failed
                .push((integration, format!("webhook signing secret: {error}"))),
        }
    }
    tx.commit().await?;
    Ok(report)
}

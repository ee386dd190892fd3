//! Access tokens for provider calls (seed 000's refresh helper): the stored token,
//! refreshed first when it expires within five minutes.
//!
//! One refresh at a time per integration, however many callers: an in-process lock
//! keeps one task per process in line, and a transaction-scoped advisory lock does
//! the same across processes. Whoever gets the lock re-reads the expiry, so callers
//! that waited find the fresh token instead of refreshing again. New tokens (and a
//! rotated refresh token) are saved in the transaction that holds the lock.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use chrono::Utc;
use pulseboard_connectors::{with_backoff, ExposeSecret, OAuthError, RetryPolicy, SecretString};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    db::{self, integrations::TokenState, outbox::NewEmail},
    integrations::credentials::{self, CredentialError},
};

/// What token refresh needs from the application: the database, the key ring, the
/// providers, the per-integration refresh locks, and the configuration (for links in
/// the re-authorization email). `AppState` provides it; taking the pieces keeps this
/// module free of the state that holds it.
pub trait TokenContext: Send + Sync {
    fn db(&self) -> &crate::db::Database;
    fn vault(&self) -> &crate::integrations::vault::Vault;
    fn providers(&self) -> &pulseboard_connectors::Registry;
    fn refresh_locks(&self) -> &RefreshLocks;
    fn config(&self) -> &crate::config::Config;
}

/// Tokens are refreshed this long before they expire.
pub const REFRESH_MARGIN: chrono::Duration = chrono::Duration::minutes(5);

/// Per-integration locks of this process.
#[derive(Default)]
pub struct RefreshLocks(Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<()>>>>);

impl RefreshLocks {
    fn for_integration(&self, id: Uuid) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.0.lock().expect("refresh lock map");
        // Forget locks nobody holds, so the map does not grow with every integration ever seen.
        map.retain(|_, lock| Arc::strong_count(lock) > 1);
        map.entry(id).or_default().clone()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the integration must be reconnected: {0}")]
    ReauthRequired(String),
    #[error("the integration is {0}")]
    Unavailable(String),
    #[error("the integration has no stored access token")]
    Missing,
    #[error("the provider could not refresh the token: {0}")]
    Provider(OAuthError),
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn usable(state: &TokenState) -> Result<(), TokenError> {
    match state.status.as_str() {
        "reauth_required" => Err(TokenError::ReauthRequired(
            "the provider no longer accepts this connection".into(),
        )),
        // `error` only says the last sync failed: the next one must be able to try again
        // (a credential that cannot be decrypted fails on its own, with its reason).
        "disconnected" => Err(TokenError::Unavailable(state.status.clone())),
        _ => Ok(()),
    }
}

fn expiring(state: &TokenState) -> bool {
    state
        .expires_at
        .is_some_and(|at| at <= Utc::now() + REFRESH_MARGIN)
}

/// A token to call the provider with for this integration, refreshed first if needed.
/// For key-based integrations this is the API key.
pub async fn access_token(
    app: &impl TokenContext,
    integration_id: Uuid,
) -> Result<SecretString, TokenError> {
    let mut tx = app.db().worker_tx().await?;
    let state = db::integrations::token_state(&mut *tx, integration_id)
        .await?
        .ok_or_else(|| TokenError::Unavailable("gone".into()))?;
    tx.commit().await?;
    usable(&state)?;
    if !expiring(&state) {
        return stored_token(app, integration_id).await;
    }

    let lock = app.refresh_locks().for_integration(integration_id);
    let _in_process = lock.lock().await;
    let mut tx = app.db().worker_tx().await?;
    db::integrations::lock_token_refresh(&mut *tx, integration_id).await?;
    // Someone may have refreshed while we waited.
    let state = db::integrations::token_state(&mut *tx, integration_id)
        .await?
        .ok_or_else(|| TokenError::Unavailable("gone".into()))?;
    usable(&state)?;
    if !expiring(&state) {
        tx.commit().await?;
        return stored_token(app, integration_id).await;
    }

    let provider = app.providers().get(&state.provider).ok_or_else(|| {
        TokenError::Unavailable(format!("of unknown provider {}", state.provider))
    })?;
    let refresh_token =
        match credentials::read_in(&mut tx, app.vault(), integration_id, "refresh_token").await {
            Ok(token) => token.ok_or_else(|| "no refresh token is stored".to_owned()),
            Err(error) => {
                // Keep the `error` status read_in set.
                tx.commit().await?;
                return Err(error.into());
            }
        };
    // Providers that name an account (Shopify's shop) refresh against it.
    let account = provider.parse_account(&state.external_account_id).ok();
    let refreshed = match refresh_token {
        Ok(refresh_token) => {
            with_backoff(&RetryPolicy::default(), || {
                provider.refresh(&refresh_token, account.as_ref())
            })
            .await
        }
        Err(missing) => Err(OAuthError::InvalidGrant(missing)),
    };
    match refreshed {
        Ok(tokens) => {
            credentials::save(
                &mut tx,
                app.vault(),
                state.org_id,
                integration_id,
                "access_token",
                tokens.access_token.expose_secret(),
            )
            .await?;
            if let Some(rotated) = &tokens.refresh_token {
                credentials::save(
                    &mut tx,
                    app.vault(),
                    state.org_id,
                    integration_id,
                    "refresh_token",
                    rotated.expose_secret(),
                )
                .await?;
            }
            db::integrations::set_expires_at(&mut *tx, integration_id, tokens.expires_at).await?;
            tx.commit().await?;
            tracing::info!(%integration_id, provider = %state.provider, "access token refreshed");
            Ok(tokens.access_token)
        }
        Err(error) if error.needs_reauthorization() => {
            let reason =
                mark_reauth_required(&mut tx, app, integration_id, &error.to_string()).await?;
            tx.commit().await?;
            Err(TokenError::ReauthRequired(reason))
        }
        Err(error) => {
            tx.commit().await?;
            Err(TokenError::Provider(error))
        }
    }
}

async fn stored_token(
    app: &impl TokenContext,
    integration_id: Uuid,
) -> Result<SecretString, TokenError> {
    for field in ["access_token", "api_key"] {
        if let Some(token) = credentials::read(app.db(), app.vault(), integration_id, field).await?
        {
            return Ok(SecretString::from(token));
        }
    }
    Err(TokenError::Missing)
}

/// Marks the integration `reauth_required` (a provider refused its credentials) and
/// tells the org's owners and admins, once: later calls find the status already set.
pub async fn require_reauthorization(
    app: &impl TokenContext,
    integration_id: Uuid,
    why: &str,
) -> sqlx::Result<()> {
    let mut tx = app.db().worker_tx().await?;
    mark_reauth_required(&mut tx, app, integration_id, why).await?;
    tx.commit().await
}

async fn mark_reauth_required(
    conn: &mut PgConnection,
    app: &impl TokenContext,
    integration_id: Uuid,
    why: &str,
) -> sqlx::Result<String> {
    let state = db::integrations::lock_token_state(&mut *conn, integration_id).await?;
    let name = app
        .providers()
        .get(&state.provider)
        .map_or(state.provider.clone(), |p| p.info().name.to_owned());
    let reason = format!(
        "{name} no longer accepts Pulseboard's access ({why}); reconnect it in Settings → Integrations"
    );
    if state.status != "reauth_required" {
        db::integrations::set_status(&mut *conn, integration_id, "reauth_required", Some(&reason))
            .await?;
        notify_admins(conn, app, &state, &name).await?;
        tracing::warn!(%integration_id, provider = %state.provider, "provider refused the credentials; integration needs reconnecting");
    }
    Ok(reason)
}

/// One message to each owner and admin, on the transition to `reauth_required`.
async fn notify_admins(
    conn: &mut PgConnection,
    app: &impl TokenContext,
    state: &TokenState,
    provider_name: &str,
) -> sqlx::Result<()> {
    let admins = db::orgs::admin_emails(&mut *conn, state.org_id).await?;
    let subject = format!(
        "Reconnect {provider_name}: {} stopped syncing",
        state.account_label
    );
    let body = format!(
        "{provider_name} no longer accepts Pulseboard's access to {}, so its numbers stopped updating.\n\n\
         Reconnect it here: {}\n\nNothing synced so far is lost.\n",
        state.account_label,
        app.config().link("/settings/integrations"),
    );
    for to in &admins {
        db::outbox::enqueue(
            &mut *conn,
            NewEmail::text(state.org_id, "integration_reauth", to, &subject, &body),
        )
        .await?;
    }
    Ok(())
}

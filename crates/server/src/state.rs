//! The state every request handler and background loop shares: the database, the
//! configuration, the key ring, the providers and the in-process caches. It lives
//! outside `http/` so background work (sync, warming, token refresh) does not
//! depend on the web layer.

use std::sync::Arc;

use crate::{
    config::Config,
    dashboards::{
        data::ResultCache,
        warm::{RecentViews, WarmState},
    },
    db::Database,
    integrations::{
        access_token::{RefreshLocks, TokenContext},
        vault::Vault,
    },
    notify::Mailer,
    telemetry::HttpMetrics,
};

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState(Arc<StateInner>);

pub struct StateInner {
    pub db: Database,
    pub config: Config,
    pub metrics: HttpMetrics,
    pub vault: Vault,
    pub providers: pulseboard_connectors::Registry,
    pub refresh_locks: RefreshLocks,
    /// Wakes idle sync workers when a job is queued.
    pub sync_wakeup: tokio::sync::Notify,
    pub result_cache: ResultCache,
    /// Dashboards recomputed in the background when their data changes.
    pub recent_views: RecentViews,
    /// Wakes the webhook processor when a delivery is stored.
    pub webhook_wakeup: tokio::sync::Notify,
    /// Fans the database's live pings out to this instance's streams.
    pub live: crate::live::LiveHub,
    /// Sends the few messages that must not sit in an organization's outbox (a
    /// password reset link belongs to one person, not to their organization's admins).
    pub mailer: Mailer,
}

impl std::ops::Deref for AppState {
    type Target = StateInner;
    fn deref(&self) -> &StateInner {
        &self.0
    }
}

impl AppState {
    pub fn new(
        db: Database,
        config: Config,
        vault: Vault,
        providers: pulseboard_connectors::Registry,
        mailer: Mailer,
    ) -> Self {
        Self(Arc::new(StateInner {
            db,
            config,
            metrics: HttpMetrics::new(),
            vault,
            providers,
            refresh_locks: Default::default(),
            sync_wakeup: Default::default(),
            result_cache: Default::default(),
            recent_views: Default::default(),
            webhook_wakeup: Default::default(),
            live: Default::default(),
            mailer,
        }))
    }
}

/// Background warming takes just these pieces.
impl WarmState for AppState {
    fn database(&self) -> &Database {
        &self.db
    }
    fn providers(&self) -> &pulseboard_connectors::Registry {
        &self.providers
    }
    fn result_cache(&self) -> &ResultCache {
        &self.result_cache
    }
    fn recent_views(&self) -> &RecentViews {
        &self.recent_views
    }
}

/// Token refresh takes just these pieces.
impl TokenContext for AppState {
    fn db(&self) -> &Database {
        &self.db
    }
    fn vault(&self) -> &Vault {
        &self.vault
    }
    fn providers(&self) -> &pulseboard_connectors::Registry {
        &self.providers
    }
    fn refresh_locks(&self) -> &RefreshLocks {
        &self.refresh_locks
    }
    fn config(&self) -> &Config {
        &self.config
    }
}

/// The live stream takes just these pieces.
impl crate::live::LiveState for AppState {
    fn database(&self) -> &Database {
        &self.db
    }
    fn hub(&self) -> &crate::live::LiveHub {
        &self.live
    }
}

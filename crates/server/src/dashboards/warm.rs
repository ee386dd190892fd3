//! Keeping open dashboards warm: dashboards loaded in the last half hour are
//! recomputed in the background as soon as their organization's data changes (a sync
//! finished, an integration connected), so the next load is answered from the result
//! cache instead of paying for the whole dashboard. A load that arrives first still
//! computes fresh numbers itself: the cache key carries the data version.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use pulseboard_connectors::Registry;
use uuid::Uuid;

use super::{
    data::{evaluate, Overrides, ResultCache},
    load, shares, widgets_of,
};
use crate::{db::Database, error::ApiResult, metrics::query::RangeSpec};

/// What warming needs of the running application. The application's state implements
/// it, so that this background work takes its pieces without depending on the web
/// layer that owns the state.
pub trait WarmState: Sync {
    fn database(&self) -> &Database;
    fn providers(&self) -> &Registry;
    fn result_cache(&self) -> &ResultCache;
    fn recent_views(&self) -> &RecentViews;
}

/// Who loaded a dashboard: its results are computed with that caller's rights.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Viewer {
    User(Uuid),
    Share(Uuid),
}

/// One dashboard as one caller loaded it (range and comparison overrides included).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct View {
    pub org_id: Uuid,
    pub dashboard_id: Uuid,
    pub viewer: Viewer,
    /// The overrides, as their cache-key JSON.
    overrides: String,
}

impl View {
    pub fn new(org_id: Uuid, dashboard_id: Uuid, viewer: Viewer, overrides: &Overrides) -> Self {
        let range = match &overrides.range {
            Some(RangeSpec::Preset(p)) => serde_json::to_string(p).unwrap_or_default(),
            _ => String::new(),
        };
        let compare = overrides
            .compare_to
            .map(|c| serde_json::to_string(&c).unwrap_or_default())
            .unwrap_or_default();
        Self {
            org_id,
            dashboard_id,
            viewer,
            overrides: format!("{range}|{compare}"),
        }
    }

    pub fn overrides(&self) -> Overrides {
        let (range, compare) = self.overrides.split_once('|').unwrap_or_default();
        Overrides {
            range: serde_json::from_str(range).ok().map(RangeSpec::Preset),
            compare_to: serde_json::from_str(compare).ok(),
        }
    }
}

/// How long a load keeps its dashboard warm.
const KEEP_WARM: Duration = Duration::from_secs(30 * 60);
/// At most this many dashboards are kept warm (the most recently loaded win).
const MAX_VIEWS: usize = 500;

/// Dashboards loaded recently, with the data version each org was last warmed at.
#[derive(Default)]
pub struct RecentViews(Mutex<Inner>);

#[derive(Default)]
struct Inner {
    views: HashMap<View, Instant>,
    versions: HashMap<Uuid, String>,
}

impl RecentViews {
    /// Notes a load that computed (or reused) results at `version`.
    pub fn record(&self, view: View, version: &str) {
        let mut inner = self.0.lock().expect("views lock");
        if inner.views.len() >= MAX_VIEWS && !inner.views.contains_key(&view) {
            if let Some(oldest) = inner
                .views
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(v, _)| v.clone())
            {
                inner.views.remove(&oldest);
            }
        }
        inner.versions.insert(view.org_id, version.to_owned());
        inner.views.insert(view, Instant::now());
    }

    fn forget(&self, view: &View) {
        self.0.lock().expect("views lock").views.remove(view);
    }

    /// Drops stale views; returns the orgs still watched with their last version.
    fn watched(&self) -> Vec<(Uuid, String)> {
        let mut inner = self.0.lock().expect("views lock");
        inner.views.retain(|_, at| at.elapsed() < KEEP_WARM);
        let orgs: std::collections::HashSet<Uuid> = inner.views.keys().map(|v| v.org_id).collect();
        inner.versions.retain(|org, _| orgs.contains(org));
        inner
            .versions
            .iter()
            .map(|(o, v)| (*o, v.clone()))
            .collect()
    }

    fn views_of(&self, org_id: Uuid) -> Vec<View> {
        let inner = self.0.lock().expect("views lock");
        inner
            .views
            .keys()
            .filter(|v| v.org_id == org_id)
            .cloned()
            .collect()
    }

    fn set_version(&self, org_id: Uuid, version: String) {
        self.0
            .lock()
            .expect("views lock")
            .versions
            .insert(org_id, version);
    }
}

/// One pass: for every watched org whose data version moved, recompute its views.
/// Returns how many dashboards were recomputed.
pub async fn tick(state: &impl WarmState) -> usize {
    let views = state.recent_views();
    let mut warmed = 0;
    for (org_id, known) in views.watched() {
        let version = match state.database().worker_tx().await {
            Ok(mut tx) => {
                let version = super::data::data_version(&mut tx, org_id).await;
                let _ = tx.commit().await;
                version
            }
            Err(error) => Err(error),
        };
        let version = match version {
            Ok(v) => v,
            Err(error) => {
                tracing::warn!(%error, "warming dashboards: reading the data version failed");
                return warmed;
            }
        };
        if version == known {
            continue;
        }
        for view in views.views_of(org_id) {
            let recomputed = recompute(
                state.database(),
                state.providers(),
                state.result_cache(),
                &view,
            )
            .await;
            match recomputed {
                Ok(()) => warmed += 1,
                // Deleted dashboard, revoked share, lost access: stop warming it.
                Err(error) => {
                    tracing::debug!(%error, dashboard = %view.dashboard_id, "warming dashboards: dropped a view");
                    views.forget(&view);
                }
            }
        }
        views.set_version(org_id, version);
    }
    warmed
}

/// Recomputes a recently loaded dashboard as its caller would, filling the result
/// cache: a user's load in that user's RLS transaction, a share link's in the worker
/// role bounded by the share. Fails when the caller can no longer see it.
pub async fn recompute(
    db: &Database,
    providers: &Registry,
    cache: &ResultCache,
    view: &View,
) -> ApiResult<()> {
    let (mut tx, viewer, subset) = match view.viewer {
        Viewer::User(user_id) => (db.user_tx(user_id).await?, user_id.to_string(), None),
        Viewer::Share(share_id) => {
            let mut tx = db.worker_tx().await?;
            let subset =
                shares::live_subset(&mut tx, view.org_id, view.dashboard_id, share_id).await?;
            (tx, format!("share:{share_id}"), subset)
        }
    };
    let dashboard = load(&mut tx, view.org_id, view.dashboard_id).await?;
    let mut widgets = widgets_of(&mut tx, &dashboard).await?;
    shares::keep_shown(&mut widgets, subset.as_deref());
    evaluate(
        &mut tx,
        providers,
        cache,
        view.org_id,
        &viewer,
        &widgets,
        &view.overrides(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

//! Share links as their readers see them: the public page opens a live link by its
//! token, background warming checks a link is still live. Either way only the
//! widgets the link names are shown.
//!
//! These run in a worker-role transaction (the page's visitor is anonymous): every
//! read is bounded by the share's own organization and dashboard instead.

use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    load,
    model::{Dashboard, Layout, Widget},
    widgets_of,
};
use crate::{
    db,
    domain::secrets::token_hash,
    error::{ApiError, ApiResult},
};

/// A live share link's dashboard with the widgets it shows, in layout order.
pub struct Opened {
    pub share_id: Uuid,
    pub org_id: Uuid,
    pub dashboard: Dashboard,
    pub widgets: Vec<Widget>,
}

/// Opens the share link with this token. Revoked, expired or unknown links are 404.
pub async fn open(conn: &mut PgConnection, token: &str) -> ApiResult<Opened> {
    let share = db::dashboards::find_live_share(&mut *conn, &token_hash(token))
        .await?
        .ok_or(ApiError::NotFound("shared dashboard"))?;
    let dashboard = load(conn, share.org_id, share.dashboard_id).await?;
    let mut widgets = widgets_of(conn, &dashboard).await?;
    keep_shown(&mut widgets, share.widget_ids.as_deref());
    Ok(Opened {
        share_id: share.id,
        org_id: share.org_id,
        dashboard,
        widgets,
    })
}

/// The widgets a share link shows (`None`: all of them) if it is still live on that
/// dashboard; 404 once it is revoked or expired.
pub async fn live_subset(
    conn: &mut PgConnection,
    org_id: Uuid,
    dashboard_id: Uuid,
    share_id: Uuid,
) -> ApiResult<Option<Vec<Uuid>>> {
    db::dashboards::live_share_widgets(conn, org_id, dashboard_id, share_id)
        .await?
        .ok_or(ApiError::NotFound("shared dashboard"))
}

/// Keeps the widgets a share link names (all of them for `None`).
pub fn keep_shown(widgets: &mut Vec<Widget>, subset: Option<&[Uuid]>) {
    if let Some(subset) = subset {
        widgets.retain(|w| subset.contains(&w.id));
    }
}

/// The layout a shared page shows: the shown widgets only, empty sections dropped.
pub fn public_layout(layout: &Layout, widgets: &[Widget]) -> Layout {
    let mut layout = layout.clone();
    for section in &mut layout.sections {
        section
            .widgets
            .retain(|id| widgets.iter().any(|w| w.id == *id));
    }
    layout.sections.retain(|s| !s.widgets.is_empty());
    layout
}

//! Dashboards, widgets, templates, share links and widget data (seed 001 §2.2).
//! Viewers read; members and up edit dashboards; owners and admins manage shares.
//! One module per sub-resource; this one assembles their routers and holds what
//! several of them share.

mod crud;
mod data;
mod shares;
mod templates;
mod widgets;

use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use super::{extract::OrgScope, AppState};
use crate::{
    dashboards::model::{Dashboard, Layout, Widget},
    db,
    error::{ApiError, ApiResult},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(crud::router())
        .merge(widgets::router())
        .merge(data::router())
        .merge(templates::router())
        .merge(shares::router())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardWithWidgets {
    #[serde(flatten)]
    dashboard: Dashboard,
    widgets: Vec<Widget>,
}

/// A dashboard's name, trimmed: 1–120 characters.
fn check_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(ApiError::validation("name", "must be 1–120 characters"));
    }
    Ok(name.to_owned())
}

/// Saves a dashboard's layout; 403 when the caller may see it but not change it.
async fn save_layout(scope: &mut OrgScope, id: Uuid, layout: &Layout) -> ApiResult<Dashboard> {
    db::dashboards::set_layout(&mut *scope.tx, scope.org.id, id, layout)
        .await?
        .ok_or_else(|| ApiError::forbidden("you cannot change this dashboard"))
}
/// The widget of that dashboard, or 404.
async fn load_widget(
    scope: &mut OrgScope,
    dashboard_id: Uuid,
    widget_id: Uuid,
) -> ApiResult<Widget> {
    db::dashboards::get_widget(&mut *scope.tx, scope.org.id, dashboard_id, widget_id)
        .await?
        .ok_or(ApiError::NotFound("widget"))
}

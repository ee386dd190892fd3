//! Dashboards themselves: list, create, read with widgets, update, delete, duplicate.

use std::collections::BTreeSet;

use axum::{http::StatusCode, Json};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{check_name, save_layout, DashboardWithWidgets};
use crate::{
    dashboards::{
        load,
        model::{Dashboard, Layout, VISIBILITIES},
        widgets_of,
    },
    db::{
        self,
        dashboards::{NewDashboard, NewWidget},
    },
    error::{ApiError, ApiResult, ErrorBody},
    http::{
        extract::{ApiJson, ApiPath, OrgScope},
        AppState,
    },
};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_dashboards, create_dashboard))
        .routes(routes!(get_dashboard, update_dashboard, delete_dashboard))
        .routes(routes!(duplicate_dashboard))
}

#[utoipa::path(get, path = "/api/orgs/{org_slug}/dashboards", tag = "dashboards", params(("org_slug" = String, Path)),
    responses((status = 200, body = [Dashboard]), (status = 404, body = ErrorBody)))]
async fn list_dashboards(mut scope: OrgScope) -> ApiResult<Json<Vec<Dashboard>>> {
    let list = db::dashboards::list(&mut *scope.tx, scope.org.id).await?;
    scope.commit().await?;
    Ok(Json(list))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDashboard {
    workspace_id: Uuid,
    #[schema(value_type = crate::http::openapi::Title)]
    name: String,
    #[serde(default)]
    description: String,
    /// Defaults to 2 columns with one section.
    layout: Option<Layout>,
    /// `private`, `workspace` (default) or `public`.
    #[schema(value_type = Option<crate::domain::dashboards::Visibility>)]
    visibility: Option<String>,
}

fn check_visibility(v: &str) -> ApiResult<()> {
    if VISIBILITIES.contains(&v) {
        Ok(())
    } else {
        Err(ApiError::validation(
            "visibility",
            "must be private, workspace or public",
        ))
    }
}

#[utoipa::path(post, path = "/api/orgs/{org_slug}/dashboards", tag = "dashboards", params(("org_slug" = String, Path)),
    request_body = CreateDashboard,
    responses((status = 201, body = Dashboard), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_dashboard(
    mut scope: OrgScope,
    ApiJson(body): ApiJson<CreateDashboard>,
) -> ApiResult<(StatusCode, Json<Dashboard>)> {
    let name = check_name(&body.name)?;
    let layout = body.layout.unwrap_or_else(|| Layout::single("Overview"));
    layout.check()?;
    if !layout.widget_order().is_empty() {
        return Err(ApiError::validation(
            "layout.sections",
            "a new dashboard has no widgets yet; add them after",
        ));
    }
    let visibility = body.visibility.unwrap_or_else(|| "workspace".into());
    check_visibility(&visibility)?;
    crate::http::workspaces::visible(&mut scope, body.workspace_id).await?;
    let new = NewDashboard {
        org_id: scope.org.id,
        workspace_id: body.workspace_id,
        name: &name,
        description: &body.description,
        layout: &layout,
        visibility: &visibility,
        template: None,
        created_by: scope.user.id,
    };
    let dashboard = db::dashboards::create(&mut *scope.tx, &new).await?;
    scope
        .audit(
            "dashboard.created",
            "dashboard",
            dashboard.id,
            serde_json::json!({ "name": name }),
        )
        .await?;
    scope.commit().await?;
    Ok((StatusCode::CREATED, Json(dashboard)))
}

#[utoipa::path(get, path = "/api/orgs/{org_slug}/dashboards/{dashboard_id}", tag = "dashboards",
    params(("org_slug" = String, Path), ("dashboard_id" = Uuid, Path)),
    responses((status = 200, body = DashboardWithWidgets), (status = 404, body = ErrorBody)))]
async fn get_dashboard(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<Json<DashboardWithWidgets>> {
    let (_, id) = path;
    let dashboard = load(&mut scope.tx, scope.org.id, id).await?;
    let widgets = widgets_of(&mut scope.tx, &dashboard).await?;
    scope.commit().await?;
    Ok(Json(DashboardWithWidgets { dashboard, widgets }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDashboard {
    #[schema(value_type = Option<crate::http::openapi::Title>)]
    name: Option<String>,
    description: Option<String>,
    /// Columns, sections and widget order; must place every widget of the dashboard once.
    layout: Option<Layout>,
    #[schema(value_type = Option<crate::domain::dashboards::Visibility>)]
    visibility: Option<String>,
}

#[utoipa::path(patch, path = "/api/orgs/{org_slug}/dashboards/{dashboard_id}", tag = "dashboards",
    params(("org_slug" = String, Path), ("dashboard_id" = Uuid, Path)), request_body = UpdateDashboard,
    responses((status = 200, body = Dashboard), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_dashboard(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
    ApiJson(body): ApiJson<UpdateDashboard>,
) -> ApiResult<Json<Dashboard>> {
    let (_, id) = path;
    let mut dashboard = load(&mut scope.tx, scope.org.id, id).await?;
    if let Some(name) = &body.name {
        dashboard.name = check_name(name)?;
    }
    if let Some(description) = body.description {
        dashboard.description = description;
    }
    if let Some(visibility) = body.visibility {
        check_visibility(&visibility)?;
        dashboard.visibility = visibility;
    }
    if let Some(layout) = body.layout {
        layout.check()?;
        let placed = layout.widget_order();
        let unique: BTreeSet<Uuid> = placed.iter().copied().collect();
        let existing: BTreeSet<Uuid> = widgets_of(&mut scope.tx, &dashboard)
            .await?
            .iter()
            .map(|w| w.id)
            .collect();
        if unique.len() != placed.len() || unique != existing {
            return Err(ApiError::validation(
                "layout.sections",
                "must place every widget of this dashboard exactly once",
            ));
        }
        dashboard.layout = sqlx::types::Json(layout);
    }
    let updated = db::dashboards::update(&mut *scope.tx, scope.org.id, &dashboard)
        .await?
        .ok_or_else(|| ApiError::forbidden("you cannot change this dashboard"))?;
    scope.commit().await?;
    Ok(Json(updated))
}

#[utoipa::path(delete, path = "/api/orgs/{org_slug}/dashboards/{dashboard_id}", tag = "dashboards",
    params(("org_slug" = String, Path), ("dashboard_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_dashboard(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    let (_, id) = path;
    load(&mut scope.tx, scope.org.id, id).await?;
    db::dashboards::delete(&mut *scope.tx, scope.org.id, id).await?;
    scope
        .audit("dashboard.deleted", "dashboard", id, serde_json::json!({}))
        .await?;
    scope.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Copies a dashboard with its widgets ("Copy of …", private to the caller).
#[utoipa::path(post, path = "/api/orgs/{org_slug}/dashboards/{dashboard_id}/duplicate", tag = "dashboards",
    params(("org_slug" = String, Path), ("dashboard_id" = Uuid, Path)),
    responses((status = 201, body = DashboardWithWidgets), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn duplicate_dashboard(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<(StatusCode, Json<DashboardWithWidgets>)> {
    let (_, id) = path;
    let source = load(&mut scope.tx, scope.org.id, id).await?;
    let widgets = widgets_of(&mut scope.tx, &source).await?;
    let name: String = format!("Copy of {}", source.name)
        .chars()
        .take(120)
        .collect();
    let new = NewDashboard {
        org_id: scope.org.id,
        workspace_id: source.workspace_id,
        name: &name,
        description: &source.description,
        layout: &Layout::single("Overview"),
        visibility: "private",
        template: source.template.as_deref(),
        created_by: scope.user.id,
    };
    let mut copy = db::dashboards::create(&mut *scope.tx, &new).await?;
    let mut layout = source.layout.0.clone();
    let mut copies = Vec::new();
    for widget in &widgets {
        let new = NewWidget {
            org_id: scope.org.id,
            dashboard_id: copy.id,
            kind: &widget.kind,
            title: &widget.title,
            query: &widget.query_config,
            display: &widget.display_config,
            size: &widget.size,
        };
        let new = db::dashboards::create_widget(&mut *scope.tx, &new).await?;
        for section in &mut layout.sections {
            for slot in &mut section.widgets {
                if *slot == widget.id {
                    *slot = new.id;
                }
            }
        }
        copies.push(new);
    }
    copy = save_layout(&mut scope, copy.id, &layout).await?;
    scope.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(DashboardWithWidgets {
            dashboard: copy,
            widgets: copies,
        }),
    ))
}

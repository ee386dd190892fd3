//! Dashboards, widgets, templates, share links and widget data (seed 001 §2.2).
//! Viewers read; members and up edit dashboards; owners and admins manage shares.

use std::collections::BTreeSet;

use axum::{
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    extract::{ApiJson, ApiPath, ApiQuery, OrgScope},
    AppState,
};
use crate::{
    dashboards::{
        data::{evaluate, public_widget, to_csv, Overrides, ResultCache, WidgetData},
        load,
        model::{
            check_display, parse_query, Dashboard, Layout, Section, Share, Widget, SIZES,
            VISIBILITIES,
        },
        shares,
        templates::{self, TemplateInfo},
        warm::{RecentViews, View, Viewer, WarmState},
        widgets_of,
    },
    db::{
        self,
        dashboards::{NewDashboard, NewShare, NewWidget},
        Database,
    },
    domain::secrets::{new_token, token_hash},
    error::{ApiError, ApiResult, ErrorBody},
    metrics::{
        query::RangeSpec,
        window::{CompareTo, Preset},
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_dashboards, create_dashboard))
        .routes(routes!(get_dashboard, update_dashboard, delete_dashboard))
        .routes(routes!(duplicate_dashboard))
        .routes(routes!(add_widget))
        .routes(routes!(update_widget, delete_widget))
        .routes(routes!(dashboard_data))
        .routes(routes!(widget_data))
        .routes(routes!(list_templates))
        .routes(routes!(from_template))
        .routes(routes!(list_shares, create_share))
        .routes(routes!(revoke_share))
        .routes(routes!(shared_dashboard))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardWithWidgets {
    #[serde(flatten)]
    dashboard: Dashboard,
    widgets: Vec<Widget>,
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
    name: String,
    #[serde(default)]
    description: String,
    /// Defaults to 2 columns with one section.
    layout: Option<Layout>,
    /// `private`, `workspace` (default) or `public`.
    visibility: Option<String>,
}

fn check_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(ApiError::validation("name", "must be 1–120 characters"));
    }
    Ok(name.to_owned())
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
    name: Option<String>,
    description: Option<String>,
    /// Columns, sections and widget order; must place every widget of the dashboard once.
    layout: Option<Layout>,
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

/// Saves a dashboard's layout; 403 when the caller may see it but not change it.
async fn save_layout(scope: &mut OrgScope, id: Uuid, layout: &Layout) -> ApiResult<Dashboard> {
    db::dashboards::set_layout(&mut *scope.tx, scope.org.id, id, layout)
        .await?
        .ok_or_else(|| ApiError::forbidden("you cannot change this dashboard"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWidget {
    #[serde(rename = "type")]
    kind: String,
    title: String,
    /// For metric widgets a metrics query; for funnels `{"steps": [query, …]}`.
    #[schema(value_type = Object)]
    query_config: Value,
    #[schema(value_type = Object)]
    display_config: Option<Value>,
    /// `small`, `medium` (default), `large` or `full`.
    size: Option<String>,
    /// The section to append it to (default: the first).
    section: Option<String>,
}

fn check_widget(
    state: &AppState,
    kind: &str,
    title: &str,
    query: &Value,
    display: &Value,
    size: &str,
) -> ApiResult<()> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 120 {
        return Err(ApiError::validation("title", "must be 1–120 characters"));
    }
    parse_query(kind, query, &state.providers)?;
    check_display(display)?;
    if !SIZES.contains(&size) {
        return Err(ApiError::validation(
            "size",
            "must be small, medium, large or full",
        ));
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/orgs/{org_slug}/dashboards/{dashboard_id}/widgets", tag = "dashboards",
    params(("org_slug" = String, Path), ("dashboard_id" = Uuid, Path)), request_body = CreateWidget,
    responses((status = 201, body = Widget), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_widget(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
    ApiJson(body): ApiJson<CreateWidget>,
) -> ApiResult<(StatusCode, Json<Widget>)> {
    let (_, id) = path;
    let dashboard = load(&mut scope.tx, scope.org.id, id).await?;
    let display = body.display_config.unwrap_or_else(|| serde_json::json!({}));
    let size = body.size.unwrap_or_else(|| "medium".into());
    check_widget(
        &state,
        &body.kind,
        &body.title,
        &body.query_config,
        &display,
        &size,
    )?;
    let mut layout = dashboard.layout.0.clone();
    let section = match &body.section {
        Some(wanted) => layout
            .sections
            .iter_mut()
            .find(|s| &s.id == wanted)
            .ok_or_else(|| ApiError::validation("section", "no such section in this dashboard"))?,
        None => layout.sections.first_mut().expect("a layout has a section"),
    };
    if layout_widget_count(section) >= 50 {
        return Err(ApiError::validation(
            "section",
            "a section holds at most 50 widgets",
        ));
    }
    let new = NewWidget {
        org_id: scope.org.id,
        dashboard_id: id,
        kind: &body.kind,
        title: body.title.trim(),
        query: &body.query_config,
        display: &display,
        size: &size,
    };
    let widget = db::dashboards::create_widget(&mut *scope.tx, &new).await?;
    section.widgets.push(widget.id);
    save_layout(&mut scope, id, &layout).await?;
    scope.commit().await?;
    Ok((StatusCode::CREATED, Json(widget)))
}

fn layout_widget_count(section: &Section) -> usize {
    section.widgets.len()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWidget {
    title: Option<String>,
    #[schema(value_type = Object)]
    query_config: Option<Value>,
    #[schema(value_type = Object)]
    display_config: Option<Value>,
    size: Option<String>,
}

#[utoipa::path(patch, path = "/api/orgs/{org_slug}/dashboards/{dashboard_id}/widgets/{widget_id}", tag = "dashboards",
    params(("org_slug" = String, Path), ("dashboard_id" = Uuid, Path), ("widget_id" = Uuid, Path)), request_body = UpdateWidget,
    responses((status = 200, body = Widget), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_widget(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid, Uuid)>,
    ApiJson(body): ApiJson<UpdateWidget>,
) -> ApiResult<Json<Widget>> {
    let (_, dashboard_id, widget_id) = path;
    let mut widget = load_widget(&mut scope, dashboard_id, widget_id).await?;
    if let Some(title) = body.title {
        widget.title = title.trim().to_owned();
    }
    if let Some(query) = body.query_config {
        widget.query_config = query;
    }
    if let Some(display) = body.display_config {
        widget.display_config = display;
    }
    if let Some(size) = body.size {
        widget.size = size;
    }
    check_widget(
        &state,
        &widget.kind,
        &widget.title,
        &widget.query_config,
        &widget.display_config,
        &widget.size,
    )?;
    let updated = db::dashboards::update_widget(&mut *scope.tx, scope.org.id, &widget)
        .await?
        .ok_or_else(|| ApiError::forbidden("you cannot change this widget"))?;
    scope.commit().await?;
    Ok(Json(updated))
}

async fn load_widget(
    scope: &mut OrgScope,
    dashboard_id: Uuid,
    widget_id: Uuid,
) -> ApiResult<Widget> {
    db::dashboards::get_widget(&mut *scope.tx, scope.org.id, dashboard_id, widget_id)
        .await?
        .ok_or(ApiError::NotFound("widget"))
}

#[utoipa::path(delete, path = "/api/orgs/{org_slug}/dashboards/{dashboard_id}/widgets/{widget_id}", tag = "dashboards",
    params(("org_slug" = String, Path), ("dashboard_id" = Uuid, Path), ("widget_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_widget(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let (_, dashboard_id, widget_id) = path;
    let dashboard = load(&mut scope.tx, scope.org.id, dashboard_id).await?;
    load_widget(&mut scope, dashboard_id, widget_id).await?;
    db::dashboards::delete_widget(&mut *scope.tx, scope.org.id, widget_id).await?;
    let mut layout = dashboard.layout.0.clone();
    for section in &mut layout.sections {
        section.widgets.retain(|id| *id != widget_id);
    }
    save_layout(&mut scope, dashboard_id, &layout).await?;
    scope.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DataQuery {
    /// Override every metric widget's range with a preset (`last_7_days`, …).
    range: Option<Preset>,
    /// Override every metric widget's comparison.
    compare_to: Option<CompareTo>,
}

impl DataQuery {
    fn overrides(&self) -> Overrides {
        Overrides {
            range: self.range.map(RangeSpec::Preset),
            compare_to: self.compare_to,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardData {
    dashboard_id: Uuid,
    widgets: Vec<WidgetData>,
}

/// Every widget's data in one round trip.
#[utoipa::path(get, path = "/api/orgs/{org_slug}/dashboards/{dashboard_id}/data", tag = "dashboards",
    params(("org_slug" = String, Path), ("dashboard_id" = Uuid, Path), DataQuery),
    responses((status = 200, body = DashboardData), (status = 404, body = ErrorBody)))]
async fn dashboard_data(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
    ApiQuery(query): ApiQuery<DataQuery>,
) -> ApiResult<Json<DashboardData>> {
    let (_, id) = path;
    let dashboard = load(&mut scope.tx, scope.org.id, id).await?;
    let widgets = widgets_of(&mut scope.tx, &dashboard).await?;
    let viewer = scope.user.id.to_string();
    let overrides = query.overrides();
    let (data, version) = evaluate(
        &mut scope.tx,
        &state.providers,
        &state.result_cache,
        scope.org.id,
        &viewer,
        &widgets,
        &overrides,
    )
    .await?;
    let view = View::new(scope.org.id, id, Viewer::User(scope.user.id), &overrides);
    scope.commit().await?;
    state.recent_views.record(view, &version);
    Ok(Json(DashboardData {
        dashboard_id: id,
        widgets: data,
    }))
}

/// One widget's data; with `Accept: text/csv` a CSV file of its series.
#[utoipa::path(get, path = "/api/orgs/{org_slug}/dashboards/{dashboard_id}/widgets/{widget_id}/data", tag = "dashboards",
    params(("org_slug" = String, Path), ("dashboard_id" = Uuid, Path), ("widget_id" = Uuid, Path), DataQuery),
    responses((status = 200, body = WidgetData, content_type = "application/json"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn widget_data(
    State(state): State<AppState>,
    mut scope: OrgScope,
    headers: HeaderMap,
    ApiPath(path): ApiPath<(String, Uuid, Uuid)>,
    ApiQuery(query): ApiQuery<DataQuery>,
) -> ApiResult<Response> {
    let (_, dashboard_id, widget_id) = path;
    load(&mut scope.tx, scope.org.id, dashboard_id).await?;
    let widget = load_widget(&mut scope, dashboard_id, widget_id).await?;
    let viewer = scope.user.id.to_string();
    let data = evaluate(
        &mut scope.tx,
        &state.providers,
        &state.result_cache,
        scope.org.id,
        &viewer,
        std::slice::from_ref(&widget),
        &query.overrides(),
    )
    .await?
    .0
    .remove(0);
    scope.commit().await?;
    let wants_csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"));
    if !wants_csv {
        return Ok(Json(data).into_response());
    }
    let WidgetData::Ok { result, .. } = &data else {
        return Err(ApiError::validation(
            "widget_id",
            "this widget has no series to export",
        ));
    };
    let file: String = widget
        .title
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}.csv\""),
            ),
        ],
        to_csv(result),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/orgs/{org_slug}/dashboard-templates", tag = "dashboards", params(("org_slug" = String, Path)),
    responses((status = 200, body = [TemplateInfo])))]
async fn list_templates(scope: OrgScope) -> ApiResult<Json<Vec<TemplateInfo>>> {
    scope.commit().await?;
    Ok(Json(templates::TEMPLATES.to_vec()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FromTemplate {
    /// `saas_revenue`, `store_overview` or `cro_overview`.
    template: String,
    store_id: Uuid,
    name: Option<String>,
}

/// Creates a dashboard from a template for one store (in the store's workspace).
#[utoipa::path(post, path = "/api/orgs/{org_slug}/dashboards/from-template", tag = "dashboards",
    params(("org_slug" = String, Path)), request_body = FromTemplate,
    responses((status = 201, body = DashboardWithWidgets), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn from_template(
    mut scope: OrgScope,
    ApiJson(body): ApiJson<FromTemplate>,
) -> ApiResult<(StatusCode, Json<DashboardWithWidgets>)> {
    let info = templates::TEMPLATES
        .iter()
        .find(|t| t.id == body.template)
        .ok_or_else(|| {
            ApiError::validation(
                "template",
                "unknown template; see GET …/dashboard-templates",
            )
        })?;
    let store = crate::db::stores::get(&mut *scope.tx, scope.org.id, body.store_id)
        .await?
        .ok_or(ApiError::NotFound("store"))?;
    let (sections, widgets, columns) =
        templates::build(info.id, store.id).expect("listed templates build");
    let name = check_name(body.name.as_deref().unwrap_or(info.name))?;
    let new = NewDashboard {
        org_id: scope.org.id,
        workspace_id: store.workspace_id,
        name: &name,
        description: info.description,
        layout: &Layout::single("Overview"),
        visibility: "workspace",
        template: Some(info.id),
        created_by: scope.user.id,
    };
    let dashboard = db::dashboards::create(&mut *scope.tx, &new).await?;
    let mut layout = Layout {
        columns,
        sections: sections
            .iter()
            .enumerate()
            .map(|(i, title)| Section {
                id: format!("s{}", i + 1),
                title: (*title).to_owned(),
                widgets: vec![],
            })
            .collect(),
    };
    let mut created = Vec::new();
    for w in widgets {
        let new = NewWidget {
            org_id: scope.org.id,
            dashboard_id: dashboard.id,
            kind: w.kind,
            title: w.title,
            query: &w.query,
            display: &w.display,
            size: w.size,
        };
        let widget = db::dashboards::create_widget(&mut *scope.tx, &new).await?;
        layout.sections[w.section].widgets.push(widget.id);
        created.push(widget);
    }
    let dashboard = save_layout(&mut scope, dashboard.id, &layout).await?;
    scope
        .audit(
            "dashboard.created",
            "dashboard",
            dashboard.id,
            serde_json::json!({ "template": info.id }),
        )
        .await?;
    scope.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(DashboardWithWidgets {
            dashboard,
            widgets: created,
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedShare {
    #[serde(flatten)]
    share: Share,
    /// Shown once: the link's secret.
    token: String,
    url: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateShare {
    expires_at: Option<DateTime<Utc>>,
    widget_ids: Option<Vec<Uuid>>,
}

#[utoipa::path(get, path = "/api/orgs/{org_slug}/dashboards/{dashboard_id}/shares", tag = "dashboards",
    params(("org_slug" = String, Path), ("dashboard_id" = Uuid, Path)),
    responses((status = 200, body = [Share]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_shares(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<Json<Vec<Share>>> {
    let (_, id) = path;
    load(&mut scope.tx, scope.org.id, id).await?;
    scope.require_admin()?;
    let shares = db::dashboards::list_shares(&mut *scope.tx, scope.org.id, id).await?;
    scope.commit().await?;
    Ok(Json(shares))
}

/// A read-only link to the dashboard (or some of its widgets), optionally expiring.
#[utoipa::path(post, path = "/api/orgs/{org_slug}/dashboards/{dashboard_id}/shares", tag = "dashboards",
    params(("org_slug" = String, Path), ("dashboard_id" = Uuid, Path)), request_body = CreateShare,
    responses((status = 201, body = CreatedShare), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_share(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
    ApiJson(body): ApiJson<CreateShare>,
) -> ApiResult<(StatusCode, Json<CreatedShare>)> {
    let (_, id) = path;
    let dashboard = load(&mut scope.tx, scope.org.id, id).await?;
    scope.require_admin()?;
    if body.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(ApiError::validation("expires_at", "must be in the future"));
    }
    if let Some(ids) = &body.widget_ids {
        let existing: BTreeSet<Uuid> = widgets_of(&mut scope.tx, &dashboard)
            .await?
            .iter()
            .map(|w| w.id)
            .collect();
        if ids.is_empty() || ids.iter().any(|w| !existing.contains(w)) {
            return Err(ApiError::validation(
                "widget_ids",
                "name widgets of this dashboard",
            ));
        }
    }
    let token = new_token("pbd_");
    let new = NewShare {
        org_id: scope.org.id,
        dashboard_id: id,
        token_hash: &token_hash(&token),
        widget_ids: body.widget_ids.as_deref(),
        expires_at: body.expires_at,
        created_by: scope.user.id,
    };
    let share = db::dashboards::create_share(&mut *scope.tx, &new).await?;
    scope
        .audit(
            "dashboard.shared",
            "dashboard",
            id,
            serde_json::json!({ "share_id": share.id }),
        )
        .await?;
    scope.commit().await?;
    let url = state.config.link(&format!("/shared/{token}"));
    Ok((
        StatusCode::CREATED,
        Json(CreatedShare { share, token, url }),
    ))
}

#[utoipa::path(delete, path = "/api/orgs/{org_slug}/dashboards/{dashboard_id}/shares/{share_id}", tag = "dashboards",
    params(("org_slug" = String, Path), ("dashboard_id" = Uuid, Path), ("share_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_share(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let (_, dashboard_id, share_id) = path;
    load(&mut scope.tx, scope.org.id, dashboard_id).await?;
    scope.require_admin()?;
    let revoked =
        db::dashboards::revoke_share(&mut *scope.tx, scope.org.id, dashboard_id, share_id).await?;
    if !revoked {
        return Err(ApiError::NotFound("share"));
    }
    scope
        .audit(
            "dashboard.share_revoked",
            "dashboard",
            dashboard_id,
            serde_json::json!({ "share_id": share_id }),
        )
        .await?;
    scope.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SharedDashboard {
    name: String,
    description: String,
    #[schema(value_type = Layout)]
    layout: Layout,
    #[schema(value_type = Vec<Object>)]
    widgets: Vec<Value>,
    data: Vec<WidgetData>,
}

/// The public page of a share link: that dashboard's layout and data, nothing else.
/// Revoked, expired or unknown links are 404.
#[utoipa::path(get, path = "/api/shared/{token}", tag = "dashboards", params(("token" = String, Path)), security(()),
    responses((status = 200, body = SharedDashboard), (status = 404, body = ErrorBody)))]
async fn shared_dashboard(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Json<SharedDashboard>> {
    // The worker role, bounded by the share's own org and dashboard on every read below.
    let mut tx = state.db.worker_tx().await?;
    let shares::Opened {
        share_id,
        org_id,
        dashboard,
        widgets,
    } = shares::open(&mut tx, &token).await?;
    let dashboard_id = dashboard.id;
    let layout = shares::public_layout(&dashboard.layout, &widgets);
    let (data, version) = evaluate(
        &mut tx,
        &state.providers,
        &state.result_cache,
        org_id,
        &format!("share:{share_id}"),
        &widgets,
        &Overrides::default(),
    )
    .await?;
    tx.commit().await?;
    let view = View::new(
        org_id,
        dashboard_id,
        Viewer::Share(share_id),
        &Overrides::default(),
    );
    state.recent_views.record(view, &version);
    // Freshness names integrations by label only; no ids of the org beyond the widgets'.
    Ok(Json(SharedDashboard {
        name: dashboard.name,
        description: dashboard.description,
        layout,
        widgets: widgets.iter().map(public_widget).collect(),
        data,
    }))
}

/// Background warming reads the pieces it needs from the application state, so
/// `dashboards::warm` stays independent of the web layer.
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

//! A dashboard's widgets: add (placed in a section), configure, remove.

use axum::{extract::State, http::StatusCode, Json};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{load_widget, save_layout};
use crate::{
    dashboards::{
        load,
        model::{check_display, parse_query, Section, Widget, SIZES},
    },
    db::{self, dashboards::NewWidget},
    error::{ApiError, ApiResult, ErrorBody},
    http::{
        extract::{ApiJson, ApiPath, OrgScope},
        AppState,
    },
};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_widget))
        .routes(routes!(update_widget, delete_widget))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWidget {
    #[serde(rename = "type")]
    #[schema(value_type = crate::http::openapi::WidgetType)]
    kind: String,
    #[schema(value_type = crate::http::openapi::Title)]
    title: String,
    /// For metric widgets a metrics query; for funnels `{"steps": [query, …]}`.
    #[schema(value_type = Object)]
    query_config: Value,
    #[schema(value_type = Option<Object>)]
    display_config: Option<Value>,
    /// `small`, `medium` (default), `large` or `full`.
    #[schema(value_type = Option<crate::http::openapi::WidgetSize>)]
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
    #[schema(value_type = Option<crate::http::openapi::Title>)]
    title: Option<String>,
    #[schema(value_type = Option<Object>)]
    query_config: Option<Value>,
    #[schema(value_type = Option<Object>)]
    display_config: Option<Value>,
    #[schema(value_type = Option<crate::http::openapi::WidgetSize>)]
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

//! Widget data: a whole dashboard's in one call, or one widget's (as JSON or CSV).
//! Each load is noted so that `dashboards::warm` keeps it warm.

use axum::{
    extract::State,
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::load_widget;
use crate::{
    dashboards::{
        data::{evaluate, to_csv, Overrides, WidgetData},
        load,
        warm::{View, Viewer},
        widgets_of,
    },
    error::{ApiError, ApiResult, ErrorBody},
    http::{
        extract::{ApiPath, ApiQuery, OrgScope},
        AppState,
    },
    metrics::{
        query::RangeSpec,
        window::{CompareTo, Preset},
    },
};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(dashboard_data))
        .routes(routes!(widget_data))
        .merge(
            // A preview only reads: viewers may run it, though it is a POST.
            OpenApiRouter::new()
                .routes(routes!(preview_widget))
                .layer(axum::middleware::from_fn(
                    crate::http::extract::read_only_post,
                )),
        )
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
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

/// A widget not saved yet: its type and settings, as the builder has them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WidgetPreview {
    #[serde(rename = "type")]
    #[schema(value_type = crate::http::openapi::WidgetType)]
    kind: String,
    #[schema(value_type = Object)]
    query_config: serde_json::Value,
}

/// The data a widget would show, before it is saved: the builder's live preview.
/// Settings that would be refused on save are refused here too (422).
#[utoipa::path(post, path = "/api/orgs/{org_slug}/widgets/preview", tag = "dashboards",
    params(("org_slug" = String, Path)), request_body = WidgetPreview,
    responses((status = 200, body = WidgetData), (status = 422, body = ErrorBody)))]
async fn preview_widget(
    State(state): State<AppState>,
    mut scope: OrgScope,
    crate::http::extract::ApiJson(preview): crate::http::extract::ApiJson<WidgetPreview>,
) -> ApiResult<Json<WidgetData>> {
    crate::dashboards::model::parse_query(&preview.kind, &preview.query_config, &state.providers)?;
    let now = chrono::Utc::now();
    let widget = crate::dashboards::model::Widget {
        id: Uuid::nil(),
        dashboard_id: Uuid::nil(),
        kind: preview.kind,
        title: String::new(),
        query_config: preview.query_config,
        display_config: serde_json::json!({}),
        size: "medium".into(),
        created_at: now,
        updated_at: now,
    };
    let viewer = scope.user.id.to_string();
    let data = evaluate(
        &mut scope.tx,
        &state.providers,
        &state.result_cache,
        scope.org.id,
        &viewer,
        std::slice::from_ref(&widget),
        &Overrides::default(),
    )
    .await?
    .0
    .remove(0);
    scope.commit().await?;
    Ok(Json(data))
}

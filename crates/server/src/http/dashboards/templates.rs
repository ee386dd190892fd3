//! The built-in templates, and dashboards made from one for a store.

use axum::{http::StatusCode, Json};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{check_name, save_layout, DashboardWithWidgets};
use crate::{
    dashboards::{
        model::{Layout, Section},
        templates::{self, TemplateInfo},
    },
    db::{
        self,
        dashboards::{NewDashboard, NewWidget},
    },
    error::{ApiError, ApiResult, ErrorBody},
    http::{
        extract::{ApiJson, OrgScope},
        AppState,
    },
};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_templates))
        .routes(routes!(from_template))
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
    #[schema(value_type = crate::dashboards::templates::TemplateId)]
    template: String,
    store_id: Uuid,
    #[schema(value_type = Option<crate::http::openapi::Title>)]
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

//! Share links: owners and admins list, create and revoke them; anyone holding a
//! live link reads its public page.

use std::collections::BTreeSet;

use axum::{extract::State, http::StatusCode, Json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    dashboards::{
        data::{evaluate, public_widget, Overrides, WidgetData},
        load,
        model::{Layout, Share},
        shares,
        warm::{View, Viewer},
        widgets_of,
    },
    db::{self, dashboards::NewShare, Bypass},
    domain::secrets::{new_token, token_hash},
    error::{ApiError, ApiResult, ErrorBody},
    http::{
        extract::{ApiJson, ApiPath, OrgScope},
        AppState,
    },
};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_shares, create_share))
        .routes(routes!(revoke_share))
        .routes(routes!(shared_dashboard))
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
    let mut tx = state.db.bypass_tx(Bypass::PublicShare).await?;
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

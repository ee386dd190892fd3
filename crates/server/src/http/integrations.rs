//! Connected integrations: list, inspect, disconnect. Members and viewers read;
//! only owners and admins change anything. No response ever carries credential
//! material: the credentials table is not even readable by the request's role.

use axum::{extract::State, http::StatusCode, Json};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    extract::{ApiPath, OrgScope},
    AppState,
};
use crate::{
    db::{self, integrations::Integration},
    error::{ApiError, ApiResult, ErrorBody},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_integrations))
        .routes(routes!(get_integration, disconnect_integration))
}

/// Integrations of the organization with their status and freshness.
#[utoipa::path(get, path = "/api/orgs/{org_slug}/integrations", tag = "integrations", params(("org_slug" = String, Path)),
    responses((status = 200, body = [Integration]), (status = 404, body = ErrorBody)))]
async fn list_integrations(mut scope: OrgScope) -> ApiResult<Json<Vec<Integration>>> {
    let list = db::integrations::list(&mut *scope.tx, scope.org.id).await?;
    scope.commit().await?;
    Ok(Json(list))
}

#[utoipa::path(get, path = "/api/orgs/{org_slug}/integrations/{integration_id}", tag = "integrations",
    params(("org_slug" = String, Path), ("integration_id" = Uuid, Path)),
    responses((status = 200, body = Integration), (status = 404, body = ErrorBody)))]
async fn get_integration(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<Json<Integration>> {
    let (_, id) = path;
    let integration = db::integrations::get(&mut *scope.tx, scope.org.id, id)
        .await?
        .ok_or(ApiError::NotFound("integration"))?;
    scope.commit().await?;
    Ok(Json(integration))
}

/// Disconnect: the stored credentials are deleted and the integration stops syncing.
/// Its history stays, so reconnecting the same account picks up where it left off.
#[utoipa::path(delete, path = "/api/orgs/{org_slug}/integrations/{integration_id}", tag = "integrations",
    params(("org_slug" = String, Path), ("integration_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn disconnect_integration(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    let (_, id) = path;
    let integration = db::integrations::get(&mut *scope.tx, scope.org.id, id)
        .await?
        .ok_or(ApiError::NotFound("integration"))?;
    scope.require_admin()?;
    let (org_id, user_id) = (scope.org.id, scope.user.id);
    scope.commit().await?;
    // Credentials are worker-only, so the deletion runs as the worker, after the checks above.
    let mut tx = state.db.worker_tx().await?;
    db::integrations::delete_credentials(&mut *tx, id).await?;
    db::integrations::set_status(&mut *tx, id, "disconnected", None).await?;
    db::orgs::audit(
        &mut *tx,
        org_id,
        user_id,
        "integration.disconnected",
        "integration",
        &id.to_string(),
        serde_json::json!({ "provider": integration.provider, "account": integration.account_label }),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

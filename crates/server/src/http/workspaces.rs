//! Workspaces and their members. Owners/admins see every workspace; other members
//! see the ones they belong to; a workspace they cannot see answers 404.

use axum::{http::StatusCode, Json};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    extract::{ApiJson, ApiPath, OrgScope},
    field, AppState,
};
use crate::{
    db::{
        self,
        workspaces::{Workspace, WorkspaceMember},
    },
    domain::{DisplayName, OrgRole, WorkspaceRole},
    error::{ApiError, ApiResult, ErrorBody},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_workspaces, create_workspace))
        .routes(routes!(get_workspace, update_workspace, delete_workspace))
        .routes(routes!(list_workspace_members))
        .routes(routes!(put_workspace_member, remove_workspace_member))
}

/// Loads a workspace the caller can see, or 404.
pub async fn visible(scope: &mut OrgScope, id: Uuid) -> ApiResult<Workspace> {
    db::workspaces::get(&mut *scope.tx, scope.org.id, id)
        .await?
        .ok_or(ApiError::NotFound("workspace"))
}

/// Org owners/admins, or members who administer this workspace.
fn require_workspace_admin(scope: &OrgScope, workspace: &Workspace) -> ApiResult<()> {
    if scope.role.is_admin()
        || (scope.role == OrgRole::Member && workspace.my_role == Some(WorkspaceRole::Admin))
    {
        Ok(())
    } else {
        Err(ApiError::forbidden("only workspace admins can do that"))
    }
}

/// Workspaces visible to the caller.
#[utoipa::path(get, path = "/api/orgs/{org_slug}/workspaces", tag = "workspaces", params(("org_slug" = String, Path)),
    responses((status = 200, body = [Workspace]), (status = 404, body = ErrorBody)))]
async fn list_workspaces(mut scope: OrgScope) -> ApiResult<Json<Vec<Workspace>>> {
    let list = db::workspaces::list(&mut *scope.tx, scope.org.id).await?;
    scope.commit().await?;
    Ok(Json(list))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceRequest {
    #[schema(value_type = crate::domain::DisplayName)]
    name: String,
}

/// Create a workspace (owners and admins).
#[utoipa::path(post, path = "/api/orgs/{org_slug}/workspaces", tag = "workspaces", params(("org_slug" = String, Path)),
    request_body = WorkspaceRequest,
    responses((status = 201, body = Workspace), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_workspace(
    mut scope: OrgScope,
    ApiJson(body): ApiJson<WorkspaceRequest>,
) -> ApiResult<(StatusCode, Json<Workspace>)> {
    scope.require_admin()?;
    let name = field("name", DisplayName::parse(&body.name))?;
    let id = db::workspaces::create(&mut *scope.tx, scope.org.id, name.as_str()).await?;
    scope
        .audit(
            "workspace.created",
            "workspace",
            id,
            serde_json::json!({ "name": name.as_str() }),
        )
        .await?;
    let workspace = visible(&mut scope, id).await?;
    scope.commit().await?;
    Ok((StatusCode::CREATED, Json(workspace)))
}

#[utoipa::path(get, path = "/api/orgs/{org_slug}/workspaces/{workspace_id}", tag = "workspaces",
    params(("org_slug" = String, Path), ("workspace_id" = Uuid, Path)),
    responses((status = 200, body = Workspace), (status = 404, body = ErrorBody)))]
async fn get_workspace(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<Json<Workspace>> {
    let (_, id) = path;
    let workspace = visible(&mut scope, id).await?;
    scope.commit().await?;
    Ok(Json(workspace))
}

/// Rename a workspace (its admins, or org owners/admins).
#[utoipa::path(patch, path = "/api/orgs/{org_slug}/workspaces/{workspace_id}", tag = "workspaces",
    params(("org_slug" = String, Path), ("workspace_id" = Uuid, Path)), request_body = WorkspaceRequest,
    responses((status = 200, body = Workspace), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn update_workspace(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
    ApiJson(body): ApiJson<WorkspaceRequest>,
) -> ApiResult<Json<Workspace>> {
    let (_, id) = path;
    let workspace = visible(&mut scope, id).await?;
    require_workspace_admin(&scope, &workspace)?;
    let name = field("name", DisplayName::parse(&body.name))?;
    db::workspaces::rename(&mut *scope.tx, scope.org.id, id, name.as_str()).await?;
    scope
        .audit(
            "workspace.renamed",
            "workspace",
            id,
            serde_json::json!({ "name": name.as_str() }),
        )
        .await?;
    let workspace = visible(&mut scope, id).await?;
    scope.commit().await?;
    Ok(Json(workspace))
}

/// Delete a workspace with its stores (owners and admins).
#[utoipa::path(delete, path = "/api/orgs/{org_slug}/workspaces/{workspace_id}", tag = "workspaces",
    params(("org_slug" = String, Path), ("workspace_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_workspace(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    let (_, id) = path;
    let workspace = visible(&mut scope, id).await?;
    scope.require_admin()?;
    db::workspaces::delete(&mut *scope.tx, scope.org.id, id).await?;
    scope
        .audit(
            "workspace.deleted",
            "workspace",
            id,
            serde_json::json!({ "name": workspace.name }),
        )
        .await?;
    scope.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/orgs/{org_slug}/workspaces/{workspace_id}/members", tag = "workspaces",
    params(("org_slug" = String, Path), ("workspace_id" = Uuid, Path)),
    responses((status = 200, body = [WorkspaceMember]), (status = 404, body = ErrorBody)))]
async fn list_workspace_members(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<Json<Vec<WorkspaceMember>>> {
    let (_, id) = path;
    visible(&mut scope, id).await?;
    let members = db::workspaces::list_members(&mut *scope.tx, scope.org.id, id).await?;
    scope.commit().await?;
    Ok(Json(members))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceMemberRequest {
    role: WorkspaceRole,
}

/// Add an organization member to the workspace, or change their workspace role.
#[utoipa::path(put, path = "/api/orgs/{org_slug}/workspaces/{workspace_id}/members/{user_id}", tag = "workspaces",
    params(("org_slug" = String, Path), ("workspace_id" = Uuid, Path), ("user_id" = Uuid, Path)),
    request_body = WorkspaceMemberRequest,
    responses((status = 200, body = [WorkspaceMember]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_workspace_member(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid, Uuid)>,
    ApiJson(body): ApiJson<WorkspaceMemberRequest>,
) -> ApiResult<Json<Vec<WorkspaceMember>>> {
    let (_, id, user_id) = path;
    let workspace = visible(&mut scope, id).await?;
    require_workspace_admin(&scope, &workspace)?;
    db::workspaces::upsert_member(&mut *scope.tx, scope.org.id, id, user_id, body.role).await?;
    scope
        .audit(
            "workspace.member_set",
            "workspace",
            id,
            serde_json::json!({ "user_id": user_id, "role": body.role }),
        )
        .await?;
    let members = db::workspaces::list_members(&mut *scope.tx, scope.org.id, id).await?;
    scope.commit().await?;
    Ok(Json(members))
}

/// Remove someone from the workspace (they stay in the organization).
#[utoipa::path(delete, path = "/api/orgs/{org_slug}/workspaces/{workspace_id}/members/{user_id}", tag = "workspaces",
    params(("org_slug" = String, Path), ("workspace_id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn remove_workspace_member(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let (_, id, user_id) = path;
    let workspace = visible(&mut scope, id).await?;
    require_workspace_admin(&scope, &workspace)?;
    if !db::workspaces::remove_member(&mut *scope.tx, scope.org.id, id, user_id).await? {
        return Err(ApiError::NotFound("workspace member"));
    }
    scope
        .audit(
            "workspace.member_removed",
            "workspace",
            id,
            serde_json::json!({ "user_id": user_id }),
        )
        .await?;
    scope.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

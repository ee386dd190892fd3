//! Stores: the businesses measured, each with an ISO 4217 currency and an IANA time zone.

use axum::{extract::State, http::StatusCode, Json};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    extract::{ApiJson, ApiPath, ApiQuery, OrgScope},
    field, AppState,
};
use crate::{
    db::{self, stores::Store, workspaces::Workspace},
    domain::{Currency, DisplayName, OrgRole, TimeZone, WorkspaceRole},
    error::{ApiError, ApiResult, ErrorBody},
    http::workspaces::visible,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_stores, create_store))
        .routes(routes!(get_store, update_store, delete_store))
}

/// Org owners/admins, or members who are admins or editors of the workspace.
fn require_workspace_writer(scope: &OrgScope, workspace: &Workspace) -> ApiResult<()> {
    let editor = matches!(
        workspace.my_role,
        Some(WorkspaceRole::Admin | WorkspaceRole::Editor)
    );
    if scope.role.is_admin() || (scope.role == OrgRole::Member && editor) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only workspace admins and editors can change its stores",
        ))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StoreFilter {
    /// Only the stores of this workspace.
    #[serde(default)]
    workspace_id: Option<Uuid>,
}

/// Stores in the workspaces the caller can see.
#[utoipa::path(get, path = "/api/orgs/{org_slug}/stores", tag = "stores", params(("org_slug" = String, Path), StoreFilter),
    responses((status = 200, body = [Store]), (status = 404, body = ErrorBody)))]
async fn list_stores(
    mut scope: OrgScope,
    ApiQuery(filter): ApiQuery<StoreFilter>,
) -> ApiResult<Json<Vec<Store>>> {
    let stores = db::stores::list(&mut *scope.tx, scope.org.id, filter.workspace_id).await?;
    scope.commit().await?;
    Ok(Json(stores))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStoreRequest {
    workspace_id: Uuid,
    #[schema(value_type = crate::domain::DisplayName)]
    name: String,
    /// ISO 4217 code, e.g. `EUR`.
    #[schema(value_type = crate::domain::Currency)]
    currency: String,
    /// IANA time zone, e.g. `Europe/Paris`.
    #[schema(value_type = crate::domain::TimeZone)]
    timezone: String,
}

#[utoipa::path(post, path = "/api/orgs/{org_slug}/stores", tag = "stores", params(("org_slug" = String, Path)),
    request_body = CreateStoreRequest,
    responses((status = 201, body = Store), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody, description = "The plan allows no more (`plan_limit`)")))]
async fn create_store(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiJson(body): ApiJson<CreateStoreRequest>,
) -> ApiResult<(StatusCode, Json<Store>)> {
    let name = field("name", DisplayName::parse(&body.name))?;
    let currency = field("currency", Currency::parse(&body.currency))?;
    let timezone = field("timezone", TimeZone::parse(&body.timezone))?;
    let workspace = visible(&mut scope, body.workspace_id).await?;
    require_workspace_writer(&scope, &workspace)?;
    db::plans::ensure_room(&state.db, scope.org.id, db::plans::Capped::Stores).await?;
    let store = db::stores::create(
        &mut *scope.tx,
        scope.org.id,
        workspace.id,
        name.as_str(),
        currency.code(),
        timezone.name(),
    )
    .await?;
    scope
        .audit(
            "store.created",
            "store",
            store.id,
            serde_json::json!({ "name": store.name, "workspace_id": workspace.id }),
        )
        .await?;
    scope.commit().await?;
    Ok((StatusCode::CREATED, Json(store)))
}

/// Loads a store the caller can see, with its workspace, or 404.
async fn visible_store(scope: &mut OrgScope, id: Uuid) -> ApiResult<(Store, Workspace)> {
    let store = db::stores::get(&mut *scope.tx, scope.org.id, id)
        .await?
        .ok_or(ApiError::NotFound("store"))?;
    let workspace = visible(scope, store.workspace_id).await?;
    Ok((store, workspace))
}

#[utoipa::path(get, path = "/api/orgs/{org_slug}/stores/{store_id}", tag = "stores",
    params(("org_slug" = String, Path), ("store_id" = Uuid, Path)),
    responses((status = 200, body = Store), (status = 404, body = ErrorBody)))]
async fn get_store(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<Json<Store>> {
    let (_, id) = path;
    let (store, _) = visible_store(&mut scope, id).await?;
    scope.commit().await?;
    Ok(Json(store))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateStoreRequest {
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::DisplayName>)]
    name: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::Currency>)]
    currency: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::TimeZone>)]
    timezone: Option<String>,
}

/// Change a store's name, currency or time zone.
#[utoipa::path(patch, path = "/api/orgs/{org_slug}/stores/{store_id}", tag = "stores",
    params(("org_slug" = String, Path), ("store_id" = Uuid, Path)), request_body = UpdateStoreRequest,
    responses((status = 200, body = Store), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_store(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
    ApiJson(body): ApiJson<UpdateStoreRequest>,
) -> ApiResult<Json<Store>> {
    let (_, id) = path;
    let name = body
        .name
        .as_deref()
        .map(|n| field("name", DisplayName::parse(n)))
        .transpose()?;
    let currency = body
        .currency
        .as_deref()
        .map(|c| field("currency", Currency::parse(c)))
        .transpose()?;
    let timezone = body
        .timezone
        .as_deref()
        .map(|t| field("timezone", TimeZone::parse(t)))
        .transpose()?;
    let (_, workspace) = visible_store(&mut scope, id).await?;
    require_workspace_writer(&scope, &workspace)?;
    let store = db::stores::update(
        &mut *scope.tx,
        scope.org.id,
        id,
        name.as_ref().map(DisplayName::as_str),
        currency.map(|c| c.code()),
        timezone.map(|t| t.name()),
    )
    .await?
    .ok_or(ApiError::NotFound("store"))?;
    scope.audit("store.updated", "store", id, serde_json::json!({ "name": store.name, "currency": store.currency, "timezone": store.timezone })).await?;
    scope.commit().await?;
    Ok(Json(store))
}

#[utoipa::path(delete, path = "/api/orgs/{org_slug}/stores/{store_id}", tag = "stores",
    params(("org_slug" = String, Path), ("store_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_store(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    let (_, id) = path;
    let (store, workspace) = visible_store(&mut scope, id).await?;
    require_workspace_writer(&scope, &workspace)?;
    db::stores::delete(&mut *scope.tx, scope.org.id, id).await?;
    scope
        .audit(
            "store.deleted",
            "store",
            id,
            serde_json::json!({ "name": store.name }),
        )
        .await?;
    scope.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

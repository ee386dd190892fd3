//! Organizations: create, list, rename; members and roles; audit log; mailbox.

use axum::{extract::State, http::StatusCode, Json};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    extract::{ApiJson, ApiPath, ApiQuery, CurrentUser, OrgScope},
    field, AppState,
};
use crate::{
    db::Bypass,
    db::{
        self,
        orgs::{AuditEntry, Member, Membership},
        outbox::OutboxEntry,
    },
    domain::{Currency, DisplayName, OrgRole, OrgSlug, TimeZone},
    error::{ApiError, ApiResult, ErrorBody},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_orgs, create_org))
        .routes(routes!(get_org, update_org))
        .routes(routes!(list_members))
        .routes(routes!(update_member, remove_member))
        .routes(routes!(audit_log))
        .routes(routes!(mailbox))
}

/// The store an organization starts with. Every field has a default.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreDefaults {
    /// Default "My store".
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::DisplayName>)]
    name: Option<String>,
    /// ISO 4217 code; default USD.
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::Currency>)]
    currency: Option<String>,
    /// IANA time zone; default UTC.
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::TimeZone>)]
    timezone: Option<String>,
}

pub struct ParsedStore {
    pub name: DisplayName,
    pub currency: Currency,
    pub timezone: TimeZone,
}

impl StoreDefaults {
    pub fn parse(self, prefix: &str) -> ApiResult<ParsedStore> {
        Ok(ParsedStore {
            name: field(
                &format!("{prefix}.name"),
                DisplayName::parse(self.name.as_deref().unwrap_or("My store")),
            )?,
            currency: field(
                &format!("{prefix}.currency"),
                Currency::parse(self.currency.as_deref().unwrap_or("USD")),
            )?,
            timezone: field(
                &format!("{prefix}.timezone"),
                TimeZone::parse(self.timezone.as_deref().unwrap_or("UTC")),
            )?,
        })
    }
}

/// The organizations the caller belongs to, with their role.
#[utoipa::path(get, path = "/api/orgs", tag = "organizations", responses((status = 200, body = [Membership])))]
async fn list_orgs(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<Membership>>> {
    let mut tx = state.db.user_tx(user.id).await?;
    let orgs = db::orgs::list_mine(&mut *tx).await?;
    tx.commit().await?;
    Ok(Json(orgs))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgRequest {
    #[schema(value_type = crate::domain::DisplayName)]
    name: String,
    /// URL name; derived from the name when omitted.
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::OrgSlug>)]
    slug: Option<String>,
    #[serde(default)]
    store: Option<StoreDefaults>,
}

/// Create another organization; the caller becomes its owner.
#[utoipa::path(post, path = "/api/orgs", tag = "organizations", request_body = CreateOrgRequest,
    responses((status = 201, body = Membership), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_org(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<CreateOrgRequest>,
) -> ApiResult<(StatusCode, Json<Membership>)> {
    let name = field("name", DisplayName::parse(&body.name))?;
    let slug = body
        .slug
        .as_deref()
        .map(|s| field("slug", OrgSlug::parse(s)))
        .transpose()?;
    let store = body.store.unwrap_or_default().parse("store")?;
    // Bootstrap as the worker role: the caller is not a member of the new org until it exists.
    let mut tx = state.db.bypass_tx(Bypass::OrgCreation).await?;
    let created = db::orgs::create_org(
        &mut tx,
        db::orgs::NewOrg {
            name: &name,
            slug: slug.as_ref(),
            owner: user.id,
            store_name: &store.name,
            currency: store.currency,
            timezone: store.timezone,
        },
    )
    .await?;
    tx.commit().await?;

    let mut tx = state.db.user_tx(user.id).await?;
    let (org, role) = db::orgs::find_by_slug(&mut *tx, &created.slug)
        .await?
        .ok_or(ApiError::NotFound("organization"))?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(Membership { org, role })))
}

/// One organization and the caller's role in it.
#[utoipa::path(get, path = "/api/orgs/{org_slug}", tag = "organizations", params(("org_slug" = String, Path)),
    responses((status = 200, body = Membership), (status = 404, body = ErrorBody)))]
async fn get_org(scope: OrgScope) -> ApiResult<Json<Membership>> {
    let membership = Membership {
        org: scope.org.clone(),
        role: scope.role,
    };
    scope.commit().await?;
    Ok(Json(membership))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrgRequest {
    #[schema(value_type = crate::domain::DisplayName)]
    name: String,
}

/// Rename the organization (owners and admins).
#[utoipa::path(patch, path = "/api/orgs/{org_slug}", tag = "organizations", params(("org_slug" = String, Path)),
    request_body = UpdateOrgRequest,
    responses((status = 200, body = Membership), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn update_org(
    mut scope: OrgScope,
    ApiJson(body): ApiJson<UpdateOrgRequest>,
) -> ApiResult<Json<Membership>> {
    scope.require_admin()?;
    let name = field("name", DisplayName::parse(&body.name))?;
    let org = db::orgs::rename(&mut *scope.tx, scope.org.id, &name).await?;
    scope
        .audit(
            "org.renamed",
            "organization",
            org.id,
            serde_json::json!({ "name": org.name }),
        )
        .await?;
    let role = scope.role;
    scope.commit().await?;
    Ok(Json(Membership { org, role }))
}

/// Everyone in the organization and their role.
#[utoipa::path(get, path = "/api/orgs/{org_slug}/members", tag = "members", params(("org_slug" = String, Path)),
    responses((status = 200, body = [Member]), (status = 404, body = ErrorBody)))]
async fn list_members(mut scope: OrgScope) -> ApiResult<Json<Vec<Member>>> {
    let members = db::orgs::list_members(&mut *scope.tx, scope.org.id).await?;
    scope.commit().await?;
    Ok(Json(members))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMemberRequest {
    role: OrgRole,
}

/// Change a member's role. Only owners grant or take away ownership; the last owner stays.
#[utoipa::path(patch, path = "/api/orgs/{org_slug}/members/{user_id}", tag = "members",
    params(("org_slug" = String, Path), ("user_id" = Uuid, Path)), request_body = UpdateMemberRequest,
    responses((status = 200, body = Member), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn update_member(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
    ApiJson(body): ApiJson<UpdateMemberRequest>,
) -> ApiResult<Json<Member>> {
    let (_, user_id) = path;
    scope.require_admin()?;
    let member = db::orgs::find_member(&mut *scope.tx, scope.org.id, user_id)
        .await?
        .ok_or(ApiError::NotFound("member"))?;
    let touches_owner = member.role == OrgRole::Owner || body.role == OrgRole::Owner;
    if touches_owner && scope.role != OrgRole::Owner {
        return Err(ApiError::forbidden(
            "only an owner can grant or remove the owner role",
        ));
    }
    db::orgs::set_member_role(&mut *scope.tx, scope.org.id, user_id, body.role).await?;
    scope
        .audit(
            "member.role_changed",
            "user",
            user_id,
            serde_json::json!({ "from": member.role, "to": body.role }),
        )
        .await?;
    let member = db::orgs::find_member(&mut *scope.tx, scope.org.id, user_id)
        .await?
        .ok_or(ApiError::NotFound("member"))?;
    scope.commit().await?;
    Ok(Json(member))
}

/// Remove a member from the organization (and all its workspaces).
#[utoipa::path(delete, path = "/api/orgs/{org_slug}/members/{user_id}", tag = "members",
    params(("org_slug" = String, Path), ("user_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn remove_member(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    let (_, user_id) = path;
    scope.require_admin()?;
    let member = db::orgs::find_member(&mut *scope.tx, scope.org.id, user_id)
        .await?
        .ok_or(ApiError::NotFound("member"))?;
    if member.role == OrgRole::Owner && scope.role != OrgRole::Owner {
        return Err(ApiError::forbidden("only an owner can remove an owner"));
    }
    db::orgs::remove_member(&mut *scope.tx, scope.org.id, user_id).await?;
    scope
        .audit(
            "member.removed",
            "user",
            user_id,
            serde_json::json!({ "email": member.email }),
        )
        .await?;
    scope.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LimitQuery {
    /// How many rows, newest first (1–500, default 100).
    #[serde(default)]
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

impl LimitQuery {
    fn value(&self) -> ApiResult<i64> {
        match self.limit {
            None => Ok(100),
            Some(n) if (1..=500).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::validation("limit", "must be between 1 and 500")),
        }
    }
}

/// Who did what in the organization, newest first (owners and admins).
#[utoipa::path(get, path = "/api/orgs/{org_slug}/audit-log", tag = "organizations",
    params(("org_slug" = String, Path), LimitQuery),
    responses((status = 200, body = [AuditEntry]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn audit_log(
    mut scope: OrgScope,
    ApiQuery(q): ApiQuery<LimitQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    scope.require_admin()?;
    let entries = db::orgs::list_audit(&mut *scope.tx, scope.org.id, q.value()?).await?;
    scope.commit().await?;
    Ok(Json(entries))
}

/// Mail queued or sent for this organization (owners and admins). Without a mail
/// transport, these are the `.eml` files written to the data directory.
#[utoipa::path(get, path = "/api/orgs/{org_slug}/mailbox", tag = "organizations",
    params(("org_slug" = String, Path), LimitQuery),
    responses((status = 200, body = [OutboxEntry]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn mailbox(
    mut scope: OrgScope,
    ApiQuery(q): ApiQuery<LimitQuery>,
) -> ApiResult<Json<Vec<OutboxEntry>>> {
    scope.require_admin()?;
    let entries = db::outbox::list(&mut *scope.tx, scope.org.id, q.value()?).await?;
    scope.commit().await?;
    Ok(Json(entries))
}

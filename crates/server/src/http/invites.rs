//! Invitations: admins invite by email with a role; the link is single-use and
//! expires after 7 days; it works for an existing account and for a new sign-up.

use axum::{extract::State, http::StatusCode, Json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    extract::{ApiJson, ApiPath, CurrentUser, OrgScope},
    field, AppState,
};
use crate::{
    db::Bypass,
    db::{self, invites::Invite, orgs::Membership, outbox::NewEmail, Tx},
    domain::{secrets, EmailAddress, OrgRole},
    error::{ApiError, ApiResult, ErrorBody},
};

/// How long an invite link works.
const INVITE_TTL_DAYS: i64 = 7;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_invites, create_invite))
        .routes(routes!(revoke_invite))
        .routes(routes!(lookup_invite))
        .routes(routes!(accept_invite))
}

/// Pending and past invites (owners and admins).
#[utoipa::path(get, path = "/api/orgs/{org_slug}/invites", tag = "members", params(("org_slug" = String, Path)),
    responses((status = 200, body = [Invite]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_invites(mut scope: OrgScope) -> ApiResult<Json<Vec<Invite>>> {
    scope.require_admin()?;
    let invites = db::invites::list(&mut *scope.tx, scope.org.id).await?;
    scope.commit().await?;
    Ok(Json(invites))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInviteRequest {
    #[schema(value_type = crate::domain::EmailAddress)]
    email: String,
    /// `admin`, `member` or `viewer` (ownership is granted by an owner after joining).
    #[schema(value_type = crate::http::openapi::InviteRole)]
    role: OrgRole,
}

/// Invite someone by email. The link goes out through the mail outbox.
#[utoipa::path(post, path = "/api/orgs/{org_slug}/invites", tag = "members", params(("org_slug" = String, Path)),
    request_body = CreateInviteRequest,
    responses((status = 201, body = Invite), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_invite(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiJson(body): ApiJson<CreateInviteRequest>,
) -> ApiResult<(StatusCode, Json<Invite>)> {
    scope.require_admin()?;
    let email = field("email", EmailAddress::parse(&body.email))?;
    if body.role == OrgRole::Owner {
        return Err(ApiError::validation(
            "role",
            "invites grant admin, member or viewer; an owner can promote a member later",
        ));
    }
    let already =
        db::orgs::has_member_with_email(&mut *scope.tx, scope.org.id, email.as_str()).await?;
    if already {
        return Err(ApiError::conflict(
            "already_member",
            "this person is already a member of the organization",
        ));
    }
    let token = secrets::new_token("pbi_");
    let expires_at = Utc::now() + chrono::Duration::days(INVITE_TTL_DAYS);
    let invite = db::invites::create(
        &mut *scope.tx,
        scope.org.id,
        email.as_str(),
        body.role,
        &secrets::token_hash(&token),
        scope.user.id,
        expires_at,
    )
    .await?;
    let link = state.config.link(&format!("/invite/{token}"));
    let text = format!(
        "{inviter} invited you to join {org} on Pulseboard as {role}.\n\n\
         Accept the invitation: {link}\n\n\
         The link works once and expires on {expires} (UTC). If you did not expect this, ignore this email.\n",
        inviter = scope.user.name,
        org = scope.org.name,
        role = body.role.as_str(),
        expires = expires_at.format("%Y-%m-%d %H:%M"),
    );
    let subject = format!("You're invited to {} on Pulseboard", scope.org.name);
    db::outbox::enqueue(
        &mut *scope.tx,
        NewEmail::text(scope.org.id, "invite", email.as_str(), &subject, &text),
    )
    .await?;
    scope
        .audit(
            "invite.created",
            "invite",
            invite.id,
            serde_json::json!({ "email": invite.email, "role": invite.role }),
        )
        .await?;
    scope.commit().await?;
    Ok((StatusCode::CREATED, Json(invite)))
}

/// Revoke a pending invite.
#[utoipa::path(delete, path = "/api/orgs/{org_slug}/invites/{invite_id}", tag = "members",
    params(("org_slug" = String, Path), ("invite_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_invite(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    let (_, invite_id) = path;
    scope.require_admin()?;
    if !db::invites::revoke(&mut *scope.tx, scope.org.id, invite_id).await? {
        return Err(ApiError::NotFound("pending invite"));
    }
    scope
        .audit("invite.revoked", "invite", invite_id, serde_json::json!({}))
        .await?;
    scope.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteTokenRequest {
    /// The token from the invitation link.
    token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitePreview {
    pub org_name: String,
    pub email: String,
    pub role: OrgRole,
    pub expires_at: DateTime<Utc>,
}

/// What an invitation link is for, so the accept page can show it before sign-up or login.
#[utoipa::path(post, path = "/api/invites/lookup", tag = "members", request_body = InviteTokenRequest, security(()),
    responses((status = 200, body = InvitePreview), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
async fn lookup_invite(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<InviteTokenRequest>,
) -> ApiResult<Json<InvitePreview>> {
    let mut tx = state.db.bypass_tx(Bypass::Invitation).await?;
    let invite = usable(
        db::invites::find_by_token(&mut *tx, &secrets::token_hash(&body.token), false).await?,
    )?;
    tx.commit().await?;
    Ok(Json(InvitePreview {
        org_name: invite.org_name,
        email: invite.email,
        role: invite.role,
        expires_at: invite.expires_at,
    }))
}

/// Accept an invitation as the signed-in user (whose email must be the invited one).
#[utoipa::path(post, path = "/api/invites/accept", tag = "members", request_body = InviteTokenRequest,
    responses((status = 200, body = Membership), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
async fn accept_invite(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<InviteTokenRequest>,
) -> ApiResult<Json<Membership>> {
    let email = field("email", EmailAddress::parse(&user.email))?;
    let mut tx = state.db.bypass_tx(Bypass::Invitation).await?;
    let slug = accept_invite_in(&mut tx, &body.token, user.id, &email).await?;
    tx.commit().await?;
    let mut tx = state.db.user_tx(user.id).await?;
    let (org, role) = db::orgs::find_by_slug(&mut *tx, &slug)
        .await?
        .ok_or(ApiError::NotFound("organization"))?;
    tx.commit().await?;
    Ok(Json(Membership { org, role }))
}

/// Accepts an invite inside a worker transaction: locks it, checks it is pending and
/// addressed to this email, adds the membership, marks it used. Returns the org slug.
pub async fn accept_invite_in(
    tx: &mut Tx,
    token: &str,
    user_id: Uuid,
    email: &EmailAddress,
) -> ApiResult<String> {
    let invite =
        usable(db::invites::find_by_token(&mut **tx, &secrets::token_hash(token), true).await?)?;
    if invite.email != email.as_str() {
        return Err(ApiError::forbidden(format!(
            "this invitation was sent to a different email address; sign in as {} to accept it",
            invite.email
        )));
    }
    db::orgs::add_member(&mut **tx, invite.org_id, user_id, invite.role).await?;
    db::invites::mark_accepted(&mut **tx, invite.id, user_id).await?;
    db::orgs::audit(
        &mut **tx,
        invite.org_id,
        user_id,
        "invite.accepted",
        "invite",
        &invite.id.to_string(),
        serde_json::json!({ "role": invite.role }),
    )
    .await?;
    Ok(invite.org_slug)
}

fn usable(invite: Option<db::invites::PendingInvite>) -> ApiResult<db::invites::PendingInvite> {
    let invite = invite.ok_or(ApiError::NotFound("invite"))?;
    if invite.accepted_at.is_some() {
        return Err(ApiError::gone(
            "invite_used",
            "this invitation has already been used",
        ));
    }
    if invite.revoked_at.is_some() {
        return Err(ApiError::gone(
            "invite_revoked",
            "this invitation was revoked",
        ));
    }
    if invite.expires_at <= Utc::now() {
        return Err(ApiError::gone(
            "invite_expired",
            "this invitation has expired; ask for a new one",
        ));
    }
    Ok(invite)
}

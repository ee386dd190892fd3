//! The signed-in user: profile, memberships, personal API tokens.

use axum::{extract::State, http::StatusCode, response::IntoResponse, Json};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    extract::{ApiJson, ApiPath, ClientIp, Credential, CurrentUser, API_TOKEN_PREFIX},
    field, AppState,
};
pub use crate::db::{accounts::UserProfile, workspaces::WorkspaceMembership};
use crate::{
    db::{self, accounts::ApiToken, Bypass},
    domain::{passwords, secrets, DisplayName, OrgRole, Password},
    error::{ApiError, ApiResult, ErrorBody},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_me))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(change_password))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    current_password: String,
    /// 10 to 256 characters.
    #[schema(value_type = crate::domain::Password)]
    new_password: String,
}

/// Change the signed-in user's password. Every other session is signed out (this one
/// stays); API tokens keep working. A wrong current password counts as a failed
/// login, so guessing it here is throttled like guessing it at the login form.
#[utoipa::path(post, path = "/api/me/password", tag = "me", request_body = ChangePasswordRequest,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientIp(client): ClientIp,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    let new_password = field("new_password", Password::parse(&body.new_password))?;
    let client = client.to_string();
    super::accounts::check_throttle(&state, &user.email, &client).await?;
    let mut tx = state.db.bypass_tx(Bypass::Authentication).await?;
    let stored = db::accounts::password_hash(&mut *tx, user.id).await?;
    let ok = passwords::verify(&body.current_password, stored).await?;
    db::accounts::record_login_attempt(&mut *tx, &user.email, &client, ok).await?;
    if !ok {
        tx.commit().await?;
        return Err(ApiError::validation(
            "current_password",
            "is not your current password",
        ));
    }
    let hash = passwords::hash(&new_password).await?;
    db::accounts::set_password(&mut *tx, user.id, &hash).await?;
    let keep = match user.credential {
        Credential::Session(id) => Some(id),
        Credential::ApiToken(_) => None,
    };
    db::accounts::revoke_sessions_except(&mut *tx, user.id, keep).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user: UserProfile,
    pub memberships: Vec<MembershipWithWorkspaces>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipWithWorkspaces {
    pub org_id: Uuid,
    pub org_name: String,
    pub org_slug: String,
    pub role: OrgRole,
    /// Workspaces the user belongs to in this organization, with their role.
    pub workspaces: Vec<WorkspaceMembership>,
}

pub async fn load_me(state: &AppState, user_id: Uuid) -> ApiResult<Me> {
    let mut tx = state.db.user_tx(user_id).await?;
    let user = db::accounts::profile(&mut *tx, user_id).await?;
    let orgs = db::orgs::list_mine(&mut *tx).await?;
    let workspaces = db::workspaces::memberships_of(&mut *tx, user_id).await?;
    tx.commit().await?;
    let mut by_org: std::collections::HashMap<Uuid, Vec<WorkspaceMembership>> = Default::default();
    for w in workspaces {
        by_org.entry(w.org_id).or_default().push(w);
    }
    let memberships = orgs
        .into_iter()
        .map(|m| MembershipWithWorkspaces {
            workspaces: by_org.remove(&m.org.id).unwrap_or_default(),
            org_id: m.org.id,
            org_name: m.org.name,
            org_slug: m.org.slug,
            role: m.role,
        })
        .collect();
    Ok(Me { user, memberships })
}

/// The signed-in user, their organizations and roles.
#[utoipa::path(get, path = "/api/me", tag = "me", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn get_me(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<Me>> {
    Ok(Json(load_me(&state, user.id).await?))
}

/// The user's personal API tokens (never the secrets themselves).
#[utoipa::path(get, path = "/api/me/tokens", tag = "me", responses((status = 200, body = [ApiToken])))]
async fn list_tokens(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<ApiToken>>> {
    let mut tx = state.db.user_tx(user.id).await?;
    let tokens = db::accounts::list_api_tokens(&mut *tx).await?;
    tx.commit().await?;
    Ok(Json(tokens))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    #[schema(value_type = crate::domain::DisplayName)]
    name: String,
    /// Days until the token stops working; omitted: it never expires.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    expires_in_days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The secret, shown this once. Send it as `Authorization: Bearer <token>`.
    pub token: String,
    pub api_token: ApiToken,
}

/// Create a personal API token. The secret is in this response only.
#[utoipa::path(post, path = "/api/me/tokens", tag = "me", request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedToken), (status = 422, body = ErrorBody)))]
async fn create_token(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<CreateTokenRequest>,
) -> ApiResult<impl IntoResponse> {
    let name = field("name", DisplayName::parse(&body.name))?;
    let expires_at = match body.expires_in_days {
        Some(0) => {
            return Err(ApiError::validation(
                "expires_in_days",
                "must be at least 1",
            ))
        }
        Some(days) if days > 3650 => {
            return Err(ApiError::validation(
                "expires_in_days",
                "must be at most 3650",
            ))
        }
        Some(days) => Some(Utc::now() + chrono::Duration::days(i64::from(days))),
        None => None,
    };
    let token = secrets::new_token(API_TOKEN_PREFIX);
    let prefix: String = token.chars().take(API_TOKEN_PREFIX.len() + 6).collect();
    let mut tx = state.db.user_tx(user.id).await?;
    let api_token = db::accounts::create_api_token(
        &mut *tx,
        user.id,
        name.as_str(),
        &prefix,
        &secrets::token_hash(&token),
        expires_at,
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, api_token })))
}

/// Revoke a personal API token; it stops working at once.
#[utoipa::path(delete, path = "/api/me/tokens/{token_id}", tag = "me",
    params(("token_id" = Uuid, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(token_id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.user_tx(user.id).await?;
    let found = db::accounts::revoke_api_token(&mut *tx, token_id).await?;
    tx.commit().await?;
    if found {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("API token"))
    }
}

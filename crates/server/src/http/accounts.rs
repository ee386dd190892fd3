//! Sign-up, login and logout.

use std::net::IpAddr;

use axum::{
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    extract::{ApiJson, ClientIp, Credential, CurrentUser, SESSION_COOKIE},
    field,
    me::{load_me, Me},
    AppState,
};
use crate::{
    db,
    db::Bypass,
    domain::{passwords, secrets, DisplayName, EmailAddress, Password},
    error::{ApiError, ApiResult, ErrorBody},
    http::invites::accept_invite_in,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(login))
        .routes(routes!(logout))
}

/// Failed logins allowed per account (since its last success) within the window.
const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failed logins allowed per client address within the window.
const MAX_FAILURES_PER_ADDRESS: i64 = 20;
const THROTTLE_WINDOW_SECS: i64 = 15 * 60;

/// Refuses (429) a password check for an account or a client address with too many
/// recent failures: the login form's and the change-password form's.
pub(super) async fn check_throttle(state: &AppState, email: &str, client: &str) -> ApiResult<()> {
    let (per_account, per_address) =
        db::accounts::recent_failures(state.db.pool(), email, client, THROTTLE_WINDOW_SECS).await?;
    if per_account >= MAX_FAILURES_PER_ACCOUNT || per_address >= MAX_FAILURES_PER_ADDRESS {
        return Err(ApiError::TooManyRequests {
            retry_after_secs: THROTTLE_WINDOW_SECS as u64,
        });
    }
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    #[schema(value_type = crate::domain::EmailAddress)]
    email: String,
    #[schema(value_type = crate::domain::Password)]
    password: String,
    /// The person's name.
    #[schema(value_type = crate::domain::DisplayName)]
    name: String,
    /// Name of the organization to create. Defaults to "{name}'s organization".
    /// Ignored when `invite_token` is given (the invite names the organization).
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::DisplayName>)]
    org_name: Option<String>,
    /// The default store created with the organization.
    #[serde(default)]
    store: Option<super::orgs::StoreDefaults>,
    /// Join an existing organization through this invite instead of creating one.
    #[serde(default)]
    invite_token: Option<String>,
}

/// Create an account (and an organization with a default workspace and store), then sign in.
#[utoipa::path(post, path = "/api/auth/signup", tag = "auth", request_body = SignupRequest, security(()),
    responses((status = 201, body = Me), (status = 404, body = ErrorBody, description = "No such invitation (`invite_token`)"),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn signup(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    ApiJson(body): ApiJson<SignupRequest>,
) -> ApiResult<Response> {
    let email = field("email", EmailAddress::parse(&body.email))?;
    let password = field("password", Password::parse(&body.password))?;
    let name = field("name", DisplayName::parse(&body.name))?;
    let org_name = match (&body.invite_token, &body.org_name) {
        (Some(_), _) => None,
        (None, Some(n)) => Some(field("org_name", DisplayName::parse(n))?),
        (None, None) => Some(field(
            "name",
            DisplayName::parse(&format!("{}'s organization", name.as_str())),
        )?),
    };
    let store = match &org_name {
        Some(_) => Some(body.store.unwrap_or_default().parse("store")?),
        None => None,
    };
    let hash = passwords::hash(&password).await?;

    let user_id = Uuid::new_v4();
    let mut tx = state.db.bypass_tx(Bypass::Authentication).await?;
    db::accounts::create_user(&mut *tx, user_id, &email, name.as_str(), &hash).await?;
    if let Some(token) = &body.invite_token {
        accept_invite_in(&mut tx, token, user_id, &email).await?;
    }
    if let (Some(org_name), Some(store)) = (&org_name, &store) {
        db::orgs::create_org(
            &mut tx,
            db::orgs::NewOrg {
                name: org_name,
                slug: None,
                owner: user_id,
                store_name: &store.name,
                currency: store.currency,
                timezone: store.timezone,
            },
        )
        .await?;
    }
    let (jar, _) = start_session(&state, &mut tx, jar, user_id, &headers, client).await?;
    tx.commit().await?;

    let me = load_me(&state, user_id).await?;
    Ok((StatusCode::CREATED, jar, Json(me)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    email: String,
    password: String,
}

/// Sign in with email and password; sets the session cookie.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest, security(()),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    // Unknown-format emails are simply unknown accounts: same answer as a wrong password.
    let email = body.email.trim().to_lowercase();

    check_throttle(&state, &email, &client.to_string()).await?;

    let mut tx = state.db.bypass_tx(Bypass::Authentication).await?;
    let found = db::accounts::login_lookup(&mut *tx, &email).await?;
    let (user_id, stored) = match found {
        Some((id, hash)) => (Some(id), Some(hash)),
        None => (None, None),
    };
    let ok = passwords::verify(&body.password, stored).await?;
    db::accounts::record_login_attempt(&mut *tx, &email, &client.to_string(), ok).await?;
    let Some(user_id) = user_id.filter(|_| ok) else {
        tx.commit().await?;
        return Err(ApiError::InvalidCredentials);
    };
    let (jar, _) = start_session(&state, &mut tx, jar, user_id, &headers, client).await?;
    tx.commit().await?;
    let me = load_me(&state, user_id).await?;
    Ok((jar, Json(me)).into_response())
}

/// End the current session and clear the cookie.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
) -> ApiResult<Response> {
    if let Credential::Session(session_id) = user.credential {
        let mut tx = state.db.user_tx(user.id).await?;
        db::accounts::revoke_session(&mut *tx, session_id).await?;
        tx.commit().await?;
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok((StatusCode::NO_CONTENT, jar).into_response())
}

async fn start_session(
    state: &AppState,
    tx: &mut db::Tx,
    jar: CookieJar,
    user_id: Uuid,
    headers: &HeaderMap,
    client: IpAddr,
) -> ApiResult<(CookieJar, Uuid)> {
    let token = secrets::new_token("pbs_");
    let ttl = state.config.session_ttl;
    let expires_at = Utc::now() + chrono::Duration::from_std(ttl).map_err(anyhow::Error::from)?;
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect::<String>());
    let session_id = db::accounts::create_session(
        &mut **tx,
        user_id,
        &secrets::token_hash(&token),
        expires_at,
        user_agent.as_deref(),
        &client.to_string(),
    )
    .await?;
    let cookie = Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies())
        .max_age(time::Duration::seconds(ttl.as_secs() as i64))
        .build();
    Ok((jar.add(cookie), session_id))
}

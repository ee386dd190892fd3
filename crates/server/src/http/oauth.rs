//! The OAuth connect flow (seed 000): start it, and receive the provider's callback.
//!
//! Start (`POST …/integrations/{provider}/connect`, owners/admins): a random state is
//! stored hashed with the org, user, store and provider, lives 10 minutes, works once,
//! and is mirrored in a signed cookie scoped to the callback path. The callback
//! (`GET /api/oauth/{provider}/callback`) checks cookie, state and (Shopify) the
//! signed query before it ever calls the token endpoint; every failure is a redirect
//! to the settings page with an error flash, and stores nothing.

use axum::{
    extract::{RawQuery, State},
    response::{IntoResponse, Redirect, Response},
    Json,
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use chrono::{DateTime, Utc};
use pulseboard_connectors::{
    oauth_callback_error, pkce_challenge, pkce_pair, AccountRef, AuthKind, AuthorizeRequest,
    CodeExchange, ExposeSecret, OAuthError, Provider,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    extract::{ApiJson, ApiPath, CurrentUser, OrgScope},
    integrations::{connector_error, record_connection, NewConnection},
    AppState,
};
use crate::{
    db::{self, oauth_states::NewState},
    domain::secrets::{new_token, token_hash},
    error::{ApiError, ApiResult, ErrorBody},
};

/// How long a started flow can be completed (seed 000: 10 minutes).
const STATE_TTL_MINUTES: i64 = 10;
/// The state cookie is only ever sent to the callbacks.
const COOKIE_PATH: &str = "/api/oauth";
/// Where the browser lands after the callback; the UI shows the flash.
const SETTINGS_PAGE: &str = "/settings/integrations";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_connect))
        .routes(routes!(reconnect))
        .routes(routes!(oauth_callback))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectRequest {
    /// The store whose numbers this account provides.
    store_id: Uuid,
    /// The account to connect, for providers that declare one (`GET /api/providers`
    /// lists it as `account`): Shopify's shop, `acme` or `acme.myshopify.com`.
    /// Also accepted under the name `shop`.
    #[serde(alias = "shop")]
    account: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectResponse {
    /// Send the browser here; it comes back to `/api/oauth/{provider}/callback`.
    authorize_url: String,
    /// The flow must be completed before this.
    expires_at: DateTime<Utc>,
}

/// Starts an OAuth connection: returns the provider's authorize URL and sets the
/// signed state cookie the callback checks.
#[utoipa::path(post, path = "/api/orgs/{org_slug}/integrations/{provider}/connect", tag = "integrations",
    params(("org_slug" = String, Path), ("provider" = String, Path)), request_body = ConnectRequest,
    responses((status = 200, body = ConnectResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 409, body = ErrorBody, description = "The plan allows no more (`plan_limit`)")))]
async fn start_connect(
    State(state): State<AppState>,
    jar: CookieJar,
    scope: OrgScope,
    ApiPath(path): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<ConnectRequest>,
) -> ApiResult<(CookieJar, Json<ConnectResponse>)> {
    let (_, provider_id) = path;
    let provider = state
        .providers
        .get(&provider_id)
        .ok_or(ApiError::NotFound("provider"))?;
    // Providers that declare no account ignore one, as they always have.
    let account = match body.account.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(_) if provider.info().account.is_none() => None,
        Some(raw) => Some(
            provider
                .parse_account(raw)
                .map_err(|e| ApiError::validation(account_field(&*provider), e.to_string()))?,
        ),
    };
    let flow = Flow {
        provider_id,
        store_id: body.store_id,
        account,
        integration_id: None,
    };
    start(&state, jar, scope, flow).await
}

/// Starts the OAuth flow again for an integration that needs it (`reauth_required`,
/// or any OAuth integration whose access was revoked). Key-based integrations are
/// reconnected by submitting a new key.
#[utoipa::path(post, path = "/api/orgs/{org_slug}/integrations/{integration_id}/reconnect", tag = "integrations",
    params(("org_slug" = String, Path), ("integration_id" = Uuid, Path)),
    responses((status = 200, body = ConnectResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 409, body = ErrorBody, description = "The plan allows no more (`plan_limit`)")))]
async fn reconnect(
    State(state): State<AppState>,
    jar: CookieJar,
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<(CookieJar, Json<ConnectResponse>)> {
    let (_, id) = path;
    let integration = db::integrations::get(&mut *scope.tx, scope.org.id, id)
        .await?
        .ok_or(ApiError::NotFound("integration"))?;
    if integration.auth_kind != "oauth" {
        return Err(ApiError::validation(
            "integration_id",
            "this integration uses an API key: reconnect it by submitting a new key",
        ));
    }
    let provider = state
        .providers
        .get(&integration.provider)
        .ok_or(ApiError::NotFound("provider"))?;
    // An integration still waiting for its pick has no account yet.
    let account = match provider.info().account {
        Some(_) if integration.status != "choosing_account" => Some(
            provider
                .parse_account(&integration.external_account_id)
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored account: {e}")))?,
        ),
        _ => None,
    };
    let flow = Flow {
        provider_id: integration.provider,
        store_id: integration.store_id,
        account,
        integration_id: Some(id),
    };
    start(&state, jar, scope, flow).await
}

struct Flow {
    provider_id: String,
    store_id: Uuid,
    /// Validated by the provider's `parse_account`.
    account: Option<AccountRef>,
    integration_id: Option<Uuid>,
}

/// The name of the field a provider's account is asked in (`shop`), for errors.
fn account_field(provider: &dyn Provider) -> &'static str {
    provider
        .info()
        .account
        .map_or("account", |field| field.name)
}

async fn start(
    state: &AppState,
    jar: CookieJar,
    mut scope: OrgScope,
    flow: Flow,
) -> ApiResult<(CookieJar, Json<ConnectResponse>)> {
    scope.require_admin()?;
    let provider = state
        .providers
        .get(&flow.provider_id)
        .ok_or(ApiError::NotFound("provider"))?;
    let info = provider.info();
    let AuthKind::OAuth2 { pkce, .. } = info.auth else {
        return Err(ApiError::validation(
            "provider",
            "this provider connects with an API key, not OAuth",
        ));
    };
    if let (Some(field), None, false) = (&info.account, &flow.account, info.account_picker) {
        return Err(ApiError::validation(
            field.name,
            format!(
                "enter your {} ({})",
                field.label.to_lowercase(),
                field.placeholder
            ),
        ));
    }
    let store = db::stores::get(&mut *scope.tx, scope.org.id, flow.store_id)
        .await?
        .ok_or(ApiError::NotFound("store"))?;
    if flow.integration_id.is_none() {
        db::plans::ensure_room(&state.db, scope.org.id, db::plans::Capped::Integrations).await?;
    }

    let oauth_state = new_token("pbo_");
    let verifier = pkce.then(|| pkce_pair().0);
    let authorize_url = provider
        .authorize_url(&AuthorizeRequest {
            state: oauth_state.clone(),
            redirect_uri: redirect_uri(state, &flow.provider_id)?,
            pkce_challenge: verifier.as_deref().map(pkce_challenge),
            account: flow.account.clone(),
        })
        .map_err(connector_error)?;
    let expires_at = Utc::now() + chrono::Duration::minutes(STATE_TTL_MINUTES);
    db::oauth_states::insert(
        &mut *scope.tx,
        NewState {
            org_id: scope.org.id,
            user_id: scope.user.id,
            store_id: store.id,
            provider: &flow.provider_id,
            state_hash: &token_hash(&oauth_state),
            pkce_verifier: verifier.as_deref(),
            account_ref: flow.account.as_ref().map(AccountRef::as_str),
            integration_id: flow.integration_id,
            expires_at,
        },
    )
    .await?;
    scope.commit().await?;

    let cookie = Cookie::build((
        cookie_name(&flow.provider_id),
        format!(
            "{oauth_state}.{}",
            state
                .vault
                .sign(&cookie_message(&flow.provider_id, &oauth_state))
        ),
    ))
    .path(COOKIE_PATH)
    .http_only(true)
    // Lax: the provider's redirect back is a top-level GET navigation, which carries it.
    .same_site(SameSite::Lax)
    .secure(state.config.secure_cookies())
    .max_age(time::Duration::minutes(STATE_TTL_MINUTES));
    Ok((
        jar.add(cookie),
        Json(ConnectResponse {
            authorize_url: authorize_url.to_string(),
            expires_at,
        }),
    ))
}

/// The callback URL registered with every provider: exactly `{PUBLIC_URL}/api/oauth/{provider}/callback`.
fn redirect_uri(state: &AppState, provider_id: &str) -> ApiResult<url::Url> {
    url::Url::parse(
        &state
            .config
            .link(&format!("/api/oauth/{provider_id}/callback")),
    )
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("PULSEBOARD_PUBLIC_URL: {e}")))
}

fn cookie_name(provider_id: &str) -> String {
    format!("pb_oauth_{provider_id}")
}

fn cookie_message(provider_id: &str, oauth_state: &str) -> String {
    format!("oauth-state/{provider_id}/{oauth_state}")
}

/// Why a callback was refused: a stable code for the UI and a sentence for people.
#[derive(Debug)]
struct Refusal {
    code: &'static str,
    message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

impl From<sqlx::Error> for Refusal {
    fn from(error: sqlx::Error) -> Self {
        tracing::error!(%error, "database error in the OAuth callback");
        refuse(
            "server_error",
            "Something went wrong on our side; please try again.",
        )
    }
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        tracing::error!(%error, "error in the OAuth callback");
        refuse(
            "server_error",
            "Something went wrong on our side; please try again.",
        )
    }
}

/// Where the provider sends the browser back. Always answers with a redirect to
/// `/settings/integrations`: `?connected={provider}` on success, else
/// `?provider=…&error={code}&message=…`.
#[utoipa::path(get, path = "/api/oauth/{provider}/callback", tag = "integrations", security(()),
    params(("provider" = String, Path)),
    responses((status = 303, description = "to /settings/integrations with ?connected= or ?error=")))]
async fn oauth_callback(
    State(state): State<AppState>,
    ApiPath(provider_id): ApiPath<String>,
    RawQuery(query): RawQuery,
    jar: CookieJar,
    user: Result<CurrentUser, ApiError>,
) -> Response {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let outcome = complete(&state, &provider_id, &pairs, &jar, user).await;
    let mut location = url::form_urlencoded::Serializer::new(String::new());
    match &outcome {
        Ok(None) => {
            location.append_pair("connected", &provider_id);
        }
        // The account is picked next, on the settings page.
        Ok(Some(integration_id)) => {
            location
                .append_pair("provider", &provider_id)
                .append_pair("choose", &integration_id.to_string());
        }
        Err(refusal) => {
            tracing::info!(provider = %provider_id, code = refusal.code, "OAuth callback refused");
            location
                .append_pair("provider", &provider_id)
                .append_pair("error", refusal.code)
                .append_pair("message", &refusal.message);
        }
    }
    let jar = jar.remove(Cookie::build(cookie_name(&provider_id)).path(COOKIE_PATH));
    let to = format!("{SETTINGS_PAGE}?{}", location.finish());
    (jar, Redirect::to(&to)).into_response()
}

async fn complete(
    state: &AppState,
    provider_id: &str,
    pairs: &[(String, String)],
    jar: &CookieJar,
    user: Result<CurrentUser, ApiError>,
) -> Result<Option<Uuid>, Refusal> {
    let start_again = "start again from Settings → Integrations";
    let provider = state
        .providers
        .get(provider_id)
        .ok_or_else(|| refuse("unknown_provider", "There is no such provider."))?;
    let user = user.map_err(|_| {
        refuse(
            "not_signed_in",
            format!("Sign in to Pulseboard, then {start_again}."),
        )
    })?;
    let query_state = pairs
        .iter()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| {
            refuse(
                "state_missing",
                format!("The provider's answer carried no state; {start_again}."),
            )
        })?;

    // The cookie proves this browser started the flow (login CSRF defence).
    let cookie = jar.get(&cookie_name(provider_id)).ok_or_else(|| {
        refuse(
            "cookie_missing",
            format!("This browser did not start the connection; {start_again}."),
        )
    })?;
    let cookie_ok = cookie
        .value()
        .rsplit_once('.')
        .is_some_and(|(cookie_state, signature)| {
            state
                .vault
                .verify_signature(&cookie_message(provider_id, cookie_state), signature)
                // Compare digests so the comparison time says nothing about the cookie.
                && token_hash(cookie_state) == token_hash(query_state)
        });
    if !cookie_ok {
        return Err(refuse(
            "state_mismatch",
            format!("The connection attempt does not match this browser's; {start_again}."),
        ));
    }

    // Consumed before anything else can fail: a state works once, whatever happens next.
    let mut tx = state.db.user_tx(user.id).await?;
    let record = db::oauth_states::consume(&mut *tx, &token_hash(query_state)).await?;
    tx.commit().await?;
    let record = record
        .filter(|r| r.provider == provider_id && r.user_id == user.id)
        .ok_or_else(|| {
            refuse(
                "state_invalid",
                format!("This connection attempt is unknown; {start_again}."),
            )
        })?;
    if record.used_before.is_some() {
        return Err(refuse(
            "state_used",
            format!("This connection attempt was already used; {start_again}."),
        ));
    }
    if record.expires_at < Utc::now() {
        return Err(refuse(
            "state_expired",
            format!(
                "The connection attempt expired after {STATE_TTL_MINUTES} minutes; {start_again}."
            ),
        ));
    }
    if let Some(error) = oauth_callback_error(pairs) {
        return Err(match error {
            OAuthError::AccessDenied(_) => refuse(
                "access_denied",
                "You declined the connection at the provider; nothing was connected.",
            ),
            other => refuse("provider_error", format!("The provider refused: {other}")),
        });
    }
    let params = provider.verify_callback(pairs, Utc::now()).map_err(|e| {
        refuse(
            "callback_invalid",
            format!("The provider's answer was refused: {e}."),
        )
    })?;
    // A callback that names an account (Shopify signs the shop in) must name the
    // flow's; one that names none (Google) gets the account the flow was started for.
    let account = match (params.account, record.account_ref.as_deref()) {
        (Some(signed), Some(started)) if signed.as_str() == started => Some(signed),
        (None, Some(started)) => Some(provider.parse_account(started).map_err(|_| {
            refuse(
                "state_invalid",
                format!("This connection attempt is unknown; {start_again}."),
            )
        })?),
        (None, None) => None,
        _ => {
            return Err(refuse(
                "shop_mismatch",
                "The answer came from a different shop than the one you started with.",
            ))
        }
    };

    let connected = provider
        .exchange_code(&CodeExchange {
            code: params.code,
            redirect_uri: redirect_uri(state, provider_id)?,
            pkce_verifier: record.pkce_verifier.clone(),
            account,
        })
        .await
        .map_err(|e| {
            refuse(
                "exchange_failed",
                format!("The provider did not complete the connection: {e}"),
            )
        })?;

    let access = connected.tokens.access_token.expose_secret().to_owned();
    let refresh = connected
        .tokens
        .refresh_token
        .as_ref()
        .map(|t| t.expose_secret().to_owned());
    // A flow started without an account, for a provider that lists them after
    // consent: the user picks one next (`…/integrations/{id}/account`).
    let choosing = record.account_ref.is_none() && provider.info().account_picker;
    let integration = record_connection(
        state,
        NewConnection {
            org_id: record.org_id,
            store_id: record.store_id,
            user_id: user.id,
            provider_id,
            auth_kind: "oauth",
            account: &connected.account,
            secrets: &[
                ("access_token", Some(access.as_str())),
                ("refresh_token", refresh.as_deref()),
            ],
            expires_at: connected.tokens.expires_at,
            choosing,
        },
    )
    .await?;
    Ok(choosing.then_some(integration.id))
}

//! Connected integrations: list, inspect, disconnect. Members and viewers read;
//! only owners and admins change anything. No response ever carries credential
//! material: the credentials table is not even readable by the request's role.

use std::collections::BTreeMap;

use anyhow::Context;
use axum::{extract::State, http::StatusCode, Json};
use chrono::{DateTime, Utc};
use pulseboard_connectors::{
    AccountInfo, AuthKind, ConnectorError, ExposeSecret, KeyField, OAuthError, Provider,
    ProviderInfo,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    extract::{ApiJson, ApiPath, CurrentUser, OrgScope},
    AppState,
};
use crate::{
    db::Bypass,
    db::{
        self,
        integrations::{CallBudgetView, Integration},
    },
    error::{ApiError, ApiResult, ErrorBody, ResultExt},
    integrations::{
        access_token::{self, TokenError},
        credentials,
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_providers))
        .routes(routes!(list_widget_types))
        .routes(routes!(connect_with_api_key))
        .routes(routes!(list_integrations))
        .routes(routes!(
            get_integration,
            update_integration,
            disconnect_integration
        ))
        .routes(routes!(list_accounts))
        .routes(routes!(choose_account))
}

/// Fills in where each integration's account stands with its provider's daily call
/// budget, for the providers that have one.
async fn with_call_budgets(
    state: &AppState,
    scope: &mut OrgScope,
    integrations: &mut [Integration],
) -> ApiResult<()> {
    let now = Utc::now();
    let today = now.date_naive();
    let resets_at = (today + chrono::Duration::days(1))
        .and_time(chrono::NaiveTime::MIN)
        .and_utc();
    for integration in integrations.iter_mut() {
        let Some(budget) = state
            .providers
            .get(&integration.provider)
            .and_then(|p| p.info().call_budget)
        else {
            continue;
        };
        let used = db::call_budgets::used(
            &mut *scope.tx,
            &integration.provider,
            &integration.external_account_id,
            today,
        )
        .await?;
        let limit = i32::try_from(budget.limit).unwrap_or(i32::MAX);
        integration.call_budget = Some(CallBudgetView {
            limit,
            used,
            remaining: (limit - used).max(0),
            unit: budget.unit.to_owned(),
            resets_at,
        });
    }
    Ok(())
}

/// Integrations of the organization with their status and freshness, and where a
/// provider's daily call budget stands (Clarity's calls left today).
#[utoipa::path(get, path = "/api/orgs/{org_slug}/integrations", tag = "integrations", params(("org_slug" = String, Path)),
    responses((status = 200, body = [Integration]), (status = 404, body = ErrorBody)))]
async fn list_integrations(
    State(state): State<AppState>,
    mut scope: OrgScope,
) -> ApiResult<Json<Vec<Integration>>> {
    let mut list = db::integrations::list(&mut *scope.tx, scope.org.id).await?;
    with_call_budgets(&state, &mut scope, &mut list).await?;
    scope.commit().await?;
    Ok(Json(list))
}

#[utoipa::path(get, path = "/api/orgs/{org_slug}/integrations/{integration_id}", tag = "integrations",
    params(("org_slug" = String, Path), ("integration_id" = Uuid, Path)),
    responses((status = 200, body = Integration), (status = 404, body = ErrorBody)))]
async fn get_integration(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<Json<Integration>> {
    let (_, id) = path;
    let mut integration = db::integrations::get(&mut *scope.tx, scope.org.id, id)
        .await?
        .ok_or(ApiError::NotFound("integration"))?;
    with_call_budgets(&state, &mut scope, std::slice::from_mut(&mut integration)).await?;
    scope.commit().await?;
    Ok(Json(integration))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateIntegrationRequest {
    /// Minutes between scheduled syncs (5–1440); overrides the provider's default.
    #[schema(minimum = 5, maximum = 1440)]
    cadence_minutes: Option<i32>,
    /// Replaces the integration's options: names from its provider's `options`
    /// fields (`GET /api/providers`), each a string or a list of strings; a name left
    /// out or `null` is unset. Checked by the provider; a change queues a sync.
    #[schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>)]
    options: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Change how often an integration syncs, or its options (owners and admins).
#[utoipa::path(patch, path = "/api/orgs/{org_slug}/integrations/{integration_id}", tag = "integrations",
    params(("org_slug" = String, Path), ("integration_id" = Uuid, Path)), request_body = UpdateIntegrationRequest,
    responses((status = 200, body = Integration), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update_integration(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
    ApiJson(body): ApiJson<UpdateIntegrationRequest>,
) -> ApiResult<Json<Integration>> {
    let (_, id) = path;
    let current = db::integrations::get(&mut *scope.tx, scope.org.id, id)
        .await?
        .ok_or(ApiError::NotFound("integration"))?;
    scope.require_admin()?;
    let mut queued = false;
    if let Some(input) = &body.options {
        let provider = state
            .providers
            .get(&current.provider)
            .ok_or(ApiError::NotFound("provider"))?;
        let options = provider
            .parse_options(input)
            .map_err(|e| ApiError::validation(format!("options.{}", e.field), e.message))?;
        let options = serde_json::Value::Object(options);
        if options != current.options {
            db::integrations::set_options(&mut *scope.tx, scope.org.id, id, &options).await?;
            scope
                .audit(
                    "integration.updated",
                    "integration",
                    id,
                    serde_json::json!({ "options": options }),
                )
                .await?;
            // The new options apply from the next sync: run one now.
            if matches!(current.status.as_str(), "active" | "error" | "syncing") {
                queued = crate::sync::queue::enqueue(&mut scope.tx, scope.org.id, id, "options")
                    .await?
                    .1;
            }
        }
    }
    if let Some(minutes) = body.cadence_minutes {
        if !(5..=1440).contains(&minutes) {
            return Err(ApiError::validation(
                "cadence_minutes",
                "must be between 5 and 1440 minutes",
            ));
        }
        db::integrations::set_cadence(&mut *scope.tx, scope.org.id, id, minutes).await?;
        scope
            .audit(
                "integration.updated",
                "integration",
                id,
                serde_json::json!({ "cadence_minutes": minutes }),
            )
            .await?;
    }
    let integration = db::integrations::get(&mut *scope.tx, scope.org.id, id)
        .await?
        .ok_or(ApiError::NotFound("integration"))?;
    scope.commit().await?;
    if queued {
        state.sync_wakeup.notify_waiters();
    }
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
    // Tell the provider first, where it has an endpoint for it (Stripe Connect's
    // deauthorize); a failure there must not keep the user connected here.
    if integration.auth_kind == "oauth" && integration.status != "disconnected" {
        if let Some(provider) = state.providers.get(&integration.provider) {
            if let Err(error) = provider.revoke(&integration.external_account_id).await {
                tracing::warn!(integration_id = %id, %error, "revoking at the provider failed; disconnecting anyway");
            }
            // Providers that revoke grants rather than accounts (Google) get the
            // stored refresh token, else the access token.
            let mut stored = None;
            for field in ["refresh_token", "access_token"] {
                match credentials::read(&state.db, &state.vault, id, field).await {
                    Ok(Some(token)) => {
                        stored = Some(token);
                        break;
                    }
                    Ok(None) => {}
                    Err(error) => {
                        tracing::warn!(integration_id = %id, %error, "a stored token could not be read for revocation");
                        break;
                    }
                }
            }
            if let Some(token) = stored {
                if let Err(error) = provider.revoke_grant(&token).await {
                    tracing::warn!(integration_id = %id, %error, "revoking the grant failed; disconnecting anyway");
                }
            }
        }
    }
    // Credentials are worker-only, so the deletion runs as the worker, after the checks above.
    let mut tx = state.db.bypass_tx(Bypass::ConnectionBookkeeping).await?;
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

/// An account the user may pick for an integration waiting for one.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountOption {
    /// What `POST …/account` takes (a GA4 property's number).
    id: String,
    label: String,
    /// What it belongs to (the GA4 account), for grouping.
    group: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChooseAccount {
    /// One of the ids `GET …/accounts` listed.
    account: String,
}

/// An integration waiting for its account to be picked, with its provider; owners
/// and admins only.
async fn waiting_for_pick(
    state: &AppState,
    scope: &mut OrgScope,
    id: Uuid,
) -> ApiResult<(Integration, std::sync::Arc<dyn Provider>)> {
    scope.require_admin()?;
    let integration = db::integrations::get(&mut *scope.tx, scope.org.id, id)
        .await?
        .ok_or(ApiError::NotFound("integration"))?;
    if integration.status != "choosing_account" {
        return Err(ApiError::conflict(
            "account_chosen",
            "this integration's account is already chosen; reconnect to change it",
        ));
    }
    let provider = state
        .providers
        .get(&integration.provider)
        .ok_or(ApiError::NotFound("provider"))?;
    Ok((integration, provider))
}

/// A stored token problem as the caller sees it (never with the token).
fn token_error(error: TokenError) -> ApiError {
    match error {
        TokenError::ReauthRequired(message) => ApiError::conflict("reauth_required", message),
        TokenError::Provider(e) => connector_error(ConnectorError::Provider(e)),
        TokenError::Database(e) => ApiError::Database(e),
        other => ApiError::Internal(anyhow::anyhow!("integration token: {other}")),
    }
}

/// The accounts the integration's grant can read (GA4: the properties of the Google
/// account that consented), for the picker after an OAuth connection.
#[utoipa::path(get, path = "/api/orgs/{org_slug}/integrations/{integration_id}/accounts", tag = "integrations",
    params(("org_slug" = String, Path), ("integration_id" = Uuid, Path)),
    responses((status = 200, body = [AccountOption]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 424, body = ErrorBody)))]
async fn list_accounts(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<Json<Vec<AccountOption>>> {
    let (_, id) = path;
    let (_, provider) = waiting_for_pick(&state, &mut scope, id).await?;
    scope.commit().await?;
    // The provider call happens outside any transaction.
    let token = access_token::access_token(&state, id)
        .await
        .map_err(token_error)?;
    let choices = provider
        .list_accounts(token.expose_secret())
        .await
        .map_err(connector_error)?;
    Ok(Json(
        choices
            .into_iter()
            .map(|c| AccountOption {
                id: c.id,
                label: c.label,
                group: c.group,
            })
            .collect(),
    ))
}

/// Picks the account of an integration waiting for one: the provider checks the
/// grant can read it, then the integration becomes active and its first sync runs.
#[utoipa::path(post, path = "/api/orgs/{org_slug}/integrations/{integration_id}/account", tag = "integrations",
    params(("org_slug" = String, Path), ("integration_id" = Uuid, Path)), request_body = ChooseAccount,
    responses((status = 200, body = Integration), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 424, body = ErrorBody)))]
async fn choose_account(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
    ApiJson(body): ApiJson<ChooseAccount>,
) -> ApiResult<Json<Integration>> {
    let (_, id) = path;
    let (integration, provider) = waiting_for_pick(&state, &mut scope, id).await?;
    let (org_id, user_id) = (scope.org.id, scope.user.id);
    scope.commit().await?;
    let account = provider
        .parse_account(body.account.trim())
        .map_err(|e| ApiError::validation("account", e.to_string()))?;
    let token = access_token::access_token(&state, id)
        .await
        .map_err(token_error)?;
    let info = provider
        .choose_account(token.expose_secret(), &account)
        .await
        .map_err(|e| match e {
            ConnectorError::InvalidInput(message) => ApiError::validation("account", message),
            other => connector_error(other),
        })?;

    let mut tx = state.db.bypass_tx(Bypass::ConnectionBookkeeping).await?;
    db::integrations::choose_account(&mut *tx, id, &info.id, &info.label)
        .await
        .on_constraint(
            "integrations_org_id_store_id_provider_external_account_id_key",
            |_| ApiError::conflict("already_connected", "this store already reads that account"),
        )?
        .ok_or_else(|| {
            ApiError::conflict(
                "account_chosen",
                "this integration's account is already chosen",
            )
        })?;
    crate::sync::queue::enqueue(&mut tx, org_id, id, "connect").await?;
    db::orgs::audit(
        &mut *tx,
        org_id,
        user_id,
        "integration.account_chosen",
        "integration",
        &id.to_string(),
        serde_json::json!({ "provider": integration.provider, "account": info.label }),
    )
    .await?;
    let integration = db::integrations::get(&mut *tx, org_id, id)
        .await?
        .ok_or(ApiError::NotFound("integration"))?;
    tx.commit().await?;
    state.sync_wakeup.notify_waiters();
    Ok(Json(integration))
}

/// A widget type, and the provider it waits for when Pulseboard does not connect
/// that provider yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct WidgetTypeInfo {
    #[serde(rename = "type")]
    kind: &'static str,
    /// Display name of the provider whose data this type needs and that is not
    /// connectable yet (`Judge.me`); absent for the types that work today.
    awaiting_provider: Option<&'static str>,
}

/// Every widget type a dashboard can hold. Public and static: the share page uses
/// it too.
#[utoipa::path(get, path = "/api/widget-types", tag = "dashboards", security(()),
    responses((status = 200, body = [WidgetTypeInfo])))]
async fn list_widget_types() -> Json<Vec<WidgetTypeInfo>> {
    Json(
        crate::dashboards::model::WIDGET_TYPES
            .iter()
            .map(|&(kind, awaiting_provider)| WidgetTypeInfo {
                kind,
                awaiting_provider,
            })
            .collect(),
    )
}

/// Every provider with how it authenticates (OAuth, or API-key fields with labels and
/// validation hints) and its metric catalog, so the UI can render connect forms.
#[utoipa::path(get, path = "/api/providers", tag = "integrations",
    responses((status = 200, description = "providers, their auth kinds and key fields, and their metric catalogs")))]
async fn list_providers(
    State(state): State<AppState>,
    _user: CurrentUser,
) -> ApiResult<Json<Vec<serde_json::Value>>> {
    // Each entry also says `webhooks`: how the provider's signing secret is made
    // (`{"source": "pasted", "prefix": "whsec_"}`, `generated`, `app_secret`) or null
    // when it sends none, so the UI offers webhook setup only where it exists. (A plain
    // comment, not the doc comment: that one is the OpenAPI description.)
    let mut out = Vec::new();
    for info in state.providers.infos() {
        let webhooks = state
            .providers
            .get(info.id)
            .and_then(|p| p.webhook_setup())
            .map(|setup| setup.secret);
        let mut entry = serde_json::to_value(&info).context("provider info as JSON")?;
        entry["webhooks"] = serde_json::to_value(webhooks).context("webhook support as JSON")?;
        out.push(entry);
    }
    Ok(Json(out))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConnectRequest {
    /// The store whose numbers this account provides.
    store_id: Uuid,
    /// The provider's key fields, by the names `GET /api/providers` lists (Stripe: `api_key`).
    fields: BTreeMap<String, String>,
}

/// Connect a provider account with an API key. The key is tested against the
/// provider before anything is saved, then stored encrypted.
#[utoipa::path(post, path = "/api/orgs/{org_slug}/integrations/{provider}/api-key", tag = "integrations",
    params(("org_slug" = String, Path), ("provider" = String, Path)), request_body = ApiKeyConnectRequest,
    responses((status = 201, body = Integration), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 424, body = ErrorBody), (status = 409, body = ErrorBody, description = "The plan allows no more (`plan_limit`)")))]
async fn connect_with_api_key(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<ApiKeyConnectRequest>,
) -> ApiResult<(StatusCode, Json<Integration>)> {
    let (_, provider_id) = path;
    scope.require_admin()?;
    let provider = state
        .providers
        .get(&provider_id)
        .ok_or(ApiError::NotFound("provider"))?;
    let store = db::stores::get(&mut *scope.tx, scope.org.id, body.store_id)
        .await?
        .ok_or(ApiError::NotFound("store"))?;
    // Only the fields the provider declares; an unknown one is refused before any
    // call is made.
    let declared = key_fields(&provider.info());
    if let Some(unknown) = body
        .fields
        .keys()
        .find(|name| !declared.iter().any(|f| f.name == name.as_str()))
    {
        return Err(ApiError::validation(
            format!("fields.{unknown}"),
            "is not a field this provider takes",
        ));
    }
    let (org_id, user_id) = (scope.org.id, scope.user.id);
    scope.commit().await?;
    db::plans::ensure_room(&state.db, org_id, db::plans::Capped::Integrations).await?;

    // The provider call happens outside any transaction.
    let account = provider
        .test_api_key(&body.fields)
        .await
        .map_err(connector_error)?;

    // Secret fields are stored encrypted under their own names; the others (a project
    // id, a host) are part of the account the provider returned.
    let secrets: Vec<(&'static str, Option<&str>)> = declared
        .iter()
        .filter(|f| f.secret)
        .map(|f| (f.name, body.fields.get(f.name).map(String::as_str)))
        .collect();
    let integration = record_connection(
        &state,
        NewConnection {
            org_id,
            store_id: store.id,
            user_id,
            provider_id: &provider_id,
            auth_kind: "api_key",
            account: &account,
            secrets: &secrets,
            expires_at: None,
            choosing: false,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(integration)))
}

/// A successful connection, from either flow.
pub(super) struct NewConnection<'a> {
    pub org_id: Uuid,
    pub store_id: Uuid,
    pub user_id: Uuid,
    pub provider_id: &'a str,
    /// `oauth` or `api_key`.
    pub auth_kind: &'a str,
    pub account: &'a AccountInfo,
    /// Secret fields to store encrypted; `None` removes a field the provider no longer issues.
    pub secrets: &'a [(&'static str, Option<&'a str>)],
    pub expires_at: Option<DateTime<Utc>>,
    /// The user picks the account after consent: keep the tokens, sync nothing yet.
    pub choosing: bool,
}

/// Creates or reactivates the integration for this account and store, stores its
/// secrets encrypted and audits it, all in one transaction (as the worker role,
/// which alone may write credentials; the caller has checked the user's rights).
pub(super) async fn record_connection(
    state: &AppState,
    c: NewConnection<'_>,
) -> ApiResult<Integration> {
    let mut tx = state.db.bypass_tx(Bypass::ConnectionBookkeeping).await?;
    // Until the pick, the integration has a placeholder account of its own.
    let pending = format!("choosing:{}", Uuid::new_v4());
    let id = db::integrations::upsert_connected(
        &mut *tx,
        db::integrations::Connected {
            org_id: c.org_id,
            store_id: c.store_id,
            provider: c.provider_id,
            auth_kind: c.auth_kind,
            external_account_id: if c.choosing { &pending } else { &c.account.id },
            status: if c.choosing {
                "choosing_account"
            } else {
                "active"
            },
            account_label: &c.account.label,
            // How often the provider is synced unless the integration overrides it.
            cadence_minutes: state
                .providers
                .get(c.provider_id)
                .map_or(60, |p| p.info().default_cadence_minutes as i32),
            expires_at: c.expires_at,
            connected_by: c.user_id,
        },
    )
    .await?;
    // A provider with a daily call budget spent one call on the key test (Clarity):
    // it counts against the account's budget, for every integration reading it.
    if c.auth_kind == "api_key"
        && state
            .providers
            .get(c.provider_id)
            .is_some_and(|p| p.info().call_budget.is_some())
    {
        db::call_budgets::record(
            &mut *tx,
            c.provider_id,
            &c.account.id,
            Utc::now().date_naive(),
        )
        .await?;
    }
    for (field, value) in c.secrets {
        match value {
            Some(secret) => {
                credentials::save(&mut tx, &state.vault, c.org_id, id, field, secret).await?
            }
            None => db::integrations::delete_credential(&mut *tx, id, field).await?,
        }
    }
    // Default metric definitions, and the first sync, arrive with the connection.
    if let Some(provider) = state.providers.get(c.provider_id) {
        crate::sync::rollups::ensure_default_definitions(
            &mut tx,
            c.org_id,
            c.store_id,
            c.provider_id,
            provider.info().metrics,
        )
        .await?;
    }
    if !c.choosing {
        crate::sync::queue::enqueue(&mut tx, c.org_id, id, "connect").await?;
    }
    db::orgs::audit(
        &mut *tx,
        c.org_id,
        c.user_id,
        "integration.connected",
        "integration",
        &id.to_string(),
        serde_json::json!({ "provider": c.provider_id, "auth": c.auth_kind, "account": c.account.label }),
    )
    .await?;
    let integration = db::integrations::get(&mut *tx, c.org_id, id)
        .await?
        .ok_or(ApiError::NotFound("integration"))?;
    tx.commit().await?;
    tracing::info!(integration_id = %id, provider = c.provider_id, auth = c.auth_kind, "integration connected");
    state.sync_wakeup.notify_waiters();
    Ok(integration)
}

/// The key fields of a provider: its API-key form, or the key alternative of an
/// OAuth provider (Stripe's restricted key).
fn key_fields(info: &ProviderInfo) -> Vec<KeyField> {
    match &info.auth {
        AuthKind::ApiKey { fields } => fields.clone(),
        AuthKind::OAuth2 { .. } => info.api_key.clone().unwrap_or_default(),
    }
}

/// Maps a provider failure to a client error whose message never carries the secret
/// (the connectors crate scrubs provider messages).
pub(super) fn connector_error(error: ConnectorError) -> ApiError {
    match error {
        ConnectorError::InvalidInput(message) => ApiError::validation("fields", message),
        ConnectorError::Unauthorized(message) => ApiError::Validation {
            field: "fields".into(),
            message: format!("the provider refused these credentials: {message}"),
        },
        ConnectorError::Unsupported { .. } | ConnectorError::NotConfigured(_) => {
            ApiError::bad_request("unsupported", error.to_string())
        }
        ConnectorError::Provider(OAuthError::Rejected(message)) => {
            ApiError::validation("fields", message)
        }
        ConnectorError::Provider(other) => ApiError::FailedDependency(format!(
            "the provider could not be reached or failed ({other}); try again in a moment"
        )),
    }
}

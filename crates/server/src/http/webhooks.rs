//! Webhooks (DESIGN §11, §12): each integration may have one endpoint,
//! `POST /api/webhooks/{provider}/{endpoint_id}`, with its own signing secret. The
//! intake verifies the signature on the raw body before anything is parsed or
//! stored, writes the delivery to the inbox in one short transaction (once per
//! provider event id) and acknowledges; the workers process it from there
//! (`crate::webhooks`), so a slow step never makes a provider retry.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    Json,
};
use chrono::Utc;
use pulseboard_connectors::{WebhookError, WebhookSecret};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    extract::{ApiJson, ApiPath, OrgScope},
    AppState,
};
use crate::{
    db::{self, webhooks::Endpoint, Bypass},
    domain::secrets::new_token,
    error::{ApiError, ApiResult, ErrorBody},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_webhook, create_webhook, delete_webhook))
        .routes(routes!(receive))
        .routes(routes!(receive_platform))
}

use db::webhooks::SECRET_FIELD;

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookInfo {
    /// `null` until an endpoint is created.
    pub endpoint: Option<Endpoint>,
    /// The URL to give the provider.
    pub url: Option<String>,
    /// Events to subscribe to.
    pub events: Vec<String>,
    /// What to do on the provider's side, in order.
    pub steps: Vec<String>,
    /// `generated` (Pulseboard makes the secret; paste it at the provider) or
    /// `pasted` (the provider makes it; paste it here).
    pub secret_source: String,
    /// The prefix a pasted secret starts with (`whsec_`).
    pub secret_prefix: Option<String>,
}

async fn info(
    state: &AppState,
    scope: &mut OrgScope,
    integration_id: Uuid,
) -> ApiResult<WebhookInfo> {
    scope.require_admin()?;
    let integration = db::integrations::get(&mut *scope.tx, scope.org.id, integration_id)
        .await?
        .ok_or(ApiError::NotFound("integration"))?;
    let provider = state
        .providers
        .get(&integration.provider)
        .ok_or(ApiError::NotFound("provider"))?;
    let setup = provider.webhook_setup().ok_or_else(|| {
        ApiError::bad_request(
            "webhooks_unsupported",
            format!("{} does not send webhooks", provider.info().name),
        )
    })?;
    let mut tx = state.db.bypass_tx(Bypass::ConnectionBookkeeping).await?;
    let endpoint = db::webhooks::endpoint_of(&mut *tx, scope.org.id, integration_id).await?;
    tx.commit().await?;
    let url = endpoint.as_ref().map(|e| {
        state
            .config
            .link(&format!("/api/webhooks/{}/{}", e.provider, e.id))
    });
    let shown_url = url.clone().unwrap_or_else(|| "(the endpoint URL)".into());
    let (secret_source, secret_prefix) = match setup.secret {
        WebhookSecret::Generated => ("generated", None),
        WebhookSecret::Pasted { prefix } => ("pasted", Some(prefix.to_owned())),
        WebhookSecret::AppSecret => ("app_secret", None),
    };
    Ok(WebhookInfo {
        endpoint,
        url,
        events: setup.events.iter().map(|e| e.to_string()).collect(),
        steps: setup
            .steps
            .iter()
            .map(|s| s.replace("{url}", &shown_url))
            .collect(),
        secret_source: secret_source.into(),
        secret_prefix,
    })
}

/// The integration's webhook endpoint (if any) and how to set it up.
#[utoipa::path(get, path = "/api/orgs/{org_slug}/integrations/{integration_id}/webhook", tag = "webhooks",
    params(("org_slug" = String, Path), ("integration_id" = Uuid, Path)),
    responses((status = 200, body = WebhookInfo), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_webhook(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<Json<WebhookInfo>> {
    let info = info(&state, &mut scope, path.1).await?;
    scope.commit().await?;
    Ok(Json(info))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// The provider's signing secret, for providers that make it (Stripe's `whsec_…`).
    pub secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub info: WebhookInfo,
    /// Shown once, for providers where Pulseboard makes the secret: paste it there.
    pub secret: Option<String>,
}

/// Creates the endpoint, or replaces its secret (the URL stays the same).
#[utoipa::path(post, path = "/api/orgs/{org_slug}/integrations/{integration_id}/webhook", tag = "webhooks",
    params(("org_slug" = String, Path), ("integration_id" = Uuid, Path)), request_body = CreateWebhook,
    responses((status = 201, body = CreatedWebhook), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_webhook(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
    ApiJson(body): ApiJson<CreateWebhook>,
) -> ApiResult<(StatusCode, Json<CreatedWebhook>)> {
    let integration_id = path.1;
    let before = info(&state, &mut scope, integration_id).await?;
    let (secret, shown) = match (before.secret_source.as_str(), body.secret) {
        ("pasted", Some(secret)) => {
            let prefix = before.secret_prefix.clone().unwrap_or_default();
            let secret = secret.trim().to_owned();
            if !secret.starts_with(&prefix)
                || secret.len() < prefix.len() + 8
                || secret.len() > 256
                || secret.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(ApiError::validation(
                    "secret",
                    format!("paste the endpoint's signing secret, which starts with {prefix}"),
                ));
            }
            (secret, None)
        }
        ("pasted", None) => {
            return Err(ApiError::validation(
                "secret",
                "this provider makes the signing secret: paste it here",
            ))
        }
        ("generated", None) => {
            let secret = new_token("pbwh_");
            (secret.clone(), Some(secret))
        }
        ("generated", Some(_)) => {
            return Err(ApiError::validation(
                "secret",
                "Pulseboard makes this provider's signing secret: leave it out",
            ))
        }
        ("app_secret", None) => {
            let configured = db::integrations::get(&mut *scope.tx, scope.org.id, integration_id)
                .await?
                .and_then(|i| state.providers.get(&i.provider))
                .is_some_and(|p| p.webhook_app_secret().is_some());
            if !configured {
                return Err(ApiError::bad_request(
                    "webhooks_unsupported",
                    "this provider signs webhooks with the app's secret, which this server is not configured with",
                ));
            }
            // Nothing of the user's to keep: deliveries verify with the app's secret.
            (String::new(), None)
        }
        _ => {
            return Err(ApiError::validation(
                "secret",
                "this provider signs webhooks with the app's own secret: leave it out",
            ))
        }
    };
    let endpoint_provider = before
        .endpoint
        .as_ref()
        .map(|e| e.provider.clone())
        .unwrap_or_default();
    let provider = db::integrations::get(&mut *scope.tx, scope.org.id, integration_id)
        .await?
        .map(|i| i.provider)
        .unwrap_or(endpoint_provider);
    let ciphertext = state.vault.encrypt(integration_id, SECRET_FIELD, &secret);
    let key_id = crate::integrations::vault::Vault::key_id_of(&ciphertext)
        .unwrap_or_default()
        .to_owned();
    let hint: String = if secret.is_empty() {
        "the app's secret".into()
    } else {
        secret.chars().take(10).collect::<String>() + "…"
    };
    let mut tx = state.db.bypass_tx(Bypass::ConnectionBookkeeping).await?;
    db::webhooks::upsert_endpoint(
        &mut *tx,
        &db::webhooks::NewEndpoint {
            org_id: scope.org.id,
            integration_id,
            provider: &provider,
            key_id: &key_id,
            ciphertext: &ciphertext,
            hint: &hint,
        },
    )
    .await?;
    tx.commit().await?;
    scope
        .audit(
            "webhook.configured",
            "integration",
            integration_id,
            serde_json::json!({}),
        )
        .await?;
    let info = info(&state, &mut scope, integration_id).await?;
    scope.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhook {
            info,
            secret: shown,
        }),
    ))
}

#[utoipa::path(delete, path = "/api/orgs/{org_slug}/integrations/{integration_id}/webhook", tag = "webhooks",
    params(("org_slug" = String, Path), ("integration_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_webhook(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    scope.require_admin()?;
    db::integrations::get(&mut *scope.tx, scope.org.id, path.1)
        .await?
        .ok_or(ApiError::NotFound("integration"))?;
    let mut tx = state.db.bypass_tx(Bypass::ConnectionBookkeeping).await?;
    let deleted = db::webhooks::delete_endpoint(&mut *tx, scope.org.id, path.1).await?;
    tx.commit().await?;
    if !deleted {
        return Err(ApiError::NotFound("webhook endpoint"));
    }
    scope
        .audit(
            "webhook.removed",
            "integration",
            path.1,
            serde_json::json!({}),
        )
        .await?;
    scope.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Received {
    /// False when this endpoint already had the event (a retry or a replay): it is
    /// acknowledged and counted once.
    pub stored: bool,
}

/// Headers kept with a delivery for its processing (never credentials).
fn kept_headers(headers: &HeaderMap) -> serde_json::Value {
    let mut kept = serde_json::Map::new();
    for (name, value) in headers {
        let name = name.as_str();
        if matches!(name, "cookie" | "authorization") {
            continue;
        }
        if let Ok(value) = value.to_str() {
            kept.insert(name.to_owned(), value.into());
        }
    }
    serde_json::Value::Object(kept)
}

/// A provider's delivery. Answers 200 once the delivery is durably stored (or was
/// already); 400 with nothing stored when its signature does not verify.
#[utoipa::path(post, path = "/api/webhooks/{provider}/{endpoint_id}", tag = "webhooks", security(()),
    params(("provider" = String, Path), ("endpoint_id" = Uuid, Path)),
    request_body(content = String, description = "The provider's raw event body, signed", content_type = "application/json"),
    responses((status = 200, body = Received), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn receive(
    State(state): State<AppState>,
    Path((provider_id, endpoint)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Received>> {
    let not_found = || ApiError::NotFound("webhook endpoint");
    let endpoint_id: Uuid = endpoint.parse().map_err(|_| not_found())?;
    let mut tx = state.db.bypass_tx(Bypass::Webhook).await?;
    let receiver = db::webhooks::receiver(&mut *tx, endpoint_id)
        .await?
        .filter(|r| r.provider == provider_id)
        .ok_or_else(not_found)?;
    let provider = state
        .providers
        .get(&receiver.provider)
        .ok_or_else(not_found)?;
    let secret = match provider.webhook_app_secret() {
        // Signed with the app's own secret (Shopify): the endpoint keeps none.
        Some(app_secret)
            if matches!(
                provider.webhook_setup().map(|s| s.secret),
                Some(WebhookSecret::AppSecret)
            ) =>
        {
            app_secret
        }
        _ => state
            .vault
            .decrypt(
                receiver.integration_id,
                SECRET_FIELD,
                &receiver.secret_ciphertext,
            )
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("webhook secret: {e}")))?,
    };
    // An endpoint made for a platform's routed deliveries has no secret of its own:
    // nothing may be posted to it directly (an empty key would verify anything).
    if secret.is_empty() {
        return Err(not_found());
    }
    if let Err(error) = provider.verify_webhook(&headers, &body, &secret, Utc::now()) {
        let reason = match error {
            WebhookError::MissingSignature => "missing_signature",
            WebhookError::MalformedSignature => "malformed_signature",
            WebhookError::OutsideTolerance => "outside_tolerance",
            _ => "bad_signature",
        };
        state.metrics.webhook_rejected(&receiver.provider, reason);
        return Err(ApiError::bad_request(
            "invalid_signature",
            format!("the webhook was refused: {error}"),
        ));
    }
    let delivery = provider
        .webhook_delivery(&headers, &body)
        .map_err(|e| ApiError::bad_request("invalid_event", e.to_string()))?;
    let stored = db::webhooks::receive(
        &mut tx,
        &db::webhooks::Delivery {
            org_id: receiver.org_id,
            endpoint_id,
            event_id: &delivery.event_id,
            event_type: &delivery.event_type,
            body: &body,
            headers: &kept_headers(&headers),
        },
    )
    .await?;
    tx.commit().await?;
    if stored {
        state.webhook_wakeup.notify_one();
    }
    Ok(Json(Received { stored }))
}

/// A Connect platform's delivery (Stripe): one endpoint for every connected account,
/// signed with the platform's secret (`PULSEBOARD_STRIPE_WEBHOOK_SECRET`) and routed
/// by the event's `account` to each live integration of that account. An event for
/// an account nobody here connected is acknowledged and dropped.
#[utoipa::path(post, path = "/api/webhooks/{provider}/platform", tag = "webhooks", security(()),
    params(("provider" = String, Path)),
    request_body(content = String, description = "The provider's raw event body, signed", content_type = "application/json"),
    responses((status = 200, body = Received), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn receive_platform(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Received>> {
    let not_found = || ApiError::NotFound("platform webhook endpoint");
    let provider = state.providers.get(&provider_id).ok_or_else(not_found)?;
    let secret = provider.platform_webhook_secret().ok_or_else(not_found)?;
    if let Err(error) = provider.verify_webhook(&headers, &body, &secret, Utc::now()) {
        state
            .metrics
            .webhook_rejected(&provider_id, "platform_signature");
        return Err(ApiError::bad_request(
            "invalid_signature",
            format!("the webhook was refused: {error}"),
        ));
    }
    let delivery = provider
        .webhook_delivery(&headers, &body)
        .map_err(|e| ApiError::bad_request("invalid_event", e.to_string()))?;
    let Some(account) = delivery.account.clone() else {
        return Ok(Json(Received { stored: false }));
    };
    let mut tx = state.db.bypass_tx(Bypass::Webhook).await?;
    let mut stored = false;
    for (org_id, integration_id, endpoint) in
        db::webhooks::integrations_of_account(&mut *tx, &provider_id, &account).await?
    {
        // An integration reached only through the platform gets an endpoint of its
        // own (without a secret of its own) so its deliveries share the inbox.
        let endpoint_id = match endpoint {
            Some(id) => id,
            None => {
                let sealed = state.vault.encrypt(integration_id, SECRET_FIELD, "");
                let key_id = crate::integrations::vault::Vault::key_id_of(&sealed)
                    .unwrap_or_default()
                    .to_owned();
                db::webhooks::upsert_endpoint(
                    &mut *tx,
                    &db::webhooks::NewEndpoint {
                        org_id,
                        integration_id,
                        provider: &provider_id,
                        key_id: &key_id,
                        ciphertext: &sealed,
                        hint: "the platform's secret",
                    },
                )
                .await?
                .id
            }
        };
        stored |= db::webhooks::receive(
            &mut tx,
            &db::webhooks::Delivery {
                org_id,
                endpoint_id,
                event_id: &delivery.event_id,
                event_type: &delivery.event_type,
                body: &body,
                headers: &kept_headers(&headers),
            },
        )
        .await?;
    }
    tx.commit().await?;
    if stored {
        state.webhook_wakeup.notify_one();
    }
    Ok(Json(Received { stored }))
}

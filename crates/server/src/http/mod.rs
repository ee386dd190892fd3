//! The HTTP API: one module per resource, each with its `router()`, assembled here
//! with the cross-cutting layers (request ids, logs, metrics, CSRF, body limit).

pub mod extract;
mod middleware;
mod openapi;
mod ops;
mod strict_json;
mod web;

mod accounts;
mod alerts;
mod dashboards;
mod integrations;
mod invites;
mod live;
mod me;
mod metrics;
mod notifications;
mod oauth;
mod orgs;
mod password_reset;
mod slack;
mod stores;
mod sync;
mod webhooks;
mod workspaces;

use std::sync::Arc;

use axum::{extract::DefaultBodyLimit, http::StatusCode, response::IntoResponse, Router};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;

/// Kept so handlers can keep naming `super::AppState`.
pub use crate::state::AppState;

/// Every API route with its OpenAPI description.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base())
        .merge(accounts::router())
        .merge(password_reset::router())
        .merge(me::router())
        .merge(orgs::router())
        .merge(invites::router())
        .merge(workspaces::router())
        .merge(stores::router())
        .merge(integrations::router())
        .merge(oauth::router())
        .merge(sync::router())
        .merge(metrics::router())
        .merge(dashboards::router())
        .merge(slack::router())
        .merge(alerts::router())
        .merge(notifications::router())
        .merge(webhooks::router())
        .merge(live::router())
}

/// The OpenAPI document, generated from the handlers.
pub fn openapi_document() -> serde_json::Value {
    openapi::with_extractor_statuses(api_routes().into_openapi())
}

pub fn router(state: AppState) -> Router {
    let (api, document) = api_routes().split_for_parts();
    let document = Arc::new(openapi::with_extractor_statuses(document));
    let request_id = axum::http::HeaderName::from_static("x-request-id");
    Router::new()
        .merge(api)
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let document = document.clone();
                async move { axum::Json((*document).clone()) }
            }),
        )
        .merge(ops::router())
        .fallback(web::fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::refuse_cross_site,
        ))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        // gzip for browsers that ask: the UI's scripts (the JS budget in BENCHMARKS.md
        // is gzipped bytes) and large JSON such as a dashboard's data.
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::observe,
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("route")
}

async fn method_not_allowed() -> impl IntoResponse {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(serde_json::json!({
            "error": { "code": "method_not_allowed", "message": "this route does not accept that HTTP method" }
        })),
    )
}

/// Attaches a field name to a domain parse error.
pub(crate) fn field<T>(name: &str, parsed: Result<T, String>) -> Result<T, ApiError> {
    parsed.map_err(|message| ApiError::validation(name, message))
}

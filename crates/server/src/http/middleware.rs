//! Cross-cutting request handling.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tracing::Instrument;

use super::AppState;
use crate::error::ApiError;

/// Refuses state-changing requests that a browser marks as cross-site, so a page on
/// another origin cannot ride on the session cookie. API clients (no `Origin`, no
/// `Sec-Fetch-Site`) are unaffected.
pub async fn refuse_cross_site(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if !matches!(site, "same-origin" | "none") {
            return ApiError::forbidden("cross-site requests may not change anything")
                .into_response();
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let same_host = origin.split_once("://").map(|(_, rest)| rest) == Some(host);
        if origin != state.config.public_origin() && !same_host {
            return ApiError::forbidden("cross-site requests may not change anything")
                .into_response();
        }
    }
    next.run(request).await
}

/// One span per request carrying its id, a log line at the end, and the Prometheus counters.
pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = request.method().clone();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, route = %route);
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status();
    state
        .metrics
        .observe(method.as_str(), &route, status.as_u16(), elapsed);
    span.in_scope(|| {
        tracing::info!(
            target: crate::telemetry::REQUEST_LOG_TARGET,
            status = status.as_u16(),
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request finished"
        )
    });
    response
}

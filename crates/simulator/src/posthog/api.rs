//! Simulated PostHog private API under `/posthog`: `GET /api/projects/{id}/` and
//! `POST /api/projects/{id}/query/` (HogQL), authenticated with a personal API key
//! as bearer token, with PostHog's error bodies (`{"type", "code", "detail",
//! "attr"}`) and its per-key rate limit on queries (429 with `Retry-After`).

use std::{
    collections::{HashMap, VecDeque},
    time::{Duration, Instant},
};

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{
        header::{AUTHORIZATION, RETRY_AFTER},
        HeaderMap, StatusCode,
    },
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Value};

use super::{defaults, endpoints, hogql, Posthog};
use crate::{
    common::{lock, time::format_iso},
    provider::Failure,
    AppState,
};

const HOUR: Duration = Duration::from_secs(3600);

/// PostHog's error body.
fn error(status: StatusCode, kind: &str, code: &str, detail: &str) -> Response {
    (
        status,
        Json(json!({ "type": kind, "code": code, "detail": detail, "attr": null })),
    )
        .into_response()
}

fn throttled(retry_after_secs: u64) -> Response {
    let mut response = error(
        StatusCode::TOO_MANY_REQUESTS,
        "throttled_error",
        "throttled",
        &format!("Request was throttled. Expected available in {retry_after_secs} seconds."),
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, retry_after_secs.into());
    response
}

/// PostHog's answer to a scripted failure.
pub(crate) fn failure(failure: Failure) -> Response {
    match failure {
        Failure::ServerError => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "error",
            "A server error occurred.",
        ),
        Failure::RateLimited { retry_after_secs } => throttled(retry_after_secs),
    }
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "invalid_request", "not_found", "Not found.")
}

/// Per-key sliding-hour limit of HogQL queries (PostHog's default is 120 an hour).
#[derive(Debug)]
pub(crate) struct QueryLimiter {
    pub per_hour: u32,
    calls: HashMap<String, VecDeque<Instant>>,
}

impl Default for QueryLimiter {
    fn default() -> Self {
        Self {
            per_hour: defaults::POSTHOG_QUERIES_PER_HOUR,
            calls: HashMap::new(),
        }
    }
}

impl QueryLimiter {
    /// Counts a query of `key`, or says how many seconds until one is allowed.
    fn take(&mut self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let calls = self.calls.entry(key.to_owned()).or_default();
        while calls.front().is_some_and(|at| now.duration_since(*at) >= HOUR) {
            calls.pop_front();
        }
        if calls.len() >= self.per_hour as usize {
            let oldest = calls.front().copied().unwrap_or(now);
            let wait = HOUR.saturating_sub(now.duration_since(oldest));
            return Err(wait.as_secs().max(1));
        }
        calls.push_back(now);
        Ok(())
    }
}

/// Which scopes a key has.
enum Access {
    /// `project:read` and `query:read`.
    Full,
    /// `project:read` only.
    ProjectOnly,
}

/// Why a request is not authenticated.
enum Unauthenticated {
    NoCredentials,
    UnknownKey,
}

impl Unauthenticated {
    /// PostHog's 401.
    fn response(self) -> Response {
        let (code, detail) = match self {
            Self::NoCredentials => (
                "not_authenticated",
                "Authentication credentials were not provided.",
            ),
            Self::UnknownKey => (
                "authentication_failed",
                "Personal API key found in request Authorization header is invalid.",
            ),
        };
        error(StatusCode::UNAUTHORIZED, "authentication_error", code, detail)
    }
}

/// The bearer key of a request, checked.
fn authenticate(headers: &HeaderMap) -> Result<(String, Access), Unauthenticated> {
    let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Err(Unauthenticated::NoCredentials);
    };
    let key = value.strip_prefix("Bearer ").unwrap_or_default().trim();
    let access = match key {
        defaults::POSTHOG_PERSONAL_API_KEY => Access::Full,
        defaults::POSTHOG_PROJECT_READ_ONLY_KEY => Access::ProjectOnly,
        _ => return Err(Unauthenticated::UnknownKey),
    };
    Ok((key.to_owned(), access))
}

/// A project id in a path: a positive number (else PostHog answers 404).
fn project_id(raw: &str) -> Option<u64> {
    raw.parse::<u64>()
        .ok()
        .filter(|id| *id > 0 && raw.bytes().all(|b| b.is_ascii_digit()))
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/posthog/api/projects/{id}/", get(project))
        .route("/posthog/api/projects/{id}/query/", post(query))
}

async fn project(State(sim): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Err(response) = sim.faults.enter(endpoints::POSTHOG_PROJECT).await {
        return response;
    }
    if let Err(refused) = authenticate(&headers) {
        return refused.response();
    }
    let Some(id) = project_id(&id) else {
        return not_found();
    };
    let world = &mut *lock(&sim.world);
    let (clock, data) = world.data(Posthog::default);
    let ledger = &data.project(clock, id).ledger;
    Json(json!({
        "id": ledger.id,
        "uuid": format!("0190aa00-0000-7000-8000-{:012x}", ledger.id),
        "organization": "0190aa00-0000-7000-8000-00000000a11c",
        "api_token": format!("phc_sim_project_token_{}", ledger.id),
        "name": ledger.name,
        "timezone": ledger.timezone,
        "week_start_day": 1,
        "created_at": format_iso(ledger.start),
        "updated_at": format_iso(ledger.start),
        "ingested_event": true,
        "is_demo": false,
        "access_control": false,
        "completed_snippet_onboarding": true,
        "data_attributes": ["data-attr"],
        "effective_membership_level": 8,
    }))
    .into_response()
}

async fn query(
    State(sim): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = sim.faults.enter(endpoints::POSTHOG_QUERY).await {
        return response;
    }
    let (key, access) = match authenticate(&headers) {
        Ok(found) => found,
        Err(refused) => return refused.response(),
    };
    if let Access::ProjectOnly = access {
        return error(
            StatusCode::FORBIDDEN,
            "authentication_error",
            "permission_denied",
            "API key missing required scope 'query:read'",
        );
    }
    let Some(id) = project_id(&id) else {
        return not_found();
    };
    let world = &mut *lock(&sim.world);
    let (clock, data) = world.data(Posthog::default);
    if let Err(wait) = data.limiter.take(&key) {
        return throttled(wait);
    }
    let invalid = |detail: &str| {
        error(StatusCode::BAD_REQUEST, "validation_error", "invalid_input", detail)
    };
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return invalid("JSON parse error");
    };
    let Some(query) = request.get("query").filter(|q| q.is_object()) else {
        return invalid("Submit a JSON object with a 'query' to run.");
    };
    match query.get("kind").and_then(Value::as_str) {
        Some("HogQLQuery") => {}
        Some(other) => return invalid(&format!("The simulator runs HogQLQuery only, not {other}")),
        None => return invalid("The query has no 'kind'."),
    }
    let Some(text) = query.get("query").and_then(Value::as_str) else {
        return invalid("A HogQLQuery needs a 'query' string.");
    };
    let parsed = match hogql::parse(text) {
        Ok(parsed) => parsed,
        Err(detail) => return invalid(&detail),
    };
    let ledger = &data.project(clock, id).ledger;
    let (columns, types, results, has_more) = hogql::run(&parsed, ledger);
    Json(json!({
        "cache_key": format!("cache_sim_{id}_{}", results.len()),
        "clickhouse": null,
        "columns": columns,
        "error": null,
        "explain": null,
        "hasMore": has_more,
        "hogql": text,
        "is_cached": false,
        "last_refresh": format_iso(ledger.end),
        "limit": hogql::limit(&parsed),
        "metadata": null,
        "modifiers": {},
        "offset": 0,
        "query": text,
        "results": results,
        "timezone": ledger.timezone,
        "timings": [],
        "types": types,
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_allows_its_quota_per_key_then_names_the_wait() {
        let mut limiter = QueryLimiter {
            per_hour: 2,
            ..QueryLimiter::default()
        };
        assert!(limiter.take("a").is_ok());
        assert!(limiter.take("a").is_ok());
        let wait = limiter.take("a").unwrap_err();
        assert!((3590..=3600).contains(&wait), "{wait}");
        assert!(limiter.take("b").is_ok());
    }
}

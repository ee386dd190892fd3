//! Simulated Stripe: Connect OAuth (`/stripe/oauth/*`) and the account
//! endpoint (`/stripe/v1/account`), with Stripe's response and error shapes.
//! The data list endpoints are in `lists.rs` and share this module's
//! key check and rate limiter.

use std::{collections::HashMap, time::Instant};

use axum::{
    body::Bytes,
    extract::{Query, State},
    http::{
        header::{AUTHORIZATION, RETRY_AFTER},
        HeaderMap, HeaderName, StatusCode,
    },
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::{json, Value};
use url::Url;

use crate::{
    common::{
        faults::Scripted,
        http::{body_params, found, random_token},
        lock,
    },
    provider::Failure,
    stripe::endpoints,
    AppState,
};

/// Issued codes and tokens.
#[derive(Debug, Default)]
pub(crate) struct Store {
    /// Unused authorization codes and the scope they grant.
    codes: HashMap<String, String>,
    /// Access tokens and when they expire.
    access_tokens: HashMap<String, Option<Instant>>,
    /// Live refresh tokens and their scope.
    refresh_tokens: HashMap<String, String>,
    /// Requests per second across `/v1/*`, when limited.
    limiter: Option<TokenBucket>,
}

impl Store {
    pub fn new(rate_limit: Option<u32>) -> Self {
        Self {
            limiter: rate_limit.map(TokenBucket::new),
            ..Self::default()
        }
    }
}

/// Stripe's request rate limit, as a token bucket refilled continuously (a
/// burst of `per_second` requests, then `per_second` a second).
#[derive(Debug)]
struct TokenBucket {
    per_second: f64,
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    fn new(per_second: u32) -> Self {
        let per_second = f64::from(per_second.max(1));
        Self {
            per_second,
            tokens: per_second,
            at: Instant::now(),
        }
    }

    /// Takes a token, or says how many whole seconds until one is available.
    fn take(&mut self) -> Result<(), u64> {
        let now = Instant::now();
        let elapsed = now.duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.per_second);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - self.tokens) / self.per_second).ceil().max(1.0) as u64)
        }
    }
}

/// Stripe's hint to its client libraries that a request may be retried.
const STRIPE_SHOULD_RETRY: HeaderName = HeaderName::from_static("stripe-should-retry");

/// Stripe's answer to a scripted failure: an `api_error` 500 or its 429, both
/// saying they may be retried.
pub(crate) fn failure(failure: Failure) -> Response {
    match failure {
        Failure::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(STRIPE_SHOULD_RETRY, "true")],
            Json(json!({
                "error": {
                    "type": "api_error",
                    "message": "The simulator was scripted to fail this request."
                }
            })),
        )
            .into_response(),
        Failure::RateLimited { retry_after_secs } => stripe_rate_limited(retry_after_secs),
    }
}

/// Stripe's 429: an `invalid_request_error` with code `rate_limit` (Stripe has
/// no `rate_limit_error` type), plus `Retry-After` and `Stripe-Should-Retry`.
fn stripe_rate_limited(retry_after_secs: u64) -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (RETRY_AFTER, retry_after_secs.to_string()),
            (STRIPE_SHOULD_RETRY, "true".to_owned()),
        ],
        Json(json!({
            "error": {
                "type": "invalid_request_error",
                "code": "rate_limit",
                "message": "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits."
            }
        })),
    )
        .into_response()
}

/// The common preamble of every `/v1/*` handler: count the call and apply
/// scripted faults, then the configured rate limit, then the key check.
pub(crate) async fn enter_api(
    sim: &AppState,
    endpoint: &str,
    headers: &HeaderMap,
) -> Result<(), Response> {
    sim.faults.enter(endpoint).await?;
    let limited = lock(&sim.stripe)
        .limiter
        .as_mut()
        .map_or(Ok(()), TokenBucket::take);
    if let Err(retry_after) = limited {
        return Err(stripe_rate_limited(retry_after));
    }
    authenticate(sim, headers)
}

/// Accepts an OAuth access token the simulator issued (and that has not
/// expired) or a configured restricted key, as a bearer token. The
/// `Stripe-Account` header is ignored: there is one account.
#[allow(clippy::result_large_err)] // a finished response, built once per request
fn authenticate(sim: &AppState, headers: &HeaderMap) -> Result<(), Response> {
    let Some(key) = bearer(headers) else {
        return Err(api_error(
            StatusCode::UNAUTHORIZED,
            "You did not provide an API key. You need to provide your API key in the Authorization header, \
             using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        ));
    };
    let config = &sim.config.stripe;
    let known = config.restricted_keys.contains(&key) || {
        let store = lock(&sim.stripe);
        match store.access_tokens.get(&key) {
            Some(Some(expires)) if *expires <= Instant::now() => {
                return Err(api_error(
                    StatusCode::UNAUTHORIZED,
                    &format!("Expired API Key provided: {}", mask(&key)),
                ));
            }
            Some(_) => true,
            None => false,
        }
    };
    if !known {
        return Err(api_error(
            StatusCode::UNAUTHORIZED,
            &format!("Invalid API Key provided: {}", mask(&key)),
        ));
    }
    Ok(())
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/stripe/oauth/authorize", get(authorize))
        .route("/stripe/oauth/token", post(token))
        .route("/stripe/oauth/deauthorize", post(deauthorize))
        .route("/stripe/v1/account", get(account))
}

/// The consent screen, answered at once: a 302 back to `redirect_uri`.
async fn authorize(
    State(sim): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let scripted = match sim.faults.enter(endpoints::STRIPE_AUTHORIZE).await {
        Ok(scripted) => scripted,
        Err(response) => return response,
    };
    let config = &sim.config.stripe;
    if params.get("client_id") != Some(&config.client_id) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "No such application: the client_id is unknown.",
        );
    }
    if params.get("response_type").map(String::as_str) != Some("code") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "response_type must be 'code'.",
        );
    }
    let Some(mut redirect) = params.get("redirect_uri").and_then(|u| Url::parse(u).ok()) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_redirect_uri",
            "A valid redirect_uri is required.",
        );
    };
    let scope = params
        .get("scope")
        .cloned()
        .unwrap_or_else(|| "read_only".into());
    if scope != "read_only" && scope != "read_write" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "Invalid scope: use read_only or read_write.",
        );
    }

    {
        let mut query = redirect.query_pairs_mut();
        if scripted == Some(Scripted::DenyConsent) {
            query
                .append_pair("error", "access_denied")
                .append_pair("error_description", "The user denied your request");
        } else {
            let code = format!("ac_{}", random_token(24));
            lock(&sim.stripe).codes.insert(code.clone(), scope.clone());
            query
                .append_pair("code", &code)
                .append_pair("scope", &scope);
        }
        if let Some(state) = params.get("state") {
            query.append_pair("state", state);
        }
    }
    found(redirect.as_str())
}

/// `POST /oauth/token`: authorization_code and refresh_token grants.
async fn token(State(sim): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let scripted = match sim.faults.enter(endpoints::STRIPE_TOKEN).await {
        Ok(scripted) => scripted,
        Err(response) => return response,
    };
    let params = body_params(&headers, &body);
    if let Some(rejection) = platform_key_rejection(&sim, &headers, &params) {
        return rejection;
    }
    if scripted == Some(Scripted::InvalidGrant) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The grant was revoked (scripted by the simulator).",
        );
    }

    let mut store = lock(&sim.stripe);
    let scope = match params.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let code = params.get("code").cloned().unwrap_or_default();
            // Codes are single use: removing it is what makes a replay fail.
            match store.codes.remove(&code) {
                Some(scope) => scope,
                None => {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        &format!("Authorization code does not exist: {code}"),
                    )
                }
            }
        }
        Some("refresh_token") => {
            let refresh = params.get("refresh_token").cloned().unwrap_or_default();
            // Rotation: the used refresh token dies, a new one is issued below.
            match store.refresh_tokens.remove(&refresh) {
                Some(scope) => scope,
                None => {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        &format!("Refresh token does not exist: {refresh}"),
                    )
                }
            }
        }
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token.",
            )
        }
    };

    let config = &sim.config.stripe;
    let mode = if config.livemode { "live" } else { "test" };
    let access_token = format!("sk_{mode}_{}", random_token(32));
    let refresh_token = format!("rt_{}", random_token(32));
    let lifetime = sim.config.token_lifetime;
    store
        .access_tokens
        .insert(access_token.clone(), lifetime.map(|l| Instant::now() + l));
    store
        .refresh_tokens
        .insert(refresh_token.clone(), scope.clone());

    let mut body = json!({
        "access_token": access_token,
        "refresh_token": refresh_token,
        "token_type": "bearer",
        "stripe_publishable_key": format!("pk_{mode}_{}", random_token(24)),
        "stripe_user_id": config.account_id,
        "scope": scope,
        "livemode": config.livemode,
    });
    if let Some(lifetime) = lifetime {
        body["expires_in"] = json!(lifetime.as_secs());
    }
    Json(body).into_response()
}

/// `POST /oauth/deauthorize`: disconnects the account from the platform.
async fn deauthorize(State(sim): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(response) = sim.faults.enter(endpoints::STRIPE_DEAUTHORIZE).await {
        return response;
    }
    let params = body_params(&headers, &body);
    if let Some(rejection) = platform_key_rejection(&sim, &headers, &params) {
        return rejection;
    }
    let config = &sim.config.stripe;
    if params.get("client_id") != Some(&config.client_id) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "No such application.",
        );
    }
    let account = params.get("stripe_user_id").cloned().unwrap_or_default();
    let mut store = lock(&sim.stripe);
    if account != config.account_id
        || (store.access_tokens.is_empty() && store.refresh_tokens.is_empty())
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            &format!("Stripe account {account} is not connected to your platform."),
        );
    }
    store.access_tokens.clear();
    store.refresh_tokens.clear();
    Json(json!({ "stripe_user_id": account })).into_response()
}

/// `GET /v1/account` with an OAuth access token or a restricted key.
async fn account(State(sim): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(response) = enter_api(&sim, endpoints::STRIPE_ACCOUNT, &headers).await {
        return response;
    }
    let config = &sim.config.stripe;
    Json(json!({
        "id": config.account_id,
        "object": "account",
        "type": "standard",
        "business_profile": { "name": config.business_name, "url": null },
        "settings": { "dashboard": { "display_name": config.display_name, "timezone": config.timezone } },
        "charges_enabled": true,
        "country": config.country,
        "default_currency": config.default_currency,
    }))
    .into_response()
}

/// Checks the platform secret key, sent as `client_secret`, bearer or basic auth;
/// `Some` is the error response when it is missing or wrong.
fn platform_key_rejection(
    sim: &AppState,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Option<Response> {
    let sent = params
        .get("client_secret")
        .cloned()
        .or_else(|| bearer(headers))
        .or_else(|| basic_user(headers));
    match sent {
        Some(key) if key == sim.config.stripe.secret_key => None,
        Some(key) => Some(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            &format!("Invalid API Key provided: {}", mask(&key)),
        )),
        None => Some(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "No authentication was provided. Send your secret API key using the Authorization header, \
             or as a client_secret POST parameter.",
        )),
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(|k| k.trim().to_owned())
}

/// The user part of `Authorization: Basic base64(key:)`, the way `curl -u sk_…:` sends it.
fn basic_user(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let decoded = STANDARD.decode(value.strip_prefix("Basic ")?.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    Some(
        text.split_once(':')
            .map_or(text.clone(), |(user, _)| user.to_owned()),
    )
}

/// Masks a key the way Stripe's errors do: `rk_test_****abcd` (just `****` when
/// the key is too short to hide anything).
pub(crate) fn mask(key: &str) -> String {
    let prefix_len = key
        .match_indices('_')
        .nth(1)
        .map(|(i, _)| i + 1)
        .filter(|i| *i < key.len())
        .unwrap_or(0);
    let tail_start = key.len().saturating_sub(4).max(prefix_len);
    match (key.get(..prefix_len), key.get(tail_start..)) {
        (Some(prefix), Some(tail)) if key.len() >= prefix_len + 8 => format!("{prefix}****{tail}"),
        _ => "****".to_owned(),
    }
}

/// OAuth-style error body: `{"error": "…", "error_description": "…"}`.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// API-style error body: `{"error": {"type": "invalid_request_error", "message": "…"}}`.
fn api_error(status: StatusCode, message: &str) -> Response {
    let body: Value = json!({ "error": { "type": "invalid_request_error", "message": message } });
    (status, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_masked_like_stripe_does() {
        assert_eq!(mask("rk_test_51Habcdabcd"), "rk_test_****abcd");
        assert_eq!(mask("sk_live_xyz12345"), "sk_live_****2345");
        assert_eq!(mask("short"), "****");
        assert_eq!(mask("rk_test_ab"), "****");
        assert!(!mask("nounderscoreskey1234").contains("nounder"));
    }

    #[test]
    fn basic_auth_user_is_the_key() {
        let mut headers = HeaderMap::new();
        let encoded = STANDARD.encode("sk_test_abc:");
        headers.insert(AUTHORIZATION, format!("Basic {encoded}").parse().unwrap());
        assert_eq!(basic_user(&headers).as_deref(), Some("sk_test_abc"));
        assert_eq!(bearer(&headers), None);
    }
}

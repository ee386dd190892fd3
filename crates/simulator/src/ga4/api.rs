//! Simulated Google OAuth 2.0 for web server apps (`/ga4/o/oauth2/v2/auth`,
//! `/ga4/token`, `/ga4/revoke`) and the Analytics Admin API
//! (`/ga4/admin/v1beta/accountSummaries`, `/ga4/admin/v1beta/properties/{id}`), with
//! Google's response and error shapes.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{header::AUTHORIZATION, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use url::Url;

use super::{defaults, endpoints, google_error, property, Code, Ga4, FILLER_ACCOUNTS, PROPERTIES};
use crate::common::{
    faults::Scripted,
    http::{body_params, found, random_token},
    lock,
};

/// The Analytics read scope.
pub(crate) const ANALYTICS_READONLY: &str = "https://www.googleapis.com/auth/analytics.readonly";
/// Google's access tokens live an hour (`expires_in: 3599`).
const ACCESS_LIFETIME: Duration = Duration::from_secs(3599);
/// Google's default page size of `accountSummaries`; 200 at most.
const DEFAULT_PAGE_SIZE: usize = 50;

pub(crate) fn router() -> Router<Ga4> {
    Router::new()
        .route("/ga4/o/oauth2/v2/auth", get(authorize))
        .route("/ga4/token", post(token))
        .route("/ga4/revoke", post(revoke))
        .route("/ga4/admin/v1beta/accountSummaries", get(account_summaries))
        .route("/ga4/admin/v1beta/properties/{id}", get(get_property))
        .route("/_sim/ga4/revoke", post(revoke_everything))
}

/// OAuth's error body: `{"error": "…", "error_description": "…"}`.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// The consent screen, approved at once: a 302 back to `redirect_uri` with the code.
/// Bad requests get Google's error page (a 400), not a redirect.
async fn authorize(State(ga): State<Ga4>, Query(params): Query<HashMap<String, String>>) -> Response {
    let scripted = match ga.sim.faults.enter(endpoints::GA4_AUTHORIZE).await {
        Ok(scripted) => scripted,
        Err(response) => return response,
    };
    let get = |k: &str| params.get(k).map(String::as_str);
    if get("client_id") != Some(defaults::GA4_CLIENT_ID) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "The OAuth client was not found.");
    }
    let Some(mut redirect) = get("redirect_uri").and_then(|u| Url::parse(u).ok()) else {
        return oauth_error(StatusCode::BAD_REQUEST, "redirect_uri_mismatch", "Missing or invalid redirect_uri.");
    };
    if get("response_type") != Some("code") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_response_type", "response_type must be code.");
    }
    let scope = get("scope").unwrap_or_default();
    if !scope.split_whitespace().any(|s| s == ANALYTICS_READONLY) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", "Some requested scopes were invalid.");
    }
    let challenge = get("code_challenge").map(str::to_owned);
    if challenge.is_some() && get("code_challenge_method") != Some("S256") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "code_challenge_method must be S256 (plain is not accepted by this simulator).",
        );
    }
    {
        let mut query = redirect.query_pairs_mut();
        if scripted == Some(Scripted::DenyConsent) {
            query.append_pair("error", "access_denied");
        } else {
            let code = format!("4/0Sim{}", random_token(40));
            lock(&ga.store).codes.insert(
                code.clone(),
                Code {
                    redirect_uri: get("redirect_uri").unwrap_or_default().to_owned(),
                    challenge,
                    scope: scope.to_owned(),
                    offline: get("access_type") == Some("offline"),
                },
            );
            query
                .append_pair("code", &code)
                .append_pair("scope", scope)
                .append_pair("authuser", "0")
                .append_pair("prompt", "consent");
        }
        if let Some(state) = get("state") {
            query.append_pair("state", state);
        }
    }
    found(redirect.as_str())
}

/// `POST /token`: the authorization_code (with PKCE) and refresh_token grants.
async fn token(State(ga): State<Ga4>, headers: HeaderMap, body: Bytes) -> Response {
    let scripted = match ga.sim.faults.enter(endpoints::GA4_TOKEN).await {
        Ok(scripted) => scripted,
        Err(response) => return response,
    };
    let params = body_params(&headers, &body);
    let get = |k: &str| params.get(k).map(String::as_str);
    if get("client_id") != Some(defaults::GA4_CLIENT_ID)
        || get("client_secret") != Some(defaults::GA4_CLIENT_SECRET)
    {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Unauthorized");
    }
    if scripted == Some(Scripted::InvalidGrant) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Token has been expired or revoked.");
    }
    let mut store = lock(&ga.store);
    let (scope, refresh) = match get("grant_type") {
        Some("authorization_code") => {
            // Codes are single use: removing it is what makes a replay fail.
            let Some(code) = store.codes.remove(get("code").unwrap_or_default()) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Malformed auth code.");
            };
            if get("redirect_uri") != Some(code.redirect_uri.as_str()) {
                return oauth_error(StatusCode::BAD_REQUEST, "redirect_uri_mismatch", "Bad Request");
            }
            if let Some(challenge) = &code.challenge {
                match get("code_verifier") {
                    None => {
                        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Missing code verifier.")
                    }
                    Some(verifier) if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != *challenge => {
                        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Invalid code verifier.")
                    }
                    Some(_) => {}
                }
            }
            let refresh = code.offline.then(|| format!("1//0Sim{}", random_token(40)));
            if let Some(refresh) = &refresh {
                store.refresh_tokens.insert(refresh.clone(), code.scope.clone());
            }
            (code.scope, refresh)
        }
        Some("refresh_token") => {
            let refresh = get("refresh_token").unwrap_or_default().to_owned();
            // Google does not rotate refresh tokens: the same one keeps working.
            let Some(scope) = store.refresh_tokens.get(&refresh).cloned() else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Token has been expired or revoked.");
            };
            let access = format!("ya29.sim{}", random_token(60));
            store
                .access_tokens
                .insert(access.clone(), (Instant::now() + ACCESS_LIFETIME, Some(refresh)));
            return Json(json!({
                "access_token": access,
                "expires_in": ACCESS_LIFETIME.as_secs(),
                "scope": scope,
                "token_type": "Bearer",
            }))
            .into_response();
        }
        _ => {
            return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "Invalid grant_type.")
        }
    };
    let access = format!("ya29.sim{}", random_token(60));
    store
        .access_tokens
        .insert(access.clone(), (Instant::now() + ACCESS_LIFETIME, refresh.clone()));
    let mut body = json!({
        "access_token": access,
        "expires_in": ACCESS_LIFETIME.as_secs(),
        "scope": scope,
        "token_type": "Bearer",
    });
    if let Some(refresh) = refresh {
        body["refresh_token"] = json!(refresh);
    }
    Json(body).into_response()
}

/// `POST /revoke` with `token=`: a refresh token dies with its access tokens; an
/// access token takes its refresh token with it, as Google does.
async fn revoke(State(ga): State<Ga4>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(response) = ga.sim.faults.enter(endpoints::GA4_REVOKE).await {
        return response;
    }
    let params = body_params(&headers, &body);
    let token = params.get("token").cloned().unwrap_or_default();
    let mut store = lock(&ga.store);
    let refresh = if store.refresh_tokens.contains_key(&token) {
        Some(token.clone())
    } else {
        match store.access_tokens.remove(&token) {
            Some((_, refresh)) => refresh,
            None => {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_token", "Token expired or revoked")
            }
        }
    };
    if let Some(refresh) = refresh {
        store.refresh_tokens.remove(&refresh);
        store
            .access_tokens
            .retain(|_, (_, from)| from.as_deref() != Some(refresh.as_str()));
    }
    Json(json!({})).into_response()
}

/// `POST /_sim/ga4/revoke`: the user removes the app's access in their Google
/// account; every token stops working.
async fn revoke_everything(State(ga): State<Ga4>) -> Response {
    let mut store = lock(&ga.store);
    let revoked = store.refresh_tokens.len();
    store.refresh_tokens.clear();
    store.access_tokens.clear();
    Json(json!({ "revoked": revoked })).into_response()
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(|k| k.trim().to_owned())
}

/// Accepts a live access token the simulator issued, as Google's APIs do; else 401
/// `UNAUTHENTICATED`.
#[allow(clippy::result_large_err)] // a finished response, built once per request
pub(crate) fn authenticate(ga: &Ga4, headers: &HeaderMap) -> Result<(), Response> {
    let live = bearer(headers).is_some_and(|token| {
        lock(&ga.store)
            .access_tokens
            .get(&token)
            .is_some_and(|(expires, _)| *expires > Instant::now())
    });
    if live {
        Ok(())
    } else {
        Err(google_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login \
             cookie or other valid authentication credential. See \
             https://developers.google.com/identity/sign-in/web/devconsole-project.",
        ))
    }
}

/// Google's 403 for a property the user cannot read.
pub(crate) fn permission_denied() -> Response {
    google_error(
        StatusCode::FORBIDDEN,
        "PERMISSION_DENIED",
        "User does not have sufficient permissions for this property. To learn more about \
         Property ID, see https://developers.google.com/analytics/devguides/reporting/data/v1/property-id.",
    )
}

/// Every account the user reads, in order: the named ones, then the agency clients.
fn account_summaries_all() -> Vec<Value> {
    let mut accounts: Vec<(&str, &str)> = Vec::new();
    for p in PROPERTIES.iter().filter(|p| p.readable) {
        if !accounts.iter().any(|(a, _)| *a == p.account) {
            accounts.push((p.account, p.account_name));
        }
    }
    let mut out: Vec<Value> = accounts
        .iter()
        .map(|(account, name)| {
            let number = account.trim_start_matches("accounts/");
            let properties: Vec<Value> = PROPERTIES
                .iter()
                .filter(|p| p.readable && p.account == *account)
                .map(|p| {
                    json!({
                        "property": format!("properties/{}", p.id),
                        "displayName": p.display_name,
                        "propertyType": "PROPERTY_TYPE_ORDINARY",
                        "parent": account,
                    })
                })
                .collect();
            json!({
                "name": format!("accountSummaries/{number}"),
                "account": account,
                "displayName": name,
                "propertySummaries": properties,
            })
        })
        .collect();
    for n in 0..FILLER_ACCOUNTS {
        let account = format!("accounts/{}", 300_000 + n);
        out.push(json!({
            "name": format!("accountSummaries/{}", 300_000 + n),
            "account": account,
            "displayName": format!("Agency client {n}"),
            "propertySummaries": [{
                "property": format!("properties/{}", 320_000_000 + n),
                "displayName": format!("Agency client {n} – GA4"),
                "propertyType": "PROPERTY_TYPE_ORDINARY",
                "parent": account,
            }],
        }));
    }
    out
}

/// `GET /v1beta/accountSummaries`: `pageSize` (default 50, at most 200) and
/// `pageToken` from the previous page's `nextPageToken`.
async fn account_summaries(
    State(ga): State<Ga4>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if let Err(response) = ga.sim.faults.enter(endpoints::GA4_ACCOUNT_SUMMARIES).await {
        return response;
    }
    if let Err(response) = authenticate(&ga, &headers) {
        return response;
    }
    let size = match params.get("pageSize").map(|s| s.parse::<usize>()) {
        None => DEFAULT_PAGE_SIZE,
        Some(Ok(0)) => DEFAULT_PAGE_SIZE,
        Some(Ok(n)) => n.min(200),
        Some(Err(_)) => {
            return google_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", "Invalid value at 'page_size'")
        }
    };
    let start = match params.get("pageToken") {
        None => 0,
        Some(token) => match URL_SAFE_NO_PAD
            .decode(token)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("offset:").and_then(|n| n.parse::<usize>().ok()))
        {
            Some(offset) => offset,
            None => {
                return google_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", "Invalid page token.")
            }
        },
    };
    let all = account_summaries_all();
    let page: Vec<Value> = all.iter().skip(start).take(size).cloned().collect();
    let mut body = json!({ "accountSummaries": page });
    if start + size < all.len() {
        body["nextPageToken"] = json!(URL_SAFE_NO_PAD.encode(format!("offset:{}", start + size)));
    }
    Json(body).into_response()
}

/// `GET /v1beta/properties/{id}`.
async fn get_property(State(ga): State<Ga4>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(response) = ga.sim.faults.enter(endpoints::GA4_PROPERTY).await {
        return response;
    }
    if let Err(response) = authenticate(&ga, &headers) {
        return response;
    }
    let Some(p) = property(&id).filter(|p| p.readable) else {
        return permission_denied();
    };
    let name = if p.id == "filler" {
        let n = id.parse::<u64>().unwrap_or(0).saturating_sub(320_000_000);
        format!("Agency client {n} – GA4")
    } else {
        p.display_name.to_owned()
    };
    Json(json!({
        "name": format!("properties/{id}"),
        "propertyType": "PROPERTY_TYPE_ORDINARY",
        "createTime": "2021-03-01T10:00:00.000Z",
        "updateTime": "2024-01-15T09:30:00.000Z",
        "parent": p.account,
        "displayName": name,
        "industryCategory": "FOOD_AND_DRINK",
        "timeZone": p.time_zone,
        "currencyCode": p.currency,
        "serviceLevel": "GOOGLE_ANALYTICS_STANDARD",
        "account": p.account,
    }))
    .into_response()
}

//! Simulated Shopify: app install OAuth with signed callbacks and the GraphQL
//! Admin API's endpoint (the `shop` query and the data connections are in
//! `graphql.rs`).

use std::{
    collections::HashMap,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{header::RETRY_AFTER, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use base64::{engine::general_purpose::STANDARD_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use url::Url;

use crate::{
    common::{
        faults::Scripted,
        http::{body_params, found, random_token},
        lock,
    },
    provider::Failure,
    shopify::endpoints,
    AppState,
};

/// Shopify's answer to a scripted failure: its plain `{"errors": "…"}` 500
/// or REST-style 429.
pub(crate) fn failure(failure: Failure) -> Response {
    match failure {
        Failure::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "errors": "Internal Server Error" })),
        )
            .into_response(),
        Failure::RateLimited { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            [(RETRY_AFTER, retry_after_secs.to_string())],
            Json(json!({
                "errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
            })),
        )
            .into_response(),
    }
}

/// Issued codes and tokens, each bound to its shop.
#[derive(Debug, Default)]
pub(crate) struct Store {
    /// Unused codes: shop and granted scope.
    codes: HashMap<String, (String, String)>,
    /// Access tokens: shop, scope and expiry.
    access_tokens: HashMap<String, (String, String, Option<Instant>)>,
    /// Refresh tokens (only with a token lifetime): shop and scope.
    refresh_tokens: HashMap<String, (String, String)>,
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/shopify/{shop}/admin/oauth/authorize", get(authorize))
        .route(
            "/shopify/{shop}/admin/oauth/access_token",
            post(access_token),
        )
        .route(
            "/shopify/{shop}/admin/api/{version}/graphql.json",
            post(graphql),
        )
}

/// The install screen, answered at once: a 302 to `redirect_uri` with the
/// parameters Shopify sends, signed with the app secret.
async fn authorize(
    State(sim): State<AppState>,
    Path(shop): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let scripted = match sim.faults.enter(endpoints::SHOPIFY_AUTHORIZE).await {
        Ok(scripted) => scripted,
        Err(response) => return response,
    };
    if !is_shop_domain(&shop) {
        return (StatusCode::NOT_FOUND, "There is no store at this address.").into_response();
    }
    let config = &sim.config.shopify;
    if params.get("client_id") != Some(&config.api_key) {
        return (
            StatusCode::BAD_REQUEST,
            "Oauth error invalid_request: The client_id is invalid",
        )
            .into_response();
    }
    let Some(mut redirect) = params.get("redirect_uri").and_then(|u| Url::parse(u).ok()) else {
        return (
            StatusCode::BAD_REQUEST,
            "Oauth error invalid_request: The redirect_uri is missing or invalid",
        )
            .into_response();
    };
    let state = params.get("state").cloned().unwrap_or_default();

    if scripted == Some(Scripted::DenyConsent) {
        // Shopify itself just leaves the merchant on the admin; the simulator
        // reports the refusal like other providers so the callback can be tested.
        redirect
            .query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("state", &state);
        return found(redirect.as_str());
    }

    let code = hex::encode(rand::random::<[u8; 16]>());
    let scope = params.get("scope").cloned().unwrap_or_default();
    lock(&sim.shopify.tokens)
        .codes
        .insert(code.clone(), (shop.clone(), scope));
    let handle = shop.trim_end_matches(".myshopify.com");
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let mut callback = vec![
        ("code".to_owned(), code),
        (
            "host".to_owned(),
            STANDARD_NO_PAD.encode(format!("admin.shopify.com/store/{handle}")),
        ),
        ("shop".to_owned(), shop.clone()),
        ("state".to_owned(), state),
        ("timestamp".to_owned(), timestamp.to_string()),
    ];
    let hmac = sign(&callback, &config.api_secret);
    callback.insert(0, ("hmac".to_owned(), hmac));
    redirect.query_pairs_mut().extend_pairs(&callback);
    found(redirect.as_str())
}

/// Shopify's callback signature: hex HMAC-SHA256 of the parameters (without
/// `hmac`) sorted by key, `k=v` joined with `&`, where `%` and `&` inside values
/// are percent-escaped.
pub(crate) fn sign(params: &[(String, String)], secret: &str) -> String {
    let mut sorted: Vec<_> = params
        .iter()
        .filter(|(k, _)| k != "hmac")
        .map(|(k, v)| format!("{k}={}", v.replace('%', "%25").replace('&', "%26")))
        .collect();
    sorted.sort();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(sorted.join("&").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// `POST /admin/oauth/access_token` (JSON or form): code exchange, or refresh
/// for expiring tokens.
async fn access_token(
    State(sim): State<AppState>,
    Path(shop): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let scripted = match sim.faults.enter(endpoints::SHOPIFY_TOKEN).await {
        Ok(scripted) => scripted,
        Err(response) => return response,
    };
    let params = body_params(&headers, &body);
    let config = &sim.config.shopify;
    if params.get("client_id") != Some(&config.api_key)
        || params.get("client_secret") != Some(&config.api_secret)
    {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client credentials cannot be found",
        );
    }
    if scripted == Some(Scripted::InvalidGrant) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The grant was revoked (scripted by the simulator).",
        );
    }

    let mut store = lock(&sim.shopify.tokens);
    let scope = if params.get("grant_type").map(String::as_str) == Some("refresh_token") {
        let refresh = params.get("refresh_token").cloned().unwrap_or_default();
        match store.refresh_tokens.remove(&refresh) {
            Some((owner, scope)) if owner == shop => scope,
            _ => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "The refresh token is invalid or expired.",
                )
            }
        }
    } else {
        let code = params.get("code").cloned().unwrap_or_default();
        match store.codes.remove(&code) {
            Some((owner, scope)) if owner == shop => scope,
            _ => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "The authorization code was not found or was already used",
                )
            }
        }
    };

    let access_token = format!("shpat_{}", hex::encode(rand::random::<[u8; 16]>()));
    let lifetime = sim.config.token_lifetime;
    store.access_tokens.insert(
        access_token.clone(),
        (
            shop.clone(),
            scope.clone(),
            lifetime.map(|l| Instant::now() + l),
        ),
    );
    let mut body = json!({ "access_token": access_token, "scope": scope });
    if let Some(lifetime) = lifetime {
        let refresh_token = format!("shprt_{}", random_token(32));
        store
            .refresh_tokens
            .insert(refresh_token.clone(), (shop, scope));
        body["expires_in"] = json!(lifetime.as_secs());
        body["refresh_token"] = json!(refresh_token);
        body["refresh_token_expires_in"] = json!(90 * 24 * 3600);
    }
    Json(body).into_response()
}

/// `POST /admin/api/{version}/graphql.json`: the `shop` query and the data
/// connections (see `graphql.rs`), for a token issued for this shop.
async fn graphql(
    State(sim): State<AppState>,
    Path((shop, _version)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = sim.faults.enter(endpoints::SHOPIFY_GRAPHQL).await {
        return response;
    }
    let token = headers
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let scope = match lock(&sim.shopify.tokens).access_tokens.get(token) {
        Some((owner, scope, expires))
            if *owner == shop && expires.is_none_or(|at| at > Instant::now()) =>
        {
            Some(scope.clone())
        }
        _ => None,
    };
    let Some(scope) = scope else {
        let body = json!({ "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)" });
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    };
    super::graphql::execute(&sim, &shop, &scope, &body)
}

/// Whether `shop` is a `*.myshopify.com` domain (the simulator's own check,
/// independent from the connectors' parser on purpose).
fn is_shop_domain(shop: &str) -> bool {
    shop.strip_suffix(".myshopify.com").is_some_and(|handle| {
        !handle.is_empty()
            && !handle.starts_with('-')
            && handle
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    })
}

/// `acme-store.myshopify.com` → "Acme Store".
pub(crate) fn title_case(shop: &str) -> String {
    shop.trim_end_matches(".myshopify.com")
        .split('-')
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_like_shopifys_documented_example() {
        // Shopify's documentation example, secret "hush".
        let params: Vec<(String, String)> = [
            ("shop", "some-shop.myshopify.com"),
            ("code", "0907a61c0c8d55e99db179b68161bc00"),
            ("timestamp", "1337178173"),
            ("state", "0.6784241404160823"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            sign(&params, "hush"),
            "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"
        );
    }

    #[test]
    fn shop_domains() {
        assert!(is_shop_domain("acme-2.myshopify.com"));
        assert!(!is_shop_domain("evil.com"));
        assert!(!is_shop_domain("x.myshopify.com.evil.com"));
        assert!(!is_shop_domain(".myshopify.com"));
    }

    #[test]
    fn shop_names_from_handles() {
        assert_eq!(title_case("acme-store.myshopify.com"), "Acme Store");
        assert_eq!(title_case("shop1.myshopify.com"), "Shop1");
    }
}

//! The root of the OpenAPI document; each handler adds its own path.

use utoipa::{
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

use crate::error::{ErrorBody, ErrorDetail};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pulseboard API",
        description = "JSON API of Pulseboard. Authenticate with the `pb_session` cookie (from /api/auth/login) \
                       or a personal API token as `Authorization: Bearer pbt_…`. Errors are \
                       `{\"error\": {\"code\", \"message\", \"field\"?}}`.",
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&SecuritySchemes),
    security(("session" = []), ("bearer" = []))
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                super::extract::SESSION_COOKIE,
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Documents the statuses every route answers because of the extractors it uses, so
/// no handler has to repeat them and none can forget them:
///
/// - authenticated (the document's default security): 401 without a valid session or
///   token (`CurrentUser`);
/// - under `/api/orgs/{org_slug}`: 404 for an organization the caller is not a member
///   of, and 403 for a viewer's writes (`OrgScope`);
/// - with path parameters: 400 when one does not parse (`bad_path`), and 404 when an
///   id names nothing the caller can see;
/// - with a JSON body (`ApiJson`): 400 for malformed JSON or a missing content type,
///   413 above `PULSEBOARD_MAX_BODY_BYTES`, 422 for invalid values;
/// - with query parameters (`ApiQuery`): 422 for invalid values;
/// - every route: 503 with `Retry-After` while the database is down, restarting, or
///   has no free connection within `PULSEBOARD_DB_ACQUIRE_TIMEOUT_SECS`.
///
/// Statuses a handler answers for its own reasons (409, 410, 429, an admin-only 403)
/// are on its `#[utoipa::path]`.
///
/// It works on the JSON (what is served): utoipa's types do not read back every
/// document they write.
pub fn with_extractor_statuses(document: utoipa::openapi::OpenApi) -> serde_json::Value {
    let mut doc = serde_json::to_value(&document).expect("the OpenAPI document serializes");
    let default_security = doc["security"].clone();
    let Some(paths) = doc["paths"].as_object_mut() else {
        return doc;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if !["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            let security = op.get("security").unwrap_or(&default_security);
            let authenticated = security.as_array().is_some_and(|reqs| {
                reqs.iter()
                    .any(|r| r.as_object().is_some_and(|r| !r.is_empty()))
            });
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let has_query = params.iter().any(|p| p["in"] == "query");
            let has_path = path.contains('{');
            // Webhooks take the provider's raw bytes (a string schema), not `ApiJson`.
            let raw_body = op["requestBody"]["content"]
                .as_object()
                .is_some_and(|c| c.values().all(|m| m["schema"]["type"] == "string"));
            let has_body = op.get("requestBody").is_some();
            let mut add = |status: &str, description: &str| {
                let responses = op["responses"].as_object_mut().expect("responses");
                responses.entry(status).or_insert_with(|| {
                    serde_json::json!({
                        "description": description,
                        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } }
                    })
                });
            };
            if authenticated {
                add("401", "Not signed in: no valid session cookie or API token");
            }
            if path.starts_with("/api/orgs/{org_slug}") {
                add("404", "No such organization (or the caller is not a member), or no such resource in it");
                if method != "get" {
                    add(
                        "403",
                        "The caller's role does not allow this (viewers only read)",
                    );
                }
            } else if path.contains("_id}") {
                add("404", "Nothing the caller can see has this identifier");
            }
            if has_path {
                add("400", "A path parameter does not parse (`bad_path`)");
            }
            if has_body {
                add("413", "The body is larger than PULSEBOARD_MAX_BODY_BYTES");
            }
            if has_body && !raw_body {
                add(
                    "400",
                    "The body is not JSON, or not sent as `application/json`",
                );
                add("422", "A value is invalid; `field` names it");
            }
            if has_query {
                add("422", "A query parameter is invalid; `field` names it");
            }
            add(
                "503",
                "The database is unavailable or busy; retry after the `Retry-After` seconds",
            );
        }
    }
    doc
}

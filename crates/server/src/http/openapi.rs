//! The root of the OpenAPI document; each handler adds its own path.

use utoipa::{
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

use std::collections::BTreeSet;

use utoipa::{
    openapi::{schema::SchemaType, ObjectBuilder, RefOr, Schema, Type},
    PartialSchema, ToSchema,
};

use crate::{
    domain::{Currency, DisplayName, EmailAddress, OrgSlug, Password, TimeZone},
    error::{ErrorBody, ErrorDetail},
};

/// Control characters that no JSON body may carry (Unicode's Cc, as `char::is_control`,
/// less tab, line feed and carriage return): `ApiJson` refuses them with a 422.
const BODY_CONTROL: &str = r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F";
/// Every control character (Unicode's Cc).
const CONTROL: &str = r"\u0000-\u001F\u007F-\u009F";
/// What `str::trim` removes (Unicode's White_Space) from a string of a JSON body, where
/// `ApiJson` has already refused the ones that are control characters (U+000B, U+000C, U+0085).
const WHITESPACE: &str = r"\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

/// The pattern of a string in a JSON body: no control character but tabs and line breaks.
pub fn body_text_pattern() -> String {
    format!("^[^{BODY_CONTROL}]*$")
}

/// A [`DisplayName`]: 1–100 characters once the spaces around it are trimmed, no
/// control character. (The length is in the pattern: `maxLength` would count the spaces.)
pub fn display_name_pattern() -> String {
    let w = WHITESPACE;
    format!("^[{w}]*[^{w}{CONTROL}](?:[^{CONTROL}]{{0,98}}[^{w}{CONTROL}])?[{w}]*$")
}

/// A dashboard's name or a widget's title: 1–120 characters once the spaces around it
/// are trimmed; inside, no control character but tabs and line breaks.
pub fn title_pattern() -> String {
    let w = WHITESPACE;
    format!("^[{w}]*[^{w}{CONTROL}](?:[^{BODY_CONTROL}]{{0,118}}[^{w}{CONTROL}])?[{w}]*$")
}

/// An [`EmailAddress`]: `local@domain` with a dot inside the domain; no spaces,
/// control characters, `<`, `>` or `,` (the spaces around it are trimmed).
pub fn email_pattern() -> String {
    let w = WHITESPACE;
    let c = format!("@{w}{CONTROL}<>,");
    format!("^[{w}]*[^{c}]+@[^{c}.][^{c}]*\\.[^{c}]*[^{c}.][{w}]*$")
}

fn string_schema() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::Type(Type::String))
}

impl PartialSchema for DisplayName {
    fn schema() -> RefOr<Schema> {
        string_schema()
            .description(Some(
                "A name: 1–100 characters once trimmed, no control characters",
            ))
            .pattern(Some(display_name_pattern()))
            .into()
    }
}
impl ToSchema for DisplayName {}

impl PartialSchema for EmailAddress {
    fn schema() -> RefOr<Schema> {
        string_schema()
            .description(Some("An email address like name@example.com"))
            .max_length(Some(254))
            .pattern(Some(email_pattern()))
            .into()
    }
}
impl ToSchema for EmailAddress {}

impl PartialSchema for Password {
    fn schema() -> RefOr<Schema> {
        string_schema()
            .description(Some("A password of 10–256 characters"))
            .min_length(Some(10))
            .max_length(Some(256))
            .into()
    }
}
impl ToSchema for Password {}

fn enum_schema<'a>(description: &str, values: impl IntoIterator<Item = &'a str>) -> RefOr<Schema> {
    string_schema()
        .description(Some(description))
        .enum_values(Some(values))
        .into()
}

/// A dashboard's name or a widget's title: 1–120 characters once trimmed.
pub struct Title;

impl PartialSchema for Title {
    fn schema() -> RefOr<Schema> {
        string_schema()
            .description(Some("1–120 characters once trimmed"))
            .pattern(Some(title_pattern()))
            .into()
    }
}
impl ToSchema for Title {}

/// A widget type of `GET /api/widget-types`.
pub struct WidgetType;

impl PartialSchema for WidgetType {
    fn schema() -> RefOr<Schema> {
        enum_schema(
            "A widget type (`GET /api/widget-types`)",
            crate::dashboards::model::WIDGET_TYPES
                .iter()
                .map(|(kind, _)| *kind),
        )
    }
}
impl ToSchema for WidgetType {}

/// How wide a widget is.
pub struct WidgetSize;

impl PartialSchema for WidgetSize {
    fn schema() -> RefOr<Schema> {
        enum_schema(
            "How wide a widget is",
            crate::dashboards::model::SIZES.iter().copied(),
        )
    }
}
impl ToSchema for WidgetSize {}

impl PartialSchema for OrgSlug {
    fn schema() -> RefOr<Schema> {
        string_schema()
            .description(Some(
                "Lowercase letters, digits and dashes, 2–63 long, not starting with a dash",
            ))
            .pattern(Some("^[a-z0-9][a-z0-9-]{1,62}$"))
            .into()
    }
}
impl ToSchema for OrgSlug {}

/// The roles an invitation grants (ownership is granted by an owner after joining).
pub struct InviteRole;

impl PartialSchema for InviteRole {
    fn schema() -> RefOr<Schema> {
        enum_schema(
            "The role an invitation grants (an owner can promote a member later)",
            ["admin", "member", "viewer"],
        )
    }
}
impl ToSchema for InviteRole {}

impl PartialSchema for Currency {
    fn schema() -> RefOr<Schema> {
        // Every three-letter code the parser knows, so the document lists exactly those.
        let letters = || b'A'..=b'Z';
        let codes = letters()
            .flat_map(|a| letters().flat_map(move |b| letters().map(move |c| [a, b, c])))
            .filter_map(|code| String::from_utf8(code.to_vec()).ok())
            .filter(|code| Currency::parse(code).is_ok());
        string_schema()
            .description(Some("An ISO 4217 currency code such as USD"))
            .enum_values(Some(codes))
            .into()
    }
}
impl ToSchema for Currency {}

impl PartialSchema for TimeZone {
    fn schema() -> RefOr<Schema> {
        string_schema()
            .description(Some("An IANA time zone such as America/New_York"))
            .enum_values(Some(chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())))
            .into()
    }
}
impl ToSchema for TimeZone {}

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
    with_body_text_patterns(&mut doc);
    doc
}

/// Declares on the strings of JSON bodies (values and object keys) what `ApiJson`
/// enforces: no control characters but tabs and line breaks. Only schemas that no
/// response uses are touched, since responses may carry text from providers.
fn with_body_text_patterns(doc: &mut serde_json::Value) {
    use serde_json::Value;
    fn refs_in(value: &Value, into: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => {
                            if let Some(name) = r.strip_prefix("#/components/schemas/") {
                                into.insert(name.to_string());
                            }
                        }
                        _ => refs_in(v, into),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| refs_in(v, into)),
            _ => {}
        }
    }
    // Every component reachable from `roots`, following references between components.
    let reachable = |doc: &Value, roots: &[&Value]| {
        let mut found = BTreeSet::new();
        roots.iter().for_each(|r| refs_in(r, &mut found));
        let mut queue: Vec<String> = found.iter().cloned().collect();
        while let Some(name) = queue.pop() {
            let mut more = BTreeSet::new();
            refs_in(&doc["components"]["schemas"][&name], &mut more);
            for m in more {
                if found.insert(m.clone()) {
                    queue.push(m);
                }
            }
        }
        found
    };
    let operations: Vec<&Value> = doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
        .collect();
    let bodies: Vec<&Value> = operations.iter().map(|op| &op["requestBody"]).collect();
    let responses: Vec<&Value> = operations.iter().map(|op| &op["responses"]).collect();
    let in_bodies = reachable(doc, &bodies);
    let in_responses = reachable(doc, &responses);
    let pattern = body_text_pattern();
    for name in in_bodies.difference(&in_responses) {
        add_text_pattern(&mut doc["components"]["schemas"][name], &pattern);
    }
    if let Some(paths) = doc["paths"].as_object_mut() {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for op in item.values_mut() {
                let content = op
                    .get_mut("requestBody")
                    .and_then(|body| body.get_mut("content"))
                    .and_then(Value::as_object_mut);
                if let Some(content) = content {
                    for (media, body) in content.iter_mut() {
                        if media == "application/json" {
                            add_text_pattern(&mut body["schema"], &pattern);
                        }
                    }
                }
            }
        }
    }
}

/// Adds `pattern` to the strings of `schema` without a format, enumeration or
/// pattern of their own, and as `propertyNames` to its maps and free-form objects.
fn add_text_pattern(schema: &mut serde_json::Value, pattern: &str) {
    use serde_json::{json, Value};
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    let types: Vec<String> = match map.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(|t| t.as_str().map(String::from))
            .collect(),
        _ => vec![],
    };
    let constrained = ["format", "enum", "const", "pattern"]
        .iter()
        .any(|k| map.contains_key(*k));
    if types.iter().any(|t| t == "string") && !constrained {
        map.insert("pattern".into(), json!(pattern));
    }
    if types.iter().any(|t| t == "object") && !map.contains_key("properties") {
        map.entry("propertyNames")
            .or_insert_with(|| json!({ "pattern": pattern }));
    }
    for key in ["properties"] {
        if let Some(Value::Object(props)) = map.get_mut(key) {
            props
                .values_mut()
                .for_each(|p| add_text_pattern(p, pattern));
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(inner) = map.get_mut(key) {
            add_text_pattern(inner, pattern);
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Array(options)) = map.get_mut(key) {
            options
                .iter_mut()
                .for_each(|o| add_text_pattern(o, pattern));
        }
    }
}

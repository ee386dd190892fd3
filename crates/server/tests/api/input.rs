//! Bad input gets a clear 4xx JSON error naming the problem, and loses nothing.

use reqwest::{header, StatusCode};
use serde_json::json;

use crate::helpers::{expect_error, spawn_app};

#[tokio::test]
async fn malformed_json_unknown_fields_and_wrong_content_type_are_4xx() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let url = app.url("/api/orgs/acme/workspaces");

    let r = ann
        .client
        .post(&url)
        .header(header::CONTENT_TYPE, "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::BAD_REQUEST, "malformed_json").await;

    let r = ann
        .client
        .post(&url)
        .json(&json!({ "name": "X", "colour": "red" }))
        .send()
        .await
        .unwrap();
    let body = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["error"]["field"], "colour");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("colour"));

    let r = ann.client.post(&url).json(&json!({})).send().await.unwrap();
    let body = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["error"]["field"], "name");

    let r = ann
        .client
        .post(&url)
        .json(&json!({ "name": 42 }))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    let r = ann.client.post(&url).body("name=X").send().await.unwrap();
    expect_error(r, StatusCode::BAD_REQUEST, "unsupported_media_type").await;

    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM workspaces")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 1, "only the default workspace exists");
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let huge = "x".repeat(200 * 1024);
    let r = ann
        .client
        .post(app.url("/api/orgs/acme/workspaces"))
        .json(&json!({ "name": huge }))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

#[tokio::test]
async fn invalid_values_name_their_field() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let signup = |body: serde_json::Value| {
        let url = app.url("/api/auth/signup");
        async move {
            reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let cases = [
        (
            json!({ "email": "not-an-email", "password": "long enough pw", "name": "A" }),
            "email",
        ),
        (
            json!({ "email": "a@example.com", "password": "short", "name": "A" }),
            "password",
        ),
        (
            json!({ "email": "a@example.com", "password": "long enough pw", "name": "  " }),
            "name",
        ),
        (
            json!({ "email": "a@example.com", "password": "long enough pw", "name": "A", "store": { "currency": "XYZ" } }),
            "store.currency",
        ),
        (
            json!({ "email": "a@example.com", "password": "long enough pw", "name": "A", "store": { "timezone": "Mars/Base" } }),
            "store.timezone",
        ),
    ];
    for (body, field) in cases {
        let r = signup(body).await;
        let error = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(error["error"]["field"], field);
    }
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(users, 1, "no partial sign-ups");

    let r = ann
        .client
        .post(app.url("/api/orgs"))
        .json(&json!({ "name": "B", "slug": "Bad Slug" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await["error"]
            ["field"],
        "slug"
    );
    let store = json!({ "workspace_id": ann.workspace_id, "name": "S", "currency": "usd", "timezone": "UTC" });
    let r = ann
        .client
        .post(app.url("/api/orgs/acme/stores"))
        .json(&store)
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await["error"]
            ["field"],
        "currency"
    );
    let r = ann
        .client
        .patch(app.url(&format!("/api/orgs/acme/stores/{}", ann.store_id)))
        .json(&json!({ "timezone": "Nowhere" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await["error"]
            ["field"],
        "timezone"
    );
    let r = ann
        .client
        .post(app.url("/api/orgs/acme/invites"))
        .json(&json!({ "email": "x@", "role": "member" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await["error"]
            ["field"],
        "email"
    );
    let r = ann
        .client
        .post(app.url("/api/orgs/acme/invites"))
        .json(&json!({ "email": "x@example.com", "role": "emperor" }))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn bad_ids_and_unknown_routes_get_json_errors() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let r = ann
        .client
        .get(app.url("/api/orgs/acme/stores/not-a-uuid"))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::BAD_REQUEST, "bad_path").await;
    let r = ann
        .client
        .get(app.url("/api/nothing-here"))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::NOT_FOUND, "not_found").await;
    let r = ann.client.put(app.url("/api/me")).send().await.unwrap();
    expect_error(r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    let r = ann
        .client
        .get(app.url("/api/orgs/acme/audit-log?limit=100000"))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let r = ann
        .client
        .get(app.url("/api/orgs/acme/audit-log?bogus=1"))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn control_characters_anywhere_in_a_body_are_a_422_naming_the_field() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    // NUL in a login email used to reach PostgreSQL and come back as a 500.
    let r = reqwest::Client::new()
        .post(app.url("/api/auth/login"))
        .json(&json!({ "email": "ann\u{0}@example.com", "password": "whatever-long" }))
        .send()
        .await
        .unwrap();
    let body = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["error"]["field"], "email");

    let store = ann.store_id;
    let url = app.url("/api/orgs/acme/metrics/query");
    for (query, field) in [
        (
            json!({ "metric": "stripe.gross_revenue\u{1b}[31m", "range": "last_7_days", "scope": { "store": store } }),
            "metric",
        ),
        (
            json!({ "metric": "stripe.gross_revenue", "range": "last_7_days", "scope": { "store": store },
                    "filters": [{ "dimension": "currency", "in": ["usd", "e\u{7f}ur"] }] }),
            "filters[0].in[1]",
        ),
    ] {
        let r = ann.client.post(&url).json(&query).send().await.unwrap();
        let body = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(body["error"]["field"], field);
    }
    // Tabs and line breaks are text, not control codes: a name with one is judged on
    // its own rules (here: accepted after trimming).
    let r = ann
        .client
        .post(app.url("/api/orgs/acme/workspaces"))
        .json(&json!({ "name": "Launch\n" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

/// A JSON Schema `pattern` of the OpenAPI document, compiled as the fuzzer reads it.
fn document_pattern(doc: &serde_json::Value, schema: &str) -> regex::Regex {
    let pattern = doc["components"]["schemas"][schema]["pattern"]
        .as_str()
        .unwrap_or_else(|| panic!("{schema} has a pattern"));
    regex::Regex::new(pattern).unwrap()
}

#[tokio::test]
async fn the_documented_name_and_email_rules_are_the_rules_the_server_applies() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let doc: serde_json::Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // Names: 1–100 characters once trimmed, no control characters. The fuzzer found a
    // name padded to 150 characters with no-break spaces, accepted though `maxLength`
    // said 100, and U+0085 (a space to `trim`, a control code to the body check).
    let name = document_pattern(&doc, "DisplayName");
    let padded = format!("\u{a0}0{}", "\u{a0}".repeat(150));
    let hundred = "n".repeat(100);
    let too_long = "n".repeat(101);
    for (sample, taken) in [
        ("Launch", true),
        ("  Launch  ", true),
        (padded.as_str(), true),
        (hundred.as_str(), true),
        (too_long.as_str(), false),
        ("", false),
        ("   ", false),
        ("Laun\tch", false),
        ("\u{85}Launch", false),
        ("Laun\u{1}ch", false),
    ] {
        assert_eq!(name.is_match(sample), taken, "the document on {sample:?}");
        // API tokens are named like workspaces and stores, and names may repeat.
        let r = ann
            .client
            .post(app.url("/api/me/tokens"))
            .json(&json!({ "name": sample }))
            .send()
            .await
            .unwrap();
        let expected = if taken {
            StatusCode::CREATED
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        assert_eq!(r.status(), expected, "the server on {sample:?}");
    }

    // Email addresses, as a password reset reads them (202 whether or not one exists).
    let email = document_pattern(&doc, "EmailAddress");
    for (sample, taken) in [
        ("ann@example.com", true),
        (" Ann@Example.com ", true),
        ("z?@y.org*", true),
        ("a@b..c", true),
        ("a@b", false),
        ("a@.com", false),
        ("a@b.", false),
        ("@b.com", false),
        ("a b@c.de", false),
        ("<a@b.com>", false),
        ("a@b@c.de", false),
    ] {
        assert_eq!(email.is_match(sample), taken, "the document on {sample:?}");
        let r = reqwest::Client::new()
            .post(app.url("/api/auth/password-reset"))
            .json(&json!({ "email": sample }))
            .send()
            .await
            .unwrap();
        let expected = if taken {
            StatusCode::ACCEPTED
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        assert_eq!(r.status(), expected, "the server on {sample:?}");
    }
}

#[tokio::test]
async fn the_document_lists_the_values_and_limits_the_server_takes() {
    let app = spawn_app().await;
    let doc: serde_json::Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let schemas = &doc["components"]["schemas"];
    let values = |schema: &str| -> Vec<String> {
        schemas[schema]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{schema} is an enumeration"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(values("InviteRole"), ["admin", "member", "viewer"]);
    assert_eq!(values("Visibility"), ["private", "workspace", "public"]);
    assert_eq!(values("WidgetSize"), ["small", "medium", "large", "full"]);
    assert!(values("WidgetType").contains(&"kpi_card".to_string()));
    let currencies = values("Currency");
    assert!(currencies.contains(&"EUR".into()) && currencies.contains(&"JPY".into()));
    assert!(!currencies.contains(&"XYZ".into()) && !currencies.contains(&"usd".into()));
    let zones = values("TimeZone");
    assert!(zones.contains(&"Europe/Paris".into()) && zones.contains(&"UTC".into()));
    assert!(!zones.contains(&"Mars/Olympus".into()));

    // Plain strings of request bodies refuse what `ApiJson` refuses: control characters
    // other than tabs and line breaks. Response schemas are left alone (providers'
    // text comes back in them).
    let invite_token = &schemas["SignupRequest"]["properties"]["invite_token"];
    let plain = regex::Regex::new(invite_token["pattern"].as_str().unwrap()).unwrap();
    assert!(plain.is_match("pbi_abc\tdef\n"));
    assert!(!plain.is_match("pbi_\u{0}abc") && !plain.is_match("pbi_\u{9b}abc"));
    assert!(schemas["Store"]["properties"]["name"]["pattern"].is_null());
    let org_slug = regex::Regex::new(schemas["OrgSlug"]["pattern"].as_str().unwrap()).unwrap();
    assert!(org_slug.is_match("acme-2") && !org_slug.is_match("-acme") && !org_slug.is_match("a"));

    // Numbers with the bounds their handlers check.
    let token_days = &schemas["CreateTokenRequest"]["properties"]["expires_in_days"];
    assert_eq!(
        (
            token_days["minimum"].as_u64(),
            token_days["maximum"].as_u64()
        ),
        (Some(1), Some(3650))
    );
    // A signup through an invitation that does not exist is a documented 404.
    assert!(doc["paths"]["/api/auth/signup"]["post"]["responses"]["404"].is_object());
}

#[tokio::test]
async fn a_body_must_be_a_json_object_and_whole_numbers_fill_integer_fields() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    // serde reads a struct from an array of its fields: `[null, null]` renamed nothing
    // but answered 200 (the fuzzer's find); the document says every body is an object.
    let store_url = app.url(&format!("/api/orgs/acme/stores/{}", ann.store_id));
    let r = ann
        .client
        .patch(&store_url)
        .json(&json!(["Renamed", null, null]))
        .send()
        .await
        .unwrap();
    let body = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["error"]["field"], "body");
    let store: serde_json::Value = ann
        .client
        .get(&store_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(store["name"], "My store", "nothing changed");

    // JSON does not tell 30.0 from 30: an integer field takes either, but not 30.5.
    for (days, status) in [
        (json!(30.0), StatusCode::CREATED),
        (json!(30.5), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let r = ann
            .client
            .post(app.url("/api/me/tokens"))
            .json(&json!({ "name": "CI", "expires_in_days": days }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "expires_in_days {days}");
    }
}

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

//! Health, readiness, metrics, OpenAPI, request ids, logs.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_and_readiness_report_the_database_and_migrations() {
    let app = spawn_app().await;
    assert_eq!(
        reqwest::get(app.url("/healthz")).await.unwrap().status(),
        StatusCode::OK
    );
    let ready = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["migrations_current"], true);

    // A migration missing from the database makes the instance not ready.
    sqlx::query("DELETE FROM _sqlx_migrations")
        .execute(&app.db)
        .await
        .unwrap();
    let ready = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    app.signup("ann@example.com", "Acme").await;
    reqwest::get(app.url("/api/me")).await.unwrap();
    let text = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains(r#"pulseboard_http_requests_total{method="POST",route="/api/auth/signup",status="201"} 1"#), "{text}");
    assert!(
        text.contains(
            r#"pulseboard_http_requests_total{method="GET",route="/api/me",status="401"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains("pulseboard_http_request_duration_seconds_bucket"));
    assert!(text.contains("pulseboard_db_pool_connections"));
}

#[tokio::test]
async fn every_api_route_is_in_the_openapi_document_and_responses_carry_a_request_id() {
    let app = spawn_app().await;
    let response = reqwest::get(app.url("/api/openapi.json")).await.unwrap();
    assert!(response.headers().contains_key("x-request-id"));
    let doc: Value = response.json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for expected in [
        "/api/auth/signup",
        "/api/auth/login",
        "/api/auth/logout",
        "/api/me",
        "/api/me/tokens",
        "/api/orgs",
        "/api/orgs/{org_slug}",
        "/api/orgs/{org_slug}/members/{user_id}",
        "/api/orgs/{org_slug}/invites",
        "/api/invites/accept",
        "/api/orgs/{org_slug}/workspaces/{workspace_id}/members/{user_id}",
        "/api/orgs/{org_slug}/stores/{store_id}",
    ] {
        assert!(
            paths.contains_key(expected),
            "{expected} missing from the OpenAPI document"
        );
    }
    // The document and the router come from the same handlers: every documented route answers.
    for (path, item) in paths {
        if path.contains('{') {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let status = reqwest::Client::new()
                .request(method.clone(), app.url(path))
                .send()
                .await
                .unwrap()
                .status();
            assert_ne!(
                status,
                StatusCode::NOT_FOUND,
                "{method} {path} is documented but not routed"
            );
            assert_ne!(
                status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is documented but not routed"
            );
        }
    }
}

#[tokio::test]
async fn with_a_metrics_token_metrics_need_it_as_a_bearer_token() {
    let app = crate::helpers::spawn_app_with(|c| {
        c.metrics_token = Some(secrecy::SecretString::from("scrape-me-please"));
    })
    .await;
    let metrics = |auth: Option<&'static str>| {
        let mut request = reqwest::Client::new().get(app.url("/metrics"));
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        request.send()
    };
    for refused in [None, Some("Bearer wrong"), Some("Basic c2NyYXBlOm1l")] {
        let r = metrics(refused).await.unwrap();
        crate::helpers::expect_error(r, reqwest::StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }
    let ok = metrics(Some("Bearer scrape-me-please")).await.unwrap();
    assert_eq!(ok.status(), reqwest::StatusCode::OK);
    assert!(ok
        .text()
        .await
        .unwrap()
        .contains("pulseboard_http_requests_total"));
}

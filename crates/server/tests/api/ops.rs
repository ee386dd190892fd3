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

/// The value of one sample line of a Prometheus text page, if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn scrape(app: &crate::helpers::TestApp) -> String {
    reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn metrics_show_the_queue_sync_failures_lag_outboxes_and_request_errors() {
    use crate::sync::{run_all, small_history, stripe_store};
    let (app, sim) = crate::helpers::spawn_app_with_simulator(small_history(20)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (_store, integration) = stripe_store(&app, &ann, "UTC").await;

    // A job that has waited 90 s for a worker.
    sqlx::query(
        "UPDATE sync_jobs SET run_after = now() - interval '90 seconds' WHERE integration_id = $1",
    )
    .bind(integration)
    .execute(&app.db)
    .await
    .unwrap();
    let text = scrape(&app).await;
    assert_eq!(
        sample(&text, r#"pulseboard_sync_jobs{status="queued"}"#),
        Some(1.0),
        "{text}"
    );
    let waited = sample(&text, "pulseboard_sync_oldest_queued_job_age_seconds").unwrap();
    assert!((90.0..120.0).contains(&waited), "{waited}");
    // Never synced: the lag counts from the connection (moments ago).
    let lag = sample(&text, r#"pulseboard_sync_lag_seconds{provider="stripe"}"#).unwrap();
    assert!((0.0..60.0).contains(&lag), "{lag}");

    // A rate-limited run is a failure of its class; the retry then succeeds.
    sim.rate_limit("stripe.customers", 10, std::time::Duration::from_secs(120));
    assert_eq!(run_all(&app).await, 1);
    sim.clear_faults();
    sqlx::query("UPDATE sync_jobs SET run_after = now() WHERE integration_id = $1")
        .bind(integration)
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(run_all(&app).await, 1);
    // The synced integration went stale three hours ago: the lag says so.
    sqlx::query(
        "UPDATE integrations SET last_synced_at = now() - interval '3 hours' WHERE id = $1",
    )
    .bind(integration)
    .execute(&app.db)
    .await
    .unwrap();
    reqwest::get(app.url("/api/me")).await.unwrap();
    let text = scrape(&app).await;
    assert_eq!(
        sample(
            &text,
            r#"pulseboard_sync_failures_total{provider="stripe",reason="rate_limited"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"pulseboard_sync_jobs{status="queued"}"#),
        Some(0.0)
    );
    assert_eq!(
        sample(&text, "pulseboard_sync_oldest_queued_job_age_seconds"),
        Some(0.0)
    );
    let lag = sample(&text, r#"pulseboard_sync_lag_seconds{provider="stripe"}"#).unwrap();
    assert!((10_800.0..10_860.0).contains(&lag), "{lag}");
    assert_eq!(
        sample(
            &text,
            r#"pulseboard_http_request_errors_total{class="4xx",route="/api/me"}"#
        ),
        Some(1.0),
        "{text}"
    );
    // The outbox gauges equal the table's own counts.
    let (pending, failed): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NULL),
                count(*) FILTER (WHERE failed_at IS NOT NULL) FROM email_outbox",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    sqlx::query("UPDATE email_outbox SET failed_at = now() WHERE id = (SELECT id FROM email_outbox LIMIT 1)")
        .execute(&app.db)
        .await
        .unwrap();
    let text = scrape(&app).await;
    let marked = i64::from(pending > 0);
    assert_eq!(
        sample(
            &text,
            r#"pulseboard_outbox_pending_messages{channel="email"}"#
        ),
        Some((pending - marked) as f64),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"pulseboard_outbox_failed_messages{channel="email"}"#
        ),
        Some((failed + marked) as f64)
    );
    assert_eq!(
        sample(
            &text,
            r#"pulseboard_outbox_pending_messages{channel="slack"}"#
        ),
        Some(0.0)
    );
}

#[tokio::test]
async fn readiness_says_which_process_is_the_scheduler_and_how_many_workers_run() {
    let app = crate::helpers::spawn_app_with(|c| c.sync.workers = 2).await;
    // The scheduler's first pass runs as the app starts; wait for it (bounded).
    let mut body = Value::Null;
    for _ in 0..100 {
        body = reqwest::get(app.url("/readyz"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if body["scheduler"] == "leader" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(body["scheduler"], "leader", "{body}");
    assert_eq!(body["workers"]["running"], 2, "{body}");
    assert_eq!(body["workers"]["busy"], 0, "{body}");

    // A second instance on the same database stands by.
    let dir = tempfile::tempdir().unwrap();
    let mut config =
        crate::helpers::test_config(Some(app.database_url.clone()), dir.path().to_path_buf());
    config.sync.workers = 0;
    let second = pulseboard_server::Application::build(config).await.unwrap();
    let base = format!("http://127.0.0.1:{}", second.port());
    let stop = second.shutdown_token();
    tokio::spawn(second.run_until_stopped());
    let mut body = Value::Null;
    for _ in 0..100 {
        body = reqwest::get(format!("{base}/readyz"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if body["scheduler"] != "not_running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    stop.cancel();
    assert_eq!(body["scheduler"], "standby", "{body}");
    assert_eq!(body["workers"]["running"], 0, "{body}");
    assert_eq!(body["status"], "ready");
}

#[test]
fn the_grafana_dashboard_is_valid_json_and_uses_only_metrics_the_server_exports() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("../../docs/grafana-dashboard.json")).unwrap(),
    )
    .expect("docs/grafana-dashboard.json is JSON");
    let exported = std::fs::read_to_string(root.join("src/telemetry.rs")).unwrap();
    let panels = dashboard["panels"].as_array().unwrap();
    assert!(panels.len() >= 8);
    let mut names = 0;
    for target in panels.iter().flat_map(|p| p["targets"].as_array().unwrap()) {
        let expr = target["expr"].as_str().unwrap();
        for (at, _) in expr.match_indices("pulseboard_") {
            let name: String = expr[at + "pulseboard_".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let base = name.strip_suffix("_bucket").unwrap_or(&name);
            assert!(
                exported.contains(&format!("\"{base}\"")),
                "{name} is not exported"
            );
            names += 1;
        }
    }
    assert!(names >= 14, "{names}");
}

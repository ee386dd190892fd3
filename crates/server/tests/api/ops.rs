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

/// Every operation of the document with what a client must know about it.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                ops.push((method.clone(), path.clone(), op.clone()));
            }
        }
    }
    ops
}

fn needs_auth(doc: &Value, op: &Value) -> bool {
    let security = op.get("security").unwrap_or(&doc["security"]);
    security.as_array().is_some_and(|reqs| {
        reqs.iter()
            .any(|r| r.as_object().is_some_and(|r| !r.is_empty()))
    })
}

/// A path with every parameter filled with a value that parses.
fn concrete(path: &str, org_slug: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').unwrap() + start;
        out.push_str(&rest[..start]);
        out.push_str(match &rest[start + 1..end] {
            "org_slug" => org_slug,
            "provider" => "stripe",
            name if name.ends_with("_id") => "00000000-0000-0000-0000-000000000000",
            _ => "x",
        });
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The document is honest about who may call what and how input is refused, so a
/// client generated from it handles every answer, and the next route cannot forget:
/// an authenticated operation documents 401 and really answers 401 without
/// credentials; a public one really does not; an operation with a JSON body or query
/// parameters documents 422.
#[tokio::test]
async fn every_operation_documents_its_authentication_and_validation_answers() {
    // With a cron secret, the cron routes are bearer-authenticated (without one they are off: 403).
    let app = crate::helpers::spawn_app_with(|c| {
        c.cron_secret = Some(secrecy::SecretString::from("a-cron-secret-for-tests"));
    })
    .await;
    let doc: Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut problems = Vec::new();
    let ops = operations(&doc);
    assert!(ops.len() > 100, "the document lists every operation");
    for (method, path, op) in &ops {
        let responses = op["responses"].as_object().unwrap();
        // A query struct documented without `#[into_params(parameter_in = Query)]`
        // comes out as a required path parameter the path does not have.
        for param in op["parameters"].as_array().into_iter().flatten() {
            let name = param["name"].as_str().unwrap();
            if param["in"] == "path" && !path.contains(&format!("{{{name}}}")) {
                problems.push(format!(
                    "{method} {path}: `{name}` is documented as a path parameter"
                ));
            }
        }
        let auth = needs_auth(&doc, op);
        if auth && !responses.contains_key("401") {
            problems.push(format!("{method} {path}: needs auth but documents no 401"));
        }
        let json_body = op["requestBody"]["content"]
            .as_object()
            .is_some_and(|c| c.values().any(|m| m["schema"]["type"] != "string"));
        let query = op["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
        if (json_body || query) && !responses.contains_key("422") {
            problems.push(format!("{method} {path}: takes input but documents no 422"));
        }
        // What the server really does without credentials.
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let mut request = anonymous.request(method.clone(), app.url(&concrete(path, "acme")));
        if json_body {
            request = request.json(&serde_json::json!({}));
        }
        let status = request.send().await.unwrap().status();
        if auth && status != StatusCode::UNAUTHORIZED {
            problems.push(format!("{method} {path}: documented as authenticated, answered {status} without credentials"));
        }
        if !auth && status == StatusCode::UNAUTHORIZED {
            problems.push(format!(
                "{method} {path}: documented as public (security: []), answered 401"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A declared `maximum` on a query parameter is enforced: one more is a 422 naming
/// the parameter, the maximum itself is accepted.
#[tokio::test]
async fn declared_query_maximums_are_enforced() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let doc: Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut checked = 0;
    for (method, path, op) in operations(&doc) {
        let Some(params) = op["parameters"].as_array() else {
            continue;
        };
        for param in params.iter().filter(|p| p["in"] == "query") {
            let Some(max) = param["schema"]["maximum"].as_i64() else {
                continue;
            };
            assert_eq!(method, "get", "{path}: only GETs take a limit");
            let name = param["name"].as_str().unwrap();
            let url = app.url(&concrete(&path, &ann.org_slug));
            let at_max = ann
                .client
                .get(&url)
                .query(&[(name, max)])
                .send()
                .await
                .unwrap();
            assert_eq!(at_max.status(), StatusCode::OK, "{path}?{name}={max}");
            let over = ann
                .client
                .get(&url)
                .query(&[(name, max + 1)])
                .send()
                .await
                .unwrap();
            let body = crate::helpers::expect_error(
                over,
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            )
            .await;
            assert_eq!(body["error"]["field"], name, "{path}");
            if let Some(min) = param["schema"]["minimum"].as_i64() {
                let under = ann
                    .client
                    .get(&url)
                    .query(&[(name, min - 1)])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(
                    under.status(),
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{path}?{name}={}",
                    min - 1
                );
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 4,
        "the limits of the audit log, mailbox, sync jobs and alert events: {checked}"
    );
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

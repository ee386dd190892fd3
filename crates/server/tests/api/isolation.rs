//! API-level isolation, generated from the OpenAPI document: every org-scoped route
//! is exercised, so a route added later is covered without editing this file
//! (unless it introduces a new kind of path parameter or a write needing a body).

use std::collections::HashMap;

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, TestUser};

struct Route {
    method: Method,
    template: String,
}

async fn org_routes(app: &TestApp) -> Vec<Route> {
    let doc: Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/orgs/{org_slug}") {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            routes.push(Route {
                method,
                template: path.clone(),
            });
        }
    }
    assert!(
        routes.len() >= 20,
        "expected the org-scoped routes, found {}",
        routes.len()
    );
    routes
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// POST routes that only read (viewers may call them); they change nothing either.
const READ_ONLY_POSTS: &[&str] = &[
    "/api/orgs/{org_slug}/metrics/query",
    "/api/orgs/{org_slug}/widgets/preview",
    "/api/orgs/{org_slug}/metrics/explain",
];

/// A valid body for each write route, so that a refusal is about tenancy or role and
/// never about the body. A new write route must add one here (the test says so).
fn sample_body(method: &Method, template: &str, ids: &HashMap<&str, String>) -> Option<Value> {
    let key = format!(
        "{method} {}",
        template.trim_start_matches("/api/orgs/{org_slug}")
    );
    Some(match key.as_str() {
        "PATCH " => json!({ "name": "Renamed" }),
        "PATCH /members/{user_id}" => json!({ "role": "member" }),
        "POST /invites" => json!({ "email": "new@example.com", "role": "member" }),
        "POST /workspaces" => json!({ "name": "Fresh" }),
        "PATCH /workspaces/{workspace_id}" => json!({ "name": "Renamed" }),
        "PUT /workspaces/{workspace_id}/members/{user_id}" => json!({ "role": "editor" }),
        "POST /stores" => {
            json!({ "workspace_id": ids["workspace_id"], "name": "S", "currency": "USD", "timezone": "UTC" })
        }
        "PATCH /stores/{store_id}" => json!({ "name": "Renamed" }),
        "POST /integrations/{provider}/api-key" => {
            json!({ "store_id": ids["store_id"], "fields": { "api_key": "rk_test_never_checked" } })
        }
        "PATCH /integrations/{integration_id}" => json!({ "cadence_minutes": 60, "options": {} }),
        "POST /integrations/{integration_id}/account" => json!({ "account": "123456789" }),
        "POST /dashboards" => json!({ "workspace_id": ids["workspace_id"], "name": "New" }),
        "PATCH /dashboards/{dashboard_id}" => json!({ "name": "Renamed" }),
        "POST /dashboards/{dashboard_id}/widgets" => json!({
            "type": "kpi_card", "title": "MRR",
            "query_config": { "metric": "stripe.mrr", "range": "last_7_days", "scope": { "store": ids["store_id"] } }
        }),
        "PATCH /dashboards/{dashboard_id}/widgets/{widget_id}" => json!({ "title": "Renamed" }),
        "POST /widgets/preview" => json!({
            "type": "review_feed", "query_config": { "scope": { "store": ids["store_id"] } }
        }),
        "POST /dashboards/from-template" => {
            json!({ "template": "saas_revenue", "store_id": ids["store_id"] })
        }
        "POST /dashboards/{dashboard_id}/shares" => json!({}),
        "POST /pulse/shares" => json!({ "store_id": ids["store_id"] }),
        "POST /alerts" | "PUT /alerts/{alert_id}" => json!({
            "name": "Revenue dipped", "metric": "stripe.gross_revenue", "scope": { "store": ids["store_id"] },
            "kind": "below", "threshold": 1000
        }),
        "POST /alerts/{alert_id}/snooze" => json!({ "hours": 2 }),
        "POST /alerts/{alert_id}/test" => return Some(Value::Null),
        "POST /integrations/{integration_id}/webhook" => {
            json!({ "secret": "whsec_isolation_secret" })
        }
        "PUT /notifications" => {
            json!({ "digest": false, "digest_everything": false, "alert_mail": false })
        }
        "POST /dashboards/{dashboard_id}/duplicate" => return Some(Value::Null),
        "POST /metrics/query" | "POST /metrics/explain" => {
            json!({ "metric": "stripe.gross_revenue", "range": "last_30_days", "scope": { "store": ids["store_id"] } })
        }
        "POST /slack-channels" => json!({
            "name": "#growth",
            "webhook_url": "https://hooks.slack.com/services/T000/B000/isolationsecret"
        }),
        "POST /integrations/{provider}/connect" => {
            json!({ "store_id": ids["store_id"], "shop": "isolation.myshopify.com" })
        }
        // Takes no body.
        "POST /integrations/{integration_id}/reconnect"
        | "POST /integrations/{integration_id}/sync" => return Some(Value::Null),
        _ if method == Method::DELETE => return Some(Value::Null),
        _ => return None,
    })
}

fn fill(template: &str, ids: &HashMap<&str, String>) -> String {
    let mut path = template.to_string();
    while let Some(start) = path.find('{') {
        let end = path[start..].find('}').unwrap() + start;
        let name = &path[start + 1..end];
        let value = ids.get(name).unwrap_or_else(|| {
            panic!("no fixture for path parameter `{name}` in {template}: add one to the isolation test's id map")
        });
        path.replace_range(start..=end, value);
    }
    path
}

async fn call(
    client: &Client,
    app: &TestApp,
    method: &Method,
    path: &str,
    body: &Option<Value>,
) -> (StatusCode, String) {
    let mut request = client.request(method.clone(), app.url(path));
    if let Some(body) = body.as_ref().filter(|b| !b.is_null()) {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    // An event stream never ends: its status (and headers) are the answer.
    let streaming = response.headers().get("content-type").is_some_and(|v| {
        v.to_str()
            .unwrap_or_default()
            .starts_with("text/event-stream")
    });
    if streaming {
        return (response.status(), String::new());
    }
    (response.status(), response.text().await.unwrap())
}

struct World {
    a: TestUser,
    b: TestUser,
    viewer: Client,
    a_ids: HashMap<&'static str, String>,
    b_ids_with_a_objects: HashMap<&'static str, String>,
}

async fn world(app: &TestApp) -> World {
    let a = app.signup("alice@a.example", "Org A").await;
    let b = app.signup("bob@b.example", "Org B").await;
    let (viewer, viewer_id) = app.join(&a, "vic@a.example", "viewer").await;
    app.invite(&a, "pending@a.example", "member").await;
    let invites: Value = a
        .client
        .get(app.url(&format!("/api/orgs/{}/invites", a.org_slug)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let invite_id = invites
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["accepted_at"].is_null())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let integration_id: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO integrations (id, org_id, store_id, provider, auth_kind, external_account_id, account_label, cadence_minutes)
         VALUES (gen_random_uuid(), $1, $2, 'stripe', 'api_key', 'acct_a', 'A account', 15) RETURNING id",
    )
    .bind(a.org_id)
    .bind(a.store_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    // A dashboard from a template (with widgets) and a share link of it.
    let dashboard: Value = a
        .client
        .post(app.url(&format!(
            "/api/orgs/{}/dashboards/from-template",
            a.org_slug
        )))
        .json(&json!({ "template": "saas_revenue", "store_id": a.store_id }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dashboard_id = dashboard["id"]
        .as_str()
        .expect("dashboard created")
        .to_string();
    let widget_id = dashboard["widgets"][0]["id"].as_str().unwrap().to_string();
    let share: Value = a
        .client
        .post(app.url(&format!(
            "/api/orgs/{}/dashboards/{dashboard_id}/shares",
            a.org_slug
        )))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let share_id = share["id"].as_str().expect("share created").to_string();
    let pulse_share: Value = a
        .client
        .post(app.url(&format!("/api/orgs/{}/pulse/shares", a.org_slug)))
        .json(&json!({ "store_id": a.store_id }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pulse_share_id = pulse_share["id"]
        .as_str()
        .expect("pulse share created")
        .to_string();
    let channel: Value = a
        .client
        .post(app.url(&format!("/api/orgs/{}/slack-channels", a.org_slug)))
        .json(&json!({ "name": "#a", "webhook_url": "https://hooks.slack.com/services/TA/BA/secretofa" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let slack_channel_id = channel["id"].as_str().expect("channel created").to_string();
    let alert: Value = a
        .client
        .post(app.url(&format!("/api/orgs/{}/alerts", a.org_slug)))
        .json(
            &json!({ "name": "Revenue dipped", "metric": "stripe.gross_revenue",
                       "scope": { "store": a.store_id }, "kind": "below", "threshold": 1000 }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let alert_id = alert["id"].as_str().expect("alert created").to_string();
    let a_ids: HashMap<&str, String> = HashMap::from([
        ("dashboard_id", dashboard_id),
        ("widget_id", widget_id),
        ("share_id", share_id),
        ("pulse_share_id", pulse_share_id),
        ("integration_id", integration_id.to_string()),
        ("provider", "stripe".to_string()),
        ("org_slug", a.org_slug.clone()),
        ("workspace_id", a.workspace_id.to_string()),
        ("store_id", a.store_id.to_string()),
        ("user_id", viewer_id.to_string()),
        ("invite_id", invite_id),
        ("slack_channel_id", slack_channel_id),
        ("alert_id", alert_id),
    ]);
    let mut b_ids_with_a_objects = a_ids.clone();
    b_ids_with_a_objects.insert("org_slug", b.org_slug.clone());
    World {
        a,
        b,
        viewer,
        a_ids,
        b_ids_with_a_objects,
    }
}

async fn snapshot(app: &TestApp, org: uuid::Uuid) -> Value {
    sqlx::query_scalar(
        "SELECT jsonb_build_object(
            'org', (SELECT to_jsonb(o) - 'created_at' FROM organizations o WHERE id = $1),
            'members', (SELECT jsonb_agg(to_jsonb(m) ORDER BY user_id) FROM org_members m WHERE org_id = $1),
            'workspaces', (SELECT jsonb_agg(to_jsonb(w) ORDER BY id) FROM workspaces w WHERE org_id = $1),
            'workspace_members', (SELECT jsonb_agg(to_jsonb(w) ORDER BY workspace_id, user_id) FROM workspace_members w WHERE org_id = $1),
            'stores', (SELECT jsonb_agg(to_jsonb(s) ORDER BY id) FROM stores s WHERE org_id = $1),
            'invites', (SELECT jsonb_agg(to_jsonb(i) ORDER BY id) FROM invites i WHERE org_id = $1),
            'integrations', (SELECT jsonb_agg(to_jsonb(i) ORDER BY id) FROM integrations i WHERE org_id = $1),
            'alerts', (SELECT jsonb_agg(to_jsonb(a) ORDER BY id) FROM alerts a WHERE org_id = $1),
            'preferences', (SELECT jsonb_agg(to_jsonb(p) ORDER BY user_id) FROM notification_preferences p WHERE org_id = $1))",
    )
    .bind(org)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn another_orgs_member_gets_404_on_every_org_route_and_changes_nothing() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let before = snapshot(&app, w.a.org_id).await;
    let a_secrets = [
        w.a.org_slug.clone(),
        w.a.workspace_id.to_string(),
        w.a.store_id.to_string(),
        "Org A".to_string(),
    ];
    let mut missing_bodies = Vec::new();

    for route in org_routes(&app).await {
        let body = sample_body(&route.method, &route.template, &w.a_ids);
        if body.is_none() && is_write(&route.method) {
            missing_bodies.push(format!("{} {}", route.method, route.template));
            continue;
        }
        // B's member names org A directly…
        let path = fill(&route.template, &w.a_ids);
        let (status, text) = call(&w.b.client, &app, &route.method, &path, &body).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{} {path} as org B's owner: {text}",
            route.method
        );
        // …or names its own org with org A's object ids.
        let names_a_object = route.template.matches('{').count() > 1
            || body
                .as_ref()
                .is_some_and(|b| b.to_string().contains(&w.a.workspace_id.to_string()));
        if names_a_object {
            let path = fill(&route.template, &w.b_ids_with_a_objects);
            let (status, text) = call(&w.b.client, &app, &route.method, &path, &body).await;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{} {path} (B's slug, A's ids): {text}",
                route.method
            );
            for secret in &a_secrets[1..] {
                assert!(
                    !text.contains(secret.as_str()) || text.contains("\"code\":\"not_found\""),
                    "{path} leaked {secret}"
                );
            }
        }
        for secret in &a_secrets {
            assert!(
                !text.contains(&format!("\"{secret}\"")),
                "{path} leaked org A data: {text}"
            );
        }
    }
    assert!(
        missing_bodies.is_empty(),
        "add sample bodies to the isolation test for: {missing_bodies:?}"
    );
    assert_eq!(
        snapshot(&app, w.a.org_id).await,
        before,
        "org A's data changed"
    );
}

#[tokio::test]
async fn a_viewer_is_refused_every_write_and_can_read() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let before = snapshot(&app, w.a.org_id).await;
    for route in org_routes(&app).await {
        let path = fill(&route.template, &w.a_ids);
        let body = sample_body(&route.method, &route.template, &w.a_ids);
        let (status, text) = call(&w.viewer, &app, &route.method, &path, &body).await;
        if READ_ONLY_POSTS.contains(&route.template.as_str()) {
            // A read: never refused for the role (RLS may still hide a store).
            assert!(
                status == StatusCode::OK || status == StatusCode::NOT_FOUND,
                "{} {path} is a read: {status} {text}",
                route.method
            );
        } else if is_write(&route.method) {
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{} {path} as a viewer: {text}",
                route.method
            );
        } else {
            // Reads are allowed, except the admin-only pages.
            assert!(
                status == StatusCode::OK
                    || status == StatusCode::FORBIDDEN
                    || status == StatusCode::NOT_FOUND,
                "{} {path}: {status} {text}",
                route.method
            );
            assert!(!status.is_server_error());
        }
    }
    assert_eq!(
        snapshot(&app, w.a.org_id).await,
        before,
        "a viewer changed org A's data"
    );
    let stores = w
        .viewer
        .get(app.url(&format!("/api/orgs/{}", w.a.org_slug)))
        .send()
        .await
        .unwrap();
    assert_eq!(stores.status(), StatusCode::OK);
}

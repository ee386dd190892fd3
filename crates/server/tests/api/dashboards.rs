//! Dashboards end to end: a template's widgets return numbers equal to the metrics
//! service's, CRO widgets say which provider they await, the builder edits, share
//! links are scoped, revocable and useless elsewhere, CSV exports read well.

use reqwest::{header, StatusCode};
use serde_json::{json, Value};

use crate::{
    helpers::{expect_error, spawn_app_with_simulator, TestApp, TestUser},
    sync::{run_all, small_history, stripe_store},
};

async fn get(app: &TestApp, user: &TestUser, path: &str) -> Value {
    let response = user.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_template_dashboard_returns_every_widget_in_one_call_and_shares_safely() {
    let (app, _sim) = spawn_app_with_simulator(small_history(60)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (store, _) = stripe_store(&app, &ann, "UTC").await;
    run_all(&app).await;
    let (viewer, viewer_id) = app.join(&ann, "vic@example.com", "viewer").await;
    let added = ann
        .client
        .put(app.url(&format!(
            "/api/orgs/acme/workspaces/{}/members/{viewer_id}",
            ann.workspace_id
        )))
        .json(&json!({ "role": "viewer" }))
        .send()
        .await
        .unwrap();
    assert!(added.status().is_success(), "{}", added.status());

    let created = ann
        .client
        .post(app.url("/api/orgs/acme/dashboards/from-template"))
        .json(&json!({ "template": "saas_revenue", "store_id": store }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let dashboard: Value = created.json().await.unwrap();
    let id = dashboard["id"].as_str().unwrap().to_owned();
    let widgets = dashboard["widgets"].as_array().unwrap().clone();
    assert_eq!(dashboard["layout"]["columns"], 2);
    let placed: usize = dashboard["layout"]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["widgets"].as_array().unwrap().len())
        .sum();
    assert_eq!(placed, widgets.len());

    // One call answers every widget; each equals what the query endpoint says.
    let data = get(
        &app,
        &viewer_user(&ann, viewer.clone()),
        &format!("/api/orgs/acme/dashboards/{id}/data"),
    )
    .await;
    let answers = data["widgets"].as_array().unwrap();
    assert_eq!(answers.len(), widgets.len());
    for (widget, answer) in widgets.iter().zip(answers) {
        assert_eq!(answer["widget_id"], widget["id"]);
        assert_eq!(answer["state"], "ok", "{answer}");
        let direct: Value = ann
            .client
            .post(app.url("/api/orgs/acme/metrics/query"))
            .json(&widget["query_config"])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            answer["result"]["total"], direct["total"],
            "{}",
            widget["title"]
        );
        assert_eq!(answer["result"]["series"], direct["series"]);
    }
    // A range override applies to every widget.
    let week = get(
        &app,
        &ann,
        &format!("/api/orgs/acme/dashboards/{id}/data?range=last_7_days"),
    )
    .await;
    assert!(week["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|w| w["result"]["range"]["from"] != answers[0]["result"]["range"]["from"]));

    // Viewers read but cannot edit.
    let refused = viewer
        .patch(app.url(&format!("/api/orgs/acme/dashboards/{id}")))
        .json(&json!({ "name": "Mine" }))
        .send()
        .await
        .unwrap();
    expect_error(refused, StatusCode::FORBIDDEN, "forbidden").await;

    // CSV of a widget.
    let mrr_widget = widgets
        .iter()
        .find(|w| w["title"] == "MRR over the year")
        .unwrap();
    let csv = ann
        .client
        .get(app.url(&format!(
            "/api/orgs/acme/dashboards/{id}/widgets/{}/data",
            mrr_widget["id"].as_str().unwrap()
        )))
        .header(header::ACCEPT, "text/csv")
        .send()
        .await
        .unwrap();
    assert!(csv.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("period,bucket,value"));
    let first = lines.next().unwrap();
    let fields: Vec<&str> = first.split(',').collect();
    assert_eq!(fields[0], "current");
    assert!(
        fields[1].parse::<chrono::NaiveDate>().is_ok(),
        "ISO date: {first}"
    );
    assert!(fields[2].parse::<i64>().is_ok(), "plain number: {first}");

    // A share link of two widgets: only those, read-only, nothing else of the org.
    let subset = [widgets[0]["id"].clone(), widgets[1]["id"].clone()];
    let refused = viewer
        .post(app.url(&format!("/api/orgs/acme/dashboards/{id}/shares")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    expect_error(refused, StatusCode::FORBIDDEN, "forbidden").await;
    let share: Value = ann
        .client
        .post(app.url(&format!("/api/orgs/acme/dashboards/{id}/shares")))
        .json(&json!({ "widget_ids": subset }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = share["token"].as_str().unwrap();
    assert!(share["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/shared/{token}")));
    let public = reqwest::Client::new();
    let shared: Value = public
        .get(app.url(&format!("/api/shared/{token}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shared["widgets"].as_array().unwrap().len(), 2);
    assert_eq!(shared["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        shared["data"][0]["result"]["total"],
        answers[0]["result"]["total"]
    );
    assert!(
        shared["widgets"][0].get("query_config").is_none(),
        "no store ids or queries leak"
    );
    let listed = get(
        &app,
        &ann,
        &format!("/api/orgs/acme/dashboards/{id}/shares"),
    )
    .await;
    assert!(
        !listed.to_string().contains(token),
        "the token is shown once"
    );

    // The token opens nothing else.
    for path in [
        "/api/me",
        "/api/orgs/acme/dashboards",
        "/api/orgs/acme/integrations",
    ] {
        let response = public
            .get(app.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    // Revoked: 404.
    let revoked = ann
        .client
        .delete(app.url(&format!(
            "/api/orgs/acme/dashboards/{id}/shares/{}",
            share["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let gone = public
        .get(app.url(&format!("/api/shared/{token}")))
        .send()
        .await
        .unwrap();
    expect_error(gone, StatusCode::NOT_FOUND, "not_found").await;
    // Expired: 404.
    let share: Value = ann
        .client
        .post(app.url(&format!("/api/orgs/acme/dashboards/{id}/shares")))
        .json(&json!({ "expires_at": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339() }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    sqlx::query("UPDATE dashboard_shares SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    let expired = public
        .get(app.url(&format!("/api/shared/{}", share["token"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    expect_error(expired, StatusCode::NOT_FOUND, "not_found").await;
}

/// The viewer's client as a TestUser-like handle for `get`.
fn viewer_user(owner: &TestUser, client: reqwest::Client) -> TestUser {
    TestUser {
        client,
        ..owner.clone()
    }
}

#[tokio::test]
async fn the_builder_adds_configures_reorders_and_removes_widgets() {
    let (app, _sim) = spawn_app_with_simulator(small_history(20)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (store, _) = stripe_store(&app, &ann, "UTC").await;
    run_all(&app).await;
    let created: Value = ann
        .client
        .post(app.url("/api/orgs/acme/dashboards"))
        .json(&json!({ "workspace_id": ann.workspace_id, "name": "Board", "layout": { "columns": 3, "sections": [
            { "id": "top", "title": "Top" }, { "id": "more", "title": "More" } ] } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let url = app.url(&format!("/api/orgs/acme/dashboards/{id}/widgets"));
    let query = json!({ "metric": "stripe.gross_revenue", "range": "last_30_days", "scope": { "store": store } });
    let mut ids = Vec::new();
    for (title, section) in [("Revenue", "top"), ("Charges", "more")] {
        let widget: Value = ann
            .client
            .post(&url)
            .json(&json!({ "type": "line_chart", "title": title, "query_config": query, "section": section }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(widget["id"].as_str().unwrap().to_owned());
    }
    // Bad configurations name their field.
    for (body, field) in [
        (
            json!({ "type": "sparkle", "title": "x", "query_config": query }),
            "type",
        ),
        (
            json!({ "type": "kpi_card", "title": "x", "query_config": { "metric": "stripe.nope", "range": "last_7_days", "scope": { "store": store } } }),
            "query_config.metric",
        ),
        (
            json!({ "type": "kpi_card", "title": "x", "query_config": query, "size": "huge" }),
            "size",
        ),
    ] {
        let response = ann.client.post(&url).json(&body).send().await.unwrap();
        let error = expect_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(error["error"]["field"], field);
    }
    // A CRO widget's settings are checked too (its scope is required).
    let unscoped = ann
        .client
        .post(&url)
        .json(&json!({ "type": "experiment_card", "title": "Tests", "query_config": {} }))
        .send()
        .await
        .unwrap();
    expect_error(
        unscoped,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let cro: Value = ann
        .client
        .post(&url)
        .json(&json!({ "type": "experiment_card", "title": "Tests", "query_config": { "scope": { "store": store } } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    ids.push(cro["id"].as_str().unwrap().to_owned());
    // Configure: change the metric and the size.
    let patched: Value = ann
        .client
        .patch(app.url(&format!("/api/orgs/acme/dashboards/{id}/widgets/{}", ids[1])))
        .json(&json!({ "size": "large", "query_config": { "metric": "stripe.successful_charges", "range": "last_7_days", "scope": { "store": store } } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(patched["size"], "large");
    // Reorder: every widget placed exactly once, or the layout is refused.
    let bad = ann
        .client
        .patch(app.url(&format!("/api/orgs/acme/dashboards/{id}")))
        .json(&json!({ "layout": { "columns": 2, "sections": [{ "id": "top", "title": "Top", "widgets": [ids[0]] }] } }))
        .send()
        .await
        .unwrap();
    expect_error(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let reordered: Value = ann
        .client
        .patch(app.url(&format!("/api/orgs/acme/dashboards/{id}")))
        .json(&json!({ "layout": { "columns": 2, "sections": [{ "id": "top", "title": "Top", "widgets": [ids[2], ids[1], ids[0]] }] } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        reordered["layout"]["sections"][0]["widgets"][0],
        ids[2].as_str()
    );
    let data = get(&app, &ann, &format!("/api/orgs/acme/dashboards/{id}/data")).await;
    // Without an experiment provider in the store, the card offers to connect one.
    assert_eq!(data["widgets"][0]["state"], "not_connected");
    assert_eq!(
        data["widgets"][1]["result"]["metric"],
        "stripe.successful_charges"
    );
    // Remove one; the layout forgets it.
    let removed = ann
        .client
        .delete(app.url(&format!(
            "/api/orgs/acme/dashboards/{id}/widgets/{}",
            ids[0]
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let board = get(&app, &ann, &format!("/api/orgs/acme/dashboards/{id}")).await;
    assert_eq!(board["widgets"].as_array().unwrap().len(), 2);
    assert_eq!(
        board["layout"]["sections"][0]["widgets"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Duplicate: a private copy with its own widgets.
    let copy: Value = ann
        .client
        .post(app.url(&format!("/api/orgs/acme/dashboards/{id}/duplicate")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(copy["visibility"], "private");
    assert_eq!(copy["widgets"].as_array().unwrap().len(), 2);
    assert_ne!(copy["widgets"][0]["id"], board["widgets"][0]["id"]);
    // Members edit dashboards but do not manage share links.
    let (meg, meg_id) = app.join(&ann, "meg@example.com", "member").await;
    ann.client
        .put(app.url(&format!(
            "/api/orgs/acme/workspaces/{}/members/{meg_id}",
            ann.workspace_id
        )))
        .json(&json!({ "role": "editor" }))
        .send()
        .await
        .unwrap();
    let renamed = meg
        .patch(app.url(&format!("/api/orgs/acme/dashboards/{id}")))
        .json(&json!({ "name": "Meg's board" }))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), StatusCode::OK);
    let share = meg
        .post(app.url(&format!("/api/orgs/acme/dashboards/{id}/shares")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    expect_error(share, StatusCode::FORBIDDEN, "forbidden").await;
    // A private copy is invisible to the member.
    let hidden = meg
        .get(app.url(&format!(
            "/api/orgs/acme/dashboards/{}",
            copy["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    expect_error(hidden, StatusCode::NOT_FOUND, "not_found").await;
    // A Shopify template without Shopify: widgets say "connect Shopify".
    let shop: Value = ann
        .client
        .post(app.url("/api/orgs/acme/dashboards/from-template"))
        .json(&json!({ "template": "store_overview", "store_id": store }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let data = get(
        &app,
        &ann,
        &format!(
            "/api/orgs/acme/dashboards/{}/data",
            shop["id"].as_str().unwrap()
        ),
    )
    .await;
    assert!(
        data["widgets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["state"] == "not_connected" && w["provider"] == "shopify"),
        "{data}"
    );
}

#[tokio::test]
async fn a_dashboard_loaded_after_a_sync_never_shows_the_cached_numbers_from_before() {
    let (app, sim) = spawn_app_with_simulator(small_history(20)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (store, integration) = stripe_store(&app, &ann, "UTC").await;
    run_all(&app).await;
    let board: Value = ann
        .client
        .post(app.url("/api/orgs/acme/dashboards"))
        .json(&json!({ "workspace_id": ann.workspace_id, "name": "Today" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = board["id"].as_str().unwrap().to_owned();
    ann.client
        .post(app.url(&format!("/api/orgs/acme/dashboards/{id}/widgets")))
        .json(&json!({ "type": "kpi_card", "title": "Refunds today",
            "query_config": { "metric": "stripe.refunds", "range": "today", "scope": { "store": store } } }))
        .send()
        .await
        .unwrap();
    let total = |data: &Value| data["widgets"][0]["result"]["total"].as_i64().unwrap();
    let before = get(&app, &ann, &format!("/api/orgs/acme/dashboards/{id}/data")).await;
    // Loaded twice: the second answer comes from the cache and is the same.
    assert_eq!(
        total(&get(&app, &ann, &format!("/api/orgs/acme/dashboards/{id}/data")).await),
        total(&before)
    );

    let mut refunded = 0;
    for (round, amount) in [777, 55].into_iter().enumerate() {
        let charge = sim
            .stripe_ledger()
            .charges
            .iter()
            .rev()
            .find(|c| {
                c.status == pulseboard_simulator::ChargeStatus::Succeeded && c.amount_refunded == 0
            })
            .unwrap()
            .id
            .clone();
        sim.refund_stripe_charge(&charge, amount).unwrap();
        refunded += amount;
        ann.client
            .post(app.url(&format!("/api/orgs/acme/integrations/{integration}/sync")))
            .send()
            .await
            .unwrap();
        run_all(&app).await;
        if round == 0 {
            // The first load after the sync computes anew: the cache key carries the
            // organization's data version.
            let after = get(&app, &ann, &format!("/api/orgs/acme/dashboards/{id}/data")).await;
            assert_eq!(total(&after), total(&before) + refunded);
        }
    }
    // Kept warm: after the second sync the dashboard was recomputed in the background,
    // and the load that follows is answered from the cache with the new numbers.
    pulseboard_server::dashboards::warm::tick(&app.app_state).await;
    let (hits, misses) = app.app_state.result_cache.stats();
    let warmed = get(&app, &ann, &format!("/api/orgs/acme/dashboards/{id}/data")).await;
    assert_eq!(total(&warmed), total(&before) + refunded);
    assert_eq!(
        app.app_state.result_cache.stats(),
        (hits + 1, misses),
        "the load after the warm-up was computed again"
    );
}

#[tokio::test]
async fn a_funnel_counts_steps_over_one_window_and_refuses_steps_that_are_not_counts() {
    let (app, sim) = spawn_app_with_simulator(small_history(20)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (store, _) = stripe_store(&app, &ann, "UTC").await;
    run_all(&app).await;
    let board: Value = ann
        .client
        .post(app.url("/api/orgs/acme/dashboards"))
        .json(&json!({ "workspace_id": ann.workspace_id, "name": "Funnel" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = board["id"].as_str().unwrap().to_owned();
    let url = app.url(&format!("/api/orgs/acme/dashboards/{id}/widgets"));
    let step = |metric: &str, range: &str| json!({ "metric": metric, "range": range, "scope": { "store": store } });
    for (steps, field) in [
        (
            json!([
                step("stripe.successful_charges", "last_30_days"),
                step("stripe.gross_revenue", "last_30_days")
            ]),
            "query_config.steps[1].metric",
        ),
        (
            json!([
                step("stripe.successful_charges", "last_30_days"),
                step("stripe.failed_payments", "last_7_days")
            ]),
            "query_config.steps[1].range",
        ),
        (
            json!([
                step("stripe.successful_charges", "last_30_days"),
                step("stripe.nope", "last_30_days")
            ]),
            "query_config.steps[1].metric",
        ),
    ] {
        let response = ann
            .client
            .post(&url)
            .json(&json!({ "type": "funnel", "title": "x", "query_config": { "steps": steps } }))
            .send()
            .await
            .unwrap();
        let error = expect_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(error["error"]["field"], field, "{error}");
    }

    // Two count steps over one window, in the order given.
    let created = ann
        .client
        .post(&url)
        .json(&json!({ "type": "funnel", "title": "Customers to charges", "query_config": { "steps": [
            step("stripe.new_customers", "last_7_days"), step("stripe.successful_charges", "last_7_days") ] } }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let data = get(&app, &ann, &format!("/api/orgs/acme/dashboards/{id}/data")).await;
    let widget = &data["widgets"][0];
    assert_eq!(widget["state"], "funnel", "{widget}");
    let steps = widget["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0]["metric"], "stripe.new_customers");
    assert_eq!(steps[1]["metric"], "stripe.successful_charges");
    assert_eq!(steps[0]["range"], steps[1]["range"]);
    // Each step's total is the ledger's count over the window's UTC days.
    let range = &steps[0]["range"];
    let day = |field: &str| {
        chrono::NaiveDate::parse_from_str(range[field].as_str().unwrap(), "%Y-%m-%d").unwrap()
    };
    let (from, to) = (day("from"), day("to"));
    let in_window = |unix: i64| {
        let date = chrono::DateTime::from_timestamp(unix, 0)
            .unwrap()
            .date_naive();
        from <= date && date <= to
    };
    let ledger = sim.stripe_ledger();
    let customers = ledger
        .customers
        .iter()
        .filter(|c| in_window(c.created))
        .count() as i64;
    let charges = ledger
        .charges
        .iter()
        .filter(|c| {
            c.status == pulseboard_simulator::ChargeStatus::Succeeded && in_window(c.created)
        })
        .count() as i64;
    assert_eq!(steps[0]["total"].as_i64(), Some(customers));
    assert_eq!(steps[1]["total"].as_i64(), Some(charges));
}

//! The integrations API: members read status, admins disconnect, no secret ever leaves.

use pulseboard_server::integrations::credentials;
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use pulseboard_simulator::{defaults, Simulator, SimulatorConfig};
use serde_json::json;

use crate::helpers::{expect_error, spawn_app, spawn_app_with};

#[tokio::test]
async fn members_see_status_admins_disconnect_and_credentials_are_deleted() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (meg, _) = app.join(&ann, "meg@example.com", "member").await;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO integrations (id, org_id, store_id, provider, auth_kind, external_account_id, account_label, cadence_minutes)
         VALUES (gen_random_uuid(), $1, $2, 'stripe', 'api_key', 'acct_1', 'Acme Stripe', 15) RETURNING id",
    )
    .bind(ann.org_id)
    .bind(ann.store_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let mut conn = app.db.acquire().await.unwrap();
    credentials::save(
        &mut conn,
        &app.app_state.vault,
        ann.org_id,
        id,
        "api_key",
        "rk_test_topsecret",
    )
    .await
    .unwrap();
    drop(conn);

    let listed = meg
        .get(app.url("/api/orgs/acme/integrations"))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    let text = listed.text().await.unwrap();
    assert!(
        !text.contains("rk_test") && !text.contains("ciphertext") && !text.contains("v1."),
        "{text}"
    );
    let list: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list[0]["account_label"], "Acme Stripe");
    assert_eq!(list[0]["status"], "active");

    let refused = meg
        .delete(app.url(&format!("/api/orgs/acme/integrations/{id}")))
        .send()
        .await
        .unwrap();
    expect_error(refused, StatusCode::FORBIDDEN, "forbidden").await;
    let done = ann
        .client
        .delete(app.url(&format!("/api/orgs/acme/integrations/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    let one: Value = ann
        .client
        .get(app.url(&format!("/api/orgs/acme/integrations/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["status"], "disconnected");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM integration_credentials")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0, "disconnecting deletes the credentials");
}

#[tokio::test]
async fn an_admin_connects_stripe_with_a_restricted_key_tested_before_it_is_saved() {
    let sim = Simulator::start(SimulatorConfig::default()).await.unwrap();
    let api_base = sim.stripe_api_base();
    let app = spawn_app_with(|c| {
        c.providers
            .set("PULSEBOARD_STRIPE_API_URL", api_base.as_str());
    })
    .await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (meg, _) = app.join(&ann, "meg@example.com", "member").await;
    let url = app.url("/api/orgs/acme/integrations/stripe/api-key");
    let connect = |key: &str| json!({ "store_id": ann.store_id, "fields": { "api_key": key } });

    // The providers list tells the UI which fields to ask for.
    let providers: Value = ann
        .client
        .get(app.url("/api/providers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stripe = providers
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "stripe")
        .unwrap();
    assert_eq!(stripe["api_key"][0]["name"], "api_key");
    // …and which providers send webhooks, and how their signing secret is made.
    assert_eq!(
        stripe["webhooks"],
        json!({ "source": "pasted", "prefix": "whsec_" })
    );
    let posthog = providers
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "posthog")
        .unwrap();
    assert!(posthog["webhooks"].is_null());

    // Members cannot connect.
    expect_error(
        meg.post(&url)
            .json(&connect(defaults::STRIPE_RESTRICTED_KEY))
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // A secret key is refused before any call; a wrong restricted key is refused by Stripe.
    let secret = ann
        .client
        .post(&url)
        .json(&connect("sk_test_123456789"))
        .send()
        .await
        .unwrap();
    expect_error(
        secret,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(sim.calls("stripe.account"), 0);
    let wrong = ann
        .client
        .post(&url)
        .json(&connect("rk_test_wrongwrongwrong"))
        .send()
        .await
        .unwrap();
    let text = wrong.text().await.unwrap();
    assert!(
        text.contains("validation_failed") && !text.contains("rk_test_wrongwrongwrong"),
        "{text}"
    );
    assert_eq!(sim.calls("stripe.account"), 1);
    let none: i64 = sqlx::query_scalar("SELECT count(*) FROM integrations")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(none, 0, "a refused key stores nothing");

    // The right key connects; the response and the list never show it.
    let ok = ann
        .client
        .post(&url)
        .json(&connect(defaults::STRIPE_RESTRICTED_KEY))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    let text = ok.text().await.unwrap();
    assert!(!text.contains(defaults::STRIPE_RESTRICTED_KEY), "{text}");
    let integration: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(integration["status"], "active");
    assert_eq!(integration["auth_kind"], "api_key");
    assert_eq!(integration["cadence_minutes"], 15);
    let id: Uuid = integration["id"].as_str().unwrap().parse().unwrap();
    let db = pulseboard_server::db::Database::from_pool(app.db.clone());
    let stored = credentials::read(&db, &app.app_state.vault, id, "api_key")
        .await
        .unwrap();
    assert_eq!(stored.as_deref(), Some(defaults::STRIPE_RESTRICTED_KEY));

    // A provider outage is a clear 4xx, not a 500.
    sim.fail("stripe.account", 1);
    let down = ann
        .client
        .post(&url)
        .json(&connect(defaults::STRIPE_RESTRICTED_KEY))
        .send()
        .await
        .unwrap();
    expect_error(down, StatusCode::FAILED_DEPENDENCY, "provider_unavailable").await;
    let unknown = ann
        .client
        .post(app.url("/api/orgs/acme/integrations/nope/api-key"))
        .json(&connect("x"))
        .send()
        .await
        .unwrap();
    expect_error(unknown, StatusCode::NOT_FOUND, "not_found").await;
}

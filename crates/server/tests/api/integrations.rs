//! The integrations API: members read status, admins disconnect, no secret ever leaves.

use pulseboard_server::credentials;
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{expect_error, spawn_app};

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

//! Organizations, members, invites, workspaces and stores as their users see them.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{client, expect_error, spawn_app, PASSWORD};

#[tokio::test]
async fn an_invite_mail_is_written_to_the_data_dir_and_lets_a_new_user_join() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let token = app.invite(&ann, "bob@example.com", "member").await;
    let mails = app.mails();
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains("Subject: You're invited to Acme on Pulseboard"),
        "{}",
        mails[0]
    );
    assert_eq!(
        app.deliver_mail().await,
        0,
        "a delivered message is not sent again"
    );

    let preview: Value = client()
        .post(app.url("/api/invites/lookup"))
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(preview["org_name"], "Acme");
    assert_eq!(preview["email"], "bob@example.com");

    let bob = client();
    let r = bob
        .post(app.url("/api/auth/signup"))
        .json(&json!({ "email": "bob@example.com", "password": PASSWORD, "name": "Bob", "invite_token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let me: Value = r.json().await.unwrap();
    assert_eq!(
        me["memberships"].as_array().unwrap().len(),
        1,
        "joining through an invite creates no org of one's own"
    );
    assert_eq!(me["memberships"][0]["org_slug"], "acme");
    assert_eq!(me["memberships"][0]["role"], "member");

    // Single use: the same link cannot be used again, even by someone else signing up.
    let again = client()
        .post(app.url("/api/auth/signup"))
        .json(&json!({ "email": "bob2@example.com", "password": PASSWORD, "name": "Bob", "invite_token": token }))
        .send()
        .await
        .unwrap();
    expect_error(again, StatusCode::GONE, "invite_used").await;
    let users: i64 =
        sqlx::query_scalar("SELECT count(*) FROM users WHERE email = 'bob2@example.com'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(users, 0, "a failed invite sign-up leaves no account behind");
}

#[tokio::test]
async fn an_existing_user_accepts_once_and_only_with_the_invited_email() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let bob = app.signup("bob@example.com", "Bob Co").await;
    let carol = app.signup("carol@example.com", "Carol Co").await;
    let token = app.invite(&ann, "bob@example.com", "viewer").await;

    let wrong = carol
        .client
        .post(app.url("/api/invites/accept"))
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap();
    expect_error(wrong, StatusCode::FORBIDDEN, "forbidden").await;

    let ok = bob
        .client
        .post(app.url("/api/invites/accept"))
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let membership: Value = ok.json().await.unwrap();
    assert_eq!(membership["slug"], "acme");
    assert_eq!(membership["role"], "viewer");
    let replay = bob
        .client
        .post(app.url("/api/invites/accept"))
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap();
    expect_error(replay, StatusCode::GONE, "invite_used").await;
}

#[tokio::test]
async fn expired_and_revoked_invites_do_not_work() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let bob = app.signup("bob@example.com", "Bob Co").await;
    let token = app.invite(&ann, "bob@example.com", "member").await;
    sqlx::query("UPDATE invites SET expires_at = now() - interval '1 minute'")
        .execute(&app.db)
        .await
        .unwrap();
    let r = bob
        .client
        .post(app.url("/api/invites/accept"))
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::GONE, "invite_expired").await;

    let token = app.invite(&ann, "bob@example.com", "member").await;
    let invites: Value = ann
        .client
        .get(app.url("/api/orgs/acme/invites"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Newest first: the invite just sent.
    assert_eq!(invites.as_array().unwrap().len(), 2);
    let pending = &invites[0];
    let del = ann
        .client
        .delete(app.url(&format!(
            "/api/orgs/acme/invites/{}",
            pending["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), StatusCode::NO_CONTENT);
    let r = bob
        .client
        .post(app.url("/api/invites/accept"))
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::GONE, "invite_revoked").await;
    let r = bob
        .client
        .post(app.url("/api/invites/accept"))
        .json(&json!({ "token": "pbi_made_up" }))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn the_last_owner_can_be_neither_demoted_nor_removed() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let demote = ann
        .client
        .patch(app.url(&format!("/api/orgs/acme/members/{}", ann.id)))
        .json(&json!({ "role": "admin" }))
        .send()
        .await
        .unwrap();
    expect_error(demote, StatusCode::CONFLICT, "last_owner").await;
    let remove = ann
        .client
        .delete(app.url(&format!("/api/orgs/acme/members/{}", ann.id)))
        .send()
        .await
        .unwrap();
    expect_error(remove, StatusCode::CONFLICT, "last_owner").await;

    // With a second owner, the first may step down.
    let (_, bob_id) = app.join(&ann, "bob@example.com", "admin").await;
    let promote = ann
        .client
        .patch(app.url(&format!("/api/orgs/acme/members/{bob_id}")))
        .json(&json!({ "role": "owner" }))
        .send()
        .await
        .unwrap();
    assert_eq!(promote.status(), StatusCode::OK);
    let demote = ann
        .client
        .patch(app.url(&format!("/api/orgs/acme/members/{}", ann.id)))
        .json(&json!({ "role": "admin" }))
        .send()
        .await
        .unwrap();
    assert_eq!(demote.status(), StatusCode::OK);
    let owners: i64 =
        sqlx::query_scalar("SELECT count(*) FROM org_members WHERE role = 'owner' AND org_id = $1")
            .bind(ann.org_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(owners, 1);
}

#[tokio::test]
async fn admins_cannot_grant_ownership_and_members_cannot_manage_members() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (admin, _) = app.join(&ann, "adam@example.com", "admin").await;
    let (member, member_id) = app.join(&ann, "meg@example.com", "member").await;
    let r = admin
        .patch(app.url(&format!("/api/orgs/acme/members/{member_id}")))
        .json(&json!({ "role": "owner" }))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = admin
        .delete(app.url(&format!("/api/orgs/acme/members/{}", ann.id)))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = member
        .post(app.url("/api/orgs/acme/invites"))
        .json(&json!({ "email": "x@example.com", "role": "viewer" }))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = member
        .get(app.url("/api/orgs/acme/audit-log"))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    // An admin can change a member's role, and the audit log records it.
    let r = admin
        .patch(app.url(&format!("/api/orgs/acme/members/{member_id}")))
        .json(&json!({ "role": "viewer" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let log: Value = ann
        .client
        .get(app.url("/api/orgs/acme/audit-log"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log[0]["action"], "member.role_changed");
    assert_eq!(log[0]["details"]["to"], "viewer");
}

#[tokio::test]
async fn members_see_only_their_workspaces_and_write_only_where_they_edit() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (meg, meg_id) = app.join(&ann, "meg@example.com", "member").await;
    let ws: Value = ann
        .client
        .post(app.url("/api/orgs/acme/workspaces"))
        .json(&json!({ "name": "Client X" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ws_id = ws["id"].as_str().unwrap().to_string();

    // Not yet a member of any workspace: Meg sees none, and Client X is a 404 for her.
    let list: Value = meg
        .get(app.url("/api/orgs/acme/workspaces"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 0);
    expect_error(
        meg.get(app.url(&format!("/api/orgs/acme/workspaces/{ws_id}")))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let stores: Value = meg
        .get(app.url("/api/orgs/acme/stores"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stores.as_array().unwrap().len(), 0);

    // As a workspace viewer she reads but cannot add a store.
    let put = ann
        .client
        .put(app.url(&format!(
            "/api/orgs/acme/workspaces/{ws_id}/members/{meg_id}"
        )))
        .json(&json!({ "role": "viewer" }))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let list: Value = meg
        .get(app.url("/api/orgs/acme/workspaces"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["name"], "Client X");
    assert_eq!(list[0]["my_role"], "viewer");
    let new_store = json!({ "workspace_id": ws_id, "name": "X Store", "currency": "GBP", "timezone": "Europe/London" });
    expect_error(
        meg.post(app.url("/api/orgs/acme/stores"))
            .json(&new_store)
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // As an editor she can.
    ann.client
        .put(app.url(&format!(
            "/api/orgs/acme/workspaces/{ws_id}/members/{meg_id}"
        )))
        .json(&json!({ "role": "editor" }))
        .send()
        .await
        .unwrap();
    let created = meg
        .post(app.url("/api/orgs/acme/stores"))
        .json(&new_store)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let store: Value = created.json().await.unwrap();
    assert_eq!(store["currency"], "GBP");
    let patched: Value = meg
        .patch(app.url(&format!(
            "/api/orgs/acme/stores/{}",
            store["id"].as_str().unwrap()
        )))
        .json(&json!({ "timezone": "America/New_York" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(patched["timezone"], "America/New_York");
    assert_eq!(patched["currency"], "GBP");
    // But workspaces themselves are created by org admins only.
    expect_error(
        meg.post(app.url("/api/orgs/acme/workspaces"))
            .json(&json!({ "name": "Mine" }))
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn workspaces_and_stores_have_full_lifecycles() {
    let app = spawn_app().await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let created = ann
        .client
        .post(app.url("/api/orgs/acme/workspaces"))
        .json(&json!({ "name": "Client X" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let ws: Value = created.json().await.unwrap();
    let ws_id = ws["id"].as_str().unwrap();
    let dup = ann
        .client
        .post(app.url("/api/orgs/acme/workspaces"))
        .json(&json!({ "name": "Client X" }))
        .send()
        .await
        .unwrap();
    expect_error(dup, StatusCode::CONFLICT, "name_taken").await;
    let renamed: Value = ann
        .client
        .patch(app.url(&format!("/api/orgs/acme/workspaces/{ws_id}")))
        .json(&json!({ "name": "Client Y" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["name"], "Client Y");
    let store: Value = ann
        .client
        .post(app.url("/api/orgs/acme/stores"))
        .json(&json!({ "workspace_id": ws_id, "name": "Y Shop", "currency": "JPY", "timezone": "Asia/Tokyo" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed: Value = ann
        .client
        .get(app.url(&format!("/api/orgs/acme/stores?workspace_id={ws_id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], store["id"]);
    let del = ann
        .client
        .delete(app.url(&format!("/api/orgs/acme/workspaces/{ws_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), StatusCode::NO_CONTENT);
    let gone = ann
        .client
        .get(app.url(&format!(
            "/api/orgs/acme/stores/{}",
            store["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    expect_error(gone, StatusCode::NOT_FOUND, "not_found").await;

    // More organizations: the creator owns them and can rename them.
    let org: Value = ann
        .client
        .post(app.url("/api/orgs"))
        .json(&json!({ "name": "Second Brand", "slug": "second" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(org["slug"], "second");
    assert_eq!(org["role"], "owner");
    let taken = ann
        .client
        .post(app.url("/api/orgs"))
        .json(&json!({ "name": "Other", "slug": "second" }))
        .send()
        .await
        .unwrap();
    expect_error(taken, StatusCode::CONFLICT, "slug_taken").await;
    let renamed: Value = ann
        .client
        .patch(app.url("/api/orgs/second"))
        .json(&json!({ "name": "Second Brand Ltd" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["name"], "Second Brand Ltd");
    let orgs: Value = ann
        .client
        .get(app.url("/api/orgs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(orgs.as_array().unwrap().len(), 2);
}

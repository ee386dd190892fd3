//! SQL-level isolation. Tables are discovered from the catalog, so a table added
//! later is checked without anyone remembering to add it here.

use serde_json::Value;
use sqlx::{Connection, PgConnection, Row};
use uuid::Uuid;

use crate::helpers::{spawn_app, TestApp, TestUser};

/// Tables with an `org_id` column, plus `organizations` (keyed by its own id).
async fn tenant_tables(conn: &mut PgConnection) -> Vec<(String, &'static str)> {
    let mut tables: Vec<(String, &'static str)> = sqlx::query_scalar::<_, String>(
        "SELECT c.table_name::text FROM information_schema.columns c
         JOIN information_schema.tables t USING (table_schema, table_name)
         WHERE c.table_schema = 'public' AND c.column_name = 'org_id' AND t.table_type = 'BASE TABLE'
         ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap()
    .into_iter()
    .map(|t| (t, "org_id"))
    .collect();
    tables.push(("organizations".into(), "id"));
    tables
}

/// Fills both organizations with at least one row of everything.
async fn two_populated_orgs(app: &TestApp) -> (TestUser, TestUser) {
    let a = app.signup("alice@a.example", "Org A").await;
    let b = app.signup("bob@b.example", "Org B").await;
    for owner in [&a, &b] {
        app.invite(
            owner,
            &format!("viewer@{}.example", owner.org_slug),
            "viewer",
        )
        .await;
        let me: Value = owner
            .client
            .post(app.url("/api/me/tokens"))
            .json(&serde_json::json!({ "name": "t" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(me["token"].is_string());
        // Connections, written as the connect flow writes them (worker role).
        let integration: Uuid = sqlx::query_scalar(
            "INSERT INTO integrations (id, org_id, store_id, provider, auth_kind, external_account_id, account_label, cadence_minutes)
             VALUES (gen_random_uuid(), $1, $2, 'stripe', 'api_key', 'acct_1', 'Acct', 15) RETURNING id",
        )
        .bind(owner.org_id)
        .bind(owner.store_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
        sqlx::query("INSERT INTO integration_credentials (org_id, integration_id, field, key_id, ciphertext) VALUES ($1, $2, 'api_key', 'k1', 'v1.k1.x')")
            .bind(owner.org_id)
            .bind(integration)
            .execute(&app.db)
            .await
            .unwrap();
        // The sync pipeline's tables, one row each, as the worker writes them.
        sqlx::query(
            "WITH job AS (INSERT INTO sync_jobs (id, org_id, integration_id, trigger) VALUES (gen_random_uuid(), $1, $3, 'manual')),
                  cursor AS (INSERT INTO sync_cursors (org_id, integration_id, stream, cursor) VALUES ($1, $3, 'stripe.events', '{}')),
                  raw AS (INSERT INTO raw_records (org_id, integration_id, object_type, external_id, payload) VALUES ($1, $3, 'charge', 'ch_1', '{}')),
                  event AS (INSERT INTO metric_events (org_id, store_id, integration_id, source, metric_name, metric_value, recorded_at, source_record_id)
                            VALUES ($1, $2, $3, 'stripe', 'gross_revenue', 100, now(), 'charge/ch_1')),
                  rollup AS (INSERT INTO metric_rollups_daily (org_id, store_id, source, metric_name, day, dimensions, value_sum, event_count)
                             VALUES ($1, $2, 'stripe', 'gross_revenue', current_date, '{}', 100, 1)),
                  dirty AS (INSERT INTO rollup_dirty_days (org_id, store_id, day) VALUES ($1, $2, current_date)),
                  label AS (INSERT INTO dimension_labels (org_id, store_id, dimension, value, label) VALUES ($1, $2, 'plan', 'price_1', 'Pro')),
                  item AS (INSERT INTO items (org_id, store_id, integration_id, provider, kind, item_id, source_record_id, occurred_at, data)
                           VALUES ($1, $2, $3, 'stripe', 'review', 'r1', 'review/r1', now(), '{}')),
                  drift AS (INSERT INTO drift_checks (org_id, store_id, integration_id, day, metric, source_value, pulseboard_value, difference, warning)
                            VALUES ($1, $2, $3, current_date, 'gross_revenue', 100, 90, -10, true)),
                  usage AS (INSERT INTO usage_counters (org_id, month, metric_events) VALUES ($1, date_trunc('month', now())::date, 1)),
                  def AS (INSERT INTO metric_definitions (id, org_id, store_id, slug, name, source, metric_name, aggregation, unit)
                          VALUES (gen_random_uuid(), $1, $2, 'stripe.gross_revenue', 'Gross revenue', 'stripe', 'gross_revenue', 'sum', 'currency_minor')
                          RETURNING id)
             INSERT INTO metric_snapshots (org_id, metric_def_id, captured_on, value) SELECT $1, id, current_date, 100 FROM def",
        )
        .bind(owner.org_id)
        .bind(owner.store_id)
        .bind(integration)
        .execute(&app.db)
        .await
        .unwrap();
        sqlx::query(
            "WITH d AS (INSERT INTO dashboards (id, org_id, workspace_id, name, layout, created_by)
                        VALUES (gen_random_uuid(), $1, $2, 'Board', '{\"columns\": 2, \"sections\": []}', $3) RETURNING id),
                  w AS (INSERT INTO widgets (id, org_id, dashboard_id, type, title, query_config)
                        SELECT gen_random_uuid(), $1, id, 'kpi_card', 'MRR', '{}' FROM d)
             INSERT INTO dashboard_shares (id, org_id, dashboard_id, token_hash) SELECT gen_random_uuid(), $1, id, sha256(gen_random_uuid()::text::bytea) FROM d",
        )
        .bind(owner.org_id)
        .bind(owner.workspace_id)
        .bind(owner.id)
        .execute(&app.db)
        .await
        .unwrap();
        // A Slack channel and a message queued for it (the ciphertext is opaque here).
        sqlx::query(
            "WITH c AS (INSERT INTO slack_channels (id, org_id, name, webhook_ciphertext, webhook_hint)
                        VALUES (gen_random_uuid(), $1, '#growth', 'v1.k1.x', '…/T/B/****') RETURNING id)
             INSERT INTO slack_outbox (id, org_id, channel_id, payload) SELECT gen_random_uuid(), $1, id, '{\"text\": \"hi\"}' FROM c",
        )
        .bind(owner.org_id)
        .execute(&app.db)
        .await
        .unwrap();
        // A webhook endpoint, a delivery in its inbox, a revenue event and its sequence.
        sqlx::query(
            "WITH e AS (INSERT INTO webhook_endpoints (id, org_id, integration_id, provider, secret_key_id, secret_ciphertext, secret_hint)
                        VALUES (gen_random_uuid(), $1, $3, 'stripe', 'k1', 'v1.k1.x', 'whsec_…') RETURNING id),
                  i AS (INSERT INTO webhook_inbox (org_id, endpoint_id, event_id, event_type, body) SELECT $1, id, 'evt_1', 'charge.succeeded', '\\x7b7d' FROM e),
                  s AS (INSERT INTO live_sequences (org_id, last_seq) VALUES ($1, 1)),
                  p AS (INSERT INTO pulse_shares (id, org_id, store_id, token_hash) VALUES (gen_random_uuid(), $1, $2, sha256(gen_random_uuid()::text::bytea)))
             INSERT INTO revenue_events (org_id, seq, store_id, integration_id, provider, source_id, kind, amount_minor, currency, occurred_at)
             VALUES ($1, 1, $2, $3, 'stripe', 'charge/ch_1', 'sale', 100, 'USD', now())",
        )
        .bind(owner.org_id)
        .bind(owner.store_id)
        .bind(integration)
        .execute(&app.db)
        .await
        .unwrap();
        // Alerts, their history, preferences and the digest's audit trail.
        sqlx::query(
            "WITH a AS (INSERT INTO alerts (id, org_id, name, metric, scope, kind, threshold, created_by)
                        VALUES (gen_random_uuid(), $1, 'Revenue drop', 'stripe.gross_revenue', jsonb_build_object('store', $2), 'below', 100, $3)
                        RETURNING id),
                  e AS (INSERT INTO alert_events (id, org_id, alert_id, window_key, message) SELECT gen_random_uuid(), $1, id, '2026-01-01', 'm' FROM a),
                  p AS (INSERT INTO notification_preferences (org_id, user_id) VALUES ($1, $3))
             INSERT INTO digests_sent (org_id, user_id, iso_week) VALUES ($1, $3, '2026-W01')",
        )
        .bind(owner.org_id)
        .bind(owner.store_id)
        .bind(owner.id)
        .execute(&app.db)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO oauth_states (id, org_id, user_id, store_id, provider, state_hash, expires_at)
             VALUES (gen_random_uuid(), $1, $2, $3, 'stripe', sha256(gen_random_uuid()::text::bytea), now() + interval '10 minutes')",
        )
        .bind(owner.org_id)
        .bind(owner.id)
        .bind(owner.store_id)
        .execute(&app.db)
        .await
        .unwrap();
    }
    (a, b)
}

async fn as_user(conn: &mut PgConnection, user: Option<Uuid>) {
    sqlx::query("SELECT set_config('role', 'pulseboard_app', true), set_config('pulseboard.user_id', $1, true)")
        .bind(user.map(|u| u.to_string()).unwrap_or_default())
        .execute(&mut *conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn every_table_forces_rls_with_a_policy_for_each_verb() {
    let app = spawn_app().await;
    let mut conn = app.db.acquire().await.unwrap();
    let tenant = tenant_tables(&mut conn).await;
    assert!(
        tenant.len() >= 8,
        "expected the foundation's tenant tables, found {tenant:?}"
    );

    // Every table the user-facing role can touch at all must force RLS.
    let exposed: Vec<(String, bool, bool)> = sqlx::query_as(
        "SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
           AND (has_table_privilege('pulseboard_app', c.oid, 'SELECT') OR has_table_privilege('pulseboard_app', c.oid, 'INSERT')
             OR has_table_privilege('pulseboard_app', c.oid, 'UPDATE') OR has_table_privilege('pulseboard_app', c.oid, 'DELETE'))",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    for (table, enabled, forced) in &exposed {
        assert!(
            *enabled && *forced,
            "{table} is reachable by pulseboard_app without forced row-level security"
        );
    }
    for (table, _) in &tenant {
        let (enabled, forced): (bool, bool) = sqlx::query_as(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = $1::regclass",
        )
        .bind(table)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        assert!(
            enabled && forced,
            "{table} must enable and force row-level security"
        );
        let commands: Vec<String> = sqlx::query_scalar(
            "SELECT cmd FROM pg_policies WHERE schemaname = 'public' AND tablename = $1 AND 'pulseboard_app' = ANY(roles)",
        )
        .bind(table)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        for verb in ["SELECT", "INSERT", "UPDATE", "DELETE"] {
            assert!(
                commands.iter().any(|c| c == verb || c == "ALL"),
                "{table} has no {verb} policy for pulseboard_app (has {commands:?})"
            );
        }
    }
    // The user-facing role is never a superuser and never bypasses RLS.
    let (superuser, bypass): (bool, bool) = sqlx::query_as(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'pulseboard_app'",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert!(!superuser && !bypass);
}

#[tokio::test]
async fn user_a_can_neither_see_nor_change_org_b_rows_in_any_tenant_table() {
    let app = spawn_app().await;
    let (a, b) = two_populated_orgs(&app).await;
    let mut conn = app.db.acquire().await.unwrap();
    let tables = tenant_tables(&mut conn).await;

    for (table, key) in &tables {
        // B's rows as the owner sees them (owner bypasses nothing here: FORCE RLS applies,
        // so read them through the worker role).
        let mut tx = conn.begin().await.unwrap();
        sqlx::query("SELECT set_config('role', 'pulseboard_worker', true)")
            .execute(&mut *tx)
            .await
            .unwrap();
        let b_rows: Vec<Value> = sqlx::query_scalar(&format!(
            "SELECT to_jsonb(t) FROM {table} t WHERE {key} = $1"
        ))
        .bind(b.org_id)
        .fetch_all(&mut *tx)
        .await
        .unwrap();
        tx.rollback().await.unwrap();
        assert!(
            !b_rows.is_empty(),
            "fixture gap: org B has no row in {table}; extend two_populated_orgs"
        );

        // Positive control: A sees their own rows, so the checks below are not vacuous.
        let mut tx = conn.begin().await.unwrap();
        as_user(&mut tx, Some(a.id)).await;
        let readable: bool =
            sqlx::query_scalar("SELECT has_table_privilege('pulseboard_app', $1, 'SELECT')")
                .bind(table)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
        if readable {
            let own: i64 =
                sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE {key} = $1"))
                    .bind(a.org_id)
                    .fetch_one(&mut *tx)
                    .await
                    .unwrap();
            assert!(own > 0, "user A should see org A's rows in {table}");
            let seen: i64 =
                sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE {key} = $1"))
                    .bind(b.org_id)
                    .fetch_one(&mut *tx)
                    .await
                    .unwrap();
            assert_eq!(seen, 0, "user A sees org B rows in {table}");
        }
        let updated = sqlx::query(&format!(
            "UPDATE {table} SET {key} = {key} WHERE {key} = $1"
        ))
        .bind(b.org_id)
        .execute(&mut *tx)
        .await;
        assert!(
            updated.map(|r| r.rows_affected() == 0).unwrap_or(true),
            "user A updated org B rows in {table}"
        );
        tx.rollback().await.unwrap();

        let mut tx = conn.begin().await.unwrap();
        as_user(&mut tx, Some(a.id)).await;
        let deleted = sqlx::query(&format!("DELETE FROM {table} WHERE {key} = $1"))
            .bind(b.org_id)
            .execute(&mut *tx)
            .await;
        assert!(
            deleted.map(|r| r.rows_affected() == 0).unwrap_or(true),
            "user A deleted org B rows in {table}"
        );
        tx.rollback().await.unwrap();

        // Inserting a copy of B's row (fresh id where there is one) is refused.
        let mut row = b_rows[0].clone();
        for column in ["id"] {
            if row
                .get(column)
                .and_then(Value::as_str)
                .is_some_and(|v| v.parse::<Uuid>().is_ok())
            {
                row[column] = Value::String(Uuid::new_v4().to_string());
            }
        }
        let mut tx = conn.begin().await.unwrap();
        as_user(&mut tx, Some(a.id)).await;
        let inserted = sqlx::query(&format!(
            "INSERT INTO {table} OVERRIDING SYSTEM VALUE SELECT * FROM jsonb_populate_record(NULL::{table}, $1)"
        ))
        .bind(&row)
        .execute(&mut *tx)
        .await;
        let error = inserted.expect_err(&format!("user A inserted a row into org B's {table}"));
        let code = error
            .as_database_error()
            .and_then(|e| e.code())
            .map(|c| c.to_string());
        assert_eq!(
            code.as_deref(),
            Some("42501"),
            "{table}: expected an RLS/permission refusal, got {error}"
        );
        tx.rollback().await.unwrap();

        // With no user id set, nothing at all is visible.
        let mut tx = conn.begin().await.unwrap();
        as_user(&mut tx, None).await;
        let anonymous = sqlx::query_scalar::<_, i64>(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut *tx)
            .await;
        assert!(
            anonymous.map(|n| n == 0).unwrap_or(true),
            "{table} shows rows with no user id set"
        );
        tx.rollback().await.unwrap();
    }

    // B's data is intact after all of the above.
    let stores: i64 = sqlx::query("SELECT count(*) FROM stores WHERE org_id = $1")
        .bind(b.org_id)
        .fetch_one(&app.db)
        .await
        .unwrap()
        .get(0);
    assert_eq!(stores, 1);
}

#[tokio::test]
async fn users_sessions_and_tokens_are_private_to_their_user() {
    let app = spawn_app().await;
    let (a, b) = two_populated_orgs(&app).await;
    let mut tx = app.db.begin().await.unwrap();
    as_user(&mut tx, Some(a.id)).await;
    for table in ["sessions", "api_tokens"] {
        let mine: i64 =
            sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE user_id = $1"))
                .bind(a.id)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
        let theirs: i64 =
            sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE user_id = $1"))
                .bind(b.id)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
        assert!(mine > 0, "{table}: A sees their own");
        assert_eq!(theirs, 0, "{table}: A sees B's");
        let changed = sqlx::query(&format!(
            "UPDATE {table} SET revoked_at = now() WHERE user_id = $1"
        ))
        .bind(b.id)
        .execute(&mut *tx)
        .await
        .unwrap();
        assert_eq!(changed.rows_affected(), 0);
    }
    let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE id = $1")
        .bind(b.id)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(
        seen, 0,
        "A cannot see a user they share no organization with"
    );
    let renamed = sqlx::query("UPDATE users SET name = 'pwned' WHERE id = $1")
        .bind(b.id)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(renamed.rows_affected(), 0);
    // login_attempts is internal: no grant at all.
    let denied = sqlx::query("SELECT count(*) FROM login_attempts")
        .execute(&mut *tx)
        .await;
    assert!(denied.is_err());
    tx.rollback().await.unwrap();
}

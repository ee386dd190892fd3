//! The drift check against the Stripe simulator: after a sync, yesterday's gross
//! revenue and refunds are compared with the account's balance transactions. On
//! clean data the difference is zero; a charge the sync never saw (hidden from the
//! charge list and events, still in the balance) is a difference of exactly its
//! amount, naming it; a charge whose amount the sync saw altered is a difference of
//! exactly the alteration. Another organization cannot read the checks.

use chrono::{Days, Utc};
use chrono_tz::Tz;
use pulseboard_simulator::{ChargeStatus, SimulatorConfig, SimulatorHandle};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    helpers::{spawn_app_with_simulator, TestApp, TestUser},
    sync::{day_of, run_all, small_history, stripe_store},
};

const ZONE: &str = "America/New_York";

fn config() -> SimulatorConfig {
    let mut config = small_history(20);
    config.data.stripe_daily_signups = 12.0;
    config
}

/// Yesterday's (New York) succeeded charges (id, amount) and refunds total, by the ledger.
fn yesterdays(sim: &SimulatorHandle) -> (Vec<(String, i64)>, i64) {
    let tz: Tz = ZONE.parse().unwrap();
    let yesterday = Utc::now().with_timezone(&tz).date_naive() - Days::new(1);
    let ledger = sim.stripe_ledger();
    let charges = ledger
        .charges
        .iter()
        .filter(|c| matches!(c.status, ChargeStatus::Succeeded))
        .filter(|c| day_of(c.created, tz) == yesterday)
        .map(|c| (c.id.clone(), c.amount))
        .collect::<Vec<_>>();
    let refunds = ledger
        .refunds
        .iter()
        .filter(|r| day_of(r.created, tz) == yesterday)
        .map(|r| r.amount)
        .sum();
    assert!(!charges.is_empty(), "yesterday has charges to check");
    (charges, refunds)
}

async fn checks(app: &TestApp, user: &TestUser, integration: Uuid) -> Vec<Value> {
    let response = user
        .client
        .get(app.url(&format!(
            "/api/orgs/{}/integrations/{integration}/drift",
            user.org_slug
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn metric<'a>(checks: &'a [Value], name: &str) -> &'a Value {
    let tz: Tz = ZONE.parse().unwrap();
    let yesterday = Utc::now().with_timezone(&tz).date_naive() - Days::new(1);
    checks
        .iter()
        .find(|c| c["metric"] == name && c["day"] == json!(yesterday.to_string()))
        .unwrap_or_else(|| panic!("a check of {name} for {yesterday}: {checks:?}"))
}

#[tokio::test]
async fn clean_data_has_no_drift_and_another_org_cannot_read_it() {
    let (app, sim) = spawn_app_with_simulator(config()).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (_, integration) = stripe_store(&app, &ann, ZONE).await;
    assert_eq!(run_all(&app).await, 1);
    let (charges, refunds) = yesterdays(&sim);
    let gross: i64 = charges.iter().map(|(_, a)| a).sum();

    let all = checks(&app, &ann, integration).await;
    let revenue = metric(&all, "gross_revenue");
    assert_eq!(revenue["source_value"], json!(gross));
    assert_eq!(revenue["pulseboard_value"], json!(gross));
    assert_eq!(revenue["difference"], 0);
    assert_eq!(revenue["warning"], false);
    assert_eq!(revenue["records"], json!([]));
    let refunded = metric(&all, "refunds");
    assert_eq!(refunded["source_value"], json!(refunds));
    assert_eq!(refunded["difference"], 0);
    let mails: i64 = sqlx::query_scalar("SELECT count(*) FROM email_outbox WHERE kind = 'drift'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(mails, 0, "nothing to announce");

    // Once a day: a second sync does not add or redo the check.
    let checked_at = revenue["checked_at"].clone();
    assert!(app.request_sync(&ann, integration).await.is_success());
    assert_eq!(run_all(&app).await, 1);
    let again = checks(&app, &ann, integration).await;
    assert_eq!(again.len(), all.len());
    assert_eq!(metric(&again, "gross_revenue")["checked_at"], checked_at);

    // Another organization: not found, through its own org or Acme's.
    let bob = app.signup("bob@example.com", "Bobco").await;
    for org in [bob.org_slug.as_str(), ann.org_slug.as_str()] {
        let response = bob
            .client
            .get(app.url(&format!("/api/orgs/{org}/integrations/{integration}/drift")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{org}");
    }
}

#[tokio::test]
async fn a_charge_the_sync_never_saw_is_the_difference_and_is_named() {
    let (app, sim) = spawn_app_with_simulator(config()).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (charges, _) = yesterdays(&sim);
    let gross: i64 = charges.iter().map(|(_, a)| a).sum();
    // The largest: over 0.5 % of the day's revenue with fewer than 200 charges.
    let (dropped, amount) = charges.iter().max_by_key(|(_, a)| *a).unwrap().clone();
    assert!(charges.len() < 200);
    assert!(sim.hide_stripe_charge(&dropped));
    let (_, integration) = stripe_store(&app, &ann, ZONE).await;
    assert_eq!(run_all(&app).await, 1);

    let all = checks(&app, &ann, integration).await;
    let revenue = metric(&all, "gross_revenue");
    assert_eq!(revenue["source_value"], json!(gross));
    assert_eq!(revenue["pulseboard_value"], json!(gross - amount));
    assert_eq!(revenue["difference"], json!(-amount));
    assert_eq!(
        revenue["records"],
        json!([{ "record": format!("charge/{dropped}"), "source": amount, "pulseboard": null }])
    );
    // Above 0.5 % of the day's revenue is a warning, announced to the owner once.
    assert_eq!(revenue["warning"], true);
    let mails: Vec<(String, String, String)> =
        sqlx::query_as("SELECT to_addr, subject, body_text FROM email_outbox WHERE kind = 'drift'")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let (to, subject, body) = &mails[0];
    assert_eq!(to, "ann@example.com");
    assert!(subject.contains("gross revenue"), "{subject}");
    let dollars = |cents: i64| format!("${}.{:02}", cents / 100, cents % 100);
    for expected in [
        format!(
            "charge/{dropped}: Stripe {}, Pulseboard missing",
            dollars(amount)
        ),
        format!(
            "Pulseboard {}, Stripe {}",
            dollars(gross - amount),
            dollars(gross)
        ),
    ] {
        // Amounts above $999.99 are grouped ("$1,234.00"); compare without commas.
        assert!(
            body.replace(',', "").contains(&expected.replace(',', "")),
            "{expected} in {body}"
        );
    }
    // A later sync does not announce the same day again.
    assert!(app.request_sync(&ann, integration).await.is_success());
    assert_eq!(run_all(&app).await, 1);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM email_outbox WHERE kind = 'drift'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn an_altered_charge_is_the_difference_it_makes() {
    let (app, sim) = spawn_app_with_simulator(config()).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (charges, _) = yesterdays(&sim);
    let gross: i64 = charges.iter().map(|(_, a)| a).sum();
    let (altered, amount) = charges[0].clone();
    assert!(sim.alter_stripe_charge(&altered, amount + 1234));
    let (_, integration) = stripe_store(&app, &ann, ZONE).await;
    assert_eq!(run_all(&app).await, 1);

    let all = checks(&app, &ann, integration).await;
    let revenue = metric(&all, "gross_revenue");
    assert_eq!(revenue["source_value"], json!(gross));
    assert_eq!(revenue["pulseboard_value"], json!(gross + 1234));
    assert_eq!(revenue["difference"], 1234);
    assert_eq!(
        revenue["records"],
        json!([{ "record": format!("charge/{altered}"), "source": amount, "pulseboard": amount + 1234 }])
    );
    assert_eq!(revenue["warning"], json!(1234 * 1000 > gross * 5));
    // Refunds were not touched.
    assert_eq!(metric(&all, "refunds")["difference"], 0);
}

/// Shopify: yesterday's orders and gross sales against Shopify's own listing of the
/// orders processed that day. A clean shop has no difference; an order the sync never
/// saw (hidden from listings by `updated_at`) is a difference of one order and exactly
/// its gross sales, naming it.
#[tokio::test]
async fn shopify_orders_the_sync_never_saw_are_the_difference() {
    let mut config = config();
    config.data.shopify_daily_orders = 25.0;
    config.shopify_bucket = pulseboard_simulator::ThrottleConfig {
        maximum_available: 1000.0,
        restore_rate: 100_000.0,
    };
    let (app, sim) = spawn_app_with_simulator(config).await;
    let tz: Tz = ZONE.parse().unwrap();
    let yesterday = Utc::now().with_timezone(&tz).date_naive() - Days::new(1);

    // Yesterday's counted orders and their gross sales, by the ledger.
    let ledgers = |shop: &str| {
        let ledger = sim.shopify_ledger(&format!("{shop}.myshopify.com"));
        ledger
            .orders
            .iter()
            .filter(|o| !o.test && o.cancelled_at.is_none())
            .filter(|o| crate::sync::day_of(o.processed_at, tz) == yesterday)
            .map(|o| {
                let gross: i64 = o
                    .lines
                    .iter()
                    .map(|l| l.unit_price * i64::from(l.quantity))
                    .sum();
                (o.id, gross)
            })
            .collect::<Vec<_>>()
    };
    let hidden_shop = ledgers("acme-coffee");
    let clean_shop = ledgers("bean-there");
    assert!(hidden_shop.len() > 1 && !clean_shop.is_empty());
    let (hidden, hidden_gross) = hidden_shop[0];
    assert!(sim.hide_shopify_order("acme-coffee.myshopify.com", hidden));

    let mut results = Vec::new();
    for (email, org, shop) in [
        ("ann@example.com", "Acme", "acme-coffee"),
        ("bob@example.com", "Bobco", "bean-there"),
    ] {
        let user = app.signup(email, org).await;
        sqlx::query("UPDATE stores SET timezone = $2 WHERE id = $1")
            .bind(user.store_id)
            .bind(ZONE)
            .execute(&app.db)
            .await
            .unwrap();
        let started = crate::oauth::start_flow(&app, &user, "shopify", Some(shop)).await;
        crate::oauth::visit(&user.client, &started.callback).await;
        assert_eq!(run_all(&app).await, 1);
        let integration: Uuid =
            sqlx::query_scalar("SELECT id FROM integrations WHERE store_id = $1")
                .bind(user.store_id)
                .fetch_one(&app.db)
                .await
                .unwrap();
        results.push(checks(&app, &user, integration).await);
    }

    let (orders, gross) = (
        hidden_shop.len() as i64,
        hidden_shop.iter().map(|(_, g)| g).sum::<i64>(),
    );
    let acme = &results[0];
    let counted = metric(acme, "orders");
    assert_eq!(counted["source_value"], json!(orders));
    assert_eq!(counted["pulseboard_value"], json!(orders - 1));
    assert_eq!(counted["difference"], -1);
    assert_eq!(counted["warning"], true, "any count difference warns");
    let record = format!("order/gid://shopify/Order/{hidden}");
    assert_eq!(
        counted["records"],
        json!([{ "record": record, "source": 1, "pulseboard": null }])
    );
    let sales = metric(acme, "gross_sales");
    assert_eq!(sales["source_value"], json!(gross));
    assert_eq!(sales["difference"], json!(-hidden_gross));

    let bob = &results[1];
    let clean_gross: i64 = clean_shop.iter().map(|(_, g)| g).sum();
    assert_eq!(
        metric(bob, "orders")["source_value"],
        json!(clean_shop.len())
    );
    assert_eq!(metric(bob, "orders")["difference"], 0);
    assert_eq!(
        metric(bob, "gross_sales")["source_value"],
        json!(clean_gross)
    );
    assert_eq!(metric(bob, "gross_sales")["difference"], 0);
    assert_eq!(metric(bob, "gross_sales")["records"], json!([]));
}

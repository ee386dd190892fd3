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

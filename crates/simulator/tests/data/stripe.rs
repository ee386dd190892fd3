//! Stripe's list endpoints against the ledger.

use pulseboard_simulator::{
    defaults, endpoints, DataConfig, Fault, SimulatorConfig, SubscriptionStatus,
};
use reqwest::{redirect::Policy, StatusCode};
use serde_json::Value;

use crate::helpers::{config, start, stripe_get, stripe_get_as, stripe_walk, DAY, END};

fn ids(objects: &[Value]) -> Vec<String> {
    objects
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn same_seed_gives_the_same_data_and_another_seed_does_not() {
    let (a, b) = (start(config(90)).await, start(config(90)).await);
    let mut other_config = config(90);
    other_config.data.seed = 43;
    let other = start(other_config).await;
    assert!(a.stripe_ledger() == b.stripe_ledger());
    assert!(a.shopify_ledger("x.myshopify.com") == b.shopify_ledger("x.myshopify.com"));
    assert!(a.stripe_ledger().charges != other.stripe_ledger().charges);
    assert!(
        a.shopify_ledger("x.myshopify.com").orders
            != other.shopify_ledger("x.myshopify.com").orders
    );
    // The HTTP view is byte-identical too.
    let (_, _, page_a) = stripe_get(&a, "v1/invoices?limit=100").await;
    let (_, _, page_b) = stripe_get(&b, "v1/invoices?limit=100").await;
    assert_eq!(page_a.to_string(), page_b.to_string());
}

#[tokio::test]
async fn walking_charges_returns_every_ledger_charge_once_newest_first() {
    let sim = start(config(120)).await;
    let walked = stripe_walk(&sim, "v1/charges", "").await;
    let mut expected = sim.stripe_ledger().charges;
    expected.sort_by(|a, b| (b.created, &b.id).cmp(&(a.created, &a.id)));
    assert!(expected.len() > 300, "{}", expected.len());
    assert_eq!(
        ids(&walked),
        expected.iter().map(|c| c.id.clone()).collect::<Vec<_>>()
    );
    for (json, charge) in walked.iter().zip(&expected) {
        assert_eq!(json["object"], "charge");
        assert_eq!(json["amount"], charge.amount);
        assert_eq!(json["amount_refunded"], charge.amount_refunded);
        assert_eq!(json["status"], charge.status.as_str());
        assert_eq!(json["customer"], charge.customer.as_str());
    }
}

#[tokio::test]
async fn every_list_endpoint_pages_through_its_ledger_collection() {
    let sim = start(config(60)).await;
    let ledger = sim.stripe_ledger();
    let count = |path: &'static str, extra: &'static str| {
        let sim = &sim;
        async move { stripe_walk(sim, path, extra).await.len() }
    };
    assert_eq!(count("v1/customers", "").await, ledger.customers.len());
    assert_eq!(count("v1/invoices", "").await, ledger.invoices.len());
    assert_eq!(count("v1/refunds", "").await, ledger.refunds.len());
    assert_eq!(
        count("v1/subscriptions", "&status=all").await,
        ledger.subscriptions.len()
    );
    let live = ledger
        .subscriptions
        .iter()
        .filter(|s| s.status != SubscriptionStatus::Canceled)
        .count();
    assert_eq!(count("v1/subscriptions", "").await, live);
    assert!(
        live < ledger.subscriptions.len(),
        "some subscriptions churned"
    );
    assert_eq!(count("v1/events", "").await, ledger.events.len());

    let subscription = &ledger.subscriptions[0];
    let (_, _, json) = stripe_get(
        &sim,
        &format!(
            "v1/subscriptions?status=all&customer={}",
            subscription.customer
        ),
    )
    .await;
    let item = &json["data"][0]["items"]["data"][0];
    assert_eq!(
        item["price"]["unit_amount"],
        subscription.current().unit_amount
    );
    assert_eq!(item["quantity"], subscription.current().quantity);
    assert_eq!(
        item["price"]["recurring"]["interval"],
        subscription.current().interval.as_str()
    );
}

#[tokio::test]
async fn created_filters_and_ending_before_page_like_stripe() {
    let sim = start(config(60)).await;
    let since = END - 10 * DAY;
    let walked = stripe_walk(&sim, "v1/charges", &format!("&created[gte]={since}")).await;
    let expected = sim
        .stripe_ledger()
        .charges
        .iter()
        .filter(|c| c.created >= since)
        .count();
    assert_eq!(walked.len(), expected);
    assert!(walked
        .iter()
        .all(|c| c["created"].as_i64().unwrap() >= since));
    let (_, _, before) = stripe_get(&sim, &format!("v1/charges?created[lt]={since}&limit=3")).await;
    assert!(before["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["created"].as_i64().unwrap() < since));

    // ending_before gives the page just newer than the cursor, still newest first.
    let all = stripe_walk(&sim, "v1/charges", "").await;
    let cursor = all[25]["id"].as_str().unwrap();
    let (_, _, newer) =
        stripe_get(&sim, &format!("v1/charges?limit=10&ending_before={cursor}")).await;
    assert_eq!(ids(newer["data"].as_array().unwrap()), ids(&all[15..25]));
    assert_eq!(newer["has_more"], true);
    assert_eq!(newer["url"], "/v1/charges");
    assert_eq!(newer["object"], "list");
}

#[tokio::test]
async fn bad_parameters_are_invalid_request_errors() {
    let sim = start(config(60)).await;
    for limit in ["0", "101"] {
        let (status, _, body) = stripe_get(&sim, &format!("v1/charges?limit={limit}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert_eq!(body["error"]["param"], "limit");
    }
    let (status, _, body) = stripe_get(&sim, "v1/refunds?starting_after=re_nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "resource_missing");
    assert_eq!(body["error"]["param"], "starting_after");
    assert_eq!(body["error"]["message"], "No such refund: 're_nope'");
    let (status, _, body) = stripe_get(&sim, "v1/invoices?colour=blue").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["param"], "colour");
}

#[tokio::test]
async fn data_endpoints_need_a_key_or_token_the_simulator_knows() {
    let sim = start(config(60)).await;
    let (status, _, body) = stripe_get_as(&sim, "v1/charges", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["type"], "invalid_request_error");
    let (status, _, body) = stripe_get_as(&sim, "v1/events", Some("rk_test_nope12345678")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["error"]["message"],
        "Invalid API Key provided: rk_test_****5678"
    );

    // An access token from the OAuth flow works like a restricted key.
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let redirect = client
        .get(format!("{}/oauth/authorize", sim.stripe_connect_base()))
        .query(&[
            ("client_id", defaults::STRIPE_CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", "http://localhost/cb"),
        ])
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(redirect.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let token: Value = client
        .post(format!("{}/oauth/token", sim.stripe_connect_base()))
        .bearer_auth(defaults::STRIPE_SECRET_KEY)
        .form(&[("grant_type", "authorization_code"), ("code", &code)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["access_token"].as_str().unwrap();
    let (status, _, _) = stripe_get_as(&sim, "v1/subscriptions", Some(access)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn events_are_kept_for_30_days_only() {
    let sim = start(config(120)).await;
    let events = stripe_walk(&sim, "v1/events", "").await;
    assert!(events.len() > 100);
    assert!(events
        .iter()
        .all(|e| e["created"].as_i64().unwrap() >= END - 30 * DAY));
    // The history goes back 120 days, so older activity exists but has no events.
    let ledger = sim.stripe_ledger();
    assert!(ledger.charges.iter().any(|c| c.created < END - 60 * DAY));
    let oldest = events.last().unwrap()["created"].as_i64().unwrap();
    assert!(oldest < END - 29 * DAY, "the window is filled: {oldest}");

    let kinds: std::collections::BTreeSet<&str> =
        events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    for kind in [
        "customer.created",
        "customer.subscription.created",
        "customer.subscription.updated",
        "invoice.created",
        "invoice.paid",
        "charge.succeeded",
    ] {
        assert!(kinds.contains(kind), "{kind} in {kinds:?}");
    }
    let filtered = stripe_walk(
        &sim,
        "v1/events",
        "&types[]=invoice.paid&types[]=invoice.payment_failed",
    )
    .await;
    assert!(!filtered.is_empty());
    assert!(filtered
        .iter()
        .all(|e| e["type"].as_str().unwrap().starts_with("invoice.")));
    let wildcard = stripe_walk(&sim, "v1/events", "&type=customer.subscription.*").await;
    assert!(wildcard.iter().all(|e| e["type"]
        .as_str()
        .unwrap()
        .starts_with("customer.subscription.")));
    assert_eq!(events[0]["object"], "event");
    assert_eq!(
        events[0]["data"]["object"]["id"],
        ledger
            .events
            .iter()
            .find(|e| e.id == events[0]["id"])
            .unwrap()
            .object_id
    );

    // Advancing the clock ages events out.
    sim.advance_to(END + 20 * DAY);
    let later = stripe_walk(&sim, "v1/events", "").await;
    assert!(later
        .iter()
        .all(|e| e["created"].as_i64().unwrap() >= END - 10 * DAY));
}

#[tokio::test]
async fn refunding_a_charge_shows_up_in_the_charge_and_the_events() {
    let sim = start(config(60)).await;
    let charge = sim
        .stripe_ledger()
        .charges
        .into_iter()
        .find(|c| c.paid() && c.amount_refunded == 0)
        .unwrap();
    let refund = sim.refund_stripe_charge(&charge.id, 500).unwrap();
    assert_eq!(refund.created, END);
    assert!(sim.refund_stripe_charge(&charge.id, charge.amount).is_err());
    assert!(sim.refund_stripe_charge("ch_nope", 1).is_err());

    let (_, _, events) = stripe_get(&sim, "v1/events?limit=2").await;
    let events = events["data"].as_array().unwrap();
    let refunded = events
        .iter()
        .find(|e| e["type"] == "charge.refunded")
        .expect("charge.refunded");
    assert_eq!(refunded["data"]["object"]["id"], charge.id.as_str());
    assert_eq!(refunded["data"]["object"]["amount_refunded"], 500);
    assert_eq!(
        refunded["data"]["previous_attributes"]["amount_refunded"],
        0
    );
    let created = events
        .iter()
        .find(|e| e["type"] == "refund.created")
        .expect("refund.created");
    assert_eq!(created["data"]["object"]["id"], refund.id.as_str());

    let listed = stripe_walk(
        &sim,
        "v1/charges",
        &format!("&customer={}", charge.customer),
    )
    .await;
    let listed = listed
        .iter()
        .find(|c| c["id"] == charge.id.as_str())
        .unwrap();
    assert_eq!(listed["amount_refunded"], 500);
    assert_eq!(listed["refunded"], charge.amount == 500);
    let (_, _, refunds) = stripe_get(&sim, &format!("v1/refunds?charge={}", charge.id)).await;
    assert_eq!(refunds["data"][0]["amount"], 500);
}

#[tokio::test]
async fn advancing_the_clock_adds_activity_deterministically() {
    let sim = start(config(60)).await;
    let twin = start(config(60)).await;
    let before = sim.stripe_ledger();
    sim.advance_to(END + DAY);
    sim.advance_to(END + 3 * DAY);
    twin.advance_to(END + 3 * DAY);
    let after = sim.stripe_ledger();
    assert_eq!(after.end, END + 3 * DAY);
    assert!(after.charges.len() > before.charges.len());
    assert!(after
        .charges
        .iter()
        .skip(before.charges.len())
        .all(|c| c.created >= END));
    assert!(after == twin.stripe_ledger());
    let (_, _, newest) = stripe_get(&sim, "v1/charges?limit=1").await;
    assert!(newest["data"][0]["created"].as_i64().unwrap() >= END);
}

#[tokio::test]
async fn rate_limits_and_faults_answer_like_stripe() {
    let sim = start(SimulatorConfig {
        stripe_rate_limit: Some(2),
        data: DataConfig {
            history_days: 30,
            end: END,
            ..DataConfig::default()
        },
        ..SimulatorConfig::default()
    })
    .await;
    let mut limited = None;
    for _ in 0..5 {
        let (status, headers, body) = stripe_get(&sim, "v1/customers").await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some((headers, body));
            break;
        }
    }
    let (headers, body) = limited.expect("the third request within a second is limited");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["code"], "rate_limit");
    assert_eq!(headers["stripe-should-retry"], "true");
    assert!(
        headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );

    let sim = start(config(30)).await;
    sim.script(endpoints::STRIPE_EVENTS, Fault::ServerError, 1);
    let (status, headers, _) = stripe_get(&sim, "v1/events").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(headers["stripe-should-retry"], "true");
    let (status, _, _) = stripe_get(&sim, "v1/events").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sim.calls(endpoints::STRIPE_EVENTS), 2);
    assert_eq!(sim.calls(endpoints::STRIPE_CHARGES), 0);
}

//! The `/_sim/...` data controls for the standalone simulator.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{config, start, DAY, END, SHOP};

#[tokio::test]
async fn http_controls_mirror_the_handle() {
    let sim = start(config(60)).await;
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}/_sim/{path}", sim.base_url());

    let clock: Value = client
        .get(url("clock"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(clock["end"], END);
    let ledger: Value = client
        .get(url("stripe/ledger"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let charge = ledger["charges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == "succeeded" && c["amount_refunded"] == 0)
        .unwrap();
    let id = charge["id"].as_str().unwrap();

    // Without an amount, the rest of the charge is refunded.
    let refund = client
        .post(url(&format!("stripe/charges/{id}/refund")))
        .send()
        .await
        .unwrap();
    assert_eq!(refund.status(), StatusCode::OK);
    let refund: Value = refund.json().await.unwrap();
    assert_eq!(refund["amount"], charge["amount"]);
    let again = client
        .post(url(&format!("stripe/charges/{id}/refund")))
        .json(&json!({ "amount": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let missing = client
        .post(url("stripe/charges/ch_nope/refund"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let shop: Value = client
        .get(url(&format!("shopify/{SHOP}/ledger")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let order = shop["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["cancelled_at"].is_null() && o["refunds"].as_array().unwrap().is_empty())
        .unwrap();
    let gid = format!("gid%3A%2F%2Fshopify%2FOrder%2F{}", order["id"]);
    let edit = client
        .post(url(&format!("shopify/{SHOP}/orders/{gid}/edit")))
        .send()
        .await
        .unwrap();
    assert_eq!(edit.status(), StatusCode::OK);
    let refund = client
        .post(url(&format!(
            "shopify/{SHOP}/orders/{}/refund",
            order["id"]
        )))
        .json(&json!({ "amount": 250 }))
        .send()
        .await
        .unwrap();
    assert_eq!(refund.status(), StatusCode::OK);
    let edited = sim
        .shopify_ledger(SHOP)
        .orders
        .into_iter()
        .find(|o| o.id == order["id"].as_u64().unwrap())
        .unwrap();
    assert_eq!(edited.edits.len(), 1);
    assert_eq!(edited.total_refunded, 250);
    assert_eq!(edited.updated_at, END);

    let advanced: Value = client
        .post(url("advance"))
        .json(&json!({ "to": END + 2 * DAY }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(advanced["end"], END + 2 * DAY);
    assert_eq!(sim.data_end(), END + 2 * DAY);
    assert!(sim
        .shopify_ledger(SHOP)
        .orders
        .iter()
        .any(|o| o.created_at >= END));
    // The clock never goes back.
    assert_eq!(sim.advance_to(END), END + 2 * DAY);
}

#[path = "data/helpers.rs"]
mod helpers;
use helpers::*;
use serde_json::json;
use std::time::Instant;

#[tokio::test]
async fn timing() {
    let mut c = config(90);
    c.shopify_bucket.maximum_available = 1e9; c.shopify_bucket.restore_rate = 1e9;
    let sim = start(c).await;
    let token = shopify_token(&sim, SHOP, ALL_SCOPES).await;
    let t = Instant::now();
    let _ = sim.shopify_ledger(SHOP);
    eprintln!("generate+clone {:?}", t.elapsed());
    let q = "query($after: String){ orders(first: 100, after: $after, sortKey: UPDATED_AT) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }";
    let base = sim.shopify_shop_base_template().replace("{shop}", SHOP);
    let client = reqwest::Client::new();
    for _ in 0..20 {
        let t = Instant::now();
        let r = client.post(format!("{base}/admin/api/2025-01/graphql.json")).header("X-Shopify-Access-Token", &token).json(&json!({"query": q, "variables": {}})).send().await.unwrap();
        let t1 = t.elapsed();
        let bytes = r.bytes().await.unwrap();
        let t2 = t.elapsed();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let t3 = t.elapsed();
        eprintln!("headers {t1:?} body {t2:?} parse {t3:?} size {} {}", bytes.len(), v["data"]["orders"]["edges"].as_array().unwrap().len());
    }
}

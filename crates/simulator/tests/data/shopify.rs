//! Shopify's GraphQL connections against the ledger.

use pulseboard_simulator::{
    endpoints, money::format_decimal, parse_gid, shopify_cost, Fault, ShopifyOrder, ThrottleConfig,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{config, graphql, shopify_token, start, ALL_SCOPES, DAY, END, SHOP};

const ORDERS: &str = r#"
query Orders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {
    edges { cursor node { id name updatedAt totalPriceSet { shopMoney { amount currencyCode } } } }
    pageInfo { hasNextPage endCursor }
  }
}"#;

/// Every order node, walking pages of `first` from `after`.
async fn walk_orders(
    sim: &pulseboard_simulator::SimulatorHandle,
    token: &str,
    query: Option<&str>,
    mut after: Option<String>,
) -> (Vec<Value>, Option<String>) {
    let mut nodes = Vec::new();
    loop {
        let variables = json!({ "first": 100, "after": after, "query": query });
        let (status, body) = graphql(sim, SHOP, token, ORDERS, variables).await;
        assert_eq!(status, StatusCode::OK);
        let orders = &body["data"]["orders"];
        assert!(orders.is_object(), "{body}");
        for edge in orders["edges"].as_array().unwrap() {
            nodes.push(edge["node"].clone());
        }
        let end_cursor = orders["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        if end_cursor.is_some() {
            after = end_cursor;
        }
        if !orders["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return (nodes, after);
        }
    }
}

fn order_ids(nodes: &[Value]) -> Vec<u64> {
    nodes
        .iter()
        .map(|n| parse_gid("Order", n["id"].as_str().unwrap()).unwrap())
        .collect()
}

fn by_updated(orders: &[ShopifyOrder]) -> Vec<u64> {
    let mut orders: Vec<&ShopifyOrder> = orders.iter().collect();
    orders.sort_by_key(|o| (o.updated_at, o.id));
    orders.iter().map(|o| o.id).collect()
}

fn generous_bucket() -> pulseboard_simulator::SimulatorConfig {
    let mut config = config(90);
    config.shopify_bucket = ThrottleConfig {
        maximum_available: 1_000_000.0,
        restore_rate: 1_000_000.0,
    };
    config
}

#[tokio::test]
async fn walking_orders_by_updated_at_returns_every_order_once_in_order() {
    let sim = start(generous_bucket()).await;
    let token = shopify_token(&sim, SHOP, ALL_SCOPES).await;
    let (nodes, _) = walk_orders(&sim, &token, None, None).await;
    let ledger = sim.shopify_ledger(SHOP);
    assert!(ledger.orders.len() > 2000, "{}", ledger.orders.len());
    assert_eq!(order_ids(&nodes), by_updated(&ledger.orders));
}

#[tokio::test]
async fn money_strings_and_nodes_match_the_ledger() {
    let sim = start(generous_bucket()).await;
    let token = shopify_token(&sim, SHOP, ALL_SCOPES).await;
    let query = "{ orders(first: 250, sortKey: CREATED_AT, reverse: true) { nodes { id } } }";
    let (_, body) = graphql(&sim, SHOP, &token, query, json!({})).await;
    let ledger = sim.shopify_ledger(SHOP);
    let nodes = body["data"]["orders"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 250);
    let money = |minor: i64| format_decimal(minor, "USD");
    let mut seen_refund = false;
    for node in nodes {
        let id = parse_gid("Order", node["id"].as_str().unwrap()).unwrap();
        let order = ledger.orders.iter().find(|o| o.id == id).unwrap();
        let amount = |field: &str| {
            node[field]["shopMoney"]["amount"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(amount("totalPriceSet"), money(order.total_price));
        assert_eq!(amount("subtotalPriceSet"), money(order.subtotal));
        assert_eq!(amount("totalTaxSet"), money(order.total_tax));
        assert_eq!(amount("totalDiscountsSet"), money(order.total_discounts));
        assert_eq!(amount("totalShippingPriceSet"), money(order.total_shipping));
        assert_eq!(amount("totalRefundedSet"), money(order.total_refunded));
        assert_eq!(node["totalPriceSet"]["shopMoney"]["currencyCode"], "USD");
        assert_eq!(node["name"], order.name.as_str());
        match &order.shipping_country {
            Some(country) => assert_eq!(node["shippingAddress"]["countryCodeV2"], country.as_str()),
            None => assert!(node["shippingAddress"].is_null(), "point of sale"),
        }
        assert_eq!(node["lineItems"]["pageInfo"]["hasNextPage"], false);
        let lines = node["lineItems"]["nodes"].as_array().unwrap();
        assert_eq!(lines.len(), order.lines.len());
        for (json, line) in lines.iter().zip(&order.lines) {
            assert_eq!(json["quantity"], line.quantity);
            assert_eq!(
                json["originalUnitPriceSet"]["shopMoney"]["amount"],
                money(line.unit_price)
            );
            assert_eq!(
                json["discountedTotalSet"]["shopMoney"]["amount"],
                money(line.discounted_total)
            );
        }
        assert_eq!(
            node["refunds"].as_array().unwrap().len(),
            order.refunds.len()
        );
        seen_refund |= !order.refunds.is_empty();
        match order.customer {
            Some(customer) => {
                let count = ledger
                    .customers
                    .iter()
                    .find(|c| c.id == customer)
                    .unwrap()
                    .number_of_orders;
                assert_eq!(node["customer"]["numberOfOrders"], count.to_string());
            }
            None => assert!(node["customer"].is_null()),
        }
    }
    assert!(seen_refund, "recent orders include refunded ones");
    // Sorted newest first by createdAt.
    let newest = ledger.orders.iter().map(|o| o.created_at).max().unwrap();
    let first = ledger
        .orders
        .iter()
        .find(|o| o.id == parse_gid("Order", nodes[0]["id"].as_str().unwrap()).unwrap())
        .unwrap();
    assert_eq!(first.created_at, newest);
}

#[tokio::test]
async fn updated_at_search_limits_the_orders() {
    let sim = start(generous_bucket()).await;
    let token = shopify_token(&sim, SHOP, ALL_SCOPES).await;
    let (from, to) = (END - 20 * DAY, END - 10 * DAY);
    let iso = |t: i64| {
        // The ledger's own formatting is what the API uses; rebuild it here independently.
        let node_time = chrono_free_iso(t);
        format!("'{node_time}'")
    };
    let query = format!("updated_at:>={} updated_at:<{}", iso(from), iso(to));
    let (nodes, _) = walk_orders(&sim, &token, Some(&query), None).await;
    let ledger = sim.shopify_ledger(SHOP);
    let expected: Vec<ShopifyOrder> = ledger
        .orders
        .iter()
        .filter(|o| (from..to).contains(&o.updated_at))
        .cloned()
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(order_ids(&nodes), by_updated(&expected));
}

/// `YYYY-MM-DDTHH:MM:SSZ` without a date library (Howard Hinnant's civil-from-days).
fn chrono_free_iso(t: i64) -> String {
    let z = t.div_euclid(DAY) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let s = t.rem_euclid(DAY);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

#[tokio::test]
async fn an_edited_order_comes_back_after_the_old_cursor_with_new_totals() {
    let sim = start(generous_bucket()).await;
    let token = shopify_token(&sim, SHOP, ALL_SCOPES).await;
    let (nodes, cursor) = walk_orders(&sim, &token, None, None).await;
    let ledger = sim.shopify_ledger(SHOP);
    let order = ledger
        .orders
        .iter()
        .find(|o| o.cancelled_at.is_none() && o.refunds.is_empty() && o.created_at < END - 30 * DAY)
        .unwrap()
        .clone();

    let edit = sim.edit_shopify_order(SHOP, order.id).unwrap();
    assert_eq!(edit.at, END);
    assert_ne!(edit.new_total_price, edit.old_total_price);
    let (again, _) = walk_orders(&sim, &token, None, cursor).await;
    assert_eq!(order_ids(&again), vec![order.id]);
    let node = &again[0];
    assert_eq!(node["updatedAt"], chrono_free_iso(END));
    assert_eq!(
        node["totalPriceSet"]["shopMoney"]["amount"],
        format_decimal(edit.new_total_price, "USD")
    );
    let edited = sim
        .shopify_ledger(SHOP)
        .orders
        .into_iter()
        .find(|o| o.id == order.id)
        .unwrap();
    assert_eq!(edited.total_price, edit.new_total_price);
    assert_eq!(edited.edits.last(), Some(&edit));
    assert!(nodes.len() > 100);

    // A refund moves it again.
    let refund = sim.refund_shopify_order(SHOP, order.id, 100).unwrap();
    assert_eq!(refund.amount, 100);
    assert!(sim
        .refund_shopify_order(SHOP, order.id, edited.total_price)
        .is_err());
    assert!(sim.edit_shopify_order(SHOP, 1).is_err());
}

#[tokio::test]
async fn the_bucket_drains_and_throttled_arrives_inside_a_200() {
    let mut config = config(60);
    config.shopify_bucket = ThrottleConfig {
        maximum_available: 1000.0,
        restore_rate: 1.0,
    };
    let sim = start(config).await;
    let token = shopify_token(&sim, SHOP, ALL_SCOPES).await;
    let requested = shopify_cost::CONNECTION + 100 * shopify_cost::ORDER;
    let mut available = Vec::new();
    let throttled = loop {
        let (status, body) = graphql(&sim, SHOP, &token, ORDERS, json!({ "first": 100 })).await;
        assert_eq!(status, StatusCode::OK);
        if body["errors"].is_array() {
            break body;
        }
        assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], requested);
        assert_eq!(
            body["extensions"]["cost"]["actualQueryCost"], requested,
            "a full page"
        );
        available.push(
            body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
                .as_f64()
                .unwrap(),
        );
        assert!(available.len() < 10, "never throttled: {available:?}");
    };
    assert_eq!(available.len(), 3, "{available:?}");
    assert!(available.windows(2).all(|w| w[1] < w[0]));
    assert_eq!(throttled["errors"][0]["extensions"]["code"], "THROTTLED");
    assert!(throttled.get("data").is_none_or(Value::is_null));
    let status = &throttled["extensions"]["cost"]["throttleStatus"];
    assert_eq!(status["maximumAvailable"], 1000.0);
    assert_eq!(status["restoreRate"], 1.0);
    assert!(status["currentlyAvailable"].as_f64().unwrap() < f64::from(requested));

    // A cheap query still fits, and costs what it returned.
    let (_, body) = graphql(
        &sim,
        SHOP,
        &token,
        "{ products(first: 5) { nodes { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        body["extensions"]["cost"]["actualQueryCost"],
        shopify_cost::CONNECTION + 5
    );
}

#[tokio::test]
async fn queries_above_the_maximum_cost_are_refused() {
    let mut config = config(30);
    config.shopify_bucket = ThrottleConfig {
        maximum_available: 100.0,
        restore_rate: 10.0,
    };
    let sim = start(config).await;
    let token = shopify_token(&sim, SHOP, ALL_SCOPES).await;
    let (status, body) = graphql(&sim, SHOP, &token, ORDERS, json!({ "first": 50 })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["errors"][0]["extensions"]["code"], "MAX_COST_EXCEEDED");
    let (_, body) = graphql(&sim, SHOP, &token, ORDERS, json!({ "first": 251 })).await;
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("250"));
    let (_, body) = graphql(&sim, SHOP, &token, "{ orders { nodes { id } } }", json!({})).await;
    assert!(body["errors"].is_array());
}

#[tokio::test]
async fn old_orders_need_read_all_orders_and_fields_need_their_scope() {
    let sim = start(generous_bucket()).await;
    let limited = shopify_token(&sim, SHOP, "read_orders").await;
    let (nodes, _) = walk_orders(&sim, &limited, None, None).await;
    let ledger = sim.shopify_ledger(SHOP);
    let recent: Vec<ShopifyOrder> = ledger
        .orders
        .iter()
        .filter(|o| o.created_at >= END - 60 * DAY)
        .cloned()
        .collect();
    assert!(recent.len() < ledger.orders.len());
    assert_eq!(order_ids(&nodes), by_updated(&recent));

    let (_, body) = graphql(
        &sim,
        SHOP,
        &limited,
        "{ customers(first: 1) { nodes { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "ACCESS_DENIED");
}

#[tokio::test]
async fn customers_products_and_checkouts_page_completely() {
    let sim = start(generous_bucket()).await;
    let token = shopify_token(&sim, SHOP, ALL_SCOPES).await;
    let ledger = sim.shopify_ledger(SHOP);
    for (field, kind, expected) in [
        ("customers", "Customer", ledger.customers.len()),
        ("products", "Product", ledger.products.len()),
        (
            "abandonedCheckouts",
            "AbandonedCheckout",
            ledger.checkouts.len(),
        ),
    ] {
        let query = format!(
            "query($after: String) {{ {field}(first: 250, after: $after, sortKey: UPDATED_AT) {{ edges {{ cursor node {{ id updatedAt }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
        );
        let mut after: Option<String> = None;
        let mut ids = std::collections::BTreeSet::new();
        let mut last = String::new();
        loop {
            let (_, body) = graphql(&sim, SHOP, &token, &query, json!({ "after": after })).await;
            let connection = &body["data"][field];
            for edge in connection["edges"].as_array().expect(field) {
                let node = &edge["node"];
                assert!(ids.insert(parse_gid(kind, node["id"].as_str().unwrap()).unwrap()));
                let updated = node["updatedAt"].as_str().unwrap().to_owned();
                assert!(updated >= last, "{field} sorted by updatedAt");
                last = updated;
            }
            if !connection["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                break;
            }
            after = connection["pageInfo"]["endCursor"]
                .as_str()
                .map(str::to_owned);
        }
        assert_eq!(ids.len(), expected, "{field}");
    }
    let query = "{ abandonedCheckouts(first: 50, reverse: true) { nodes { id } } }";
    let (_, body) = graphql(&sim, SHOP, &token, query, json!({})).await;
    for node in body["data"]["abandonedCheckouts"]["nodes"]
        .as_array()
        .unwrap()
    {
        let id = parse_gid("AbandonedCheckout", node["id"].as_str().unwrap()).unwrap();
        let checkout = ledger.checkouts.iter().find(|c| c.id == id).unwrap();
        assert_eq!(
            node["shippingAddress"]["countryCodeV2"],
            checkout.shipping_country.as_str()
        );
        assert_eq!(
            node["totalPriceSet"]["shopMoney"]["amount"],
            format_decimal(checkout.total_price, "USD")
        );
        assert_eq!(
            node["completedAt"].is_null(),
            checkout.completed_at.is_none()
        );
    }
    let checkouts = ledger.checkouts.len() as f64 / ledger.orders.len() as f64;
    assert!((2.0..3.0).contains(&checkouts), "{checkouts}");
}

#[tokio::test]
async fn graphql_needs_this_shops_token_and_keeps_faults() {
    let sim = start(config(30)).await;
    let token = shopify_token(&sim, SHOP, ALL_SCOPES).await;
    let other = shopify_token(&sim, "other.myshopify.com", ALL_SCOPES).await;
    let (status, _) = graphql(&sim, SHOP, &other, ORDERS, json!({ "first": 1 })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = graphql(&sim, SHOP, "shpat_nope", ORDERS, json!({ "first": 1 })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    sim.script(
        endpoints::SHOPIFY_GRAPHQL,
        Fault::RateLimited {
            retry_after_secs: 2,
        },
        1,
    );
    sim.script(endpoints::SHOPIFY_GRAPHQL, Fault::ServerError, 1);
    let (status, _) = graphql(&sim, SHOP, &token, ORDERS, json!({ "first": 1 })).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, _) = graphql(&sim, SHOP, &token, ORDERS, json!({ "first": 1 })).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let (status, body) = graphql(&sim, SHOP, &token, ORDERS, json!({ "first": 1 })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["orders"]["edges"].as_array().unwrap().len(), 1);

    // The shop query still answers, alongside a connection.
    let (_, body) = graphql(
        &sim,
        SHOP,
        &token,
        "{ shop { name } products(first: 1) { nodes { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(body["data"]["shop"]["name"], "Acme");
    assert_eq!(
        body["extensions"]["cost"]["actualQueryCost"],
        shopify_cost::SHOP + shopify_cost::CONNECTION + 1
    );
    let (_, body) = graphql(
        &sim,
        SHOP,
        &token,
        "{ draftOrders(first: 1) { nodes { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "undefinedField");
}

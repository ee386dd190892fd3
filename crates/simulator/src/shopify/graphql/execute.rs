//! Runs the planned root fields against a generated shop: the `shop` field,
//! connection pages, and the cost bucket charged before and after.

use axum::{
    response::{IntoResponse, Response},
    Json,
};
use serde_json::{json, Map, Value};

use super::{
    cost::{self, connection_cost},
    cursor::encode_cursor,
    plan::{has_scope, plan, Plan, Request},
    scanner::parse_fields,
    search::Bounds,
};
use crate::{
    common::{lock, time::DAY},
    shopify::{
        api::title_case,
        gen::{Connection, ShopGen, SortKey},
    },
    AppState,
};

/// How far back orders are visible without `read_all_orders`.
const RECENT_ORDERS: i64 = 60 * DAY;

/// Runs one connection request; returns its JSON and how many nodes it returned.
fn run(shop: &mut ShopGen, request: &Request, all_orders: bool) -> (Value, usize) {
    let Request {
        connection, sort, ..
    } = *request;
    shop.view(connection, sort);
    let shop: &ShopGen = shop;
    let view = &shop.views[&(connection, sort)];
    let ledger = &shop.ledger;
    let oldest_order = if all_orders {
        i64::MIN
    } else {
        ledger.end - RECENT_ORDERS
    };
    let times = |i: usize| -> (i64, i64) {
        match connection {
            Connection::Orders => (ledger.orders[i].created_at, ledger.orders[i].updated_at),
            Connection::Customers => (
                ledger.customers[i].created_at,
                ledger.customers[i].updated_at,
            ),
            Connection::Products => (ledger.products[i].created_at, ledger.products[i].updated_at),
            Connection::Checkouts => (
                ledger.checkouts[i].created_at,
                ledger.checkouts[i].updated_at,
            ),
        }
    };
    // A hidden order (`ShopGen::hidden_orders`) only shows up in listings of a span
    // of processing dates.
    let by_processing_date = request.search.created != Bounds::default();
    let matches = |i: usize| -> bool {
        let (created, updated) = times(i);
        request.search.created.contains(created)
            && request.search.updated.contains(updated)
            && (connection != Connection::Orders || created >= oldest_order)
            && (connection != Connection::Orders
                || by_processing_date
                || !shop.hidden_orders.contains(&ledger.orders[i].id))
    };
    // The search bounds on the sort field itself narrow the scan.
    let sort_bounds = match sort {
        SortKey::Id => Bounds::default(),
        SortKey::CreatedAt => request.search.created,
        SortKey::UpdatedAt => request.search.updated,
    };
    let key = |i: usize| shop.key(connection, sort, i);
    let len = view.len();

    // Positions in walking order: ascending, or descending with `reverse`.
    let (start, step): (usize, isize) = if request.reverse {
        let below = match request.after {
            Some(cursor) => view.partition_point(|i| key(*i) < cursor),
            None => len,
        };
        let below = below.min(view.partition_point(|i| key(*i).0 <= sort_bounds.upper));
        (below, -1)
    } else {
        let above = match request.after {
            Some(cursor) => view.partition_point(|i| key(*i) <= cursor),
            None => 0,
        };
        (
            above.max(view.partition_point(|i| key(*i).0 < sort_bounds.lower)),
            1,
        )
    };
    let walk = |from: usize, dir: isize| {
        let mut pos = from as isize;
        std::iter::from_fn(move || {
            let here = if dir > 0 { pos } else { pos - 1 };
            if here < 0 || here as usize >= len {
                return None;
            }
            pos += dir;
            let i = view[here as usize];
            Some(i)
        })
        .take_while(move |i| sort_bounds.contains(key(*i).0))
    };
    let mut page = Vec::with_capacity(request.first);
    let mut has_next = false;
    for i in walk(start, step).filter(|i| matches(*i)) {
        if page.len() == request.first {
            has_next = true;
            break;
        }
        page.push(i);
    }
    let has_previous = walk(start, -step).any(matches);

    let node = |i: usize| -> Value {
        match connection {
            Connection::Orders => {
                let order = &ledger.orders[i];
                let customer = order.customer.and_then(|id| shop.customer_by_id(id));
                ledger.order_node(order, customer)
            }
            Connection::Customers => ledger.customer_node(&ledger.customers[i]),
            Connection::Products => ledger.product_node(&ledger.products[i]),
            Connection::Checkouts => ledger.checkout_node(&ledger.checkouts[i]),
        }
    };
    let cursor = |i: &usize| encode_cursor(sort, key(*i));
    let mut connection_json = json!({
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": page.first().map(cursor),
            "endCursor": page.last().map(cursor),
        },
    });
    // Nodes are moved in: `json!` would deep-copy them through serde.
    if request.edges {
        let edges: Vec<Value> = page
            .iter()
            .map(|i| {
                let mut edge = json!({ "cursor": cursor(i) });
                edge["node"] = node(*i);
                edge
            })
            .collect();
        connection_json["edges"] = Value::Array(edges);
    }
    if request.nodes {
        connection_json["nodes"] = page.iter().map(|i| node(*i)).collect();
    }
    (connection_json, page.len())
}

fn shop_node(sim: &AppState, shop: &str) -> Value {
    let config = &sim.config.shopify;
    let name = config
        .shop_names
        .get(shop)
        .cloned()
        .unwrap_or_else(|| title_case(shop));
    json!({
        "name": name,
        "myshopifyDomain": shop,
        "currencyCode": config.currency,
        "ianaTimezone": config.timezone,
    })
}

/// Answers an authenticated GraphQL request for `shop` whose token grants `scopes`.
pub(crate) fn execute(sim: &AppState, shop: &str, scopes: &str, body: &[u8]) -> Response {
    let request: Value = serde_json::from_slice(body).unwrap_or_default();
    let query = request
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let variables = request.get("variables").cloned().unwrap_or(Value::Null);
    let fields = match parse_fields(query) {
        Ok(fields) => fields,
        Err(message) => return Json(
            json!({ "errors": [{ "message": message, "extensions": { "code": "parseError" } }] }),
        )
        .into_response(),
    };
    let mut plans = Vec::new();
    let mut errors = Vec::new();
    for field in &fields {
        match plan(field, &variables, scopes) {
            Ok(plan) => plans.push(plan),
            Err(error) => errors.push(error),
        }
    }
    if !errors.is_empty() {
        return Json(json!({ "errors": errors })).into_response();
    }

    let requested: u32 = plans
        .iter()
        .map(|plan| match plan {
            Plan::Shop(_) => cost::SHOP,
            Plan::Typename(_) => 0,
            Plan::Connection(r) => connection_cost(r.connection, r.first),
        })
        .sum();
    let bucket = sim.config.shopify_bucket;
    let (maximum, restore) = (bucket.maximum_available, bucket.restore_rate);
    if f64::from(requested) > maximum {
        let (_, throttle) = lock(&sim.shopify.buckets).update(shop, maximum, restore, |_| true);
        return Json(json!({
            "errors": [{
                "message": format!(
                    "Query cost is {requested}, which exceeds the single query max cost limit ({maximum}).\n\n\
                     See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n\
                     cost of a query is calculated.\n\n\
                     To query larger amounts of data with fewer limits, bulk operations should be used instead.\n\
                     See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"
                ),
                "extensions": { "code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": maximum },
            }],
            "extensions": { "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": null,
                "throttleStatus": throttle.json(),
            }},
        }))
        .into_response();
    }
    let (reserved, throttle) = lock(&sim.shopify.buckets).update(shop, maximum, restore, |level| {
        let fits = *level >= f64::from(requested);
        if fits {
            *level -= f64::from(requested);
        }
        fits
    });
    if !reserved {
        return Json(json!({
            "errors": [{
                "message": "Throttled",
                "extensions": {
                    "code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                },
            }],
            "extensions": { "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": null,
                "throttleStatus": throttle.json(),
            }},
        }))
        .into_response();
    }

    let mut data = Map::new();
    let mut actual = 0;
    let mut search = Vec::new();
    let all_orders = has_scope(scopes, "read_all_orders");
    for plan in &plans {
        match plan {
            Plan::Shop(key) => {
                actual += cost::SHOP;
                data.insert(key.clone(), shop_node(sim, shop));
            }
            Plan::Typename(key) => {
                data.insert(key.clone(), json!("QueryRoot"));
            }
            Plan::Connection(request) => {
                let (value, count) = {
                    let mut world = lock(&sim.world);
                    run(world.shop(shop), request, all_orders)
                };
                actual += connection_cost(request.connection, count);
                data.insert(request.key.clone(), value);
                if !request.warnings.is_empty() {
                    let warnings: Vec<Value> = request
                        .warnings
                        .iter()
                        .map(|(field, message)| json!({ "field": field, "message": message }))
                        .collect();
                    search.push(json!({
                        "path": [request.key],
                        "query": request.query,
                        "warnings": warnings,
                    }));
                }
            }
        }
    }
    let refund = f64::from(requested - actual);
    let (_, throttle) = lock(&sim.shopify.buckets).update(shop, maximum, restore, |level| {
        *level = (*level + refund).min(maximum);
        true
    });
    let mut extensions = json!({ "cost": {
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": throttle.json(),
    }});
    if !search.is_empty() {
        extensions["search"] = Value::Array(search);
    }
    let mut body = json!({});
    body["data"] = Value::Object(data);
    body["extensions"] = extensions;
    Json(body).into_response()
}

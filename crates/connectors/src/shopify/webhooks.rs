//! Shopify's webhook deliveries. Shopify signs every delivery with the app's own
//! secret (`X-Shopify-Hmac-Sha256`), names it with `X-Shopify-Webhook-Id` (the same
//! on retries) and its topic with `X-Shopify-Topic`. An order topic's REST payload is
//! translated into the GraphQL node the sync stores ([`order_node`]), so the order's
//! numbers move on dashboards at once and the sync's later copy of the same order
//! (same GID, same or newer `updatedAt`) replaces it: one identity across both.
//! `orders/create` is also live-pulse money, as is `refunds/create` (whose numbers
//! arrive with the order's `orders/updated`). `app/uninstalled` revokes the
//! connection, and the three mandatory privacy topics ask for a customer's data or
//! its erasure.

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::derive::{format_minor, minor_units, time_of};
use crate::{
    provider::{
        Redaction, RevenueKind, RevenueMove, WebhookDelivery, WebhookSecret, WebhookSetup,
    },
    support::error::WebhookError,
    sync::RawRecord,
};

pub(super) const SETUP: WebhookSetup = WebhookSetup {
    events: &[
        "orders/create",
        "orders/updated",
        "orders/cancelled",
        "refunds/create",
        "app/uninstalled",
        "customers/data_request",
        "customers/redact",
        "shop/redact",
    ],
    steps: &[
        "In the Shopify Partner Dashboard open the app's configuration (or its shopify.app.toml).",
        "Subscribe {url} to the topics listed here, in JSON format.",
        "Set the compliance webhooks (customer data request, customer redact, shop redact) to {url} as well.",
        "Shopify signs deliveries with the app's API secret, which this server already has: nothing to paste.",
    ],
    secret: WebhookSecret::AppSecret,
};

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer).and_then(|x| match x {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// The campaign an order came from: `utm_campaign` in its landing site's query, or
/// a note attribute the storefront set.
fn campaign(order: &Value) -> Option<String> {
    let from_landing = text(order, "/landing_site").and_then(|site| {
        let query = site.split_once('?')?.1.to_owned();
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == "utm_campaign" && !v.is_empty()).then(|| v.to_owned())
        })
    });
    from_landing.or_else(|| {
        order
            .get("note_attributes")?
            .as_array()?
            .iter()
            .find(|a| {
                matches!(
                    a.get("name").and_then(Value::as_str),
                    Some("utm_campaign" | "campaign")
                )
            })
            .and_then(|a| text(a, "/value"))
    })
}

fn occurred_at(v: &Value, field: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    time_of(v, &format!("/{field}"))
}

/// A REST id as the GraphQL GID the sync stores (`admin_graphql_api_id` when given).
fn gid_of(v: &Value, kind: &str) -> Option<String> {
    text(v, "/admin_graphql_api_id").or_else(|| Some(format!("gid://shopify/{kind}/{}", text(v, "/id")?)))
}

/// A REST money field in the shop's currency: its `…_set.shop_money` amount when
/// present, else the plain field (which REST gives in the shop's currency too).
fn shop_amount(v: &Value, field: &str, currency: &str) -> Option<i64> {
    text(v, &format!("/{field}_set/shop_money/amount"))
        .or_else(|| text(v, &format!("/{field}")))
        .and_then(|a| minor_units(&a, currency))
}

/// A GraphQL `MoneyBag` with `shopMoney` only.
fn money_bag(minor: i64, currency: &str) -> Value {
    serde_json::json!({ "shopMoney": { "amount": format_minor(minor, currency), "currencyCode": currency } })
}

/// A REST order (a webhook's payload) as the GraphQL `Order` node the sync stores,
/// with the fields the derivation reads, so a delivered order counts as the synced
/// one would. A line's `discountedTotalSet` is its original total less the discounts
/// allocated to it (`discount_allocations`); a refund's `totalRefundedSet` is the sum
/// of its successful `refund` transactions. `None` without an id or a creation time.
pub(crate) fn order_node(order: &Value) -> Option<Value> {
    use serde_json::json;
    let currency = text(order, "/currency")?.to_uppercase();
    let id = gid_of(order, "Order")?;
    time_of(order, "/created_at")?;
    let iso = |field: &str| time_of(order, &format!("/{field}")).map(|t| t.to_rfc3339());
    let lines: Vec<Value> = order
        .get("line_items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|line| {
            let quantity = line.get("quantity")?.as_i64()?;
            let unit = shop_amount(line, "price", &currency)?;
            let discounts: i64 = line
                .get("discount_allocations")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|d| shop_amount(d, "amount", &currency))
                .sum();
            let mut node = json!({
                "id": gid_of(line, "LineItem")?,
                "quantity": quantity,
                "currentQuantity": line.get("current_quantity").and_then(Value::as_i64).unwrap_or(quantity),
                "product": text(line, "/product_id").map(|p| json!({ "id": format!("gid://shopify/Product/{p}") })),
            });
            node["originalUnitPriceSet"] = money_bag(unit, &currency);
            node["discountedTotalSet"] = money_bag(unit.checked_mul(quantity)? - discounts, &currency);
            Some(node)
        })
        .collect();
    let refunds: Vec<Value> = order
        .get("refunds")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|refund| {
            let refunded: i64 = refund
                .get("transactions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|t| text(t, "/kind").as_deref() == Some("refund"))
                .filter(|t| text(t, "/status").is_none_or(|s| s == "success"))
                .filter_map(|t| shop_amount(t, "amount", &currency))
                .sum();
            let mut node = json!({
                "id": gid_of(refund, "Refund")?,
                "createdAt": time_of(refund, "/created_at")?.to_rfc3339(),
            });
            node["totalRefundedSet"] = money_bag(refunded, &currency);
            Some(node)
        })
        .collect();
    let mut node = json!({
        "id": id,
        "name": text(order, "/name"),
        "createdAt": iso("created_at"),
        "updatedAt": iso("updated_at").or_else(|| iso("created_at")),
        "processedAt": iso("processed_at"),
        "cancelledAt": iso("cancelled_at"),
        "test": order.get("test").and_then(Value::as_bool).unwrap_or(false),
        "sourceName": text(order, "/source_name"),
        "currencyCode": currency,
        "customer": gid_of(order.get("customer").unwrap_or(&Value::Null), "Customer").map(|c| json!({ "id": c })),
        "shippingAddress": text(order, "/shipping_address/country_code").map(|c| json!({ "countryCodeV2": c })),
        "lineItems": { "nodes": lines },
        "refunds": refunds,
    });
    for (rest, graphql) in [
        ("subtotal_price", "subtotalPriceSet"),
        ("total_price", "totalPriceSet"),
        ("total_discounts", "totalDiscountsSet"),
        ("total_tax", "totalTaxSet"),
        ("total_shipping_price", "totalShippingPriceSet"),
    ] {
        if let Some(minor) = shop_amount(order, rest, &currency) {
            node[graphql] = money_bag(minor, &currency);
        }
    }
    Some(node)
}

/// The stored record of an order topic's payload.
fn order_record(payload: &Value) -> Result<RawRecord, WebhookError> {
    let node = order_node(payload).ok_or(WebhookError::MalformedBody)?;
    Ok(RawRecord {
        object_type: "order".into(),
        external_id: node["id"].as_str().unwrap_or_default().to_owned(),
        updated_at: time_of(&node, "/updatedAt"),
        payload: node,
    })
}

pub(super) fn delivery(headers: &HeaderMap, body: &[u8]) -> Result<WebhookDelivery, WebhookError> {
    let event_id = header(headers, "x-shopify-webhook-id").ok_or(WebhookError::MalformedBody)?;
    let topic = header(headers, "x-shopify-topic").ok_or(WebhookError::MalformedBody)?;
    let payload: Value = serde_json::from_slice(body).map_err(|_| WebhookError::MalformedBody)?;
    let mut delivery = WebhookDelivery {
        event_id,
        event_type: topic.clone(),
        account: header(headers, "x-shopify-shop-domain"),
        records: vec![],
        revenue: vec![],
        revoked: topic == "app/uninstalled",
        redaction: None,
    };
    match topic.as_str() {
        "orders/updated" | "orders/cancelled" => delivery.records.push(order_record(&payload)?),
        "orders/create" => {
            delivery.records.push(order_record(&payload)?);
            let currency = text(&payload, "/currency").unwrap_or_default().to_uppercase();
            let amount = shop_amount(&payload, "total_price", &currency).ok_or(WebhookError::MalformedBody)?;
            delivery.revenue.push(RevenueMove {
                source_id: format!("order/{}", text(&payload, "/id").ok_or(WebhookError::MalformedBody)?),
                kind: RevenueKind::Sale,
                amount_minor: amount,
                currency,
                customer_email: text(&payload, "/email"),
                occurred_at: occurred_at(&payload, "created_at").unwrap_or_else(chrono::Utc::now),
                campaign: campaign(&payload),
                cumulative: false,
                reverses: None,
            });
        }
        "refunds/create" => {
            let transactions = payload
                .get("transactions")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let currency = transactions
                .first()
                .and_then(|t| text(t, "/currency"))
                .unwrap_or_default()
                .to_uppercase();
            let amount: i64 = transactions
                .iter()
                .filter(|t| t.get("kind").and_then(Value::as_str) == Some("refund"))
                .filter(|t| text(t, "/status").is_none_or(|s| s == "success"))
                .filter_map(|t| minor_units(&text(t, "/amount")?, &currency))
                .sum();
            if amount > 0 {
                delivery.revenue.push(RevenueMove {
                    source_id: format!("refund/{}", text(&payload, "/id").ok_or(WebhookError::MalformedBody)?),
                    kind: RevenueKind::Refund,
                    amount_minor: -amount,
                    currency,
                    customer_email: None,
                    occurred_at: occurred_at(&payload, "created_at").unwrap_or_else(chrono::Utc::now),
                    campaign: None,
                    cumulative: false,
                    reverses: text(&payload, "/order_id").map(|o| format!("order/{o}")),
                });
            }
        }
        "customers/redact" => {
            delivery.redaction = Some(Redaction::Customer {
                id: text(&payload, "/customer/id").map(|id| format!("gid://shopify/Customer/{id}")),
                email: text(&payload, "/customer/email"),
            });
        }
        "customers/data_request" => {
            delivery.redaction = Some(Redaction::DataRequest {
                email: text(&payload, "/customer/email"),
            });
        }
        "shop/redact" => delivery.redaction = Some(Redaction::Shop),
        _ => {}
    }
    Ok(delivery)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn headers(topic: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-shopify-webhook-id", "wh-1".parse().unwrap());
        h.insert("x-shopify-topic", topic.parse().unwrap());
        h.insert("x-shopify-shop-domain", "acme.myshopify.com".parse().unwrap());
        h
    }

    #[test]
    fn an_order_is_a_sale_with_its_campaign_from_the_landing_site_or_a_note() {
        let order = json!({ "id": 123, "total_price": "45.90", "currency": "usd", "email": "x@y.example",
                            "created_at": "2026-03-10T10:00:00-05:00", "landing_site": "/products/beans?utm_source=ig&utm_campaign=spring" });
        let d = delivery(&headers("orders/create"), order.to_string().as_bytes()).unwrap();
        assert_eq!(d.event_id, "wh-1");
        let sale = &d.revenue[0];
        assert_eq!((sale.amount_minor, sale.currency.as_str()), (4590, "USD"));
        assert_eq!(sale.campaign.as_deref(), Some("spring"));
        assert_eq!(sale.occurred_at.to_rfc3339(), "2026-03-10T15:00:00+00:00");
        let noted = json!({ "id": 124, "total_price": "1200", "currency": "JPY", "created_at": "2026-03-10T10:00:00Z",
                            "note_attributes": [{ "name": "utm_campaign", "value": "tv" }] });
        let d = delivery(&headers("orders/create"), noted.to_string().as_bytes()).unwrap();
        assert_eq!((d.revenue[0].amount_minor, d.revenue[0].campaign.as_deref()), (1200, Some("tv")));
    }

    /// A REST order as Shopify's `orders/updated` sends it: two lines, one with a
    /// discount allocated, shipped to Canada, one partial refund.
    fn rest_order() -> Value {
        json!({
            "id": 820982911946154508_u64, "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
            "name": "#1001", "currency": "CAD", "source_name": "web", "test": false,
            "created_at": "2026-03-10T10:00:00-05:00", "processed_at": "2026-03-10T10:00:01-05:00",
            "updated_at": "2026-03-12T09:00:00-05:00", "cancelled_at": null,
            "total_price": "64.90", "subtotal_price": "54.90", "total_discounts": "5.00", "total_tax": "5.00",
            "total_shipping_price_set": { "shop_money": { "amount": "5.00", "currency_code": "CAD" } },
            "shipping_address": { "country_code": "CA" }, "customer": { "id": 115310627314723954_u64 },
            "line_items": [
                { "id": 1, "quantity": 2, "price": "19.95", "product_id": 632910392,
                  "price_set": { "shop_money": { "amount": "19.95", "currency_code": "CAD" } },
                  "discount_allocations": [{ "amount": "5.00", "amount_set": { "shop_money": { "amount": "5.00", "currency_code": "CAD" } } }] },
                { "id": 2, "quantity": 1, "price": "20.00", "product_id": null, "discount_allocations": [] }
            ],
            "refunds": [{ "id": 509562969, "created_at": "2026-03-12T09:00:00-05:00",
                          "transactions": [{ "kind": "refund", "status": "success", "amount": "12.00" },
                                           { "kind": "refund", "status": "failure", "amount": "12.00" }] }]
        })
    }

    #[test]
    fn an_order_topic_stores_the_order_as_the_sync_would_and_derives_its_numbers() {
        use crate::sync::MetricEvent;
        let d = delivery(&headers("orders/updated"), rest_order().to_string().as_bytes()).unwrap();
        assert!(d.revenue.is_empty(), "an update is no new sale");
        let [record] = &d.records[..] else { panic!("one record: {:?}", d.records) };
        assert_eq!((record.object_type.as_str(), record.external_id.as_str()), ("order", "gid://shopify/Order/820982911946154508"));
        assert_eq!(record.updated_at.map(|t| t.to_rfc3339()).as_deref(), Some("2026-03-12T14:00:00+00:00"));
        let events = super::super::derive::events(record);
        let sum = |metric: &str| events.iter().filter(|e: &&MetricEvent| e.metric == metric).map(|e| e.value).sum::<i64>();
        // Worked by hand from the payload: 2 × 19.95 + 20.00 gross; less the 5.00
        // allocated; the 12.00 that succeeded refunded (the failed attempt not).
        assert_eq!(sum("orders"), 1);
        assert_eq!(sum("units_sold"), 3);
        assert_eq!(sum("gross_sales"), 2 * 1995 + 2000);
        assert_eq!(sum("refunds"), 1200);
        assert_eq!(sum("net_sales"), 2 * 1995 + 2000 - 500 - 1200);
        let product = events.iter().find(|e| e.metric == "gross_sales" && e.value == 3990).unwrap();
        assert!(format!("{product:?}").contains("gid://shopify/Product/632910392"), "{product:?}");
        assert!(format!("{events:?}").contains("CA") && format!("{events:?}").contains("CAD"));
        // Created and cancelled orders are stored too; a cancelled one counts nothing.
        let created = delivery(&headers("orders/create"), rest_order().to_string().as_bytes()).unwrap();
        assert_eq!((created.records.len(), created.revenue.len()), (1, 1));
        let mut cancelled = rest_order();
        cancelled["cancelled_at"] = json!("2026-03-13T09:00:00-05:00");
        let d = delivery(&headers("orders/cancelled"), cancelled.to_string().as_bytes()).unwrap();
        assert!(super::super::derive::events(&d.records[0]).is_empty());
        assert!(delivery(&headers("orders/updated"), b"{\"id\": 5}").is_err(), "no currency or creation time");
    }

    #[test]
    fn refunds_uninstalls_and_privacy_topics() {
        let refund = json!({ "id": 9, "created_at": "2026-03-10T10:00:00Z",
                             "transactions": [{ "kind": "refund", "amount": "5.00", "currency": "USD" },
                                              { "kind": "sale", "amount": "50.00", "currency": "USD" }] });
        let d = delivery(&headers("refunds/create"), refund.to_string().as_bytes()).unwrap();
        assert_eq!(d.revenue[0].amount_minor, -500);
        assert_eq!(d.revenue[0].reverses, None, "no order named");
        let named = json!({ "id": 10, "order_id": 123, "created_at": "2026-03-10T10:00:00Z",
                            "transactions": [{ "kind": "refund", "amount": "5.00", "currency": "USD" }] });
        let d = delivery(&headers("refunds/create"), named.to_string().as_bytes()).unwrap();
        assert_eq!(d.revenue[0].reverses.as_deref(), Some("order/123"));
        assert!(delivery(&headers("app/uninstalled"), b"{}").unwrap().revoked);
        let redact = json!({ "customer": { "id": 77, "email": "gone@y.example" } });
        let d = delivery(&headers("customers/redact"), redact.to_string().as_bytes()).unwrap();
        assert_eq!(
            d.redaction,
            Some(Redaction::Customer { id: Some("gid://shopify/Customer/77".into()), email: Some("gone@y.example".into()) })
        );
        assert_eq!(delivery(&headers("shop/redact"), b"{}").unwrap().redaction, Some(Redaction::Shop));
        assert!(delivery(&HeaderMap::new(), b"{}").is_err(), "no topic, no id");
    }
}

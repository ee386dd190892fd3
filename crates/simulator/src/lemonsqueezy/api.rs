//! Simulated LemonSqueezy API under `/lemonsqueezy/v1`: the store, and the JSON:API
//! lists of customers, orders, subscriptions, subscription invoices and prices
//! (`page[number]`, `page[size]` up to 100, `filter[store_id]`, newest first,
//! `links.next` while there is more), authenticated with the API key as bearer
//! token; errors in JSON:API's `{"errors": [{"status", "title", "detail"}]}`.

use std::collections::HashMap;

use axum::{
    extract::{Path, Query, State},
    http::{
        header::{AUTHORIZATION, HOST, RETRY_AFTER},
        HeaderMap, StatusCode,
    },
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde_json::{json, Value};

use super::{
    defaults, endpoints,
    gen::{LemonSqueezyLedger, LsCustomer, LsDiscount, LsPayment, LsPrice, LsRedemption, LsSubscription},
    LemonSqueezy,
};
use crate::{
    common::{lock, time::format_iso},
    provider::Failure,
    AppState,
};

/// LemonSqueezy's times: `2024-05-01T12:00:00.000000Z`.
fn time(unix: i64) -> String {
    format_iso(unix).replace('Z', ".000000Z")
}

fn error(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = json!({
        "jsonapi": { "version": "1.0" },
        "errors": [{ "detail": detail, "status": status.as_u16().to_string(), "title": title }]
    });
    (status, Json(body)).into_response()
}

/// LemonSqueezy's answer to a scripted failure.
pub(crate) fn failure(failure: Failure) -> Response {
    match failure {
        Failure::ServerError => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Server Error",
            "The simulator was scripted to fail this request.",
        ),
        Failure::RateLimited { retry_after_secs } => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "Too Many Requests",
                "Too Many Attempts.",
            );
            let headers = response.headers_mut();
            headers.insert(RETRY_AFTER, retry_after_secs.into());
            headers.insert("x-ratelimit-limit", 300.into());
            headers.insert("x-ratelimit-remaining", 0.into());
            response
        }
    }
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/lemonsqueezy/v1/stores/{id}", get(store))
        .route("/lemonsqueezy/v1/{list}", get(list))
}

/// Counts the call, applies scripted faults, then checks the key.
async fn enter(sim: &AppState, endpoint: &str, headers: &HeaderMap) -> Result<(), Response> {
    sim.faults.enter(endpoint).await?;
    let key = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if key != Some(defaults::LEMONSQUEEZY_API_KEY) {
        return Err(error(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthenticated."));
    }
    Ok(())
}

fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "Not Found",
        "The related resource does not exist.",
    )
}

async fn store(State(sim): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Err(response) = enter(&sim, endpoints::LEMONSQUEEZY_STORE, &headers).await {
        return response;
    }
    if id != defaults::LEMONSQUEEZY_STORE_ID.to_string() {
        return not_found();
    }
    let world = &mut *lock(&sim.world);
    let (clock, data) = world.data(LemonSqueezy::default);
    let ledger = &data.store(clock).ledger;
    Json(json!({
        "jsonapi": { "version": "1.0" },
        "links": { "self": format!("https://api.lemonsqueezy.com/v1/stores/{id}") },
        "data": {
            "type": "stores",
            "id": id,
            "attributes": {
                "name": ledger.store_name,
                "slug": "pulse-digital",
                "domain": "pulse-digital.lemonsqueezy.com",
                "url": "https://pulse-digital.lemonsqueezy.com",
                "plan": "fresh",
                "country": "US",
                "country_nicename": "United States",
                "currency": ledger.currency,
                "total_sales": ledger.orders.len(),
                "total_revenue": ledger.orders.iter().map(|o| o.total).sum::<i64>(),
                "created_at": time(ledger.start),
                "updated_at": time(ledger.start),
            }
        }
    }))
    .into_response()
}

fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("api.lemonsqueezy.com");
    format!("http://{host}/lemonsqueezy/v1")
}

async fn list(
    State(sim): State<AppState>,
    Path(list): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let endpoint = match list.as_str() {
        "orders" => endpoints::LEMONSQUEEZY_ORDERS,
        "subscriptions" => endpoints::LEMONSQUEEZY_SUBSCRIPTIONS,
        "subscription-invoices" => endpoints::LEMONSQUEEZY_SUBSCRIPTION_INVOICES,
        "customers" => endpoints::LEMONSQUEEZY_CUSTOMERS,
        "prices" => endpoints::LEMONSQUEEZY_PRICES,
        "discounts" => endpoints::LEMONSQUEEZY_DISCOUNTS,
        "discount-redemptions" => endpoints::LEMONSQUEEZY_DISCOUNT_REDEMPTIONS,
        _ => return not_found(),
    };
    if let Err(response) = enter(&sim, endpoint, &headers).await {
        return response;
    }
    let size = query
        .get("page[size]")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    let number = query
        .get("page[number]")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let ours = query
        .get("filter[store_id]")
        .is_none_or(|id| *id == defaults::LEMONSQUEEZY_STORE_ID.to_string());
    let world = &mut *lock(&sim.world);
    let (clock, data) = world.data(LemonSqueezy::default);
    let ledger = &data.store(clock).ledger;
    let mut items: Vec<(i64, u64, Value)> = if !ours {
        vec![]
    } else {
        match list.as_str() {
            "orders" => ledger
                .orders
                .iter()
                .map(|o| (o.created_at, o.id, order_json(ledger, o)))
                .collect(),
            "subscriptions" => ledger
                .subscriptions
                .iter()
                .map(|s| (s.created_at, s.id, subscription_json(ledger, s)))
                .collect(),
            "subscription-invoices" => ledger
                .invoices
                .iter()
                .map(|i| (i.created_at, i.id, invoice_json(ledger, i)))
                .collect(),
            "customers" => ledger
                .customers
                .iter()
                .map(|c| (c.created_at, c.id, customer_json(ledger, c)))
                .collect(),
            "discounts" => ledger
                .discounts
                .iter()
                .map(|d| (ledger.start, d.id, discount_json(ledger, d)))
                .collect(),
            "discount-redemptions" => ledger
                .redemptions
                .iter()
                .map(|r| (r.created_at, r.id, redemption_json(ledger, r)))
                .collect(),
            _ => ledger
                .prices
                .iter()
                .map(|p| (ledger.start, p.id, price_json(ledger, p)))
                .collect(),
        }
    };
    // Newest first.
    items.sort_by_key(|item| std::cmp::Reverse((item.0, item.1)));
    let total = items.len();
    let last = total.div_ceil(size).max(1);
    let page: Vec<Value> = items
        .into_iter()
        .skip((number - 1) * size)
        .take(size)
        .map(|(_, _, v)| v)
        .collect();
    let link = |n: usize| format!("{}/{list}?page%5Bnumber%5D={n}&page%5Bsize%5D={size}&sort=-createdAt", base(&headers));
    let mut links = json!({ "first": link(1), "last": link(last) });
    if number < last {
        links["next"] = json!(link(number + 1));
    }
    if number > 1 {
        links["prev"] = json!(link(number - 1));
    }
    let from = (number - 1) * size + 1;
    Json(json!({
        "meta": { "page": {
            "currentPage": number, "from": from, "lastPage": last, "perPage": size,
            "to": (from + page.len()).saturating_sub(1), "total": total
        }},
        "jsonapi": { "version": "1.0" },
        "links": links,
        "data": page,
    }))
    .into_response()
}

fn price_of(ledger: &LemonSqueezyLedger, id: u64) -> Option<&LsPrice> {
    ledger.prices.iter().find(|p| p.id == id)
}

pub(crate) fn order_json(ledger: &LemonSqueezyLedger, o: &LsPayment) -> Value {
    let price = price_of(ledger, o.price_id);
    json!({
        "type": "orders",
        "id": o.id.to_string(),
        "attributes": {
            "store_id": ledger.store_id,
            "customer_id": o.customer_id,
            "identifier": format!("00000000-0000-4000-8000-{:012}", o.id),
            "order_number": o.id - 5000,
            "user_name": o.name,
            "user_email": o.email,
            "currency": o.currency,
            "currency_rate": "1.0000",
            "subtotal": o.total + o.discount,
            "setup_fee": 0,
            "discount_total": o.discount,
            "tax": 0,
            "total": o.total,
            "refunded_amount": o.refunded_amount,
            "subtotal_usd": o.total + o.discount,
            "total_usd": o.total,
            "refunded_amount_usd": o.refunded_amount,
            "tax_name": null,
            "tax_rate": "0.00",
            "tax_inclusive": false,
            "status": o.status,
            "status_formatted": status_formatted(&o.status),
            "refunded": o.status == "refunded",
            "refunded_at": o.refunded_at.map(time),
            "first_order_item": {
                "id": o.id + 100_000,
                "order_id": o.id,
                "product_id": price.map(|p| p.variant_id / 10),
                "variant_id": price.map(|p| p.variant_id),
                "price_id": o.price_id,
                "product_name": price.map(|p| p.product_name.clone()),
                "variant_name": price.map(|p| p.variant_name.clone()),
                "price": o.total,
                "quantity": 1,
                "created_at": time(o.created_at),
                "updated_at": time(o.created_at),
                "test_mode": true
            },
            "urls": { "receipt": format!("https://app.lemonsqueezy.com/my-orders/{}", o.id) },
            "created_at": time(o.created_at),
            "updated_at": time(o.updated_at),
            "test_mode": true
        },
        "relationships": {},
        "links": { "self": format!("https://api.lemonsqueezy.com/v1/orders/{}", o.id) }
    })
}

pub(crate) fn invoice_json(ledger: &LemonSqueezyLedger, i: &LsPayment) -> Value {
    json!({
        "type": "subscription-invoices",
        "id": i.id.to_string(),
        "attributes": {
            "store_id": ledger.store_id,
            "subscription_id": i.subscription_id,
            "customer_id": i.customer_id,
            "user_name": i.name,
            "user_email": i.email,
            "billing_reason": i.billing_reason,
            "card_brand": "visa",
            "card_last_four": "4242",
            "currency": i.currency,
            "currency_rate": "1.0000",
            "status": i.status,
            "status_formatted": status_formatted(&i.status),
            "refunded": i.status == "refunded",
            "refunded_at": i.refunded_at.map(time),
            "subtotal": i.total + i.discount,
            "discount_total": i.discount,
            "tax": 0,
            "tax_inclusive": false,
            "total": i.total,
            "refunded_amount": i.refunded_amount,
            "subtotal_usd": i.total + i.discount,
            "total_usd": i.total,
            "refunded_amount_usd": i.refunded_amount,
            "created_at": time(i.created_at),
            "updated_at": time(i.updated_at),
            "test_mode": true
        },
        "relationships": {},
        "links": { "self": format!("https://api.lemonsqueezy.com/v1/subscription-invoices/{}", i.id) }
    })
}

pub(crate) fn subscription_json(ledger: &LemonSqueezyLedger, s: &LsSubscription) -> Value {
    let price = price_of(ledger, s.price_id);
    json!({
        "type": "subscriptions",
        "id": s.id.to_string(),
        "attributes": {
            "store_id": ledger.store_id,
            "customer_id": s.customer_id,
            "order_id": s.order_id,
            "order_item_id": s.order_id + 100_000,
            "product_id": s.variant_id / 10,
            "variant_id": s.variant_id,
            "product_name": price.map(|p| p.product_name.clone()),
            "variant_name": price.map(|p| p.variant_name.clone()),
            "user_name": s.name,
            "user_email": s.email,
            "status": s.status,
            "status_formatted": status_formatted(&s.status),
            "card_brand": "visa",
            "card_last_four": "4242",
            "payment_processor": "stripe",
            "pause": null,
            "cancelled": matches!(s.status.as_str(), "cancelled" | "expired"),
            "trial_ends_at": s.trial_end.map(time),
            "billing_anchor": crate::common::time::date(s.created_at).2,
            "first_subscription_item": {
                "id": s.id + 200_000,
                "subscription_id": s.id,
                "price_id": s.price_id,
                "quantity": s.quantity,
                "is_usage_based": false,
                "created_at": time(s.created_at),
                "updated_at": time(s.created_at)
            },
            "urls": {},
            "renews_at": time(s.renews_at),
            "ends_at": s.ends_at.map(time),
            "created_at": time(s.created_at),
            "updated_at": time(s.updated_at),
            "test_mode": true
        },
        "relationships": {},
        "links": { "self": format!("https://api.lemonsqueezy.com/v1/subscriptions/{}", s.id) }
    })
}

fn customer_json(ledger: &LemonSqueezyLedger, c: &LsCustomer) -> Value {
    json!({
        "type": "customers",
        "id": c.id.to_string(),
        "attributes": {
            "store_id": ledger.store_id,
            "name": c.name,
            "email": c.email,
            "status": "subscribed",
            "city": null,
            "region": null,
            "country": "US",
            "created_at": time(c.created_at),
            "updated_at": time(c.updated_at),
            "test_mode": true
        }
    })
}

fn discount_json(ledger: &LemonSqueezyLedger, d: &LsDiscount) -> Value {
    json!({
        "type": "discounts",
        "id": d.id.to_string(),
        "attributes": {
            "store_id": ledger.store_id,
            "name": d.code,
            "code": d.code,
            "amount": d.amount,
            "amount_type": d.amount_type,
            "is_limited_to_products": false,
            "is_limited_redemptions": false,
            "max_redemptions": 0,
            "starts_at": null,
            "expires_at": null,
            "duration": d.duration,
            "duration_in_months": d.duration_in_months,
            "status": "published",
            "status_formatted": "Published",
            "created_at": time(ledger.start),
            "updated_at": time(ledger.start),
            "test_mode": true
        }
    })
}

fn redemption_json(ledger: &LemonSqueezyLedger, r: &LsRedemption) -> Value {
    let discount = ledger.discounts.iter().find(|d| d.id == r.discount_id);
    json!({
        "type": "discount-redemptions",
        "id": r.id.to_string(),
        "attributes": {
            "discount_id": r.discount_id,
            "order_id": r.order_id,
            "discount_name": discount.map(|d| d.code.clone()),
            "discount_code": discount.map(|d| d.code.clone()),
            "discount_amount": discount.map(|d| d.amount),
            "discount_amount_type": discount.map(|d| d.amount_type.clone()),
            "amount": r.amount,
            "created_at": time(r.created_at),
            "updated_at": time(r.created_at)
        }
    })
}

fn price_json(ledger: &LemonSqueezyLedger, p: &LsPrice) -> Value {
    json!({
        "type": "prices",
        "id": p.id.to_string(),
        "attributes": {
            "variant_id": p.variant_id,
            "category": if p.interval.is_some() { "subscription" } else { "one_time" },
            "scheme": "standard",
            "usage_aggregation": null,
            "unit_price": p.unit_price,
            "unit_price_decimal": null,
            "setup_fee_enabled": false,
            "setup_fee": null,
            "package_size": 1,
            "tiers": null,
            "renewal_interval_unit": p.interval,
            "renewal_interval_quantity": p.interval.as_ref().map(|_| p.interval_count),
            "trial_interval_unit": null,
            "trial_interval_quantity": null,
            "min_price": null,
            "suggested_price": null,
            "tax_code": "eservice",
            "created_at": time(ledger.start),
            "updated_at": time(ledger.start)
        }
    })
}

fn status_formatted(status: &str) -> String {
    match status {
        "partial_refund" => "Partial refund".into(),
        "on_trial" => "On Trial".into(),
        other => {
            let mut chars = other.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
    }
}

//! Simulated Paddle Billing API under `/paddle`: `GET /customers`,
//! `/subscriptions`, `/transactions`, `/adjustments` and `/events`, authenticated
//! with the API key as bearer token; cursor pagination (`after`, `per_page` up to
//! 200, 30 for transactions, `order_by=id[ASC|DESC]`, `meta.pagination` with
//! `next` and `has_more`); errors as `{"error": {"type", "code", "detail",
//! "documentation_url"}, "meta": {"request_id"}}`.

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
    gen::{PaddleLedger, PdAdjustment, PdCustomer, PdPrice, PdSubscription, PdTransaction},
    Paddle,
};
use crate::{
    common::{lock, time::format_iso},
    provider::Failure,
    AppState,
};

/// Paddle's times: `2024-05-01T12:00:00.000000Z`.
pub(crate) fn time(unix: i64) -> String {
    format_iso(unix).replace('Z', ".000000Z")
}

fn error(status: StatusCode, code: &str, detail: &str) -> Response {
    let body = json!({
        "error": {
            "type": "request_error",
            "code": code,
            "detail": detail,
            "documentation_url": format!("https://developer.paddle.com/v1/errors/shared/{code}")
        },
        "meta": { "request_id": "00000000-0000-4000-8000-000000000000" }
    });
    (status, Json(body)).into_response()
}

/// Paddle's answer to a scripted failure.
pub(crate) fn failure(failure: Failure) -> Response {
    match failure {
        Failure::ServerError => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "The simulator was scripted to fail this request.",
        ),
        Failure::RateLimited { retry_after_secs } => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "IP address exceeded the allowed rate limit. Retry after the timestamp in the Retry-After header.",
            );
            response
                .headers_mut()
                .insert(RETRY_AFTER, retry_after_secs.into());
            response
        }
    }
}

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/paddle/{list}", get(list))
}

async fn list(
    State(sim): State<AppState>,
    Path(list): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let (endpoint, max) = match list.as_str() {
        "customers" => (endpoints::PADDLE_CUSTOMERS, 200),
        "subscriptions" => (endpoints::PADDLE_SUBSCRIPTIONS, 200),
        "transactions" => (endpoints::PADDLE_TRANSACTIONS, 30),
        "adjustments" => (endpoints::PADDLE_ADJUSTMENTS, 200),
        "events" => (endpoints::PADDLE_EVENTS, 200),
        _ => return error(StatusCode::NOT_FOUND, "not_found", "Not found."),
    };
    if let Err(response) = sim.faults.enter(endpoint).await {
        return response;
    }
    let key = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match key {
        None => {
            return error(
                StatusCode::UNAUTHORIZED,
                "authentication_missing",
                "Authentication header missing.",
            )
        }
        Some(key) if key != defaults::PADDLE_API_KEY => {
            return error(
                StatusCode::FORBIDDEN,
                "forbidden",
                "You aren't permitted to perform this request.",
            )
        }
        _ => {}
    }
    let per_page = query
        .get("per_page")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(max.min(50))
        .clamp(1, max);
    let descending = query.get("order_by").map(String::as_str) == Some("id[DESC]");
    let world = &mut *lock(&sim.world);
    let (clock, data) = world.data(Paddle::default);
    let ledger = &data.seller(clock).ledger;
    let mut items: Vec<(String, Value)> = match list.as_str() {
        "customers" => ledger.customers.iter().map(|c| (c.id.clone(), customer_json(c))).collect(),
        "subscriptions" => ledger
            .subscriptions
            .iter()
            .map(|s| (s.id.clone(), subscription_json(ledger, s)))
            .collect(),
        "transactions" => ledger
            .transactions
            .iter()
            .map(|t| (t.id.clone(), transaction_json(ledger, t)))
            .collect(),
        "adjustments" => ledger.adjustments.iter().map(|a| (a.id.clone(), adjustment_json(a))).collect(),
        _ => ledger
            .events
            .iter()
            .map(|e| {
                let event = json!({
                    "event_id": e.event_id, "event_type": e.event_type,
                    "occurred_at": time(e.occurred_at), "data": e.data
                });
                (e.event_id.clone(), event)
            })
            .collect(),
    };
    items.sort_by(|a, b| a.0.cmp(&b.0));
    if descending {
        items.reverse();
    }
    let start = match query.get("after") {
        Some(after) => items.iter().position(|(id, _)| id == after).map_or(items.len(), |i| i + 1),
        None => 0,
    };
    let page: Vec<(String, Value)> = items.iter().skip(start).take(per_page).cloned().collect();
    let has_more = start + page.len() < items.len();
    let host = headers.get(HOST).and_then(|v| v.to_str().ok()).unwrap_or("api.paddle.com");
    let next = page.last().map(|(id, _)| {
        format!("http://{host}/paddle/{list}?after={id}&per_page={per_page}")
    });
    Json(json!({
        "data": page.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        "meta": {
            "request_id": "00000000-0000-4000-8000-000000000000",
            "pagination": { "per_page": per_page, "next": next, "has_more": has_more, "estimated_total": items.len() }
        }
    }))
    .into_response()
}

fn price_json(p: &PdPrice, currency: &str) -> Value {
    json!({
        "id": p.id,
        "product_id": p.product_id,
        "description": p.description,
        "type": "standard",
        "name": p.description,
        "billing_cycle": p.interval.as_ref().map(|i| json!({ "interval": i, "frequency": p.frequency })),
        "trial_period": null,
        "tax_mode": "account_setting",
        "unit_price": { "amount": p.unit_price.to_string(), "currency_code": currency },
        "quantity": { "minimum": 1, "maximum": 1 },
        "status": "active",
        "custom_data": null,
    })
}

fn price_of<'a>(ledger: &'a PaddleLedger, id: &str) -> Option<&'a PdPrice> {
    ledger.prices.iter().find(|p| p.id == id)
}

pub(crate) fn customer_json(c: &PdCustomer) -> Value {
    json!({
        "id": c.id, "name": c.name, "email": c.email, "marketing_consent": false,
        "status": "active", "custom_data": null, "locale": "en",
        "created_at": time(c.created_at), "updated_at": time(c.created_at), "import_meta": null
    })
}

fn custom_data(campaign: &Option<String>) -> Value {
    campaign
        .as_ref()
        .map_or(Value::Null, |c| json!({ "utm_campaign": c }))
}

pub(crate) fn transaction_json(ledger: &PaddleLedger, t: &PdTransaction) -> Value {
    let total = t.total.to_string();
    let (subtotal, discount) = (t.subtotal.to_string(), t.discount.to_string());
    json!({
        "id": t.id,
        "status": t.status,
        "customer_id": t.customer_id,
        "address_id": null,
        "business_id": null,
        "custom_data": custom_data(&t.campaign),
        "currency_code": t.currency,
        "origin": t.origin,
        "subscription_id": t.subscription_id,
        "invoice_id": format!("inv_{}", &t.id[4..]),
        "invoice_number": format!("SIM-{}", &t.id[t.id.len() - 6..]),
        "collection_mode": "automatic",
        "discount_id": t.discount_id,
        "billing_details": null,
        "billing_period": t.billing_period.map(|(start, end)| json!({ "starts_at": time(start), "ends_at": time(end) })),
        "items": [{
            "price": price_of(ledger, &t.price_id).map(|p| price_json(p, &ledger.currency)),
            "quantity": 1
        }],
        "details": {
            "tax_rates_used": [],
            "totals": {
                "subtotal": subtotal, "discount": discount, "tax": "0", "total": total,
                "credit": "0", "balance": "0", "grand_total": total,
                "fee": (t.total * 5 / 100).to_string(), "earnings": (t.total - t.total * 5 / 100).to_string(),
                "currency_code": t.currency
            }
        },
        "payments": [{ "status": "captured", "amount": total, "captured_at": time(t.billed_at) }],
        "checkout": { "url": null },
        "created_at": time(t.billed_at),
        "updated_at": time(t.updated_at),
        "billed_at": time(t.billed_at)
    })
}

pub(crate) fn subscription_json(ledger: &PaddleLedger, s: &PdSubscription) -> Value {
    let price = price_of(ledger, &s.price_id);
    let cycle = price.and_then(|p| p.interval.as_ref().map(|i| json!({ "interval": i, "frequency": p.frequency })));
    json!({
        "id": s.id,
        "status": s.status,
        "customer_id": s.customer_id,
        "address_id": null,
        "business_id": null,
        "currency_code": ledger.currency,
        "created_at": time(s.created_at),
        "updated_at": time(s.updated_at),
        "started_at": time(s.created_at),
        "first_billed_at": time(s.created_at),
        "next_billed_at": (s.status != "canceled" && s.cancel_at.is_none()).then(|| time(s.period_end)),
        "paused_at": null,
        "canceled_at": s.canceled_at.map(time),
        "collection_mode": "automatic",
        "billing_details": null,
        "current_billing_period": (s.status != "canceled").then(|| json!({ "starts_at": time(s.period_start), "ends_at": time(s.period_end) })),
        "billing_cycle": cycle,
        "scheduled_change": s.cancel_at.filter(|_| s.status != "canceled").map(|at| json!({ "action": "cancel", "effective_at": time(at), "resume_at": null })),
        "items": [{
            "status": "active",
            "quantity": s.quantity,
            "recurring": true,
            "created_at": time(s.created_at),
            "updated_at": time(s.updated_at),
            "previously_billed_at": time(s.period_start),
            "next_billed_at": time(s.period_end),
            "trial_dates": s.trial_end.map(|end| json!({ "starts_at": time(s.created_at), "ends_at": time(end) })),
            "price": price.map(|p| price_json(p, &ledger.currency)),
            "product": price.map(|p| json!({ "id": p.product_id, "name": p.product_name }))
        }],
        "custom_data": custom_data(&s.campaign),
        "discount": s.discount.as_ref().map(|d| json!({
            "id": d.id, "starts_at": time(d.starts_at), "ends_at": d.ends_at.map(time)
        })),
        "import_meta": null
    })
}

pub(crate) fn adjustment_json(a: &PdAdjustment) -> Value {
    let total = a.total.to_string();
    json!({
        "id": a.id,
        "action": a.action,
        "transaction_id": a.transaction_id,
        "subscription_id": null,
        "customer_id": a.customer_id,
        "reason": "requested_by_customer",
        "credit_applied_to_balance": null,
        "currency_code": a.currency,
        "status": a.status,
        "items": [],
        "totals": { "subtotal": total, "tax": "0", "total": total, "fee": "0", "earnings": total, "currency_code": a.currency },
        "payout_totals": null,
        "created_at": time(a.created_at),
        "updated_at": time(a.created_at)
    })
}

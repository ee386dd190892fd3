//! Stripe's `GET /v1/balance_transactions` over the generated ledger, and the
//! tampering controls that make the data the sync reads disagree with it.
//!
//! One balance transaction per succeeded charge (`type` `charge`, at the
//! charge's `created`, `fee` Stripe's US card price of 2.9 % + 30¢) and one per
//! refund (`type` `refund`, negative `amount`, no fee, at the refund's
//! `created`); `source` is the charge or refund id. Newest first, ties by id
//! (descending); `limit` 1–100, `starting_after`, `created[gt|gte|lt|lte]`,
//! `type`; anything else is a 400 as Stripe does.
//!
//! [`Tamper`] hides a charge from `/v1/charges` and `/v1/events` or changes its
//! `amount` there, while its balance transaction stays as it was: what a drift
//! check must find.

// Errors here are finished responses.
#![allow(clippy::result_large_err)]

use std::collections::{HashMap, HashSet};

use axum::{
    extract::{RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde_json::{json, Value};

use super::{api::enter_api, endpoints, ledger::StripeLedger};
use crate::{
    common::{lock, rng::hash_str},
    AppState,
};

/// Silent changes to what the charge list and events show (see the module doc).
#[derive(Debug, Default, Clone)]
pub(crate) struct Tamper {
    /// Charges missing from `/v1/charges` and `/v1/events`.
    pub hidden: HashSet<String>,
    /// Charges shown with another `amount`.
    pub altered: HashMap<String, i64>,
}

impl Tamper {
    pub fn hides(&self, charge: &str) -> bool {
        self.hidden.contains(charge)
    }

    /// A rendered charge (or an event carrying one) with its altered amount.
    pub fn apply(&self, object: &mut Value) {
        if object.get("object").and_then(Value::as_str) != Some("charge") {
            return;
        }
        let id = object.get("id").and_then(Value::as_str).unwrap_or_default();
        if let Some(amount) = self.altered.get(id).copied() {
            object["amount"] = json!(amount);
            object["amount_captured"] = json!(amount);
        }
    }
}

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/stripe/v1/balance_transactions", get(balance_transactions))
}

/// Stripe's fee for a US card charge: 2.9 % (rounded) + 30¢.
pub fn card_fee(amount: i64) -> i64 {
    (amount * 29 + 500) / 1000 + 30
}

/// One balance transaction: (created, id, JSON).
fn transactions(ledger: &StripeLedger) -> Vec<(i64, String, Value)> {
    let txn = |source: &str| format!("txn_{:016x}{:08x}", hash_str(source), hash_str(source) as u32 ^ 0x5a5a);
    let mut all = Vec::with_capacity(ledger.charges.len() + ledger.refunds.len());
    for c in ledger.charges.iter().filter(|c| c.paid()) {
        let id = txn(&c.id);
        let fee = card_fee(c.amount);
        let json = json!({
            "id": id, "object": "balance_transaction", "amount": c.amount,
            "available_on": c.created + 2 * 86_400, "created": c.created, "currency": c.currency,
            "description": c.description, "exchange_rate": null, "fee": fee,
            "fee_details": [{ "amount": fee, "currency": c.currency, "description": "Stripe processing fees", "type": "stripe_fee" }],
            "net": c.amount - fee, "reporting_category": "charge", "source": c.id,
            "status": "available", "type": "charge",
        });
        all.push((c.created, id, json));
    }
    for r in &ledger.refunds {
        let id = txn(&r.id);
        let json = json!({
            "id": id, "object": "balance_transaction", "amount": -r.amount,
            "available_on": r.created, "created": r.created, "currency": r.currency,
            "description": "REFUND FOR CHARGE", "exchange_rate": null, "fee": 0, "fee_details": [],
            "net": -r.amount, "reporting_category": "refund", "source": r.id,
            "status": "available", "type": "refund",
        });
        all.push((r.created, id, json));
    }
    all.sort_by(|a, b| (b.0, &b.1).cmp(&(a.0, &a.1)));
    all
}

fn invalid(message: &str, param: &str) -> Response {
    let body =
        json!({ "error": { "type": "invalid_request_error", "message": message, "param": param } });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

struct Params {
    limit: usize,
    starting_after: Option<String>,
    lower: i64,
    upper: i64,
    kind: Option<String>,
}

fn parse(raw: Option<&str>) -> Result<Params, Response> {
    let mut p = Params {
        limit: 10,
        starting_after: None,
        lower: i64::MIN,
        upper: i64::MAX,
        kind: None,
    };
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let int = || -> Result<i64, Response> {
            value
                .parse()
                .map_err(|_| invalid(&format!("Invalid integer: {value}"), &key))
        };
        match key.as_ref() {
            "limit" => {
                let limit = int()?;
                if !(1..=100).contains(&limit) {
                    return Err(invalid(
                        "This value must be between 1 and 100.",
                        "limit",
                    ));
                }
                p.limit = limit as usize;
            }
            "starting_after" => p.starting_after = Some(value.into_owned()),
            "type" => p.kind = Some(value.into_owned()),
            "created" => {
                let at = int()?;
                p.lower = p.lower.max(at);
                p.upper = p.upper.min(at);
            }
            "created[gte]" => p.lower = p.lower.max(int()?),
            "created[gt]" => p.lower = p.lower.max(int()?.saturating_add(1)),
            "created[lte]" => p.upper = p.upper.min(int()?),
            "created[lt]" => p.upper = p.upper.min(int()?.saturating_sub(1)),
            k if k.starts_with("expand") => {}
            k => return Err(invalid(&format!("Received unknown parameter: {k}"), k)),
        }
    }
    Ok(p)
}

async fn balance_transactions(
    State(sim): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Err(response) =
        enter_api(&sim, endpoints::STRIPE_BALANCE_TRANSACTIONS, &headers).await
    {
        return response;
    }
    let params = match parse(raw.as_deref()) {
        Ok(params) => params,
        Err(response) => return response,
    };
    let mut world = lock(&sim.world);
    let all = transactions(&world.stripe().ledger);
    let from = match &params.starting_after {
        Some(cursor) => match all.iter().position(|(_, id, _)| id == cursor) {
            Some(pos) => pos + 1,
            None => {
                let body = json!({ "error": {
                    "type": "invalid_request_error", "code": "resource_missing",
                    "message": format!("No such balance transaction: '{cursor}'"),
                    "param": "starting_after",
                }});
                return (StatusCode::NOT_FOUND, Json(body)).into_response();
            }
        },
        None => 0,
    };
    let mut data = Vec::new();
    let mut has_more = false;
    for (created, _, json) in &all[from..] {
        if *created > params.upper
            || params
                .kind
                .as_deref()
                .is_some_and(|k| json["type"].as_str() != Some(k))
        {
            continue;
        }
        if *created < params.lower {
            break;
        }
        if data.len() == params.limit {
            has_more = true;
            break;
        }
        data.push(json.clone());
    }
    let mut body = json!({ "object": "list", "url": "/v1/balance_transactions", "has_more": has_more });
    body["data"] = Value::Array(data);
    Json(body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_card_fee_is_stripes_us_price() {
        // 2.9 % of $100.00 is $2.90, plus 30¢.
        assert_eq!(card_fee(10_000), 320);
        // 2.9 % of $9.99 is 28.971¢, rounded to 29¢.
        assert_eq!(card_fee(999), 59);
    }

    #[test]
    fn unknown_parameters_are_refused() {
        assert!(parse(Some("limit=100&created[gte]=1&created[lt]=5&type=charge")).is_ok());
        assert!(parse(Some("limit=0")).is_err());
        assert!(parse(Some("colour=blue")).is_err());
    }
}

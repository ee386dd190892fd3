//! Stripe's list endpoints over the generated account: `GET /v1/charges`,
//! `/v1/refunds`, `/v1/customers`, `/v1/subscriptions`, `/v1/invoices` and
//! `/v1/events`, with Stripe's cursor pagination and errors.
//!
//! - Newest first by `created`, ties by id (descending).
//! - `limit` 1–100 (default 10), `starting_after` / `ending_before` (one of
//!   them; an unknown id is a 404 `resource_missing`), `created` or
//!   `created[gt|gte|lt|lte]`, `expand[]` accepted and ignored; any other
//!   parameter is a 400, as Stripe does.
//! - Filters: `customer` (charges, subscriptions, invoices), `charge`
//!   (refunds), `email` (customers), `status` (subscriptions: default excludes
//!   `canceled`, `all` includes it, `ended` lists only it; invoices),
//!   `subscription` (invoices), `type` (with a `.*` wildcard) and `types[]` (events).
//! - Events only within the 30 days before the data clock, like Stripe's retention.

// Errors here are finished responses, built at most once per request: boxing
// them would only add noise.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;

use axum::{
    extract::{RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde_json::{json, Value};

use crate::{
    common::lock,
    stripe::{
        api::enter_api,
        endpoints,
        gen::{ListView, StripeGen, EVENT_RETENTION},
        ledger::SubscriptionStatus,
    },
    AppState,
};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/stripe/v1/charges", get(charges))
        .route("/stripe/v1/refunds", get(refunds))
        .route("/stripe/v1/customers", get(customers))
        .route("/stripe/v1/subscriptions", get(subscriptions))
        .route("/stripe/v1/invoices", get(invoices))
        .route("/stripe/v1/events", get(events))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Charges,
    Refunds,
    Customers,
    Subscriptions,
    Invoices,
    Events,
}

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Self::Charges => "/v1/charges",
            Self::Refunds => "/v1/refunds",
            Self::Customers => "/v1/customers",
            Self::Subscriptions => "/v1/subscriptions",
            Self::Invoices => "/v1/invoices",
            Self::Events => "/v1/events",
        }
    }

    fn endpoint(self) -> &'static str {
        match self {
            Self::Charges => endpoints::STRIPE_CHARGES,
            Self::Refunds => endpoints::STRIPE_REFUNDS,
            Self::Customers => endpoints::STRIPE_CUSTOMERS,
            Self::Subscriptions => endpoints::STRIPE_SUBSCRIPTIONS,
            Self::Invoices => endpoints::STRIPE_INVOICES,
            Self::Events => endpoints::STRIPE_EVENTS,
        }
    }

    /// The noun in "No such charge: 'ch_…'".
    fn noun(self) -> &'static str {
        match self {
            Self::Charges => "charge",
            Self::Refunds => "refund",
            Self::Customers => "customer",
            Self::Subscriptions => "subscription",
            Self::Invoices => "invoice",
            Self::Events => "event",
        }
    }

    /// Filters the endpoint accepts beyond the common paging ones.
    fn filters(self) -> &'static [&'static str] {
        match self {
            Self::Charges => &["customer"],
            Self::Refunds => &["charge"],
            Self::Customers => &["email"],
            Self::Subscriptions => &["customer", "status"],
            Self::Invoices => &["customer", "subscription", "status"],
            Self::Events => &["type", "types"],
        }
    }
}

async fn charges(state: State<AppState>, headers: HeaderMap, query: RawQuery) -> Response {
    list(Kind::Charges, state, headers, query).await
}
async fn refunds(state: State<AppState>, headers: HeaderMap, query: RawQuery) -> Response {
    list(Kind::Refunds, state, headers, query).await
}
async fn customers(state: State<AppState>, headers: HeaderMap, query: RawQuery) -> Response {
    list(Kind::Customers, state, headers, query).await
}
async fn subscriptions(state: State<AppState>, headers: HeaderMap, query: RawQuery) -> Response {
    list(Kind::Subscriptions, state, headers, query).await
}
async fn invoices(state: State<AppState>, headers: HeaderMap, query: RawQuery) -> Response {
    list(Kind::Invoices, state, headers, query).await
}
async fn events(state: State<AppState>, headers: HeaderMap, query: RawQuery) -> Response {
    list(Kind::Events, state, headers, query).await
}

/// Parsed, validated list parameters.
#[derive(Debug, Default)]
struct Params {
    limit: usize,
    starting_after: Option<String>,
    ending_before: Option<String>,
    /// Inclusive bounds on `created`.
    lower: i64,
    upper: i64,
    /// Endpoint filters; `types[]` collects every value.
    filters: HashMap<String, Vec<String>>,
}

fn invalid(message: &str, param: &str) -> Response {
    let body =
        json!({ "error": { "type": "invalid_request_error", "message": message, "param": param } });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

fn integer(value: &str, param: &str) -> Result<i64, Response> {
    value
        .parse()
        .map_err(|_| invalid(&format!("Invalid integer: {value}"), param))
}

fn parse(kind: Kind, raw: Option<&str>) -> Result<Params, Response> {
    let mut params = Params {
        limit: 10,
        lower: i64::MIN,
        upper: i64::MAX,
        ..Params::default()
    };
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let key = key.as_ref();
        // `types[]=a&types[]=b` and `types[0]=a` are the same array.
        let base = key.split_once('[').map_or(key, |(base, _)| base);
        match key {
            "limit" => {
                let limit = integer(&value, "limit")?;
                if limit < 1 {
                    return Err(invalid(
                        "This value must be greater than or equal to 1.",
                        "limit",
                    ));
                }
                if limit > 100 {
                    return Err(invalid(
                        "This value must be less than or equal to 100.",
                        "limit",
                    ));
                }
                params.limit = limit as usize;
            }
            "starting_after" => params.starting_after = Some(value.into_owned()),
            "ending_before" => params.ending_before = Some(value.into_owned()),
            "created" => {
                let at = integer(&value, key)?;
                params.lower = params.lower.max(at);
                params.upper = params.upper.min(at);
            }
            "created[gte]" => params.lower = params.lower.max(integer(&value, key)?),
            "created[gt]" => {
                params.lower = params.lower.max(integer(&value, key)?.saturating_add(1))
            }
            "created[lte]" => params.upper = params.upper.min(integer(&value, key)?),
            "created[lt]" => {
                params.upper = params.upper.min(integer(&value, key)?.saturating_sub(1))
            }
            _ if base == "expand" => {}
            _ if kind.filters().contains(&base) && (base == "types" || !key.contains('[')) => {
                params
                    .filters
                    .entry(base.to_owned())
                    .or_default()
                    .push(value.into_owned());
            }
            _ => return Err(invalid(&format!("Received unknown parameter: {key}"), key)),
        }
    }
    if params.starting_after.is_some() && params.ending_before.is_some() {
        return Err(invalid(
            "You may only specify one of these parameters: ending_before, starting_after.",
            "ending_before",
        ));
    }
    let allowed: &[&str] = match kind {
        Kind::Subscriptions => &[
            "active",
            "past_due",
            "unpaid",
            "canceled",
            "incomplete",
            "incomplete_expired",
            "trialing",
            "paused",
            "all",
            "ended",
        ],
        Kind::Invoices => &["draft", "open", "paid", "uncollectible", "void"],
        _ => &[],
    };
    if let Some(status) = params.filters.get("status").and_then(|s| s.last()) {
        if !allowed.contains(&status.as_str()) {
            return Err(invalid(
                &format!("Invalid status: must be one of {}", allowed.join(", ")),
                "status",
            ));
        }
    }
    Ok(params)
}

fn view(stripe: &mut StripeGen, kind: Kind) -> &ListView {
    let ledger = &stripe.ledger;
    stripe
        .views
        .entry(kind.path())
        .or_insert_with(|| match kind {
            Kind::Charges => ListView::build(&ledger.charges),
            Kind::Refunds => ListView::build(&ledger.refunds),
            Kind::Customers => ListView::build(&ledger.customers),
            Kind::Subscriptions => ListView::build(&ledger.subscriptions),
            Kind::Invoices => ListView::build(&ledger.invoices),
            Kind::Events => ListView::build(&ledger.events),
        })
}

async fn list(
    kind: Kind,
    State(sim): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Err(response) = enter_api(&sim, kind.endpoint(), &headers).await {
        return response;
    }
    let params = match parse(kind, raw.as_deref()) {
        Ok(params) => params,
        Err(response) => return response,
    };
    let mut world = lock(&sim.world);
    let stripe = world.stripe();
    // Build (or reuse) the view before borrowing the ledger for filtering.
    view(stripe, kind);
    let stripe: &StripeGen = stripe;
    let view = &stripe.views[kind.path()];
    let ledger = &stripe.ledger;
    let tamper = &stripe.tamper;

    let one = |name: &str| {
        params
            .filters
            .get(name)
            .and_then(|v| v.last())
            .map(String::as_str)
    };
    let customer = one("customer");
    let retained_from = ledger.end - EVENT_RETENTION;
    let event_types: Vec<&str> = params
        .filters
        .get("types")
        .into_iter()
        .flatten()
        .chain(params.filters.get("type").into_iter().flatten())
        .map(String::as_str)
        .collect();
    let type_matches = |kind: &str| {
        event_types.is_empty()
            || event_types.iter().any(|t| match t.strip_suffix('*') {
                Some(prefix) => kind.starts_with(prefix),
                None => kind == *t,
            })
    };
    let matches = |i: usize| -> bool {
        match kind {
            Kind::Charges => {
                customer.is_none_or(|c| ledger.charges[i].customer == c)
                    && !tamper.hides(&ledger.charges[i].id)
            }
            Kind::Refunds => one("charge").is_none_or(|c| ledger.refunds[i].charge == c),
            Kind::Customers => one("email").is_none_or(|e| ledger.customers[i].email == e),
            Kind::Subscriptions => {
                let s = &ledger.subscriptions[i];
                let status_ok = match one("status") {
                    None => s.status != SubscriptionStatus::Canceled,
                    Some("all") => true,
                    Some("ended") => s.status == SubscriptionStatus::Canceled,
                    Some(status) => s.status.as_str() == status,
                };
                status_ok && customer.is_none_or(|c| s.customer == c)
            }
            Kind::Invoices => {
                let inv = &ledger.invoices[i];
                customer.is_none_or(|c| inv.customer == c)
                    && one("status").is_none_or(|s| inv.status.as_str() == s)
                    && one("subscription").is_none_or(|s| inv.subscription.as_deref() == Some(s))
            }
            Kind::Events => {
                let e = &ledger.events[i];
                e.created >= retained_from && type_matches(&e.kind) && !tamper.hides(&e.object_id)
            }
        }
    };
    let created = |i: usize| -> i64 {
        match kind {
            Kind::Charges => ledger.charges[i].created,
            Kind::Refunds => ledger.refunds[i].created,
            Kind::Customers => ledger.customers[i].created,
            Kind::Subscriptions => ledger.subscriptions[i].created,
            Kind::Invoices => ledger.invoices[i].created,
            Kind::Events => ledger.events[i].created,
        }
    };
    let position = |id: &str, param: &str| -> Result<usize, Response> {
        view.rank.get(id).copied().ok_or_else(|| {
            let body = json!({ "error": {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "message": format!("No such {}: '{id}'", kind.noun()),
                "param": param,
            }});
            (StatusCode::NOT_FOUND, Json(body)).into_response()
        })
    };

    let mut page = Vec::with_capacity(params.limit);
    let mut has_more = false;
    if let Some(cursor) = &params.ending_before {
        let end = match position(cursor, "ending_before") {
            Ok(end) => end,
            Err(response) => return response,
        };
        // Newer items sit before the cursor; walk towards the newest.
        for &i in view.order[..end].iter().rev() {
            let at = created(i);
            if at > params.upper {
                break;
            }
            if at < params.lower || !matches(i) {
                continue;
            }
            if page.len() == params.limit {
                has_more = true;
                break;
            }
            page.push(i);
        }
        page.reverse();
    } else {
        let from = match &params.starting_after {
            Some(cursor) => match position(cursor, "starting_after") {
                Ok(pos) => pos + 1,
                Err(response) => return response,
            },
            None => 0,
        };
        // Skip what is newer than the window without looking at each item.
        let skip = view.order[from..].partition_point(|i| created(*i) > params.upper);
        for &i in &view.order[from + skip..] {
            if created(i) < params.lower {
                break;
            }
            if !matches(i) {
                continue;
            }
            if page.len() == params.limit {
                has_more = true;
                break;
            }
            page.push(i);
        }
    }

    let data: Vec<Value> = page
        .into_iter()
        .map(|i| match kind {
            Kind::Charges => {
                let mut json = ledger.charge_json(&ledger.charges[i]);
                tamper.apply(&mut json);
                json
            }
            Kind::Refunds => ledger.refund_json(&ledger.refunds[i]),
            Kind::Customers => ledger.customer_json(&ledger.customers[i]),
            Kind::Subscriptions => ledger.subscription_json(&ledger.subscriptions[i]),
            Kind::Invoices => ledger.invoice_json(&ledger.invoices[i]),
            Kind::Events => {
                let mut json = ledger.event_json(&ledger.events[i]);
                if let Some(object) = json.pointer_mut("/data/object") {
                    tamper.apply(object);
                }
                json
            }
        })
        .collect();
    let mut body = json!({ "object": "list", "url": kind.path(), "has_more": has_more });
    // Moved in rather than through `json!`, which would deep-copy the page.
    body["data"] = Value::Array(data);
    Json(body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(response: Response) -> StatusCode {
        response.status()
    }

    #[test]
    fn parses_paging_and_created_bounds() {
        let params = parse(
            Kind::Charges,
            Some("limit=100&starting_after=ch_1&created%5Bgt%5D=10&created[lte]=20&expand[]=data.customer"),
        )
        .unwrap();
        assert_eq!(params.limit, 100);
        assert_eq!(params.starting_after.as_deref(), Some("ch_1"));
        assert_eq!((params.lower, params.upper), (11, 20));
        let events = parse(
            Kind::Events,
            Some("types[]=charge.refunded&types[]=refund.created"),
        )
        .unwrap();
        assert_eq!(events.filters["types"].len(), 2);
    }

    #[test]
    fn rejects_what_stripe_rejects() {
        for query in [
            "limit=0",
            "limit=101",
            "limit=ten",
            "created[gte]=soon",
            "colour=blue",
            "starting_after=a&ending_before=b",
        ] {
            let error = parse(Kind::Charges, Some(query)).unwrap_err();
            assert_eq!(status_of(error), StatusCode::BAD_REQUEST, "{query}");
        }
        assert!(parse(Kind::Subscriptions, Some("status=all")).is_ok());
        assert!(parse(Kind::Subscriptions, Some("status=gone")).is_err());
        assert!(parse(Kind::Charges, Some("status=all")).is_err());
    }
}

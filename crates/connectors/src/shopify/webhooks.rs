//! Shopify's webhook deliveries. Shopify signs every delivery with the app's own
//! secret (`X-Shopify-Hmac-Sha256`), names it with `X-Shopify-Webhook-Id` (the same
//! on retries) and its topic with `X-Shopify-Topic`. The REST payloads differ from
//! the GraphQL nodes the sync stores, so orders become live-pulse money only; their
//! numbers arrive with the next sync. `app/uninstalled` revokes the connection, and
//! the three mandatory privacy topics ask for a customer's data or its erasure.

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::{
    provider::{
        Redaction, RevenueKind, RevenueMove, WebhookDelivery, WebhookSecret, WebhookSetup,
    },
    support::error::WebhookError,
};

pub(super) const SETUP: WebhookSetup = WebhookSetup {
    events: &[
        "orders/create",
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

/// A decimal amount string (`"12.50"`) in minor units of a currency with
/// `exponent` decimals, exactly (no floating point).
pub(crate) fn minor_units(amount: &str, exponent: u32) -> Option<i64> {
    let (negative, digits) = match amount.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, amount),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if fraction.len() > exponent as usize
        || !whole.chars().chain(fraction.chars()).all(|c| c.is_ascii_digit())
        || whole.is_empty()
    {
        return None;
    }
    let padded = format!("{fraction:0<width$}", width = exponent as usize);
    let value: i64 = format!("{whole}{padded}").parse().ok()?;
    Some(if negative { -value } else { value })
}

fn exponent(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "HUF" | "TWD" | "UGX" | "XAF" | "XOF" => 0,
        "BHD" | "JOD" | "KWD" | "OMR" | "TND" => 3,
        _ => 2,
    }
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
    chrono::DateTime::parse_from_rfc3339(&text(v, &format!("/{field}"))?)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
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
        "orders/create" => {
            let currency = text(&payload, "/currency").unwrap_or_default().to_uppercase();
            let amount = text(&payload, "/total_price")
                .and_then(|a| minor_units(&a, exponent(&currency)))
                .ok_or(WebhookError::MalformedBody)?;
            delivery.revenue.push(RevenueMove {
                source_id: format!("order/{}", text(&payload, "/id").ok_or(WebhookError::MalformedBody)?),
                kind: RevenueKind::Sale,
                amount_minor: amount,
                currency,
                customer_email: text(&payload, "/email"),
                occurred_at: occurred_at(&payload, "created_at").unwrap_or_else(chrono::Utc::now),
                campaign: campaign(&payload),
                cumulative: false,
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
                .filter_map(|t| minor_units(&text(t, "/amount")?, exponent(&currency)))
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
    fn amounts_are_exact_minor_units() {
        assert_eq!(minor_units("12.50", 2), Some(1250));
        assert_eq!(minor_units("12.5", 2), Some(1250));
        assert_eq!(minor_units("1200", 0), Some(1200));
        assert_eq!(minor_units("0.105", 3), Some(105));
        assert_eq!(minor_units("-3.01", 2), Some(-301));
        assert_eq!(minor_units("1.234", 2), None);
        assert_eq!(minor_units("1e3", 2), None);
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
        let noted = json!({ "id": 124, "total_price": "1200", "currency": "JPY",
                            "note_attributes": [{ "name": "utm_campaign", "value": "tv" }] });
        let d = delivery(&headers("orders/create"), noted.to_string().as_bytes()).unwrap();
        assert_eq!((d.revenue[0].amount_minor, d.revenue[0].campaign.as_deref()), (1200, Some("tv")));
    }

    #[test]
    fn refunds_uninstalls_and_privacy_topics() {
        let refund = json!({ "id": 9, "created_at": "2026-03-10T10:00:00Z",
                             "transactions": [{ "kind": "refund", "amount": "5.00", "currency": "USD" },
                                              { "kind": "sale", "amount": "50.00", "currency": "USD" }] });
        let d = delivery(&headers("refunds/create"), refund.to_string().as_bytes()).unwrap();
        assert_eq!(d.revenue[0].amount_minor, -500);
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

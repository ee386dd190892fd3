//! Shopify objects → metric events, one object at a time.
//!
//! Money is in minor units of the shop's currency (`shopMoney`), parsed exactly from
//! Shopify's decimal strings ([`minor_units`]); every money event and every
//! order-level event carries that currency, upper case, in a `currency` dimension,
//! so the server can filter money metrics by the store's currency and divide
//! `net_sales` by `orders` under the same filter (`aov` gets no events of its own).
//!
//! - order, unless it is a test order or cancelled (see below), with dimensions
//!   `channel` (`sourceName`), `country` (the shipping country, absent for point of
//!   sale) and `currency`, in the terms of Shopify's sales report: on the order's day
//!   (`processedAt`, else `createdAt`):
//!   - `orders` 1;
//!   - per line item, with the line's `product` (its GID) as a further dimension:
//!     `gross_sales` = original unit price × quantity, `discounts` = that minus the
//!     line's discounted total, `net_sales` and `total_sales` = the discounted total,
//!     `units_sold` = quantity. Quantities and totals are the order's current ones, so
//!     an edit re-derives them on the order's day (the order's `updatedAt` moves, the
//!     sync fetches it again and its events are replaced);
//!   - by `customerJourneySummary.customerOrderIndex`: `first_orders` 1 for a
//!     customer's first order, `returning_customer_orders` 1 for a later one, and the
//!     line items' discounted totals as `new_customer_sales` or
//!     `returning_customer_sales` (guest orders count in neither);
//!   - `shipping` and `total_sales` = the shipping charged, `taxes` and `total_sales` =
//!     the tax charged.
//!
//!   And per refund, on the refund's day (`createdAt`): `refunds` = all the money
//!   refunded (`totalRefundedSet`); `returns` = the merchandise given back (its
//!   `refundLineItems`' `subtotalSet`, with their line's product) and `net_sales`
//!   minus it; `shipping` minus the shipping given back (`refundShippingLines`'
//!   `subtotalAmountSet`); `taxes` minus the tax given back (the line items' and
//!   shipping lines' tax); `total_sales` minus the three. So net sales = gross sales −
//!   discounts − returns and total sales = net sales + shipping + taxes, day by day.
//!   A refund without that breakdown (a webhook's REST payload, translated before the
//!   sync replaces it) counts whole as returns.
//!
//!   A cancelled order counts nothing at all — no order, no sales, no refunds (a
//!   cancellation refunds what was left): it was never a sale. Its events disappear
//!   from the day it was placed once the cancellation is synced. Test orders count
//!   nothing either.
//! - customer: an order says nothing of whether it was its customer's first (its
//!   `customer.numberOfOrders` is the count *now*, which changes without the order's
//!   `updatedAt` moving), so new and returning customers come from the customer
//!   record, whose `updatedAt` does move with every order: `new_customers` 1 when
//!   `numberOfOrders` ≥ 1 and `returning_customers` 1 when it is ≥ 2, both at the
//!   customer's `createdAt` (Shopify creates the customer at their first order or
//!   checkout). Read per period: the customers acquired then, and how many of them
//!   came back. Shopify counts every order in `numberOfOrders`, cancelled and test
//!   ones included; so does this. No dimensions: a customer has no channel.
//! - abandoned checkout: `abandoned_checkouts` 1 at `createdAt` while `completedAt` is
//!   null, with the shipping `country` when there is one and the `currency`.
//! - product: no events; its `title` names the `product` dimension's values ([`labels`]).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::ShopifyProvider;
use crate::sync::{Derivation, Derive, DimensionLabel, MetricEvent, RawRecord};

/// The ISO 4217 number of decimals of a currency: 0 for zero-decimal currencies,
/// 3 for the dinar family, 4 for the accounting units, else 2.
pub(crate) fn currency_exponent(currency: &str) -> u32 {
    match currency.to_ascii_uppercase().as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// A decimal string in major units (`"12.34"`, `"-0.5"`, `"1500.0"`) as minor units
/// of `currency`, exactly. Fewer decimals than the currency has are padded; more are
/// accepted only when they are zeros (Shopify writes yen as `"1500.0"`). `None` for
/// anything else, including amounts that do not fit an `i64`.
pub(crate) fn minor_units(amount: &str, currency: &str) -> Option<i64> {
    let exponent = currency_exponent(currency) as usize;
    let text = amount.trim();
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) {
        return None;
    }
    let (kept, dropped) = fraction.split_at(fraction.len().min(exponent));
    if dropped.bytes().any(|b| b != b'0') {
        return None;
    }
    let mut value: i64 = 0;
    for b in whole.bytes().chain(kept.bytes()) {
        value = value.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    for _ in kept.len()..exponent {
        value = value.checked_mul(10)?;
    }
    Some(if negative { -value } else { value })
}

/// Minor units of `currency` as the decimal string Shopify writes (`1250` USD →
/// `"12.50"`): the inverse of [`minor_units`].
pub(crate) fn format_minor(minor: i64, currency: &str) -> String {
    let exponent = currency_exponent(currency) as usize;
    let sign = if minor < 0 { "-" } else { "" };
    let digits = format!("{:0>width$}", minor.unsigned_abs(), width = exponent + 1);
    let (whole, fraction) = digits.split_at(digits.len() - exponent);
    if exponent == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}

fn str_of<'a>(object: &'a Value, pointer: &str) -> Option<&'a str> {
    object.pointer(pointer).and_then(Value::as_str)
}

/// An ISO 8601 timestamp field.
pub(crate) fn time_of(object: &Value, pointer: &str) -> Option<DateTime<Utc>> {
    str_of(object, pointer)
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|at| at.with_timezone(&Utc))
}

/// An integer Shopify may send as a string (`UnsignedInt64`) or a number.
fn count_of(object: &Value, pointer: &str) -> Option<i64> {
    match object.pointer(pointer)? {
        Value::String(text) => text.parse().ok(),
        other => other.as_i64(),
    }
}

/// A `MoneyBag`'s shop amount in minor units, with its currency (upper case).
fn shop_money(object: &Value, pointer: &str, fallback_currency: Option<&str>) -> Option<i64> {
    let money = object.pointer(pointer)?.get("shopMoney")?;
    let currency = money
        .get("currencyCode")
        .and_then(Value::as_str)
        .or(fallback_currency)?;
    minor_units(money.get("amount")?.as_str()?, currency)
}

/// The items of a list or of a connection (`nodes`, or `edges[].node`).
fn items<'a>(object: &'a Value, pointer: &str) -> Vec<&'a Value> {
    match object.pointer(pointer) {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(connection) => {
            if let Some(Value::Array(nodes)) = connection.get("nodes") {
                nodes.iter().collect()
            } else if let Some(Value::Array(edges)) = connection.get("edges") {
                edges.iter().filter_map(|e| e.get("node")).collect()
            } else {
                Vec::new()
            }
        }
        None => Vec::new(),
    }
}

impl Derive for ShopifyProvider {
    fn derivation(&self) -> Derivation {
        Derivation { events, labels }
    }
}

pub(crate) fn events(record: &RawRecord) -> Vec<MetricEvent> {
    let o = &record.payload;
    match record.object_type.as_str() {
        "order" => order_events(o),
        "customer" => customer_events(o),
        "checkout" => checkout_events(o),
        _ => vec![],
    }
}

fn order_events(o: &Value) -> Vec<MetricEvent> {
    let test = o.get("test").and_then(Value::as_bool).unwrap_or(false);
    let cancelled = o.get("cancelledAt").is_some_and(|c| !c.is_null());
    if test || cancelled {
        return vec![];
    }
    let Some(placed) = time_of(o, "/processedAt").or_else(|| time_of(o, "/createdAt")) else {
        return vec![];
    };
    let currency = str_of(o, "/currencyCode")
        .or_else(|| str_of(o, "/totalPriceSet/shopMoney/currencyCode"))
        .map(str::to_uppercase);
    let currency = currency.as_deref();
    let channel = str_of(o, "/sourceName");
    let country = str_of(o, "/shippingAddress/countryCodeV2");
    let event = |metric, value, at| {
        MetricEvent::new(metric, value, at)
            .with("channel", channel)
            .with("country", country)
            .with("currency", currency)
    };

    let mut derived = vec![event("orders", 1, placed)];
    // Which of the customer's orders this is; guests and unknown journeys count as
    // neither new nor returning.
    let returning = count_of(o, "/customerJourneySummary/customerOrderIndex").map(|n| n > 1);
    match returning {
        Some(true) => derived.push(event("returning_customer_orders", 1, placed)),
        Some(false) => derived.push(event("first_orders", 1, placed)),
        None => {}
    }
    let customer_sales = match returning {
        Some(true) => Some("returning_customer_sales"),
        Some(false) => Some("new_customer_sales"),
        None => None,
    };
    let mut products = std::collections::HashMap::new();
    for line in items(o, "/lineItems") {
        let product = str_of(line, "/product/id");
        if let Some(id) = str_of(line, "/id") {
            products.insert(id, product);
        }
        let quantity = count_of(line, "/quantity").unwrap_or(0);
        if quantity <= 0 {
            continue;
        }
        let unit = shop_money(line, "/originalUnitPriceSet", currency);
        let discounted = shop_money(line, "/discountedTotalSet", currency);
        let (Some(gross), Some(net)) = (unit.and_then(|u| u.checked_mul(quantity)), discounted)
        else {
            tracing::warn!(
                order = str_of(o, "/id"),
                line = str_of(line, "/id"),
                "a Shopify line item without readable amounts is left out"
            );
            continue;
        };
        derived.extend([
            event("gross_sales", gross, placed).with("product", product),
            event("units_sold", quantity, placed).with("product", product),
            event("net_sales", net, placed).with("product", product),
            event("total_sales", net, placed).with("product", product),
        ]);
        if let Some(metric) = customer_sales {
            derived.push(event(metric, net, placed).with("product", product));
        }
        if gross != net {
            derived.push(event("discounts", gross - net, placed).with("product", product));
        }
    }
    for (metric, pointer) in [
        ("shipping", "/totalShippingPriceSet"),
        ("taxes", "/totalTaxSet"),
    ] {
        if let Some(amount) = shop_money(o, pointer, currency).filter(|a| *a != 0) {
            derived.extend([
                event(metric, amount, placed),
                event("total_sales", amount, placed),
            ]);
        }
    }
    for refund in items(o, "/refunds") {
        let (Some(at), Some(amount)) = (
            time_of(refund, "/createdAt"),
            shop_money(refund, "/totalRefundedSet", currency),
        ) else {
            continue;
        };
        let returned = items(refund, "/refundLineItems");
        let shipping_lines = items(refund, "/refundShippingLines");
        let mut given_back = Vec::new();
        let (mut shipping, mut tax) = (0, 0);
        if returned.is_empty() && shipping_lines.is_empty() {
            given_back.push((amount, None));
        }
        for item in returned {
            let product = str_of(item, "/lineItem/id").and_then(|id| products.get(id).copied().flatten());
            given_back.push((shop_money(item, "/subtotalSet", currency).unwrap_or(0), product));
            tax += shop_money(item, "/totalTaxSet", currency).unwrap_or(0);
        }
        for line in shipping_lines {
            shipping += shop_money(line, "/subtotalAmountSet", currency).unwrap_or(0);
            tax += shop_money(line, "/taxAmountSet", currency).unwrap_or(0);
        }
        let returned_total: i64 = given_back.iter().map(|(v, _)| v).sum();
        for (value, product) in given_back.into_iter().filter(|(v, _)| *v != 0) {
            derived.extend([
                event("returns", value, at).with("product", product),
                event("net_sales", -value, at).with("product", product),
            ]);
        }
        for (metric, value) in [("shipping", shipping), ("taxes", tax)] {
            if value != 0 {
                derived.push(event(metric, -value, at));
            }
        }
        if amount != 0 {
            derived.push(event("refunds", amount, at));
        }
        let taken_back = returned_total + shipping + tax;
        if taken_back != 0 {
            derived.push(event("total_sales", -taken_back, at));
        }
    }
    derived
}

fn customer_events(c: &Value) -> Vec<MetricEvent> {
    let (Some(created), Some(orders)) = (time_of(c, "/createdAt"), count_of(c, "/numberOfOrders"))
    else {
        return vec![];
    };
    let mut derived = Vec::new();
    if orders >= 1 {
        derived.push(MetricEvent::new("new_customers", 1, created));
    }
    if orders >= 2 {
        derived.push(MetricEvent::new("returning_customers", 1, created));
    }
    derived
}

fn checkout_events(c: &Value) -> Vec<MetricEvent> {
    let completed = c.get("completedAt").is_some_and(|v| !v.is_null());
    let Some(created) = time_of(c, "/createdAt").filter(|_| !completed) else {
        return vec![];
    };
    let currency = str_of(c, "/totalPriceSet/shopMoney/currencyCode").map(str::to_uppercase);
    vec![MetricEvent::new("abandoned_checkouts", 1, created)
        .with("country", str_of(c, "/shippingAddress/countryCodeV2"))
        .with("currency", currency)]
}

/// Product names: the `product` dimension is a product's GID; the product record
/// carries its current title.
pub(crate) fn labels(record: &RawRecord) -> Vec<DimensionLabel> {
    if record.object_type != "product" {
        return vec![];
    }
    let o = &record.payload;
    DimensionLabel::of("product", str_of(o, "/id"), str_of(o, "/title"))
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(object_type: &str, payload: Value) -> RawRecord {
        RawRecord {
            object_type: object_type.into(),
            external_id: "gid://shopify/X/1".into(),
            updated_at: None,
            payload,
        }
    }

    fn money(amount: &str) -> Value {
        json!({ "shopMoney": { "amount": amount, "currencyCode": "EUR" } })
    }

    fn sum(events: &[MetricEvent], metric: &str) -> i64 {
        events
            .iter()
            .filter(|e| e.metric == metric)
            .map(|e| e.value)
            .sum()
    }

    fn order() -> Value {
        json!({
            "id": "gid://shopify/Order/5600000000001",
            "createdAt": "2024-03-01T10:00:00Z",
            "processedAt": "2024-03-01T10:00:05Z",
            "updatedAt": "2024-03-05T08:00:00Z",
            "cancelledAt": null,
            "test": false,
            "sourceName": "web",
            "currencyCode": "EUR",
            "customer": { "id": "gid://shopify/Customer/1", "numberOfOrders": "2" },
            "shippingAddress": { "countryCodeV2": "DE" },
            "lineItems": { "nodes": [
                { "id": "gid://shopify/LineItem/1", "quantity": 2, "product": { "id": "gid://shopify/Product/7" },
                  "originalUnitPriceSet": money("19.95"), "discountedTotalSet": money("35.91") },
                { "id": "gid://shopify/LineItem/2", "quantity": 1, "product": null,
                  "originalUnitPriceSet": money("5.5"), "discountedTotalSet": money("4.95") }
            ]},
            "refunds": [
                { "id": "gid://shopify/Refund/1", "createdAt": "2024-03-05T08:00:00Z", "totalRefundedSet": money("10.00") }
            ]
        })
    }

    #[test]
    fn decimal_strings_become_exact_minor_units() {
        assert_eq!(minor_units("12.34", "USD"), Some(1234));
        assert_eq!(minor_units("12.3", "USD"), Some(1230));
        assert_eq!(minor_units("12", "usd"), Some(1200));
        assert_eq!(minor_units("-0.05", "USD"), Some(-5));
        assert_eq!(minor_units("0.10", "USD"), Some(10));
        assert_eq!(minor_units("1500.0", "JPY"), Some(1500));
        assert_eq!(minor_units("1.234", "KWD"), Some(1234));
        assert_eq!(minor_units("12.340", "USD"), Some(1234));
        for (minor, currency) in [(1234, "USD"), (-5, "USD"), (0, "EUR"), (1500, "JPY"), (1234, "KWD"), (7, "KWD")] {
            assert_eq!(minor_units(&format_minor(minor, currency), currency), Some(minor), "{minor} {currency}");
        }
        assert_eq!(format_minor(5, "USD"), "0.05");
        // 0.1 + 0.2 style float errors cannot happen: this is integer arithmetic.
        assert_eq!(
            minor_units("4503599627370496.01", "USD"),
            Some(450_359_962_737_049_601)
        );
        for bad in [
            "12.345",
            "1.5e3",
            "",
            ".5",
            "abc",
            "1,00",
            "--1",
            "99999999999999999999",
        ] {
            assert_eq!(minor_units(bad, "USD"), None, "{bad}");
        }
        assert_eq!(minor_units("1.5", "JPY"), None);
    }

    #[test]
    fn an_order_counts_per_line_and_its_refunds_lower_net_sales() {
        let derived = events(&record("order", order()));
        assert_eq!(sum(&derived, "orders"), 1);
        assert_eq!(sum(&derived, "gross_sales"), 2 * 1995 + 550);
        assert_eq!(sum(&derived, "units_sold"), 3);
        assert_eq!(sum(&derived, "net_sales"), 3591 + 495 - 1000);
        assert_eq!(sum(&derived, "refunds"), 1000);
        assert_eq!(sum(&derived, "new_customers"), 0);
        for event in &derived {
            assert_eq!(event.dimensions["currency"], "EUR", "{event:?}");
            assert_eq!(event.dimensions["channel"], "web");
            assert_eq!(event.dimensions["country"], "DE");
        }
        let gross: Vec<_> = derived
            .iter()
            .filter(|e| e.metric == "gross_sales")
            .collect();
        assert_eq!(gross[0].dimensions["product"], "gid://shopify/Product/7");
        assert!(!gross[1].dimensions.contains_key("product"));
        assert_eq!(gross[0].at.to_rfc3339(), "2024-03-01T10:00:05+00:00");
        let refund = derived.iter().find(|e| e.metric == "refunds").unwrap();
        assert_eq!(refund.at.to_rfc3339(), "2024-03-05T08:00:00+00:00");
        assert!(!refund.dimensions.contains_key("product"));
    }

    #[test]
    fn test_and_cancelled_orders_count_nothing() {
        let mut test = order();
        test["test"] = json!(true);
        assert!(events(&record("order", test)).is_empty());
        let mut cancelled = order();
        cancelled["cancelledAt"] = json!("2024-03-02T00:00:00Z");
        assert!(events(&record("order", cancelled)).is_empty());
    }

    #[test]
    fn customers_count_as_new_once_they_order_and_returning_from_the_second_order() {
        let customer = |orders: Value| {
            events(&record(
                "customer",
                json!({ "createdAt": "2024-02-01T00:00:00Z", "numberOfOrders": orders }),
            ))
        };
        assert!(customer(json!("0")).is_empty());
        let one = customer(json!("1"));
        assert_eq!(
            (sum(&one, "new_customers"), sum(&one, "returning_customers")),
            (1, 0)
        );
        let three = customer(json!(3));
        assert_eq!(
            (
                sum(&three, "new_customers"),
                sum(&three, "returning_customers")
            ),
            (1, 1)
        );
        assert_eq!(three[0].at.to_rfc3339(), "2024-02-01T00:00:00+00:00");
    }

    #[test]
    fn only_open_checkouts_are_abandoned() {
        let checkout = json!({
            "createdAt": "2024-02-01T00:00:00Z", "completedAt": null,
            "totalPriceSet": money("20.00"), "shippingAddress": { "countryCodeV2": "FR" }
        });
        let derived = events(&record("checkout", checkout.clone()));
        assert_eq!(derived.len(), 1);
        assert_eq!(derived[0].metric, "abandoned_checkouts");
        assert_eq!(derived[0].dimensions["country"], "FR");
        let mut completed = checkout;
        completed["completedAt"] = json!("2024-02-01T01:00:00Z");
        assert!(events(&record("checkout", completed)).is_empty());
        assert!(events(&record(
            "product",
            json!({ "id": "gid://shopify/Product/1" })
        ))
        .is_empty());
    }

    #[test]
    fn a_product_record_names_its_id() {
        let product = json!({ "id": "gid://shopify/Product/7", "title": "Ethiopia Yirgacheffe" });
        let named = labels(&record("product", product));
        assert_eq!(named.len(), 1);
        assert_eq!(
            (
                named[0].dimension,
                named[0].value.as_str(),
                named[0].label.as_str()
            ),
            ("product", "gid://shopify/Product/7", "Ethiopia Yirgacheffe")
        );
        assert!(labels(&record("order", order())).is_empty());
        assert!(labels(&record(
            "product",
            json!({ "id": "gid://shopify/Product/8" })
        ))
        .is_empty());
    }
}

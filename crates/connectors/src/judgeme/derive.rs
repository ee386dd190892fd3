//! Judge.me reviews → metric events, dimension labels and review items, one
//! review at a time (`object_type` `review`, the review JSON as Judge.me lists it,
//! plus `pulseboard.shop_domain` attached by the sync for links).
//!
//! - `reviews` 1, `rating_total` stars × 100 and `sentiment_total`
//!   (`sentiment(title + body)` × 1000, rounded) at `created_at`, with the
//!   dimensions `rating`, `product` (`product_external_id`), `verified` (Judge.me's
//!   value: `buyer`, `nothing`, …) and `status`: `hidden` when `hidden` is true,
//!   else `published` when `published` is true, else `pending` (waiting for the
//!   shop's moderation).
//! - `pending_reviews` +1 at `created_at` for a review pending now. Judge.me says
//!   neither when a review was published nor whether it ever waited, so a
//!   review's events describe its state at the last sync: once it is published
//!   or hidden, the next sync replaces its events and it stops counting, from the
//!   day it was written. Today's value is exactly the reviews waiting now, which
//!   is what an alert rule on it watches.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::JudgeMeProvider;
use crate::{
    items::{Item, Review},
    support::sentiment::sentiment,
    sync::{Derivation, Derive, DimensionLabel, MetricEvent, RawRecord},
};

/// The `object_type` of a stored review.
pub(crate) const REVIEW_OBJECT: &str = "review";

impl Derive for JudgeMeProvider {
    fn derivation(&self) -> Derivation {
        Derivation { events, labels }
    }

    fn items(&self, record: &RawRecord) -> Vec<Item> {
        items(record)
    }

    fn item_kinds(&self) -> &'static [&'static str] {
        &["review"]
    }
}

fn str_field<'a>(payload: &'a Value, name: &str) -> Option<&'a str> {
    payload
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// An id Judge.me sends as a number (or, for safety, a string).
pub(crate) fn id_string(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// An ISO 8601 time (`2022-05-12T04:38:32+00:00`).
pub(crate) fn time_field(payload: &Value, name: &str) -> Option<DateTime<Utc>> {
    str_field(payload, name)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// The moderation status: `hidden`, `published` or `pending`.
pub fn status(payload: &Value) -> &'static str {
    let flag = |name| payload.get(name).and_then(Value::as_bool) == Some(true);
    if flag("hidden") {
        "hidden"
    } else if flag("published") {
        "published"
    } else {
        "pending"
    }
}

/// Judge.me's `verified` values that mean a buyer of the product wrote it.
fn verified_buyer(verified: Option<&str>) -> bool {
    matches!(verified, Some("buyer" | "confirmed-buyer" | "verified-buyer"))
}

/// The text sentiment is computed from: the title and the body, one sentence each.
fn review_text(payload: &Value) -> String {
    match (str_field(payload, "title"), str_field(payload, "body")) {
        (Some(title), Some(body)) => format!("{title}. {body}"),
        (Some(text), None) | (None, Some(text)) => text.to_owned(),
        (None, None) => String::new(),
    }
}

/// A review's sentiment ×1000, rounded (−1000 to 1000), as the metrics count it.
pub fn sentiment_milli(payload: &Value) -> i64 {
    (sentiment(&review_text(payload)) * 1000.0).round() as i64
}

fn rating(payload: &Value) -> Option<i64> {
    payload
        .get("rating")
        .and_then(Value::as_i64)
        .filter(|r| (1..=5).contains(r))
}

pub fn events(record: &RawRecord) -> Vec<MetricEvent> {
    if record.object_type != REVIEW_OBJECT {
        return vec![];
    }
    let payload = &record.payload;
    let (Some(at), Some(stars)) = (time_field(payload, "created_at"), rating(payload)) else {
        return vec![];
    };
    let product = id_string(payload.get("product_external_id"));
    let status = status(payload);
    let event = |metric, value| {
        MetricEvent::new(metric, value, at)
            .with("rating", Some(stars.to_string()))
            .with("product", product.clone())
    };
    let review = |metric, value| {
        event(metric, value)
            .with("verified", str_field(payload, "verified"))
            .with("status", Some(status))
    };
    let mut derived = vec![
        review("reviews", 1),
        review("rating_total", stars * 100),
        review("sentiment_total", sentiment_milli(payload)),
    ];
    if status == "pending" {
        derived.push(event("pending_reviews", 1));
    }
    derived
}

/// Product titles for the `product` dimension, readable names for `verified`.
pub(crate) fn labels(record: &RawRecord) -> Vec<DimensionLabel> {
    if record.object_type != REVIEW_OBJECT {
        return vec![];
    }
    let payload = &record.payload;
    let product = id_string(payload.get("product_external_id"));
    let verified = str_field(payload, "verified");
    let verified_label = verified.map(|v| match v {
        "buyer" | "confirmed-buyer" | "verified-buyer" => "Verified buyer".to_owned(),
        "nothing" => "Not verified".to_owned(),
        other => format!("Verified ({})", other.replace('-', " ")),
    });
    [
        DimensionLabel::of(
            "product",
            product.as_deref(),
            str_field(payload, "product_title"),
        ),
        DimensionLabel::of("verified", verified, verified_label.as_deref()),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The review as the review feed shows it; a link to its product's page on the
/// shop when Judge.me names the product's handle. A review the shop hid is not
/// shown (nor is it pending).
pub fn items(record: &RawRecord) -> Vec<Item> {
    if record.object_type != REVIEW_OBJECT || status(&record.payload) == "hidden" {
        return vec![];
    }
    let payload = &record.payload;
    let (Some(created_at), Some(stars)) = (time_field(payload, "created_at"), rating(payload))
    else {
        return vec![];
    };
    let shop = record
        .payload
        .pointer("/pulseboard/shop_domain")
        .and_then(Value::as_str);
    let url = match (shop, str_field(payload, "product_handle")) {
        (Some(shop), Some(handle)) => Some(format!("https://{shop}/products/{handle}")),
        _ => None,
    };
    vec![Item::Review(Review {
        id: record.external_id.clone(),
        rating: stars as u8,
        title: str_field(payload, "title").map(str::to_owned),
        body: str_field(payload, "body").unwrap_or_default().to_owned(),
        reviewer_name: payload
            .pointer("/reviewer/name")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        product_id: id_string(payload.get("product_external_id")),
        product_title: str_field(payload, "product_title").map(str::to_owned),
        verified: verified_buyer(str_field(payload, "verified")),
        published: status(payload) == "published",
        created_at,
        sentiment: sentiment(&review_text(payload)),
        url,
    })]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(payload: Value) -> RawRecord {
        RawRecord {
            object_type: REVIEW_OBJECT.into(),
            external_id: "309836503".into(),
            updated_at: None,
            payload,
        }
    }

    fn review(published: bool, hidden: bool, rating: i64, body: &str) -> Value {
        json!({
            "id": 309836503, "title": "Coffee", "body": body, "rating": rating,
            "product_external_id": 5280573096092_i64, "product_title": "Espresso Blend",
            "product_handle": "espresso-blend",
            "reviewer": { "id": 1, "name": "Ann", "email": "ann@example.com" },
            "verified": "buyer", "published": published, "hidden": hidden, "curated": "not-yet",
            "created_at": "2024-05-12T04:38:32+00:00", "updated_at": "2024-05-12T04:39:15+00:00",
            "pulseboard": { "shop_domain": "acme-coffee.myshopify.com" }
        })
    }

    fn value(events: &[MetricEvent], metric: &str) -> i64 {
        events
            .iter()
            .filter(|e| e.metric == metric)
            .map(|e| e.value)
            .sum()
    }

    #[test]
    fn a_published_review_counts_its_stars_and_words_but_is_not_pending() {
        let derived = events(&record(review(
            true,
            false,
            5,
            "Absolutely love it, the best espresso I have had.",
        )));
        assert_eq!(value(&derived, "reviews"), 1);
        assert_eq!(value(&derived, "rating_total"), 500);
        assert!(value(&derived, "sentiment_total") > 500);
        assert_eq!(value(&derived, "pending_reviews"), 0);
        let reviews = derived.iter().find(|e| e.metric == "reviews").unwrap();
        assert_eq!(reviews.dimensions["product"], "5280573096092");
        assert_eq!(reviews.dimensions["rating"], "5");
        assert_eq!(reviews.dimensions["verified"], "buyer");
        assert_eq!(reviews.dimensions["status"], "published");
        assert_eq!(reviews.at.to_rfc3339(), "2024-05-12T04:38:32+00:00");
    }

    #[test]
    fn a_review_waiting_for_moderation_is_pending_and_a_hidden_one_is_not() {
        let pending = events(&record(review(false, false, 1, "Terrible, arrived stale.")));
        assert_eq!(value(&pending, "pending_reviews"), 1);
        assert!(value(&pending, "sentiment_total") < 0);
        let status = |events: &[MetricEvent]| {
            events
                .iter()
                .find(|e| e.metric == "reviews")
                .unwrap()
                .dimensions["status"]
                .clone()
        };
        assert_eq!(status(&pending), "pending");
        let hidden = events(&record(review(false, true, 1, "Spam spam")));
        assert_eq!(value(&hidden, "pending_reviews"), 0);
        assert_eq!(status(&hidden), "hidden");
        // No rating, no events.
        assert!(events(&record(json!({ "created_at": "2024-05-12T04:38:32+00:00" }))).is_empty());
    }

    #[test]
    fn the_item_is_the_review_with_its_sentiment_and_product_link() {
        let payload = review(false, false, 2, "Not great, too bitter.");
        let items = items(&record(payload.clone()));
        let [Item::Review(item)] = items.as_slice() else {
            panic!("{items:?}")
        };
        assert_eq!(item.id, "309836503");
        assert_eq!(item.rating, 2);
        assert_eq!(item.title.as_deref(), Some("Coffee"));
        assert_eq!(item.reviewer_name.as_deref(), Some("Ann"));
        assert_eq!(item.product_title.as_deref(), Some("Espresso Blend"));
        assert!(item.verified && !item.published);
        assert_eq!(
            item.url.as_deref(),
            Some("https://acme-coffee.myshopify.com/products/espresso-blend")
        );
        assert_eq!(
            (item.sentiment * 1000.0).round() as i64,
            sentiment_milli(&payload)
        );
        let labels = labels(&record(payload));
        assert_eq!(labels[0].label, "Espresso Blend");
        assert_eq!(labels[1].label, "Verified buyer");
    }
}

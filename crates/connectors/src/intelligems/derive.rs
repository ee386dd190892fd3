//! Intelligems records → metric events, dimension labels and experiment items.
//!
//! Two kinds of record (see `sync.rs` for how they are made):
//!
//! - `experience` (id: the experience's id): the experience as the list gives it,
//!   with its running totals per variation under `analytics`. It gives no metric
//!   events (its totals would count again on every pull) but the
//!   [`Item::Experiment`] the experiment card shows, control first, and the names
//!   of the `experiment` and `variant` dimensions.
//! - `experience_day` (id: `{experience}/{YYYY-MM-DD}`): one UTC day of one
//!   experience, per variation: `visitors`, `orders` and `revenue` (in the
//!   experience's currency), dated at 12:00 UTC of that day (the same date in
//!   every zone from UTC−12 to UTC+11, as Clarity's days), or, for today read
//!   before noon, just before the time it was read (`asOfTs`), so that nothing is
//!   dated in the future. A newer version of the
//!   day (a later pull, or a webhook delivery during the day) replaces the older
//!   one, so each day counts once however often it is read.
//!
//! Money comes in major units (`"net_revenue": 123.45`) and is kept in minor units
//! of the experience's currency.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::Value;

use super::IntelligemsProvider;
use crate::{
    items::{Experiment, ExperimentStatus, Item, Variant},
    sync::{Derivation, Derive, DimensionLabel, MetricEvent, RawRecord},
};

/// `object_type` of an experience with its totals.
pub(crate) const EXPERIENCE: &str = "experience";
/// `object_type` of one day of an experience.
pub(crate) const EXPERIENCE_DAY: &str = "experience_day";

impl Derive for IntelligemsProvider {
    fn derivation(&self) -> Derivation {
        Derivation { events, labels }
    }

    fn items(&self, record: &RawRecord) -> Vec<Item> {
        items(record)
    }

    fn item_kinds(&self) -> &'static [&'static str] {
        &["experiment"]
    }
}

/// Milliseconds since the epoch (Intelligems' `…Ts` fields) as a time.
pub(crate) fn millis(value: Option<&Value>) -> Option<DateTime<Utc>> {
    value
        .and_then(Value::as_i64)
        .and_then(DateTime::from_timestamp_millis)
}

/// Digits after the decimal point of a currency (ISO 4217's zero-decimal ones, else 2).
fn exponent(currency: &str) -> u32 {
    match currency.to_ascii_uppercase().as_str() {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "XAF" | "XOF" | "PYG" | "HUF" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    }
}

/// An amount in major units (number or string) in minor units, rounded half away
/// from zero.
pub(crate) fn minor(value: Option<&Value>, currency: &str) -> i64 {
    let major = match value {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|x: &f64| x.is_finite())
    .unwrap_or(0.0);
    (major * 10f64.powi(exponent(currency) as i32)).round() as i64
}

fn count(row: &Value, name: &str) -> u64 {
    row.get(name).and_then(Value::as_u64).unwrap_or(0)
}

fn text<'a>(value: &'a Value, name: &str) -> Option<&'a str> {
    value.get(name).and_then(Value::as_str)
}

fn currency(payload: &Value) -> String {
    text(payload, "currency").unwrap_or("USD").to_uppercase()
}

pub fn events(record: &RawRecord) -> Vec<MetricEvent> {
    if record.object_type != EXPERIENCE_DAY {
        return vec![];
    }
    let payload = &record.payload;
    let Some(day) = text(payload, "day").and_then(|d| d.parse::<NaiveDate>().ok()) else {
        return vec![];
    };
    let noon = day.and_time(NaiveTime::from_hms_opt(12, 0, 0).expect("noon")).and_utc();
    // Today's numbers before noon are dated when they were read, never in the
    // future (the metrics service counts nothing after now).
    let at = match millis(payload.get("asOfTs")) {
        Some(as_of) if as_of <= noon => (as_of - chrono::Duration::seconds(1)).max(day.and_time(NaiveTime::MIN).and_utc()),
        _ => noon,
    };
    let experiment = text(payload, "experienceId").map(str::to_owned);
    let currency = currency(payload);
    let mut derived = vec![];
    for row in payload
        .get("variations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let variant = text(row, "variationId").map(str::to_owned);
        let event = |metric, value| {
            MetricEvent::new(metric, value, at)
                .with("experiment", experiment.clone())
                .with("variant", variant.clone())
        };
        derived.push(event("visitors", count(row, "n_visitors") as i64));
        derived.push(event("orders", count(row, "n_orders") as i64));
        derived.push(
            event("revenue", minor(row.get("net_revenue"), &currency))
                .with("currency", Some(currency.clone())),
        );
    }
    derived
}

/// Experiment and variant names, from the experience record.
pub(crate) fn labels(record: &RawRecord) -> Vec<DimensionLabel> {
    if record.object_type != EXPERIENCE {
        return vec![];
    }
    let payload = &record.payload;
    let mut labels: Vec<DimensionLabel> =
        DimensionLabel::of("experiment", text(payload, "id"), text(payload, "name"))
            .into_iter()
            .collect();
    for variation in payload
        .get("variations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        labels.extend(DimensionLabel::of(
            "variant",
            text(variation, "id"),
            text(variation, "name"),
        ));
    }
    labels
}

fn status(value: Option<&str>) -> ExperimentStatus {
    match value {
        Some("started" | "running" | "live") => ExperimentStatus::Running,
        Some("paused") => ExperimentStatus::Paused,
        Some("ended" | "finished" | "archived") => ExperimentStatus::Ended,
        _ => ExperimentStatus::Draft,
    }
}

/// The experiment card's item: the experience with its variations' totals, the
/// control first.
pub(crate) fn items(record: &RawRecord) -> Vec<Item> {
    if record.object_type != EXPERIENCE {
        return vec![];
    }
    let payload = &record.payload;
    let (Some(id), Some(created_at)) = (text(payload, "id"), millis(payload.get("createdAtTs")))
    else {
        return vec![];
    };
    let currency = currency(payload);
    let totals: Vec<&Value> = payload
        .pointer("/analytics/metrics")
        .and_then(Value::as_array)
        .map(|rows| rows.iter().collect())
        .unwrap_or_default();
    let mut variants: Vec<Variant> = payload
        .get("variations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|variation| {
            let id = text(variation, "id")?;
            let row = totals
                .iter()
                .find(|row| text(row, "variationId") == Some(id));
            Some(Variant {
                id: id.to_owned(),
                name: text(variation, "name").unwrap_or(id).to_owned(),
                is_control: variation.get("isControl").and_then(Value::as_bool) == Some(true),
                visitors: row.map_or(0, |r| count(r, "n_visitors")),
                orders: row.map_or(0, |r| count(r, "n_orders")),
                revenue_minor: row.map_or(0, |r| minor(r.get("net_revenue"), &currency)),
            })
        })
        .collect();
    // Stable: the control first, the treatments in Intelligems' order.
    variants.sort_by_key(|v| !v.is_control);
    vec![Item::Experiment(Experiment {
        id: id.to_owned(),
        name: text(payload, "name").unwrap_or(id).to_owned(),
        status: status(text(payload, "status")),
        created_at,
        started_at: millis(payload.get("startedAtTs")),
        ended_at: millis(payload.get("endedAtTs")),
        currency,
        variants,
        url: Some(format!("https://app.intelligems.io/experiences/{id}")),
    })]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(object_type: &str, payload: Value) -> RawRecord {
        RawRecord {
            object_type: object_type.into(),
            external_id: "x".into(),
            updated_at: None,
            payload,
        }
    }

    #[test]
    fn a_day_gives_each_variations_numbers_at_noon_utc() {
        let day = record(
            EXPERIENCE_DAY,
            json!({ "experienceId": "exp-1", "day": "2026-11-02", "currency": "usd",
                "variations": [
                    { "variationId": "v-a", "n_visitors": 120, "n_orders": 6, "net_revenue": 310.5 },
                    { "variationId": "v-b", "n_visitors": 118, "n_orders": 9, "net_revenue": "402.99" }
                ] }),
        );
        let derived = events(&day);
        assert_eq!(derived.len(), 6);
        let find = |metric: &str, variant: &str| {
            derived
                .iter()
                .find(|e| e.metric == metric && e.dimensions["variant"] == variant)
                .unwrap()
        };
        assert_eq!(find("visitors", "v-a").value, 120);
        assert_eq!(find("orders", "v-b").value, 9);
        assert_eq!(find("revenue", "v-a").value, 31050);
        assert_eq!(find("revenue", "v-b").value, 40299);
        assert_eq!(find("revenue", "v-b").dimensions["currency"], "USD");
        assert_eq!(find("orders", "v-b").dimensions["experiment"], "exp-1");
        assert_eq!(find("visitors", "v-a").at.to_rfc3339(), "2026-11-02T12:00:00+00:00");
        assert!(events(&record(EXPERIENCE, json!({}))).is_empty());
    }

    #[test]
    fn an_experience_is_an_experiment_item_control_first_with_named_dimensions() {
        let experience = record(
            EXPERIENCE,
            json!({ "id": "exp-1", "name": "Espresso price", "status": "started", "currency": "EUR",
                "createdAtTs": 1_780_000_000_000i64, "startedAtTs": 1_780_086_400_000i64, "endedAtTs": null,
                "variations": [
                    { "id": "v-b", "name": "€20", "isControl": false },
                    { "id": "v-a", "name": "€18 (control)", "isControl": true }
                ],
                "analytics": { "asOfTs": 1_780_200_000_000i64, "metrics": [
                    { "variationId": "v-a", "n_visitors": 1000, "n_orders": 50, "net_revenue": 2500.0 },
                    { "variationId": "v-b", "n_visitors": 990, "n_orders": 61, "net_revenue": 3111.1 }
                ] } }),
        );
        let items = items(&experience);
        let Item::Experiment(e) = &items[0] else {
            panic!("an experiment")
        };
        assert_eq!(e.status, ExperimentStatus::Running);
        assert_eq!(e.currency, "EUR");
        assert_eq!(e.variants[0].id, "v-a");
        assert!(e.variants[0].is_control);
        assert_eq!(
            (e.variants[1].visitors, e.variants[1].orders, e.variants[1].revenue_minor),
            (990, 61, 311_110)
        );
        assert_eq!(e.started_at.unwrap().timestamp(), 1_780_086_400);
        let labels = labels(&experience);
        assert_eq!(labels.len(), 3);
        assert_eq!(labels[0].label, "Espresso price");
        assert_eq!(labels[2].label, "€18 (control)");
        assert!(events(&experience).is_empty(), "totals never count as events");
    }
}

//! KnoCommerce survey responses → metric events and question labels, one
//! response at a time (`object_type` `response`, the response object as
//! KnoCommerce lists it).
//!
//! A response is dated by its `completed_at` (else `created_at`) and carries its
//! answers in `response`: `[{question_id, label, type, value, attribution_type}]`,
//! `label` being the question as the customer saw it and `value` the answer (a
//! string, a number, or a list for questions that allow several choices).
//!
//! - `survey_responses` 1 (dimension `survey`, the `survey_id`);
//! - `responses` 1 per answer, dimensions `question` (the `question_id`, labelled
//!   with the question) and `answer` (the value as text; a list counts each of its
//!   values; a free-text answer, of a type whose name says `text`, counts without
//!   one, so a breakdown by answer stays a list of choices);
//! - `surveyed_orders` 1 when the response names an order (`order.id`, or
//!   `order_id`).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::KnoCommerceProvider;
use crate::sync::{Derivation, Derive, DimensionLabel, MetricEvent, RawRecord};

/// The `object_type` of a stored response.
pub(crate) const RESPONSE_OBJECT: &str = "response";

impl Derive for KnoCommerceProvider {
    fn derivation(&self) -> Derivation {
        Derivation { events, labels }
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An ISO 8601 time (`2025-12-19T20:07:12.148Z`).
pub(crate) fn time_field(payload: &Value, name: &str) -> Option<DateTime<Utc>> {
    payload
        .get(name)
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// When the survey was answered.
pub fn answered_at(payload: &Value) -> Option<DateTime<Utc>> {
    time_field(payload, "completed_at").or_else(|| time_field(payload, "created_at"))
}

/// The order a response is about, when it names one.
pub fn order_id(payload: &Value) -> Option<String> {
    payload
        .pointer("/order/id")
        .and_then(text)
        .or_else(|| payload.get("order_id").and_then(text))
}

fn answers(payload: &Value) -> impl Iterator<Item = &Value> {
    payload
        .get("response")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// A question's id: `question_id` (or `id`, as the webhook's `current_response`
/// spells it).
fn question_id(answer: &Value) -> Option<String> {
    answer
        .get("question_id")
        .or_else(|| answer.get("id"))
        .and_then(text)
}

fn free_text(answer: &Value) -> bool {
    answer
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.to_ascii_lowercase().contains("text"))
}

/// The answer values of one answer: each of a list, else the one value.
fn values(answer: &Value) -> Vec<String> {
    match answer.get("value") {
        Some(Value::Array(values)) => values.iter().filter_map(text).collect(),
        Some(value) => text(value).into_iter().collect(),
        None => vec![],
    }
}

/// Whether an answer is to the attribution question ("How did you hear about us?",
/// KnoCommerce's HDYHAU): its answers carry an `attribution_type` (the channel
/// group KnoCommerce maps the choice to), except a choice it maps to none such as
/// "Other", which the question's wording still identifies.
fn is_attribution(answer: &Value) -> bool {
    let typed = answer.get("attribution_type").is_some_and(|t| !t.is_null());
    let label = answer
        .get("label")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase();
    typed || ["hear about us", "find us", "hear of us"].iter().any(|p| label.contains(p))
}

pub fn events(record: &RawRecord) -> Vec<MetricEvent> {
    if record.object_type != RESPONSE_OBJECT {
        return vec![];
    }
    let payload = &record.payload;
    let Some(at) = answered_at(payload) else {
        return vec![];
    };
    let survey = payload.get("survey_id").and_then(text);
    let mut derived = vec![MetricEvent::new("survey_responses", 1, at).with("survey", survey)];
    for answer in answers(payload) {
        let Some(question) = question_id(answer) else {
            continue;
        };
        let values = values(answer);
        if free_text(answer) {
            if !values.is_empty() {
                derived.push(
                    MetricEvent::new("responses", 1, at).with("question", Some(question)),
                );
            }
            continue;
        }
        let attribution = is_attribution(answer);
        for value in values {
            if attribution {
                derived.push(MetricEvent::new("attribution", 1, at).with("answer", Some(value.clone())));
            }
            derived.push(
                MetricEvent::new("responses", 1, at)
                    .with("question", Some(question.clone()))
                    .with("answer", Some(value)),
            );
        }
    }
    if order_id(payload).is_some() {
        derived.push(MetricEvent::new("surveyed_orders", 1, at));
    }
    derived
}

/// The questions' text for the `question` dimension.
pub(crate) fn labels(record: &RawRecord) -> Vec<DimensionLabel> {
    if record.object_type != RESPONSE_OBJECT {
        return vec![];
    }
    answers(&record.payload)
        .filter_map(|answer| {
            let question = question_id(answer)?;
            let label = answer.get("label").and_then(Value::as_str)?;
            DimensionLabel::of("question", Some(&question), Some(label))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(payload: Value) -> RawRecord {
        RawRecord {
            object_type: RESPONSE_OBJECT.into(),
            external_id: "338d5d30".into(),
            updated_at: None,
            payload,
        }
    }

    #[test]
    fn each_answer_counts_under_its_question_and_the_order_once() {
        let response = json!({
            "id": "338d5d30", "survey_id": "80562d0a",
            "created_at": "2025-12-19T20:07:09.810Z", "completed_at": "2025-12-19T20:07:12.148Z",
            "order": { "id": "5012345678901", "name": "#1042" },
            "response": [
                { "question_id": "q-hdyhau", "label": "How did you hear about us?", "type": "Radio", "value": "Instagram", "attribution_type": "social" },
                { "question_id": "q-why", "label": "What made you buy today?", "type": "Checkbox", "value": ["Price", "Reviews"] },
                { "question_id": "q-note", "label": "Anything else?", "type": "Text", "value": "Love the beans" },
                { "question_id": "q-skip", "label": "Skipped", "type": "Radio", "value": null }
            ]
        });
        let derived = events(&record(response.clone()));
        let answers: Vec<_> = derived
            .iter()
            .filter(|e| e.metric == "responses")
            .map(|e| {
                (
                    e.dimensions["question"].as_str(),
                    e.dimensions.get("answer").map(String::as_str),
                )
            })
            .collect();
        assert_eq!(
            answers,
            [
                ("q-hdyhau", Some("Instagram")),
                ("q-why", Some("Price")),
                ("q-why", Some("Reviews")),
                ("q-note", None)
            ]
        );
        let count = |metric| derived.iter().filter(|e| e.metric == metric).count();
        assert_eq!(count("surveyed_orders"), 1);
        assert_eq!(count("survey_responses"), 1);
        assert!(derived
            .iter()
            .all(|e| e.at.to_rfc3339() == "2025-12-19T20:07:12.148+00:00"));
        let labels = labels(&record(response));
        assert_eq!(labels[0].value, "q-hdyhau");
        assert_eq!(labels[0].label, "How did you hear about us?");
        // Without an order: no surveyed order.
        let no_order = json!({ "id": "1", "created_at": "2025-12-19T20:07:09Z", "order": null, "response": [] });
        let derived = events(&record(no_order));
        assert_eq!(derived.len(), 1);
        assert_eq!(derived[0].metric, "survey_responses");
    }
}

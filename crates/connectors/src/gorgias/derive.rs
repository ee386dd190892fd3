//! Gorgias tickets → metric events, one ticket (with its messages and
//! satisfaction survey, as the sync and the webhook both give it) at a time.
//!
//! - `tickets_created` when created, by channel, and `tagged_tickets` once per
//!   tag; `sentiment_total`: VADER's score ×1000 of the first customer message
//!   (0 for a ticket an agent opened), at creation.
//! - `replied_tickets` and `first_response_seconds_total` (creation to the first
//!   agent message) when the first reply was sent.
//! - `tickets_closed` and `resolution_seconds_total` (creation to closing) when
//!   closed, if the ticket is closed now (a reopened ticket counts again when it
//!   is closed again, with its new closing time: one record, replaced).
//! - `csat_responses` and `csat_score_total` (score ×100) when the survey was scored.
//!
//! Spam tickets count nowhere. Gorgias' times are UTC without an offset
//! (`2024-05-01T10:00:00.123456`).

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use super::GorgiasProvider;
use crate::{
    support::sentiment::sentiment,
    sync::{Derivation, Derive, DimensionLabel, MetricEvent, RawRecord},
};

impl Derive for GorgiasProvider {
    fn derivation(&self) -> Derivation {
        Derivation {
            events,
            labels: |_| Vec::<DimensionLabel>::new(),
        }
    }
}

/// A Gorgias datetime: RFC 3339, or ISO 8601 without offset (UTC).
pub(crate) fn time(value: Option<&Value>) -> Option<DateTime<Utc>> {
    let text = value?.as_str()?.trim();
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// The ticket's messages, oldest first.
fn messages(ticket: &Value) -> Vec<(&Value, DateTime<Utc>)> {
    let mut messages: Vec<(&Value, DateTime<Utc>)> = ticket
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m, time(m.get("created_datetime"))?)))
        .collect();
    messages.sort_by_key(|(_, at)| *at);
    messages
}

pub fn events(record: &RawRecord) -> Vec<MetricEvent> {
    if record.object_type != "ticket" {
        return vec![];
    }
    let ticket = &record.payload;
    if ticket.get("spam").and_then(Value::as_bool) == Some(true) {
        return vec![];
    }
    let Some(created) = time(ticket.get("created_datetime")) else {
        return vec![];
    };
    let channel = ticket.get("channel").and_then(Value::as_str).map(str::to_owned);
    let event = |metric, value, at| MetricEvent::new(metric, value, at).with("channel", channel.clone());
    let mut derived = vec![event("tickets_created", 1, created)];
    let mut tags: Vec<&str> = ticket
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("name").and_then(Value::as_str))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    tags.sort_unstable();
    tags.dedup();
    for tag in tags {
        derived.push(MetricEvent::new("tagged_tickets", 1, created).with("tag", Some(tag)));
    }
    let messages = messages(ticket);
    let from_agent = |m: &Value| m.get("from_agent").and_then(Value::as_bool) == Some(true);
    let first_words = messages
        .iter()
        .find(|(m, _)| !from_agent(m))
        .and_then(|(m, _)| m.get("body_text").and_then(Value::as_str))
        .unwrap_or_default();
    derived.push(event("sentiment_total", (sentiment(first_words) * 1000.0).round() as i64, created));
    if let Some((_, replied)) = messages.iter().find(|(m, at)| from_agent(m) && *at >= created) {
        derived.push(event("replied_tickets", 1, *replied));
        derived.push(event("first_response_seconds_total", (*replied - created).num_seconds(), *replied));
    }
    if ticket.get("status").and_then(Value::as_str) == Some("closed") {
        if let Some(closed) = time(ticket.get("closed_datetime")) {
            derived.push(event("tickets_closed", 1, closed));
            derived.push(event("resolution_seconds_total", (closed - created).num_seconds().max(0), closed));
        }
    }
    if let Some(survey) = ticket.get("satisfaction_survey").filter(|s| s.is_object()) {
        let score = survey.get("score").and_then(Value::as_i64).filter(|s| (1..=5).contains(s));
        if let (Some(score), Some(scored)) = (score, time(survey.get("scored_datetime"))) {
            derived.push(event("csat_responses", 1, scored));
            derived.push(event("csat_score_total", score * 100, scored));
        }
    }
    derived
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ticket(payload: Value) -> RawRecord {
        RawRecord {
            object_type: "ticket".into(),
            external_id: "1".into(),
            updated_at: None,
            payload,
        }
    }

    fn sum(events: &[MetricEvent], metric: &str) -> i64 {
        events.iter().filter(|e| e.metric == metric).map(|e| e.value).sum()
    }

    #[test]
    fn a_closed_ticket_gives_its_times_score_and_sentiment() {
        let record = ticket(json!({
            "id": 1, "channel": "email", "status": "closed", "spam": false,
            "created_datetime": "2026-11-02T09:00:00.000000",
            "closed_datetime": "2026-11-03T09:00:00",
            "tags": [{ "name": "refund" }, { "name": "shipping" }, { "name": "refund" }],
            "messages": [
                { "from_agent": true, "created_datetime": "2026-11-02T10:30:00", "body_text": "Sorry!" },
                { "from_agent": false, "created_datetime": "2026-11-02T09:00:00", "body_text": "The bag arrived broken and I am angry." }
            ],
            "satisfaction_survey": { "score": 4, "scored_datetime": "2026-11-04T08:00:00" }
        }));
        let derived = events(&record);
        assert_eq!(sum(&derived, "tickets_created"), 1);
        assert_eq!(sum(&derived, "tagged_tickets"), 2, "each tag once");
        assert_eq!(sum(&derived, "first_response_seconds_total"), 5400);
        assert_eq!(sum(&derived, "replied_tickets"), 1);
        assert_eq!(sum(&derived, "resolution_seconds_total"), 86_400);
        assert_eq!(sum(&derived, "csat_score_total"), 400);
        let mood = sum(&derived, "sentiment_total");
        assert_eq!(mood, (sentiment("The bag arrived broken and I am angry.") * 1000.0).round() as i64);
        assert!(mood < 0);
        let closed = derived.iter().find(|e| e.metric == "tickets_closed").unwrap();
        assert_eq!(closed.at.to_rfc3339(), "2026-11-03T09:00:00+00:00");
        assert_eq!(closed.dimensions["channel"], "email");
    }

    #[test]
    fn open_unanswered_and_spam_tickets_count_only_what_happened() {
        let open = ticket(json!({ "id": 2, "channel": "chat", "status": "open",
            "created_datetime": "2026-11-02T09:00:00", "closed_datetime": null, "tags": [], "messages": [],
            "satisfaction_survey": null }));
        let derived = events(&open);
        assert_eq!(sum(&derived, "tickets_created"), 1);
        assert_eq!(sum(&derived, "tickets_closed") + sum(&derived, "replied_tickets") + sum(&derived, "csat_responses"), 0);
        let spam = ticket(json!({ "id": 3, "spam": true, "created_datetime": "2026-11-02T09:00:00" }));
        assert!(events(&spam).is_empty());
    }
}

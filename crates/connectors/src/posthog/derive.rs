//! PostHog's daily records → metric events.
//!
//! A day's record holds that day's counts as PostHog computed them in the project's
//! time zone, and when the day starts there (`day_start`, with its UTC offset). Each
//! non-zero count becomes one event of its metric at the middle of that day (twelve
//! hours after it starts), so a store in the project's time zone books it on the
//! same day; today's counts, fetched before the day's middle, at the fetch time
//! instead (a window ending now must see them). A store in another time zone books the whole day on the day its middle
//! falls on: daily counts cannot be re-cut into another zone's days.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::{
    catalog::EVENTS_METRIC,
    sync::{count_columns, DAY_OBJECT, EVENT_COUNTS_OBJECT},
    PosthogProvider,
};
use crate::sync::{Derivation, Derive, DimensionLabel, MetricEvent, RawRecord};

impl Derive for PosthogProvider {
    fn derivation(&self) -> Derivation {
        Derivation { events, labels }
    }
}

/// When the record's counts are booked: the middle of its day, or, for a day
/// fetched before its middle (today), the fetch time, so today's counts show today
/// rather than at noon (a later fetch replaces them). `None` for a quiet day, which
/// has no start.
fn booked_at(record: &RawRecord) -> Option<DateTime<Utc>> {
    let start = record
        .payload
        .get("day_start")
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())?
        .with_timezone(&Utc);
    let midday = start + Duration::hours(12);
    Some(match record.updated_at {
        Some(fetched) if fetched < midday => fetched.max(start),
        _ => midday,
    })
}

pub(crate) fn events(record: &RawRecord) -> Vec<MetricEvent> {
    let o = &record.payload;
    let Some(midday) = booked_at(record) else {
        return vec![];
    };
    if record.object_type == EVENT_COUNTS_OBJECT {
        // `[event, breakdown value or null, count]` rows.
        return o
            .get("counts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|row| {
                let event = row.get(0)?.as_str()?;
                let value = row.get(1)?.as_str();
                let count = row.get(2)?.as_i64().filter(|c| *c > 0)?;
                Some(
                    MetricEvent::new(EVENTS_METRIC, count, midday)
                        .with("event", Some(event))
                        .with("breakdown", value),
                )
            })
            .collect();
    }
    if record.object_type != DAY_OBJECT {
        return vec![];
    }
    super::POSTHOG_METRICS
        .iter()
        .filter(|metric| count_columns().contains(&metric.id))
        .filter_map(|metric| {
            let value = o.get(metric.id).and_then(Value::as_i64)?;
            (value > 0).then(|| MetricEvent::new(metric.id, value, midday))
        })
        .collect()
}

fn labels(_record: &RawRecord) -> Vec<DimensionLabel> {
    vec![]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(payload: Value) -> RawRecord {
        RawRecord {
            object_type: "day".into(),
            external_id: "2024-05-02".into(),
            updated_at: None,
            payload,
        }
    }

    #[test]
    fn a_day_gives_one_event_per_non_zero_count_at_its_middle() {
        let events = events(&record(json!({
            "day": "2024-05-02", "day_start": "2024-05-02T00:00:00+09:00",
            "pageviews": 10, "unique_persons": 4, "sessions": 5,
            "signed_up": 1, "checkout_started": 0, "subscription_started": 2
        })));
        let at: DateTime<Utc> = "2024-05-02T03:00:00Z".parse().unwrap();
        let got: Vec<(&str, i64)> = events.iter().map(|e| (e.metric, e.value)).collect();
        assert_eq!(
            got,
            [("pageviews", 10), ("unique_persons", 4), ("sessions", 5), ("signed_up", 1), ("subscription_started", 2)]
        );
        assert!(events.iter().all(|e| e.at == at && e.dimensions.is_empty()));
    }

    #[test]
    fn todays_counts_fetched_before_noon_are_booked_at_the_fetch_not_in_the_future() {
        let mut today = record(json!({ "day": "2024-05-02", "day_start": "2024-05-02T00:00:00+09:00", "pageviews": 7 }));
        let fetched: DateTime<Utc> = "2024-05-01T16:30:00Z".parse().unwrap(); // 01:30 in Tokyo
        today.updated_at = Some(fetched);
        assert_eq!(events(&today)[0].at, fetched);
        // Fetched after the day's middle (or later, once it is over): its middle.
        today.updated_at = Some("2024-05-03T10:00:00Z".parse().unwrap());
        assert_eq!(events(&today)[0].at, "2024-05-02T03:00:00Z".parse::<DateTime<Utc>>().unwrap());
    }

    #[test]
    fn a_days_picked_event_counts_give_one_event_per_event_and_property_value() {
        let mut counts = record(json!({
            "day": "2024-05-02", "day_start": "2024-05-02T00:00:00Z",
            "picked": { "events": ["signed_up", "checkout_started"], "breakdown_property": "$browser" },
            "counts": [["signed_up", "Chrome", 3], ["signed_up", null, 1], ["checkout_started", "Safari", 2], ["checkout_started", "Edge", 0]]
        }));
        counts.object_type = "event_counts".into();
        let at: DateTime<Utc> = "2024-05-02T12:00:00Z".parse().unwrap();
        let got: Vec<String> = events(&counts)
            .iter()
            .map(|e| {
                assert_eq!((e.metric, e.at), ("events", at));
                format!("{:?} {:?} {}", e.dimensions.get("event"), e.dimensions.get("breakdown"), e.value)
            })
            .collect();
        assert_eq!(
            got,
            [
                r#"Some("signed_up") Some("Chrome") 3"#,
                r#"Some("signed_up") None 1"#,
                r#"Some("checkout_started") Some("Safari") 2"#,
            ]
        );
    }

    #[test]
    fn quiet_days_and_other_records_give_nothing() {
        assert!(events(&record(json!({ "day": "2024-05-02", "day_start": null, "pageviews": 0 }))).is_empty());
        let mut other = record(json!({ "day_start": "2024-05-02T00:00:00Z", "pageviews": 3 }));
        other.object_type = "event".into();
        assert!(events(&other).is_empty());
    }
}

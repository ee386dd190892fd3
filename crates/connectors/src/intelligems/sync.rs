//! Pulling Intelligems: the experiences list, then each experience's analytics.
//!
//! The analytics of an experience are running totals per variation plus the same
//! numbers day by day (`daily`). Totals cannot become metric events (pulled again
//! they would count again), so a pull stores:
//!
//! - the experience with its totals, one record per experience (the card's item);
//! - one record per experience and UTC day with that day's numbers per variation,
//!   dated (`updated_at`) by the analytics' `asOfTs`, so that a later version of a
//!   day (today's, growing through the day) replaces the earlier one and each day
//!   counts once, whether it came from a pull or a webhook delivery.
//!
//! The whole daily series is read on every pull (experiments last weeks, so it is
//! a few hundred rows): a day Intelligems revises (late orders, outliers it
//! filters) is corrected without any bookkeeping. An experience that ended more
//! than a day before the previous pull has been read whole since it ended and is
//! skipped; a new or restarted one is read again.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{
    derive::{millis, EXPERIENCE, EXPERIENCE_DAY},
    intelligems_message, IntelligemsProvider,
};
use crate::{
    support::backoff::{with_backoff, RetryPolicy},
    support::error::OAuthError,
    support::http::retry_after,
    sync::{Pull, RawRecord, SyncError, SyncKind, SyncPage, SyncRequest, SyncSink},
    ExposeSecret,
};

pub(crate) const EXPERIENCES_STREAM: &str = "intelligems.experiences";

/// The records an experience and its analytics answer stand for: the experience
/// with its totals and one record per day of `daily`. Shared by the pull and the
/// webhook deliveries, so both store the very same records.
pub(crate) fn records(experience: &Value, analytics: Option<&Value>) -> Vec<RawRecord> {
    let Some(id) = experience.get("id").and_then(Value::as_str) else {
        return vec![];
    };
    let as_of = analytics.and_then(|a| millis(a.get("asOfTs")));
    let currency = analytics
        .and_then(|a| a.get("currency"))
        .or_else(|| experience.get("currency"))
        .and_then(Value::as_str)
        .unwrap_or("USD");
    let mut payload = experience.clone();
    if let (Some(object), Some(analytics)) = (payload.as_object_mut(), analytics) {
        object.insert(
            "analytics".into(),
            json!({ "asOfTs": analytics.get("asOfTs"), "metrics": analytics.get("metrics") }),
        );
        object
            .entry("currency")
            .or_insert_with(|| json!(currency));
    }
    let mut records = vec![RawRecord {
        object_type: EXPERIENCE.into(),
        external_id: id.to_owned(),
        updated_at: as_of.or_else(|| millis(experience.get("createdAtTs"))),
        payload,
    }];
    let mut days: std::collections::BTreeMap<&str, Vec<Value>> = Default::default();
    for row in analytics
        .and_then(|a| a.get("daily"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(day) = row.get("day").and_then(Value::as_str) {
            let mut row = row.clone();
            if let Some(object) = row.as_object_mut() {
                object.remove("day");
            }
            days.entry(day).or_default().push(row);
        }
    }
    for (day, variations) in days {
        records.push(RawRecord {
            object_type: EXPERIENCE_DAY.into(),
            external_id: format!("{id}/{day}"),
            updated_at: as_of,
            payload: json!({
                "experienceId": id,
                "day": day,
                "currency": currency,
                "asOfTs": analytics.and_then(|a| a.get("asOfTs")),
                "variations": variations,
            }),
        });
    }
    records
}

impl IntelligemsProvider {
    /// One GET with the key, retried on 5xx, timeouts and short rate limits; a long
    /// `Retry-After` is handed back (the server snoozes the job).
    async fn fetch(&self, req: &SyncRequest<'_>, path: &str) -> Result<Value, OAuthError> {
        let policy = RetryPolicy::default();
        with_backoff(&policy, || async {
            let token = req.tokens.access_token().await?;
            let key = token.expose_secret();
            let response = self.http.send(self.get(path, key)).await?;
            match response.status {
                status if status.is_success() => response.json("Intelligems' API"),
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    Err(OAuthError::InvalidGrant(format!(
                        "Intelligems refused the API key ({}); connect again with a valid key",
                        intelligems_message(&response, &[key])
                    )))
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    let wait = retry_after(&response.headers);
                    Err(OAuthError::RateLimited {
                        retry_after: wait,
                        reason: Some(format!(
                            "Intelligems: the API's rate limit is reached; next try in {} s",
                            wait.map_or(60, |w| w.as_secs())
                        )),
                    })
                }
                status if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT => {
                    Err(OAuthError::Transient(intelligems_message(&response, &[key])))
                }
                _ => Err(OAuthError::Rejected(intelligems_message(&response, &[key]))),
            }
        })
        .await
    }
}

/// Whether an experience needs reading: not one that ended more than a day before
/// the previous pull (read whole after it ended), nor one that never started.
fn wanted(experience: &Value, previous: Option<DateTime<Utc>>) -> bool {
    if millis(experience.get("startedAtTs")).is_none() {
        return false;
    }
    match (millis(experience.get("endedAtTs")), previous) {
        (Some(ended), Some(previous)) => ended > previous - Duration::days(1),
        _ => true,
    }
}

#[async_trait]
impl Pull for IntelligemsProvider {
    async fn sync(
        &self,
        req: &SyncRequest<'_>,
        sink: &mut dyn SyncSink,
    ) -> Result<SyncKind, SyncError> {
        let previous = req
            .cursors
            .get(EXPERIENCES_STREAM)
            .and_then(|c| c.get("synced_at"))
            .and_then(Value::as_i64)
            .and_then(|secs| DateTime::from_timestamp(secs, 0));
        let list = self.fetch(req, "experiences-list").await?;
        let experiences = list
            .get("experiencesList")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                OAuthError::Rejected(
                    "unexpected response shape from Intelligems' experiences list".into(),
                )
            })?;
        for experience in experiences {
            let Some(id) = experience.get("id").and_then(Value::as_str) else {
                continue;
            };
            let analytics = if wanted(experience, previous) {
                Some(self.fetch(req, &format!("analytics/resource/{id}")).await?)
            } else if previous.is_some() {
                // Unchanged since it was read whole.
                continue;
            } else {
                None
            };
            sink.commit(SyncPage {
                stream: EXPERIENCES_STREAM.into(),
                records: records(experience, analytics.as_ref()),
                cursor: None,
                clear: vec![],
            })
            .await?;
        }
        sink.commit(SyncPage {
            stream: EXPERIENCES_STREAM.into(),
            records: vec![],
            cursor: Some(json!({ "synced_at": req.now.timestamp() })),
            clear: vec![],
        })
        .await?;
        Ok(if previous.is_some() {
            SyncKind::Incremental
        } else {
            SyncKind::Backfill
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_the_experience_and_one_record_per_day() {
        let experience = json!({ "id": "exp-1", "name": "Price", "createdAtTs": 1_000, "startedAtTs": 2_000 });
        let analytics = json!({ "asOfTs": 1_780_000_000_000i64, "currency": "USD",
            "metrics": [{ "variationId": "a", "n_visitors": 3 }],
            "daily": [
                { "day": "2026-11-01", "variationId": "a", "n_visitors": 1 },
                { "day": "2026-11-01", "variationId": "b", "n_visitors": 1 },
                { "day": "2026-11-02", "variationId": "a", "n_visitors": 2 }
            ] });
        let records = records(&experience, Some(&analytics));
        let ids: Vec<&str> = records.iter().map(|r| r.external_id.as_str()).collect();
        assert_eq!(ids, ["exp-1", "exp-1/2026-11-01", "exp-1/2026-11-02"]);
        assert!(records
            .iter()
            .all(|r| r.updated_at.unwrap().timestamp() == 1_780_000_000));
        assert_eq!(records[1].payload["variations"].as_array().unwrap().len(), 2);
        assert_eq!(records[0].payload["analytics"]["metrics"][0]["n_visitors"], 3);
    }

    #[test]
    fn ended_experiences_are_read_until_a_day_after_they_end() {
        let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let ended = |hours_ago: i64| {
            json!({ "startedAtTs": 1, "endedAtTs": (now - Duration::hours(hours_ago)).timestamp_millis() })
        };
        assert!(wanted(&ended(5), Some(now)));
        assert!(!wanted(&ended(30), Some(now)));
        assert!(wanted(&ended(30), None), "a first pull reads everything");
        assert!(!wanted(&json!({ "startedAtTs": null }), None));
    }
}

//! Pulling Paddle data (cursor pagination: `after=<last id>`, another page while
//! `meta.pagination.has_more`).
//!
//! A backfill lists customers, subscriptions, transactions and adjustments in id
//! order (Paddle's ids sort by creation), committing each page with the list and
//! the last id reached, so an interrupted backfill resumes there. It first notes
//! the newest event (`/events?order_by=id[DESC]&per_page=1`); from then on an
//! incremental sync reads `/events` after the last event applied, each event's
//! entity as the record of that entity, oldest first, so changes to old objects
//! (a refund, a cancellation) arrive as they happen. Paddle keeps events for 90
//! days: a cursor older than 85 days starts a new backfill.

use async_trait::async_trait;
use chrono::DateTime;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{derive::time, paddle_message, parse_account_id, PaddleProvider};
use crate::{
    support::backoff::{with_backoff, RetryPolicy},
    support::error::OAuthError,
    support::http::retry_after,
    sync::{Pull, RawRecord, SyncError, SyncKind, SyncPage, SyncRequest, SyncSink},
    ExposeSecret,
};

pub(crate) const BACKFILL_STREAM: &str = "paddle.backfill";
pub(crate) const EVENTS_STREAM: &str = "paddle.events";
/// The lists a backfill walks: (path, object type, page size; transactions allow 30).
const LISTS: &[(&str, &str, u32)] = &[
    ("customers", "customer", 200),
    ("subscriptions", "subscription", 200),
    ("transactions", "transaction", 30),
    ("adjustments", "adjustment", 200),
];
const EVENT_RETENTION: chrono::Duration = chrono::Duration::days(85);

struct Page {
    data: Vec<Value>,
    more: bool,
}

/// An entity as the record the sink stores (and webhooks give), dated by its
/// `updated_at`.
pub(crate) fn entity_record(object_type: &str, entity: Value) -> Option<RawRecord> {
    let external_id = entity.get("id").and_then(Value::as_str)?.to_owned();
    Some(RawRecord {
        object_type: object_type.to_owned(),
        external_id,
        updated_at: time(&entity, "/updated_at"),
        payload: entity,
    })
}

/// The object type of an event's entity (`transaction.completed` → `transaction`).
fn event_object(event_type: &str) -> Option<&'static str> {
    match event_type.split_once('.')?.0 {
        "transaction" => Some("transaction"),
        "subscription" => Some("subscription"),
        "adjustment" => Some("adjustment"),
        "customer" => Some("customer"),
        _ => None,
    }
}

impl PaddleProvider {
    /// One list page, retried on 5xx, timeouts and short rate limits; a long
    /// `Retry-After` is handed back (the server snoozes the job).
    async fn list(
        &self,
        req: &SyncRequest<'_>,
        sandbox: bool,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Page, OAuthError> {
        let policy = RetryPolicy {
            max_attempts: 5,
            ..RetryPolicy::default()
        };
        let body: Value = with_backoff(&policy, || async {
            let token = req.tokens.access_token().await?;
            let key = token.expose_secret();
            let response = self
                .http
                .send(self.get(sandbox, path, key).query(query))
                .await?;
            match response.status {
                status if status.is_success() => response.json("a Paddle list"),
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    Err(OAuthError::InvalidGrant(format!(
                        "Paddle refused the API key ({}); connect again with a key that can read {path}",
                        paddle_message(&response, &[key])
                    )))
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    let wait = retry_after(&response.headers);
                    Err(OAuthError::RateLimited {
                        retry_after: wait,
                        reason: Some(format!(
                            "Paddle: the API's rate limit (240 requests a minute per IP address) is reached; next try in {} s",
                            wait.map_or(60, |w| w.as_secs())
                        )),
                    })
                }
                status if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT => {
                    Err(OAuthError::Transient(paddle_message(&response, &[key])))
                }
                _ => Err(OAuthError::Rejected(paddle_message(&response, &[key]))),
            }
        })
        .await?;
        let Some(Value::Array(data)) = body.get("data") else {
            return Err(OAuthError::Rejected(format!(
                "unexpected response shape from Paddle's {path} list"
            )));
        };
        let more = body
            .pointer("/meta/pagination/has_more")
            .and_then(Value::as_bool)
            .unwrap_or(false)
            && !data.is_empty();
        Ok(Page {
            data: data.clone(),
            more,
        })
    }

    async fn backfill(
        &self,
        req: &SyncRequest<'_>,
        sink: &mut dyn SyncSink,
        sandbox: bool,
        resume: Option<&Value>,
        started_at: i64,
    ) -> Result<(), SyncError> {
        // The newest event before anything is listed: changes from here on are
        // read from the events.
        let events_from = match resume.and_then(|c| c.get("events_after")) {
            Some(after) => after.clone(),
            None => {
                let query = [
                    ("order_by", "id[DESC]".to_owned()),
                    ("per_page", "1".to_owned()),
                ];
                let newest = self.list(req, sandbox, "events", &query).await?;
                newest
                    .data
                    .first()
                    .and_then(|e| e.get("event_id"))
                    .cloned()
                    .unwrap_or(Value::Null)
            }
        };
        let resume_list = resume
            .and_then(|c| c.get("list"))
            .and_then(Value::as_str)
            .unwrap_or(LISTS[0].0);
        let first = LISTS
            .iter()
            .position(|(l, _, _)| *l == resume_list)
            .unwrap_or(LISTS.len());
        let mut after = resume
            .and_then(|c| c.get("after"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        for (index, (list, object_type, per_page)) in LISTS.iter().enumerate().skip(first) {
            loop {
                let mut query = vec![
                    ("per_page", per_page.to_string()),
                    ("order_by", "id[ASC]".to_owned()),
                ];
                if let Some(after) = &after {
                    query.push(("after", after.clone()));
                }
                let page = self.list(req, sandbox, list, &query).await?;
                after = page
                    .data
                    .last()
                    .and_then(|e| e.get("id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let records = page
                    .data
                    .into_iter()
                    .filter_map(|entity| entity_record(object_type, entity))
                    .collect();
                let position = |list: &str, after: Option<&String>| {
                    json!({ "started_at": started_at, "events_after": events_from, "list": list, "after": after })
                };
                let next = if page.more {
                    position(list, after.as_ref())
                } else if let Some((next_list, _, _)) = LISTS.get(index + 1) {
                    position(next_list, None)
                } else {
                    position("done", None)
                };
                sink.commit(SyncPage {
                    stream: BACKFILL_STREAM.into(),
                    records,
                    cursor: Some(next),
                    clear: vec![],
                })
                .await?;
                if !page.more {
                    after = None;
                    break;
                }
            }
        }
        sink.commit(SyncPage {
            stream: EVENTS_STREAM.into(),
            records: vec![],
            cursor: Some(json!({ "after": events_from, "at": started_at })),
            clear: vec![BACKFILL_STREAM.into()],
        })
        .await?;
        Ok(())
    }

    async fn incremental(
        &self,
        req: &SyncRequest<'_>,
        sink: &mut dyn SyncSink,
        sandbox: bool,
        mut after: Option<String>,
    ) -> Result<(), SyncError> {
        loop {
            let mut query = vec![
                ("per_page", "200".to_owned()),
                ("order_by", "id[ASC]".to_owned()),
            ];
            if let Some(after) = &after {
                query.push(("after", after.clone()));
            }
            let page = self.list(req, sandbox, "events", &query).await?;
            if let Some(last) = page
                .data
                .last()
                .and_then(|e| e.get("event_id"))
                .and_then(Value::as_str)
            {
                after = Some(last.to_owned());
            }
            let records = page
                .data
                .iter()
                .filter_map(|event| {
                    let object = event_object(event.get("event_type")?.as_str()?)?;
                    entity_record(object, event.get("data")?.clone())
                })
                .collect();
            sink.commit(SyncPage {
                stream: EVENTS_STREAM.into(),
                records,
                cursor: Some(json!({ "after": after, "at": req.now.timestamp() })),
                clear: vec![],
            })
            .await?;
            if !page.more {
                return Ok(());
            }
        }
    }
}

#[async_trait]
impl Pull for PaddleProvider {
    /// 2: MRR (and ARR) from subscription transactions' billing periods, net of
    /// discounts, naming the customer (for the MRR movements).
    fn sync_version(&self) -> i32 {
        2
    }

    async fn sync(
        &self,
        req: &SyncRequest<'_>,
        sink: &mut dyn SyncSink,
    ) -> Result<SyncKind, SyncError> {
        let (_, sandbox) = parse_account_id(req.account_id).ok_or_else(|| {
            OAuthError::Rejected(format!("{} is not a Paddle account id", req.account_id))
        })?;
        let events = req.cursors.get(EVENTS_STREAM);
        let at = events
            .and_then(|c| c.get("at"))
            .and_then(Value::as_i64)
            .and_then(|secs| DateTime::from_timestamp(secs, 0));
        let backfill = req.cursors.get(BACKFILL_STREAM).cloned();
        match at {
            Some(at) if backfill.is_none() && at > req.now - EVENT_RETENTION => {
                let after = events
                    .and_then(|c| c.get("after"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                self.incremental(req, sink, sandbox, after).await?;
                Ok(SyncKind::Incremental)
            }
            _ => {
                let started = backfill
                    .as_ref()
                    .and_then(|c| c.get("started_at"))
                    .and_then(Value::as_i64)
                    .unwrap_or_else(|| req.now.timestamp());
                self.backfill(req, sink, sandbox, backfill.as_ref(), started)
                    .await?;
                Ok(SyncKind::Backfill)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_become_records_and_events_name_their_entity() {
        let entity = json!({ "id": "txn_01sim", "updated_at": "2024-05-01T10:00:00.123Z" });
        let record = entity_record("transaction", entity.clone()).unwrap();
        assert_eq!(record.external_id, "txn_01sim");
        assert_eq!(record.payload, entity);
        assert!(record.updated_at.is_some());
        assert_eq!(event_object("subscription.past_due"), Some("subscription"));
        assert_eq!(event_object("adjustment.created"), Some("adjustment"));
        assert_eq!(event_object("payout.paid"), None);
        assert_eq!(event_object("nonsense"), None);
    }
}

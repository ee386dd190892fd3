//! Pulling Gorgias tickets: `GET /api/tickets?limit=100&order_by=updated_datetime:desc`
//! with cursor pagination (`meta.next_cursor`), newest change first, and each
//! changed ticket's messages (`GET /api/tickets/{id}/messages`), attached to the
//! ticket as `messages` so that the derivation sees the first customer message
//! and the first agent reply in one record (the webhook carries the same shape).
//!
//! The first sync lists every ticket; later ones stop at the first ticket last
//! updated before the previous sync's newest change minus ten minutes (a change
//! committed late at Gorgias is not missed). The high-water mark is saved only
//! when the listing reached it, so an interrupted sync starts over from the old
//! mark (storing a ticket twice replaces it).
//!
//! Gorgias allows an API key 40 requests per 20 seconds (a leaky bucket); the
//! sync paces itself to 38 (`pace.rs`) and honours a 429's `Retry-After`.

use async_trait::async_trait;
use chrono::{DateTime, Duration};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{derive::time, parse_account, GorgiasProvider};
use crate::{
    support::backoff::{with_backoff, RetryPolicy},
    support::error::OAuthError,
    support::http::retry_after,
    sync::{Pull, RawRecord, SyncError, SyncKind, SyncPage, SyncRequest, SyncSink},
    ExposeSecret,
};

pub(crate) const TICKETS_STREAM: &str = "gorgias.tickets";
const OVERLAP: Duration = Duration::minutes(10);

/// A ticket (with its messages) as the record the sink stores and webhooks give.
pub(crate) fn record(ticket: Value) -> Option<RawRecord> {
    let id = match ticket.get("id")? {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    Some(RawRecord {
        object_type: "ticket".into(),
        external_id: id,
        updated_at: time(ticket.get("updated_datetime")),
        payload: ticket,
    })
}

impl GorgiasProvider {
    /// One paced GET, retried on 5xx, timeouts and short rate limits.
    async fn fetch(
        &self,
        req: &SyncRequest<'_>,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Value, OAuthError> {
        let (domain, email) =
            parse_account(req.account_id).map_err(|e| OAuthError::Rejected(e.to_string()))?;
        with_backoff(&RetryPolicy::default(), || async {
            self.pacer.wait(req.account_id).await;
            let token = req.tokens.access_token().await?;
            let key = token.expose_secret();
            let response = self
                .http
                .send(self.get(&domain, &email, key, path).query(query))
                .await?;
            match response.status {
                status if status.is_success() => response.json("Gorgias' API"),
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(OAuthError::InvalidGrant(format!(
                    "Gorgias refused the API key ({}); connect again with a valid key",
                    response.message(&[key])
                ))),
                StatusCode::TOO_MANY_REQUESTS => {
                    let wait = retry_after(&response.headers);
                    Err(OAuthError::RateLimited {
                        retry_after: wait,
                        reason: Some(format!(
                            "Gorgias: 40 requests per 20 seconds per API key are used; next try in {} s",
                            wait.map_or(20, |w| w.as_secs())
                        )),
                    })
                }
                status if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT => {
                    Err(OAuthError::Transient(response.message(&[key])))
                }
                _ => Err(OAuthError::Rejected(response.message(&[key]))),
            }
        })
        .await
    }

    /// Every message of a ticket, oldest first as Gorgias lists them.
    async fn messages(&self, req: &SyncRequest<'_>, ticket: &str) -> Result<Vec<Value>, OAuthError> {
        let mut all = vec![];
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("limit", "100".to_owned())];
            if let Some(c) = &cursor {
                query.push(("cursor", c.clone()));
            }
            let page = self.fetch(req, &format!("tickets/{ticket}/messages"), &query).await?;
            all.extend(page.get("data").and_then(Value::as_array).cloned().unwrap_or_default());
            cursor = page.pointer("/meta/next_cursor").and_then(Value::as_str).map(str::to_owned);
            if cursor.is_none() {
                return Ok(all);
            }
        }
    }
}

#[async_trait]
impl Pull for GorgiasProvider {
    async fn sync(&self, req: &SyncRequest<'_>, sink: &mut dyn SyncSink) -> Result<SyncKind, SyncError> {
        let mark = req
            .cursors
            .get(TICKETS_STREAM)
            .and_then(|c| c.get("updated_to"))
            .and_then(Value::as_i64)
            .and_then(|secs| DateTime::from_timestamp(secs, 0));
        let since = mark.map(|m| m - OVERLAP);
        let mut newest = mark;
        let mut cursor: Option<String> = None;
        'pages: loop {
            let mut query = vec![
                ("limit", "100".to_owned()),
                ("order_by", "updated_datetime:desc".to_owned()),
            ];
            if let Some(c) = &cursor {
                query.push(("cursor", c.clone()));
            }
            let page = self.fetch(req, "tickets", &query).await?;
            let tickets = page.get("data").and_then(Value::as_array).ok_or_else(|| {
                OAuthError::Rejected("unexpected response shape from Gorgias' tickets list".into())
            })?;
            let mut records = vec![];
            let mut reached = false;
            for ticket in tickets {
                let updated = time(ticket.get("updated_datetime"));
                if let (Some(since), Some(updated)) = (since, updated) {
                    if updated < since {
                        reached = true;
                        break;
                    }
                }
                newest = newest.max(updated);
                let Some(id) = ticket.get("id").map(|id| id.to_string().trim_matches('"').to_owned()) else {
                    continue;
                };
                let mut ticket = ticket.clone();
                ticket["messages"] = Value::Array(self.messages(req, &id).await?);
                records.extend(record(ticket));
            }
            cursor = page.pointer("/meta/next_cursor").and_then(Value::as_str).map(str::to_owned);
            sink.commit(SyncPage {
                stream: TICKETS_STREAM.into(),
                records,
                cursor: None,
                clear: vec![],
            })
            .await?;
            if reached || cursor.is_none() {
                break 'pages;
            }
        }
        sink.commit(SyncPage {
            stream: TICKETS_STREAM.into(),
            records: vec![],
            cursor: Some(json!({ "updated_to": newest.map(|t| t.timestamp()) })),
            clear: vec![],
        })
        .await?;
        Ok(if mark.is_some() { SyncKind::Incremental } else { SyncKind::Backfill })
    }
}

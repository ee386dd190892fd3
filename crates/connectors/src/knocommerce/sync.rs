//! Pulling KnoCommerce survey responses: one token per run (client credentials,
//! `mod.rs`), then `GET /api/rest/responses?maxPageSize=250&status=completed
//! &expand=order`, following `nextPageToken` while `hasMore`.
//!
//! The first sync lists every completed response; later ones only those updated
//! since the newest `updated_at` the previous run saw (`updatedAt[gte]`, so a
//! response updated in that very millisecond is read again, stored once). The
//! stream's cursor (`knocommerce.responses`: `{"updated_since"}`) moves only once
//! a run has read every page, committed with the last one: a run that fails half
//! way starts again from the same point and re-reads what it had stored, which
//! replaces rather than adds.

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{derive::time_field, derive::RESPONSE_OBJECT, kno_message, KnoCommerceProvider};
use crate::{
    support::backoff::{with_backoff, RetryPolicy},
    support::error::OAuthError,
    support::http::retry_after,
    sync::{Pull, RawRecord, SyncError, SyncKind, SyncPage, SyncRequest, SyncSink},
    ExposeSecret,
};

pub(crate) const RESPONSES_STREAM: &str = "knocommerce.responses";
pub(crate) const PAGE_SIZE: u32 = 250;

/// A response as the record the sink stores.
pub(crate) fn record(response: Value) -> Option<RawRecord> {
    let external_id = match response.get("id")? {
        Value::String(s) if !s.is_empty() => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    Some(RawRecord {
        object_type: RESPONSE_OBJECT.to_owned(),
        external_id,
        updated_at: time_field(&response, "updated_at"),
        payload: response,
    })
}

/// One page of the list.
struct Page {
    results: Vec<Value>,
    next: Option<String>,
}

impl KnoCommerceProvider {
    /// One page, retried on 5xx, timeouts and short rate limits; a long
    /// `Retry-After` is handed back (the server snoozes the job). A body that is
    /// not `{results: [...]}` fails the sync with a clear reason.
    async fn page(
        &self,
        token: &str,
        since: Option<&str>,
        page_token: Option<&str>,
    ) -> Result<Page, OAuthError> {
        let policy = RetryPolicy {
            max_attempts: 5,
            ..RetryPolicy::default()
        };
        let mut query = vec![
            ("maxPageSize", PAGE_SIZE.to_string()),
            ("status", "completed".to_owned()),
            ("expand", "order".to_owned()),
        ];
        if let Some(since) = since {
            query.push(("updatedAt[gte]", since.to_owned()));
        }
        if let Some(page_token) = page_token {
            query.push(("pageToken", page_token.to_owned()));
        }
        let body: Value = with_backoff(&policy, || async {
            let response = self.list(token, &query).await?;
            match response.status {
                status if status.is_success() => response.json("KnoCommerce's responses list"),
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    Err(OAuthError::InvalidGrant(format!(
                        "KnoCommerce refused the API client's token ({}); give the client the Responses permission or connect again",
                        kno_message(&response, &[token])
                    )))
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    let wait = retry_after(&response.headers);
                    Err(OAuthError::RateLimited {
                        retry_after: wait,
                        reason: Some(format!(
                            "KnoCommerce: the API's rate limit is reached; next try in {} s",
                            wait.map_or(60, |w| w.as_secs())
                        )),
                    })
                }
                status if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT => {
                    Err(OAuthError::Transient(kno_message(&response, &[token])))
                }
                _ => Err(OAuthError::Rejected(kno_message(&response, &[token]))),
            }
        })
        .await?;
        let Some(Value::Array(results)) = body.get("results") else {
            return Err(OAuthError::Rejected(
                "unexpected response shape from KnoCommerce's responses list: no `results` list"
                    .into(),
            ));
        };
        let more = body.get("hasMore").and_then(Value::as_bool).unwrap_or(false);
        let next = body
            .get("nextPageToken")
            .and_then(Value::as_str)
            .filter(|t| more && !t.is_empty() && !results.is_empty())
            .map(str::to_owned);
        Ok(Page {
            results: results.clone(),
            next,
        })
    }
}

#[async_trait]
impl Pull for KnoCommerceProvider {
    async fn sync(
        &self,
        req: &SyncRequest<'_>,
        sink: &mut dyn SyncSink,
    ) -> Result<SyncKind, SyncError> {
        let secret = req.tokens.access_token().await?;
        let token = with_backoff(&RetryPolicy::default(), || {
            self.token(req.account_id, secret.expose_secret())
        })
        .await?;
        let since = req
            .cursors
            .get(RESPONSES_STREAM)
            .and_then(|c| c.get("updated_since"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut newest: Option<DateTime<Utc>> = since
            .as_deref()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc));
        let mut page_token: Option<String> = None;
        loop {
            let page = self
                .page(&token, since.as_deref(), page_token.as_deref())
                .await?;
            let records: Vec<RawRecord> = page.results.into_iter().filter_map(record).collect();
            for updated in records.iter().filter_map(|r| r.updated_at) {
                newest = Some(newest.map_or(updated, |n| n.max(updated)));
            }
            let last = page.next.is_none();
            let cursor = (last && newest.is_some()).then(|| {
                json!({
                    "updated_since": newest
                        .expect("checked")
                        .to_rfc3339_opts(SecondsFormat::Millis, true)
                })
            });
            sink.commit(SyncPage {
                stream: RESPONSES_STREAM.into(),
                records,
                cursor,
                clear: vec![],
            })
            .await?;
            match page.next {
                Some(next) => page_token = Some(next),
                None => break,
            }
        }
        Ok(if since.is_some() {
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
    fn a_response_is_stored_dated_by_its_update() {
        let record = record(json!({ "id": "338d5d30", "updated_at": "2025-12-19T20:07:12.150Z" })).unwrap();
        assert_eq!(record.object_type, "response");
        assert_eq!(record.external_id, "338d5d30");
        assert_eq!(
            record.updated_at.unwrap().to_rfc3339_opts(SecondsFormat::Millis, true),
            "2025-12-19T20:07:12.150Z"
        );
        assert!(super::record(json!({ "id": "" })).is_none());
    }
}

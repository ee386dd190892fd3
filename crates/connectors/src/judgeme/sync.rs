//! Pulling Judge.me reviews: `GET /api/v1/reviews`, `page` from 1 and
//! `per_page=100`, until a page comes back with fewer reviews than asked.
//!
//! Judge.me has no "changed since" filter, and its list is ordered newest first
//! (by `created_at`): a page number of a list that grows while it is read only
//! repeats reviews (stored once), it never skips one. So a backfill (first sync,
//! and again every week) reads the whole list, committing every page with the
//! page reached so an interrupted backfill resumes there. In between, an
//! incremental sync re-reads the newest pages until one ends before the previous
//! sync minus a month: new reviews, and the moderation of recent ones (a pending
//! review published or hidden), come in with them; the weekly backfill catches a
//! review moderated later than that.
//!
//! Each review is stored as Judge.me sent it, with `pulseboard.shop_domain` (not a
//! Judge.me field) so that a review's link can be made from the record alone.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{
    derive::{id_string, time_field, REVIEW_OBJECT},
    judgeme_message, JudgeMeProvider,
};
use crate::{
    support::backoff::{with_backoff, RetryPolicy},
    support::error::OAuthError,
    support::http::retry_after,
    sync::{Pull, RawRecord, SyncError, SyncKind, SyncPage, SyncRequest, SyncSink},
    ExposeSecret,
};

pub(crate) const BACKFILL_STREAM: &str = "judgeme.backfill";
pub(crate) const REVIEWS_STREAM: &str = "judgeme.reviews";
/// How far before the previous sync an incremental sync re-reads.
const LOOKBACK: chrono::Duration = chrono::Duration::days(31);
/// A whole list this often catches reviews moderated long after they were written.
const FULL_EVERY: chrono::Duration = chrono::Duration::days(7);
pub(crate) const PER_PAGE: u32 = 100;

/// A review as the record the sink stores.
pub(crate) fn record(mut review: Value, shop: &str) -> Option<RawRecord> {
    let external_id = id_string(review.get("id"))?;
    let updated_at = time_field(&review, "updated_at");
    review
        .as_object_mut()?
        .insert("pulseboard".into(), json!({ "shop_domain": shop }));
    Some(RawRecord {
        object_type: REVIEW_OBJECT.to_owned(),
        external_id,
        updated_at,
        payload: review,
    })
}

impl JudgeMeProvider {
    /// One page of reviews, retried on 5xx, timeouts and short rate limits; a long
    /// `Retry-After` is handed back (the server snoozes the job). A body without a
    /// `reviews` list fails the sync with a clear reason.
    async fn page(&self, req: &SyncRequest<'_>, number: u32) -> Result<Vec<Value>, OAuthError> {
        let policy = RetryPolicy {
            max_attempts: 5,
            ..RetryPolicy::default()
        };
        let body: Value = with_backoff(&policy, || async {
            let token = req.tokens.access_token().await?;
            let token = token.expose_secret();
            let response = self
                .http
                .send(self.reviews_request(token, req.account_id, number, PER_PAGE))
                .await?;
            match response.status {
                status if status.is_success() => response.json("Judge.me's reviews list"),
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    Err(OAuthError::InvalidGrant(format!(
                        "Judge.me refused the API token ({}); connect again with the shop's private token",
                        judgeme_message(&response, &[token])
                    )))
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    let wait = retry_after(&response.headers);
                    Err(OAuthError::RateLimited {
                        retry_after: wait,
                        reason: Some(format!(
                            "Judge.me: the shop's API rate limit is reached; next try in {} s",
                            wait.map_or(60, |w| w.as_secs())
                        )),
                    })
                }
                status if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT => {
                    Err(OAuthError::Transient(judgeme_message(&response, &[token])))
                }
                _ => Err(OAuthError::Rejected(judgeme_message(&response, &[token]))),
            }
        })
        .await?;
        match body.get("reviews") {
            Some(Value::Array(reviews)) => Ok(reviews.clone()),
            _ => Err(OAuthError::Rejected(format!(
                "unexpected response shape from Judge.me's reviews list (page {number}): no `reviews` list"
            ))),
        }
    }

    fn records(reviews: Vec<Value>, shop: &str) -> Vec<RawRecord> {
        reviews
            .into_iter()
            .filter_map(|review| record(review, shop))
            .collect()
    }

    async fn backfill(
        &self,
        req: &SyncRequest<'_>,
        sink: &mut dyn SyncSink,
        resume: Option<&Value>,
        started_at: i64,
    ) -> Result<(), SyncError> {
        let mut number = resume
            .and_then(|c| c.get("page"))
            .and_then(Value::as_u64)
            .map_or(1, |n| n.max(1) as u32);
        loop {
            let reviews = self.page(req, number).await?;
            let more = reviews.len() >= PER_PAGE as usize;
            let cursor = json!({ "started_at": started_at, "page": number + 1 });
            sink.commit(SyncPage {
                stream: BACKFILL_STREAM.into(),
                records: Self::records(reviews, req.account_id),
                cursor: Some(cursor),
                clear: vec![],
            })
            .await?;
            if !more {
                break;
            }
            number += 1;
        }
        sink.commit(SyncPage {
            stream: REVIEWS_STREAM.into(),
            records: vec![],
            cursor: Some(json!({ "listed_at": started_at, "full_at": started_at })),
            clear: vec![BACKFILL_STREAM.into()],
        })
        .await?;
        Ok(())
    }

    async fn incremental(
        &self,
        req: &SyncRequest<'_>,
        sink: &mut dyn SyncSink,
        listed_at: DateTime<Utc>,
        full_at: i64,
    ) -> Result<(), SyncError> {
        let since = listed_at - LOOKBACK;
        let mut number = 1;
        loop {
            let reviews = self.page(req, number).await?;
            let more = reviews.len() >= PER_PAGE as usize;
            // Newest first: once a page reaches before `since`, the rest is older.
            let reached_old = reviews.iter().any(|review| {
                time_field(review, "created_at").is_some_and(|created| created < since)
            });
            sink.commit(SyncPage {
                stream: REVIEWS_STREAM.into(),
                records: Self::records(reviews, req.account_id),
                cursor: None,
                clear: vec![],
            })
            .await?;
            if !more || reached_old {
                break;
            }
            number += 1;
        }
        sink.commit(SyncPage {
            stream: REVIEWS_STREAM.into(),
            records: vec![],
            cursor: Some(json!({ "listed_at": req.now.timestamp(), "full_at": full_at })),
            clear: vec![],
        })
        .await?;
        Ok(())
    }
}

#[async_trait]
impl Pull for JudgeMeProvider {
    async fn sync(
        &self,
        req: &SyncRequest<'_>,
        sink: &mut dyn SyncSink,
    ) -> Result<SyncKind, SyncError> {
        if let Some(resume) = req.cursors.get(BACKFILL_STREAM) {
            let started_at = resume
                .get("started_at")
                .and_then(Value::as_i64)
                .unwrap_or_else(|| req.now.timestamp());
            self.backfill(req, sink, Some(resume), started_at).await?;
            return Ok(SyncKind::Backfill);
        }
        let listed = req.cursors.get(REVIEWS_STREAM);
        let at = |name: &str| {
            listed
                .and_then(|c| c.get(name))
                .and_then(Value::as_i64)
                .and_then(|t| DateTime::from_timestamp(t, 0))
        };
        match (at("listed_at"), at("full_at")) {
            (Some(listed_at), Some(full_at)) if req.now - full_at < FULL_EVERY => {
                self.incremental(req, sink, listed_at, full_at.timestamp())
                    .await?;
                Ok(SyncKind::Incremental)
            }
            _ => {
                self.backfill(req, sink, None, req.now.timestamp()).await?;
                Ok(SyncKind::Backfill)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_review_is_stored_with_its_shop_and_dated_by_its_update() {
        let review = json!({ "id": 42, "rating": 4, "updated_at": "2024-05-01T10:00:00+00:00" });
        let record = record(review, "acme.myshopify.com").unwrap();
        assert_eq!(
            (record.object_type.as_str(), record.external_id.as_str()),
            ("review", "42")
        );
        assert_eq!(record.payload["pulseboard"]["shop_domain"], "acme.myshopify.com");
        assert_eq!(
            record.updated_at.unwrap().to_rfc3339(),
            "2024-05-01T10:00:00+00:00"
        );
        assert!(super::record(json!({ "rating": 4 }), "acme.myshopify.com").is_none());
    }
}

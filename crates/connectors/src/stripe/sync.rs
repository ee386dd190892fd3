//! Pulling Stripe data (DESIGN §6).
//!
//! First a backfill lists every object type (`limit=100`, `starting_after`), resumable
//! from its cursor. From then on, incremental syncs read `/v1/events` from the last
//! event seen minus an overlap: `created` alone would miss refunds and status changes,
//! which are changes to old objects. Stripe keeps events for 30 days, so a cursor older
//! than that starts a full re-list instead.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::StripeProvider;
use crate::{
    support::backoff::{with_backoff, RetryPolicy},
    support::error::OAuthError,
    support::http::endpoint,
    sync::{
        unix_field, Pull, RawRecord, SourceTotal, SyncError, SyncKind, SyncPage, SyncRequest,
        SyncSink,
    },
    ExposeSecret,
};

pub(crate) const BACKFILL_STREAM: &str = "stripe.backfill";
pub(crate) const EVENTS_STREAM: &str = "stripe.events";
/// Balance transactions (fees and net volume): Stripe sends no events for them, so
/// they are listed by `created` from their own cursor.
pub(crate) const BALANCE_STREAM: &str = "stripe.balance";
/// The lists a backfill walks, in order, with the object type of their items.
const LISTS: &[(&str, &str)] = &[
    ("customers", "customer"),
    ("subscriptions", "subscription"),
    ("invoices", "invoice"),
    ("charges", "charge"),
    ("refunds", "refund"),
];
/// Re-read this much before the last event seen: events can become visible late.
const EVENT_OVERLAP: chrono::Duration = chrono::Duration::minutes(10);
/// Stripe keeps events for 30 days; resume from events only well inside that.
const EVENT_RETENTION: chrono::Duration = chrono::Duration::days(29);
const PAGE_SIZE: &str = "100";

#[derive(Deserialize)]
struct List {
    data: Vec<Value>,
    has_more: bool,
}

fn id_of(object: &Value) -> Option<String> {
    object.get("id").and_then(Value::as_str).map(str::to_owned)
}

/// Object types the pipeline derives metrics from.
fn tracked(object_type: &str) -> bool {
    LISTS.iter().any(|(_, t)| *t == object_type)
}

/// The raw record an event carries: its object, versioned by the event's time (the
/// same for an event read from `/v1/events` and one delivered by webhook).
pub(super) fn record_of_event(event: &Value) -> Option<RawRecord> {
    let object = event.get("data")?.get("object")?;
    let object_type = object.get("object")?.as_str()?;
    let external_id = id_of(object).filter(|id| !id.is_empty())?;
    tracked(object_type).then(|| RawRecord {
        object_type: object_type.to_owned(),
        external_id,
        updated_at: unix_field(event, "created"),
        payload: object.clone(),
    })
}

impl StripeProvider {
    /// Lists the balance transactions created since the cursor (minus the events'
    /// overlap; all of them the first time) and stores them oldest first, the cursor
    /// following the pages committed. They do not change once created (their `fee`
    /// and `net` are fixed), so re-reading the overlap only replaces them with
    /// themselves.
    async fn balance(
        &self,
        req: &SyncRequest<'_>,
        sink: &mut dyn SyncSink,
    ) -> Result<(), SyncError> {
        let since = req
            .cursors
            .get(BALANCE_STREAM)
            .and_then(|c| c.get("created"))
            .and_then(Value::as_i64)
            .map(|cursor| cursor - EVENT_OVERLAP.num_seconds());
        let transactions = self
            .list_oldest_first(req, "v1/balance_transactions", since)
            .await?;
        commit_oldest_first(sink, BALANCE_STREAM, &transactions, |t| {
            Some(RawRecord {
                object_type: "balance_transaction".into(),
                external_id: id_of(t)?,
                updated_at: unix_field(t, "created"),
                payload: t.clone(),
            })
        })
        .await
    }

    /// Every object of a list created at or after `since` (all of them for `None`),
    /// oldest first: Stripe lists newest first.
    async fn list_oldest_first(
        &self,
        req: &SyncRequest<'_>,
        path: &str,
        since: Option<i64>,
    ) -> Result<Vec<Value>, OAuthError> {
        let mut objects = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![("limit", PAGE_SIZE.to_owned())];
            if let Some(since) = since {
                query.push(("created[gte]", since.to_string()));
            }
            if let Some(after) = &after {
                query.push(("starting_after", after.clone()));
            }
            let page = self.list_page(req, path, &query).await?;
            after = page.data.last().and_then(id_of);
            let more = page.has_more && after.is_some();
            objects.extend(page.data);
            if !more {
                break;
            }
        }
        objects.sort_by_key(|o| (o.get("created").and_then(Value::as_i64), id_of(o)));
        Ok(objects)
    }

    /// One GET against the API with the integration's current token, retried on
    /// 5xx, timeouts and short rate limits.
    async fn list_page(
        &self,
        req: &SyncRequest<'_>,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<List, OAuthError> {
        let policy = RetryPolicy {
            max_attempts: 5,
            ..RetryPolicy::default()
        };
        with_backoff(&policy, || async {
            let token = req.tokens.access_token().await?;
            let token = token.expose_secret();
            let request = self
                .http
                .get(endpoint(&self.config.api_base, path))
                .bearer_auth(token)
                .query(query);
            let response = self.http.send(request).await?;
            if response.status == reqwest::StatusCode::UNAUTHORIZED {
                // A revoked grant or a deleted key: only a person can fix that.
                return Err(OAuthError::InvalidGrant(format!(
                    "Stripe refused the credentials: {}",
                    response.message(&[token])
                )));
            }
            // Stripe says explicitly whether a failed request is worth retrying.
            let should_retry = response
                .headers
                .get("stripe-should-retry")
                .and_then(|v| v.to_str().ok());
            if !response.status.is_success()
                && should_retry == Some("true")
                && response.status != reqwest::StatusCode::TOO_MANY_REQUESTS
            {
                return Err(OAuthError::Transient(response.message(&[token])));
            }
            if response.status.is_server_error() && should_retry == Some("false") {
                return Err(OAuthError::Rejected(response.message(&[token])));
            }
            response.success(&[token])?.json("a Stripe list")
        })
        .await
    }

    /// Lists every object type, committing each page with the position reached, so
    /// an interrupted backfill resumes where it stopped. Ends by starting the events
    /// cursor just before the backfill began.
    async fn backfill(
        &self,
        req: &SyncRequest<'_>,
        sink: &mut dyn SyncSink,
        resume: Option<&Value>,
        started_at: i64,
    ) -> Result<(), SyncError> {
        let resume_list = resume
            .and_then(|c| c.get("list"))
            .and_then(Value::as_str)
            .unwrap_or(LISTS[0].0);
        let mut after = resume
            .and_then(|c| c.get("starting_after"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let first = LISTS
            .iter()
            .position(|(l, _)| *l == resume_list)
            .unwrap_or(0);
        // The listed objects are as of now: older event snapshots must not replace them.
        let fetched_at = DateTime::from_timestamp(started_at, 0);
        for (index, (list, object_type)) in LISTS.iter().enumerate().skip(first) {
            loop {
                let mut query = vec![("limit", PAGE_SIZE.to_owned())];
                if *list == "subscriptions" {
                    query.push(("status", "all".to_owned()));
                }
                if let Some(after) = &after {
                    query.push(("starting_after", after.clone()));
                }
                let page = self.list_page(req, &format!("v1/{list}"), &query).await?;
                let records = page
                    .data
                    .iter()
                    .filter_map(|object| {
                        Some(RawRecord {
                            object_type: (*object_type).to_owned(),
                            external_id: id_of(object)?,
                            updated_at: fetched_at,
                            payload: object.clone(),
                        })
                    })
                    .collect::<Vec<_>>();
                after = page.data.last().and_then(id_of);
                let next = if page.has_more && after.is_some() {
                    json!({ "started_at": started_at, "list": list, "starting_after": after })
                } else if let Some((next_list, _)) = LISTS.get(index + 1) {
                    json!({ "started_at": started_at, "list": next_list })
                } else {
                    json!({ "started_at": started_at, "list": "done" })
                };
                sink.commit(SyncPage {
                    stream: BACKFILL_STREAM.into(),
                    records,
                    cursor: Some(next),
                    clear: vec![],
                })
                .await?;
                if !(page.has_more && after.is_some()) {
                    after = None;
                    break;
                }
            }
        }
        sink.commit(SyncPage {
            stream: EVENTS_STREAM.into(),
            records: vec![],
            cursor: Some(json!({ "created": started_at - EVENT_OVERLAP.num_seconds() })),
            clear: vec![BACKFILL_STREAM.into()],
        })
        .await?;
        Ok(())
    }

    /// Applies every event since the cursor (minus the overlap), oldest first, each as
    /// the snapshot of its object at that time; the cursor follows the pages committed.
    async fn incremental(
        &self,
        req: &SyncRequest<'_>,
        sink: &mut dyn SyncSink,
        cursor: i64,
    ) -> Result<(), SyncError> {
        let since = cursor - EVENT_OVERLAP.num_seconds();
        // Applied oldest first, so the last snapshot of an object wins.
        let events = self.list_oldest_first(req, "v1/events", Some(since)).await?;
        let newest = events
            .last()
            .and_then(|e| e.get("created"))
            .and_then(Value::as_i64);
        commit_oldest_first(sink, EVENTS_STREAM, &events, record_of_event).await?;
        // A quiet account still moves its cursor, so it does not age into a full re-list.
        let quiet_until = req.now.timestamp() - EVENT_OVERLAP.num_seconds();
        if newest.is_none_or(|newest| newest < quiet_until) && cursor < quiet_until {
            sink.commit(SyncPage {
                stream: EVENTS_STREAM.into(),
                records: vec![],
                cursor: Some(json!({ "created": quiet_until })),
                clear: vec![],
            })
            .await?;
        }
        Ok(())
    }
}

/// Stores objects listed oldest first in pages of 100, the stream's cursor
/// following the `created` of the last one committed, so it only moves forward.
async fn commit_oldest_first(
    sink: &mut dyn SyncSink,
    stream: &str,
    objects: &[Value],
    record: impl Fn(&Value) -> Option<RawRecord>,
) -> Result<(), SyncError> {
    for chunk in objects.chunks(100) {
        let reached = chunk
            .last()
            .and_then(|o| o.get("created"))
            .and_then(Value::as_i64);
        sink.commit(SyncPage {
            stream: stream.into(),
            records: chunk.iter().filter_map(&record).collect(),
            cursor: reached.map(|created| json!({ "created": created })),
            clear: vec![],
        })
        .await?;
    }
    Ok(())
}

#[async_trait]
impl Pull for StripeProvider {
    /// 2: balance transactions (fees and net volume). 3: MRR net of discounts, paying
    /// subscriptions only, trials, ARR, and MRR events naming their customer (for the
    /// movements).
    fn sync_version(&self) -> i32 {
        3
    }

    async fn sync(
        &self,
        req: &SyncRequest<'_>,
        sink: &mut dyn SyncSink,
    ) -> Result<SyncKind, SyncError> {
        let events_since = req
            .cursors
            .get(EVENTS_STREAM)
            .and_then(|c| c.get("created"))
            .and_then(Value::as_i64)
            .and_then(|secs| DateTime::from_timestamp(secs, 0));
        let backfill = req.cursors.get(BACKFILL_STREAM).cloned();
        let stale = events_since.is_none_or(|at| at < req.now - EVENT_RETENTION);
        match events_since {
            Some(since) if backfill.is_none() && !stale => {
                self.incremental(req, sink, since.timestamp()).await?;
                self.balance(req, sink).await?;
                Ok(SyncKind::Incremental)
            }
            _ => {
                let started = backfill
                    .as_ref()
                    .and_then(|c| c.get("started_at"))
                    .and_then(Value::as_i64)
                    .unwrap_or_else(|| req.now.timestamp());
                self.backfill(req, sink, backfill.as_ref(), started).await?;
                // Changes made while the lists were read arrive as events.
                self.incremental(req, sink, started).await?;
                self.balance(req, sink).await?;
                Ok(SyncKind::Backfill)
            }
        }
    }

    /// `gross_revenue` and `refunds` over `[from, to)` from the account's balance
    /// transactions, like for like with what `derive.rs` books from the synced
    /// charges and refunds: a `charge` transaction is created with its charge and
    /// carries the charge's `amount` (booked as `gross_revenue` at the charge's
    /// `created`), a `refund` transaction the refund's amount, negative (booked
    /// positive as `refunds` at the refund's `created`). Only `amount` is compared:
    /// the balance's `fee` and `net` have no metric, and failed charges have no
    /// transaction (nor revenue). Where the balance differs from the records by
    /// nature (a charge in another currency converted into the balance's, a
    /// dispute, an adjustment, a payout), that shows as a difference or is not
    /// counted: only `charge`/`payment` and `refund` transactions are summed.
    async fn source_totals(
        &self,
        req: &SyncRequest<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Option<Vec<SourceTotal>>, SyncError> {
        let mut gross = SourceTotal {
            metric: "gross_revenue",
            value: 0,
            records: vec![],
        };
        let mut refunds = SourceTotal {
            metric: "refunds",
            value: 0,
            records: vec![],
        };
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![
                ("limit", PAGE_SIZE.to_owned()),
                ("created[gte]", from.timestamp().to_string()),
                ("created[lt]", to.timestamp().to_string()),
            ];
            if let Some(after) = &after {
                query.push(("starting_after", after.clone()));
            }
            let page = self
                .list_page(req, "v1/balance_transactions", &query)
                .await?;
            for txn in &page.data {
                let amount = txn.get("amount").and_then(Value::as_i64).unwrap_or(0);
                let source = txn.get("source").and_then(Value::as_str).unwrap_or_default();
                match txn.get("type").and_then(Value::as_str) {
                    Some("charge" | "payment") => {
                        gross.value += amount;
                        gross.records.push((format!("charge/{source}"), amount));
                    }
                    Some("refund" | "payment_refund") => {
                        refunds.value -= amount;
                        refunds.records.push((format!("refund/{source}"), -amount));
                    }
                    _ => {}
                }
            }
            after = page.data.last().and_then(id_of);
            if !(page.has_more && after.is_some()) {
                break;
            }
        }
        Ok(Some(vec![gross, refunds]))
    }
}

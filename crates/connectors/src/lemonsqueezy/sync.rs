//! Pulling LemonSqueezy data: JSON:API lists, `page[number]` and `page[size]=100`,
//! another page while `links.next` is set (its URL is only read as that signal:
//! following a URL a response names could carry the key to another host).
//!
//! LemonSqueezy has no "changed since" filter and no events list, and its lists
//! are documented as ordered by `created_at` descending (`sort=-createdAt` in its
//! links), newest first: a page number of a list that grows while it is read
//! only repeats items (stored once), it never skips one. So a backfill (first sync, and again every week) lists customers,
//! subscriptions, subscription invoices and orders whole, committing every page
//! with the position reached so an interrupted backfill resumes there. In between,
//! an incremental sync reads customers, invoices and orders newest first until a
//! page ends before the previous sync minus a month (refunds and late edits of
//! recent orders come in with them; the weekly backfill catches older ones), and
//! subscriptions whole, because an old subscription can be cancelled any day.
//!
//! Requests are paced to LemonSqueezy's 300 a minute per key (`pace.rs`).
//!
//! A subscription names its price only by id, and says nothing of a discount code
//! it checked out with; the sync lists the prices (`/v1/prices`), the discounts and
//! their redemptions (`/v1/discounts`, `/v1/discount-redemptions`, by order) and
//! the store's currency once per run, and attaches the subscription item's price
//! and its order's discount under `pulseboard` (not a LemonSqueezy field), so the
//! derivation can compute MRR net of discounts from the record alone.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{derive::time_attr, lemonsqueezy_message, parse_store_id, LemonSqueezyProvider};
use crate::{
    support::backoff::{with_backoff, RetryPolicy},
    support::error::OAuthError,
    support::http::retry_after,
    sync::{Pull, RawRecord, SyncError, SyncKind, SyncPage, SyncRequest, SyncSink},
    ExposeSecret,
};

pub(crate) const BACKFILL_STREAM: &str = "lemonsqueezy.backfill";
pub(crate) const LISTS_STREAM: &str = "lemonsqueezy.lists";
/// The lists a sync reads, in order: (path, object type of their items).
const LISTS: &[(&str, &str)] = &[
    ("customers", "customer"),
    ("subscriptions", "subscription"),
    ("subscription-invoices", "subscription-invoice"),
    ("orders", "order"),
];
/// How far before the previous sync an incremental sync re-reads.
const LOOKBACK: chrono::Duration = chrono::Duration::days(31);
/// A full list this often catches changes to older orders.
const FULL_EVERY: chrono::Duration = chrono::Duration::days(7);
const PAGE_SIZE: u32 = 100;

/// One page of a JSON:API list.
struct Page {
    data: Vec<Value>,
    more: bool,
}

/// What a run learns once: the store's currency, the prices by id and the
/// discounts by the order that redeemed them.
#[derive(Default)]
struct Context {
    currency: Option<String>,
    prices: Option<HashMap<String, Value>>,
    discounts_by_order: HashMap<String, Value>,
}

pub(super) fn id_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A list item as the record the sink stores (and webhooks give): the JSON:API
/// resource object, dated by its `updated_at`.
pub(crate) fn record(object_type: &str, item: Value) -> Option<RawRecord> {
    let external_id = item.get("id").and_then(id_string)?;
    let mut record = RawRecord {
        object_type: object_type.to_owned(),
        external_id,
        updated_at: None,
        payload: item,
    };
    record.updated_at = time_attr(&record, "updated_at");
    Some(record)
}

impl LemonSqueezyProvider {
    /// One GET, retried on 5xx, timeouts and short rate limits; a long
    /// `Retry-After` is handed back (the server snoozes the job).
    async fn fetch(
        &self,
        req: &SyncRequest<'_>,
        path: &str,
        query: &[(String, String)],
    ) -> Result<Value, OAuthError> {
        let policy = RetryPolicy {
            max_attempts: 5,
            ..RetryPolicy::default()
        };
        with_backoff(&policy, || async {
            self.pacer.wait(req.account_id).await;
            let token = req.tokens.access_token().await?;
            let key = token.expose_secret();
            let response = self.http.send(self.get(path, key).query(query)).await?;
            match response.status {
                status if status.is_success() => response.json("a LemonSqueezy list"),
                // A deleted key, or one of another mode: only a person can fix that.
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    Err(OAuthError::InvalidGrant(format!(
                        "LemonSqueezy refused the API key ({}); connect again with a valid key",
                        lemonsqueezy_message(&response, &[key])
                    )))
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    let wait = retry_after(&response.headers);
                    Err(OAuthError::RateLimited {
                        retry_after: wait,
                        reason: Some(format!(
                            "LemonSqueezy: the API's rate limit (300 requests a minute per API key) is reached; next try in {} s",
                            wait.map_or(60, |w| w.as_secs())
                        )),
                    })
                }
                status if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT => {
                    Err(OAuthError::Transient(lemonsqueezy_message(&response, &[key])))
                }
                _ => Err(OAuthError::Rejected(lemonsqueezy_message(&response, &[key]))),
            }
        })
        .await
    }

    async fn page(
        &self,
        req: &SyncRequest<'_>,
        path: &str,
        store_id: Option<u64>,
        number: u32,
    ) -> Result<Page, OAuthError> {
        let mut query = vec![
            ("page[number]".to_owned(), number.to_string()),
            ("page[size]".to_owned(), PAGE_SIZE.to_string()),
        ];
        if let Some(store_id) = store_id {
            query.push(("filter[store_id]".to_owned(), store_id.to_string()));
        }
        let body = self.fetch(req, &format!("v1/{path}"), &query).await?;
        let data = match body.get("data") {
            Some(Value::Array(items)) => items.clone(),
            _ => {
                return Err(OAuthError::Rejected(format!(
                    "unexpected response shape from LemonSqueezy's {path} list"
                )))
            }
        };
        let more = body
            .pointer("/links/next")
            .is_some_and(|next| next.as_str().is_some_and(|s| !s.is_empty()))
            && !data.is_empty();
        Ok(Page { data, more })
    }

    /// The store's currency and every price, read once per run when subscriptions
    /// are listed.
    async fn load_context(
        &self,
        req: &SyncRequest<'_>,
        store_id: u64,
        context: &mut Context,
    ) -> Result<(), OAuthError> {
        if context.prices.is_some() {
            return Ok(());
        }
        let store = self
            .fetch(req, &format!("v1/stores/{store_id}"), &[])
            .await?;
        context.currency = store
            .pointer("/data/attributes/currency")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let prices = self.by_id(req, "prices").await?;
        let discounts = self.by_id(req, "discounts").await?;
        let redemptions = self.by_id(req, "discount-redemptions").await?;
        context.discounts_by_order = redemptions
            .values()
            .filter_map(|r| {
                let order = r.get("order_id").and_then(id_string)?;
                let discount = discounts.get(&r.get("discount_id").and_then(id_string)?)?;
                Some((order, discount.clone()))
            })
            .collect();
        context.prices = Some(prices);
        Ok(())
    }

    /// A whole list's items' attributes (with their `id`) by id.
    async fn by_id(
        &self,
        req: &SyncRequest<'_>,
        list: &str,
    ) -> Result<HashMap<String, Value>, OAuthError> {
        let mut items = HashMap::new();
        let mut number = 1;
        loop {
            let page = self.page(req, list, None, number).await?;
            for item in &page.data {
                if let (Some(id), Some(attributes)) =
                    (item.get("id").and_then(id_string), item.get("attributes"))
                {
                    let mut item = attributes.clone();
                    item["id"] = json!(id);
                    items.insert(id, item);
                }
            }
            if !page.more {
                break;
            }
            number += 1;
        }
        Ok(items)
    }

    /// A page's items as records, subscriptions with their price attached.
    fn records(&self, object_type: &str, items: Vec<Value>, context: &Context) -> Vec<RawRecord> {
        items
            .into_iter()
            .filter_map(|mut item| {
                if object_type == "subscription" {
                    let price = item
                        .pointer("/attributes/first_subscription_item/price_id")
                        .and_then(id_string)
                        .and_then(|id| context.prices.as_ref()?.get(&id).cloned());
                    let discount = item
                        .pointer("/attributes/order_id")
                        .and_then(id_string)
                        .and_then(|order| context.discounts_by_order.get(&order).cloned());
                    if let (Some(price), Some(object)) = (price, item.as_object_mut()) {
                        object.insert(
                            "pulseboard".into(),
                            json!({ "price": price, "currency": context.currency, "discount": discount }),
                        );
                    }
                }
                record(object_type, item)
            })
            .collect()
    }

    async fn backfill(
        &self,
        req: &SyncRequest<'_>,
        sink: &mut dyn SyncSink,
        store_id: u64,
        resume: Option<&Value>,
        started_at: i64,
    ) -> Result<(), SyncError> {
        let resume_list = resume
            .and_then(|c| c.get("list"))
            .and_then(Value::as_str)
            .unwrap_or(LISTS[0].0);
        let first = LISTS.iter().position(|(l, _)| *l == resume_list).unwrap_or(LISTS.len());
        let mut number = resume
            .and_then(|c| c.get("page"))
            .and_then(Value::as_u64)
            .map_or(1, |n| n.max(1) as u32);
        let mut context = Context::default();
        for (index, (list, object_type)) in LISTS.iter().enumerate().skip(first) {
            if *object_type == "subscription" {
                self.load_context(req, store_id, &mut context).await?;
            }
            loop {
                let page = self.page(req, list, Some(store_id), number).await?;
                let records = self.records(object_type, page.data, &context);
                let next = if page.more {
                    json!({ "started_at": started_at, "list": list, "page": number + 1 })
                } else if let Some((next_list, _)) = LISTS.get(index + 1) {
                    json!({ "started_at": started_at, "list": next_list, "page": 1 })
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
                if !page.more {
                    number = 1;
                    break;
                }
                number += 1;
            }
        }
        sink.commit(SyncPage {
            stream: LISTS_STREAM.into(),
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
        store_id: u64,
        listed_at: DateTime<Utc>,
        full_at: i64,
    ) -> Result<(), SyncError> {
        let since = listed_at - LOOKBACK;
        let mut context = Context::default();
        for (list, object_type) in LISTS {
            let whole = *object_type == "subscription";
            if whole {
                self.load_context(req, store_id, &mut context).await?;
            }
            let mut number = 1;
            loop {
                let page = self.page(req, list, Some(store_id), number).await?;
                let records = self.records(object_type, page.data, &context);
                // Newest first: once a page reaches before `since`, the rest is older.
                let reached_old = !whole
                    && records.iter().any(|r| {
                        time_attr(r, "created_at").is_some_and(|created| created < since)
                    });
                sink.commit(SyncPage {
                    stream: LISTS_STREAM.into(),
                    records,
                    cursor: None,
                    clear: vec![],
                })
                .await?;
                if !page.more || reached_old {
                    break;
                }
                number += 1;
            }
        }
        sink.commit(SyncPage {
            stream: LISTS_STREAM.into(),
            records: vec![],
            cursor: Some(json!({ "listed_at": req.now.timestamp(), "full_at": full_at })),
            clear: vec![],
        })
        .await?;
        Ok(())
    }
}

#[async_trait]
impl Pull for LemonSqueezyProvider {
    /// 2: MRR events name their customer (for the MRR movements), ARR, and no MRR
    /// during a free trial.
    fn sync_version(&self) -> i32 {
        2
    }

    async fn sync(
        &self,
        req: &SyncRequest<'_>,
        sink: &mut dyn SyncSink,
    ) -> Result<SyncKind, SyncError> {
        let store_id =
            parse_store_id(req.account_id).map_err(|e| OAuthError::Rejected(e.to_string()))?;
        let lists = req.cursors.get(LISTS_STREAM);
        let at = |name: &str| {
            lists
                .and_then(|c| c.get(name))
                .and_then(Value::as_i64)
                .and_then(|secs| DateTime::from_timestamp(secs, 0))
        };
        let backfill = req.cursors.get(BACKFILL_STREAM).cloned();
        match (at("listed_at"), at("full_at")) {
            (Some(listed_at), Some(full_at))
                if backfill.is_none() && full_at > req.now - FULL_EVERY =>
            {
                self.incremental(req, sink, store_id, listed_at, full_at.timestamp())
                    .await?;
                Ok(SyncKind::Incremental)
            }
            _ => {
                let started = backfill
                    .as_ref()
                    .and_then(|c| c.get("started_at"))
                    .and_then(Value::as_i64)
                    .unwrap_or_else(|| req.now.timestamp());
                self.backfill(req, sink, store_id, backfill.as_ref(), started)
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
    fn records_are_the_resource_dated_by_updated_at() {
        let item = json!({ "type": "orders", "id": "17", "attributes": { "updated_at": "2024-05-01T10:00:00.000000Z" } });
        let record = record("order", item.clone()).unwrap();
        assert_eq!(
            (record.object_type.as_str(), record.external_id.as_str()),
            ("order", "17")
        );
        assert_eq!(record.payload, item);
        assert_eq!(
            record.updated_at.unwrap().to_rfc3339(),
            "2024-05-01T10:00:00+00:00"
        );
        assert!(super::record("order", json!({ "attributes": {} })).is_none());
    }
}

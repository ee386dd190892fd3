//! Pulling Shopify data (DESIGN §6) through the GraphQL Admin API.
//!
//! Four streams — `shopify.products`, `shopify.customers`, `shopify.orders` and
//! `shopify.checkouts` — each page through one connection sorted by `UPDATED_AT`,
//! ascending, with `updated_at:>=` the stream's cursor minus a 10-minute overlap:
//! Shopify's search index trails its writes, so a record can surface with an
//! `updatedAt` just before one already read. Reading the overlap again is harmless:
//! the sink keeps the newest version of a record and derives the same events. A
//! refund, an edit or a cancellation moves an order's `updatedAt`, so old orders that
//! changed come back on their own.
//!
//! A stream's cursor is `{"updated_at": ISO 8601, "id": GID}` of the last node
//! committed (`{"updated_at": null, "id": null}` for a stream that was empty). A
//! stream without a cursor is listed whole, which makes the run a backfill; every
//! page is committed with the cursor it reached, so an interrupted run resumes there.
//!
//! Query cost: every answer reports Shopify's leaky bucket
//! (`extensions.cost.throttleStatus`). Before a query, the puller waits until the
//! bucket holds that query's expected cost (what the stream's last query requested,
//! scaled to the page size), and a `THROTTLED` answer — which comes with HTTP 200 —
//! waits for the deficit and is retried a few times. A wait longer than 30 s ends
//! the sync with `RateLimited` so the job is rescheduled rather than holding a
//! worker asleep. Pages shrink until their cost fits the bucket (`MAX_COST_EXCEEDED`).
//! Server errors, timeouts and HTTP 429 are retried with [`with_backoff`]; a 401
//! means the app was uninstalled or the token revoked: `InvalidGrant`.

use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use url::Url;

use super::{derive::time_of, ShopDomain, ShopifyProvider};
use async_trait::async_trait;

use crate::{
    support::backoff::{with_backoff, RetryPolicy},
    support::error::{next_try, OAuthError},
    sync::{
        Pull, RawRecord, SourceTotal, SyncError, SyncKind, SyncPage, SyncRequest, SyncSink,
    },
    ExposeSecret,
};

/// One synced connection.
struct Stream {
    /// The cursor's name.
    name: &'static str,
    /// `RawRecord::object_type` of its nodes.
    object_type: &'static str,
    /// The root field of the query.
    root: &'static str,
    query: &'static str,
}

/// Synced in this order; products first so the `product` dimension has names early.
const STREAMS: [Stream; 4] = [
    Stream {
        name: "shopify.products",
        object_type: "product",
        root: "products",
        query: PRODUCTS_QUERY,
    },
    Stream {
        name: "shopify.customers",
        object_type: "customer",
        root: "customers",
        query: CUSTOMERS_QUERY,
    },
    Stream {
        name: "shopify.orders",
        object_type: "order",
        root: "orders",
        query: ORDERS_QUERY,
    },
    Stream {
        name: "shopify.checkouts",
        object_type: "checkout",
        root: "abandonedCheckouts",
        query: CHECKOUTS_QUERY,
    },
];

const PRODUCTS_QUERY: &str = r#"query SyncProducts($first: Int!, $after: String, $query: String) {
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    edges { node { id title productType status createdAt updatedAt } }
    pageInfo { hasNextPage endCursor }
  }
}"#;

const CUSTOMERS_QUERY: &str = r#"query SyncCustomers($first: Int!, $after: String, $query: String) {
  customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    edges { node { id createdAt updatedAt numberOfOrders amountSpent { amount currencyCode } } }
    pageInfo { hasNextPage endCursor }
  }
}"#;

/// Line items are a nested connection; an order with more than 100 lines is
/// counted on its first 100 (the sync logs it).
const ORDERS_QUERY: &str = r#"query SyncOrders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    edges {
      node {
        id name createdAt updatedAt processedAt cancelledAt test sourceName currencyCode
        customer { id numberOfOrders }
        customerJourneySummary { customerOrderIndex }
        shippingAddress { countryCodeV2 }
        subtotalPriceSet { shopMoney { amount currencyCode } }
        totalPriceSet { shopMoney { amount currencyCode } }
        totalDiscountsSet { shopMoney { amount currencyCode } }
        totalTaxSet { shopMoney { amount currencyCode } }
        totalShippingPriceSet { shopMoney { amount currencyCode } }
        totalRefundedSet { shopMoney { amount currencyCode } }
        lineItems(first: 100) {
          nodes {
            id title quantity currentQuantity
            product { id }
            originalUnitPriceSet { shopMoney { amount currencyCode } }
            discountedTotalSet { shopMoney { amount currencyCode } }
          }
          pageInfo { hasNextPage }
        }
        refunds {
          id createdAt totalRefundedSet { shopMoney { amount currencyCode } }
          refundLineItems(first: 100) {
            nodes {
              quantity lineItem { id }
              subtotalSet { shopMoney { amount currencyCode } }
              totalTaxSet { shopMoney { amount currencyCode } }
            }
          }
          refundShippingLines(first: 10) {
            nodes {
              subtotalAmountSet { shopMoney { amount currencyCode } }
              taxAmountSet { shopMoney { amount currencyCode } }
            }
          }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}"#;

const CHECKOUTS_QUERY: &str = r#"query SyncCheckouts($first: Int!, $after: String, $query: String) {
  abandonedCheckouts(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    edges {
      node {
        id createdAt updatedAt completedAt
        totalPriceSet { shopMoney { amount currencyCode } }
        customer { id }
        shippingAddress { countryCodeV2 }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}"#;

/// Re-read this much before a stream's cursor.
const OVERLAP: chrono::Duration = chrono::Duration::minutes(10);
/// Nodes per page, before the bucket's maximum shrinks it.
const PAGE_SIZE: u32 = 100;
/// The longest wait for the bucket; beyond it the job is rescheduled.
const MAX_WAIT: Duration = Duration::from_secs(30);
/// `THROTTLED` answers in a row before giving up (someone else drains the bucket).
const MAX_THROTTLED: u32 = 5;
/// Added to computed waits: `currentlyAvailable` is rounded down and clocks drift.
const WAIT_MARGIN: Duration = Duration::from_millis(50);

/// Where a stream stands: the last `(updatedAt, id)` committed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    updated_at: DateTime<Utc>,
    id: String,
}

impl Cursor {
    fn parse(value: &Value) -> Option<Self> {
        Some(Self {
            updated_at: time_of(value, "/updated_at")?,
            id: value.get("id")?.as_str()?.to_owned(),
        })
    }

    fn of_node(node: &Value) -> Option<Self> {
        Some(Self {
            updated_at: time_of(node, "/updatedAt")?,
            id: node.get("id")?.as_str()?.to_owned(),
        })
    }

    fn json(&self) -> Value {
        json!({ "updated_at": iso(self.updated_at), "id": self.id })
    }
}

fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A stream's stored state.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Position {
    /// Never synced: list everything.
    New,
    /// Synced and empty (or an unreadable cursor): list everything, it is cheap.
    Empty,
    At(Cursor),
}

impl Position {
    fn of(stored: Option<&Value>) -> Self {
        match stored {
            None => Self::New,
            Some(value) => Cursor::parse(value).map_or(Self::Empty, Self::At),
        }
    }
}

/// Shopify's leaky bucket as last reported.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    maximum: f64,
    available: f64,
    /// Points per second.
    restore: f64,
    seen: Instant,
}

impl Bucket {
    fn reported(body: &Value) -> Option<Self> {
        let status = body.pointer("/extensions/cost/throttleStatus")?;
        let number = |name: &str| status.get(name).and_then(Value::as_f64);
        Some(Self {
            maximum: number("maximumAvailable")?,
            available: number("currentlyAvailable")?,
            restore: number("restoreRate")?,
            seen: Instant::now(),
        })
    }

    /// How long until the bucket holds `cost`; `None` when it never will.
    fn wait_for(&self, cost: f64) -> Option<Duration> {
        let now = self.available + self.seen.elapsed().as_secs_f64() * self.restore;
        let deficit = cost - now.min(self.maximum);
        if deficit <= 0.0 {
            Some(Duration::ZERO)
        } else if self.restore > 0.0 && cost <= self.maximum {
            Duration::try_from_secs_f64(deficit / self.restore)
                .ok()
                .map(|wait| wait + WAIT_MARGIN)
        } else {
            None
        }
    }
}

/// A stream's page size and what its nodes cost, learnt from the answers.
#[derive(Debug, Clone, Copy)]
struct Sizing {
    first: u32,
    /// Requested cost per node of the last query (overheads included, so a slight
    /// overestimate).
    per_node: Option<f64>,
}

impl Sizing {
    fn new() -> Self {
        Self {
            first: PAGE_SIZE,
            per_node: None,
        }
    }

    /// The page size whose expected cost fits a bucket of `maximum`.
    fn size(&self, maximum: Option<f64>) -> u32 {
        match (self.per_node, maximum) {
            (Some(per_node), Some(maximum)) if per_node > 0.0 => {
                let fits = (maximum / per_node).floor().max(1.0) as u32;
                self.first.min(fits)
            }
            _ => self.first,
        }
    }

    fn cost(&self, first: u32) -> Option<f64> {
        self.per_node.map(|per_node| per_node * f64::from(first))
    }

    fn learn(&mut self, first: u32, requested: f64) {
        if first > 0 {
            self.per_node = Some(requested / f64::from(first));
        }
    }
}

/// One page of a connection.
struct Page {
    nodes: Vec<Value>,
    has_next: bool,
    end_cursor: Option<String>,
}

impl Page {
    fn parse(connection: Option<&Value>) -> Result<Self, OAuthError> {
        let connection = connection.filter(|c| c.is_object()).ok_or_else(|| {
            OAuthError::Rejected("unexpected response shape from Shopify's GraphQL API".into())
        })?;
        let nodes = match (connection.get("edges"), connection.get("nodes")) {
            (Some(Value::Array(edges)), _) => edges
                .iter()
                .filter_map(|edge| edge.get("node").cloned())
                .collect(),
            (_, Some(Value::Array(nodes))) => nodes.clone(),
            _ => Vec::new(),
        };
        let info = connection.get("pageInfo");
        Ok(Self {
            nodes,
            has_next: info
                .and_then(|i| i.get("hasNextPage"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
            end_cursor: info
                .and_then(|i| i.get("endCursor"))
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }
}

/// The code and message of the first GraphQL error of an answer, if it has errors.
fn first_error(body: &Value) -> Option<(Option<&str>, String)> {
    let errors = body.get("errors")?;
    let list = errors.as_array()?;
    let first = list.first()?;
    let code = list
        .iter()
        .find_map(|e| e.pointer("/extensions/code").and_then(Value::as_str))
        .or_else(|| first.pointer("/extensions/code").and_then(Value::as_str));
    let message = list
        .iter()
        .filter_map(|e| e.get("message").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("; ");
    Some((code, message))
}

fn rate_limited(wait: Option<Duration>) -> OAuthError {
    let when = wait.map_or_else(
        || "next try when Shopify allows".to_owned(),
        |wait| format!("next try {}", next_try(chrono::Utc::now(), wait)),
    );
    OAuthError::RateLimited {
        retry_after: wait,
        reason: Some(format!("Shopify throttled the Admin API (the shop's query cost bucket is empty); {when}")),
    }
}

/// The state of one sync run against one shop.
struct Puller<'a, 'r> {
    provider: &'a ShopifyProvider,
    req: &'a SyncRequest<'r>,
    url: Url,
    bucket: Option<Bucket>,
    retry: RetryPolicy,
}

#[async_trait]
impl Pull for ShopifyProvider {
    /// 2: refunds' line items and shipping lines, and the customer journey (the
    /// sales report's definitions and returning customers).
    fn sync_version(&self) -> i32 {
        2
    }

    async fn sync(
        &self,
        req: &SyncRequest<'_>,
        sink: &mut dyn SyncSink,
    ) -> Result<SyncKind, SyncError> {
        let shop = ShopDomain::parse(req.account_id).map_err(|_| {
            OAuthError::Rejected(format!("{} is not a shop domain", req.account_id))
        })?;
        let mut puller = Puller {
            provider: self,
            req,
            url: self.graphql_url(&shop)?,
            bucket: None,
            retry: RetryPolicy {
                max_attempts: 5,
                ..RetryPolicy::default()
            },
        };
        let mut kind = SyncKind::Incremental;
        for stream in &STREAMS {
            let position = Position::of(req.cursors.get(stream.name));
            if position == Position::New {
                kind = SyncKind::Backfill;
            }
            puller.stream(stream, position, sink).await?;
        }
        Ok(kind)
    }

    /// `orders` and `gross_sales` over `[from, to)` from Shopify's own listing of the
    /// orders processed then (`processed_at` bounds, a path the sync never takes:
    /// it reads by `updated_at`), each order booked as `derive.rs` books it on its
    /// processing date. An order the sync missed or holds in another version shows
    /// as a difference naming it (`order/{gid}`).
    async fn source_totals(
        &self,
        req: &SyncRequest<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Option<Vec<SourceTotal>>, SyncError> {
        let shop = ShopDomain::parse(req.account_id).map_err(|_| {
            OAuthError::Rejected(format!("{} is not a shop domain", req.account_id))
        })?;
        let mut puller = Puller {
            provider: self,
            req,
            url: self.graphql_url(&shop)?,
            bucket: None,
            retry: RetryPolicy {
                max_attempts: 5,
                ..RetryPolicy::default()
            },
        };
        let orders = STREAMS
            .iter()
            .find(|s| s.object_type == "order")
            .expect("the orders stream");
        let search = format!(
            "processed_at:>='{}' processed_at:<'{}'",
            iso(from),
            iso(to)
        );
        let mut totals = [("orders", SourceTotal::new("orders")), ("gross_sales", SourceTotal::new("gross_sales"))];
        let mut sizing = Sizing::new();
        let mut after: Option<String> = None;
        loop {
            let page = puller
                .page(orders, Some(&search), after.as_deref(), &mut sizing)
                .await?;
            for node in &page.nodes {
                let Some(id) = node.get("id").and_then(Value::as_str) else {
                    continue;
                };
                let record = format!("order/{id}");
                for event in super::derive::events(&RawRecord {
                    object_type: "order".into(),
                    external_id: id.to_owned(),
                    updated_at: None,
                    payload: node.clone(),
                }) {
                    if event.at < from || event.at >= to {
                        continue;
                    }
                    if let Some((_, total)) = totals.iter_mut().find(|(m, _)| *m == event.metric) {
                        total.value += event.value;
                        total.records.push((record.clone(), event.value));
                    }
                }
            }
            match (page.has_next, page.end_cursor) {
                (true, Some(end)) => after = Some(end),
                _ => break,
            }
        }
        Ok(Some(totals.into_iter().map(|(_, t)| t).collect()))
    }
}

impl Puller<'_, '_> {
    /// Pages through one stream from its position, committing every page.
    async fn stream(
        &mut self,
        stream: &Stream,
        position: Position,
        sink: &mut dyn SyncSink,
    ) -> Result<(), SyncError> {
        let mut reached = match &position {
            Position::At(cursor) => Some(cursor.clone()),
            Position::New | Position::Empty => None,
        };
        let search = reached
            .as_ref()
            .map(|c| format!("updated_at:>='{}'", iso(c.updated_at - OVERLAP)));
        let mut sizing = Sizing::new();
        let mut after: Option<String> = None;
        let mut committed = false;
        loop {
            let page = self
                .page(stream, search.as_deref(), after.as_deref(), &mut sizing)
                .await?;
            let records: Vec<RawRecord> = page
                .nodes
                .iter()
                .filter_map(|node| {
                    if node.pointer("/lineItems/pageInfo/hasNextPage") == Some(&json!(true)) {
                        tracing::warn!(
                            order = node.get("id").and_then(|id| id.as_str()),
                            "a Shopify order has more than 100 line items; only the first 100 are counted"
                        );
                    }
                    Some(RawRecord {
                        object_type: stream.object_type.to_owned(),
                        external_id: node.get("id")?.as_str()?.to_owned(),
                        updated_at: time_of(node, "/updatedAt"),
                        payload: node.clone(),
                    })
                })
                .collect();
            // The overlap re-reads nodes from before the cursor: never move it back.
            if let Some(last) = page.nodes.iter().rev().find_map(Cursor::of_node) {
                if reached
                    .as_ref()
                    .is_none_or(|r| last.updated_at >= r.updated_at)
                {
                    reached = Some(last);
                }
            }
            if !records.is_empty() {
                sink.commit(SyncPage {
                    stream: stream.name.into(),
                    records,
                    cursor: reached.as_ref().map(Cursor::json),
                    clear: vec![],
                })
                .await?;
                committed = true;
            }
            match (page.has_next, page.end_cursor) {
                (true, Some(end)) => after = Some(end),
                _ => break,
            }
        }
        if !committed && position == Position::New {
            // Remember that the stream was listed, so the next run is incremental.
            sink.commit(SyncPage {
                stream: stream.name.into(),
                records: vec![],
                cursor: Some(json!({ "updated_at": null, "id": null })),
                clear: vec![],
            })
            .await?;
        }
        Ok(())
    }

    /// One page of a stream, waiting for the bucket as needed.
    async fn page(
        &mut self,
        stream: &Stream,
        search: Option<&str>,
        after: Option<&str>,
        sizing: &mut Sizing,
    ) -> Result<Page, OAuthError> {
        let mut throttled = 0;
        loop {
            let first = sizing.size(self.bucket.map(|b| b.maximum));
            if let (Some(bucket), Some(cost)) = (self.bucket, sizing.cost(first)) {
                self.wait(bucket.wait_for(cost)).await?;
            }
            let variables = json!({ "first": first, "after": after, "query": search });
            let body = with_backoff(&self.retry, || self.post(stream.query, &variables)).await?;
            if let Some(bucket) = Bucket::reported(&body) {
                self.bucket = Some(bucket);
            }
            let requested = body
                .pointer("/extensions/cost/requestedQueryCost")
                .and_then(Value::as_f64);
            let Some((code, message)) = first_error(&body) else {
                if let Some(requested) = requested {
                    sizing.learn(first, requested);
                }
                return Page::parse(body.pointer(&format!("/data/{}", stream.root)));
            };
            match code {
                Some("THROTTLED") => {
                    throttled += 1;
                    let wait = match (self.bucket, requested) {
                        (Some(bucket), Some(requested)) => bucket.wait_for(requested),
                        // No cost reported: back off as for any other rate limit.
                        _ => Some(self.retry.ceiling(throttled)),
                    };
                    if throttled > MAX_THROTTLED {
                        return Err(rate_limited(wait));
                    }
                    tracing::debug!(stream = stream.name, ?wait, "Shopify throttled the query");
                    self.wait(wait).await?;
                }
                Some("MAX_COST_EXCEEDED") => {
                    let maximum = self.bucket.map(|b| b.maximum).or_else(|| {
                        body.pointer("/errors/0/extensions/maxCost")
                            .and_then(Value::as_f64)
                    });
                    let (Some(requested), Some(maximum)) = (requested, maximum) else {
                        return Err(OAuthError::Rejected(message));
                    };
                    if first <= 1 {
                        return Err(OAuthError::Rejected(message));
                    }
                    sizing.learn(first, requested);
                    sizing.first = sizing.size(Some(maximum)).min(first - 1);
                }
                // A scope the merchant did not grant: only a new install fixes it.
                Some("ACCESS_DENIED") => return Err(OAuthError::AccessDenied(message)),
                _ => return Err(OAuthError::Rejected(message)),
            }
        }
    }

    /// Sleeps `wait`, or hands the wait back as a rate limit when it is too long.
    async fn wait(&self, wait: Option<Duration>) -> Result<(), OAuthError> {
        match wait {
            Some(wait) if wait <= MAX_WAIT => {
                if !wait.is_zero() {
                    tracing::debug!(?wait, "waiting for Shopify's cost bucket");
                    tokio::time::sleep(wait).await;
                }
                Ok(())
            }
            too_long => Err(rate_limited(too_long)),
        }
    }

    /// One POST of a query with the integration's current token.
    async fn post(&self, query: &str, variables: &Value) -> Result<Value, OAuthError> {
        let token = self.req.tokens.access_token().await?;
        let token = token.expose_secret();
        let http = &self.provider.http;
        let request = http
            .post(self.url.clone())
            .header("X-Shopify-Access-Token", token)
            .json(&json!({ "query": query, "variables": variables }));
        let response = http.send(request).await?;
        match response.status {
            // The app was uninstalled or the token revoked: only a person can fix it.
            StatusCode::UNAUTHORIZED => Err(OAuthError::InvalidGrant(format!(
                "Shopify refused the access token: {}",
                response.message(&[token])
            ))),
            StatusCode::FORBIDDEN => Err(OAuthError::AccessDenied(response.message(&[token]))),
            _ => response.success(&[token])?.json("Shopify's GraphQL API"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_an_empty_stream_is_remembered() {
        let cursor = Cursor {
            updated_at: DateTime::parse_from_rfc3339("2024-03-01T10:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            id: "gid://shopify/Order/1".into(),
        };
        let stored = cursor.json();
        assert_eq!(
            stored,
            json!({ "updated_at": "2024-03-01T10:00:00Z", "id": "gid://shopify/Order/1" })
        );
        assert_eq!(Position::of(Some(&stored)), Position::At(cursor));
        assert_eq!(Position::of(None), Position::New);
        assert_eq!(
            Position::of(Some(&json!({ "updated_at": null, "id": null }))),
            Position::Empty
        );
    }

    #[test]
    fn page_size_shrinks_to_fit_the_bucket() {
        let mut sizing = Sizing::new();
        assert_eq!(sizing.size(Some(50.0)), PAGE_SIZE);
        assert_eq!(sizing.cost(PAGE_SIZE), None);
        sizing.learn(100, 302.0);
        assert_eq!(sizing.size(Some(1000.0)), 100);
        assert_eq!(sizing.size(Some(100.0)), 33);
        assert!(sizing.cost(33).unwrap() <= 100.0);
        assert_eq!(sizing.size(Some(1.0)), 1);
    }

    #[test]
    fn bucket_waits_for_the_deficit() {
        let bucket = Bucket {
            maximum: 1000.0,
            available: 100.0,
            restore: 50.0,
            seen: Instant::now(),
        };
        assert_eq!(bucket.wait_for(50.0), Some(Duration::ZERO));
        let wait = bucket.wait_for(302.0).unwrap();
        assert!(
            wait <= Duration::from_millis(4040 + 50) && wait >= Duration::from_millis(3900),
            "{wait:?}"
        );
        assert_eq!(bucket.wait_for(1001.0), None);
        let stuck = Bucket {
            restore: 0.0,
            ..bucket
        };
        assert_eq!(stuck.wait_for(302.0), None);
    }

    #[test]
    fn graphql_errors_are_read_with_their_code() {
        let body = json!({ "errors": [{ "message": "Throttled", "extensions": { "code": "THROTTLED" } }] });
        assert_eq!(
            first_error(&body),
            Some((Some("THROTTLED"), "Throttled".to_owned()))
        );
        assert_eq!(first_error(&json!({ "data": {} })), None);
    }
}

//! The Shopify syncer and its metric events against the simulator: what lands in
//! a sink that behaves like the server's must add up to what the simulator's
//! ledger says, day by day, through backfills, incremental runs, refunds, edits,
//! replays, a drained cost bucket and provider failures.

#[path = "providers/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use pulseboard_connectors::{
    verify_shopify_callback, AuthorizeRequest, CodeExchange, ExposeSecret, MetricEvent, OAuthError,
    Provider, ProvidersConfig, RawRecord, SecretString, ShopDomain, ShopifyProvider, SinkError,
    SyncError, SyncKind, SyncPage, SyncRequest, SyncSink, TokenSource, SHOPIFY_CALLBACK_TOLERANCE,
};
use pulseboard_simulator::{
    defaults, endpoints, gid, shopify_cost, DataConfig, ShopifyLedger, SimulatorConfig,
    ThrottleConfig,
};
use serde_json::{json, Value};

use crate::helpers::{follow_authorize, providers_config, query_pairs, redirect_uri, TestEnv};

const SHOP: &str = "acme-store.myshopify.com";
/// 2025-10-01T00:00:00Z: a pinned data clock keeps the generated shop the same
/// from run to run (and clear of Black Friday's volume).
const DATA_END: i64 = 1_759_276_800;
const STREAMS: [&str; 4] = [
    "shopify.products",
    "shopify.customers",
    "shopify.orders",
    "shopify.checkouts",
];

fn shop() -> ShopDomain {
    ShopDomain::parse(SHOP).unwrap()
}

/// A shop with `history_days` of data and a bucket that never gets in the way
/// unless `bucket` says otherwise.
fn sim_config(history_days: u32, bucket: Option<ThrottleConfig>) -> SimulatorConfig {
    SimulatorConfig {
        data: DataConfig {
            history_days,
            end: DATA_END,
            ..DataConfig::default()
        },
        shopify_bucket: bucket.unwrap_or(ThrottleConfig {
            maximum_available: 1_000_000.0,
            restore_rate: 1_000_000.0,
        }),
        ..SimulatorConfig::default()
    }
}

struct Env {
    env: TestEnv,
    provider: Arc<dyn Provider>,
    config: ProvidersConfig,
    tokens: CountingTokens,
}

/// Starts the simulator, installs the app on the shop through the OAuth flow and
/// generates the shop's data.
async fn spawn(config: SimulatorConfig) -> Env {
    let env = helpers::spawn_with(config).await;
    let mut config = providers_config(&env.sim);
    // The first query of a shop may wait for its data to be generated.
    config.http.timeout = Duration::from_secs(10);
    let provider: Arc<dyn Provider> =
        Arc::new(ShopifyProvider::new(&helpers::shopify_config(&config), &config.http).unwrap());
    let url = provider
        .authorize_url(&AuthorizeRequest {
            state: "state-1".into(),
            redirect_uri: redirect_uri("shopify"),
            pkce_challenge: None,
            account: Some(shop().into()),
        })
        .unwrap();
    let callback = verify_shopify_callback(
        &query_pairs(&follow_authorize(&url).await),
        defaults::SHOPIFY_API_SECRET,
        Utc::now(),
        SHOPIFY_CALLBACK_TOLERANCE,
    )
    .unwrap();
    let connected = provider
        .exchange_code(&CodeExchange {
            code: callback.code,
            redirect_uri: redirect_uri("shopify"),
            pkce_verifier: None,
            account: Some(shop().into()),
        })
        .await
        .unwrap();
    assert!(connected
        .tokens
        .scope
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .any(|s| s == "read_all_orders"));
    env.sim.shopify_ledger(SHOP);
    env.sim.reset_calls();
    Env {
        env,
        provider,
        config,
        tokens: CountingTokens::new(connected.tokens.access_token),
    }
}

/// Hands out one token and counts how often it was asked for.
#[derive(Clone)]
struct CountingTokens {
    token: SecretString,
    calls: Arc<AtomicUsize>,
}

impl CountingTokens {
    fn new(token: SecretString) -> Self {
        Self {
            token,
            calls: Arc::default(),
        }
    }
}

#[async_trait]
impl TokenSource for CountingTokens {
    async fn access_token(&self) -> Result<SecretString, OAuthError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(self.token.clone())
    }
}

/// What one commit carried.
#[derive(Debug, Clone)]
struct Committed {
    stream: String,
    records: Vec<(String, String)>,
    cursor: Option<Value>,
}

/// An in-memory `SyncSink` that does what the server's does: upserts records by
/// (object type, external id) unless the stored version is newer, replaces the
/// events of every record written and saves the page's cursor, all at once.
struct MemorySink {
    provider: Arc<dyn Provider>,
    records: HashMap<(String, String), RawRecord>,
    events: HashMap<(String, String), Vec<MetricEvent>>,
    cursors: HashMap<String, Value>,
    log: Vec<Committed>,
    /// Commits accepted before the sink starts refusing (a lost lease).
    accept: Option<usize>,
}

impl MemorySink {
    fn new(provider: Arc<dyn Provider>) -> Self {
        Self {
            provider,
            records: HashMap::new(),
            events: HashMap::new(),
            cursors: HashMap::new(),
            log: Vec::new(),
            accept: None,
        }
    }

    /// Sums per metric and UTC day.
    fn daily(&self) -> Totals {
        let mut totals = Totals::default();
        for event in self.events.values().flatten() {
            totals.add(event.metric, event.at, event.value);
        }
        totals.without_zeros()
    }

    fn all_events(&self) -> impl Iterator<Item = &MetricEvent> {
        self.events.values().flatten()
    }

    /// Records committed since log entry `from`, by object type.
    fn committed_since(&self, from: usize, object_type: &str) -> Vec<String> {
        self.log[from..]
            .iter()
            .flat_map(|page| page.records.iter())
            .filter(|(t, _)| t == object_type)
            .map(|(_, id)| id.clone())
            .collect()
    }
}

#[async_trait]
impl SyncSink for MemorySink {
    async fn commit(&mut self, page: SyncPage) -> Result<(), SinkError> {
        if self.accept.is_some_and(|n| self.log.len() >= n) {
            return Err(SinkError::LeaseLost);
        }
        self.log.push(Committed {
            stream: page.stream.clone(),
            records: page
                .records
                .iter()
                .map(|r| (r.object_type.clone(), r.external_id.clone()))
                .collect(),
            cursor: page.cursor.clone(),
        });
        for record in page.records {
            let key = (record.object_type.clone(), record.external_id.clone());
            let newer_stored = self.records.get(&key).is_some_and(|stored| {
                matches!((stored.updated_at, record.updated_at), (Some(s), Some(r)) if s > r)
            });
            if newer_stored {
                continue;
            }
            self.events
                .insert(key.clone(), self.provider.derive_events(&record));
            self.records.insert(key, record);
        }
        if let Some(cursor) = page.cursor {
            self.cursors.insert(page.stream, cursor);
        }
        for stream in page.clear {
            self.cursors.remove(&stream);
        }
        Ok(())
    }
}

/// Metric totals per UTC day.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Totals(BTreeMap<(String, NaiveDate), i64>);

impl Totals {
    fn add(&mut self, metric: &str, at: DateTime<Utc>, value: i64) {
        *self
            .0
            .entry((metric.to_owned(), at.date_naive()))
            .or_default() += value;
    }

    fn add_unix(&mut self, metric: &str, at: i64, value: i64) {
        self.add(metric, DateTime::from_timestamp(at, 0).unwrap(), value);
    }

    fn without_zeros(mut self) -> Self {
        self.0.retain(|_, v| *v != 0);
        self
    }

    fn total(&self, metric: &str) -> i64 {
        self.0
            .iter()
            .filter(|((m, _), _)| m == metric)
            .map(|(_, v)| v)
            .sum()
    }
}

/// The metrics as the ledger has them, by the rules `shopify/derive.rs` documents,
/// computed from the ledger's integers rather than from the API's JSON.
fn expected(ledger: &ShopifyLedger) -> Totals {
    let mut totals = Totals::default();
    for order in &ledger.orders {
        if order.test || order.cancelled_at.is_some() {
            continue;
        }
        // Shopify's sales report: sales on the order's day, what each refund gives
        // back (merchandise, shipping, tax) on the refund's day.
        let placed = order.processed_at;
        totals.add_unix("orders", placed, 1);
        for line in &order.lines {
            let quantity = i64::from(line.quantity);
            let gross = line.unit_price * quantity;
            totals.add_unix("gross_sales", placed, gross);
            totals.add_unix("discounts", placed, gross - line.discounted_total);
            totals.add_unix("units_sold", placed, quantity);
            totals.add_unix("net_sales", placed, line.discounted_total);
            totals.add_unix("total_sales", placed, line.discounted_total);
        }
        if let Some(index) = order.customer_order_index {
            let (count, sales) = if index > 1 {
                ("returning_customer_orders", "returning_customer_sales")
            } else {
                ("first_orders", "new_customer_sales")
            };
            totals.add_unix(count, placed, 1);
            let net: i64 = order.lines.iter().map(|l| l.discounted_total).sum();
            totals.add_unix(sales, placed, net);
        }
        totals.add_unix("shipping", placed, order.total_shipping);
        totals.add_unix("taxes", placed, order.total_tax);
        totals.add_unix(
            "total_sales",
            placed,
            order.total_shipping + order.total_tax,
        );
        for refund in &order.refunds {
            totals.add_unix("refunds", refund.created_at, refund.amount);
            totals.add_unix("returns", refund.created_at, refund.returns);
            totals.add_unix("net_sales", refund.created_at, -refund.returns);
            totals.add_unix("shipping", refund.created_at, -refund.shipping);
            totals.add_unix("taxes", refund.created_at, -refund.tax);
            totals.add_unix(
                "total_sales",
                refund.created_at,
                -(refund.returns + refund.shipping + refund.tax),
            );
        }
    }
    for customer in &ledger.customers {
        if customer.number_of_orders >= 1 {
            totals.add_unix("new_customers", customer.created_at, 1);
        }
        if customer.number_of_orders >= 2 {
            totals.add_unix("returning_customers", customer.created_at, 1);
        }
    }
    for checkout in &ledger.checkouts {
        if checkout.completed_at.is_none() {
            totals.add_unix("abandoned_checkouts", checkout.created_at, 1);
        }
    }
    totals.without_zeros()
}

/// Every catalog metric with events of its own.
const METRICS: [&str; 17] = [
    "first_orders",
    "returning_customer_orders",
    "new_customer_sales",
    "returning_customer_sales",
    "gross_sales",
    "discounts",
    "returns",
    "net_sales",
    "shipping",
    "taxes",
    "total_sales",
    "orders",
    "units_sold",
    "refunds",
    "new_customers",
    "returning_customers",
    "abandoned_checkouts",
];

/// The sink's totals equal the ledger's over the whole history and on every day.
fn assert_matches_ledger(sink: &MemorySink, ledger: &ShopifyLedger) {
    let expected = expected(ledger);
    let actual = sink.daily();
    for metric in METRICS {
        assert_eq!(
            actual.total(metric),
            expected.total(metric),
            "{metric} over the whole history"
        );
    }
    let diff: Vec<_> = expected
        .0
        .iter()
        .filter(|(key, value)| actual.0.get(*key) != Some(*value))
        .map(|(key, value)| (key.clone(), *value, actual.0.get(key).copied()))
        .chain(
            actual
                .0
                .iter()
                .filter(|(key, _)| !expected.0.contains_key(*key))
                .map(|(key, value)| (key.clone(), 0, Some(*value))),
        )
        .take(10)
        .collect();
    assert!(
        diff.is_empty(),
        "days that differ (expected, actual): {diff:?}"
    );
    assert!(!sink.all_events().any(|e| e.metric == "aov"));
    // Money and order-level events carry the shop's currency for the server's filter.
    for event in sink.all_events() {
        if !["new_customers", "returning_customers"].contains(&event.metric) {
            assert_eq!(
                event.dimensions.get("currency"),
                Some(&ledger.currency),
                "{event:?}"
            );
        }
    }
}

impl Env {
    async fn sync(&self, sink: &mut MemorySink) -> Result<SyncKind, SyncError> {
        let cursors = sink.cursors.clone();
        self.sync_from(sink, &cursors).await
    }

    async fn sync_from(
        &self,
        sink: &mut MemorySink,
        cursors: &HashMap<String, Value>,
    ) -> Result<SyncKind, SyncError> {
        let req = SyncRequest {
            tokens: &self.tokens,
            account_id: SHOP,
            cursors,
            options: &Default::default(),
            now: Utc::now(),
        };
        self.provider.sync(&req, sink).await
    }

    fn sink(&self) -> MemorySink {
        MemorySink::new(self.provider.clone())
    }

    fn ledger(&self) -> ShopifyLedger {
        self.env.sim.shopify_ledger(SHOP)
    }

    /// Spends `2 + 3 × orders` points of the shop's bucket with a query of its own.
    async fn drain(&self, orders: u32) {
        let shopify =
            ShopifyProvider::new(&helpers::shopify_config(&self.config), &self.config.http)
                .unwrap();
        shopify
            .graphql(
                &shop(),
                self.tokens.token.expose_secret(),
                "query Drain($first: Int!) { orders(first: $first) { edges { node { id } } } }",
                json!({ "first": orders }),
            )
            .await
            .expect("the drain query is served");
    }
}

#[tokio::test]
async fn backfill_then_incremental_matches_the_ledger() {
    let env = spawn(sim_config(60, None)).await;
    let mut sink = env.sink();

    let kind = env.sync(&mut sink).await.unwrap();

    assert_eq!(kind, SyncKind::Backfill);
    let ledger = env.ledger();
    assert_matches_ledger(&sink, &ledger);
    for metric in METRICS {
        assert!(
            expected(&ledger).total(metric) > 0,
            "{metric}: the ledger has none"
        );
    }
    // The history has what the rules single out.
    assert!(ledger.orders.iter().any(|o| o.test));
    assert!(ledger.orders.iter().any(|o| o.cancelled_at.is_some()));
    assert!(ledger.orders.iter().any(|o| !o.edits.is_empty()));
    assert!(ledger.checkouts.iter().any(|c| c.completed_at.is_some()));
    assert_eq!(
        sink.records.len(),
        ledger.orders.len()
            + ledger.customers.len()
            + ledger.products.len()
            + ledger.checkouts.len()
    );
    // One commit per page, each at most a page long, each advancing its stream to
    // its last node.
    for page in &sink.log {
        assert!((1..=100).contains(&page.records.len()), "{page:?}");
        let (_, last) = page.records.last().unwrap();
        assert_eq!(page.cursor.as_ref().unwrap()["id"], json!(last));
    }
    let newest = ledger
        .orders
        .iter()
        .max_by_key(|o| (o.updated_at, o.id))
        .unwrap();
    assert_eq!(
        sink.cursors["shopify.orders"],
        json!({
            "updated_at": DateTime::from_timestamp(newest.updated_at, 0).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "id": gid("Order", newest.id),
        })
    );
    for stream in STREAMS {
        assert!(sink.cursors.contains_key(stream), "{stream}");
    }
    // Gross sales break down by product.
    let mut by_product = BTreeMap::<String, i64>::new();
    for event in sink.all_events().filter(|e| e.metric == "gross_sales") {
        *by_product
            .entry(event.dimensions["product"].clone())
            .or_default() += event.value;
    }
    let mut expected_by_product = BTreeMap::<String, i64>::new();
    for order in ledger
        .orders
        .iter()
        .filter(|o| !o.test && o.cancelled_at.is_none())
    {
        for line in &order.lines {
            *expected_by_product
                .entry(gid("Product", line.product))
                .or_default() += line.unit_price * i64::from(line.quantity);
        }
    }
    assert_eq!(by_product, expected_by_product);
    // Every request asked for the token again (it may be refreshed mid-sync).
    assert_eq!(
        env.tokens.calls.load(Ordering::SeqCst),
        env.env.sim.calls(endpoints::SHOPIFY_GRAPHQL)
    );

    // Nothing changed: the next run is incremental and reads only its overlap.
    let before = sink.daily();
    let from = sink.log.len();
    let kind = env.sync(&mut sink).await.unwrap();

    assert_eq!(kind, SyncKind::Incremental);
    let overlap = ledger
        .orders
        .iter()
        .filter(|o| o.updated_at >= newest.updated_at - 600)
        .count();
    assert_eq!(sink.committed_since(from, "order").len(), overlap);
    assert!(overlap < 10, "{overlap} orders in the overlap");
    assert_eq!(sink.daily(), before);
}

#[tokio::test]
async fn refunds_edits_and_new_orders_are_picked_up_incrementally() {
    let env = spawn(sim_config(60, None)).await;
    let mut sink = env.sink();
    env.sync(&mut sink).await.unwrap();
    let ledger = env.ledger();
    // Two ordinary orders from the middle of the history.
    let mut open = ledger
        .orders
        .iter()
        .filter(|o| !o.test && o.cancelled_at.is_none() && o.refunds.is_empty())
        .skip(ledger.orders.len() / 3);
    let refunded = open.next().unwrap().clone();
    let edited = open.next().unwrap().clone();

    let refund = env
        .env
        .sim
        .refund_shopify_order(SHOP, refunded.id, refunded.total_price / 2)
        .unwrap();
    let edit = env.env.sim.edit_shopify_order(SHOP, edited.id).unwrap();
    let from = sink.log.len();
    let kind = env.sync(&mut sink).await.unwrap();

    assert_eq!(kind, SyncKind::Incremental);
    let orders = sink.committed_since(from, "order");
    assert!(orders.contains(&gid("Order", refunded.id)), "{orders:?}");
    assert!(orders.contains(&gid("Order", edited.id)), "{orders:?}");
    assert!(orders.len() <= 10, "{} orders re-read", orders.len());
    let ledger = env.ledger();
    assert_matches_ledger(&sink, &ledger);
    let refund_day = DateTime::from_timestamp(refund.created_at, 0)
        .unwrap()
        .date_naive();
    assert!(sink.all_events().any(|e| e.metric == "refunds"
        && e.value == refund.amount
        && e.at.date_naive() == refund_day));
    assert_ne!(edit.old_quantity, edit.new_quantity);

    // A day of new orders: new customers, returning ones, more refunds.
    env.env.sim.advance_to(DATA_END + 86_400);
    let from = sink.log.len();
    assert_eq!(env.sync(&mut sink).await.unwrap(), SyncKind::Incremental);

    let ledger = env.ledger();
    let new_orders = ledger
        .orders
        .iter()
        .filter(|o| o.updated_at >= DATA_END - 600)
        .count();
    assert_eq!(sink.committed_since(from, "order").len(), new_orders);
    assert_matches_ledger(&sink, &ledger);
}

#[tokio::test]
async fn replaying_a_run_changes_no_totals() {
    let env = spawn(sim_config(30, None)).await;
    let mut sink = env.sink();
    env.sync(&mut sink).await.unwrap();
    let backfilled = sink.daily();
    let cursors = sink.cursors.clone();

    // The same backfill again (a job retried from scratch), then the same
    // incremental run twice.
    env.sync_from(&mut sink, &HashMap::new()).await.unwrap();
    assert_eq!(sink.daily(), backfilled);
    env.sync_from(&mut sink, &cursors).await.unwrap();
    env.sync_from(&mut sink, &cursors).await.unwrap();

    assert_eq!(sink.daily(), backfilled);
    assert_matches_ledger(&sink, &env.ledger());
}

#[tokio::test]
async fn an_interrupted_backfill_resumes_where_it_stopped() {
    let env = spawn(sim_config(30, None)).await;
    let ledger = env.ledger();
    let total = ledger.orders.len()
        + ledger.customers.len()
        + ledger.products.len()
        + ledger.checkouts.len();
    let mut sink = env.sink();
    sink.accept = Some(15);

    let err = env.sync(&mut sink).await.unwrap_err();

    assert!(
        matches!(err, SyncError::Sink(SinkError::LeaseLost)),
        "{err:?}"
    );
    let before: usize = sink.log.iter().map(|p| p.records.len()).sum();
    sink.accept = None;
    assert_eq!(env.sync(&mut sink).await.unwrap(), SyncKind::Backfill);
    assert_matches_ledger(&sink, &ledger);
    let after: usize = sink.log[15..].iter().map(|p| p.records.len()).sum();
    // Only the overlap before each stored cursor is read twice.
    assert!(
        before + after <= total + 20,
        "{before} + {after} for {total} records"
    );
}

#[tokio::test]
async fn a_drained_bucket_makes_the_sync_wait_and_still_finish() {
    let bucket = ThrottleConfig {
        maximum_available: 150.0,
        restore_rate: 300.0,
    };
    let env = spawn(sim_config(3, Some(bucket))).await;
    let ledger = env.ledger();
    let mut sink = env.sink();
    // Someone else just spent all but one point: the first query is throttled.
    env.drain(49).await;
    let started = Instant::now();

    env.sync(&mut sink).await.unwrap();

    let elapsed = started.elapsed();
    assert_matches_ledger(&sink, &ledger);
    // Pages of orders shrink until a query fits the bucket: 2 + 49 × 3 = 149.
    let order_pages: Vec<_> = sink
        .log
        .iter()
        .filter(|p| p.stream == "shopify.orders")
        .collect();
    assert!(order_pages.iter().all(|p| p.records.len() <= 49));
    assert!(order_pages.len() >= ledger.orders.len() / 49);
    // Besides the drain and one query per page: the throttled query retried and the
    // first orders query, which asked for more than the bucket holds.
    assert!(env.env.sim.calls(endpoints::SHOPIFY_GRAPHQL) >= 1 + sink.log.len() + 2);
    // Everything fetched had to flow through the bucket at its restore rate.
    let spent = ledger.orders.len() as u32 * shopify_cost::ORDER
        + (ledger.customers.len() + ledger.products.len() + ledger.checkouts.len()) as u32
            * shopify_cost::NODE;
    let least = (f64::from(spent) - bucket.maximum_available) / bucket.restore_rate;
    assert!(
        elapsed.as_secs_f64() >= least,
        "finished in {elapsed:?}, the bucket allows no less than {least:.2} s"
    );
}

#[tokio::test]
async fn a_wait_beyond_thirty_seconds_is_handed_back_as_a_rate_limit() {
    let bucket = ThrottleConfig {
        maximum_available: 100.0,
        restore_rate: 1.0,
    };
    let env = spawn(sim_config(3, Some(bucket))).await;
    env.drain(32).await;
    let mut sink = env.sink();
    let started = Instant::now();

    let err = env.sync(&mut sink).await.unwrap_err();

    match err {
        SyncError::Provider(OAuthError::RateLimited {
            retry_after: Some(wait),
            ..
        }) => assert!(wait > Duration::from_secs(30), "{wait:?}"),
        other => panic!("expected a rate limit, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(sink.log.is_empty());
}

#[tokio::test]
async fn server_errors_are_retried() {
    let env = spawn(sim_config(3, None)).await;
    env.env.sim.fail(endpoints::SHOPIFY_GRAPHQL, 2);
    let mut sink = env.sink();

    env.sync(&mut sink).await.unwrap();

    assert_matches_ledger(&sink, &env.ledger());
    // One query per page committed, plus the two that failed.
    assert_eq!(
        env.env.sim.calls(endpoints::SHOPIFY_GRAPHQL),
        sink.log.len() + 2
    );
    assert_eq!(env.tokens.calls.load(Ordering::SeqCst), sink.log.len() + 2);
}

#[tokio::test]
async fn a_revoked_token_asks_for_reconnection() {
    let mut env = spawn(sim_config(3, None)).await;
    env.tokens = CountingTokens::new(SecretString::from("shpat_revoked_token"));
    let mut sink = env.sink();

    let err = env.sync(&mut sink).await.unwrap_err();

    let SyncError::Provider(err) = err else {
        panic!("expected a provider error, got {err:?}");
    };
    assert!(matches!(err, OAuthError::InvalidGrant(_)), "{err:?}");
    assert!(err.needs_reauthorization());
    assert!(!err.to_string().contains("revoked_token"));
    assert!(sink.log.is_empty());
    assert_eq!(env.env.sim.calls(endpoints::SHOPIFY_GRAPHQL), 1);
}

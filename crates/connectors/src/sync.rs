//! What a provider's sync produces and hands to the server: raw records in pages,
//! each with the cursor of its stream, and the metric events derived from a record.
//!
//! The provider pulls; the server's [`SyncSink`] stores each page and its cursor in
//! one transaction, so a crash never moves a cursor past data that was not saved.
//! Events are derived from one raw record at a time ([`Derive::derive_events`]),
//! so a changed record (an edited or refunded order) simply replaces its events, and
//! the whole history can be re-derived from `raw_records`.
//!
//! A provider implements [`Pull`] in its `sync.rs` and [`Derive`] in its
//! `derive.rs`; both are supertraits of [`Provider`](crate::Provider).

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde_json::Value;

use crate::support::error::OAuthError;

/// How a provider pulls its data: implemented in the provider's `sync.rs`.
#[async_trait]
pub trait Pull: Send + Sync {
    /// The version of what this provider fetches and derives. Raise it when that
    /// changes in a way stored data must follow (a new field read, a new metric
    /// derived): the server then starts every integration of the provider's streams
    /// over once, so all their records are read and derived again.
    fn sync_version(&self) -> i32 {
        1
    }

    /// Pulls what changed since the stored cursors and hands it to `sink` page by
    /// page (each page with its stream's new cursor).
    async fn sync(
        &self,
        req: &SyncRequest<'_>,
        sink: &mut dyn SyncSink,
    ) -> Result<SyncKind, SyncError>;

    /// The provider's own totals over `[from, to)` for the metrics it can check
    /// (the drift check, DESIGN §7), read from a summary the provider keeps apart
    /// from the records the sync reads (Stripe's balance transactions), each with
    /// the records behind it. `None` when the provider has no such summary.
    async fn source_totals(
        &self,
        _req: &SyncRequest<'_>,
        _from: DateTime<Utc>,
        _to: DateTime<Utc>,
    ) -> Result<Option<Vec<SourceTotal>>, SyncError> {
        Ok(None)
    }
}

/// One metric's total over a period by the provider's own account of it, and the
/// records that make it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceTotal {
    /// A metric of the provider's catalog (`gross_revenue`).
    pub metric: &'static str,
    /// The sum, in the unit the metric's events use.
    pub value: i64,
    /// Each record's part, by its `metric_events.source_record_id`
    /// (`charge/ch_…`).
    pub records: Vec<(String, i64)>,
}

impl SourceTotal {
    /// Nothing yet for `metric`.
    pub fn new(metric: &'static str) -> Self {
        Self {
            metric,
            value: 0,
            records: Vec::new(),
        }
    }
}

/// A provider's derivation: two pure functions of one raw record. Pure, so
/// re-deriving a stored record gives the same events and a changed record
/// replaces its events.
#[derive(Clone, Copy)]
pub struct Derivation {
    /// The metric events one raw record stands for.
    pub events: fn(&RawRecord) -> Vec<MetricEvent>,
    /// Readable names for dimension values that one raw record gives (a product's
    /// title).
    pub labels: fn(&RawRecord) -> Vec<DimensionLabel>,
}

/// How a provider's raw records become metric events: implemented in the
/// provider's `derive.rs` by naming its two functions.
pub trait Derive: Send + Sync {
    fn derivation(&self) -> Derivation;

    /// The metric events one raw record stands for.
    fn derive_events(&self, record: &RawRecord) -> Vec<MetricEvent> {
        (self.derivation().events)(record)
    }

    /// Readable names for dimension values that one raw record gives.
    fn dimension_labels(&self, record: &RawRecord) -> Vec<DimensionLabel> {
        (self.derivation().labels)(record)
    }

    /// The records one raw record is shown as in a widget (a review, an
    /// experiment; see [`crate::items`]); most providers have none.
    fn items(&self, _record: &RawRecord) -> Vec<crate::items::Item> {
        Vec::new()
    }

    /// The kinds of items [`Derive::items`] gives (`review`), so a widget showing
    /// them can name the provider to connect.
    fn item_kinds(&self) -> &'static [&'static str] {
        &[]
    }
}

/// One provider object as received.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRecord {
    /// `charge`, `invoice`, `order`, …
    pub object_type: String,
    pub external_id: String,
    /// The provider's last-modified time of this version, when it has one; a
    /// version older than the stored one is ignored.
    pub updated_at: Option<DateTime<Utc>>,
    pub payload: Value,
}

/// A page of records and where its stream stands after them.
#[derive(Debug, Clone)]
pub struct SyncPage {
    /// The stream whose cursor this page advances (`stripe.events`, `shopify.orders`).
    pub stream: String,
    pub records: Vec<RawRecord>,
    /// The stream's cursor once this page is stored; `None` leaves it unchanged.
    pub cursor: Option<Value>,
    /// Cursors of other streams to drop in the same commit (a finished backfill).
    pub clear: Vec<String>,
}

/// The server side of a sync: stores pages durably.
#[async_trait]
pub trait SyncSink: Send {
    /// Stores the page's records, derives their events and saves the cursor, all in
    /// one transaction. An error stops the sync where the last commit left it.
    async fn commit(&mut self, page: SyncPage) -> Result<(), SinkError>;

    /// Counts one call against the provider's [`CallBudget`](crate::CallBudget) for
    /// the integration's account, shared with every integration reading it, before
    /// the call is made: `Spent` means go ahead, `Exhausted` that today's calls are
    /// used. Atomic across workers, so two syncs can never both take the last call.
    /// The default (a sink that keeps no budget) refuses.
    async fn spend_call(&mut self) -> Result<Spend, SinkError> {
        Err(SinkError::Storage("this sink keeps no call budget".into()))
    }

    /// Marks today's calls of the account as all used (the provider said so).
    async fn exhaust_calls(&mut self) -> Result<(), SinkError> {
        Err(SinkError::Storage("this sink keeps no call budget".into()))
    }
}

/// The answer of [`SyncSink::spend_call`]: calls used today, this one included when
/// it was granted, out of the budget's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    Spent { used: u32, limit: u32 },
    Exhausted { used: u32, limit: u32 },
}

/// Why the sink refused a page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// Another worker took this job over; this one must stop without writing.
    #[error("the job's lease was lost")]
    LeaseLost,
    /// The organization's plan does not allow more data this month.
    #[error("{0}")]
    PlanLimit(String),
    #[error("storing synced data failed: {0}")]
    Storage(String),
}

/// Hands out a valid access token; the server's implementation refreshes it when it
/// is about to expire, once, however many calls ask.
#[async_trait]
pub trait TokenSource: Send + Sync {
    async fn access_token(&self) -> Result<SecretString, OAuthError>;
}

/// Input of [`Provider::sync`](crate::Provider::sync).
pub struct SyncRequest<'a> {
    pub tokens: &'a dyn TokenSource,
    /// Stripe's `acct_…` or the shop domain.
    pub account_id: &'a str,
    /// Every stream's stored cursor.
    pub cursors: &'a HashMap<String, Value>,
    /// The integration's options, as [`Provider::parse_options`](crate::Provider::parse_options)
    /// normalised them (empty for providers without options).
    pub options: &'a crate::IntegrationOptions,
    pub now: DateTime<Utc>,
}

/// How a sync ended without finishing.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The provider failed, refused or rate-limited us (classified for retries).
    #[error(transparent)]
    Provider(#[from] OAuthError),
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error("the provider does not support syncing")]
    Unsupported,
}

/// What a finished sync did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncKind {
    /// Listed everything (first sync, or the cursor was too old to resume from).
    Backfill,
    /// Pulled only what changed since the cursor.
    Incremental,
}

/// One metric event derived from a record. Values are integers: minor units of the
/// `currency` dimension for money, else counts (negative for decreases of stocks).
/// The dimension of an `mrr` event that names the customer it belongs to. It stays on
/// the stored event (the MRR movements are computed per customer from it) and is
/// left out of the daily rollups, which would otherwise hold a row per customer.
pub const ENTITY: &str = "entity";

/// The MRR movements the server derives, per store-local day and customer, from the
/// `mrr` events that name their customer: their sum over a period is the change in
/// MRR over it. Churn and contraction are negative.
pub mod movements {
    /// All five by kind: the `movement` dimension is `new`, `expansion`,
    /// `contraction`, `churned` or `reactivation` (the names below without `mrr_`).
    pub const ALL: &str = "mrr_movements";
    /// A customer's first MRR.
    pub const NEW: &str = "mrr_new";
    /// MRR of a customer who had some before and then none.
    pub const REACTIVATION: &str = "mrr_reactivation";
    pub const EXPANSION: &str = "mrr_expansion";
    pub const CONTRACTION: &str = "mrr_contraction";
    /// A customer's MRR falling to nothing (negative).
    pub const CHURNED: &str = "mrr_churned";
    /// Customers with MRR: +1 on new and reactivation, −1 on churn.
    pub const PAYING_CUSTOMERS: &str = "paying_customers";
    /// Customers whose MRR fell to nothing.
    pub const CHURNED_CUSTOMERS: &str = "churned_customers";
    /// MRR lost by customers paying before the day: contraction and churn, positive.
    pub const LOST: &str = "lost_mrr";
    /// The net change of customers paying before the day: expansion, contraction and
    /// churn (not new or reactivated customers).
    pub const RETAINED_CHANGE: &str = "retained_mrr_change";
    /// The `source_record_id` object type of the derived events (`mrr_movement/{customer}`).
    pub const RECORD_TYPE: &str = "mrr_movement";
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricEvent {
    pub metric: &'static str,
    pub value: i64,
    pub at: DateTime<Utc>,
    pub dimensions: BTreeMap<&'static str, String>,
}

impl MetricEvent {
    pub fn new(metric: &'static str, value: i64, at: DateTime<Utc>) -> Self {
        Self {
            metric,
            value,
            at,
            dimensions: BTreeMap::new(),
        }
    }

    /// Names the customer whose MRR this event moves ([`ENTITY`]): the server
    /// classifies each customer's daily change into MRR movements.
    pub fn of_customer(self, customer: Option<&str>) -> Self {
        self.with(ENTITY, customer)
    }

    /// Adds a dimension when it has a value.
    pub fn with(mut self, name: &'static str, value: Option<impl Into<String>>) -> Self {
        if let Some(value) = value {
            let value = value.into();
            if !value.is_empty() {
                self.dimensions.insert(name, value);
            }
        }
        self
    }
}

/// A readable name for a dimension's value, such as a product's title for its id, so
/// breakdowns show "Ethiopia Yirgacheffe" rather than `gid://shopify/Product/7`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DimensionLabel {
    pub dimension: &'static str,
    pub value: String,
    pub label: String,
}

impl DimensionLabel {
    /// A label when both the value and a non-blank name are present.
    pub fn of(dimension: &'static str, value: Option<&str>, label: Option<&str>) -> Option<Self> {
        let (value, label) = (value?, label?.trim());
        (!value.is_empty() && !label.is_empty()).then(|| DimensionLabel {
            dimension,
            value: value.to_owned(),
            label: label.to_owned(),
        })
    }
}

/// A unix timestamp field of a JSON object.
pub(crate) fn unix_field(object: &Value, name: &str) -> Option<DateTime<Utc>> {
    object
        .get(name)
        .and_then(Value::as_i64)
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
}

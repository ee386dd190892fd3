//! Source records a widget shows as themselves, not as numbers: a review in the
//! review feed, an experiment with its variants on the experiment card.
//!
//! Metric events carry numbers only; a review's text or an experiment's variants
//! do not fit in them. A provider whose records are such things returns them from
//! [`Derive::items`](crate::Derive::items) in these provider-neutral shapes, so a
//! review from Judge.me and one from another review app look the same to the
//! server and the widgets. Like metric events they are a pure function of one raw
//! record: the server stores them with the record (one row per item id, replaced
//! when the record changes) under the same row-level security.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One item, tagged by kind (`{"kind": "review", …}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Item {
    Review(Review),
    Experiment(Experiment),
}

impl Item {
    /// The kind as stored (`review`, `experiment`).
    pub fn kind(&self) -> &'static str {
        match self {
            Item::Review(_) => "review",
            Item::Experiment(_) => "experiment",
        }
    }

    /// The provider's id of the item, unique within its kind and integration.
    pub fn id(&self) -> &str {
        match self {
            Item::Review(r) => &r.id,
            Item::Experiment(e) => &e.id,
        }
    }

    /// The time a feed orders items by: when the review was written, when the
    /// experiment started (or was created, before it starts).
    pub fn occurred_at(&self) -> DateTime<Utc> {
        match self {
            Item::Review(r) => r.created_at,
            Item::Experiment(e) => e.started_at.unwrap_or(e.created_at),
        }
    }
}

/// A product review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub id: String,
    /// 1 to 5 stars.
    pub rating: u8,
    pub title: Option<String>,
    pub body: String,
    pub reviewer_name: Option<String>,
    pub product_id: Option<String>,
    pub product_title: Option<String>,
    /// A verified buyer wrote it.
    pub verified: bool,
    /// Shown on the store; `false` while it waits for moderation.
    pub published: bool,
    pub created_at: DateTime<Utc>,
    /// VADER compound score of title and body, −1 (negative) to 1 (positive).
    pub sentiment: f64,
    /// Where to open it at the provider.
    pub url: Option<String>,
}

/// An A/B test and the running totals of its variants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    pub id: String,
    pub name: String,
    pub status: ExperimentStatus,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// ISO 4217 code of `revenue_minor`.
    pub currency: String,
    /// The control first, then the treatments in the provider's order.
    pub variants: Vec<Variant>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExperimentStatus {
    Draft,
    Running,
    Paused,
    Ended,
}

/// One arm of an experiment, totals since it started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    pub id: String,
    pub name: String,
    pub is_control: bool,
    pub visitors: u64,
    /// Visitors who ordered (conversions).
    pub orders: u64,
    /// Revenue in minor units of the experiment's currency.
    pub revenue_minor: i64,
}

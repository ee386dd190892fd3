//! GA4's metric catalog: daily report metrics of the property, in the units they are
//! stored in.

use crate::catalog::{
    Aggregation::Sum,
    MetricKind::Flow,
    MetricSpec,
    MetricUnit::{Count, CurrencyMinor},
};

/// Every GA4 metric breaks down by each of these, one at a time (each comes from its
/// own report: see `sync.rs`).
const GA4_DIMS: &[&str] = &["device", "channel", "country", "landing_page"];

/// GA4's metrics.
#[rustfmt::skip]
pub const GA4_METRICS: &[MetricSpec] = &[
    MetricSpec::new("sessions", "Sessions", "Sessions that started on the property (GA4 `sessions`).", Count, Sum, Flow, "traffic", GA4_DIMS),
    MetricSpec::new("users", "Users", "Distinct users of each day (GA4 `totalUsers`). Summed over several days it over-counts people who came back on another day, and a breakdown's parts can add up to more than the day's users (one person on two devices); the difference shows as the (none) group.", Count, Sum, Flow, "traffic", GA4_DIMS),
    MetricSpec::new("new_users", "New users", "Users who visited for the first time (GA4 `newUsers`); a breakdown's parts can add up to more than the total, like users.", Count, Sum, Flow, "traffic", GA4_DIMS),
    MetricSpec::new("page_views", "Page views", "Page and screen views (GA4 `screenPageViews`).", Count, Sum, Flow, "traffic", GA4_DIMS),
    MetricSpec::new("engaged_sessions", "Engaged sessions", "Sessions that lasted 10 seconds or more, had a key event or two page views (GA4 `engagedSessions`).", Count, Sum, Flow, "traffic", GA4_DIMS),
    MetricSpec::new("key_events", "Key events", "Events marked as key events, formerly conversions (GA4 `keyEvents`).", Count, Sum, Flow, "traffic", GA4_DIMS),
    MetricSpec::new("add_to_carts", "Add-to-carts", "Times users added items to their carts (GA4 `addToCarts`).", Count, Sum, Flow, "ecommerce", GA4_DIMS),
    MetricSpec::new("checkouts", "Checkouts", "Times users started a checkout (GA4 `checkouts`).", Count, Sum, Flow, "ecommerce", GA4_DIMS),
    MetricSpec::new("purchases", "Purchases", "Purchases GA4 recorded (`ecommercePurchases`); the shop's own order count is the reference.", Count, Sum, Flow, "ecommerce", GA4_DIMS),
    MetricSpec::new("purchase_revenue", "Purchase revenue", "Revenue of the purchases GA4 recorded (`purchaseRevenue`), in the property's currency.", CurrencyMinor, Sum, Flow, "ecommerce", GA4_DIMS),
];

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
    MetricSpec::new("sessions", "Sessions", "Sessions that started on the property (GA4 `sessions`).", Count, Sum, Flow, "traffic", GA4_DIMS)
        .defined(
            "GA4's `sessions` for each day, as GA4 reports it.",
            "GA4 report metric `sessions`. Read from GA4's Data API report rows per day (`date`), totals and one breakdown at a time (device, channel, country, landing page).",
            "On GA4's `date`, a day of the property's time zone, placed at noon there: it falls on the same store-local day when the store is within 12 hours of it. Today's rows pulled before noon sit at the sync time.",
            "Whatever GA4 itself leaves out (filtered internal traffic, consent-mode gaps, thresholded rows). Two breakdowns at once are not available.",
        ),
    MetricSpec::new("users", "Users", "Distinct users of each day (GA4 `totalUsers`). Summed over several days it over-counts people who came back on another day, and a breakdown's parts can add up to more than the day's users (one person on two devices); the difference shows as the (none) group.", Count, Sum, Flow, "traffic", GA4_DIMS)
        .defined(
            "GA4's `totalUsers` for each day, summed over days: a person who comes back on another day counts again. In a breakdown the overlap (one person on two devices) shows as (none).",
            "GA4 report metric `totalUsers`. Read from GA4's Data API report rows per day (`date`), totals and one breakdown at a time (device, channel, country, landing page).",
            "On GA4's `date`, a day of the property's time zone, placed at noon there: it falls on the same store-local day when the store is within 12 hours of it. Today's rows pulled before noon sit at the sync time.",
            "Whatever GA4 itself leaves out (filtered internal traffic, consent-mode gaps, thresholded rows). Two breakdowns at once are not available.",
        ),
    MetricSpec::new("new_users", "New users", "Users who visited for the first time (GA4 `newUsers`); a breakdown's parts can add up to more than the total, like users.", Count, Sum, Flow, "traffic", GA4_DIMS)
        .defined(
            "GA4's `newUsers` for each day, summed over days; in a breakdown the overlap shows as (none).",
            "GA4 report metric `newUsers`. Read from GA4's Data API report rows per day (`date`), totals and one breakdown at a time (device, channel, country, landing page).",
            "On GA4's `date`, a day of the property's time zone, placed at noon there: it falls on the same store-local day when the store is within 12 hours of it. Today's rows pulled before noon sit at the sync time.",
            "Whatever GA4 itself leaves out (filtered internal traffic, consent-mode gaps, thresholded rows). Two breakdowns at once are not available.",
        ),
    MetricSpec::new("page_views", "Page views", "Page and screen views (GA4 `screenPageViews`).", Count, Sum, Flow, "traffic", GA4_DIMS)
        .defined(
            "GA4's `screenPageViews` for each day.",
            "GA4 report metric `screenPageViews`. Read from GA4's Data API report rows per day (`date`), totals and one breakdown at a time (device, channel, country, landing page).",
            "On GA4's `date`, a day of the property's time zone, placed at noon there: it falls on the same store-local day when the store is within 12 hours of it. Today's rows pulled before noon sit at the sync time.",
            "Whatever GA4 itself leaves out (filtered internal traffic, consent-mode gaps, thresholded rows). Two breakdowns at once are not available.",
        ),
    MetricSpec::new("engaged_sessions", "Engaged sessions", "Sessions that lasted 10 seconds or more, had a key event or two page views (GA4 `engagedSessions`).", Count, Sum, Flow, "traffic", GA4_DIMS)
        .defined(
            "GA4's `engagedSessions` for each day.",
            "GA4 report metric `engagedSessions`. Read from GA4's Data API report rows per day (`date`), totals and one breakdown at a time (device, channel, country, landing page).",
            "On GA4's `date`, a day of the property's time zone, placed at noon there: it falls on the same store-local day when the store is within 12 hours of it. Today's rows pulled before noon sit at the sync time.",
            "Whatever GA4 itself leaves out (filtered internal traffic, consent-mode gaps, thresholded rows). Two breakdowns at once are not available.",
        ),
    MetricSpec::new("key_events", "Key events", "Events marked as key events, formerly conversions (GA4 `keyEvents`).", Count, Sum, Flow, "traffic", GA4_DIMS)
        .defined(
            "GA4's `keyEvents` for each day: all key events together, whichever the property marks.",
            "GA4 report metric `keyEvents`. Read from GA4's Data API report rows per day (`date`), totals and one breakdown at a time (device, channel, country, landing page).",
            "On GA4's `date`, a day of the property's time zone, placed at noon there: it falls on the same store-local day when the store is within 12 hours of it. Today's rows pulled before noon sit at the sync time.",
            "Whatever GA4 itself leaves out (filtered internal traffic, consent-mode gaps, thresholded rows). Two breakdowns at once are not available.",
        ),
    MetricSpec::new("add_to_carts", "Add-to-carts", "Times users added items to their carts (GA4 `addToCarts`).", Count, Sum, Flow, "ecommerce", GA4_DIMS)
        .defined(
            "GA4's `addToCarts` for each day.",
            "GA4 report metric `addToCarts`. Read from GA4's Data API report rows per day (`date`), totals and one breakdown at a time (device, channel, country, landing page).",
            "On GA4's `date`, a day of the property's time zone, placed at noon there: it falls on the same store-local day when the store is within 12 hours of it. Today's rows pulled before noon sit at the sync time.",
            "Whatever GA4 itself leaves out (filtered internal traffic, consent-mode gaps, thresholded rows). Two breakdowns at once are not available.",
        ),
    MetricSpec::new("checkouts", "Checkouts", "Times users started a checkout (GA4 `checkouts`).", Count, Sum, Flow, "ecommerce", GA4_DIMS)
        .defined(
            "GA4's `checkouts` for each day (begin_checkout events).",
            "GA4 report metric `checkouts`. Read from GA4's Data API report rows per day (`date`), totals and one breakdown at a time (device, channel, country, landing page).",
            "On GA4's `date`, a day of the property's time zone, placed at noon there: it falls on the same store-local day when the store is within 12 hours of it. Today's rows pulled before noon sit at the sync time.",
            "Whatever GA4 itself leaves out (filtered internal traffic, consent-mode gaps, thresholded rows). Two breakdowns at once are not available.",
        ),
    MetricSpec::new("purchases", "Purchases", "Purchases GA4 recorded (`ecommercePurchases`); the shop's own order count is the reference.", Count, Sum, Flow, "ecommerce", GA4_DIMS)
        .defined(
            "GA4's `ecommercePurchases` for each day; usually below the shop's own order count.",
            "GA4 report metric `ecommercePurchases`. Read from GA4's Data API report rows per day (`date`), totals and one breakdown at a time (device, channel, country, landing page).",
            "On GA4's `date`, a day of the property's time zone, placed at noon there: it falls on the same store-local day when the store is within 12 hours of it. Today's rows pulled before noon sit at the sync time.",
            "Whatever GA4 itself leaves out (filtered internal traffic, consent-mode gaps, thresholded rows). Two breakdowns at once are not available. Orders GA4 did not see (blocked trackers, point of sale).",
        ),
    MetricSpec::new("purchase_revenue", "Purchase revenue", "Revenue of the purchases GA4 recorded (`purchaseRevenue`), in the property's currency.", CurrencyMinor, Sum, Flow, "ecommerce", GA4_DIMS)
        .defined(
            "GA4's `purchaseRevenue` for each day, converted exactly to minor units of the property's currency (rounded half away from zero).",
            "GA4 report metric `purchaseRevenue`. Read from GA4's Data API report rows per day (`date`), totals and one breakdown at a time (device, channel, country, landing page).",
            "On GA4's `date`, a day of the property's time zone, placed at noon there: it falls on the same store-local day when the store is within 12 hours of it. Today's rows pulled before noon sit at the sync time.",
            "Whatever GA4 itself leaves out (filtered internal traffic, consent-mode gaps, thresholded rows). Two breakdowns at once are not available. Orders GA4 did not see; refunds are not subtracted here.",
        ),
];

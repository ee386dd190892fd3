//! PostHog's metric catalog: daily counts computed by PostHog (HogQL, grouped by day
//! in the project's time zone), one value per metric and day.

use crate::catalog::{Aggregation::Sum, MetricKind::Flow, MetricSpec, MetricUnit::Count};

/// No breakdowns yet: a day carries one value per metric. (Breaking down by an event
/// or person property is a later addition: another `GROUP BY` column and dimension.)
const NO_DIMS: &[&str] = &[];

/// The product events counted, each its own metric of the same name.
pub(crate) const PRODUCT_EVENTS: [&str; 3] = ["signed_up", "checkout_started", "subscription_started"];

/// PostHog's metrics.
#[rustfmt::skip]
pub const POSTHOG_METRICS: &[MetricSpec] = &[
    MetricSpec::new("pageviews", "Pageviews", "`$pageview` events.", Count, Sum, Flow, "traffic", NO_DIMS),
    MetricSpec::new("unique_persons", "Unique persons", "Distinct persons with at least one event that day. A daily count: summing days counts a person once per day they came back, so a week's sum over-counts people.", Count, Sum, Flow, "traffic", NO_DIMS),
    MetricSpec::new("sessions", "Sessions", "Distinct `$session_id`s seen that day (a session crossing midnight counts on both days).", Count, Sum, Flow, "traffic", NO_DIMS),
    MetricSpec::new("signed_up", "Sign-ups", "`signed_up` events.", Count, Sum, Flow, "product", NO_DIMS),
    MetricSpec::new("checkout_started", "Checkouts started", "`checkout_started` events.", Count, Sum, Flow, "product", NO_DIMS),
    MetricSpec::new("subscription_started", "Subscriptions started", "`subscription_started` events.", Count, Sum, Flow, "product", NO_DIMS),
];

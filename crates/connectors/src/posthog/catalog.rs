//! PostHog's metric catalog: daily counts computed by PostHog (HogQL, grouped by day
//! in the project's time zone), one value per metric and day.

use crate::catalog::{Aggregation::Sum, MetricKind::Flow, MetricSpec, MetricUnit::Count};

/// The fixed metrics have no breakdown: a day carries one value per metric.
const NO_DIMS: &[&str] = &[];
/// The picked events' metric: by event name and by the value of the breakdown
/// property the integration's options name.
pub(crate) const EVENTS_METRIC: &str = "events";
const EVENT_DIMS: &[&str] = &["event", "breakdown"];

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
    MetricSpec::new(EVENTS_METRIC, "Picked events", "The events picked in the integration's options, counted per day; break them down by `event`, and by `breakdown`, the value of the property the options name (absent when an event lacks it).", Count, Sum, Flow, "product", EVENT_DIMS),
];

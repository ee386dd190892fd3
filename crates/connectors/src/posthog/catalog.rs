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
    MetricSpec::new("pageviews", "Pageviews", "`$pageview` events.", Count, Sum, Flow, "traffic", NO_DIMS)
        .defined(
            "Number of `$pageview` events each day.",
            "PostHog events: `event = '$pageview'`, `timestamp`.",
            "PostHog's count for a day of the project's time zone, placed at the middle of that day (today's, fetched before its middle, at the fetch time): a store in another time zone books the whole day on the day its middle falls on.",
            "Nothing is filtered: events from test or internal accounts count, since the query applies no test-account filter.",
        ),
    MetricSpec::new("unique_persons", "Unique persons", "Distinct persons with at least one event that day. A daily count: summing days counts a person once per day they came back, so a week's sum over-counts people.", Count, Sum, Flow, "traffic", NO_DIMS)
        .defined(
            "Number of distinct `person_id`s with any event each day, summed over days: a person who returns on another day counts again.",
            "PostHog events: `person_id`, `timestamp` (every event type).",
            "PostHog's count for a day of the project's time zone, placed at the middle of that day (today's, fetched before its middle, at the fetch time): a store in another time zone books the whole day on the day its middle falls on.",
            "Nothing is filtered: events from test or internal accounts count, since the query applies no test-account filter.",
        ),
    MetricSpec::new("sessions", "Sessions", "Distinct `$session_id`s seen that day (a session crossing midnight counts on both days).", Count, Sum, Flow, "traffic", NO_DIMS)
        .defined(
            "Number of distinct `$session_id` property values each day; a session crossing midnight counts on both days.",
            "PostHog events: `properties.$session_id`, `timestamp` (every event type).",
            "PostHog's count for a day of the project's time zone, placed at the middle of that day (today's, fetched before its middle, at the fetch time): a store in another time zone books the whole day on the day its middle falls on.",
            "Nothing is filtered: events from test or internal accounts count, since the query applies no test-account filter. Events without a `$session_id` form at most one extra session per day.",
        ),
    MetricSpec::new("signed_up", "Sign-ups", "`signed_up` events.", Count, Sum, Flow, "product", NO_DIMS)
        .defined(
            "Number of `signed_up` events each day.",
            "PostHog events: `event = 'signed_up'`, `timestamp`.",
            "PostHog's count for a day of the project's time zone, placed at the middle of that day (today's, fetched before its middle, at the fetch time): a store in another time zone books the whole day on the day its middle falls on.",
            "Nothing is filtered: events from test or internal accounts count, since the query applies no test-account filter. A person who signs up twice counts twice.",
        ),
    MetricSpec::new("checkout_started", "Checkouts started", "`checkout_started` events.", Count, Sum, Flow, "product", NO_DIMS)
        .defined(
            "Number of `checkout_started` events each day.",
            "PostHog events: `event = 'checkout_started'`, `timestamp`.",
            "PostHog's count for a day of the project's time zone, placed at the middle of that day (today's, fetched before its middle, at the fetch time): a store in another time zone books the whole day on the day its middle falls on.",
            "Nothing is filtered: events from test or internal accounts count, since the query applies no test-account filter.",
        ),
    MetricSpec::new("subscription_started", "Subscriptions started", "`subscription_started` events.", Count, Sum, Flow, "product", NO_DIMS)
        .defined(
            "Number of `subscription_started` events each day.",
            "PostHog events: `event = 'subscription_started'`, `timestamp`.",
            "PostHog's count for a day of the project's time zone, placed at the middle of that day (today's, fetched before its middle, at the fetch time): a store in another time zone books the whole day on the day its middle falls on.",
            "Nothing is filtered: events from test or internal accounts count, since the query applies no test-account filter.",
        ),
    MetricSpec::new(EVENTS_METRIC, "Picked events", "The events picked in the integration's options, counted per day; break them down by `event`, and by `breakdown`, the value of the property the options name (absent when an event lacks it).", Count, Sum, Flow, "product", EVENT_DIMS)
        .defined(
            "Number of each picked event per day, by event name and by the value of the property the options name.",
            "PostHog events: `event`, the named property, `timestamp`.",
            "PostHog's count for a day of the project's time zone, placed at the middle of that day (today's, fetched before its middle, at the fetch time): a store in another time zone books the whole day on the day its middle falls on.",
            "Nothing is filtered: events from test or internal accounts count, since the query applies no test-account filter. Events not picked in the integration's options.",
        ),
];

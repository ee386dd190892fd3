//! Gorgias' metric catalog. Times are in seconds; averages are ratios of two sums
//! (so they average correctly over days and channels); the CSAT average is kept
//! ×100 (430 = 4.30 of 5) and sentiment ×1000 (VADER's −1..1 as −1000..1000),
//! because metric values are integers.

use crate::catalog::{
    Aggregation::{Avg, Sum},
    MetricKind::Flow,
    MetricSpec,
    MetricUnit::Count,
};

const DIMS: &[&str] = &["channel"];
const TAG_DIMS: &[&str] = &["tag"];

/// Gorgias' metrics.
#[rustfmt::skip]
pub const GORGIAS_METRICS: &[MetricSpec] = &[
    MetricSpec::new("tickets_created", "Tickets created", "Support tickets opened by customers (spam excluded), by channel.", Count, Sum, Flow, "support", DIMS).bad_when_rising(),
    MetricSpec::new("tickets_closed", "Tickets closed", "Tickets closed, on the day they were closed.", Count, Sum, Flow, "support", DIMS),
    MetricSpec::new("tagged_tickets", "Tickets by tag", "Tickets created, once per tag they carry (a ticket with two tags counts under each).", Count, Sum, Flow, "support", TAG_DIMS),
    MetricSpec::new("replied_tickets", "Tickets answered", "Tickets that got a first agent reply, on the day of the reply.", Count, Sum, Flow, "support", DIMS),
    MetricSpec::new("first_response_seconds_total", "First response time (total seconds)", "Seconds from a ticket's creation to its first agent reply, added up: the numerator of the first response time.", Count, Sum, Flow, "support", DIMS),
    MetricSpec::new("first_response_seconds", "First response time", "Average seconds from a ticket's creation to its first agent reply.", Count, Avg, Flow, "support", DIMS).ratio("first_response_seconds_total", "replied_tickets").bad_when_rising(),
    MetricSpec::new("resolution_seconds_total", "Resolution time (total seconds)", "Seconds from creation to closing of closed tickets, added up: the numerator of the resolution time.", Count, Sum, Flow, "support", DIMS),
    MetricSpec::new("resolution_seconds", "Resolution time", "Average seconds from a ticket's creation to its closing.", Count, Avg, Flow, "support", DIMS).ratio("resolution_seconds_total", "tickets_closed").bad_when_rising(),
    MetricSpec::new("csat_responses", "CSAT responses", "Satisfaction surveys answered, on the day they were scored.", Count, Sum, Flow, "satisfaction", DIMS),
    MetricSpec::new("csat_score_total", "CSAT score ×100 (total)", "Survey scores (1–5) ×100 added up: the numerator of CSAT.", Count, Sum, Flow, "satisfaction", DIMS),
    MetricSpec::new("csat", "CSAT", "Average satisfaction score ×100 (430 = 4.30 of 5).", Count, Avg, Flow, "satisfaction", DIMS).ratio("csat_score_total", "csat_responses"),
    MetricSpec::new("sentiment_total", "Ticket sentiment ×1000 (total)", "VADER sentiment of each ticket's first customer message ×1000, added up: the numerator of ticket sentiment.", Count, Sum, Flow, "satisfaction", DIMS),
    MetricSpec::new("sentiment", "Ticket sentiment", "Average sentiment of tickets' first customer message, −1000 (angry) to 1000 (delighted).", Count, Avg, Flow, "satisfaction", DIMS).ratio("sentiment_total", "tickets_created"),
];

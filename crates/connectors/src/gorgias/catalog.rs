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
    MetricSpec::new("tickets_created", "Tickets created", "Support tickets opened by customers (spam excluded), by channel.", Count, Sum, Flow, "support", DIMS).bad_when_rising()
        .defined(
            "Number of tickets, one per ticket, by its channel.",
            "Gorgias ticket: `created_datetime`, `channel`, `spam`.",
            "On the store-local day of the ticket's `created_datetime` (Gorgias' times are UTC).",
            "Spam tickets. Tickets an agent opened count too.",
        ),
    MetricSpec::new("tickets_closed", "Tickets closed", "Tickets closed, on the day they were closed.", Count, Sum, Flow, "support", DIMS)
        .defined(
            "Number of tickets whose status is `closed` now, one per ticket.",
            "Gorgias ticket: `status`, `closed_datetime`.",
            "On the store-local day of `closed_datetime`; a reopened ticket leaves that day and counts again when it is closed again.",
            "Spam tickets. Open and snoozed tickets, and tickets reopened since.",
        ),
    MetricSpec::new("tagged_tickets", "Tickets by tag", "Tickets created, once per tag they carry (a ticket with two tags counts under each).", Count, Sum, Flow, "support", TAG_DIMS)
        .defined(
            "Number of tickets per tag: a ticket counts once under each distinct tag it carries now.",
            "Gorgias ticket: `tags[].name`, `created_datetime`.",
            "On the store-local day of the ticket's `created_datetime`, with its current tags.",
            "Spam tickets. Tickets without tags, and blank tag names.",
        ),
    MetricSpec::new("replied_tickets", "Tickets answered", "Tickets that got a first agent reply, on the day of the reply.", Count, Sum, Flow, "support", DIMS)
        .defined(
            "Number of tickets with an agent message sent at or after the ticket's creation.",
            "Gorgias ticket: `messages[].from_agent`, `messages[].created_datetime`.",
            "On the store-local day of the first agent message.",
            "Spam tickets. Tickets no agent has answered yet.",
        ),
    MetricSpec::new("first_response_seconds_total", "First response time (total seconds)", "Seconds from a ticket's creation to its first agent reply, added up: the numerator of the first response time.", Count, Sum, Flow, "support", DIMS)
        .defined(
            "Sum over answered tickets of the seconds from `created_datetime` to the first agent message.",
            "Gorgias ticket: `created_datetime`, `messages[].from_agent`, `messages[].created_datetime`.",
            "On the store-local day of the first agent message.",
            "Spam tickets. Unanswered tickets. Nights and weekends are not taken off: it is calendar time, not business hours.",
        ),
    MetricSpec::new("first_response_seconds", "First response time", "Average seconds from a ticket's creation to its first agent reply.", Count, Avg, Flow, "support", DIMS).ratio("first_response_seconds_total", "replied_tickets").bad_when_rising()
        .defined(
            "First response seconds (total) divided by tickets answered over the period: the average calendar seconds to the first agent reply.",
            "The two metrics it divides: Gorgias `first_response_seconds_total` and `replied_tickets`.",
            "On the store-local day of each ticket's first agent message.",
            "Spam tickets. Unanswered tickets; business hours are not applied.",
        ),
    MetricSpec::new("resolution_seconds_total", "Resolution time (total seconds)", "Seconds from creation to closing of closed tickets, added up: the numerator of the resolution time.", Count, Sum, Flow, "support", DIMS)
        .defined(
            "Sum over closed tickets of the seconds from `created_datetime` to `closed_datetime`.",
            "Gorgias ticket: `status`, `created_datetime`, `closed_datetime`.",
            "On the store-local day of `closed_datetime`.",
            "Spam tickets. Tickets not closed now; business hours are not applied.",
        ),
    MetricSpec::new("resolution_seconds", "Resolution time", "Average seconds from a ticket's creation to its closing.", Count, Avg, Flow, "support", DIMS).ratio("resolution_seconds_total", "tickets_closed").bad_when_rising()
        .defined(
            "Resolution seconds (total) divided by tickets closed over the period: the average calendar seconds from creation to closing.",
            "The two metrics it divides: Gorgias `resolution_seconds_total` and `tickets_closed`.",
            "On the store-local day of each ticket's `closed_datetime`.",
            "Spam tickets. Tickets not closed now; business hours are not applied.",
        ),
    MetricSpec::new("csat_responses", "CSAT responses", "Satisfaction surveys answered, on the day they were scored.", Count, Sum, Flow, "satisfaction", DIMS)
        .defined(
            "Number of satisfaction surveys with a score from 1 to 5.",
            "Gorgias ticket: `satisfaction_survey.score`, `satisfaction_survey.scored_datetime`.",
            "On the store-local day of the survey's `scored_datetime`.",
            "Spam tickets. Surveys sent but not answered, and scores outside 1–5.",
        ),
    MetricSpec::new("csat_score_total", "CSAT score ×100 (total)", "Survey scores (1–5) ×100 added up: the numerator of CSAT.", Count, Sum, Flow, "satisfaction", DIMS)
        .defined(
            "Sum of survey scores × 100.",
            "Gorgias ticket: `satisfaction_survey.score`, `satisfaction_survey.scored_datetime`.",
            "On the store-local day of the survey's `scored_datetime`.",
            "Spam tickets. Unanswered surveys and scores outside 1–5.",
        ),
    MetricSpec::new("csat", "CSAT", "Average satisfaction score ×100 (430 = 4.30 of 5).", Count, Avg, Flow, "satisfaction", DIMS).ratio("csat_score_total", "csat_responses")
        .defined(
            "CSAT score total divided by CSAT responses over the period: the average score × 100 (430 = 4.30 of 5).",
            "The two metrics it divides: Gorgias `csat_score_total` and `csat_responses`.",
            "On the store-local day of each survey's `scored_datetime`.",
            "Spam tickets. Unanswered surveys and scores outside 1–5.",
        ),
    MetricSpec::new("sentiment_total", "Ticket sentiment ×1000 (total)", "VADER sentiment of each ticket's first customer message ×1000, added up: the numerator of ticket sentiment.", Count, Sum, Flow, "satisfaction", DIMS)
        .defined(
            "Sum over tickets of the VADER sentiment score (−1 to 1) × 1000 of the ticket's first customer message, computed by Pulseboard; 0 for a ticket with no customer message.",
            "Gorgias ticket: the first non-agent message's `body_text`, `created_datetime`.",
            "On the store-local day of the ticket's `created_datetime`.",
            "Spam tickets. Later messages are not scored.",
        ),
    MetricSpec::new("sentiment", "Ticket sentiment", "Average sentiment of tickets' first customer message, −1000 (angry) to 1000 (delighted).", Count, Avg, Flow, "satisfaction", DIMS).ratio("sentiment_total", "tickets_created")
        .defined(
            "Sentiment total divided by tickets created over the period, from −1000 (angry) to 1000 (delighted). Tickets an agent opened count as 0 (neutral) in the average.",
            "The two metrics it divides: Gorgias `sentiment_total` and `tickets_created`.",
            "On the store-local day of each ticket's `created_datetime`.",
            "Spam tickets. Only the first customer message of each ticket is scored.",
        ),
];

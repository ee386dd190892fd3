//! KnoCommerce's metric catalog. The response rate against orders divides
//! `surveyed_orders` by Shopify's orders: a computed metric of the server
//! (`computed.response_rate`), since it combines two sources.

use crate::catalog::{
    Aggregation::Sum,
    MetricKind::Flow,
    MetricSpec,
    MetricUnit::Count,
};

/// KnoCommerce's metrics.
#[rustfmt::skip]
pub const KNOCOMMERCE_METRICS: &[MetricSpec] = &[
    MetricSpec::new("responses", "Survey answers", "Answers given, one per question answered (a choice of several options counts each), on the day the survey was completed: break down by question, then by answer (\"How did you hear about us?\" → Instagram, TikTok, …). Free-text answers count without an answer value.", Count, Sum, Flow, "surveys", &["question", "answer"])
        .defined(
            "Number of answers: one per question answered, one per option chosen in a multiple choice; a free-text answer counts once without an answer value.",
            "KnoCommerce survey response: `response[].question_id`, `label`, `type`, `value`, `completed_at`.",
            "On the store-local day of the response's `completed_at`, else its `created_at`.",
            "Questions left unanswered, and answers without a question id.",
        ),
    MetricSpec::new("attribution", "Attribution answers", "Answers to the survey's attribution question (\"How did you hear about us?\", the one KnoCommerce gives an attribution type), one per response, on the day the survey was completed: break down by answer for the channels customers name.", Count, Sum, Flow, "surveys", &["answer"])
        .defined(
            "Number of answers to the attribution question (one KnoCommerce gives an `attribution_type`, or worded \"hear about us\", \"find us\", \"hear of us\"), one per option chosen.",
            "KnoCommerce survey response: `response[].attribution_type`, `label`, `value`, `completed_at`.",
            "On the store-local day of the response's `completed_at`, else its `created_at`.",
            "Other questions, and free-text answers to the attribution question.",
        ),
    MetricSpec::new("survey_responses", "Survey responses", "Completed post-purchase surveys, one per customer who answered, on the day they completed it.", Count, Sum, Flow, "surveys", &["survey"])
        .defined(
            "Number of survey responses, one per response.",
            "KnoCommerce survey response: `survey_id`, `completed_at`, `created_at`.",
            "On the store-local day of the response's `completed_at`, else its `created_at`.",
            "Nothing: a response with no answers still counts.",
        ),
    MetricSpec::new("surveyed_orders", "Surveyed orders", "Orders whose customer completed the post-purchase survey (KnoCommerce shows it once per order), on the day they completed it: the numerator of the response rate.", Count, Sum, Flow, "surveys", &[])
        .defined(
            "Number of responses that name an order.",
            "KnoCommerce survey response: `order.id` or `order_id`, `completed_at`.",
            "On the store-local day of the response's `completed_at`, else its `created_at`.",
            "Responses that name no order; two responses naming the same order both count.",
        ),
];

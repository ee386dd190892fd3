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
    MetricSpec::new("responses", "Survey answers", "Answers given, one per question answered (a choice of several options counts each), on the day the survey was completed: break down by question, then by answer (\"How did you hear about us?\" → Instagram, TikTok, …). Free-text answers count without an answer value.", Count, Sum, Flow, "surveys", &["question", "answer"]),
    MetricSpec::new("attribution", "Attribution answers", "Answers to the survey's attribution question (\"How did you hear about us?\", the one KnoCommerce gives an attribution type), one per response, on the day the survey was completed: break down by answer for the channels customers name.", Count, Sum, Flow, "surveys", &["answer"]),
    MetricSpec::new("survey_responses", "Survey responses", "Completed post-purchase surveys, one per customer who answered, on the day they completed it.", Count, Sum, Flow, "surveys", &["survey"]),
    MetricSpec::new("surveyed_orders", "Surveyed orders", "Orders whose customer completed the post-purchase survey (KnoCommerce shows it once per order), on the day they completed it: the numerator of the response rate.", Count, Sum, Flow, "surveys", &[]),
];

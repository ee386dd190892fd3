//! Judge.me's metric catalog.
//!
//! Every review counts once, on the day it was written, whatever its moderation
//! state (the `status` dimension says `published`, `pending` or `hidden`, so a
//! widget can keep to what the store shows). Averages are ratios of two sums, so
//! they average correctly over days, products and ratings: the average rating is
//! the stars (×100) added up over the reviews, so it keeps two decimals (437 is
//! 4.37 stars), the sentiment the VADER compound score of
//! title and body (×1000, −1000 to 1000) added up over the reviews.

use crate::catalog::{
    Aggregation::{Avg, Latest, Sum},
    MetricKind::{Flow, Stock},
    MetricSpec,
    MetricUnit::Count,
};

/// The breakdowns of review metrics: stars (`1`–`5`), the product's Shopify id
/// (labelled with its title), Judge.me's `verified` value (`buyer`, `nothing`, …)
/// and the moderation status.
const REVIEW_DIMS: &[&str] = &["rating", "product", "verified", "status"];

/// Judge.me's metrics.
#[rustfmt::skip]
pub const JUDGEME_METRICS: &[MetricSpec] = &[
    MetricSpec::new("reviews", "Reviews", "Reviews written, on the day they were written, published or not (break down by status, rating, product or verified buyer).", Count, Sum, Flow, "reviews", REVIEW_DIMS)
        .defined(
            "Number of reviews, one per review.",
            "Judge.me review: `created_at`, `rating`, `product_external_id`, `verified`, `published`, `hidden`.",
            "On the store-local day of the review's `created_at`, not the day it was published.",
            "Reviews without a rating from 1 to 5. Hidden and pending reviews are counted (break down by status to leave them out).",
        ),
    MetricSpec::new("rating_total", "Stars (total)", "Stars of the reviews ×100, added up: the numerator of the average rating.", Count, Sum, Flow, "reviews", REVIEW_DIMS)
        .defined(
            "Sum of the reviews' stars × 100.",
            "Judge.me review: `rating`, `created_at`.",
            "On the store-local day of the review's `created_at`, not the day it was published.",
            "Reviews without a rating from 1 to 5. Hidden and pending reviews are counted (break down by status to leave them out).",
        ),
    MetricSpec::new("rating", "Average rating", "Average stars per review in hundredths of a star (100 to 500: 437 is 4.37 stars), weighted by reviews.", Count, Avg, Flow, "reviews", REVIEW_DIMS).ratio("rating_total", "reviews")
        .defined(
            "Stars total divided by reviews over the period: the average rating in hundredths of a star (437 = 4.37).",
            "The two metrics it divides: Judge.me `rating_total` and `reviews`.",
            "On the store-local day of the review's `created_at`, not the day it was published.",
            "Reviews without a rating from 1 to 5. Hidden and pending reviews are counted (break down by status to leave them out).",
        ),
    MetricSpec::new("sentiment_total", "Review sentiment (total)", "Sentiment of title and body (VADER compound × 1000) added up over the reviews: the numerator of the average sentiment.", Count, Sum, Flow, "reviews", REVIEW_DIMS)
        .defined(
            "Sum over reviews of the VADER compound score (−1 to 1) × 1000 of the title and body, computed by Pulseboard.",
            "Judge.me review: `title`, `body`, `created_at`.",
            "On the store-local day of the review's `created_at`, not the day it was published.",
            "Reviews without a rating from 1 to 5. Hidden and pending reviews are counted (break down by status to leave them out). Reviews without words score 0.",
        ),
    MetricSpec::new("sentiment", "Review sentiment", "Average sentiment of the reviews' words, from −1000 (negative) to 1000 (positive).", Count, Avg, Flow, "reviews", REVIEW_DIMS).ratio("sentiment_total", "reviews")
        .defined(
            "Sentiment total divided by reviews over the period, from −1000 (negative) to 1000 (positive); reviews without words count as 0.",
            "The two metrics it divides: Judge.me `sentiment_total` and `reviews`.",
            "On the store-local day of the review's `created_at`, not the day it was published.",
            "Reviews without a rating from 1 to 5. Hidden and pending reviews are counted (break down by status to leave them out).",
        ),
    MetricSpec::new("pending_reviews", "Pending reviews", "Reviews waiting for moderation (neither published nor hidden) as of the last sync, counted from the day they were written: today's value is how many wait now.", Count, Latest, Stock, "reviews", &["rating", "product"]).bad_when_rising()
        .defined(
            "Number of reviews neither published nor hidden at the last sync.",
            "Judge.me review: `published`, `hidden`, `created_at`, `rating`, `product_external_id`.",
            "From the store-local day of the review's `created_at`, in its state at the last sync: once published or hidden it stops counting from the day it was written, so past values are not what waited then. The value shown is the one at the end of the period.",
            "Published and hidden reviews, and reviews without a rating from 1 to 5.",
        ),
];

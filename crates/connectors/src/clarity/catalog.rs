//! Microsoft Clarity's metric catalog.
//!
//! Clarity's Data Export API only answers for the last 24, 48 or 72 hours before
//! the call, so there is no back history: numbers start on the day before the
//! integration was connected and accumulate one day per daily sync. Each day's
//! values are the 24 hours before that day's latest fetch, shown on the UTC day
//! before the fetch (see `derive.rs`).
//!
//! A session that views several pages counts on each of them, so page numbers add
//! up to more than the site's: they are metrics of their own (`page_…`) rather than
//! a `page` dimension of the site-wide ones.
//!
//! Averages (engagement time, scroll depth) are ratios of two sums, weighted by
//! sessions, so they average correctly over days, devices and pages.

use crate::catalog::{
    Aggregation::{Avg, Sum},
    MetricKind::Flow,
    MetricSpec,
    MetricUnit::{Count, Percent},
};

/// The breakdown of the site-wide metrics (one export call gives all three).
const SITE_DIMS: &[&str] = &["device", "browser", "country"];
/// The breakdown of the page metrics.
const PAGE_DIMS: &[&str] = &["page"];

/// Microsoft Clarity's metrics.
#[rustfmt::skip]
pub const CLARITY_METRICS: &[MetricSpec] = &[
    MetricSpec::new("sessions", "Sessions", "Sessions Clarity recorded (bots included, as Clarity counts them). Clarity keeps 3 days for export, so history starts the day before connecting; each day is the 24 hours before that day's sync.", Count, Sum, Flow, "traffic", SITE_DIMS)
        .defined(
            "Clarity's `Traffic.totalSessionCount`, summed over device, browser and country.",
            "Clarity Data Export (`numOfDays=1`) by device, browser and country: `Traffic.totalSessionCount`.",
            "Clarity's export of the 24 hours before the daily sync, booked on the UTC day before the sync at noon UTC (the same date for stores from UTC−12 to UTC+11); a sync late in the UTC day shifts the window by its hour.",
            "Days before the day preceding the connection (Clarity exports only the last days) and days whose sync did not run. Bots are not left out: Clarity counts them.",
        ),
    MetricSpec::new("engagement_seconds", "Engagement time (total seconds)", "Active time of all sessions added up, in seconds: the numerator of the average engagement time.", Count, Sum, Flow, "engagement", SITE_DIMS)
        .defined(
            "Clarity's average active time per session × that row's sessions, added up over the rows, rounded to whole seconds.",
            "Clarity Data Export (`numOfDays=1`) by device, browser and country: `EngagementTime.activeTime`, `Traffic.totalSessionCount`.",
            "Clarity's export of the 24 hours before the daily sync, booked on the UTC day before the sync at noon UTC (the same date for stores from UTC−12 to UTC+11); a sync late in the UTC day shifts the window by its hour.",
            "Days before the day preceding the connection (Clarity exports only the last days) and days whose sync did not run.",
        ),
    MetricSpec::new("engagement_time", "Engagement time", "Average active time per session, in seconds (weighted by sessions). History starts the day before connecting.", Count, Avg, Flow, "engagement", SITE_DIMS).ratio("engagement_seconds", "sessions")
        .defined(
            "Engagement seconds divided by sessions over the period: an average weighted by sessions, in seconds.",
            "The two metrics it divides: Clarity `engagement_seconds` and `sessions`.",
            "Clarity's export of the 24 hours before the daily sync, booked on the UTC day before the sync at noon UTC (the same date for stores from UTC−12 to UTC+11); a sync late in the UTC day shifts the window by its hour.",
            "Days before the day preceding the connection (Clarity exports only the last days) and days whose sync did not run.",
        ),
    MetricSpec::new("scroll_depth_total", "Scroll depth × sessions", "Average scroll depth times sessions: the numerator of the average scroll depth.", Count, Sum, Flow, "engagement", SITE_DIMS)
        .defined(
            "Clarity's average scroll depth (percent) × that row's sessions, added up over the rows.",
            "Clarity Data Export (`numOfDays=1`) by device, browser and country: `ScrollDepth.averageScrollDepth`, `Traffic.totalSessionCount`.",
            "Clarity's export of the 24 hours before the daily sync, booked on the UTC day before the sync at noon UTC (the same date for stores from UTC−12 to UTC+11); a sync late in the UTC day shifts the window by its hour.",
            "Days before the day preceding the connection (Clarity exports only the last days) and days whose sync did not run.",
        ),
    MetricSpec::new("scroll_depth", "Scroll depth", "Average scroll depth of sessions, in percent of the page (weighted by sessions). History starts the day before connecting.", Percent, Avg, Flow, "engagement", SITE_DIMS).ratio("scroll_depth_total", "sessions")
        .defined(
            "Scroll depth × sessions divided by sessions over the period: the average scroll depth in percent of the page, weighted by sessions.",
            "The two metrics it divides: Clarity `scroll_depth_total` and `sessions`.",
            "Clarity's export of the 24 hours before the daily sync, booked on the UTC day before the sync at noon UTC (the same date for stores from UTC−12 to UTC+11); a sync late in the UTC day shifts the window by its hour.",
            "Days before the day preceding the connection (Clarity exports only the last days) and days whose sync did not run.",
        ),
    MetricSpec::new("dead_clicks", "Dead clicks", "Clicks on elements that did nothing. History starts the day before connecting.", Count, Sum, Flow, "frustration", SITE_DIMS).bad_when_rising()
        .defined(
            "Clarity's dead-click `subTotal`, summed over device, browser and country.",
            "Clarity Data Export (`numOfDays=1`) by device, browser and country: `DeadClickCount.subTotal`.",
            "Clarity's export of the 24 hours before the daily sync, booked on the UTC day before the sync at noon UTC (the same date for stores from UTC−12 to UTC+11); a sync late in the UTC day shifts the window by its hour.",
            "Days before the day preceding the connection (Clarity exports only the last days) and days whose sync did not run.",
        ),
    MetricSpec::new("rage_clicks", "Rage clicks", "Bursts of rapid clicks in one spot. History starts the day before connecting.", Count, Sum, Flow, "frustration", SITE_DIMS).bad_when_rising()
        .defined(
            "Clarity's rage-click `subTotal`, summed over device, browser and country.",
            "Clarity Data Export (`numOfDays=1`) by device, browser and country: `RageClickCount.subTotal`.",
            "Clarity's export of the 24 hours before the daily sync, booked on the UTC day before the sync at noon UTC (the same date for stores from UTC−12 to UTC+11); a sync late in the UTC day shifts the window by its hour.",
            "Days before the day preceding the connection (Clarity exports only the last days) and days whose sync did not run.",
        ),
    MetricSpec::new("quickbacks", "Quick backs", "Visits to a page left again within seconds. History starts the day before connecting.", Count, Sum, Flow, "frustration", SITE_DIMS).bad_when_rising()
        .defined(
            "Clarity's quick-back `subTotal`, summed over device, browser and country.",
            "Clarity Data Export (`numOfDays=1`) by device, browser and country: `QuickbackClick.subTotal`.",
            "Clarity's export of the 24 hours before the daily sync, booked on the UTC day before the sync at noon UTC (the same date for stores from UTC−12 to UTC+11); a sync late in the UTC day shifts the window by its hour.",
            "Days before the day preceding the connection (Clarity exports only the last days) and days whose sync did not run.",
        ),
    MetricSpec::new("excessive_scrolling", "Excessive scrolling", "Pages scrolled through far more than read. History starts the day before connecting.", Count, Sum, Flow, "frustration", SITE_DIMS).bad_when_rising()
        .defined(
            "Clarity's excessive-scroll `subTotal`, summed over device, browser and country.",
            "Clarity Data Export (`numOfDays=1`) by device, browser and country: `ExcessiveScroll.subTotal`.",
            "Clarity's export of the 24 hours before the daily sync, booked on the UTC day before the sync at noon UTC (the same date for stores from UTC−12 to UTC+11); a sync late in the UTC day shifts the window by its hour.",
            "Days before the day preceding the connection (Clarity exports only the last days) and days whose sync did not run.",
        ),
    MetricSpec::new("page_sessions", "Page sessions", "Sessions that viewed the page; a session viewing several pages counts on each. History starts the day before connecting.", Count, Sum, Flow, "pages", PAGE_DIMS)
        .defined(
            "Clarity's `Traffic.totalSessionCount` per page; a session viewing several pages counts on each, and URLs differing only in query or fragment add up.",
            "Clarity Data Export (`numOfDays=1`) by URL, the URL without its query and fragment: `Traffic.totalSessionCount`.",
            "Clarity's export of the 24 hours before the daily sync, booked on the UTC day before the sync at noon UTC (the same date for stores from UTC−12 to UTC+11); a sync late in the UTC day shifts the window by its hour.",
            "Days before the day preceding the connection (Clarity exports only the last days) and days whose sync did not run.",
        ),
    MetricSpec::new("page_engagement_seconds", "Page engagement time (total seconds)", "Active time on the page added up over its sessions: the numerator of the page's engagement time.", Count, Sum, Flow, "pages", PAGE_DIMS)
        .defined(
            "The page's average active time × its sessions, added up over the URL variants folded into it, rounded to whole seconds.",
            "Clarity Data Export (`numOfDays=1`) by URL, the URL without its query and fragment: `EngagementTime.activeTime`, `Traffic.totalSessionCount`.",
            "Clarity's export of the 24 hours before the daily sync, booked on the UTC day before the sync at noon UTC (the same date for stores from UTC−12 to UTC+11); a sync late in the UTC day shifts the window by its hour.",
            "Days before the day preceding the connection (Clarity exports only the last days) and days whose sync did not run.",
        ),
    MetricSpec::new("page_engagement_time", "Page engagement time", "Average active time on the page per session that viewed it, in seconds.", Count, Avg, Flow, "pages", PAGE_DIMS).ratio("page_engagement_seconds", "page_sessions")
        .defined(
            "Page engagement seconds divided by page sessions over the period, in seconds.",
            "The two metrics it divides: Clarity `page_engagement_seconds` and `page_sessions`.",
            "Clarity's export of the 24 hours before the daily sync, booked on the UTC day before the sync at noon UTC (the same date for stores from UTC−12 to UTC+11); a sync late in the UTC day shifts the window by its hour.",
            "Days before the day preceding the connection (Clarity exports only the last days) and days whose sync did not run.",
        ),
    MetricSpec::new("page_scroll_depth_total", "Page scroll depth × sessions", "The page's average scroll depth times its sessions: the numerator of its scroll depth.", Count, Sum, Flow, "pages", PAGE_DIMS)
        .defined(
            "The page's average scroll depth (percent) × its sessions, added up over the URL variants folded into it.",
            "Clarity Data Export (`numOfDays=1`) by URL, the URL without its query and fragment: `ScrollDepth.averageScrollDepth`, `Traffic.totalSessionCount`.",
            "Clarity's export of the 24 hours before the daily sync, booked on the UTC day before the sync at noon UTC (the same date for stores from UTC−12 to UTC+11); a sync late in the UTC day shifts the window by its hour.",
            "Days before the day preceding the connection (Clarity exports only the last days) and days whose sync did not run.",
        ),
    MetricSpec::new("page_scroll_depth", "Page scroll depth", "Average scroll depth on the page, in percent.", Percent, Avg, Flow, "pages", PAGE_DIMS).ratio("page_scroll_depth_total", "page_sessions")
        .defined(
            "Page scroll depth × sessions divided by page sessions over the period, in percent of the page.",
            "The two metrics it divides: Clarity `page_scroll_depth_total` and `page_sessions`.",
            "Clarity's export of the 24 hours before the daily sync, booked on the UTC day before the sync at noon UTC (the same date for stores from UTC−12 to UTC+11); a sync late in the UTC day shifts the window by its hour.",
            "Days before the day preceding the connection (Clarity exports only the last days) and days whose sync did not run.",
        ),
    MetricSpec::new("page_dead_clicks", "Page dead clicks", "Dead clicks on the page.", Count, Sum, Flow, "pages", PAGE_DIMS).bad_when_rising()
        .defined(
            "Clarity's dead-click `subTotal` per page.",
            "Clarity Data Export (`numOfDays=1`) by URL, the URL without its query and fragment: `DeadClickCount.subTotal`.",
            "Clarity's export of the 24 hours before the daily sync, booked on the UTC day before the sync at noon UTC (the same date for stores from UTC−12 to UTC+11); a sync late in the UTC day shifts the window by its hour.",
            "Days before the day preceding the connection (Clarity exports only the last days) and days whose sync did not run.",
        ),
    MetricSpec::new("page_rage_clicks", "Page rage clicks", "Rage clicks on the page.", Count, Sum, Flow, "pages", PAGE_DIMS).bad_when_rising()
        .defined(
            "Clarity's rage-click `subTotal` per page.",
            "Clarity Data Export (`numOfDays=1`) by URL, the URL without its query and fragment: `RageClickCount.subTotal`.",
            "Clarity's export of the 24 hours before the daily sync, booked on the UTC day before the sync at noon UTC (the same date for stores from UTC−12 to UTC+11); a sync late in the UTC day shifts the window by its hour.",
            "Days before the day preceding the connection (Clarity exports only the last days) and days whose sync did not run.",
        ),
    MetricSpec::new("page_quickbacks", "Page quick backs", "Quick backs from the page.", Count, Sum, Flow, "pages", PAGE_DIMS).bad_when_rising()
        .defined(
            "Clarity's quick-back `subTotal` per page.",
            "Clarity Data Export (`numOfDays=1`) by URL, the URL without its query and fragment: `QuickbackClick.subTotal`.",
            "Clarity's export of the 24 hours before the daily sync, booked on the UTC day before the sync at noon UTC (the same date for stores from UTC−12 to UTC+11); a sync late in the UTC day shifts the window by its hour.",
            "Days before the day preceding the connection (Clarity exports only the last days) and days whose sync did not run.",
        ),
    MetricSpec::new("page_excessive_scrolling", "Page excessive scrolling", "Excessive scrolling on the page.", Count, Sum, Flow, "pages", PAGE_DIMS).bad_when_rising()
        .defined(
            "Clarity's excessive-scroll `subTotal` per page.",
            "Clarity Data Export (`numOfDays=1`) by URL, the URL without its query and fragment: `ExcessiveScroll.subTotal`.",
            "Clarity's export of the 24 hours before the daily sync, booked on the UTC day before the sync at noon UTC (the same date for stores from UTC−12 to UTC+11); a sync late in the UTC day shifts the window by its hour.",
            "Days before the day preceding the connection (Clarity exports only the last days) and days whose sync did not run.",
        ),
];

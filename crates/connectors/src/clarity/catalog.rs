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
    MetricSpec::new("sessions", "Sessions", "Sessions Clarity recorded (bots included, as Clarity counts them). Clarity keeps 3 days for export, so history starts the day before connecting; each day is the 24 hours before that day's sync.", Count, Sum, Flow, "traffic", SITE_DIMS),
    MetricSpec::new("engagement_seconds", "Engagement time (total seconds)", "Active time of all sessions added up, in seconds: the numerator of the average engagement time.", Count, Sum, Flow, "engagement", SITE_DIMS),
    MetricSpec::new("engagement_time", "Engagement time", "Average active time per session, in seconds (weighted by sessions). History starts the day before connecting.", Count, Avg, Flow, "engagement", SITE_DIMS).ratio("engagement_seconds", "sessions"),
    MetricSpec::new("scroll_depth_total", "Scroll depth × sessions", "Average scroll depth times sessions: the numerator of the average scroll depth.", Count, Sum, Flow, "engagement", SITE_DIMS),
    MetricSpec::new("scroll_depth", "Scroll depth", "Average scroll depth of sessions, in percent of the page (weighted by sessions). History starts the day before connecting.", Percent, Avg, Flow, "engagement", SITE_DIMS).ratio("scroll_depth_total", "sessions"),
    MetricSpec::new("dead_clicks", "Dead clicks", "Clicks on elements that did nothing. History starts the day before connecting.", Count, Sum, Flow, "frustration", SITE_DIMS).bad_when_rising(),
    MetricSpec::new("rage_clicks", "Rage clicks", "Bursts of rapid clicks in one spot. History starts the day before connecting.", Count, Sum, Flow, "frustration", SITE_DIMS).bad_when_rising(),
    MetricSpec::new("quickbacks", "Quick backs", "Visits to a page left again within seconds. History starts the day before connecting.", Count, Sum, Flow, "frustration", SITE_DIMS).bad_when_rising(),
    MetricSpec::new("excessive_scrolling", "Excessive scrolling", "Pages scrolled through far more than read. History starts the day before connecting.", Count, Sum, Flow, "frustration", SITE_DIMS).bad_when_rising(),
    MetricSpec::new("page_sessions", "Page sessions", "Sessions that viewed the page; a session viewing several pages counts on each. History starts the day before connecting.", Count, Sum, Flow, "pages", PAGE_DIMS),
    MetricSpec::new("page_engagement_seconds", "Page engagement time (total seconds)", "Active time on the page added up over its sessions: the numerator of the page's engagement time.", Count, Sum, Flow, "pages", PAGE_DIMS),
    MetricSpec::new("page_engagement_time", "Page engagement time", "Average active time on the page per session that viewed it, in seconds.", Count, Avg, Flow, "pages", PAGE_DIMS).ratio("page_engagement_seconds", "page_sessions"),
    MetricSpec::new("page_scroll_depth_total", "Page scroll depth × sessions", "The page's average scroll depth times its sessions: the numerator of its scroll depth.", Count, Sum, Flow, "pages", PAGE_DIMS),
    MetricSpec::new("page_scroll_depth", "Page scroll depth", "Average scroll depth on the page, in percent.", Percent, Avg, Flow, "pages", PAGE_DIMS).ratio("page_scroll_depth_total", "page_sessions"),
    MetricSpec::new("page_dead_clicks", "Page dead clicks", "Dead clicks on the page.", Count, Sum, Flow, "pages", PAGE_DIMS).bad_when_rising(),
    MetricSpec::new("page_rage_clicks", "Page rage clicks", "Rage clicks on the page.", Count, Sum, Flow, "pages", PAGE_DIMS).bad_when_rising(),
    MetricSpec::new("page_quickbacks", "Page quick backs", "Quick backs from the page.", Count, Sum, Flow, "pages", PAGE_DIMS).bad_when_rising(),
    MetricSpec::new("page_excessive_scrolling", "Page excessive scrolling", "Excessive scrolling on the page.", Count, Sum, Flow, "pages", PAGE_DIMS).bad_when_rising(),
];

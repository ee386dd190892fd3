//! The generated behaviour behind the simulated Clarity projects: sessions with
//! their device, browser, country and page views, hour by hour, deterministic in
//! the seed (each hour draws from its own stream, so advancing in steps gives the
//! same sessions as advancing at once). Also the project's export calls, for the
//! daily limit and for tests to read.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{
    common::{
        clock::Clock,
        rng::{hash_str, mix, Rng},
        season::Season,
        time::{DAY, HOUR},
    },
    provider::ProviderData,
};

/// Sessions a day per project at the initial data clock, before seasonality.
const DAILY_SESSIONS: f64 = 160.0;
/// Clarity can only export the 72 hours before a call: nothing older is generated.
const LOOKBACK: i64 = 3 * DAY;

pub(crate) const DEVICES: &[(&str, f64)] = &[("PC", 0.45), ("Mobile", 0.45), ("Tablet", 0.10)];
pub(crate) const BROWSERS: &[(&str, f64)] = &[
    ("Chrome", 0.45),
    ("Safari", 0.25),
    ("Edge", 0.12),
    ("Firefox", 0.10),
    ("Samsung Internet", 0.08),
];
pub(crate) const COUNTRIES: &[(&str, f64)] = &[
    ("United States", 0.35),
    ("Germany", 0.15),
    ("United Kingdom", 0.12),
    ("France", 0.10),
    ("Canada", 0.10),
    ("India", 0.08),
    ("Brazil", 0.05),
    ("Japan", 0.05),
];
/// Paths of the simulated site, with how often a page view lands on each.
const PAGES: &[(&str, f64)] = &[
    ("/", 0.30),
    ("/products", 0.18),
    ("/products/espresso-blend", 0.12),
    ("/products/burr-grinder", 0.08),
    ("/cart", 0.10),
    ("/checkout", 0.06),
    ("/blog/brewing-guide", 0.08),
    ("/about", 0.05),
    ("/contact", 0.03),
];

/// One page view of a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClarityPageView {
    /// The full URL, as Clarity reports it.
    pub url: String,
    pub active_seconds: i64,
    /// How far down the page the visitor scrolled, 0–100.
    pub scroll_depth: i64,
    pub dead_clicks: i64,
    pub rage_clicks: i64,
    /// 0 or 1: the visitor left the page and came back within seconds.
    pub quickbacks: i64,
    /// 0 or 1: scrolled through far more than read.
    pub excessive_scrolls: i64,
}

/// One recorded session. Its engagement is the sum of its page views' active time,
/// its scroll depth the deepest of its page views', its frustration counts the
/// sums of its page views'.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaritySession {
    pub id: u64,
    /// Unix seconds.
    pub start: i64,
    pub user: u64,
    pub bot: bool,
    pub device: String,
    pub browser: String,
    pub country: String,
    pub total_seconds: i64,
    /// Distinct pages, each viewed once.
    pub pages: Vec<ClarityPageView>,
}

/// One request to the export endpoint, as the simulator answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClarityCall {
    /// The data clock when it was answered (the end of its window).
    pub at: i64,
    /// `YYYY-MM-DD` of `at`: the day its project's limit counts it on.
    pub day: String,
    /// The project of the token, when the token was valid.
    pub project: Option<String>,
    pub num_of_days: Option<String>,
    pub dimensions: Vec<String>,
    pub status: u16,
}

/// One project's generated sessions.
#[derive(Debug)]
pub(crate) struct Project {
    seed: u64,
    site: String,
    anchor: i64,
    season: Season,
    /// Every hour before this is generated (whole hours; queries cut at the clock).
    generated_until: i64,
    next_id: u64,
    pub sessions: Vec<ClaritySession>,
}

impl Project {
    fn new(seed: u64, project: &str, clock: &Clock) -> Self {
        let start = (clock.end - LOOKBACK).div_euclid(HOUR) * HOUR;
        let mut project = Self {
            seed: mix(seed ^ hash_str("clarity") ^ hash_str(project)),
            site: format!("https://{project}.example.com"),
            anchor: clock.data.end,
            season: Season {
                weekend: 0.8,
                months: [0.9, 0.9, 1.0, 1.0, 1.0, 0.95, 0.9, 0.9, 1.0, 1.05, 1.2, 1.3],
                bfcm: 1.5,
                growth_per_year: 1.3,
            },
            generated_until: start,
            next_id: 1,
            sessions: Vec::new(),
        };
        project.advance(clock.end);
        project
    }

    fn advance(&mut self, t: i64) {
        while self.generated_until < t {
            self.generate_hour(self.generated_until);
            self.generated_until += HOUR;
        }
    }

    fn generate_hour(&mut self, hour: i64) {
        let mut rng = Rng::new(mix(self.seed ^ hour as u64));
        let rate = self
            .season
            .hourly_rate(DAILY_SESSIONS, hour, self.anchor);
        let pick = |rng: &mut Rng, table: &[(&str, f64)]| {
            let weights: Vec<f64> = table.iter().map(|(_, w)| *w).collect();
            table[rng.weighted(&weights)].0.to_owned()
        };
        let mut sessions = Vec::new();
        for _ in 0..rng.poisson(rate) {
            let device = pick(&mut rng, DEVICES);
            let mobile = device != "PC";
            let views = 1 + rng.weighted(&[0.45, 0.3, 0.15, 0.1]);
            let mut pages: Vec<ClarityPageView> = Vec::new();
            while pages.len() < views {
                let path = pick(&mut rng, PAGES);
                let url = format!("{}{path}", self.site);
                if pages.iter().any(|p| p.url == url) {
                    continue;
                }
                let frustrated = rng.chance(if path == "/checkout" { 0.35 } else { 0.12 });
                pages.push(ClarityPageView {
                    url,
                    active_seconds: rng.range(3, if mobile { 120 } else { 200 }),
                    scroll_depth: rng.range(5, 101),
                    dead_clicks: if frustrated { rng.range(0, 4) } else { 0 },
                    rage_clicks: if frustrated && rng.chance(0.4) { rng.range(1, 3) } else { 0 },
                    quickbacks: i64::from(rng.chance(0.08)),
                    excessive_scrolls: i64::from(mobile && rng.chance(0.04)),
                });
            }
            let active: i64 = pages.iter().map(|p| p.active_seconds).sum();
            sessions.push(ClaritySession {
                id: self.next_id,
                start: hour + rng.range(0, HOUR),
                user: rng.below(5_000),
                bot: rng.chance(0.03),
                browser: pick(&mut rng, BROWSERS),
                country: pick(&mut rng, COUNTRIES),
                device,
                total_seconds: active + rng.range(0, 300),
                pages,
            });
            self.next_id += 1;
        }
        sessions.sort_by_key(|s| (s.start, s.id));
        self.sessions.extend(sessions);
    }
}

/// Every project's sessions and every export call, kept in the world.
#[derive(Debug, Default)]
pub(crate) struct ClarityData {
    pub projects: BTreeMap<String, Project>,
    pub calls: Vec<ClarityCall>,
    /// When set, the next successful export answers a body of the wrong shape.
    pub malformed_next: bool,
}

impl ClarityData {
    /// A project's sessions, generated up to the clock on first use.
    pub fn project(&mut self, clock: &Clock, project: &str) -> &mut Project {
        self.projects
            .entry(project.to_owned())
            .or_insert_with(|| Project::new(clock.data.seed, project, clock))
    }

    /// The calls of `project` counted on `day` (every answered request but
    /// refusals for the limit itself).
    pub fn calls_on(&self, project: &str, day: &str) -> usize {
        self.calls
            .iter()
            .filter(|c| c.project.as_deref() == Some(project) && c.day == day && c.status != 429)
            .count()
    }
}

impl ProviderData for ClarityData {
    fn advance(&mut self, t: i64) {
        for project in self.projects.values_mut() {
            project.advance(t);
        }
    }
}

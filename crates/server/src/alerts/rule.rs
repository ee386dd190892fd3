//! What an alert rule is: the metric it watches (in the widgets' query model, so an
//! alert and the widget it came from see the same number), the period it compares,
//! and its kind. [`Rule::queries`] turns a rule into the two metrics-service queries
//! that answer it; [`judge`] decides from their answers.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use pulseboard_connectors::{MetricUnit, Registry};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::detect::{self, Band};
use crate::{
    error::ApiError,
    metrics::{
        query::{Filter, Granularity, QueryConfig, RangeSpec, Scope, Validated},
        result::{Freshness, QueryResult},
        window::{CompareTo, Preset},
    },
    notify::format,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The period's value is above the threshold.
    Above,
    /// The period's value is below the threshold.
    Below,
    /// The period's value rose more than `threshold` percent versus `compare_days` ago.
    PctChangeAbove,
    /// The period's value fell more than `threshold` percent versus `compare_days` ago.
    PctChangeBelow,
    /// Yesterday's value is outside the band the metric usually moves in on that
    /// weekday (`threshold` is the sensitivity k; see the method text).
    Anomaly,
    /// Today so far is more than `threshold` percent behind the same weekday last
    /// week by this hour (ahead of it, for metrics whose rise is bad news).
    Pace,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Above => "above",
            Self::Below => "below",
            Self::PctChangeAbove => "pct_change_above",
            Self::PctChangeBelow => "pct_change_below",
            Self::Anomaly => "anomaly",
            Self::Pace => "pace",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Above,
            Self::Below,
            Self::PctChangeAbove,
            Self::PctChangeBelow,
            Self::Anomaly,
            Self::Pace,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum AlertPeriod {
    #[serde(rename = "today")]
    Today,
    #[serde(rename = "yesterday")]
    Yesterday,
    #[serde(rename = "last_7_days")]
    Last7Days,
    #[serde(rename = "last_30_days")]
    Last30Days,
}

impl AlertPeriod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Today => "today",
            Self::Yesterday => "yesterday",
            Self::Last7Days => "last_7_days",
            Self::Last30Days => "last_30_days",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Today,
            Self::Yesterday,
            Self::Last7Days,
            Self::Last30Days,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    fn preset(self) -> Preset {
        match self {
            Self::Today => Preset::Today,
            Self::Yesterday => Preset::Yesterday,
            Self::Last7Days => Preset::Last7Days,
            Self::Last30Days => Preset::Last30Days,
        }
    }

    /// In a sentence: "today so far", "yesterday", "over the last 7 days".
    pub fn words(self) -> &'static str {
        match self {
            Self::Today => "today so far",
            Self::Yesterday => "yesterday",
            Self::Last7Days => "over the last 7 days",
            Self::Last30Days => "over the last 30 days",
        }
    }
}

/// The parts of a rule that decide when it fires.
#[derive(Debug, Clone)]
pub struct Rule {
    pub metric: String,
    pub scope: Scope,
    pub filters: Vec<Filter>,
    pub period: AlertPeriod,
    pub kind: AlertKind,
    pub threshold: f64,
    pub compare_days: u16,
}

/// The two queries that answer a rule: its value (with the baseline as the
/// comparison period where the kind has one) and the daily history behind the
/// sparkline and the anomaly band.
pub struct RuleQueries {
    pub current: Validated,
    pub history: Validated,
}

impl Rule {
    /// Checks the rule's combination of kind and period, and its metric against the
    /// catalog (as a widget query is checked).
    pub fn queries(&self, providers: &Registry) -> Result<RuleQueries, ApiError> {
        match (self.kind, self.period) {
            (AlertKind::Pace, p) if p != AlertPeriod::Today => {
                return Err(ApiError::validation(
                    "period",
                    "a pace alert compares today so far with last week: use period \"today\"",
                ))
            }
            (AlertKind::Anomaly, p) if p != AlertPeriod::Yesterday => {
                return Err(ApiError::validation(
                    "period",
                    "an anomaly alert judges a whole day against the same weekday: use period \"yesterday\"",
                ))
            }
            (AlertKind::PctChangeAbove | AlertKind::PctChangeBelow, AlertPeriod::Today) => {
                return Err(ApiError::validation(
                    "period",
                    "a change alert compares whole days; for today so far use a pace alert",
                ))
            }
            _ => {}
        }
        if !self.threshold.is_finite() {
            return Err(ApiError::validation("threshold", "must be a number"));
        }
        let percent_kind = matches!(
            self.kind,
            AlertKind::PctChangeAbove | AlertKind::PctChangeBelow | AlertKind::Pace
        );
        if percent_kind && !(0.0..=10_000.0).contains(&self.threshold) {
            return Err(ApiError::validation(
                "threshold",
                "a percentage between 0 and 10000",
            ));
        }
        if self.kind == AlertKind::Anomaly && !(0.5..=10.0).contains(&self.threshold) {
            return Err(ApiError::validation(
                "threshold",
                "the anomaly sensitivity is between 0.5 and 10 (3 is usual)",
            ));
        }
        let config = |range: Preset| QueryConfig {
            metric: self.metric.clone(),
            aggregation: None,
            range: RangeSpec::Preset(range),
            granularity: Granularity::Day,
            group_by: None,
            filters: self.filters.clone(),
            compare_to: CompareTo::None,
            scope: self.scope.clone(),
        };
        let mut current = config(self.period.preset()).validate(providers)?;
        current.compare_days_ago = match self.kind {
            AlertKind::PctChangeAbove | AlertKind::PctChangeBelow => Some(self.compare_days),
            AlertKind::Pace => Some(7),
            _ => None,
        };
        let history = config(Preset::Last90Days).validate(providers)?;
        Ok(RuleQueries { current, history })
    }
}

/// What one evaluation concluded.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// `ok`, `triggered` or `waiting`.
    pub state: &'static str,
    /// Why it waits, or what fired, in words.
    pub reason: Option<String>,
    pub fire: bool,
    pub value: Option<i64>,
    pub baseline: Option<i64>,
    /// The evaluated window's identity: a rule fires at most once per window.
    pub window_key: String,
    pub facts: Facts,
}

/// The formatted facts a message about the rule states.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Facts {
    /// "above", "down 32.0%", "outside its usual range", "behind pace".
    pub direction: String,
    /// "$1,000.00", "20%", "$800.00–$1,200.00".
    pub threshold: String,
    pub current: String,
    pub baseline_label: String,
    pub baseline: String,
    pub explanation: String,
}

/// What `judge` needs besides the two answers.
pub struct Context<'a> {
    pub metric_name: &'a str,
    pub now: DateTime<Utc>,
    /// For the providers' names and sync cadences.
    pub providers: &'a Registry,
    pub rise_is_bad: bool,
}

/// How long after its expected sync a source counts as stale: two missed syncs and
/// half an hour of slack.
fn staleness(cadence_minutes: u32) -> Duration {
    Duration::minutes(i64::from(cadence_minutes) * 2 + 30)
}

/// Why the data behind a result cannot be trusted yet, if it cannot: no source, a
/// source in trouble, a source that has not synced recently, or (for whole-day
/// periods) one that has not synced since the evaluated day closed.
pub fn waiting_reason(
    freshness: &[Freshness],
    window_closes: Option<DateTime<Utc>>,
    ctx: &Context<'_>,
) -> Option<String> {
    if freshness.is_empty() {
        return Some("no connected source reports this metric".into());
    }
    for f in freshness {
        let info = ctx.providers.get(&f.provider).map(|p| p.info());
        let name = info.as_ref().map_or(f.provider.as_str(), |i| i.name);
        let cadence = info.as_ref().map_or(60, |i| i.default_cadence_minutes);
        match f.status.as_str() {
            "reauth_required" => return Some(format!("{name} needs to be reconnected")),
            "error" => return Some(format!("{name}'s last sync failed")),
            "disconnected" => return Some(format!("{name} is disconnected")),
            _ => {}
        }
        let Some(synced) = f.last_synced_at else {
            return Some(format!("{name} has not finished its first sync"));
        };
        if ctx.now - synced > staleness(cadence) {
            let hours = (ctx.now - synced).num_minutes() as f64 / 60.0;
            return Some(format!("{name} last synced {hours:.1} h ago"));
        }
        if window_closes.is_some_and(|closes| synced < closes) {
            return Some(format!(
                "waiting for {name}'s first sync after the day closed"
            ));
        }
    }
    None
}

/// The UTC instant a result's window closed, for windows of whole days.
fn window_closes(result: &QueryResult) -> Option<DateTime<Utc>> {
    if result.range.until.is_some() {
        return None;
    }
    let tz: Tz = result.timezone.parse().unwrap_or(Tz::UTC);
    let next_day = result.range.to + Duration::days(1);
    tz.from_local_datetime(&next_day.and_time(NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// Decides a rule from its two answers.
pub fn judge(
    rule: &Rule,
    current: &QueryResult,
    history: &QueryResult,
    ctx: &Context<'_>,
) -> Judgement {
    let unit = unit_of(&current.unit);
    let currency = current.currency.as_deref();
    let fmt = |v: i64| format::value(unit, currency, v);
    let window_key = current.range.to.to_string();
    let mut judgement = Judgement {
        state: "ok",
        reason: None,
        fire: false,
        value: current.total,
        baseline: None,
        window_key,
        facts: Facts::default(),
    };
    if let Some(reason) = waiting_reason(&current.freshness, window_closes(current), ctx) {
        judgement.state = "waiting";
        judgement.reason = Some(reason);
        return judgement;
    }
    let Some(value) = current.total else {
        judgement.state = "waiting";
        judgement.reason = Some("no value for this period yet".into());
        return judgement;
    };
    let period = rule.period.words();
    let metric = ctx.metric_name;
    let facts = &mut judgement.facts;
    facts.current = fmt(value);
    let fired = match rule.kind {
        AlertKind::Above | AlertKind::Below => {
            let above = rule.kind == AlertKind::Above;
            facts.direction = if above { "above" } else { "below" }.into();
            facts.threshold = format::threshold(unit, currency, rule.threshold);
            facts.baseline_label = "Threshold".into();
            facts.baseline = facts.threshold.clone();
            facts.explanation = format!(
                "{metric} {period} is {}, {} your threshold of {}.",
                facts.current, facts.direction, facts.threshold
            );
            if above {
                value as f64 > rule.threshold
            } else {
                (value as f64) < rule.threshold
            }
        }
        AlertKind::PctChangeAbove | AlertKind::PctChangeBelow | AlertKind::Pace => {
            let previous = current.previous.as_ref().and_then(|p| p.total);
            judgement.baseline = previous;
            let Some(previous) = previous else {
                judgement.state = "waiting";
                judgement.reason = Some("no value to compare with yet".into());
                return judgement;
            };
            facts.baseline = fmt(previous);
            facts.threshold = format!("{}%", trim(rule.threshold));
            if rule.kind == AlertKind::Pace {
                // Early in the day a few orders swing the pace by 90 %: judge it only
                // once last week had made a fifth of its day by this hour.
                let last_week = current.range.to - Duration::days(7);
                let whole_day = daily(history)
                    .into_iter()
                    .find(|(d, _)| *d == last_week)
                    .and_then(|(_, v)| v);
                if let Some(whole_day) = whole_day.filter(|w| *w > 0) {
                    if previous * 5 < whole_day {
                        judgement.state = "waiting";
                        judgement.reason = Some(format!(
                            "too early in the day to judge the pace: by this hour last {} had made {}% of its day",
                            weekday(current.range.to),
                            previous * 100 / whole_day
                        ));
                        return judgement;
                    }
                }
            }
            let Some(change) = detect::pct_change(value, previous) else {
                judgement.reason = Some("the comparison value is zero".into());
                return judgement;
            };
            let (fires, direction) = match rule.kind {
                AlertKind::PctChangeAbove => (change > rule.threshold, "up"),
                AlertKind::PctChangeBelow => (-change > rule.threshold, "down"),
                _ if ctx.rise_is_bad => (change > rule.threshold, "ahead of pace"),
                _ => (-change > rule.threshold, "behind pace"),
            };
            if rule.kind == AlertKind::Pace {
                let until = current
                    .range
                    .until
                    .map(|t| t.format("%H:%M").to_string())
                    .unwrap_or_default();
                facts.direction = direction.into();
                facts.baseline_label = format!("Same time last {}", weekday(current.range.to));
                facts.explanation = format!(
                    "{metric} today so far is {} ({}), against {} by {until} last {}.",
                    facts.current,
                    format::change(change),
                    facts.baseline,
                    weekday(current.range.to),
                );
            } else {
                let days = rule.compare_days;
                facts.direction = format!("{direction} {:.1}%", change.abs());
                facts.baseline_label = format!("{days} days earlier");
                facts.explanation = format!(
                    "{metric} {period} is {} ({} versus {} {days} days earlier).",
                    facts.current,
                    format::change(change),
                    facts.baseline
                );
            }
            fires
        }
        AlertKind::Anomaly => {
            let series = daily(history);
            let past =
                detect::same_weekday_history(&series, current.range.to, detect::HISTORY_WEEKS);
            let Some(band) = detect::usual_band(&past, rule.threshold) else {
                judgement.state = "waiting";
                judgement.reason = Some(format!(
                    "needs {} weeks of history for this weekday (has {})",
                    detect::MIN_HISTORY,
                    past.len()
                ));
                return judgement;
            };
            let Band { median, low, high } = band;
            judgement.baseline = Some(median.round() as i64);
            facts.threshold = format!("{}–{}", fmt(low.round() as i64), fmt(high.round() as i64));
            facts.baseline_label = "Usual range".into();
            facts.baseline = facts.threshold.clone();
            let above = value as f64 > high;
            facts.direction = if above {
                "above its usual range"
            } else {
                "below its usual range"
            }
            .into();
            facts.explanation = format!(
                "{metric} {period} was {}, outside the usual range for a {} ({}, median {}).",
                facts.current,
                weekday(current.range.to),
                facts.threshold,
                fmt(median.round() as i64)
            );
            !band.contains(value as f64)
        }
    };
    if fired {
        judgement.state = "triggered";
        judgement.fire = true;
        judgement.reason = Some(judgement.facts.explanation.clone());
    }
    judgement
}

/// The result's daily series as (day, value).
pub fn daily(result: &QueryResult) -> Vec<(NaiveDate, Option<i64>)> {
    result
        .series
        .iter()
        .filter_map(|p| {
            NaiveDate::parse_from_str(&p.bucket, "%Y-%m-%d")
                .ok()
                .map(|d| (d, p.value))
        })
        .collect()
}

pub fn unit_of(unit: &str) -> MetricUnit {
    match unit {
        "currency_minor" => MetricUnit::CurrencyMinor,
        "percent" => MetricUnit::Percent,
        "basis_points" => MetricUnit::BasisPoints,
        _ => MetricUnit::Count,
    }
}

fn weekday(day: NaiveDate) -> String {
    day.format("%A").to_string()
}

fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use chrono::NaiveTime;

    use super::*;
    use crate::metrics::{query::AggregationName, result::Period, window::Window};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn result(
        to: &str,
        until: Option<&str>,
        total: Option<i64>,
        previous: Option<i64>,
    ) -> QueryResult {
        let range = Window {
            from: d(to),
            to: d(to),
            until: until.map(|t| NaiveTime::parse_from_str(t, "%H:%M").unwrap()),
        };
        QueryResult {
            metric: "stripe.gross_revenue".into(),
            name: "Gross revenue".into(),
            unit: "currency_minor".into(),
            rise_is_bad: false,
            currency: Some("USD".into()),
            aggregation: AggregationName::Sum,
            granularity: Granularity::Day,
            timezone: "America/New_York".into(),
            range,
            total,
            series: vec![],
            group_by: None,
            groups: vec![],
            previous: previous.map(|p| Period {
                range,
                total: Some(p),
                series: vec![],
            }),
            delta: None,
            delta_pct: None,
            freshness: vec![Freshness {
                integration_id: uuid::Uuid::nil(),
                provider: "stripe".into(),
                account_label: "Acme".into(),
                status: "active".into(),
                last_synced_at: Some("2026-03-10T12:00:00Z".parse().unwrap()),
            }],
        }
    }

    fn rule(kind: AlertKind, period: AlertPeriod, threshold: f64) -> Rule {
        Rule {
            metric: "stripe.gross_revenue".into(),
            scope: Scope::Store(uuid::Uuid::nil()),
            filters: vec![],
            period,
            kind,
            threshold,
            compare_days: 7,
        }
    }

    fn ctx(now: &str) -> Context<'static> {
        static PROVIDERS: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
        Context {
            metric_name: "Gross revenue",
            now: now.parse().unwrap(),
            providers: PROVIDERS
                .get_or_init(|| Registry::from_config(&Default::default()).unwrap()),
            rise_is_bad: false,
        }
    }

    #[test]
    fn thresholds_fire_strictly_beyond_the_line_and_say_so_in_money() {
        let r = rule(AlertKind::Below, AlertPeriod::Yesterday, 100_000.0);
        let history = result("2026-03-09", None, None, None);
        let low = result("2026-03-09", None, Some(99_999), None);
        let j = judge(&r, &low, &history, &ctx("2026-03-10T12:10:00Z"));
        assert!(j.fire);
        assert_eq!(j.facts.threshold, "$1,000.00");
        assert_eq!(j.facts.current, "$999.99");
        assert_eq!(j.window_key, "2026-03-09");
        let exact = result("2026-03-09", None, Some(100_000), None);
        assert!(!judge(&r, &exact, &history, &ctx("2026-03-10T12:10:00Z")).fire);
    }

    #[test]
    fn a_stale_source_waits_instead_of_firing() {
        let r = rule(AlertKind::Below, AlertPeriod::Yesterday, 100_000.0);
        let history = result("2026-03-09", None, None, None);
        let low = result("2026-03-09", None, Some(1), None);
        // Synced at 12:00; a 15-minute cadence is stale after 60 minutes.
        let j = judge(&r, &low, &history, &ctx("2026-03-10T13:01:00Z"));
        assert_eq!(j.state, "waiting");
        assert!(!j.fire);
        assert!(j.reason.unwrap().contains("last synced"));
    }

    #[test]
    fn a_whole_day_waits_for_the_first_sync_after_it_closed() {
        // Yesterday (New York) closed at 2026-03-10T04:00Z; the last sync was before it.
        let r = rule(AlertKind::Below, AlertPeriod::Yesterday, 100_000.0);
        let mut low = result("2026-03-09", None, Some(1), None);
        low.freshness[0].last_synced_at = Some("2026-03-10T03:55:00Z".parse().unwrap());
        let j = judge(&r, &low, &low.clone(), &ctx("2026-03-10T04:10:00Z"));
        assert_eq!(j.state, "waiting");
        assert!(j.reason.unwrap().contains("after the day closed"));
    }

    #[test]
    fn pace_compares_today_so_far_with_the_same_time_last_week() {
        let r = rule(AlertKind::Pace, AlertPeriod::Today, 30.0);
        let today = result("2026-03-10", Some("14:00"), Some(60_000), Some(100_000));
        let j = judge(&r, &today, &today.clone(), &ctx("2026-03-10T12:10:00Z"));
        // 40 % behind, more than 30 %.
        assert!(j.fire);
        assert_eq!(j.facts.direction, "behind pace");
        assert_eq!(j.facts.baseline_label, "Same time last Tuesday");
        assert_eq!(j.window_key, "2026-03-10");
        let fine = result("2026-03-10", Some("14:00"), Some(75_000), Some(100_000));
        assert!(!judge(&r, &fine, &fine.clone(), &ctx("2026-03-10T12:10:00Z")).fire);
    }

    #[test]
    fn pct_change_reads_the_comparison_period() {
        let r = rule(AlertKind::PctChangeAbove, AlertPeriod::Yesterday, 20.0);
        let up = result("2026-03-09", None, Some(130), Some(100));
        let j = judge(&r, &up, &up.clone(), &ctx("2026-03-10T12:10:00Z"));
        assert!(j.fire);
        assert_eq!(j.facts.direction, "up 30.0%");
        assert_eq!(j.baseline, Some(100));
        let r = rule(AlertKind::PctChangeBelow, AlertPeriod::Yesterday, 20.0);
        assert!(!judge(&r, &up, &up.clone(), &ctx("2026-03-10T12:10:00Z")).fire);
    }

    #[test]
    fn kinds_refuse_periods_they_cannot_judge() {
        let providers = Registry::from_config(&Default::default()).unwrap();
        for (kind, period) in [
            (AlertKind::Pace, AlertPeriod::Yesterday),
            (AlertKind::Anomaly, AlertPeriod::Today),
            (AlertKind::PctChangeAbove, AlertPeriod::Today),
        ] {
            assert!(rule(kind, period, 10.0).queries(&providers).is_err());
        }
        assert!(rule(AlertKind::Above, AlertPeriod::Today, 10.0)
            .queries(&providers)
            .is_ok());
    }
}

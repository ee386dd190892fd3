//! One pass over every enabled rule of every organization: per organization, all
//! its rules' queries go to the metrics service as one batch (a handful of
//! statements whatever the number of rules), every rule's state is recorded in one
//! statement, and only the rules that fire take a transaction of their own.
//!
//! Exactly once per crossing: the firing transaction locks the rule, re-checks
//! snooze and cooldown under that lock, inserts the `alert_events` row (unique per
//! rule and window) and queues its messages in the outbox, and commits all of it
//! together. Two concurrent passes take turns on the lock; the second finds the
//! event (or the cooldown) and sends nothing. A crash before the commit leaves
//! nothing behind, and the next pass fires it.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{
    deliver,
    rule::{self, judge, AlertKind, AlertPeriod, Context, Judgement, Rule, RuleQueries},
};
use crate::{
    db::{self, alerts::AlertRow},
    metrics::{engine, query::Validated, result::QueryResult},
    state::AppState,
};

/// What a pass did.
#[derive(Debug, Default, Clone, Copy, serde::Serialize, utoipa::ToSchema)]
pub struct PassReport {
    pub rules: u64,
    pub fired: u64,
    pub waiting: u64,
    /// Rules whose metric or scope no longer resolves (a deleted store).
    pub invalid: u64,
    /// Organizations whose batch failed (logged); their rules are retried next pass.
    pub failed_orgs: u64,
}

/// The stored rule as the detectors see it; `None` when the row no longer parses.
pub fn rule_of(row: &AlertRow) -> Option<Rule> {
    Some(Rule {
        metric: row.metric.clone(),
        scope: row.scope.0.clone(),
        filters: row.filters.0.clone(),
        period: AlertPeriod::parse(&row.period)?,
        kind: AlertKind::parse(&row.kind)?,
        threshold: row.threshold,
        compare_days: u16::try_from(row.compare_days).ok()?,
    })
}

pub async fn check_all(app: &AppState, now: DateTime<Utc>) -> anyhow::Result<PassReport> {
    let rules = {
        let mut tx = app.db.worker_tx().await?;
        let rules = db::alerts::all_enabled(&mut *tx).await?;
        tx.commit().await?;
        rules
    };
    let mut report = PassReport {
        rules: rules.len() as u64,
        ..Default::default()
    };
    for org_rules in rules.chunk_by(|a, b| a.org_id == b.org_id) {
        let org_id = org_rules[0].org_id;
        if let Err(error) = check_org(app, org_id, org_rules, now, &mut report).await {
            report.failed_orgs += 1;
            tracing::warn!(%org_id, error = %format!("{error:#}"), "alert evaluation failed for an organization");
        }
    }
    if report.fired > 0 {
        tracing::info!(fired = report.fired, rules = report.rules, "alerts fired");
    }
    Ok(report)
}

/// A rule with its parsed form and the indexes of its two answers in the batch.
struct Planned<'a> {
    row: &'a AlertRow,
    rule: Rule,
    current: usize,
    history: usize,
}

async fn check_org(
    app: &AppState,
    org_id: Uuid,
    rows: &[AlertRow],
    now: DateTime<Utc>,
    report: &mut PassReport,
) -> anyhow::Result<()> {
    let mut queries: Vec<Validated> = Vec::new();
    // Rules over the same metric, scope and filters share one history query.
    let mut histories: HashMap<String, usize> = HashMap::new();
    let mut planned = Vec::new();
    let mut evaluated = Vec::new();
    for row in rows {
        let parsed = rule_of(row).ok_or(()).and_then(|rule| {
            rule.queries(&app.providers)
                .map(|q| (rule, q))
                .map_err(|_| ())
        });
        let Ok((rule, RuleQueries { current, history })) = parsed else {
            report.invalid += 1;
            evaluated.push(waiting(row.id, "this rule's metric is no longer available"));
            continue;
        };
        let key = serde_json::to_string(&(&rule.metric, &rule.scope, &rule.filters))?;
        let history = *histories.entry(key).or_insert_with(|| {
            queries.push(history);
            queries.len() - 1
        });
        queries.push(current);
        planned.push(Planned {
            row,
            rule,
            current: queries.len() - 1,
            history,
        });
    }

    let answers = {
        let mut tx = app.db.worker_tx().await?;
        let refs: Vec<&Validated> = queries.iter().collect();
        let answers = engine::run_many(&mut tx, org_id, &refs, now)
            .await
            .map_err(|e| anyhow::anyhow!("metrics batch: {e}"))?;
        tx.commit().await?;
        answers
    };

    let mut firing = Vec::new();
    for p in &planned {
        let (Ok(current), Ok(history)) = (&answers[p.current], &answers[p.history]) else {
            report.invalid += 1;
            evaluated.push(waiting(
                p.row.id,
                "this rule's store or metric no longer resolves",
            ));
            continue;
        };
        let ctx = Context {
            metric_name: &current.name,
            now,
            providers: &app.providers,
            rise_is_bad: current.rise_is_bad,
        };
        let judgement = judge(&p.rule, current, history, &ctx);
        if judgement.state == "waiting" {
            report.waiting += 1;
        }
        evaluated.push(db::alerts::Evaluated {
            id: p.row.id,
            state: judgement.state,
            reason: judgement.reason.clone(),
            value: judgement.value,
            baseline: judgement.baseline,
            series: sparkline(history),
        });
        if judgement.fire && may_fire(p.row, now) {
            firing.push((p, judgement, current, history));
        }
    }
    let mut tx = app.db.worker_tx().await?;
    db::alerts::record_evaluations(&mut *tx, &evaluated, now).await?;
    tx.commit().await?;

    for (p, judgement, current, history) in firing {
        if fire(app, p.row, &judgement, current, history, now).await? {
            report.fired += 1;
        }
    }
    Ok(())
}

fn waiting(id: Uuid, reason: &str) -> db::alerts::Evaluated {
    db::alerts::Evaluated {
        id,
        state: "waiting",
        reason: Some(reason.to_owned()),
        value: None,
        baseline: None,
        series: Vec::new(),
    }
}

/// The last 30 days of the history, for the Alerts page's sparkline.
fn sparkline(history: &QueryResult) -> Vec<Option<i64>> {
    let n = history.series.len();
    history.series[n.saturating_sub(30)..]
        .iter()
        .map(|p| p.value)
        .collect()
}

/// Snooze and cooldown, as read at the start of the pass (re-checked under the lock).
fn may_fire(row: &AlertRow, now: DateTime<Utc>) -> bool {
    gate_open(
        row.enabled,
        row.snoozed_until,
        row.last_triggered_at,
        row.cooldown_minutes,
        now,
    )
}

fn gate_open(
    enabled: bool,
    snoozed_until: Option<DateTime<Utc>>,
    last_triggered_at: Option<DateTime<Utc>>,
    cooldown_minutes: i32,
    now: DateTime<Utc>,
) -> bool {
    enabled
        && snoozed_until.is_none_or(|until| until <= now)
        && last_triggered_at
            .is_none_or(|at| now - at >= Duration::minutes(i64::from(cooldown_minutes)))
}

/// Fires one crossing: true when this call fired it.
async fn fire(
    app: &AppState,
    row: &AlertRow,
    judgement: &Judgement,
    current: &QueryResult,
    history: &QueryResult,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let mut tx = app.db.worker_tx().await?;
    let Some(gate) = db::alerts::lock_for_firing(&mut tx, row.id).await? else {
        return Ok(false);
    };
    if !gate_open(
        gate.enabled,
        gate.snoozed_until,
        gate.last_triggered_at,
        gate.cooldown_minutes,
        now,
    ) {
        return Ok(false);
    }
    // An edited rule is a new rule: it may fire again for the same window.
    let window_key = format!("{}#{}", judgement.window_key, gate.updated_at.timestamp());
    let message = judgement.facts.explanation.clone();
    let event = db::alerts::insert_event(
        &mut tx,
        &db::alerts::NewEvent {
            org_id: row.org_id,
            alert_id: row.id,
            window_key: &window_key,
            value: judgement.value,
            baseline: judgement.baseline,
            message: &message,
        },
    )
    .await?;
    let Some(event_id) = event else {
        return Ok(false);
    };
    let sent = deliver::enqueue(
        app,
        &mut tx,
        row,
        &deliver::Occasion {
            judgement,
            current,
            history,
            now,
            test: false,
        },
    )
    .await?;
    db::alerts::mark_fired(&mut tx, row.id, event_id, sent as i32, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// Evaluates one rule now, without recording anything: the numbers for its sample
/// message ("Send test") and the API's preview.
pub async fn preview(
    app: &AppState,
    tx: &mut db::Tx,
    row: &AlertRow,
    now: DateTime<Utc>,
) -> Result<(Judgement, QueryResult, QueryResult), crate::error::ApiError> {
    let rule = rule_of(row).ok_or(crate::error::ApiError::NotFound("alert"))?;
    let RuleQueries { current, history } = rule.queries(&app.providers)?;
    let mut answers = engine::run_many(tx, row.org_id, &[&current, &history], now).await?;
    let history = answers.pop().expect("two answers")?;
    let current = answers.pop().expect("two answers")?;
    let ctx = rule::Context {
        metric_name: &current.name,
        now,
        providers: &app.providers,
        rise_is_bad: current.rise_is_bad,
    };
    let judgement = judge(&rule, &current, &history, &ctx);
    Ok((judgement, current, history))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_honours_enabled_snooze_and_cooldown() {
        let now: DateTime<Utc> = "2026-03-10T12:00:00Z".parse().unwrap();
        let hours = |h| Some(now - Duration::hours(h));
        assert!(gate_open(true, None, None, 1440, now));
        assert!(!gate_open(false, None, None, 1440, now));
        assert!(!gate_open(
            true,
            Some(now + Duration::hours(1)),
            None,
            1440,
            now
        ));
        assert!(gate_open(
            true,
            Some(now - Duration::seconds(1)),
            None,
            1440,
            now
        ));
        assert!(!gate_open(true, None, hours(23), 1440, now));
        assert!(gate_open(true, None, hours(24), 1440, now));
        assert!(gate_open(true, None, hours(0), 0, now));
    }
}

//! The Monday digest (seed 000: "the hidden retention lever"): for each member of
//! each organization with active integrations, the last 7 days against the 7 before
//! for the metrics on the dashboards that member can see, the top 3 wins and losses,
//! the things to watch, and a link to each dashboard.
//!
//! Each member's digest is computed in a transaction as that member, so row-level
//! security decides what it may contain exactly as it does for their dashboards;
//! one member's mail can never carry another organization's (or another
//! workspace's) numbers. `digests_sent` (unique per organization, member and ISO
//! week) is inserted in the same transaction as the outbox message, so a rerun, two
//! schedulers or a restart send nothing twice.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    alerts::{deliver::freshness_lines, rule::unit_of},
    dashboards::model::{parse_query, WidgetQuery},
    db::{self, outbox::NewEmail, Tx},
    metrics::{
        engine,
        query::{Granularity, QueryConfig, RangeSpec, Validated},
        result::QueryResult,
        window::{CompareTo, Preset},
    },
    notify::{
        format,
        links::{Action, Link, Recipient},
        render::{self, DigestDashboard, DigestMail, Mover, Rendered, SeriesPoint},
    },
    state::AppState,
};

/// Moves smaller than this (in percent) are not news.
const NOTEWORTHY_PCT: f64 = 1.0;

/// The ISO week a digest sent at `now` belongs to: `2026-W49`.
pub fn iso_week(now: DateTime<Utc>) -> String {
    let week = now.iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

/// One metric's week, as the digest shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DigestMetric {
    pub metric: String,
    pub name: String,
    /// The stores it covers, by name.
    pub store: String,
    pub unit: String,
    pub currency: Option<String>,
    /// The last 7 complete days, in the store's zone.
    pub current: Option<i64>,
    /// The 7 days before them.
    pub previous: Option<i64>,
    pub change_pct: Option<f64>,
    /// A rise, or a fall of a metric whose rise is bad news.
    pub good: bool,
    pub series: Vec<Option<i64>>,
}

/// A member's digest: what the mail says, as data (the preview and the tests read it).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Digest {
    pub iso_week: String,
    pub week_label: String,
    pub wins: Vec<DigestMetric>,
    pub losses: Vec<DigestMetric>,
    /// Every dashboard metric, for members who asked for the whole dashboard.
    pub everything: Vec<DigestMetric>,
    pub watch: Vec<String>,
    pub freshness: Vec<String>,
    pub subject: String,
    pub html: String,
    pub text: String,
}

#[derive(Debug, Default, Clone, Copy, Serialize, ToSchema)]
pub struct DigestReport {
    pub organizations: u64,
    pub sent: u64,
    /// Members who already had this week's digest.
    pub already_sent: u64,
    /// Members who turned the digest off.
    pub opted_out: u64,
    /// Members who can see no dashboard metric (nothing to report).
    pub nothing_to_report: u64,
    pub failed: u64,
}

/// Sends this week's digest to every member who has not had it.
pub async fn send_weekly(app: &AppState, now: DateTime<Utc>) -> anyhow::Result<DigestReport> {
    let week = iso_week(now);
    let orgs = {
        let mut tx = app.db.worker_tx().await?;
        let orgs = db::digests::orgs_with_active_integrations(&mut *tx).await?;
        tx.commit().await?;
        orgs
    };
    let mut report = DigestReport {
        organizations: orgs.len() as u64,
        ..Default::default()
    };
    for org_id in orgs {
        let members = {
            let mut tx = app.db.worker_tx().await?;
            let members = db::alerts::members(&mut *tx, org_id, None).await?;
            let sent = db::digests::sent_to(&mut *tx, org_id, &week).await?;
            tx.commit().await?;
            members
                .into_iter()
                .filter(|m| m.role != "viewer")
                .map(|m| (sent.contains(&m.user_id), m))
                .collect::<Vec<_>>()
        };
        for (already, member) in members {
            if already {
                report.already_sent += 1;
                continue;
            }
            if !member.digest {
                report.opted_out += 1;
                continue;
            }
            match send_one(app, org_id, &member, now, &week).await {
                Ok(Outcome::Delivered) => report.sent += 1,
                Ok(Outcome::AlreadySent) => report.already_sent += 1,
                Ok(Outcome::NothingToReport) => report.nothing_to_report += 1,
                Err(error) => {
                    report.failed += 1;
                    tracing::warn!(%org_id, user_id = %member.user_id, error = %format!("{error:#}"), "digest failed for a member");
                }
            }
        }
    }
    if report.sent > 0 {
        tracing::info!(sent = report.sent, week, "weekly digest sent");
    }
    Ok(report)
}

enum Outcome {
    Delivered,
    AlreadySent,
    NothingToReport,
}

async fn send_one(
    app: &AppState,
    org_id: Uuid,
    member: &db::alerts::Recipient,
    now: DateTime<Utc>,
    week: &str,
) -> anyhow::Result<Outcome> {
    let digest = {
        let mut tx = app.db.user_tx(member.user_id).await?;
        let digest = compose(
            app,
            &mut tx,
            org_id,
            member.user_id,
            &member.name,
            member.digest_everything,
            now,
            false,
        )
        .await?;
        tx.commit().await?;
        digest
    };
    let Some((digest, images)) = digest else {
        return Ok(Outcome::NothingToReport);
    };
    let unsubscribe = app.config.link(
        &Link {
            recipient: Recipient::Member(member.user_id),
            org_id,
            action: Action::UnsubscribeDigest,
        }
        .path(&app.vault),
    );
    let mut tx = app.db.worker_tx().await?;
    if !db::digests::claim(&mut *tx, org_id, member.user_id, week).await? {
        return Ok(Outcome::AlreadySent);
    }
    let email_id = db::outbox::enqueue(
        &mut *tx,
        NewEmail {
            org_id,
            kind: "digest",
            to: &member.email,
            subject: &digest.subject,
            body_text: &digest.text,
            body_html: Some(&digest.html),
            inline_images: &images,
            unsubscribe_url: Some(&unsubscribe),
        },
    )
    .await?;
    db::digests::record_email(&mut *tx, org_id, member.user_id, week, email_id).await?;
    tx.commit().await?;
    Ok(Outcome::Delivered)
}

/// Builds a member's digest in their transaction (RLS applies to every read).
/// `None` when they can see no dashboard metric at all.
#[allow(clippy::too_many_arguments)]
pub async fn compose(
    app: &AppState,
    tx: &mut Tx,
    org_id: Uuid,
    user_id: Uuid,
    member_name: &str,
    everything: bool,
    now: DateTime<Utc>,
    preview: bool,
) -> anyhow::Result<Option<(Digest, Vec<render::InlineImage>)>> {
    let org = db::orgs::get(&mut **tx, org_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("organization {org_id} is not visible"))?;
    let dashboards = db::dashboards::list(&mut **tx, org_id).await?;
    // Each metric once, whatever the number of widgets showing it.
    let mut queries: BTreeMap<String, Validated> = BTreeMap::new();
    for dashboard in &dashboards {
        for widget in db::dashboards::list_widgets(&mut **tx, dashboard.id).await? {
            let Ok(WidgetQuery::Metric(q)) =
                parse_query(&widget.kind, &widget.query_config, &app.providers)
            else {
                continue;
            };
            let config = QueryConfig {
                range: RangeSpec::Preset(Preset::Last7Days),
                compare_to: CompareTo::PreviousPeriod,
                granularity: Granularity::Day,
                group_by: None,
                aggregation: None,
                ..q.config.clone()
            };
            let key = serde_json::to_string(&(&config.metric, &config.scope, &config.filters))?;
            if let Ok(v) = config.validate(&app.providers) {
                queries.entry(key).or_insert(v);
            }
        }
    }
    if queries.is_empty() && !preview {
        return Ok(None);
    }
    let refs: Vec<&Validated> = queries.values().collect();
    let answers = engine::run_many(tx, org_id, &refs, now)
        .await
        .map_err(|e| anyhow::anyhow!("digest metrics: {e}"))?;
    let stores = db::stores::list(&mut **tx, org_id, None).await?;
    let mut metrics: Vec<(DigestMetric, QueryResult)> = Vec::new();
    for (q, answer) in refs.iter().zip(answers) {
        let Ok(result) = answer else { continue };
        let store = scope_name(&q.config.scope, &stores);
        metrics.push((metric_of(&result, store), result));
    }
    let week_label = metrics
        .first()
        .map(|(_, r)| {
            format!(
                "{} – {}",
                r.range.from.format("%b %-d"),
                r.range.to.format("%b %-d, %Y")
            )
        })
        .unwrap_or_else(|| "the last 7 days".into());

    let movers = |good: bool| -> Vec<DigestMetric> {
        let mut list: Vec<DigestMetric> = metrics
            .iter()
            .map(|(m, _)| m.clone())
            .filter(|m| m.good == good && m.change_pct.is_some_and(|c| c.abs() >= NOTEWORTHY_PCT))
            .collect();
        list.sort_by(|a, b| {
            let size = |m: &DigestMetric| m.change_pct.unwrap_or(0.0).abs();
            size(b).total_cmp(&size(a))
        });
        list.truncate(3);
        list
    };
    let wins = movers(true);
    let losses = movers(false);
    let everything_list: Vec<DigestMetric> = metrics.iter().map(|(m, _)| m.clone()).collect();
    let watch = watch_list(app, tx, org_id, now).await?;
    let mut freshness: Vec<String> = metrics
        .iter()
        .flat_map(|(_, r)| freshness_lines(app, r, now))
        .collect();
    freshness.sort();
    freshness.dedup();

    let slug = &org.slug;
    let mail = DigestMail {
        org_name: org.name.clone(),
        member_name: member_name.to_owned(),
        week_label: week_label.clone(),
        wins: wins.iter().map(mover).collect(),
        losses: losses.iter().map(mover).collect(),
        everything: everything.then(|| everything_list.iter().map(mover).collect()),
        watch: watch.clone(),
        freshness: freshness.clone(),
        dashboards: dashboards
            .iter()
            .map(|d| DigestDashboard {
                name: d.name.clone(),
                url: app.config.link(&format!("/dashboards/{}?org={slug}", d.id)),
            })
            .collect(),
        preferences_url: app
            .config
            .link(&format!("/settings/notifications?org={slug}")),
        unsubscribe_url: app.config.link(
            &Link {
                recipient: Recipient::Member(user_id),
                org_id,
                action: Action::UnsubscribeDigest,
            }
            .path(&app.vault),
        ),
        is_preview: preview,
    };
    let Rendered {
        subject,
        html,
        text,
        images,
    } = render::digest_email(&mail)?;
    Ok(Some((
        Digest {
            iso_week: iso_week(now),
            week_label,
            wins,
            losses,
            everything: everything_list,
            watch,
            freshness,
            subject,
            html,
            text,
        },
        images,
    )))
}

fn scope_name(scope: &crate::metrics::query::Scope, stores: &[db::stores::Store]) -> String {
    use crate::metrics::query::Scope;
    match scope {
        Scope::Store(id) => stores
            .iter()
            .find(|s| s.id == *id)
            .map_or_else(|| "a store".into(), |s| s.name.clone()),
        Scope::Stores(ids) => format!("{} stores", ids.len()),
        Scope::Workspace(_) => "all stores".into(),
    }
}

fn metric_of(result: &QueryResult, store: String) -> DigestMetric {
    let previous = result.previous.as_ref().and_then(|p| p.total);
    let change_pct = match (result.total, previous) {
        (Some(c), Some(p)) => crate::alerts::detect::pct_change(c, p),
        _ => None,
    };
    let rose = change_pct.is_some_and(|c| c > 0.0);
    DigestMetric {
        metric: result.metric.clone(),
        name: result.name.clone(),
        store,
        unit: result.unit.clone(),
        currency: result.currency.clone(),
        current: result.total,
        previous,
        change_pct,
        good: rose != result.rise_is_bad,
        series: result.series.iter().map(|p| p.value).collect(),
    }
}

fn mover(m: &DigestMetric) -> Mover {
    let unit = unit_of(&m.unit);
    let fmt = |v: Option<i64>| {
        v.map(|v| format::value(unit, m.currency.as_deref(), v))
            .unwrap_or_else(|| "–".into())
    };
    Mover {
        metric: m.name.clone(),
        store: m.store.clone(),
        current: fmt(m.current),
        previous: fmt(m.previous),
        change: m
            .change_pct
            .map(format::change)
            .unwrap_or_else(|| "new".into()),
        good: m.good,
        series: m
            .series
            .iter()
            .enumerate()
            .map(|(i, v)| SeriesPoint {
                label: i.to_string(),
                value: v.map(|v| v as f64),
            })
            .collect(),
    }
}

/// Alerts fired this week, sources in trouble, and plan caps near their limit.
async fn watch_list(
    app: &AppState,
    tx: &mut Tx,
    org_id: Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<String>> {
    let mut watch = Vec::new();
    let since = now - Duration::days(7);
    for (name, fired_at) in db::digests::alerts_fired(&mut **tx, org_id, since).await? {
        watch.push(format!(
            "Alert \u{201c}{name}\u{201d} fired on {}",
            fired_at.format("%a %b %-d")
        ));
    }
    for (provider, label, status) in db::digests::troubled_integrations(&mut **tx, org_id).await? {
        let name = app
            .providers
            .get(&provider)
            .map_or(provider.clone(), |p| p.info().name.to_owned());
        let what = match status.as_str() {
            "reauth_required" => "needs to be reconnected",
            _ => "failed to sync",
        };
        watch.push(format!("{name} ({label}) {what}"));
    }
    let usage = db::usage::of_org(&mut **tx, org_id).await?;
    let used = usage.metric_events_this_month;
    if let Some(cap) = crate::domain::plans::plan(&usage.plan).max_events_per_month {
        if cap > 0 && used * 100 >= cap * 80 {
            watch.push(format!(
                "Synced events this month are at {}% of your plan's {} cap",
                used * 100 / cap,
                format::grouped(cap as u64)
            ));
        }
    }
    Ok(watch)
}

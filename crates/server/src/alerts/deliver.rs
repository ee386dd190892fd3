//! The messages of a firing: one mail per recipient (members who still want alert
//! mail, and the outside addresses the rule names) and the rule's Slack channel,
//! all queued in the caller's transaction so they commit with the event.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::rule::{daily, Judgement};
use crate::{
    db::{self, alerts::AlertRow, outbox::NewEmail, Tx},
    metrics::result::QueryResult,
    notify::{
        links::{Action, Link, Recipient},
        render::{self, AlertMail, SeriesPoint},
    },
    state::AppState,
};

/// What is being announced.
pub struct Occasion<'a> {
    pub judgement: &'a Judgement,
    pub current: &'a QueryResult,
    pub history: &'a QueryResult,
    pub now: DateTime<Utc>,
    /// A sample from "Send test": marked as such, and only to the person asking.
    pub test: bool,
}

/// The provider's name for a subject line: "Stripe", or "GA4 + Shopify" for a
/// metric computed from two sources.
fn provider_label(app: &AppState, result: &QueryResult) -> String {
    let source = result.metric.split('.').next().unwrap_or_default();
    if let Some(p) = app.providers.get(source) {
        return p.info().name.to_owned();
    }
    let mut names: Vec<String> = result
        .freshness
        .iter()
        .map(|f| {
            app.providers
                .get(&f.provider)
                .map_or(f.provider.clone(), |p| p.info().name.to_owned())
        })
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        "Pulseboard".into()
    } else {
        names.join(" + ")
    }
}

/// "Stripe synced 8 min ago" for each source behind the number.
pub fn freshness_lines(app: &AppState, result: &QueryResult, now: DateTime<Utc>) -> Vec<String> {
    result
        .freshness
        .iter()
        .map(|f| {
            let name = app
                .providers
                .get(&f.provider)
                .map_or(f.provider.clone(), |p| p.info().name.to_owned());
            match f.last_synced_at {
                Some(at) => format!("{name} synced {}", ago(now - at)),
                None => format!("{name} has not synced yet"),
            }
        })
        .collect()
}

pub fn ago(d: chrono::Duration) -> String {
    let minutes = d.num_minutes().max(0);
    match minutes {
        0 => "just now".into(),
        1..=59 => format!("{minutes} min ago"),
        60..=2879 => format!("{} h ago", minutes / 60),
        _ => format!("{} days ago", minutes / 1440),
    }
}

/// The message's facts, for one recipient's links.
fn mail(
    app: &AppState,
    org: &db::orgs::Org,
    row: &AlertRow,
    o: &Occasion<'_>,
    recipient: &Recipient,
) -> AlertMail {
    let facts = &o.judgement.facts;
    let link = |action| {
        app.config.link(
            &Link {
                recipient: recipient.clone(),
                org_id: row.org_id,
                action,
            }
            .path(&app.vault),
        )
    };
    let threshold_line = match row.kind.as_str() {
        "above" | "below" => Some(row.threshold),
        _ => None,
    };
    let series = daily(o.history)
        .into_iter()
        .rev()
        .take(30)
        .rev()
        .map(|(day, value)| SeriesPoint {
            label: day.to_string(),
            value: value.map(|v| v as f64),
        })
        .collect();
    AlertMail {
        org_name: org.name.clone(),
        rule_name: row.name.clone(),
        provider: provider_label(app, o.current),
        metric: o.current.name.clone(),
        direction: facts.direction.clone(),
        threshold: facts.threshold.clone(),
        current: facts.current.clone(),
        baseline_label: facts.baseline_label.clone(),
        baseline: facts.baseline.clone(),
        explanation: facts.explanation.clone(),
        series,
        threshold_line,
        freshness: freshness_lines(app, o.current, o.now),
        dashboard_url: row.dashboard_id.map(|id| {
            app.config
                .link(&format!("/dashboards/{id}?org={}", org.slug))
        }),
        rule_url: app
            .config
            .link(&format!("/alerts?org={}&alert={}", org.slug, row.id)),
        snooze_url: link(Action::Snooze(row.id)),
        unsubscribe_url: link(Action::UnsubscribeAlerts),
        is_test: o.test,
    }
}

/// Queues the occasion's messages; returns how many mails and channels it went to.
pub async fn enqueue(
    app: &AppState,
    tx: &mut Tx,
    row: &AlertRow,
    o: &Occasion<'_>,
) -> anyhow::Result<usize> {
    let org = db::orgs::get(&mut **tx, row.org_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("organization {} is gone", row.org_id))?;
    let mut recipients: Vec<(Recipient, String)> = Vec::new();
    let members = db::alerts::members(&mut **tx, row.org_id, Some(&row.recipient_user_ids)).await?;
    for m in members {
        // Viewers are shown only what they are shared; alert mail stops with the preference.
        if m.role != "viewer" && m.alert_mail {
            recipients.push((Recipient::Member(m.user_id), m.email));
        }
    }
    for email in &row.recipient_emails {
        recipients.push((Recipient::Address(email.clone()), email.clone()));
    }
    let mut sent = 0;
    let mut first: Option<AlertMail> = None;
    for (recipient, address) in &recipients {
        let facts = mail(app, &org, row, o, recipient);
        let rendered = render::alert_email(&facts)?;
        db::outbox::enqueue(
            &mut **tx,
            NewEmail {
                org_id: row.org_id,
                kind: "alert",
                to: address,
                subject: &rendered.subject,
                body_text: &rendered.text,
                body_html: Some(&rendered.html),
                inline_images: &rendered.images,
                unsubscribe_url: Some(&facts.unsubscribe_url),
            },
        )
        .await?;
        sent += 1;
        first.get_or_insert(facts);
    }
    if let Some(channel) = row.slack_channel_id {
        let facts = match first {
            Some(facts) => facts,
            None => mail(app, &org, row, o, &Recipient::Member(Uuid::nil())),
        };
        db::slack::enqueue(&mut **tx, row.org_id, channel, &render::alert_slack(&facts)).await?;
        sent += 1;
    }
    Ok(sent)
}

/// Queues a sample of the rule's message to one address (the "Send test" button).
pub async fn enqueue_test(
    app: &AppState,
    tx: &mut Tx,
    row: &AlertRow,
    o: &Occasion<'_>,
    user_id: Uuid,
    address: &str,
) -> anyhow::Result<()> {
    let org = db::orgs::get(&mut **tx, row.org_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("organization {} is gone", row.org_id))?;
    let facts = mail(app, &org, row, o, &Recipient::Member(user_id));
    let rendered = render::alert_email(&facts)?;
    db::outbox::enqueue(
        &mut **tx,
        NewEmail {
            org_id: row.org_id,
            kind: "alert_test",
            to: address,
            subject: &rendered.subject,
            body_text: &rendered.text,
            body_html: Some(&rendered.html),
            inline_images: &rendered.images,
            unsubscribe_url: Some(&facts.unsubscribe_url),
        },
    )
    .await?;
    if let Some(channel) = row.slack_channel_id {
        db::slack::enqueue(&mut **tx, row.org_id, channel, &render::alert_slack(&facts)).await?;
    }
    Ok(())
}

//! Renders the alert email, the weekly digest email and the Slack alert message.
//!
//! Pure functions of their input: no database, no clock, no network. The emails are
//! MJML templates (`templates/`, filled by the escaping [`template::fill`]) rendered by
//! `mrml` into HTML that survives mail clients, plus a plain-text part with the same
//! facts. Charts are PNGs attached inline and referenced as `cid:…`, never remote
//! images. `cargo test -p pulseboard-server --lib notify::render::tests::write_samples --
//! --ignored` writes sample HTML files to `target/email-samples/` for a human to look at.

mod chart;
mod slack;
mod template;

use std::fmt::Write as _;

use anyhow::Context;
pub use chart::sparkline_png;
pub use slack::alert_slack;
use template::{fill, markup, text};

/// The outbox's inline image: embedded in the HTML part, referenced as `cid:{content_id}`.
pub use crate::db::outbox::InlineImage;

/// A rendered email: the outbox sends `html` and `text` as alternatives and attaches
/// `images` inline.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: String,
    pub images: Vec<InlineImage>,
}

/// One point of a chart; `None` is a gap (no data), not a zero.
#[derive(Debug, Clone)]
pub struct SeriesPoint {
    /// "2026-11-02" or "14:00".
    pub label: String,
    pub value: Option<f64>,
}

/// Everything an alert email or Slack message says, already formatted for people.
#[derive(Debug, Clone)]
pub struct AlertMail {
    pub org_name: String,
    pub rule_name: String,
    /// "Stripe".
    pub provider: String,
    /// "Net revenue".
    pub metric: String,
    /// "above", "below", "up 25%", "down 30%", "outside its usual range", "behind pace".
    pub direction: String,
    /// "$1,000.00", "20%", "usual range $800–$1,200", "$540 by 14:00 last Tuesday".
    pub threshold: String,
    /// The current value, "$1,234.56".
    pub current: String,
    /// "Threshold", "7 days ago", "Usual range", "Same time last Tuesday".
    pub baseline_label: String,
    pub baseline: String,
    /// One plain sentence: "Net revenue today is $1,234.56, above your threshold of $1,000.00."
    pub explanation: String,
    /// The recent series for the chart (e.g. 30 days).
    pub series: Vec<SeriesPoint>,
    /// Drawn as a dashed horizontal line when present.
    pub threshold_line: Option<f64>,
    /// "Stripe synced 8 min ago".
    pub freshness: Vec<String>,
    pub dashboard_url: Option<String>,
    pub rule_url: String,
    /// Target of the "Snooze for 24 h" button.
    pub snooze_url: String,
    /// Preferences / one-click unsubscribe page, linked from the footer.
    pub unsubscribe_url: String,
    /// A sample sent from "Send test": the subject gets "[Test] " and a banner.
    pub is_test: bool,
}

/// A metric that moved this week.
#[derive(Debug, Clone)]
pub struct Mover {
    pub metric: String,
    pub store: String,
    pub current: String,
    pub previous: String,
    /// "+12.5%".
    pub change: String,
    /// Whether the move is good news (green) or bad news (red) for this metric.
    pub good: bool,
    pub series: Vec<SeriesPoint>,
}

#[derive(Debug, Clone)]
pub struct DigestDashboard {
    pub name: String,
    pub url: String,
}

/// One member's weekly digest.
#[derive(Debug, Clone)]
pub struct DigestMail {
    pub org_name: String,
    pub member_name: String,
    /// "Nov 23 – Nov 29, 2026".
    pub week_label: String,
    /// Up to 3.
    pub wins: Vec<Mover>,
    /// Up to 3.
    pub losses: Vec<Mover>,
    /// `Some(all metrics)` when the member chose "send me the whole dashboard".
    pub everything: Option<Vec<Mover>>,
    /// "Alert 'Refunds spike' fired on Tue", "Shopify failed to sync since Sat".
    pub watch: Vec<String>,
    pub freshness: Vec<String>,
    pub dashboards: Vec<DigestDashboard>,
    pub preferences_url: String,
    pub unsubscribe_url: String,
    pub is_preview: bool,
}

const PNG: &str = "image/png";
/// Pixel sizes are twice the displayed size so charts stay sharp on dense screens.
const ALERT_CHART: (u32, u32) = (1120, 320);
const DIGEST_SPARK: (u32, u32) = (240, 64);
const GOOD: &str = "#15803D";
const BAD: &str = "#DC2626";
const QUIET_WEEK: &str = "A quiet week: no metric moved enough to count as a win or a loss.";

mod tpl {
    pub const HEAD: &str = include_str!("templates/head.mjml");
    pub const BANNER: &str = include_str!("templates/banner.mjml");
    pub const NOTE: &str = include_str!("templates/note.mjml");
    pub const FOOTER: &str = include_str!("templates/footer.mjml");
    pub const FOOTER_LINK: &str = include_str!("templates/footer_link.mjml");
    pub const ALERT: &str = include_str!("templates/alert.mjml");
    pub const DASHBOARD_BUTTON: &str = include_str!("templates/dashboard_button.mjml");
    pub const DIGEST: &str = include_str!("templates/digest.mjml");
    pub const HEADING: &str = include_str!("templates/heading.mjml");
    pub const PARAGRAPH: &str = include_str!("templates/paragraph.mjml");
    pub const MOVERS: &str = include_str!("templates/movers.mjml");
    pub const MOVER_ROW: &str = include_str!("templates/mover_row.mjml");
    pub const LIST: &str = include_str!("templates/list.mjml");
    pub const WATCH_ITEM: &str = include_str!("templates/watch_item.mjml");
    pub const LINK_ITEM: &str = include_str!("templates/link_item.mjml");
}

/// The subject line: `[{provider}] [{metric}] [{direction}] {threshold}`, with
/// `[Test] ` in front of a test send.
pub fn alert_subject(mail: &AlertMail) -> String {
    let subject = format!(
        "{}[{}] [{}] [{}] {}",
        if mail.is_test { "[Test] " } else { "" },
        mail.provider,
        mail.metric,
        mail.direction,
        mail.threshold
    );
    one_line(&subject)
}

/// Renders the alert email with its chart as the inline image `cid:chart`.
pub fn alert_email(mail: &AlertMail) -> anyhow::Result<Rendered> {
    let subject = alert_subject(mail);
    let (w, h) = ALERT_CHART;
    let chart = InlineImage {
        content_id: "chart".into(),
        content_type: PNG.into(),
        bytes: sparkline_png(&mail.series, mail.threshold_line, w, h)
            .context("drawing the alert chart")?,
    };
    let chart_alt = chart_summary(&mail.metric, &mail.series, &mail.current);

    let banner = if mail.is_test {
        banner(
            "Test alert.",
            "This is a sample sent with “Send test”; the rule itself has not fired.",
        )?
    } else {
        String::new()
    };
    // The two buttons sit side by side (stacked on phones); the primary one's column
    // is only as wide as its button so the secondary one follows it instead of
    // starting mid-card.
    let (dashboard_button, snooze_width, snooze_padding) = match &mail.dashboard_url {
        Some(url) => (
            fill(
                tpl::DASHBOARD_BUTTON,
                &[
                    ("url", text(url)),
                    ("label", text("Open dashboard")),
                    ("width", text("34%")),
                ],
            )?,
            "66%",
            "0 24px 12px 0",
        ),
        None => (String::new(), "100%", "0 24px 12px"),
    };
    let reason = format!(
        "You get this email because you are subscribed to alerts in {}.",
        mail.org_name
    );
    let footer = footer(
        &reason,
        &[(
            "Notification preferences or unsubscribe",
            &mail.unsubscribe_url,
        )],
    )?;
    let mjml = fill(
        tpl::ALERT,
        &[
            ("head", markup(head(&subject, &mail.explanation)?)),
            ("banner", markup(banner)),
            ("org_name", text(&mail.org_name)),
            ("provider", text(&mail.provider)),
            ("metric", text(&mail.metric)),
            ("rule_name", text(&mail.rule_name)),
            ("explanation", text(&mail.explanation)),
            ("current", text(&mail.current)),
            ("baseline_label", text(&mail.baseline_label)),
            ("baseline", text(&mail.baseline)),
            ("chart_cid", text(&chart.content_id)),
            ("chart_alt", text(&chart_alt)),
            ("dashboard_button", markup(dashboard_button)),
            ("snooze_width", text(snooze_width)),
            ("snooze_padding", text(snooze_padding)),
            ("snooze_url", text(&mail.snooze_url)),
            ("rule_url", text(&mail.rule_url)),
            ("freshness", markup(notes(&mail.freshness)?)),
            ("footer", markup(footer)),
        ],
    )?;
    let html = mjml_to_html(&mjml).context("rendering the alert email")?;

    let mut t = String::new();
    if mail.is_test {
        t.push_str(
            "[Test] This is a sample sent with \"Send test\"; the rule itself has not fired.\n\n",
        );
    }
    let _ = writeln!(t, "{}", mail.rule_name);
    let _ = writeln!(t, "Alert · {} · {}\n", mail.provider, mail.metric);
    let _ = writeln!(t, "{}\n", mail.explanation);
    let _ = writeln!(t, "Current: {}", mail.current);
    let _ = writeln!(t, "{}: {}\n", mail.baseline_label, mail.baseline);
    if let Some(url) = &mail.dashboard_url {
        let _ = writeln!(t, "Open dashboard: {url}");
    }
    let _ = writeln!(t, "Snooze for 24 h: {}", mail.snooze_url);
    let _ = writeln!(t, "Edit this alert: {}\n", mail.rule_url);
    push_lines(&mut t, &mail.freshness);
    let _ = write!(
        t,
        "-- \n{reason}\nNotification preferences or unsubscribe: {}\n",
        mail.unsubscribe_url
    );

    Ok(Rendered {
        subject,
        html,
        text: t,
        images: vec![chart],
    })
}

/// "Your week at {org}: 2 wins, 1 loss", or "…: a quiet week" when nothing moved.
pub fn digest_subject(mail: &DigestMail) -> String {
    let summary = match (mail.wins.len(), mail.losses.len()) {
        (0, 0) => "a quiet week".to_owned(),
        (wins, losses) => format!(
            "{}, {}",
            count(wins, "win", "wins"),
            count(losses, "loss", "losses")
        ),
    };
    let prefix = if mail.is_preview { "[Preview] " } else { "" };
    one_line(&format!(
        "{prefix}Your week at {}: {summary}",
        mail.org_name
    ))
}

/// Renders one member's weekly digest; each mover's sparkline is an inline image
/// `cid:spark-{n}`.
pub fn digest_email(mail: &DigestMail) -> anyhow::Result<Rendered> {
    let subject = digest_subject(mail);
    let mut images = Vec::new();
    let mut sections = String::new();
    let mut t = String::new();

    if mail.is_preview {
        t.push_str("[Preview] This is how your weekly digest looks with this week's numbers.\n\n");
    }
    let _ = writeln!(t, "Your week at {} ({})", mail.org_name, mail.week_label);
    let _ = writeln!(
        t,
        "Hi {}, here is how {} went.\n",
        mail.member_name, mail.week_label
    );

    if mail.wins.is_empty() && mail.losses.is_empty() {
        sections.push_str(&paragraph(QUIET_WEEK)?);
        let _ = writeln!(t, "{QUIET_WEEK}\n");
    } else {
        for (title, movers, none) in [
            ("Wins", &mail.wins, "No wins this week."),
            ("Losses", &mail.losses, "No losses this week."),
        ] {
            movers_section(title, movers, none, &mut sections, &mut t, &mut images)?;
        }
    }
    if let Some(everything) = &mail.everything {
        movers_section(
            "All metrics",
            everything,
            "Your dashboards have no metrics yet.",
            &mut sections,
            &mut t,
            &mut images,
        )?;
    }
    if !mail.watch.is_empty() {
        let items = mail
            .watch
            .iter()
            .map(|item| fill(tpl::WATCH_ITEM, &[("text", text(item))]))
            .collect::<anyhow::Result<String>>()?;
        sections.push_str(&heading("Things to watch")?);
        sections.push_str(&fill(tpl::LIST, &[("items", markup(items))])?);
        text_heading(&mut t, "Things to watch");
        for item in &mail.watch {
            let _ = writeln!(t, "- {item}");
        }
        t.push('\n');
    }
    if !mail.dashboards.is_empty() {
        let items = mail
            .dashboards
            .iter()
            .map(|d| {
                fill(
                    tpl::LINK_ITEM,
                    &[("url", text(&d.url)), ("name", text(&d.name))],
                )
            })
            .collect::<anyhow::Result<String>>()?;
        sections.push_str(&heading("Your dashboards")?);
        sections.push_str(&fill(tpl::LIST, &[("items", markup(items))])?);
        text_heading(&mut t, "Your dashboards");
        for d in &mail.dashboards {
            let _ = writeln!(t, "- {}: {}", d.name, d.url);
        }
        t.push('\n');
    }
    push_lines(&mut t, &mail.freshness);

    let banner = if mail.is_preview {
        banner(
            "Preview.",
            "This is how your weekly digest looks with this week's numbers.",
        )?
    } else {
        String::new()
    };
    let reason = format!(
        "You get this digest every week as a member of {}.",
        mail.org_name
    );
    let footer = footer(
        &reason,
        &[
            ("Digest preferences", &mail.preferences_url),
            ("Unsubscribe", &mail.unsubscribe_url),
        ],
    )?;
    let preview = format!(
        "{}: {}",
        mail.week_label,
        subject.split_once(": ").map_or("", |(_, s)| s)
    );
    let mjml = fill(
        tpl::DIGEST,
        &[
            ("head", markup(head(&subject, &preview)?)),
            ("banner", markup(banner)),
            ("org_name", text(&mail.org_name)),
            ("member_name", text(&mail.member_name)),
            ("week_label", text(&mail.week_label)),
            ("sections", markup(sections)),
            ("freshness", markup(notes(&mail.freshness)?)),
            ("footer", markup(footer)),
        ],
    )?;
    let html = mjml_to_html(&mjml).context("rendering the digest email")?;
    let _ = write!(
        t,
        "-- \n{reason}\nDigest preferences: {}\nUnsubscribe: {}\n",
        mail.preferences_url, mail.unsubscribe_url
    );

    Ok(Rendered {
        subject,
        html,
        text: t,
        images,
    })
}

fn movers_section(
    title: &str,
    movers: &[Mover],
    none: &str,
    html: &mut String,
    t: &mut String,
    images: &mut Vec<InlineImage>,
) -> anyhow::Result<()> {
    html.push_str(&heading(title)?);
    text_heading(t, title);
    if movers.is_empty() {
        html.push_str(&paragraph(none)?);
        let _ = writeln!(t, "{none}\n");
        return Ok(());
    }
    // One mj-table of rows rather than a section per mover: MJML's columns cost about
    // 5 KB of markup each, and Gmail clips a message past 102 KB (hiding the footer's
    // unsubscribe link), which a whole-dashboard digest would reach at ~15 metrics.
    let mut rows = String::new();
    for mover in movers {
        let content_id = format!("spark-{}", images.len() + 1);
        let (w, h) = DIGEST_SPARK;
        let line = if mover.good {
            chart::PRIMARY
        } else {
            chart::BAD
        };
        let bytes = chart::sparkline_png_in(&mover.series, None, w, h, line)
            .with_context(|| format!("drawing the sparkline of {}", mover.metric))?;
        let (tone_class, tone_color) = if mover.good {
            ("pb-good", GOOD)
        } else {
            ("pb-bad", BAD)
        };
        let spark_alt = format!("{} trend, {} this week", mover.metric, mover.change);
        rows.push_str(&fill(
            tpl::MOVER_ROW,
            &[
                ("metric", text(&mover.metric)),
                ("store", text(&mover.store)),
                ("spark_cid", text(&content_id)),
                ("spark_alt", text(&spark_alt)),
                ("current", text(&mover.current)),
                ("change", text(&mover.change)),
                ("previous", text(&mover.previous)),
                ("tone_class", text(tone_class)),
                ("tone_color", text(tone_color)),
            ],
        )?);
        let _ = writeln!(
            t,
            "- {} ({}): {}, {} from {}",
            mover.metric, mover.store, mover.current, mover.change, mover.previous
        );
        images.push(InlineImage {
            content_id,
            content_type: PNG.into(),
            bytes,
        });
    }
    html.push_str(&fill(tpl::MOVERS, &[("rows", markup(rows))])?);
    t.push('\n');
    Ok(())
}

fn head(title: &str, preview: &str) -> anyhow::Result<String> {
    fill(
        tpl::HEAD,
        &[("title", text(title)), ("preview", text(preview))],
    )
}

fn banner(title: &str, body: &str) -> anyhow::Result<String> {
    fill(tpl::BANNER, &[("title", text(title)), ("text", text(body))])
}

fn heading(title: &str) -> anyhow::Result<String> {
    fill(tpl::HEADING, &[("title", text(title))])
}

fn paragraph(body: &str) -> anyhow::Result<String> {
    fill(tpl::PARAGRAPH, &[("text", text(body))])
}

fn notes(lines: &[String]) -> anyhow::Result<String> {
    lines
        .iter()
        .map(|line| fill(tpl::NOTE, &[("text", text(line))]))
        .collect()
}

fn footer(reason: &str, links: &[(&str, &str)]) -> anyhow::Result<String> {
    let links = links
        .iter()
        .map(|(label, url)| {
            fill(
                tpl::FOOTER_LINK,
                &[("url", text(url)), ("label", text(label))],
            )
        })
        .collect::<anyhow::Result<Vec<_>>>()?
        .join(" · ");
    fill(
        tpl::FOOTER,
        &[("reason", text(reason)), ("links", markup(links))],
    )
}

fn mjml_to_html(mjml: &str) -> anyhow::Result<String> {
    let parsed = mrml::parse(mjml).context("parsing the MJML template")?;
    let options = mrml::prelude::render::RenderOptions {
        disable_comments: true,
        social_icon_origin: None,
        // mrml links web fonts it knows from a font CDN; mail must not load remote
        // resources, and the templates use the system font stack.
        fonts: Default::default(),
    };
    parsed
        .element
        .render(&options)
        .context("rendering the MJML template")
}

/// The chart's alt text, which is what a reader with images off gets.
fn chart_summary(metric: &str, series: &[SeriesPoint], current: &str) -> String {
    match (series.first(), series.last()) {
        (Some(first), Some(last)) if series.len() > 1 => format!(
            "Chart of {metric} from {} to {}; now {current}",
            first.label, last.label
        ),
        _ => format!("Chart of {metric}; now {current}"),
    }
}

fn text_heading(t: &mut String, title: &str) {
    let _ = writeln!(t, "{title}\n{}", "-".repeat(title.chars().count()));
}

fn push_lines(t: &mut String, lines: &[String]) {
    for line in lines {
        let _ = writeln!(t, "{line}");
    }
    if !lines.is_empty() {
        t.push('\n');
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    match n {
        0 => format!("no {many}"),
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    }
}

/// Subjects are single header lines: control characters (a newline in a rule name)
/// become spaces.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests;

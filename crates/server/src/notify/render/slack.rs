//! The Slack alert: a complete incoming-webhook body in Block Kit.

use serde_json::{json, Value};

use super::{alert_subject, AlertMail};

// Slack's documented limits; longer text makes the whole message fail with
// `invalid_blocks`, so every field is cut to fit rather than trusted.
const HEADER_MAX: usize = 150;
const SECTION_TEXT_MAX: usize = 3000;
const FIELD_MAX: usize = 2000;
const BUTTON_TEXT_MAX: usize = 75;
const URL_MAX: usize = 3000;
const FALLBACK_MAX: usize = 3000;

/// The incoming-webhook body for an alert: a header, the explanation with the current
/// and baseline values as fields, freshness as context, link buttons to the
/// dashboard, the rule and the snooze page, and a `text` fallback for notifications.
pub fn alert_slack(mail: &AlertMail) -> Value {
    let mut blocks = Vec::new();
    let title = if mail.is_test {
        format!("[Test] {}", mail.rule_name)
    } else {
        mail.rule_name.clone()
    };
    blocks.push(json!({
        "type": "header",
        "text": { "type": "plain_text", "text": cut(&title, HEADER_MAX), "emoji": true },
    }));
    if mail.is_test {
        blocks.push(context(
            "This is a sample sent with \u{201c}Send test\u{201d}; the rule itself has not fired.",
        ));
    }
    blocks.push(json!({
        "type": "section",
        "text": { "type": "mrkdwn", "text": cut_mrkdwn(&format!("*{}* · {}\n{}", escape(&mail.provider), escape(&mail.metric), escape(&mail.explanation)), SECTION_TEXT_MAX) },
        "fields": [
            { "type": "mrkdwn", "text": cut_mrkdwn(&format!("*Current*\n{}", escape(&mail.current)), FIELD_MAX) },
            { "type": "mrkdwn", "text": cut_mrkdwn(&format!("*{}*\n{}", escape(&mail.baseline_label), escape(&mail.baseline)), FIELD_MAX) },
        ],
    }));
    if !mail.freshness.is_empty() {
        let freshness: Vec<String> = mail.freshness.iter().map(|f| escape(f)).collect();
        blocks.push(context(&freshness.join(" · ")));
    }
    let mut buttons = Vec::new();
    if let Some(url) = &mail.dashboard_url {
        buttons.push(button("open_dashboard", "Open dashboard", url, true));
    }
    buttons.push(button("edit_rule", "Edit alert", &mail.rule_url, false));
    buttons.push(button("snooze", "Snooze for 24 h", &mail.snooze_url, false));
    blocks.push(json!({ "type": "actions", "elements": buttons }));

    json!({
        // The fallback is mrkdwn too (it is what notifications show), so it is escaped.
        "text": cut_mrkdwn(&escape(&format!("{} — {}", alert_subject(mail), mail.explanation)), FALLBACK_MAX),
        "blocks": blocks,
    })
}

fn context(mrkdwn: &str) -> Value {
    json!({
        "type": "context",
        "elements": [{ "type": "mrkdwn", "text": cut_mrkdwn(mrkdwn, SECTION_TEXT_MAX) }],
    })
}

fn button(action_id: &str, label: &str, url: &str, primary: bool) -> Value {
    let mut button = json!({
        "type": "button",
        "action_id": action_id,
        "text": { "type": "plain_text", "text": cut(label, BUTTON_TEXT_MAX) },
        "url": cut(url, URL_MAX),
    });
    if primary {
        button["style"] = json!("primary");
    }
    button
}

/// Slack's mrkdwn treats `&`, `<` and `>` as control characters (`<url|label>` links,
/// `<!channel>` mentions); everything else is literal.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Cuts to at most `max` characters, ending with "…" when it had to cut.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// [`cut`] for escaped mrkdwn: never leaves half an entity (`&am…`) at the end.
fn cut_mrkdwn(s: &str, max: usize) -> String {
    let cut = cut(s, max);
    if cut.len() == s.len() {
        return cut;
    }
    match cut.rfind('&') {
        Some(amp) if !cut[amp..].contains(';') => format!("{}…", &cut[..amp]),
        _ => cut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutting_escaped_text_never_leaves_half_an_entity() {
        let escaped = escape(&format!("{}<b>", "x".repeat(8)));
        assert_eq!(escaped, "xxxxxxxx&lt;b&gt;");
        assert_eq!(cut_mrkdwn(&escaped, 11), "xxxxxxxx…");
        assert_eq!(cut_mrkdwn(&escaped, 13), "xxxxxxxx&lt;…");
        assert_eq!(cut_mrkdwn(&escaped, 100), escaped);
        assert_eq!(cut("ééé", 2), "é…");
    }
}

//! A deliberately tiny template filler for the MJML files beside this module.
//!
//! `{{name}}` is replaced in one pass: a [`Slot::Text`] is HTML-escaped, a
//! [`Slot::Markup`] is inserted as it is and must only ever come from another of our
//! own templates. Values are never re-scanned, so a value containing `{{…}}` stays
//! literal; a placeholder without a slot is an error rather than an empty string.

use std::collections::HashMap;

use anyhow::Context;

pub(super) enum Slot<'a> {
    Text(&'a str),
    Markup(String),
}

pub(super) fn text(value: &str) -> Slot<'_> {
    Slot::Text(value)
}

pub(super) fn markup(value: String) -> Slot<'static> {
    Slot::Markup(value)
}

pub(super) fn fill(template: &str, slots: &[(&str, Slot<'_>)]) -> anyhow::Result<String> {
    let slots: HashMap<&str, &Slot<'_>> = slots.iter().map(|(k, v)| (*k, v)).collect();
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .context("a template has an unclosed `{{`")?;
        let name = after[..end].trim();
        match slots.get(name) {
            Some(Slot::Text(value)) => escape_into(&mut out, value),
            Some(Slot::Markup(value)) => out.push_str(value),
            None => anyhow::bail!("the template needs a value for `{name}`"),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Escapes for HTML text and for double- or single-quoted attribute values.
pub(super) fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_markup_is_not() {
        let out = fill(
            "<p title=\"{{a}}\">{{ a }}</p>{{b}}",
            &[
                ("a", text("<b>\"Tom & Jerry's\"</b>")),
                ("b", markup("<br />".into())),
            ],
        )
        .unwrap();
        assert_eq!(
            out,
            "<p title=\"&lt;b&gt;&quot;Tom &amp; Jerry&#39;s&quot;&lt;/b&gt;\">\
             &lt;b&gt;&quot;Tom &amp; Jerry&#39;s&quot;&lt;/b&gt;</p><br />"
        );
    }

    #[test]
    fn values_are_not_rescanned_and_missing_slots_fail() {
        let out = fill("{{a}}", &[("a", text("{{b}}"))]).unwrap();
        assert_eq!(out, "{{b}}");
        assert!(fill("{{missing}}", &[]).is_err());
        assert!(fill("{{open", &[]).is_err());
    }
}

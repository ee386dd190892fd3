use std::collections::BTreeMap;

use serde_json::Value;

use super::*;

fn series(values: &[Option<f64>]) -> Vec<SeriesPoint> {
    values
        .iter()
        .enumerate()
        .map(|(i, &value)| SeriesPoint {
            label: format!("2026-11-{:02}", i + 1),
            value,
        })
        .collect()
}

fn month() -> Vec<SeriesPoint> {
    let values: Vec<Option<f64>> = (0..30)
        .map(|i| match i {
            11 => None,
            _ => Some(820.0 + (i as f64 * 0.9).sin() * 140.0 + i as f64 * 9.0),
        })
        .collect();
    series(&values)
}

fn sample_alert() -> AlertMail {
    AlertMail {
        org_name: "Acme Goods".into(),
        rule_name: "Revenue above $1k".into(),
        provider: "Stripe".into(),
        metric: "Net revenue".into(),
        direction: "above".into(),
        threshold: "$1,000.00".into(),
        current: "$1,234.56".into(),
        baseline_label: "Threshold".into(),
        baseline: "$1,000.00".into(),
        explanation: "Net revenue today is $1,234.56, above your threshold of $1,000.00.".into(),
        series: month(),
        threshold_line: Some(1000.0),
        freshness: vec!["Stripe synced 8 min ago".into()],
        dashboard_url: Some("https://pulse.example.com/o/acme/dashboards/7".into()),
        rule_url: "https://pulse.example.com/o/acme/alerts/3".into(),
        snooze_url: "https://pulse.example.com/o/acme/alerts/3/snooze?hours=24&t=abc".into(),
        unsubscribe_url: "https://pulse.example.com/unsubscribe?t=tok123&kind=alerts".into(),
        is_test: false,
    }
}

fn mover(metric: &str, change: &str, good: bool, trend: f64) -> Mover {
    let values: Vec<Option<f64>> = (0..14)
        .map(|i| Some(100.0 + trend * i as f64 + (i as f64).sin() * 6.0))
        .collect();
    Mover {
        metric: metric.into(),
        store: "Main store".into(),
        current: "$12,345.00".into(),
        previous: "$10,973.33".into(),
        change: change.into(),
        good,
        series: series(&values),
    }
}

fn sample_digest() -> DigestMail {
    DigestMail {
        org_name: "Acme Goods".into(),
        member_name: "Sam".into(),
        week_label: "Nov 23 – Nov 29, 2026".into(),
        wins: vec![
            mover("Net revenue", "+12.5%", true, 4.0),
            mover("Orders", "+8.1%", true, 2.0),
        ],
        losses: vec![mover("Conversion rate", "-6.2%", false, -3.0)],
        everything: None,
        watch: vec![
            "Alert 'Refunds spike' fired on Tue".into(),
            "Shopify failed to sync since Sat".into(),
            "Synced events at 92% of the plan's cap".into(),
        ],
        freshness: vec![
            "Stripe synced 8 min ago".into(),
            "Shopify synced 2 days ago".into(),
        ],
        dashboards: vec![DigestDashboard {
            name: "SaaS Revenue".into(),
            url: "https://pulse.example.com/o/acme/dashboards/7".into(),
        }],
        preferences_url: "https://pulse.example.com/o/acme/settings/notifications".into(),
        unsubscribe_url: "https://pulse.example.com/unsubscribe?t=tok456&kind=digest".into(),
        is_preview: false,
    }
}

fn escaped(s: &str) -> String {
    let mut out = String::new();
    template::escape_into(&mut out, s);
    out
}

fn assert_facts(rendered: &Rendered, facts: &[&str]) {
    for fact in facts {
        assert!(
            rendered.html.contains(&escaped(fact)),
            "the HTML part lacks {fact:?}"
        );
        assert!(rendered.text.contains(fact), "the text part lacks {fact:?}");
    }
}

/// `cid:` references in the HTML, counted.
fn cid_refs(html: &str) -> BTreeMap<String, usize> {
    let mut refs = BTreeMap::new();
    for part in html.split("cid:").skip(1) {
        let id: String = part
            .chars()
            .take_while(|c| !matches!(c, '"' | '\'' | ')' | ' ' | '>'))
            .collect();
        *refs.entry(id).or_default() += 1;
    }
    refs
}

fn assert_cids_match_images(rendered: &Rendered) {
    let referenced: Vec<String> = cid_refs(&rendered.html).into_keys().collect();
    let mut attached: Vec<String> = rendered
        .images
        .iter()
        .map(|i| i.content_id.clone())
        .collect();
    attached.sort();
    let unique = attached.len();
    attached.dedup();
    assert_eq!(unique, attached.len(), "content ids repeat: {attached:?}");
    assert_eq!(referenced, attached);
    for image in &rendered.images {
        assert_eq!(image.content_type, "image/png");
        decode(&image.bytes);
    }
}

/// Decodes a PNG; returns its size and RGBA pixels.
fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(bytes);
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    assert_eq!(info.color_type, png::ColorType::Rgba);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn opaque_pixels(rgba: &[u8]) -> usize {
    rgba.chunks_exact(4).filter(|p| p[3] > 200).count()
}

/// Pixels within a small distance of `rgb` and mostly opaque.
fn pixels_like(rgba: &[u8], rgb: [u8; 3]) -> usize {
    rgba.chunks_exact(4)
        .filter(|p| p[3] > 200 && (0..3).all(|c| p[c].abs_diff(rgb[c]) <= 8))
        .count()
}

#[test]
fn alert_subject_is_provider_metric_direction_threshold() {
    let rendered = alert_email(&sample_alert()).unwrap();
    assert_eq!(rendered.subject, "[Stripe] [Net revenue] [above] $1,000.00");
}

#[test]
fn alert_email_carries_every_fact_in_html_and_text() {
    let mail = sample_alert();
    let rendered = alert_email(&mail).unwrap();
    assert_facts(
        &rendered,
        &[
            "Acme Goods",
            "Revenue above $1k",
            "Stripe",
            "Net revenue",
            &mail.explanation,
            "$1,234.56",
            "Threshold",
            "$1,000.00",
            "Stripe synced 8 min ago",
            "https://pulse.example.com/o/acme/dashboards/7",
            "https://pulse.example.com/o/acme/alerts/3",
            "https://pulse.example.com/o/acme/alerts/3/snooze?hours=24&t=abc",
            "https://pulse.example.com/unsubscribe?t=tok123&kind=alerts",
            "Snooze for 24 h",
        ],
    );
    assert!(!rendered.html.contains("Test alert."));
    assert!(!rendered.text.contains("[Test]"));
}

#[test]
fn alert_without_dashboard_has_no_dashboard_button() {
    let mail = AlertMail {
        dashboard_url: None,
        ..sample_alert()
    };
    let rendered = alert_email(&mail).unwrap();
    assert!(!rendered.html.contains("Open dashboard"));
    assert!(!rendered.text.contains("Open dashboard"));
    assert!(rendered.html.contains("Snooze for 24 h"));
}

#[test]
fn test_send_is_marked_in_subject_banner_and_text() {
    let mail = AlertMail {
        is_test: true,
        ..sample_alert()
    };
    let rendered = alert_email(&mail).unwrap();
    assert_eq!(
        rendered.subject,
        "[Test] [Stripe] [Net revenue] [above] $1,000.00"
    );
    assert!(rendered.html.contains("Test alert."));
    assert!(rendered.text.starts_with("[Test] "));
}

#[test]
fn values_are_escaped_in_the_html() {
    let mail = AlertMail {
        rule_name: "<script>alert('x')</script> & co".into(),
        metric: "Net \"revenue\"".into(),
        ..sample_alert()
    };
    let rendered = alert_email(&mail).unwrap();
    assert!(!rendered.html.contains("<script>"), "a value became markup");
    assert!(rendered
        .html
        .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"));
    assert!(rendered.html.contains("Net &quot;revenue&quot;"));
    // The text part is not HTML: it keeps the value as typed.
    assert!(rendered.text.contains("<script>alert('x')</script> & co"));
}

#[test]
fn digest_values_are_escaped_in_the_html() {
    let evil = "<img src=x onerror=alert(1)>";
    let mut mail = sample_digest();
    mail.member_name = evil.into();
    mail.wins[0].metric = evil.into();
    mail.watch[0] = evil.into();
    mail.dashboards[0].name = evil.into();
    let rendered = digest_email(&mail).unwrap();
    assert!(!rendered.html.contains(evil), "a value became markup");
    // The greeting, the mover's name and its sparkline's alt, the watch item, the link.
    assert_eq!(rendered.html.matches(&escaped(evil)).count(), 5);
}

#[test]
fn subject_is_one_header_line() {
    let mail = AlertMail {
        metric: "Net\r\nBcc: victim@example.com".into(),
        ..sample_alert()
    };
    let subject = alert_email(&mail).unwrap().subject;
    assert!(!subject.contains('\n') && !subject.contains('\r'));
}

#[test]
fn emails_are_600px_dark_mode_aware_and_load_nothing_remote() {
    for rendered in [
        alert_email(&sample_alert()).unwrap(),
        digest_email(&sample_digest()).unwrap(),
    ] {
        let html = &rendered.html;
        assert!(html.contains(r#"<meta name="color-scheme" content="light dark""#));
        assert!(html.contains(r#"<meta name="supported-color-schemes" content="light dark""#));
        assert!(html.contains("@media (prefers-color-scheme: dark)"));
        assert!(html.contains("max-width:600px"));
        assert!(html.contains("#1D9E75"));
        assert!(!html.contains("src=\"http"), "a remote image");
        assert!(!html.contains("<link"), "a remote stylesheet or font");
        assert!(!html.contains("@import"), "a remote stylesheet or font");
        assert!(!html.contains("{{"), "an unfilled placeholder");
    }
}

#[test]
fn every_cid_reference_has_exactly_one_image_and_back() {
    let alert = alert_email(&sample_alert()).unwrap();
    assert_eq!(alert.images.len(), 1);
    assert_cids_match_images(&alert);

    let digest = digest_email(&DigestMail {
        everything: Some(vec![
            mover("Net revenue", "+12.5%", true, 4.0),
            mover("Refunds", "+40.0%", false, 2.0),
        ]),
        ..sample_digest()
    })
    .unwrap();
    // Two wins, one loss and two in "All metrics": one sparkline each.
    assert_eq!(digest.images.len(), 5);
    assert_cids_match_images(&digest);
}

#[test]
fn sparkline_is_a_png_of_the_requested_size() {
    let bytes = sparkline_png(&month(), Some(1000.0), 560, 160).unwrap();
    let (width, height, rgba) = decode(&bytes);
    assert_eq!((width, height), (560, 160));
    assert!(pixels_like(&rgba, [0x1D, 0x9E, 0x75]) > 100, "no line");

    let (width, height, _) = decode(&sparkline_png(&month(), None, 120, 32).unwrap());
    assert_eq!((width, height), (120, 32));
}

#[test]
fn threshold_is_drawn_only_when_given() {
    let neutral = [0x6B, 0x72, 0x80];
    let (_, _, with) = decode(&sparkline_png(&month(), Some(1000.0), 560, 160).unwrap());
    let (_, _, without) = decode(&sparkline_png(&month(), None, 560, 160).unwrap());
    assert!(pixels_like(&with, neutral) > 50);
    assert_eq!(pixels_like(&without, neutral), 0);
}

#[test]
fn background_is_transparent_and_the_area_translucent() {
    let (_, _, rgba) = decode(&sparkline_png(&month(), None, 560, 160).unwrap());
    let corner = &rgba[..4];
    assert_eq!(corner[3], 0, "the top-left corner is above the line");
    let translucent = rgba
        .chunks_exact(4)
        .filter(|p| (20..120).contains(&p[3]))
        .count();
    assert!(translucent > 1000, "no translucent area under the line");
}

#[test]
fn degenerate_series_give_valid_pngs() {
    let cases: [(&str, Vec<SeriesPoint>, Option<f64>, bool); 7] = [
        ("empty", vec![], None, false),
        ("empty with threshold", vec![], Some(5.0), false),
        ("all none", series(&[None, None, None]), Some(5.0), false),
        ("one point", series(&[Some(3.0)]), None, true),
        ("flat", series(&[Some(7.0); 10]), None, true),
        (
            "flat zero with threshold",
            series(&[Some(0.0); 10]),
            Some(0.0),
            true,
        ),
        (
            "not finite",
            series(&[Some(f64::NAN), Some(f64::INFINITY), Some(2.0)]),
            None,
            true,
        ),
    ];
    for (name, points, threshold, drawn) in cases {
        let bytes =
            sparkline_png(&points, threshold, 240, 64).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        let (width, height, rgba) = decode(&bytes);
        assert_eq!((width, height), (240, 64), "{name}");
        assert_eq!(opaque_pixels(&rgba) > 0, drawn, "{name}");
    }
}

#[test]
fn absurd_chart_sizes_are_refused() {
    assert!(sparkline_png(&month(), None, 0, 10).is_err());
    assert!(sparkline_png(&month(), None, 100_000, 10).is_err());
}

#[test]
fn digest_subject_counts_wins_and_losses() {
    let mail = sample_digest();
    assert_eq!(
        digest_subject(&mail),
        "Your week at Acme Goods: 2 wins, 1 loss"
    );
    let one_win = DigestMail {
        wins: mail.wins[..1].to_vec(),
        losses: vec![],
        ..mail.clone()
    };
    assert_eq!(
        digest_subject(&one_win),
        "Your week at Acme Goods: 1 win, no losses"
    );
    let quiet = DigestMail {
        wins: vec![],
        losses: vec![],
        ..mail
    };
    assert_eq!(
        digest_subject(&quiet),
        "Your week at Acme Goods: a quiet week"
    );
}

#[test]
fn digest_carries_every_fact_in_html_and_text() {
    let rendered = digest_email(&sample_digest()).unwrap();
    assert_eq!(rendered.subject, "Your week at Acme Goods: 2 wins, 1 loss");
    assert_facts(
        &rendered,
        &[
            "Acme Goods",
            "Sam",
            "Nov 23 – Nov 29, 2026",
            "Wins",
            "Net revenue",
            "Orders",
            "+12.5%",
            "+8.1%",
            "Losses",
            "Conversion rate",
            "-6.2%",
            "Main store",
            "$12,345.00",
            "$10,973.33",
            "Alert 'Refunds spike' fired on Tue",
            "Shopify failed to sync since Sat",
            "Synced events at 92% of the plan's cap",
            "Stripe synced 8 min ago",
            "SaaS Revenue",
            "https://pulse.example.com/o/acme/dashboards/7",
            "https://pulse.example.com/o/acme/settings/notifications",
            "https://pulse.example.com/unsubscribe?t=tok456&kind=digest",
        ],
    );
    assert!(!rendered.html.contains(QUIET_WEEK));
    assert!(!rendered.html.contains("All metrics"));
    assert!(!rendered.html.contains("Preview."));
}

#[test]
fn moves_are_green_when_good_and_red_when_bad() {
    let only_win = DigestMail {
        wins: vec![mover("Net revenue", "+12.5%", true, 4.0)],
        losses: vec![],
        ..sample_digest()
    };
    let html = digest_email(&only_win).unwrap().html;
    assert!(html.contains(GOOD) && !html.contains(BAD));
    let only_loss = DigestMail {
        wins: vec![],
        losses: vec![mover("Net revenue", "-12.5%", false, -4.0)],
        ..sample_digest()
    };
    let html = digest_email(&only_loss).unwrap().html;
    assert!(html.contains(BAD) && !html.contains(GOOD));
}

#[test]
fn a_loss_sparkline_is_red_and_a_win_sparkline_green() {
    let mail = DigestMail {
        wins: vec![mover("Net revenue", "+12.5%", true, 4.0)],
        losses: vec![mover("Refunds", "+40.0%", false, 4.0)],
        ..sample_digest()
    };
    let rendered = digest_email(&mail).unwrap();
    let (_, _, win) = decode(&rendered.images[0].bytes);
    let (_, _, loss) = decode(&rendered.images[1].bytes);
    let (green, red) = ([0x1D, 0x9E, 0x75], [0xDC, 0x26, 0x26]);
    assert!(pixels_like(&win, green) > 20 && pixels_like(&win, red) == 0);
    assert!(pixels_like(&loss, red) > 20 && pixels_like(&loss, green) == 0);
}

#[test]
fn a_whole_dashboard_digest_stays_under_gmails_clipping_size() {
    let mail = DigestMail {
        everything: Some(
            (0..40)
                .map(|i| mover(&format!("Metric {i}"), "+1.0%", i % 2 == 0, 1.0))
                .collect(),
        ),
        ..sample_digest()
    };
    let html = digest_email(&mail).unwrap().html;
    // Gmail hides everything past 102 KB behind "View entire message".
    assert!(html.len() < 100_000, "{} bytes", html.len());
}

#[test]
fn a_quiet_week_says_so_instead_of_empty_sections() {
    let quiet = DigestMail {
        wins: vec![],
        losses: vec![],
        watch: vec![],
        ..sample_digest()
    };
    let rendered = digest_email(&quiet).unwrap();
    assert!(rendered.html.contains(QUIET_WEEK));
    assert!(rendered.text.contains(QUIET_WEEK));
    for section in ["Wins", "Losses", "Things to watch"] {
        assert!(
            !rendered.html.contains(section),
            "an empty {section} section"
        );
    }
    assert!(rendered.images.is_empty());
    assert!(rendered.text.contains(&quiet.unsubscribe_url));
}

#[test]
fn a_week_with_only_wins_says_there_were_no_losses() {
    let mail = DigestMail {
        losses: vec![],
        ..sample_digest()
    };
    let rendered = digest_email(&mail).unwrap();
    assert!(rendered.html.contains("No losses this week."));
    assert!(rendered.text.contains("No losses this week."));
}

#[test]
fn whole_dashboard_digest_lists_every_metric() {
    let mail = DigestMail {
        everything: Some(vec![
            mover("Net revenue", "+12.5%", true, 4.0),
            mover("Sessions", "+0.4%", true, 0.1),
        ]),
        ..sample_digest()
    };
    let rendered = digest_email(&mail).unwrap();
    assert_facts(&rendered, &["All metrics", "Sessions", "+0.4%"]);
}

#[test]
fn preview_is_marked_in_subject_banner_and_text() {
    let mail = DigestMail {
        is_preview: true,
        ..sample_digest()
    };
    let rendered = digest_email(&mail).unwrap();
    assert!(rendered.subject.starts_with("[Preview] "));
    assert!(rendered.html.contains("Preview."));
    assert!(rendered.text.starts_with("[Preview] "));
}

fn texts(blocks: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for block in blocks {
        if let Some(t) = block["text"]["text"].as_str() {
            out.push(t.to_owned());
        }
        for list in ["fields", "elements"] {
            for item in block[list].as_array().into_iter().flatten() {
                if let Some(t) = item["text"].as_str() {
                    out.push(t.to_owned());
                }
                if let Some(t) = item["text"]["text"].as_str() {
                    out.push(t.to_owned());
                }
            }
        }
    }
    out
}

#[test]
fn slack_message_is_a_valid_block_kit_body_with_the_facts() {
    let mail = sample_alert();
    let body = alert_slack(&mail);
    assert!(body["text"].as_str().unwrap().contains(&mail.explanation));
    let blocks = body["blocks"].as_array().expect("blocks");
    let kinds: Vec<&str> = blocks.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["header", "section", "context", "actions"]);
    assert_eq!(blocks[0]["text"]["type"], "plain_text");
    assert_eq!(blocks[0]["text"]["text"], "Revenue above $1k");
    let fields = texts(&blocks[1..2]).join("\n");
    for fact in ["Net revenue", "$1,234.56", "Threshold", "$1,000.00"] {
        assert!(fields.contains(fact), "the section lacks {fact}");
    }
    assert!(texts(blocks).iter().any(|t| t == "Stripe synced 8 min ago"));
    let urls: Vec<&str> = blocks[3]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["url"].as_str().unwrap())
        .collect();
    assert_eq!(
        urls,
        [
            mail.dashboard_url.as_deref().unwrap(),
            &mail.rule_url,
            &mail.snooze_url
        ]
    );
}

#[test]
fn slack_text_stays_within_limits_and_is_escaped() {
    let mail = AlertMail {
        rule_name: "R".repeat(500),
        explanation: format!("<!channel> {}", "x".repeat(5000)),
        is_test: true,
        ..sample_alert()
    };
    let body = alert_slack(&mail);
    let blocks = body["blocks"].as_array().unwrap();
    let header = blocks[0]["text"]["text"].as_str().unwrap();
    assert!(header.starts_with("[Test] RRR") && header.chars().count() <= 150);
    assert!(blocks.iter().any(|b| texts(std::slice::from_ref(b))
        .iter()
        .any(|t| t.contains("Send test"))));
    for text in texts(blocks) {
        assert!(text.chars().count() <= 3000);
    }
    let fallback = body["text"].as_str().unwrap();
    assert!(fallback.chars().count() <= 3000);
    assert!(
        !fallback.contains("<!channel>"),
        "the fallback can ping a channel"
    );
    let section = blocks[2]["text"]["text"].as_str().unwrap();
    assert!(section.contains("&lt;!channel&gt;") && !section.contains("<!channel>"));
}

/// Writes sample emails for a human to open, with the inline images as data: URLs
/// (browsers do not resolve `cid:`): `cargo test -p pulseboard-server --lib
/// notify::render::tests::write_samples -- --ignored`.
#[test]
#[ignore = "writes files for a human to look at"]
fn write_samples() {
    use base64::Engine as _;

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/email-samples");
    std::fs::create_dir_all(&dir).unwrap();
    let samples = [
        ("alert", alert_email(&sample_alert()).unwrap()),
        (
            "alert-test",
            alert_email(&AlertMail {
                is_test: true,
                dashboard_url: None,
                ..sample_alert()
            })
            .unwrap(),
        ),
        ("digest", digest_email(&sample_digest()).unwrap()),
        (
            "digest-quiet-preview",
            digest_email(&DigestMail {
                wins: vec![],
                losses: vec![],
                is_preview: true,
                ..sample_digest()
            })
            .unwrap(),
        ),
        (
            "digest-whole-dashboard",
            digest_email(&DigestMail {
                everything: Some(
                    (0..12)
                        .map(|i| mover(&format!("Metric {i}"), "+1.0%", i % 3 != 0, i as f64 - 5.0))
                        .collect(),
                ),
                ..sample_digest()
            })
            .unwrap(),
        ),
    ];
    for (name, rendered) in samples {
        let mut html = rendered.html.clone();
        for image in &rendered.images {
            let data = base64::engine::general_purpose::STANDARD.encode(&image.bytes);
            html = html.replace(
                &format!("cid:{}", image.content_id),
                &format!("data:{};base64,{data}", image.content_type),
            );
        }
        std::fs::write(dir.join(format!("{name}.html")), html).unwrap();
        std::fs::write(dir.join(format!("{name}.txt")), &rendered.text).unwrap();
        for image in &rendered.images {
            std::fs::write(
                dir.join(format!("{name}-{}.png", image.content_id)),
                &image.bytes,
            )
            .unwrap();
        }
    }
    std::fs::write(
        dir.join("alert-slack.json"),
        serde_json::to_string_pretty(&alert_slack(&sample_alert())).unwrap(),
    )
    .unwrap();
}

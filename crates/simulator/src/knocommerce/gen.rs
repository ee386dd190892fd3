//! The generated post-purchase survey behind the simulated KnoCommerce brand:
//! about a third of the shop's orders answer "How did you hear about us?" and
//! "What made you buy today?" (several choices), some add a free-text note, and
//! a few start the survey without finishing it (no `completed_at`, so
//! `status=completed` leaves them out). Day by day and deterministic in the seed,
//! like the other generators.

use serde::Serialize;
use serde_json::{json, Value};

use crate::{
    common::{
        clock::Clock,
        rng::{hash_str, mix, Rng},
        time::{format_iso, DAY},
    },
    provider::ProviderData,
};

/// Share of the shop's orders whose customer answers.
const RESPONSE_SHARE: f64 = 0.35;

pub(crate) const SURVEY_ID: &str = "80562d0a-350e-4f14-ad2d-1369bc9fcbe8";
pub(crate) const HDYHAU: (&str, &str) = (
    "8fd7afc7-65f4-48a8-84ee-6f8e4580fd0b",
    "How did you hear about us?",
);
pub(crate) const WHY: (&str, &str) = (
    "1b3e5a20-9c4d-4f0e-8a61-2d7c9e0f4b12",
    "What made you buy today?",
);
pub(crate) const NOTE: (&str, &str) = (
    "c4d2e8f1-7a3b-4c5d-9e6f-0a1b2c3d4e5f",
    "Anything we could do better?",
);

/// Attribution answers and how often they are given.
const CHANNELS: &[(&str, f64, Option<&str>)] = &[
    ("Instagram", 0.27, Some("social")),
    ("TikTok", 0.17, Some("social")),
    ("Friend or family", 0.20, Some("word_of_mouth")),
    ("Google", 0.15, Some("search")),
    ("Podcast", 0.08, Some("audio")),
    ("YouTube", 0.07, Some("video")),
    ("Other", 0.06, None),
];
const REASONS: &[&str] = &[
    "Free shipping",
    "Great reviews",
    "A discount code",
    "Freshly roasted",
    "A gift for someone",
];
const NOTES: &[&str] = &[
    "Love the beans, keep it up!",
    "Shipping could be faster.",
    "Please offer a bigger bag.",
    "More decaf options would be great.",
];

/// One answer to one question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnoAnswer {
    pub question_id: String,
    pub label: String,
    pub r#type: String,
    /// A string, or a list for the several-choices question.
    pub value: Value,
    pub attribution_type: Option<String>,
}

/// One survey response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnoResponse {
    pub id: String,
    pub created_at: i64,
    /// `None` for a survey left half way.
    pub completed_at: Option<i64>,
    pub updated_at: i64,
    pub customer_id: String,
    pub order_id: String,
    pub order_name: String,
    pub order_total: String,
    pub answers: Vec<KnoAnswer>,
}

impl KnoResponse {
    /// The response as `GET /api/rest/responses` lists it (`expand=order` or not).
    pub fn json(&self, expand_order: bool) -> Value {
        let mut json = json!({
            "id": self.id,
            "account_id": "3cfacec8-3869-41ba-b8c0-8fb7d7f85fcd",
            "survey_id": SURVEY_ID,
            "created_at": format_millis(self.created_at),
            "updated_at": format_millis(self.updated_at),
            "completed_at": self.completed_at.map(format_millis),
            "status": if self.completed_at.is_some() { "completed" } else { "partial" },
            "customer_id": self.customer_id,
            "customer_email": null,
            "order_id": self.order_id,
            "response": self.answers.iter().map(|a| json!({
                "question_id": a.question_id,
                "label": a.label,
                "type": a.r#type,
                "value": a.value,
                "attribution_type": a.attribution_type,
            })).collect::<Vec<_>>(),
        });
        if expand_order {
            json["order"] = json!({
                "id": self.order_id,
                "name": self.order_name,
                "total_price": self.order_total,
                "currency": "USD",
            });
        }
        json
    }
}

/// `2025-12-19T20:07:12.000Z`.
pub(crate) fn format_millis(unix: i64) -> String {
    format_iso(unix).replace('Z', ".000Z")
}

/// The brand's responses and the tokens issued to its API client.
#[derive(Debug, Default)]
pub(crate) struct KnoData {
    seed: Option<u64>,
    /// Responses a day (a share of the shop's orders).
    daily: f64,
    generated_until_day: i64,
    pub responses: Vec<KnoResponse>,
    /// Access tokens issued by the token endpoint.
    pub tokens: Vec<String>,
    /// The next list answer is a body of the wrong shape.
    pub malformed_next: bool,
}

impl KnoData {
    /// The responses, generated up to the clock on first use.
    pub fn generated(&mut self, clock: &Clock) -> &mut Self {
        if self.seed.is_none() {
            self.seed = Some(mix(clock.data.seed ^ hash_str("knocommerce")));
            self.generated_until_day = clock.start.div_euclid(DAY);
            self.daily = clock.data.shopify_daily_orders * RESPONSE_SHARE;
            self.advance_days(clock.end);
        }
        self
    }

    fn advance_days(&mut self, t: i64) {
        let Some(seed) = self.seed else { return };
        let last = t.div_euclid(DAY);
        while self.generated_until_day <= last {
            let day = self.generated_until_day;
            let mut rng = Rng::new(mix(seed ^ (day as u64).wrapping_mul(0x9E37_79B9)));
            let count = rng.poisson(self.daily);
            let mut made: Vec<KnoResponse> = (0..count)
                .map(|i| response(&mut rng, day, i))
                .collect();
            made.sort_by_key(|r| r.created_at);
            self.responses.extend(made);
            self.generated_until_day += 1;
        }
    }
}

fn response(rng: &mut Rng, day: i64, i: u32) -> KnoResponse {
    let created_at = day * DAY + rng.range(0, DAY - 600);
    let n = (day as u64 % 100_000) * 1000 + u64::from(i);
    let id = format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        mix(n) as u32,
        (mix(n ^ 1) & 0xffff) as u16,
        mix(n ^ 2) & 0xfff,
        mix(n ^ 3) & 0xfff,
        mix(n ^ 4) & 0xffff_ffff_ffff
    );
    let channel = CHANNELS[rng.weighted(&CHANNELS.iter().map(|c| c.1).collect::<Vec<_>>())];
    let mut answers = vec![KnoAnswer {
        question_id: HDYHAU.0.into(),
        label: HDYHAU.1.into(),
        r#type: "Radio".into(),
        value: json!(channel.0),
        attribution_type: channel.2.map(str::to_owned),
    }];
    let completed = rng.chance(0.92);
    if completed {
        let first = rng.below(REASONS.len() as u64) as usize;
        let mut reasons = vec![REASONS[first]];
        if rng.chance(0.4) {
            let second = (first + 1 + rng.below(REASONS.len() as u64 - 1) as usize) % REASONS.len();
            reasons.push(REASONS[second]);
        }
        answers.push(KnoAnswer {
            question_id: WHY.0.into(),
            label: WHY.1.into(),
            r#type: "Checkbox".into(),
            value: json!(reasons),
            attribution_type: None,
        });
        if rng.chance(0.25) {
            answers.push(KnoAnswer {
                question_id: NOTE.0.into(),
                label: NOTE.1.into(),
                r#type: "Text".into(),
                value: json!(*rng.pick(NOTES)),
                attribution_type: None,
            });
        }
    }
    let completed_at = completed.then(|| created_at + rng.range(8, 240));
    let order = 5_600_000_000_000 + n;
    KnoResponse {
        id,
        created_at,
        completed_at,
        updated_at: completed_at.unwrap_or(created_at) + 2,
        customer_id: format!("{}", 7_100_000_000_000 + rng.below(5_000_000)),
        order_id: order.to_string(),
        order_name: format!("#{}", 1000 + n % 1_000_000),
        order_total: format!("{}.{:02}", 18 + rng.below(60), rng.below(100)),
        answers,
    }
}

impl ProviderData for KnoData {
    fn advance(&mut self, t: i64) {
        self.advance_days(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::clock::DataConfig;

    #[test]
    fn the_same_seed_gives_the_same_responses_however_the_clock_moves() {
        let end = 1_700_000_000;
        let clock = Clock::new(&DataConfig {
            history_days: 20,
            end,
            ..DataConfig::default()
        });
        let mut stepped = KnoData::default();
        stepped.generated(&clock);
        stepped.advance(end + DAY);
        stepped.advance(end + 3 * DAY);
        let mut at_once = KnoData::default();
        at_once.generated(&clock);
        at_once.advance(end + 3 * DAY);
        assert_eq!(stepped.responses, at_once.responses);
        let ids: std::collections::BTreeSet<_> = stepped.responses.iter().map(|r| &r.id).collect();
        assert_eq!(ids.len(), stepped.responses.len());
        assert!(stepped.responses.iter().any(|r| r.completed_at.is_none()));
        assert!(stepped.responses.len() > 200, "{}", stepped.responses.len());
    }
}

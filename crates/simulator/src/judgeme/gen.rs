//! The generated reviews behind the simulated Judge.me shops: a few reviews a
//! day of a coffee shop's products, day by day, deterministic in the seed (each
//! day draws from its own stream, so advancing in steps gives the same reviews as
//! advancing at once). Each review's fate is drawn when it is written: most four
//! and five star reviews are published at once, the others wait for the shop's
//! moderation for hours or days, then are published or hidden. What the API shows
//! of a review is its state at the data clock.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{
    common::{
        clock::Clock,
        rng::{hash_str, mix, Rng},
        time::{format_iso, DAY, HOUR},
    },
    provider::ProviderData,
};

/// Reviews a day per shop.
const DAILY_REVIEWS: f64 = 4.0;

/// The shop's products: (Shopify id, title, handle).
pub(crate) const PRODUCTS: &[(u64, &str, &str)] = &[
    (7_201_000_001, "House Espresso Blend", "house-espresso-blend"),
    (7_201_000_002, "Ethiopia Yirgacheffe", "ethiopia-yirgacheffe"),
    (7_201_000_003, "Colombia Huila Decaf", "colombia-huila-decaf"),
    (7_201_000_004, "Conical Burr Grinder", "conical-burr-grinder"),
    (7_201_000_005, "Pour-Over Kettle", "pour-over-kettle"),
    (7_201_000_006, "Stoneware Mug", "stoneware-mug"),
    (7_201_000_007, "Coffee Subscription Box", "coffee-subscription-box"),
];

/// How often each star count is given (1 to 5).
const RATINGS: [f64; 5] = [0.05, 0.06, 0.11, 0.26, 0.52];

/// (title, body) by star count, in plain English with mixed feelings.
const TEXTS: [&[(&str, &str)]; 5] = [
    &[
        ("Very disappointed", "The bag arrived torn and the beans tasted stale. Not buying again."),
        ("Broke after a week", "Terrible quality, it stopped working after a week and support never answered."),
        ("Awful", "Bitter, burnt and flat. I poured it away."),
    ],
    &[
        ("Not for me", "Too sour for my taste and the delivery was late."),
        ("Meh", "It was okay at first but the flavour faded fast. Overpriced."),
        ("Arrived late", "Took two weeks to arrive and the box was damaged."),
    ],
    &[
        ("Decent", "Decent coffee, nothing special. Delivery was quick though."),
        ("Fine", "Does the job. A bit weaker than I expected."),
        ("Average", "Good roast but the grind setting took a while to figure out."),
    ],
    &[
        ("Really good", "Really good beans, smooth and chocolatey. Would buy again."),
        ("Nice daily coffee", "Nice and balanced, great with milk. Shipping was fast."),
        ("Happy with it", "Solid build, easy to clean, and it looks great on the counter."),
    ],
    &[
        ("Best coffee ever", "Absolutely love it! The best espresso I have had at home, fresh and fragrant."),
        ("Perfect", "Perfect every morning. Wonderful aroma and friendly service."),
        ("Amazing", "Amazing quality, beautiful packaging, and it arrived super fast. Highly recommend!"),
    ],
];

const NAMES: &[&str] = &[
    "Maya R.", "Jonas K.", "Priya S.", "Tom B.", "Lucia G.", "Sam W.", "Aisha M.", "Ben C.",
    "Chloe D.", "Diego F.", "Hannah L.", "Kenji T.",
];

/// How a review's moderation ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Published,
    Hidden,
}

/// One review, with its whole fate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JudgeMeReview {
    pub id: u64,
    pub created_at: i64,
    pub rating: u8,
    pub title: String,
    pub body: String,
    pub reviewer_id: u64,
    pub reviewer_name: String,
    pub reviewer_email: String,
    pub product_external_id: u64,
    pub product_title: String,
    pub product_handle: String,
    /// `buyer` or `nothing`, as Judge.me spells it.
    pub verified: String,
    /// When the shop (or the auto-publish rule) decided; pending before.
    pub moderated_at: i64,
    pub outcome: Outcome,
}

impl JudgeMeReview {
    /// `(published, hidden, curated, updated_at)` at the data clock `t`.
    pub fn state(&self, t: i64) -> (bool, bool, &'static str, i64) {
        if t < self.moderated_at {
            return (false, false, "not-yet", self.created_at);
        }
        match self.outcome {
            Outcome::Published => (true, false, "ok", self.moderated_at),
            Outcome::Hidden => (false, true, "spam", self.moderated_at),
        }
    }

    /// The review as `GET /api/v1/reviews` lists it at the data clock `t`.
    pub fn json(&self, t: i64) -> serde_json::Value {
        let (published, hidden, curated, updated_at) = self.state(t);
        serde_json::json!({
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "rating": self.rating,
            "product_external_id": self.product_external_id,
            "product_title": self.product_title,
            "product_handle": self.product_handle,
            "reviewer": {
                "id": self.reviewer_id,
                "external_id": null,
                "email": self.reviewer_email,
                "name": self.reviewer_name,
                "phone": null,
                "accepts_marketing": false,
                "unsubscribed_at": null,
                "tags": null
            },
            "source": "web",
            "curated": curated,
            "published": published,
            "hidden": hidden,
            "verified": self.verified,
            "featured": false,
            "created_at": iso_offset(self.created_at),
            "updated_at": iso_offset(updated_at),
            "has_published_pictures": false,
            "has_published_videos": false,
            "pictures": [],
            "ip_address": null
        })
    }
}

/// `2022-05-12T04:38:32+00:00`, as Judge.me writes times.
fn iso_offset(unix: i64) -> String {
    format_iso(unix).replace('Z', "+00:00")
}

/// One shop's reviews.
#[derive(Debug)]
pub(crate) struct Shop {
    seed: u64,
    /// Days (unix day numbers) before this one are generated.
    generated_until_day: i64,
    pub reviews: Vec<JudgeMeReview>,
}

impl Shop {
    fn new(seed: u64, shop: &str, clock: &Clock) -> Self {
        let mut generated = Self {
            seed: mix(seed ^ hash_str("judgeme") ^ hash_str(shop)),
            generated_until_day: clock.start.div_euclid(DAY),
            reviews: Vec::new(),
        };
        generated.advance(clock.end);
        generated
    }

    /// Generates every day up to the one of `t` (whole days: the API cuts at the clock).
    fn advance(&mut self, t: i64) {
        let last = t.div_euclid(DAY);
        while self.generated_until_day <= last {
            self.day(self.generated_until_day);
            self.generated_until_day += 1;
        }
    }

    fn day(&mut self, day: i64) {
        let mut rng = Rng::new(mix(self.seed ^ (day as u64).wrapping_mul(0x9E37_79B9)));
        let count = rng.poisson(DAILY_REVIEWS);
        let mut written: Vec<JudgeMeReview> = (0..count)
            .map(|i| {
                let created_at = day * DAY + rng.range(0, DAY);
                let stars = rng.weighted(&RATINGS) + 1;
                let (title, body) = *rng.pick(TEXTS[stars - 1]);
                let (product_id, product_title, handle) = *rng.pick(PRODUCTS);
                let name = *rng.pick(NAMES);
                let reviewer_id = 190_000_000 + rng.below(1_000_000);
                let auto = stars >= 4 && rng.chance(0.85);
                let (moderated_at, outcome) = if auto {
                    (created_at + 40, Outcome::Published)
                } else {
                    let wait = rng.range(6 * HOUR, 6 * DAY);
                    let outcome = if stars <= 1 && rng.chance(0.3) {
                        Outcome::Hidden
                    } else {
                        Outcome::Published
                    };
                    (created_at + wait, outcome)
                };
                JudgeMeReview {
                    id: 300_000_000 + (day as u64 % 100_000) * 100 + u64::from(i),
                    created_at,
                    rating: stars as u8,
                    title: title.to_owned(),
                    body: body.to_owned(),
                    reviewer_id,
                    reviewer_name: name.to_owned(),
                    reviewer_email: format!(
                        "{}{}@example.com",
                        name.split(' ').next().unwrap_or("guest").to_lowercase(),
                        reviewer_id % 1000
                    ),
                    product_external_id: product_id,
                    product_title: product_title.to_owned(),
                    product_handle: handle.to_owned(),
                    verified: if rng.chance(0.8) { "buyer" } else { "nothing" }.to_owned(),
                    moderated_at,
                    outcome,
                }
            })
            .collect();
        written.sort_by_key(|r| r.created_at);
        self.reviews.extend(written);
    }
}

/// Every simulated Judge.me shop, kept in the world.
#[derive(Debug, Default)]
pub(crate) struct JudgeMeData {
    shops: BTreeMap<String, Shop>,
    /// The next reviews answer is a body of the wrong shape.
    pub malformed_next: bool,
}

impl JudgeMeData {
    /// A shop's reviews, generated up to the clock on first use.
    pub fn shop(&mut self, clock: &Clock, shop: &str) -> &mut Shop {
        self.shops
            .entry(shop.to_owned())
            .or_insert_with(|| Shop::new(clock.data.seed, shop, clock))
    }
}

impl ProviderData for JudgeMeData {
    fn advance(&mut self, t: i64) {
        for shop in self.shops.values_mut() {
            shop.advance(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::clock::DataConfig;

    fn clock(end: i64, days: u32) -> Clock {
        Clock::new(&DataConfig {
            history_days: days,
            end,
            ..DataConfig::default()
        })
    }

    #[test]
    fn the_same_seed_gives_the_same_reviews_however_the_clock_moves() {
        let end = 1_700_000_000;
        let mut stepped = Shop::new(7, "acme.myshopify.com", &clock(end, 30));
        stepped.advance(end + 2 * DAY);
        stepped.advance(end + 5 * DAY);
        let at_once = Shop::new(7, "acme.myshopify.com", &clock(end, 30));
        let mut at_once = at_once;
        at_once.advance(end + 5 * DAY);
        assert_eq!(stepped.reviews, at_once.reviews);
        assert!(stepped.reviews.len() > 60, "{}", stepped.reviews.len());
        let ids: std::collections::BTreeSet<_> = stepped.reviews.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), stepped.reviews.len(), "ids are unique");
    }

    #[test]
    fn a_review_waits_for_moderation_until_its_time() {
        let shop = Shop::new(7, "acme.myshopify.com", &clock(1_700_000_000, 60));
        let held = shop
            .reviews
            .iter()
            .find(|r| r.moderated_at > r.created_at + 3600)
            .expect("some reviews wait");
        assert!(!held.state(held.created_at + 1).0);
        assert_eq!(held.state(held.created_at + 1).2, "not-yet");
        let (published, hidden, _, updated) = held.state(held.moderated_at);
        assert!(published != hidden);
        assert_eq!(updated, held.moderated_at);
    }
}

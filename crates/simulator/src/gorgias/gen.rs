//! The generated helpdesk behind the simulated Gorgias: tickets over the last 90
//! days (about two a day), each with its channel, tags, the customer's first
//! message, an agent's reply, its closing and a satisfaction survey, each of which
//! may not have happened (yet). A ticket's whole course is drawn when it is
//! created, from its own stream, so advancing in steps gives the same tickets as
//! advancing at once; what the API shows is the course up to the data clock.

use serde::Serialize;

use crate::common::{
    rng::{mix, Rng},
    time::{DAY, HOUR},
};

/// Tickets a day.
const DAILY_TICKETS: f64 = 2.0;
/// Only this much history has tickets (a helpdesk backfill is a call per ticket).
const LOOKBACK: i64 = 90 * DAY;

const CHANNELS: &[(&str, f64)] = &[("email", 0.5), ("chat", 0.3), ("contact_form", 0.12), ("facebook", 0.08)];
const TAGS: &[&str] = &["shipping", "refund", "order-status", "product-question", "damaged"];
/// First messages, with the tags they usually get.
const FIRST_MESSAGES: &[(&str, &str)] = &[
    ("Where is my order? It has been a week and the tracking has not moved.", "order-status"),
    ("The bag arrived torn open and coffee was everywhere. Very disappointed.", "damaged"),
    ("I love the espresso blend! Can I get a bigger bag?", "product-question"),
    ("Please refund my order, I was charged twice. This is unacceptable.", "refund"),
    ("Hi, which grind should I choose for a French press? Thanks!", "product-question"),
    ("My package says delivered but nothing is here. Terrible service.", "shipping"),
    ("Great coffee, fast shipping. Just wanted to change my address for the next order.", "shipping"),
];

/// One ticket and its whole course (times in unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GorgiasTicket {
    pub id: u64,
    pub channel: String,
    pub tags: Vec<String>,
    pub spam: bool,
    pub subject: String,
    pub customer_email: String,
    pub first_message: String,
    pub created_at: i64,
    /// The first agent reply.
    pub replied_at: Option<i64>,
    /// The customer's answer to it.
    pub follow_up_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// Score 1–5 and when it was given.
    pub survey: Option<(i64, i64)>,
}

impl GorgiasTicket {
    /// The last thing that happened before `t` (`updated_datetime`).
    pub fn updated_at(&self, t: i64) -> i64 {
        [Some(self.created_at), self.replied_at, self.follow_up_at, self.closed_at, self.survey.map(|s| s.1)]
            .into_iter()
            .flatten()
            .filter(|at| *at < t)
            .max()
            .unwrap_or(self.created_at)
    }

    /// Whether anything happened in `[from, to)`.
    pub fn changed_in(&self, from: i64, to: i64) -> bool {
        [Some(self.created_at), self.replied_at, self.follow_up_at, self.closed_at, self.survey.map(|s| s.1)]
            .into_iter()
            .flatten()
            .any(|at| from <= at && at < to)
    }
}

/// Everything in the simulated helpdesk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GorgiasLedger {
    /// Tickets and their course exist strictly before this; later parts of a
    /// course have not happened yet.
    pub end: i64,
    pub domain: String,
    pub tickets: Vec<GorgiasTicket>,
}

#[derive(Debug)]
pub(crate) struct GorgiasGen {
    seed: u64,
    pub ledger: GorgiasLedger,
    generated_to: i64,
    announced_to: Option<i64>,
}

impl GorgiasGen {
    pub fn new(seed: u64, domain: &str, start: i64, end: i64) -> Self {
        let from = start.max(end - LOOKBACK).div_euclid(HOUR) * HOUR;
        Self {
            seed,
            ledger: GorgiasLedger { end: from, domain: domain.to_owned(), tickets: vec![] },
            generated_to: from,
            announced_to: None,
        }
    }

    pub fn advance(&mut self, t: i64) {
        let until = t.div_euclid(HOUR) * HOUR;
        while self.generated_to < until {
            let hour = self.generated_to;
            let mut rng = Rng::new(mix(self.seed ^ (hour as u64).rotate_left(21)));
            for _ in 0..rng.poisson(DAILY_TICKETS / 24.0) {
                let id = 1000 + self.ledger.tickets.len() as u64;
                let created = hour + rng.range(0, HOUR - 1);
                let ticket = draw(&mut rng, id, created);
                self.ledger.tickets.push(ticket);
            }
            self.generated_to += HOUR;
        }
        self.ledger.end = self.ledger.end.max(t);
    }

    pub fn go_live(&mut self) {
        self.announced_to = Some(self.ledger.end);
    }

    /// Indexes of the tickets with something new since the last call, and whether
    /// each was created in that time; nothing before `go_live`.
    pub fn take_events(&mut self) -> Vec<(usize, bool)> {
        let Some(from) = self.announced_to else {
            return vec![];
        };
        let to = self.ledger.end;
        self.announced_to = Some(to);
        self.ledger
            .tickets
            .iter()
            .enumerate()
            .filter(|(_, t)| t.changed_in(from, to))
            .map(|(i, t)| (i, from <= t.created_at))
            .collect()
    }
}

fn draw(rng: &mut Rng, id: u64, created: i64) -> GorgiasTicket {
    let weights: Vec<f64> = CHANNELS.iter().map(|(_, w)| *w).collect();
    let channel = CHANNELS[rng.weighted(&weights)].0.to_owned();
    let (message, usual_tag) = *rng.pick(FIRST_MESSAGES);
    let mut tags = vec![usual_tag.to_owned()];
    if rng.chance(0.3) {
        let extra = rng.pick(TAGS).to_string();
        if extra != usual_tag {
            tags.push(extra);
        }
    }
    let spam = rng.chance(0.03);
    let replied = (!spam && rng.chance(0.9)).then(|| created + rng.range(5 * 60, 10 * HOUR));
    let follow_up = replied.filter(|_| rng.chance(0.4)).map(|r| r + rng.range(10 * 60, 6 * HOUR));
    let closed = replied.filter(|_| rng.chance(0.85)).map(|r| follow_up.unwrap_or(r) + rng.range(HOUR, 48 * HOUR));
    let negative = message.contains("disappointed") || message.contains("Terrible") || message.contains("unacceptable");
    let survey = closed.filter(|_| rng.chance(0.6)).map(|c| {
        let score = if negative { rng.range(1, 4) } else { rng.range(3, 6) };
        (score, c + rng.range(HOUR, 72 * HOUR))
    });
    GorgiasTicket {
        id,
        channel,
        tags,
        spam,
        subject: message.split(['.', '?', '!']).next().unwrap_or(message).to_owned(),
        customer_email: format!("customer{}@example.com", id % 400),
        first_message: message.to_owned(),
        created_at: created,
        replied_at: replied,
        follow_up_at: follow_up,
        closed_at: closed,
        survey,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_in_steps_gives_the_same_tickets() {
        let end = 1_780_000_000;
        let mut once = GorgiasGen::new(3, "acme", end - 200 * DAY, end);
        once.advance(end);
        let mut steps = GorgiasGen::new(3, "acme", end - 200 * DAY, end);
        steps.advance(end - 17 * DAY + 99);
        steps.advance(end);
        assert_eq!(once.ledger, steps.ledger);
        let n = once.ledger.tickets.len();
        assert!((120..=240).contains(&n), "about two a day for 90 days: {n}");
        assert!(once.ledger.tickets.iter().all(|t| t.created_at >= end - LOOKBACK - HOUR));
    }
}

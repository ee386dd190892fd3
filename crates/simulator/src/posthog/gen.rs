//! Generates a simulated PostHog project: visitors arrive in sessions with a daily
//! and weekly rhythm (the shared [`Season`]), view pages, sometimes leave with a
//! `$pageleave`; new visitors sometimes sign up, some sessions start a checkout and
//! some checkouts become a subscription, recorded server-side (no session).
//!
//! Each event has a `timestamp` (when it happened) and an `inserted_at` (when
//! PostHog ingested it, from which time queries see it). Most arrive within
//! seconds; a few arrive hours late (an app that was offline), so the counts of a
//! past day can still grow, which is why the connector pulls recent days again.
//!
//! Driven by one [`Rng`] stream and an [`Agenda`] processed in time order, so the
//! same seed and project give the same events, and advancing the clock in steps
//! gives the same data as advancing at once.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::common::{
    agenda::Agenda,
    rng::{hash_str, mix, Rng},
    season::Season,
    time::{DAY, HOUR},
    SimError,
};

/// A product's web traffic: quieter weekends, a slow year.
const WEB: Season = Season {
    weekend: 0.7,
    months: [
        0.97, 0.98, 1.0, 1.0, 1.0, 0.95, 0.92, 0.93, 1.02, 1.04, 1.08, 1.1,
    ],
    bfcm: 1.15,
    growth_per_year: 1.4,
};

/// Sessions a day at the data clock's start position (`anchor`), before seasonality.
const DAILY_SESSIONS: f64 = 45.0;
const RETURNING: f64 = 0.4;
const SIGNUP: f64 = 0.12;
const CHECKOUT: f64 = 0.06;
const SUBSCRIBE: f64 = 0.4;
const PAGELEAVE: f64 = 0.5;
/// Share of events ingested hours late, and how late at most.
const LATE: f64 = 0.03;
const MAX_LATENESS: i64 = 36 * HOUR;

/// The project time zones the simulator offers: IANA zones without daylight saving
/// time, so their offset is fixed (the simulator has no time-zone database).
/// A project's zone is `ZONES[project_id % 4]`.
pub(crate) const ZONES: [(&str, i64); 4] = [
    ("UTC", 0),
    ("Asia/Tokyo", 9 * HOUR),
    ("America/Phoenix", -7 * HOUR),
    ("Asia/Kolkata", 5 * HOUR + 30 * 60),
];

/// Weighted choices of a property's values, by a hash (not the generator's random
/// stream, so adding properties changed no event of a seed).
fn weighted(hash: u64, choices: &[(&'static str, u64)]) -> &'static str {
    let total: u64 = choices.iter().map(|(_, w)| w).sum();
    let mut at = hash % total;
    for (value, weight) in choices {
        if at < *weight {
            return value;
        }
        at -= weight;
    }
    choices[0].0
}

/// The properties an event may have besides `$session_id`.
const PROPERTIES: [&str; 4] = ["$browser", "$device_type", "utm_source", "plan"];

/// One property of an event, a pure function of its name, person and session (so
/// events need not store them): its session's browser, device and (half the time)
/// UTM source; its person's plan on the product events.
pub(crate) fn property(name: &str, person: &str, session: Option<&str>, key: &str) -> Option<&'static str> {
    let session_hash = || session.map(|s| mix(hash_str(s)));
    match key {
        "$browser" => session_hash()
            .map(|h| weighted(h, &[("Chrome", 60), ("Safari", 25), ("Firefox", 8), ("Edge", 7)])),
        "$device_type" => session_hash()
            .map(|h| weighted(h >> 16, &[("Desktop", 55), ("Mobile", 40), ("Tablet", 5)])),
        "utm_source" => session_hash()
            .map(|h| weighted(h >> 32, &[("", 50), ("google", 25), ("newsletter", 15), ("twitter", 10)]))
            .filter(|s| !s.is_empty()),
        "plan" if matches!(name, "signed_up" | "checkout_started" | "subscription_started") => {
            Some(weighted(mix(hash_str(person) ^ 0x91A7), &[("free", 50), ("pro", 35), ("team", 15)]))
        }
        _ => None,
    }
}

impl Event {
    /// A property of the event, as HogQL reads it (`$session_id` included).
    pub fn property(&self, key: &str) -> Option<&str> {
        if key == "$session_id" {
            return self.session_id.as_deref();
        }
        property(&self.event, &self.person_id, self.session_id.as_deref(), key)
    }

    /// Every property it has but `$session_id`, as the ledger shows them.
    pub fn properties(&self) -> BTreeMap<&'static str, &str> {
        PROPERTIES
            .iter()
            .filter_map(|key| Some((*key, self.property(key)?)))
            .collect()
    }
}

/// The ledger's form of an event: its fields and its properties.
impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Event", 7)?;
        s.serialize_field("uuid", &self.uuid)?;
        s.serialize_field("event", &self.event)?;
        s.serialize_field("timestamp", &self.timestamp)?;
        s.serialize_field("inserted_at", &self.inserted_at)?;
        s.serialize_field("person_id", &self.person_id)?;
        s.serialize_field("session_id", &self.session_id)?;
        s.serialize_field("properties", &self.properties())?;
        s.end()
    }
}

const NAMES: [&str; 5] = [
    "Acme Web",
    "Acme App",
    "Storefront",
    "Marketing site",
    "Dashboard",
];

/// One ingested event, as the ledger shows it (with its `properties`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    pub uuid: String,
    pub event: String,
    /// When it happened (unix seconds).
    pub timestamp: i64,
    /// When PostHog ingested it; queries see it from then on.
    pub inserted_at: i64,
    pub person_id: String,
    /// `properties.$session_id`; absent for server-side events.
    pub session_id: Option<String>,
}

/// Everything a project's queries can see, for tests to recompute.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ProjectLedger {
    pub id: u64,
    pub name: String,
    /// IANA name; its offset is `utc_offset_secs` all year.
    pub timezone: String,
    pub utc_offset_secs: i64,
    /// The generated history starts here…
    pub start: i64,
    /// …and is generated (and ingested) up to here, the data clock.
    pub end: i64,
    /// Every event ingested before `end`, in ingestion order.
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Task {
    /// Expand the hour starting here into sessions.
    Hour,
    /// An event becomes visible (index into `pending`).
    Ingest(u64),
}

/// A generated project and its generator state.
#[derive(Debug)]
pub(crate) struct ProjectGen {
    pub ledger: ProjectLedger,
    anchor: i64,
    rng: Rng,
    agenda: Agenda<Task>,
    pending: HashMap<u64, Event>,
    persons: Vec<String>,
    salt: u64,
    ids: u64,
}

/// A UUID-shaped id (version 7 layout, deterministic) from a counter.
fn uuid(salt: u64, n: u64) -> String {
    let a = mix(salt ^ n);
    let b = mix(a ^ 0x5EED);
    format!(
        "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFF,
        0x8000 | (b >> 48) & 0x3FFF,
        b & 0xFFFF_FFFF_FFFF
    )
}

impl ProjectGen {
    pub fn new(seed: u64, id: u64, start: i64, anchor: i64) -> Self {
        let salt = mix(seed ^ hash_str("posthog") ^ mix(id));
        let (timezone, utc_offset_secs) = ZONES[(id % ZONES.len() as u64) as usize];
        let mut agenda = Agenda::default();
        agenda.push(start.div_euclid(HOUR) * HOUR, Task::Hour);
        Self {
            ledger: ProjectLedger {
                id,
                name: NAMES[(salt % NAMES.len() as u64) as usize].to_owned(),
                timezone: timezone.to_owned(),
                utc_offset_secs,
                start,
                end: start,
                events: Vec::new(),
            },
            anchor,
            rng: Rng::new(salt),
            agenda,
            pending: HashMap::new(),
            persons: Vec::new(),
            salt,
            ids: 0,
        }
    }

    fn next_id(&mut self) -> String {
        self.ids += 1;
        uuid(self.salt, self.ids)
    }

    /// Generates and ingests what happened before `end`.
    pub fn advance(&mut self, end: i64) {
        if end <= self.ledger.end {
            return;
        }
        while let Some((at, task)) = self.agenda.pop_before(end) {
            match task {
                Task::Hour => {
                    let rate = WEB.hourly_rate(DAILY_SESSIONS, at, self.anchor);
                    for _ in 0..self.rng.poisson(rate) {
                        let when = at + self.rng.range(0, HOUR);
                        if when >= self.ledger.start {
                            self.session(when);
                        }
                    }
                    self.agenda.push(at + HOUR, Task::Hour);
                }
                Task::Ingest(n) => {
                    if let Some(event) = self.pending.remove(&n) {
                        self.ledger.events.push(event);
                    }
                }
            }
        }
        self.ledger.end = end;
    }

    /// One visit starting at `at`: its events are scheduled for ingestion.
    fn session(&mut self, at: i64) {
        let new_person = self.persons.is_empty() || !self.rng.chance(RETURNING);
        let person = if new_person {
            let id = self.next_id();
            self.persons.push(id.clone());
            id
        } else {
            self.rng.pick(&self.persons).clone()
        };
        let session = Some(self.next_id());
        let mut t = at;
        let pages = 1 + self.rng.poisson(2.0);
        for page in 0..pages {
            if page > 0 {
                t += self.rng.range(15, 240);
            }
            self.emit("$pageview", t, &person, session.clone());
        }
        if new_person && self.rng.chance(SIGNUP) {
            t += self.rng.range(20, 300);
            self.emit("signed_up", t, &person, session.clone());
        }
        if self.rng.chance(CHECKOUT) {
            t += self.rng.range(10, 120);
            self.emit("checkout_started", t, &person, session.clone());
            if self.rng.chance(SUBSCRIBE) {
                // Sent by the product's backend after the payment: no session.
                let paid = t + self.rng.range(5, 600);
                self.emit("subscription_started", paid, &person, None);
            }
        }
        if self.rng.chance(PAGELEAVE) {
            t += self.rng.range(5, 120);
            self.emit("$pageleave", t, &person, session);
        }
    }

    fn emit(&mut self, name: &str, timestamp: i64, person: &str, session: Option<String>) {
        let lag = if self.rng.chance(LATE) {
            self.rng.range(HOUR, MAX_LATENESS)
        } else {
            self.rng.range(1, 30)
        };
        self.ids += 1;
        let n = self.ids;
        let event = Event {
            uuid: uuid(self.salt, n),
            event: name.to_owned(),
            timestamp,
            inserted_at: timestamp + lag,
            person_id: person.to_owned(),
            session_id: session,
        };
        self.pending.insert(n, event);
        self.agenda.push(timestamp + lag, Task::Ingest(n));
    }

    /// An event that happened at `timestamp` (before the clock) and is ingested now,
    /// at the clock: a late arrival scripted by a test.
    pub fn ingest_late(
        &mut self,
        name: &str,
        timestamp: i64,
        person: Option<&str>,
        session: Option<&str>,
    ) -> Result<Event, SimError> {
        if name.is_empty() {
            return Err(SimError::Invalid("an event needs a name".into()));
        }
        if timestamp >= self.ledger.end || timestamp < self.ledger.end - 365 * DAY {
            return Err(SimError::Invalid(
                "the event must have happened before the data clock, within a year".into(),
            ));
        }
        let person = match person {
            Some(person) => person.to_owned(),
            None => {
                let id = self.next_id();
                self.persons.push(id.clone());
                id
            }
        };
        let event = Event {
            uuid: self.next_id(),
            event: name.to_owned(),
            timestamp,
            inserted_at: self.ledger.end,
            person_id: person,
            session_id: session.map(str::to_owned),
        };
        self.ledger.events.push(event.clone());
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: i64 = 1_748_736_000; // 2025-06-01T00:00:00Z

    #[test]
    fn same_inputs_same_events_in_steps_or_at_once() {
        let mut once = ProjectGen::new(42, 7, START, START + 20 * DAY);
        once.advance(START + 20 * DAY);
        let mut steps = ProjectGen::new(42, 7, START, START + 20 * DAY);
        for day in 1..=20 {
            steps.advance(START + day * DAY - 7 * HOUR);
        }
        steps.advance(START + 20 * DAY);
        assert_eq!(once.ledger.events, steps.ledger.events);
        let other = {
            let mut g = ProjectGen::new(42, 8, START, START + 20 * DAY);
            g.advance(START + 20 * DAY);
            g.ledger.events
        };
        assert_ne!(once.ledger.events, other);
    }

    #[test]
    fn a_realistic_mix_with_late_arrivals() {
        let mut gen = ProjectGen::new(42, 4241, START, START + 30 * DAY);
        gen.advance(START + 30 * DAY);
        let ledger = &gen.ledger;
        assert_eq!((ledger.timezone.as_str(), ledger.utc_offset_secs), ("Asia/Tokyo", 9 * HOUR));
        let count = |name: &str| ledger.events.iter().filter(|e| e.event == name).count();
        let views = count("$pageview");
        assert!((2_500..7_000).contains(&views), "{views}");
        assert!(count("signed_up") > 20 && count("checkout_started") > 20);
        assert!(count("subscription_started") > 5);
        // Sessions' events share their browser; product events carry a plan.
        let browsers: std::collections::BTreeSet<_> = ledger
            .events
            .iter()
            .filter_map(|e| e.property("$browser"))
            .collect();
        assert_eq!(browsers.len(), 4, "{browsers:?}");
        assert!(ledger
            .events
            .iter()
            .filter(|e| e.event == "signed_up")
            .all(|e| e.property("plan").is_some()));
        assert!(ledger
            .events
            .iter()
            .filter(|e| e.event == "$pageview")
            .all(|e| e.property("plan").is_none() && e.property("$browser").is_some()));
        assert!(ledger
            .events
            .iter()
            .all(|e| e.inserted_at < ledger.end && e.inserted_at > e.timestamp));
        assert!(ledger
            .events
            .iter()
            .filter(|e| e.event == "subscription_started")
            .all(|e| e.session_id.is_none()));
        let late = ledger
            .events
            .iter()
            .filter(|e| e.inserted_at - e.timestamp >= HOUR)
            .count();
        assert!(late > 20, "{late}");
        // Some events happened before the clock but are not ingested yet.
        assert!(!gen.pending.is_empty());
    }
}

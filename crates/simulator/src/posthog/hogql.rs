//! A minimal HogQL interpreter: exactly the daily-count queries Pulseboard sends,
//! parsed strictly, run over a project's ingested events.
//!
//! ```sql
//! SELECT <item> AS <alias>, … FROM events
//! WHERE <condition> AND … GROUP BY <alias>, … ORDER BY <alias> [LIMIT n]
//! ```
//!
//! Items: `toDate(timestamp)` and `toStartOfDay(timestamp)` (in the project's time
//! zone, as in PostHog), `event`, `properties['<name>']` (or `properties.<name>`;
//! `null` where the event lacks it), `count()`, `countIf(event = '<name>')`,
//! `count(DISTINCT person_id)`, `count(DISTINCT properties.$session_id)` (absent
//! session ids not counted). Conditions: `timestamp <op> toDateTime('YYYY-MM-DD
//! HH:MM:SS', 'UTC')`, `toDate(timestamp) <op> toDate('YYYY-MM-DD')` and `event IN
//! ('<name>', …)`. The `GROUP BY` must name exactly the non-aggregate items, one of
//! which must be a day. Anything else is an error, answered as PostHog answers
//! a query it cannot run (400, `validation_error`).

use std::collections::{BTreeMap, HashSet};

use serde_json::{json, Value};

use super::gen::{Event, ProjectLedger};
use crate::common::time::{civil_from_days, parse_iso, DAY};

/// PostHog's default when a query has no `LIMIT`.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 50_000;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Num(u64),
    Sym(&'static str),
}

fn tokenize(query: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = query.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '$') {
                i += 1;
            }
            tokens.push(Token::Word(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            tokens.push(Token::Num(text.parse().map_err(|_| format!("number {text} is too large"))?));
        } else if c == '\'' {
            let mut text = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("unterminated string literal".into()),
                    Some('\\') => {
                        text.push(*chars.get(i + 1).ok_or("unterminated string literal")?);
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(c) => {
                        text.push(*c);
                        i += 1;
                    }
                }
            }
            tokens.push(Token::Str(text));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let sym = match two.as_str() {
                ">=" => ">=",
                "<=" => "<=",
                _ => match c {
                    '(' => "(",
                    ')' => ")",
                    '[' => "[",
                    ']' => "]",
                    ',' => ",",
                    '.' => ".",
                    '=' => "=",
                    '<' => "<",
                    '>' => ">",
                    _ => return Err(format!("unexpected character {c:?}")),
                },
            };
            i += sym.len();
            tokens.push(Token::Sym(sym));
        }
    }
    Ok(tokens)
}

/// What a select item computes.
#[derive(Debug, Clone, PartialEq)]
enum Item {
    Day,
    DayStart,
    Event,
    Property(String),
    Count,
    CountEvent(String),
    DistinctPersons,
    DistinctSessions,
}

impl Item {
    fn is_aggregate(&self) -> bool {
        !matches!(self, Item::Day | Item::DayStart | Item::Event | Item::Property(_))
    }

    fn type_name(&self) -> &'static str {
        match self {
            Item::Day => "Date",
            Item::DayStart => "DateTime",
            Item::Event => "String",
            Item::Property(_) => "Nullable(String)",
            _ => "UInt64",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Ge,
    Gt,
    Le,
    Lt,
}

impl Op {
    fn holds(self, left: i64, right: i64) -> bool {
        match self {
            Op::Ge => left >= right,
            Op::Gt => left > right,
            Op::Le => left <= right,
            Op::Lt => left < right,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Condition {
    /// `timestamp <op> toDateTime(…, 'UTC')`, unix seconds.
    Timestamp(Op, i64),
    /// `toDate(timestamp) <op> toDate(…)`, a day number.
    LocalDay(Op, i64),
    /// `event IN ('a', …)`.
    EventIn(Vec<String>),
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DailyQuery {
    items: Vec<(Item, String)>,
    conditions: Vec<Condition>,
    limit: usize,
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn describe(&self) -> String {
        match self.peek() {
            None => "the end of the query".into(),
            Some(Token::Word(w)) => format!("'{w}'"),
            Some(Token::Str(s)) => format!("string '{s}'"),
            Some(Token::Num(n)) => format!("{n}"),
            Some(Token::Sym(s)) => format!("'{s}'"),
        }
    }

    fn fail<T>(&self, expected: &str) -> Result<T, String> {
        Err(format!(
            "Syntax error at token {}: expected {expected}, found {}",
            self.at + 1,
            self.describe()
        ))
    }

    fn keyword(&mut self, keyword: &str) -> Result<(), String> {
        match self.peek() {
            Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword) => {
                self.at += 1;
                Ok(())
            }
            _ => self.fail(keyword),
        }
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword))
    }

    /// An identifier or function name, matched exactly.
    fn word(&mut self, word: &str) -> Result<(), String> {
        match self.peek() {
            Some(Token::Word(w)) if w == word => {
                self.at += 1;
                Ok(())
            }
            _ => self.fail(word),
        }
    }

    fn sym(&mut self, sym: &str) -> Result<(), String> {
        match self.peek() {
            Some(Token::Sym(s)) if *s == sym => {
                self.at += 1;
                Ok(())
            }
            _ => self.fail(&format!("'{sym}'")),
        }
    }

    fn is_sym(&self, sym: &str) -> bool {
        matches!(self.peek(), Some(Token::Sym(s)) if *s == sym)
    }

    fn string(&mut self) -> Result<String, String> {
        match self.peek() {
            Some(Token::Str(s)) => {
                let s = s.clone();
                self.at += 1;
                Ok(s)
            }
            _ => self.fail("a string"),
        }
    }

    fn ident(&mut self) -> Result<String, String> {
        match self.peek() {
            Some(Token::Word(w)) if !RESERVED.iter().any(|r| w.eq_ignore_ascii_case(r)) => {
                let w = w.clone();
                self.at += 1;
                Ok(w)
            }
            _ => self.fail("an alias"),
        }
    }

    fn op(&mut self) -> Result<Op, String> {
        let op = match self.peek() {
            Some(Token::Sym(">=")) => Op::Ge,
            Some(Token::Sym(">")) => Op::Gt,
            Some(Token::Sym("<=")) => Op::Le,
            Some(Token::Sym("<")) => Op::Lt,
            _ => return self.fail("a comparison"),
        };
        self.at += 1;
        Ok(op)
    }

    /// `name(timestamp)`
    fn of_timestamp(&mut self, name: &str) -> Result<(), String> {
        self.word(name)?;
        self.sym("(")?;
        self.word("timestamp")?;
        self.sym(")")
    }

    fn item(&mut self) -> Result<Item, String> {
        match self.peek() {
            Some(Token::Word(w)) if w == "toDate" => {
                self.of_timestamp("toDate")?;
                Ok(Item::Day)
            }
            Some(Token::Word(w)) if w == "toStartOfDay" => {
                self.of_timestamp("toStartOfDay")?;
                Ok(Item::DayStart)
            }
            Some(Token::Word(w)) if w == "event" => {
                self.word("event")?;
                Ok(Item::Event)
            }
            Some(Token::Word(w)) if w == "properties" => {
                self.word("properties")?;
                if self.is_sym("[") {
                    self.sym("[")?;
                    let name = self.string()?;
                    self.sym("]")?;
                    Ok(Item::Property(name))
                } else {
                    self.sym(".")?;
                    Ok(Item::Property(self.ident()?))
                }
            }
            Some(Token::Word(w)) if w == "count" && matches!(self.tokens.get(self.at + 2), Some(Token::Sym(")"))) => {
                self.word("count")?;
                self.sym("(")?;
                self.sym(")")?;
                Ok(Item::Count)
            }
            Some(Token::Word(w)) if w == "countIf" => {
                self.word("countIf")?;
                self.sym("(")?;
                self.word("event")?;
                self.sym("=")?;
                let name = self.string()?;
                self.sym(")")?;
                Ok(Item::CountEvent(name))
            }
            Some(Token::Word(w)) if w == "count" => {
                self.word("count")?;
                self.sym("(")?;
                self.keyword("DISTINCT")?;
                let item = if matches!(self.peek(), Some(Token::Word(w)) if w == "person_id") {
                    self.word("person_id")?;
                    Item::DistinctPersons
                } else {
                    self.word("properties")?;
                    self.sym(".")?;
                    self.word("$session_id")?;
                    Item::DistinctSessions
                };
                self.sym(")")?;
                Ok(item)
            }
            _ => self.fail("toDate, toStartOfDay, event, properties, countIf or count"),
        }
    }

    fn condition(&mut self) -> Result<Condition, String> {
        if matches!(self.peek(), Some(Token::Word(w)) if w == "event") {
            self.word("event")?;
            self.keyword("IN")?;
            self.sym("(")?;
            let mut names = vec![self.string()?];
            while self.is_sym(",") {
                self.sym(",")?;
                names.push(self.string()?);
            }
            self.sym(")")?;
            return Ok(Condition::EventIn(names));
        }
        if matches!(self.peek(), Some(Token::Word(w)) if w == "timestamp") {
            self.word("timestamp")?;
            let op = self.op()?;
            self.word("toDateTime")?;
            self.sym("(")?;
            let text = self.string()?;
            self.sym(",")?;
            let zone = self.string()?;
            self.sym(")")?;
            if zone != "UTC" {
                return Err(format!("Unsupported time zone '{zone}' (the simulator knows 'UTC')"));
            }
            let at = parse_datetime(&text).ok_or_else(|| format!("Cannot parse DateTime '{text}'"))?;
            Ok(Condition::Timestamp(op, at))
        } else {
            self.of_timestamp("toDate")?;
            let op = self.op()?;
            self.word("toDate")?;
            self.sym("(")?;
            let text = self.string()?;
            self.sym(")")?;
            let day = parse_date(&text).ok_or_else(|| format!("Cannot parse Date '{text}'"))?;
            Ok(Condition::LocalDay(op, day))
        }
    }
}

const RESERVED: [&str; 10] = ["SELECT", "FROM", "WHERE", "AND", "GROUP", "BY", "ORDER", "LIMIT", "AS", "IN"];

/// `YYYY-MM-DD HH:MM:SS`, nothing else.
fn parse_datetime(text: &str) -> Option<i64> {
    (text.len() == 19 && text.as_bytes()[10] == b' ')
        .then(|| parse_iso(text))
        .flatten()
}

/// `YYYY-MM-DD` as a day number.
fn parse_date(text: &str) -> Option<i64> {
    (text.len() == 10).then(|| parse_iso(text)).flatten().map(|t| t.div_euclid(DAY))
}

/// Parses a query; the error is PostHog's `detail`.
pub(crate) fn parse(query: &str) -> Result<DailyQuery, String> {
    let mut p = Parser {
        tokens: tokenize(query)?,
        at: 0,
    };
    p.keyword("SELECT")?;
    let mut items = Vec::new();
    loop {
        let item = p.item()?;
        // A bare column is named after itself.
        let alias = if item == Item::Event && !p.is_keyword("AS") {
            "event".to_owned()
        } else {
            p.keyword("AS")?;
            p.ident()?
        };
        if items.iter().any(|(_, a)| *a == alias) {
            return Err(format!("Duplicate alias '{alias}'"));
        }
        items.push((item, alias));
        if !p.is_sym(",") {
            break;
        }
        p.sym(",")?;
    }
    p.keyword("FROM")?;
    p.word("events")?;
    let mut conditions = Vec::new();
    if p.is_keyword("WHERE") {
        p.keyword("WHERE")?;
        loop {
            conditions.push(p.condition()?);
            if !p.is_keyword("AND") {
                break;
            }
            p.keyword("AND")?;
        }
    }
    p.keyword("GROUP")?;
    p.keyword("BY")?;
    let mut group = Vec::new();
    loop {
        group.push(p.ident()?);
        if !p.is_sym(",") {
            break;
        }
        p.sym(",")?;
    }
    let mut keys: Vec<&String> = items
        .iter()
        .filter(|(item, _)| !item.is_aggregate())
        .map(|(_, alias)| alias)
        .collect();
    keys.sort();
    let mut named: Vec<&String> = group.iter().collect();
    named.sort();
    if keys.is_empty() || keys != named {
        return Err(format!(
            "GROUP BY must list exactly the non-aggregated columns {keys:?}"
        ));
    }
    if !items.iter().any(|(item, _)| matches!(item, Item::Day | Item::DayStart)) {
        return Err("the simulator only runs queries grouped by day".into());
    }
    p.keyword("ORDER")?;
    p.keyword("BY")?;
    let order = p.ident()?;
    // Both day columns sort the days the same way (and then the other keys).
    if !items
        .iter()
        .any(|(item, alias)| *alias == order && matches!(item, Item::Day | Item::DayStart))
    {
        return Err(format!("ORDER BY '{order}' is not a grouped day column"));
    }
    let limit = if p.is_keyword("LIMIT") {
        p.keyword("LIMIT")?;
        match p.peek() {
            Some(Token::Num(n)) if *n > 0 && *n as usize <= MAX_LIMIT => {
                let n = *n as usize;
                p.at += 1;
                n
            }
            _ => return p.fail(&format!("a LIMIT between 1 and {MAX_LIMIT}")),
        }
    } else {
        DEFAULT_LIMIT
    };
    if p.peek().is_some() {
        return p.fail("the end of the query");
    }
    Ok(DailyQuery {
        items,
        conditions,
        limit,
    })
}

/// `YYYY-MM-DD` of a day number.
fn date_text(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The local midnight of `day` with the zone's offset, as PostHog serialises a
/// `DateTime` in the project's time zone.
fn day_start_text(day: i64, offset: i64) -> String {
    if offset == 0 {
        return format!("{}T00:00:00Z", date_text(day));
    }
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.abs();
    format!(
        "{}T00:00:00{sign}{:02}:{:02}",
        date_text(day),
        abs / 3600,
        abs % 3600 / 60
    )
}

#[derive(Default)]
struct Group<'a> {
    count: u64,
    events: BTreeMap<&'a str, u64>,
    persons: HashSet<&'a str>,
    sessions: HashSet<&'a str>,
}

/// Runs a query over the project's ingested events: `(columns, types, rows, has_more)`.
/// Groups are keyed by the local day, then the other grouped columns in order.
pub(crate) fn run(query: &DailyQuery, ledger: &ProjectLedger) -> (Vec<String>, Value, Vec<Value>, bool) {
    let offset = ledger.utc_offset_secs;
    let local_day = |e: &Event| (e.timestamp + offset).div_euclid(DAY);
    let mut groups: BTreeMap<(i64, Vec<Option<&str>>), Group> = BTreeMap::new();
    for event in &ledger.events {
        let day = local_day(event);
        let keep = query.conditions.iter().all(|c| match c {
            Condition::Timestamp(op, at) => op.holds(event.timestamp, *at),
            Condition::LocalDay(op, d) => op.holds(day, *d),
            Condition::EventIn(names) => names.contains(&event.event),
        });
        if !keep {
            continue;
        }
        let key: Vec<Option<&str>> = query
            .items
            .iter()
            .filter_map(|(item, _)| match item {
                Item::Event => Some(Some(event.event.as_str())),
                Item::Property(name) => Some(event.property(name)),
                _ => None,
            })
            .collect();
        let group = groups.entry((day, key)).or_default();
        group.count += 1;
        *group.events.entry(&event.event).or_default() += 1;
        group.persons.insert(&event.person_id);
        if let Some(session) = event.session_id.as_deref().filter(|s| !s.is_empty()) {
            group.sessions.insert(session);
        }
    }
    let has_more = groups.len() > query.limit;
    let rows = groups
        .iter()
        .take(query.limit)
        .map(|((day, key), group)| {
            let mut keys = key.iter();
            Value::Array(
                query
                    .items
                    .iter()
                    .map(|(item, _)| match item {
                        Item::Day => json!(date_text(*day)),
                        Item::DayStart => json!(day_start_text(*day, offset)),
                        Item::Event | Item::Property(_) => json!(keys.next().copied().flatten()),
                        Item::Count => json!(group.count),
                        Item::CountEvent(name) => {
                            json!(group.events.get(name.as_str()).copied().unwrap_or(0))
                        }
                        Item::DistinctPersons => json!(group.persons.len()),
                        Item::DistinctSessions => json!(group.sessions.len()),
                    })
                    .collect(),
            )
        })
        .collect();
    let columns = query.items.iter().map(|(_, alias)| alias.clone()).collect();
    let types = query
        .items
        .iter()
        .map(|(item, alias)| json!([alias, item.type_name()]))
        .collect();
    (columns, Value::Array(types), rows, has_more)
}

/// The limit a query runs with.
pub(crate) fn limit(query: &DailyQuery) -> usize {
    query.limit
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONNECTOR_QUERY: &str = "SELECT toDate(timestamp) AS day, toStartOfDay(timestamp) AS day_start, countIf(event = '$pageview') AS pageviews, count(DISTINCT person_id) AS unique_persons, count(DISTINCT properties.$session_id) AS sessions, countIf(event = 'signed_up') AS signed_up FROM events WHERE timestamp >= toDateTime('2024-04-30 00:00:00', 'UTC') AND timestamp < toDateTime('2024-05-04 00:00:00', 'UTC') AND toDate(timestamp) >= toDate('2024-05-01') AND toDate(timestamp) <= toDate('2024-05-02') GROUP BY day, day_start ORDER BY day LIMIT 1000";

    fn event(name: &str, timestamp: &str, person: &str, session: Option<&str>) -> Event {
        let timestamp = parse_iso(timestamp).unwrap();
        Event {
            uuid: format!("{name}{timestamp}"),
            event: name.into(),
            timestamp,
            inserted_at: timestamp + 1,
            person_id: person.into(),
            session_id: session.map(Into::into),
        }
    }

    #[test]
    fn the_connectors_query_counts_local_days() {
        let query = parse(CONNECTOR_QUERY).unwrap();
        let ledger = ProjectLedger {
            id: 1,
            name: "x".into(),
            timezone: "Asia/Tokyo".into(),
            utc_offset_secs: 9 * 3600,
            start: 0,
            end: parse_iso("2024-06-01").unwrap(),
            events: vec![
                // 2024-05-01 08:00 in Tokyo.
                event("$pageview", "2024-04-30T23:00:00Z", "p1", Some("s1")),
                event("$pageview", "2024-04-30T23:05:00Z", "p1", Some("s1")),
                event("signed_up", "2024-04-30T23:06:00Z", "p1", Some("s1")),
                // 2024-05-02 in Tokyo, a server-side event without a session.
                event("$pageview", "2024-05-01T16:00:00Z", "p2", Some("s2")),
                event("subscription_started", "2024-05-01T16:10:00Z", "p3", None),
                // 2024-04-30 in Tokyo: outside the local days.
                event("$pageview", "2024-04-30T14:00:00Z", "p1", Some("s0")),
            ],
        };
        let (columns, _, rows, more) = run(&query, &ledger);
        assert_eq!(columns, ["day", "day_start", "pageviews", "unique_persons", "sessions", "signed_up"]);
        assert!(!more);
        assert_eq!(
            rows,
            [
                json!(["2024-05-01", "2024-05-01T00:00:00+09:00", 2, 1, 1, 1]),
                json!(["2024-05-02", "2024-05-02T00:00:00+09:00", 1, 2, 1, 0]),
            ]
        );
        assert_eq!(day_start_text(0, -7 * 3600), "1970-01-01T00:00:00-07:00");
        assert_eq!(day_start_text(0, 19800), "1970-01-01T00:00:00+05:30");
    }

    #[test]
    fn the_picked_events_query_counts_by_day_event_and_property() {
        let query = parse("SELECT toDate(timestamp) AS day, toStartOfDay(timestamp) AS day_start, event, properties['$browser'] AS breakdown, count() AS count FROM events WHERE toDate(timestamp) >= toDate('2024-05-01') AND event IN ('signed_up', 'checkout_started') GROUP BY day, day_start, event, breakdown ORDER BY day LIMIT 50000").unwrap();
        let events = vec![
            event("signed_up", "2024-05-01T10:00:00Z", "p1", Some("s1")),
            event("signed_up", "2024-05-01T11:00:00Z", "p1", Some("s1")),
            event("checkout_started", "2024-05-01T12:00:00Z", "p2", Some("s3")),
            event("$pageview", "2024-05-01T12:00:00Z", "p2", Some("s3")),
            // Server-side, without a session: no browser.
            event("signed_up", "2024-05-02T12:00:00Z", "p3", None),
        ];
        let browser = |i: usize| events[i].property("$browser").map(str::to_owned);
        let (b1, b3) = (browser(0), browser(2));
        assert!(b1.is_some() && browser(4).is_none());
        let ledger = ProjectLedger {
            id: 1,
            name: "x".into(),
            timezone: "UTC".into(),
            utc_offset_secs: 0,
            start: 0,
            end: parse_iso("2024-06-01").unwrap(),
            events,
        };
        let (columns, _, rows, _) = run(&query, &ledger);
        assert_eq!(columns, ["day", "day_start", "event", "breakdown", "count"]);
        assert_eq!(
            rows,
            [
                json!(["2024-05-01", "2024-05-01T00:00:00Z", "checkout_started", b3, 1]),
                json!(["2024-05-01", "2024-05-01T00:00:00Z", "signed_up", b1, 2]),
                json!(["2024-05-02", "2024-05-02T00:00:00Z", "signed_up", null, 1]),
            ]
        );
        let dotted = parse("SELECT toDate(timestamp) AS day, properties.$browser AS b, count() AS n FROM events GROUP BY day, b ORDER BY day").unwrap();
        assert_eq!(dotted.items[1].0, Item::Property("$browser".into()));
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "SELECT * FROM events",
            "SELECT event, count() FROM events GROUP BY event",
            "SELECT toDate(timestamp) AS day FROM persons GROUP BY day ORDER BY day",
            "SELECT toDate(timestamp) AS day, count(DISTINCT person_id) AS p FROM events GROUP BY p ORDER BY day",
            "SELECT toDate(timestamp) AS day FROM events GROUP BY day ORDER BY day LIMIT 0",
            "SELECT toDate(timestamp) AS day FROM events WHERE timestamp >= toDateTime('2024-05-01 00:00:00', 'Europe/Paris') GROUP BY day ORDER BY day",
            "SELECT toDate(timestamp) AS day FROM events WHERE toDate(timestamp) >= toDate('2024-13-01') GROUP BY day ORDER BY day",
            "SELECT toDate(timestamp) AS day FROM events GROUP BY day ORDER BY day; DROP TABLE events",
            "SELECT toDate(timestamp) AS day, toDate(timestamp) AS day FROM events GROUP BY day ORDER BY day",
            "SELECT countIf(event = 'x) AS n FROM events",
            "SELECT event, count() AS n FROM events GROUP BY event ORDER BY event",
            "SELECT toDate(timestamp) AS day, count() AS n FROM events WHERE event IN () GROUP BY day ORDER BY day",
            "SELECT toDate(timestamp) AS day, properties[plan] AS p FROM events GROUP BY day, p ORDER BY day",
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
        let minimal = parse("select toDate(timestamp) as d from events group by d order by d").unwrap();
        assert_eq!(limit(&minimal), DEFAULT_LIMIT);
        let escaped = parse("SELECT toDate(timestamp) AS d, countIf(event = 'it\\'s') AS n FROM events GROUP BY d ORDER BY d").unwrap();
        assert_eq!(escaped.items[1].0, Item::CountEvent("it's".into()));
    }
}

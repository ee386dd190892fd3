//! The GraphQL Admin API's query root over a generated shop: `shop`,
//! `orders`, `customers`, `products` and `abandonedCheckouts`.
//!
//! There is no real GraphQL engine: a small scanner reads the operation's
//! root fields, their aliases and arguments (literals or `$variables`), and
//! each connection answers with the full node shape whatever the selection
//! asks for (see the `*_node` functions in `ledger.rs`), wrapped
//! in `{edges: [{cursor, node}], nodes, pageInfo}` (`edges` and `nodes` only
//! when selected).
//!
//! Connections take `first` (required, ≤ 250), `after` (an opaque cursor,
//! base64 of `{"last_id", "last_value"}` like Shopify's), `sortKey` (`ID`
//! (default), `CREATED_AT`, `UPDATED_AT`, and `PROCESSED_AT` for orders),
//! `reverse`, and `query` in Shopify's search syntax with `updated_at` and
//! `created_at` (`processed_at` for orders) compared by `:>=`, `:>`, `:<=`,
//! `:<` or `:` (a date alone means that whole day, UTC), values quoted or
//! not; other search terms are ignored with a warning in
//! `extensions.search`, as Shopify does. Order is ascending (sort value, id).
//!
//! Access scopes are enforced: `read_orders` for orders and abandoned
//! checkouts, `read_customers`, `read_products` (or the `write_` scope); and
//! without `read_all_orders`, orders created more than 60 days before the data
//! clock silently do not exist, exactly the trap Shopify sets.
//!
//! Cost model (see [`cost`]): a connection requests `2 + first × node cost`
//! and actually costs `2 + returned nodes × node cost`; `shop` costs 1. Each
//! shop has a leaky bucket (`SimulatorConfig::shopify_bucket`, default 1000
//! points restoring 50/s): the requested cost is reserved up front and the
//! difference to the actual cost returned afterwards, as Shopify documents.
//! A query requesting more than the bucket holds now gets HTTP 200 with a
//! `THROTTLED` error and no data; one requesting more than the bucket's
//! maximum gets `MAX_COST_EXCEEDED`. Every answer carries
//! `extensions.cost.throttleStatus`.

use std::{collections::HashMap, time::Instant};

use axum::{
    response::{IntoResponse, Response},
    Json,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::{json, Map, Value};

use crate::{
    common::{
        faults::lock,
        time::{format_iso, parse_iso, DAY},
    },
    shopify::{
        api::title_case,
        gen::{Connection, ShopGen, SortKey},
    },
    AppState,
};

/// Query cost constants (Shopify's calculated query cost, simplified: an
/// order's line items and refunds are counted in its flat node cost).
pub mod cost {
    /// What every connection costs on top of its nodes.
    pub const CONNECTION: u32 = 2;
    /// Per order node (the order, its `lineItems` and `refunds`).
    pub const ORDER: u32 = 3;
    /// Per customer, product or abandoned-checkout node.
    pub const NODE: u32 = 1;
    /// The `shop` field.
    pub const SHOP: u32 = 1;
}

/// Largest `first` Shopify accepts.
const MAX_PAGE: i64 = 250;
/// How far back orders are visible without `read_all_orders`.
const RECENT_ORDERS: i64 = 60 * DAY;

/// Per-shop leaky buckets.
#[derive(Debug, Default)]
pub(crate) struct Buckets {
    shops: HashMap<String, (f64, Instant)>,
}

/// A snapshot of a shop's bucket, as `throttleStatus` reports it.
#[derive(Debug, Clone, Copy)]
struct Throttle {
    maximum: f64,
    available: f64,
    restore: f64,
}

impl Throttle {
    fn json(self) -> Value {
        json!({
            "maximumAvailable": self.maximum,
            "currentlyAvailable": self.available.floor(),
            "restoreRate": self.restore,
        })
    }
}

impl Buckets {
    /// Restores the bucket to now, then applies `change` to its level (which
    /// may refuse by returning `false`, leaving it untouched).
    fn update(
        &mut self,
        shop: &str,
        maximum: f64,
        restore: f64,
        change: impl FnOnce(&mut f64) -> bool,
    ) -> (bool, Throttle) {
        let now = Instant::now();
        let (level, at) = self.shops.entry(shop.to_owned()).or_insert((maximum, now));
        *level = (*level + now.duration_since(*at).as_secs_f64() * restore).min(maximum);
        *at = now;
        let accepted = change(level);
        (
            accepted,
            Throttle {
                maximum,
                available: *level,
                restore,
            },
        )
    }
}

// ---------------------------------------------------------------------------
// A scanner for the operation's root selection set.

#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Var(String),
    Int(i64),
    Str(String),
    Enum(String),
    Bool(bool),
    Null,
    /// A float, list or object: never valid for the arguments supported here.
    Other,
}

#[derive(Debug, Clone, PartialEq)]
struct Field {
    alias: Option<String>,
    name: String,
    args: Vec<(String, Arg)>,
    /// Names selected directly under the field (`edges`, `nodes`, `pageInfo`, …).
    selection: Vec<String>,
}

struct Scanner<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ignored(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\n' | b'\r' | b',' => self.pos += 1,
                b'#' => {
                    while self.peek().is_some_and(|c| c != b'\n') {
                        self.pos += 1;
                    }
                }
                _ if self.s[self.pos..].starts_with("\u{feff}".as_bytes()) => self.pos += 3,
                _ => break,
            }
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        self.skip_ignored();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn unexpected(&self) -> String {
        match self.peek() {
            Some(c) => format!(
                "syntax error, unexpected '{}' at offset {}",
                c as char, self.pos
            ),
            None => "syntax error, unexpected end of file".to_owned(),
        }
    }

    fn name(&mut self) -> Result<String, String> {
        self.skip_ignored();
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
        {
            self.pos += 1;
        }
        if start == self.pos || self.s[start].is_ascii_digit() {
            return Err(self.unexpected());
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }

    /// A string literal (block strings included), unescaped.
    fn string(&mut self) -> Result<String, String> {
        if self.s[self.pos..].starts_with(b"\"\"\"") {
            let rest = &self.s[self.pos + 3..];
            let end = rest
                .windows(3)
                .position(|w| w == b"\"\"\"")
                .ok_or("syntax error, unterminated string")?;
            self.pos += 3 + end + 3;
            return Ok(String::from_utf8_lossy(&rest[..end]).trim().to_owned());
        }
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.peek() {
                None | Some(b'\n') => return Err("syntax error, unterminated string".into()),
                Some(b'\\') => self.pos += 2,
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => self.pos += 1,
            }
        }
        // GraphQL string escapes are JSON's.
        let literal = String::from_utf8_lossy(&self.s[start..self.pos]);
        serde_json::from_str(&literal).map_err(|_| "syntax error, bad string escape".into())
    }

    /// The field names directly inside a selection set `{…}` (nested sets,
    /// arguments and directives skipped).
    fn selection_names(&mut self) -> Result<Vec<String>, String> {
        self.expect(b'{')?;
        let mut names = Vec::new();
        loop {
            self.skip_ignored();
            match self.peek() {
                None => return Err(self.unexpected()),
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(names);
                }
                Some(b'(' | b'{') => self.skip_group()?,
                Some(b'"') => {
                    self.string()?;
                }
                Some(b':' | b'@' | b'.') => self.pos += 1,
                Some(_) => names.push(self.name()?),
            }
        }
    }

    /// Skips a balanced `(…)`, `[…]` or `{…}` group, strings included.
    fn skip_group(&mut self) -> Result<(), String> {
        let mut depth = 0usize;
        loop {
            self.skip_ignored();
            match self.peek() {
                None => return Err(self.unexpected()),
                Some(b'"') => {
                    self.string()?;
                    continue;
                }
                Some(b'(' | b'[' | b'{') => depth += 1,
                Some(b')' | b']' | b'}') => depth -= 1,
                Some(_) => {}
            }
            self.pos += 1;
            if depth == 0 {
                return Ok(());
            }
        }
    }

    fn value(&mut self) -> Result<Arg, String> {
        self.skip_ignored();
        match self.peek() {
            Some(b'$') => {
                self.pos += 1;
                Ok(Arg::Var(self.name()?))
            }
            Some(b'"') => Ok(Arg::Str(self.string()?)),
            Some(b'[' | b'{') => {
                self.skip_group()?;
                Ok(Arg::Other)
            }
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                let start = self.pos;
                self.pos += 1;
                while self.peek().is_some_and(|c| {
                    c.is_ascii_alphanumeric() || c == b'.' || c == b'+' || c == b'-'
                }) {
                    self.pos += 1;
                }
                let text = String::from_utf8_lossy(&self.s[start..self.pos]);
                Ok(text.parse().map_or(Arg::Other, Arg::Int))
            }
            _ => Ok(match self.name()?.as_str() {
                "true" => Arg::Bool(true),
                "false" => Arg::Bool(false),
                "null" => Arg::Null,
                other => Arg::Enum(other.to_owned()),
            }),
        }
    }

    /// The root fields of the document's first operation.
    fn root_fields(&mut self) -> Result<Vec<Field>, String> {
        // Skip `query Name($v: T = default) @directive` up to the selection set.
        loop {
            self.skip_ignored();
            match self.peek() {
                None => return Err(self.unexpected()),
                Some(b'{') => break,
                Some(b'"') => {
                    self.string()?;
                }
                Some(b'(') => self.skip_group()?,
                Some(_) => self.pos += 1,
            }
        }
        self.expect(b'{')?;
        let mut fields = Vec::new();
        loop {
            self.skip_ignored();
            match self.peek() {
                Some(b'}') => return Ok(fields),
                None => return Err(self.unexpected()),
                Some(b'.') => return Err("fragments are not supported by the simulator".into()),
                _ => {}
            }
            let mut name = self.name()?;
            let mut alias = None;
            self.skip_ignored();
            if self.peek() == Some(b':') {
                self.pos += 1;
                alias = Some(name);
                name = self.name()?;
            }
            let mut args = Vec::new();
            let mut selection = Vec::new();
            self.skip_ignored();
            if self.peek() == Some(b'(') {
                self.pos += 1;
                loop {
                    self.skip_ignored();
                    if self.peek() == Some(b')') {
                        self.pos += 1;
                        break;
                    }
                    let arg = self.name()?;
                    self.expect(b':')?;
                    args.push((arg, self.value()?));
                }
            }
            loop {
                self.skip_ignored();
                match self.peek() {
                    Some(b'@') => {
                        self.pos += 1;
                        self.name()?;
                        self.skip_ignored();
                        if self.peek() == Some(b'(') {
                            self.skip_group()?;
                        }
                    }
                    Some(b'{') => {
                        selection = self.selection_names()?;
                        break;
                    }
                    _ => break,
                }
            }
            fields.push(Field {
                alias,
                name,
                args,
                selection,
            });
        }
    }
}

fn parse_fields(query: &str) -> Result<Vec<Field>, String> {
    Scanner {
        s: query.as_bytes(),
        pos: 0,
    }
    .root_fields()
}

// ---------------------------------------------------------------------------
// Search syntax and cursors.

/// Inclusive bounds on one timestamp field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bounds {
    lower: i64,
    upper: i64,
}

impl Default for Bounds {
    fn default() -> Self {
        Self {
            lower: i64::MIN,
            upper: i64::MAX,
        }
    }
}

impl Bounds {
    fn contains(self, t: i64) -> bool {
        self.lower <= t && t <= self.upper
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Search {
    created: Bounds,
    updated: Bounds,
}

/// Parses the `query` argument; returns the filters and the terms ignored.
fn parse_search(query: &str, connection: Connection) -> (Search, Vec<(String, &'static str)>) {
    let mut search = Search::default();
    let mut warnings = Vec::new();
    let mut terms = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    for c in query.chars() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, c) if c.is_whitespace() => terms.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    terms.push(current);
    for term in terms.into_iter().filter(|t| !t.is_empty() && t != "AND") {
        let Some((field, rest)) = term.split_once(':') else {
            warnings.push((term, "Free-text search is not supported by the simulator."));
            continue;
        };
        let bounds = match field {
            "updated_at" => &mut search.updated,
            "created_at" => &mut search.created,
            "processed_at" if connection == Connection::Orders => &mut search.created,
            _ => {
                warnings.push((field.to_owned(), "Invalid search field for this query."));
                continue;
            }
        };
        let (op, value) = [">=", "<=", ">", "<"]
            .iter()
            .find_map(|op| rest.strip_prefix(op).map(|v| (*op, v)))
            .unwrap_or(("", rest));
        let Some(at) = parse_iso(value) else {
            warnings.push((field.to_owned(), "Invalid date: the term is ignored."));
            continue;
        };
        let date_only = value.trim().len() == 10;
        match op {
            ">=" => bounds.lower = bounds.lower.max(at),
            ">" if date_only => bounds.lower = bounds.lower.max(at + DAY),
            ">" => bounds.lower = bounds.lower.max(at + 1),
            "<=" if date_only => bounds.upper = bounds.upper.min(at + DAY - 1),
            "<=" => bounds.upper = bounds.upper.min(at),
            "<" => bounds.upper = bounds.upper.min(at - 1),
            _ if date_only => {
                bounds.lower = bounds.lower.max(at);
                bounds.upper = bounds.upper.min(at + DAY - 1);
            }
            _ => {
                bounds.lower = bounds.lower.max(at);
                bounds.upper = bounds.upper.min(at);
            }
        }
    }
    (search, warnings)
}

fn encode_cursor(sort: SortKey, (value, id): (i64, u64)) -> String {
    let value = match sort {
        SortKey::Id => json!(value),
        SortKey::CreatedAt | SortKey::UpdatedAt => json!(format_iso(value)),
    };
    STANDARD.encode(json!({ "last_id": id, "last_value": value }).to_string())
}

fn decode_cursor(sort: SortKey, cursor: &str) -> Option<(i64, u64)> {
    let json: Value = serde_json::from_slice(&STANDARD.decode(cursor).ok()?).ok()?;
    let id = json.get("last_id")?.as_u64()?;
    let value = match (sort, json.get("last_value")?) {
        (SortKey::Id, value) => value.as_i64()?,
        (_, Value::String(text)) => parse_iso(text)?,
        _ => return None,
    };
    Some((value, id))
}

// ---------------------------------------------------------------------------
// Execution.

/// A validated connection request.
#[derive(Debug)]
struct Request {
    key: String,
    connection: Connection,
    first: usize,
    after: Option<(i64, u64)>,
    sort: SortKey,
    reverse: bool,
    search: Search,
    warnings: Vec<(String, &'static str)>,
    query: Option<String>,
    /// Which wrappers the selection asks for (rendering both doubles the work).
    edges: bool,
    nodes: bool,
}

/// A root field ready to run.
#[derive(Debug)]
enum Plan {
    Shop(String),
    Typename(String),
    Connection(Request),
}

fn error(message: String, code: &str, path: &str) -> Value {
    json!({ "message": message, "path": [path], "extensions": { "code": code } })
}

fn connection_of(name: &str) -> Option<(Connection, &'static str, &'static str)> {
    Some(match name {
        "orders" => (Connection::Orders, "read_orders", "OrderSortKeys"),
        "customers" => (Connection::Customers, "read_customers", "CustomerSortKeys"),
        "products" => (Connection::Products, "read_products", "ProductSortKeys"),
        "abandonedCheckouts" => (
            Connection::Checkouts,
            "read_orders",
            "AbandonedCheckoutSortKeys",
        ),
        _ => return None,
    })
}

/// Whether a comma-separated scope list grants `read_x` (a `write_x` implies it).
fn has_scope(scopes: &str, read: &str) -> bool {
    let write = read.replacen("read_", "write_", 1);
    scopes
        .split(',')
        .map(str::trim)
        .any(|s| s == read || s == write)
}

fn plan(field: &Field, variables: &Value, scopes: &str) -> Result<Plan, Value> {
    let key = field.alias.clone().unwrap_or_else(|| field.name.clone());
    let resolve = |arg: &Arg| -> Value {
        match arg {
            Arg::Var(name) => variables.get(name).cloned().unwrap_or(Value::Null),
            Arg::Int(n) => json!(n),
            Arg::Str(s) | Arg::Enum(s) => json!(s),
            Arg::Bool(b) => json!(b),
            Arg::Null => Value::Null,
            Arg::Other => json!({ "unsupported": true }),
        }
    };
    if field.name == "shop" {
        return Ok(Plan::Shop(key));
    }
    if field.name == "__typename" {
        return Ok(Plan::Typename(key));
    }
    let Some((connection, scope, sort_type)) = connection_of(&field.name) else {
        return Err(json!({
            "message": format!("Field '{}' doesn't exist on type 'QueryRoot'", field.name),
            "path": ["query", field.name],
            "extensions": { "code": "undefinedField", "typeName": "QueryRoot", "fieldName": field.name },
        }));
    };
    if !has_scope(scopes, scope) {
        return Err(json!({
            "message": format!("Access denied for {} field. Required access: `{scope}` access scope.", field.name),
            "path": [key],
            "extensions": {
                "code": "ACCESS_DENIED",
                "documentation": "https://shopify.dev/api/usage/access-scopes",
                "requiredAccess": format!("`{scope}` access scope."),
            },
        }));
    }
    let mut args = Map::new();
    for (name, arg) in &field.args {
        if !["first", "after", "query", "sortKey", "reverse"].contains(&name.as_str()) {
            let message = if ["last", "before"].contains(&name.as_str()) {
                format!(
                    "The simulator pages forward only; '{name}' on Field '{}' is not supported.",
                    field.name
                )
            } else {
                format!("Field '{}' doesn't accept argument '{name}'", field.name)
            };
            return Err(error(message, "argumentNotAccepted", &key));
        }
        args.insert(name.clone(), resolve(arg));
    }
    let invalid = |name: &str, value: &Value, expected: &str| {
        error(
            format!(
                "Argument '{name}' on Field '{}' has an invalid value ({value}). Expected type '{expected}'.",
                field.name
            ),
            "argumentLiteralsIncompatible",
            &key,
        )
    };
    let first = match args.get("first") {
        None | Some(Value::Null) => {
            return Err(error(
                "you must provide one of first or last".into(),
                "BAD_REQUEST",
                &key,
            ))
        }
        Some(value) => value
            .as_i64()
            .ok_or_else(|| invalid("first", value, "Int"))?,
    };
    if !(0..=MAX_PAGE).contains(&first) {
        return Err(error(
            format!("The value of first must be between 0 and {MAX_PAGE} (was {first})."),
            "BAD_REQUEST",
            &key,
        ));
    }
    let sort = match args.get("sortKey") {
        None | Some(Value::Null) => SortKey::Id,
        Some(value) => match value.as_str() {
            Some("ID") => SortKey::Id,
            Some("CREATED_AT") => SortKey::CreatedAt,
            Some("UPDATED_AT") => SortKey::UpdatedAt,
            Some("PROCESSED_AT") if connection == Connection::Orders => SortKey::CreatedAt,
            _ => return Err(invalid("sortKey", value, sort_type)),
        },
    };
    let reverse = match args.get("reverse") {
        None | Some(Value::Null) => false,
        Some(value) => value
            .as_bool()
            .ok_or_else(|| invalid("reverse", value, "Boolean"))?,
    };
    let after = match args.get("after") {
        None | Some(Value::Null) => None,
        Some(value) => {
            let cursor = value
                .as_str()
                .ok_or_else(|| invalid("after", value, "String"))?;
            Some(decode_cursor(sort, cursor).ok_or_else(|| {
                error(
                    format!("Invalid cursor for current pagination: {cursor}"),
                    "BAD_REQUEST",
                    &key,
                )
            })?)
        }
    };
    let query = match args.get("query") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_str()
                .ok_or_else(|| invalid("query", value, "String"))?
                .to_owned(),
        ),
    };
    let (search, warnings) = query
        .as_deref()
        .map(|q| parse_search(q, connection))
        .unwrap_or_default();
    Ok(Plan::Connection(Request {
        key,
        connection,
        first: first as usize,
        after,
        sort,
        reverse,
        search,
        warnings,
        query,
        edges: field.selection.iter().any(|s| s == "edges"),
        nodes: field.selection.iter().any(|s| s == "nodes"),
    }))
}

fn node_cost(connection: Connection) -> u32 {
    match connection {
        Connection::Orders => cost::ORDER,
        _ => cost::NODE,
    }
}

/// Runs one connection request; returns its JSON and how many nodes it returned.
fn run(shop: &mut ShopGen, request: &Request, all_orders: bool) -> (Value, usize) {
    let Request {
        connection, sort, ..
    } = *request;
    shop.view(connection, sort);
    let shop: &ShopGen = shop;
    let view = &shop.views[&(connection, sort)];
    let ledger = &shop.ledger;
    let oldest_order = if all_orders {
        i64::MIN
    } else {
        ledger.end - RECENT_ORDERS
    };
    let times = |i: usize| -> (i64, i64) {
        match connection {
            Connection::Orders => (ledger.orders[i].created_at, ledger.orders[i].updated_at),
            Connection::Customers => (
                ledger.customers[i].created_at,
                ledger.customers[i].updated_at,
            ),
            Connection::Products => (ledger.products[i].created_at, ledger.products[i].updated_at),
            Connection::Checkouts => (
                ledger.checkouts[i].created_at,
                ledger.checkouts[i].updated_at,
            ),
        }
    };
    let matches = |i: usize| -> bool {
        let (created, updated) = times(i);
        request.search.created.contains(created)
            && request.search.updated.contains(updated)
            && (connection != Connection::Orders || created >= oldest_order)
    };
    // The search bounds on the sort field itself narrow the scan.
    let sort_bounds = match sort {
        SortKey::Id => Bounds::default(),
        SortKey::CreatedAt => request.search.created,
        SortKey::UpdatedAt => request.search.updated,
    };
    let key = |i: usize| shop.key(connection, sort, i);
    let len = view.len();

    // Positions in walking order: ascending, or descending with `reverse`.
    let (start, step): (usize, isize) = if request.reverse {
        let below = match request.after {
            Some(cursor) => view.partition_point(|i| key(*i) < cursor),
            None => len,
        };
        let below = below.min(view.partition_point(|i| key(*i).0 <= sort_bounds.upper));
        (below, -1)
    } else {
        let above = match request.after {
            Some(cursor) => view.partition_point(|i| key(*i) <= cursor),
            None => 0,
        };
        (
            above.max(view.partition_point(|i| key(*i).0 < sort_bounds.lower)),
            1,
        )
    };
    let walk = |from: usize, dir: isize| {
        let mut pos = from as isize;
        std::iter::from_fn(move || {
            let here = if dir > 0 { pos } else { pos - 1 };
            if here < 0 || here as usize >= len {
                return None;
            }
            pos += dir;
            let i = view[here as usize];
            Some(i)
        })
        .take_while(move |i| sort_bounds.contains(key(*i).0))
    };
    let mut page = Vec::with_capacity(request.first);
    let mut has_next = false;
    for i in walk(start, step).filter(|i| matches(*i)) {
        if page.len() == request.first {
            has_next = true;
            break;
        }
        page.push(i);
    }
    let has_previous = walk(start, -step).any(matches);

    let node = |i: usize| -> Value {
        match connection {
            Connection::Orders => {
                let order = &ledger.orders[i];
                let customer = order.customer.and_then(|id| shop.customer_by_id(id));
                ledger.order_node(order, customer)
            }
            Connection::Customers => ledger.customer_node(&ledger.customers[i]),
            Connection::Products => ledger.product_node(&ledger.products[i]),
            Connection::Checkouts => ledger.checkout_node(&ledger.checkouts[i]),
        }
    };
    let cursor = |i: &usize| encode_cursor(sort, key(*i));
    let mut connection_json = json!({
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": page.first().map(cursor),
            "endCursor": page.last().map(cursor),
        },
    });
    // Nodes are moved in: `json!` would deep-copy them through serde.
    if request.edges {
        let edges: Vec<Value> = page
            .iter()
            .map(|i| {
                let mut edge = json!({ "cursor": cursor(i) });
                edge["node"] = node(*i);
                edge
            })
            .collect();
        connection_json["edges"] = Value::Array(edges);
    }
    if request.nodes {
        connection_json["nodes"] = page.iter().map(|i| node(*i)).collect();
    }
    (connection_json, page.len())
}

fn shop_node(sim: &AppState, shop: &str) -> Value {
    let config = &sim.config.shopify;
    let name = config
        .shop_names
        .get(shop)
        .cloned()
        .unwrap_or_else(|| title_case(shop));
    json!({
        "name": name,
        "myshopifyDomain": shop,
        "currencyCode": config.currency,
        "ianaTimezone": config.timezone,
    })
}

/// Answers an authenticated GraphQL request for `shop` whose token grants `scopes`.
pub(crate) fn execute(sim: &AppState, shop: &str, scopes: &str, body: &[u8]) -> Response {
    let request: Value = serde_json::from_slice(body).unwrap_or_default();
    let query = request
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let variables = request.get("variables").cloned().unwrap_or(Value::Null);
    let fields = match parse_fields(query) {
        Ok(fields) => fields,
        Err(message) => return Json(
            json!({ "errors": [{ "message": message, "extensions": { "code": "parseError" } }] }),
        )
        .into_response(),
    };
    let mut plans = Vec::new();
    let mut errors = Vec::new();
    for field in &fields {
        match plan(field, &variables, scopes) {
            Ok(plan) => plans.push(plan),
            Err(error) => errors.push(error),
        }
    }
    if !errors.is_empty() {
        return Json(json!({ "errors": errors })).into_response();
    }

    let requested: u32 = plans
        .iter()
        .map(|plan| match plan {
            Plan::Shop(_) => cost::SHOP,
            Plan::Typename(_) => 0,
            Plan::Connection(r) => cost::CONNECTION + r.first as u32 * node_cost(r.connection),
        })
        .sum();
    let bucket = sim.config.shopify_bucket;
    let (maximum, restore) = (bucket.maximum_available, bucket.restore_rate);
    if f64::from(requested) > maximum {
        let (_, throttle) = lock(&sim.shopify_buckets).update(shop, maximum, restore, |_| true);
        return Json(json!({
            "errors": [{
                "message": format!(
                    "Query cost is {requested}, which exceeds the single query max cost limit ({maximum}).\n\n\
                     See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n\
                     cost of a query is calculated.\n\n\
                     To query larger amounts of data with fewer limits, bulk operations should be used instead.\n\
                     See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"
                ),
                "extensions": { "code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": maximum },
            }],
            "extensions": { "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": null,
                "throttleStatus": throttle.json(),
            }},
        }))
        .into_response();
    }
    let (reserved, throttle) = lock(&sim.shopify_buckets).update(shop, maximum, restore, |level| {
        let fits = *level >= f64::from(requested);
        if fits {
            *level -= f64::from(requested);
        }
        fits
    });
    if !reserved {
        return Json(json!({
            "errors": [{
                "message": "Throttled",
                "extensions": {
                    "code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                },
            }],
            "extensions": { "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": null,
                "throttleStatus": throttle.json(),
            }},
        }))
        .into_response();
    }

    let mut data = Map::new();
    let mut actual = 0;
    let mut search = Vec::new();
    let all_orders = has_scope(scopes, "read_all_orders");
    for plan in &plans {
        match plan {
            Plan::Shop(key) => {
                actual += cost::SHOP;
                data.insert(key.clone(), shop_node(sim, shop));
            }
            Plan::Typename(key) => {
                data.insert(key.clone(), json!("QueryRoot"));
            }
            Plan::Connection(request) => {
                let (value, count) = {
                    let mut world = lock(&sim.world);
                    run(world.shop(shop), request, all_orders)
                };
                actual += cost::CONNECTION + count as u32 * node_cost(request.connection);
                data.insert(request.key.clone(), value);
                if !request.warnings.is_empty() {
                    let warnings: Vec<Value> = request
                        .warnings
                        .iter()
                        .map(|(field, message)| json!({ "field": field, "message": message }))
                        .collect();
                    search.push(json!({
                        "path": [request.key],
                        "query": request.query,
                        "warnings": warnings,
                    }));
                }
            }
        }
    }
    let refund = f64::from(requested - actual);
    let (_, throttle) = lock(&sim.shopify_buckets).update(shop, maximum, restore, |level| {
        *level = (*level + refund).min(maximum);
        true
    });
    let mut extensions = json!({ "cost": {
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": throttle.json(),
    }});
    if !search.is_empty() {
        extensions["search"] = Value::Array(search);
    }
    let mut body = json!({});
    body["data"] = Value::Object(data);
    body["extensions"] = extensions;
    Json(body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_root_fields_aliases_and_arguments() {
        let fields = parse_fields(
            r#"query Orders($first: Int!, $after: String) @inContext(country: US) {
                # a comment { with braces }
                recent: orders(first: $first, after: $after, sortKey: UPDATED_AT, query: "updated_at:>='2024-01-01T00:00:00Z'") {
                    edges { cursor node { id name totalPriceSet { shopMoney { amount } } } }
                    pageInfo { hasNextPage endCursor }
                }
                shop { name }
            }"#,
        )
        .unwrap();
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[0].alias.as_deref(), Some("recent"));
        assert_eq!(fields[0].name, "orders");
        assert_eq!(
            fields[0].args,
            vec![
                ("first".into(), Arg::Var("first".into())),
                ("after".into(), Arg::Var("after".into())),
                ("sortKey".into(), Arg::Enum("UPDATED_AT".into())),
                (
                    "query".into(),
                    Arg::Str("updated_at:>='2024-01-01T00:00:00Z'".into())
                ),
            ]
        );
        assert_eq!(fields[0].selection, vec!["edges", "pageInfo"]);
        assert_eq!(fields[1].name, "shop");
        assert_eq!(fields[1].selection, vec!["name"]);
        assert_eq!(
            parse_fields("{ shop { name myshopifyDomain } }").unwrap()[0].name,
            "shop"
        );
        assert!(parse_fields("{ orders(first: ").is_err());
        assert_eq!(
            parse_fields(r#"{ products(first: 5, reverse: true, query: """status:active""") { nodes { id } } }"#)
                .unwrap()[0]
                .args[2],
            ("query".into(), Arg::Str("status:active".into()))
        );
    }

    #[test]
    fn search_terms_become_bounds() {
        let (search, warnings) = parse_search(
            "updated_at:>='2024-01-01T00:00:00Z' AND updated_at:<\"2024-02-01T00:00:00Z\" status:any",
            Connection::Orders,
        );
        assert_eq!(
            search.updated.lower,
            parse_iso("2024-01-01T00:00:00Z").unwrap()
        );
        assert_eq!(
            search.updated.upper,
            parse_iso("2024-02-01T00:00:00Z").unwrap() - 1
        );
        assert_eq!(search.created, Bounds::default());
        assert_eq!(warnings.len(), 1);
        let (search, _) = parse_search("created_at:2024-03-05", Connection::Customers);
        let day = parse_iso("2024-03-05").unwrap();
        assert_eq!(
            (search.created.lower, search.created.upper),
            (day, day + DAY - 1)
        );
        let (search, warnings) = parse_search("updated_at:>soon", Connection::Orders);
        assert_eq!(search, Search::default());
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn cursors_round_trip() {
        let key = (1_700_000_000, 5_600_000_000_123);
        let cursor = encode_cursor(SortKey::UpdatedAt, key);
        assert_eq!(decode_cursor(SortKey::UpdatedAt, &cursor), Some(key));
        let by_id = encode_cursor(SortKey::Id, (42, 42));
        assert_eq!(decode_cursor(SortKey::Id, &by_id), Some((42, 42)));
        assert_eq!(decode_cursor(SortKey::UpdatedAt, &by_id), None);
        assert_eq!(decode_cursor(SortKey::Id, "not base64!"), None);
    }

    #[test]
    fn scopes_and_write_implies_read() {
        assert!(has_scope("read_orders,read_products", "read_products"));
        assert!(has_scope("write_orders", "read_orders"));
        assert!(!has_scope("read_orders", "read_all_orders"));
        assert!(!has_scope("", "read_orders"));
    }
}

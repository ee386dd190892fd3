//! Shopify's search syntax in a connection's `query` argument, reduced to
//! what the simulator filters on: bounds on `created_at` and `updated_at`
//! (`processed_at` for orders).

use crate::{
    common::time::{parse_iso, DAY},
    shopify::gen::Connection,
};

/// Inclusive bounds on one timestamp field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Bounds {
    pub lower: i64,
    pub upper: i64,
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
    pub fn contains(self, t: i64) -> bool {
        self.lower <= t && t <= self.upper
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Search {
    pub created: Bounds,
    pub updated: Bounds,
}

/// Parses the `query` argument; returns the filters and the terms ignored.
pub(super) fn parse_search(
    query: &str,
    connection: Connection,
) -> (Search, Vec<(String, &'static str)>) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

//! Turns the scanned root fields into validated plans: arguments resolved
//! against the variables and type-checked, access scopes enforced, with
//! Shopify's error shapes for what is refused.

use serde_json::{json, Map, Value};

use super::{
    cursor::decode_cursor,
    scanner::{Arg, Field},
    search::{parse_search, Search},
};
use crate::shopify::gen::{Connection, SortKey};

/// Largest `first` Shopify accepts.
const MAX_PAGE: i64 = 250;

/// A validated connection request.
#[derive(Debug)]
pub(super) struct Request {
    pub key: String,
    pub connection: Connection,
    pub first: usize,
    pub after: Option<(i64, u64)>,
    pub sort: SortKey,
    pub reverse: bool,
    pub search: Search,
    pub warnings: Vec<(String, &'static str)>,
    pub query: Option<String>,
    /// Which wrappers the selection asks for (rendering both doubles the work).
    pub edges: bool,
    pub nodes: bool,
}

/// A root field ready to run.
#[derive(Debug)]
pub(super) enum Plan {
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
pub(super) fn has_scope(scopes: &str, read: &str) -> bool {
    let write = read.replacen("read_", "write_", 1);
    scopes
        .split(',')
        .map(str::trim)
        .any(|s| s == read || s == write)
}

/// Validates one root field into what to run, or Shopify's error for it.
pub(super) fn plan(field: &Field, variables: &Value, scopes: &str) -> Result<Plan, Value> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_and_write_implies_read() {
        assert!(has_scope("read_orders,read_products", "read_products"));
        assert!(has_scope("write_orders", "read_orders"));
        assert!(!has_scope("read_orders", "read_all_orders"));
        assert!(!has_scope("", "read_orders"));
    }
}

//! Connection cursors: base64 of `{"last_id", "last_value"}` like Shopify's,
//! where the value is the sort key's (an id, or an ISO 8601 time).

use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::{json, Value};

use crate::{
    common::time::{format_iso, parse_iso},
    shopify::gen::SortKey,
};

/// The cursor of the node whose sort key is `(value, id)`.
pub(super) fn encode_cursor(sort: SortKey, (value, id): (i64, u64)) -> String {
    let value = match sort {
        SortKey::Id => json!(value),
        SortKey::CreatedAt | SortKey::UpdatedAt => json!(format_iso(value)),
    };
    STANDARD.encode(json!({ "last_id": id, "last_value": value }).to_string())
}

/// The `(value, id)` sort key in a cursor made for `sort`; `None` when it is
/// not one.
pub(super) fn decode_cursor(sort: SortKey, cursor: &str) -> Option<(i64, u64)> {
    let json: Value = serde_json::from_slice(&STANDARD.decode(cursor).ok()?).ok()?;
    let id = json.get("last_id")?.as_u64()?;
    let value = match (sort, json.get("last_value")?) {
        (SortKey::Id, value) => value.as_i64()?,
        (_, Value::String(text)) => parse_iso(text)?,
        _ => return None,
    };
    Some((value, id))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}

//! Writing metric events: `COPY … FROM STDIN` in PostgreSQL's text format, the fastest
//! way in (see BENCHMARKS.md). Replacing the events of changed source records is
//! [`delete_for_records`], in `db::metric_events`.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

pub use crate::db::metric_events::delete_for_records;

/// One row of `metric_events`.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub org_id: Uuid,
    pub store_id: Uuid,
    pub integration_id: Uuid,
    pub source: String,
    pub metric_name: String,
    pub metric_value: i64,
    /// A JSON object (`{"currency":"USD"}`).
    pub dimensions: String,
    pub recorded_at: DateTime<Utc>,
    pub source_record_id: String,
}

/// Escapes a value for COPY's text format.
fn push_text(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// Appends rows in COPY text format (tab-separated, one line per row).
pub fn encode(rows: &[EventRow], out: &mut String) {
    use std::fmt::Write;
    for row in rows {
        let _ = write!(
            out,
            "{}\t{}\t{}\t",
            row.org_id, row.store_id, row.integration_id
        );
        push_text(out, &row.source);
        out.push('\t');
        push_text(out, &row.metric_name);
        let _ = write!(out, "\t{}\t", row.metric_value);
        push_text(out, &row.dimensions);
        let _ = write!(out, "\t{}\t", row.recorded_at.to_rfc3339());
        push_text(out, &row.source_record_id);
        out.push('\n');
    }
}

pub const COPY_STATEMENT: &str =
    "COPY metric_events (org_id, store_id, integration_id, source, metric_name, \
     metric_value, dimensions, recorded_at, source_record_id) FROM STDIN";

/// PostgreSQL's binary COPY: no text parsing of ids, numbers and times on the server.
const BINARY_COPY_STATEMENT: &str = "COPY metric_events (org_id, store_id, integration_id, source, \
     metric_name, metric_value, dimensions, recorded_at, source_record_id) FROM STDIN (FORMAT binary)";

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01 UTC).
const PG_EPOCH_OFFSET_MICROS: i64 = 946_684_800_000_000;

fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Appends rows as binary COPY tuples (without the file header and trailer).
pub fn encode_binary(rows: &[EventRow], out: &mut Vec<u8>) {
    for row in rows {
        out.extend_from_slice(&9i16.to_be_bytes());
        field(out, row.org_id.as_bytes());
        field(out, row.store_id.as_bytes());
        field(out, row.integration_id.as_bytes());
        field(out, row.source.as_bytes());
        field(out, row.metric_name.as_bytes());
        field(out, &row.metric_value.to_be_bytes());
        // jsonb's binary form: a version byte, then the text.
        out.extend_from_slice(&(row.dimensions.len() as i32 + 1).to_be_bytes());
        out.push(1);
        out.extend_from_slice(row.dimensions.as_bytes());
        let micros = row.recorded_at.timestamp_micros() - PG_EPOCH_OFFSET_MICROS;
        field(out, &micros.to_be_bytes());
        field(out, row.source_record_id.as_bytes());
    }
}

/// Inserts rows with binary COPY, streaming in chunks of about a megabyte.
pub async fn copy_events(conn: &mut PgConnection, rows: &[EventRow]) -> sqlx::Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let mut copy = conn.copy_in_raw(BINARY_COPY_STATEMENT).await?;
    let mut buffer = Vec::with_capacity(1 << 20);
    buffer.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    buffer.extend_from_slice(&0i32.to_be_bytes()); // flags
    buffer.extend_from_slice(&0i32.to_be_bytes()); // header extension length
    for chunk in rows.chunks(4096) {
        encode_binary(chunk, &mut buffer);
        if let Err(error) = copy.send(buffer.as_slice()).await {
            copy.abort("sending rows failed").await.ok();
            return Err(error);
        }
        buffer.clear();
    }
    buffer.extend_from_slice(&(-1i16).to_be_bytes());
    if let Err(error) = copy.send(buffer.as_slice()).await {
        copy.abort("sending rows failed").await.ok();
        return Err(error);
    }
    copy.finish().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format_escapes_separators() {
        let row = EventRow {
            org_id: Uuid::nil(),
            store_id: Uuid::nil(),
            integration_id: Uuid::nil(),
            source: "shopify".into(),
            metric_name: "gross_sales".into(),
            metric_value: -5,
            // A real tab, backslash and newline inside a value.
            dimensions: "{\"product\":\"Mug\tlarge \\ blue\n\"}".into(),
            recorded_at: DateTime::from_timestamp(0, 0).unwrap(),
            source_record_id: "order/1".into(),
        };
        let mut out = String::new();
        encode(&[row], &mut out);
        assert_eq!(out.lines().count(), 1);
        assert_eq!(out.matches('\t').count(), 8, "{out}");
        assert!(out.contains(r#"Mug\tlarge \\ blue\n"#), "{out}");
        assert!(out.contains("\t-5\t"));
    }
}

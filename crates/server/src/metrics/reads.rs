//! The engine's reads. A query (or a whole dashboard) is computed twice: the first
//! pass only records the rollup and raw-event reads it needs ([`Reads::Planning`]),
//! [`answer_reads`] runs them as one batched statement per table, and the second
//! pass computes from the answers. This is the seam where another store (a columnar
//! one) could answer the reads instead; the small lookups at the end (stores,
//! freshness, labels) stay in PostgreSQL either way.
//!
//! Every statement is fixed text with bound parameters: a query decides only the
//! values bound. All run in the caller's transaction, so RLS applies to each.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::buckets::Daily;

/// One read the engine needs: rows of the rollups or of the raw events for a scope,
/// source, metric, group-by and filters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct ReadKey {
    stores: Vec<Uuid>,
    source: String,
    metric: String,
    group_by: Option<String>,
    /// Bound JSON: `[{"dim": "country", "vals": ["US", "CA"]}]`.
    filters: String,
    kind: ReadKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum ReadKind {
    /// Rollup days in `[from, to]`, per day and group.
    Days { from: NaiveDate, to: NaiveDate },
    /// The sum of every rollup day before `before`, per group (a stock's opening level).
    Opening { before: NaiveDate },
    /// Raw events in `[from, to)`, per local hour or day and group.
    Raw {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        hourly: bool,
        tz: String,
    },
}

/// Rows of one read: (day or local hour, or none for an opening level; group; sum; count).
pub(super) type Rows = Vec<(Option<NaiveDateTime>, String, i64, i64)>;

/// The engine's reads: recorded in the planning pass, answered in the computing pass.
pub(super) enum Reads {
    Planning(Vec<ReadKey>),
    Answered(HashMap<ReadKey, Rows>),
}

impl Reads {
    pub(super) fn get(&mut self, key: ReadKey) -> Rows {
        match self {
            Reads::Planning(keys) => {
                keys.push(key);
                Rows::new()
            }
            Reads::Answered(answers) => answers.get(&key).cloned().unwrap_or_default(),
        }
    }
}

/// Rollup reads (days and opening levels) in one statement, one request row per read.
const ROLLUPS_SQL: &str = "
SELECT r.i, CASE WHEN r.collapse THEN NULL ELSE m.day END AS day,
       CASE WHEN r.grp IS NULL THEN NULL ELSE m.dimensions->>r.grp END AS g,
       sum(m.value_sum)::bigint, sum(m.event_count)::bigint
FROM jsonb_to_recordset($1::jsonb)
       AS r(i int, stores uuid[], source text, metric text, lo date, hi date, grp text, filters jsonb, collapse bool)
CROSS JOIN LATERAL (
    SELECT x.day, x.dimensions, x.value_sum, x.event_count FROM metric_rollups_daily x
    WHERE x.store_id = ANY(r.stores) AND x.source = r.source AND x.metric_name = r.metric
      AND x.day >= r.lo AND x.day <= r.hi
      AND NOT EXISTS (SELECT 1 FROM jsonb_to_recordset(r.filters) AS f(dim text, vals text[])
                      WHERE NOT coalesce(x.dimensions->>f.dim = ANY(f.vals), false))
    -- A fence: each request is its own index scan, never one hash join over the table.
    OFFSET 0) m
GROUP BY 1, 2, 3";

/// Raw-event reads (a partial last day, hourly buckets) in one statement.
const RAW_SQL: &str = "
SELECT r.i, date_trunc(CASE WHEN r.hourly THEN 'hour' ELSE 'day' END, e.recorded_at AT TIME ZONE r.tz) AS bucket,
       CASE WHEN r.grp IS NULL THEN NULL ELSE e.dimensions->>r.grp END AS g,
       sum(e.metric_value)::bigint, count(*)
FROM jsonb_to_recordset($1::jsonb)
       AS r(i int, stores uuid[], source text, metric text, lo timestamptz, hi timestamptz, grp text, filters jsonb, tz text, hourly bool)
CROSS JOIN LATERAL (
    SELECT x.recorded_at, x.dimensions, x.metric_value FROM metric_events x
    WHERE x.store_id = ANY(r.stores) AND x.source = r.source AND x.metric_name = r.metric
      AND x.recorded_at >= r.lo AND x.recorded_at < r.hi
      AND NOT EXISTS (SELECT 1 FROM jsonb_to_recordset(r.filters) AS f(dim text, vals text[])
                      WHERE NOT coalesce(x.dimensions->>f.dim = ANY(f.vals), false))
    OFFSET 0) e
GROUP BY 1, 2, 3";

/// A row of [`ROLLUPS_SQL`]: request index, day (none for an opening level), group, sum, count.
type RollupRow = (i32, Option<NaiveDate>, Option<String>, i64, i64);
/// A row of [`RAW_SQL`]: request index, local hour or day, group, sum, count.
type RawRow = (i32, NaiveDateTime, Option<String>, i64, i64);

/// Runs every recorded read in at most two statements (bound JSON, no SQL from input).
pub(super) async fn answer_reads(
    conn: &mut PgConnection,
    keys: Vec<ReadKey>,
) -> sqlx::Result<HashMap<ReadKey, Rows>> {
    // A dashboard often asks for one read twice (a widget and a funnel step).
    let mut keys = keys;
    let mut seen = std::collections::HashSet::new();
    keys.retain(|k| seen.insert(k.clone()));
    let mut rollups = Vec::new();
    let mut raw = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let filters: serde_json::Value = serde_json::from_str(&key.filters).unwrap_or_default();
        let common = json!({
            "i": i, "stores": key.stores, "source": key.source, "metric": key.metric,
            "grp": key.group_by, "filters": filters,
        });
        let mut request = common.as_object().expect("object").clone();
        match &key.kind {
            ReadKind::Days { from, to } => {
                request.insert("lo".into(), json!(from));
                request.insert("hi".into(), json!(to));
                request.insert("collapse".into(), json!(false));
                rollups.push(serde_json::Value::Object(request));
            }
            ReadKind::Opening { before } => {
                // Plain comparisons only: under RLS a non-leakproof expression such as
                // coalesce() would be checked after the policy, row by row.
                request.insert("lo".into(), json!("-infinity"));
                request.insert("hi".into(), json!(*before - Duration::days(1)));
                request.insert("collapse".into(), json!(true));
                rollups.push(serde_json::Value::Object(request));
            }
            ReadKind::Raw {
                from,
                to,
                hourly,
                tz,
            } => {
                request.insert("lo".into(), json!(from));
                request.insert("hi".into(), json!(to));
                request.insert("tz".into(), json!(tz));
                request.insert("hourly".into(), json!(hourly));
                raw.push(serde_json::Value::Object(request));
            }
        }
    }
    let mut answers: Vec<Rows> = vec![Rows::new(); keys.len()];
    if !rollups.is_empty() {
        let rows: Vec<RollupRow> = sqlx::query_as(ROLLUPS_SQL)
            .bind(serde_json::Value::Array(rollups))
            .fetch_all(&mut *conn)
            .await?;
        for (i, day, group, sum, count) in rows {
            answers[i as usize].push((
                day.map(|d| d.and_time(NaiveTime::MIN)),
                group.unwrap_or_default(),
                sum,
                count,
            ));
        }
    }
    if !raw.is_empty() {
        let rows: Vec<RawRow> = sqlx::query_as(RAW_SQL)
            .bind(serde_json::Value::Array(raw))
            .fetch_all(&mut *conn)
            .await?;
        for (i, bucket, group, sum, count) in rows {
            answers[i as usize].push((Some(bucket), group.unwrap_or_default(), sum, count));
        }
    }
    Ok(keys.into_iter().zip(answers).collect())
}

/// One query's side of the reads: what every read of it shares.
#[derive(Clone)]
pub(super) struct Source {
    pub(super) stores: Vec<Uuid>,
    pub(super) source: String,
    /// Bound JSON, as in [`ReadKey::filters`].
    pub(super) filters: String,
    pub(super) group_by: Option<String>,
    /// The zone of the query's days (its first store's).
    pub(super) tz: Tz,
}

impl Source {
    /// The same stores, filters and zone, read from another source (a ratio's part).
    pub(super) fn of(&self, source: &str) -> Source {
        Source {
            source: source.to_owned(),
            ..self.clone()
        }
    }

    fn key(&self, metric: &str, kind: ReadKind) -> ReadKey {
        ReadKey {
            stores: self.stores.clone(),
            source: self.source.clone(),
            metric: metric.to_owned(),
            group_by: self.group_by.clone(),
            filters: self.filters.clone(),
            kind,
        }
    }

    /// Rollup days in `[from, to]`, per day and group.
    pub(super) fn daily(
        &self,
        reads: &mut Reads,
        metric: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Daily {
        let mut daily = Daily::new();
        for (day, group, sum, count) in reads.get(self.key(metric, ReadKind::Days { from, to })) {
            if let Some(day) = day {
                daily
                    .entry(day.date())
                    .or_default()
                    .insert(group, (sum, count));
            }
        }
        daily
    }

    /// The level of a stock before `day` (the sum of all earlier changes), per group.
    pub(super) fn opening(
        &self,
        reads: &mut Reads,
        metric: &str,
        day: NaiveDate,
    ) -> BTreeMap<String, i64> {
        reads
            .get(self.key(metric, ReadKind::Opening { before: day }))
            .into_iter()
            .map(|(_, g, v, _)| (g, v))
            .collect()
    }

    /// Raw events in `[from, to)`, bucketed by local hour (or as one bucket per day).
    pub(super) fn raw(
        &self,
        reads: &mut Reads,
        metric: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        hourly: bool,
    ) -> Vec<(NaiveDateTime, String, i64, i64)> {
        let kind = ReadKind::Raw {
            from,
            to,
            hourly,
            tz: self.tz.name().to_owned(),
        };
        reads
            .get(self.key(metric, kind))
            .into_iter()
            .filter_map(|(b, g, s, c)| b.map(|b| (b, g, s, c)))
            .collect()
    }
}

/// A store a query's scope names, with what its numbers depend on.
#[derive(sqlx::FromRow)]
pub(super) struct StoreRow {
    pub(super) id: Uuid,
    pub(super) currency: String,
    pub(super) timezone: String,
    pub(super) workspace_id: Uuid,
}

/// The stores visible to the caller among those named or in those workspaces, in
/// creation order (a multi-store query's first store sets its zone).
pub(super) async fn stores(
    conn: &mut PgConnection,
    org_id: Uuid,
    store_ids: &[Uuid],
    workspace_ids: &[Uuid],
) -> sqlx::Result<Vec<StoreRow>> {
    sqlx::query_as(
        "SELECT id, currency, timezone, workspace_id FROM stores
         WHERE org_id = $1 AND (id = ANY($2) OR workspace_id = ANY($3)) ORDER BY created_at",
    )
    .bind(org_id)
    .bind(store_ids)
    .bind(workspace_ids)
    .fetch_all(conn)
    .await
}

/// A connected (or failing) integration of a store, for a result's freshness.
#[derive(sqlx::FromRow)]
pub(super) struct IntegrationRow {
    pub(super) store_id: Uuid,
    pub(super) id: Uuid,
    pub(super) provider: String,
    pub(super) account_label: String,
    pub(super) status: String,
    pub(super) last_synced_at: Option<DateTime<Utc>>,
}

/// The integrations of these stores that are not disconnected, oldest first.
pub(super) async fn integrations(
    conn: &mut PgConnection,
    org_id: Uuid,
    stores: &[Uuid],
) -> sqlx::Result<Vec<IntegrationRow>> {
    sqlx::query_as(
        "SELECT store_id, id, provider, account_label, status, last_synced_at FROM integrations
         WHERE org_id = $1 AND store_id = ANY($2) AND status <> 'disconnected' ORDER BY created_at",
    )
    .bind(org_id)
    .bind(stores)
    .fetch_all(conn)
    .await
}

/// The latest label of each wanted (dimension, value) in these stores, in one statement.
pub(super) async fn labels(
    conn: &mut PgConnection,
    stores: &[Uuid],
    dimensions: &[String],
    values: &[String],
) -> sqlx::Result<HashMap<(String, String), String>> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT DISTINCT ON (dimension, value) dimension, value, label FROM dimension_labels
         WHERE store_id = ANY($1) AND (dimension, value) IN (SELECT * FROM unnest($2::text[], $3::text[]))
         ORDER BY dimension, value, updated_at DESC",
    )
    .bind(stores)
    .bind(dimensions)
    .bind(values)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(dimension, value, label)| ((dimension, value), label))
        .collect())
}

/// The account each integration of these stores reads (a Shopify shop, a Stripe
/// account), for links to the provider's dashboard.
pub(super) async fn integration_accounts(
    conn: &mut PgConnection,
    stores: &[Uuid],
) -> sqlx::Result<std::collections::HashMap<Uuid, String>> {
    let rows: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, external_account_id FROM integrations WHERE store_id = ANY($1)")
            .bind(stores)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().collect())
}

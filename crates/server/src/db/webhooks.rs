//! Webhook endpoints, the inbox of verified deliveries, and the revenue events the
//! live stream reads.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{types::Json, FromRow, PgConnection, PgExecutor};
use utoipa::ToSchema;
use uuid::Uuid;

/// The field an endpoint's signing secret is sealed under (with its integration's id).
pub const SECRET_FIELD: &str = "webhook_secret";

/// An endpoint as its integration page shows it (never its secret).
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Endpoint {
    pub id: Uuid,
    pub integration_id: Uuid,
    pub provider: String,
    /// The secret's first characters, to recognise it.
    pub secret_hint: String,
    pub created_at: DateTime<Utc>,
    /// When the last verified delivery arrived; `null`: nothing yet.
    pub last_received_at: Option<DateTime<Utc>>,
    /// Distinct deliveries received (retries and replays count once).
    pub deliveries: i64,
}

const ENDPOINT_COLUMNS: &str = "id, integration_id, provider, secret_hint, created_at,
    (SELECT max(received_at) FROM webhook_inbox i WHERE i.endpoint_id = webhook_endpoints.id) AS last_received_at,
    (SELECT count(*) FROM webhook_inbox i WHERE i.endpoint_id = webhook_endpoints.id) AS deliveries";

pub struct NewEndpoint<'a> {
    pub org_id: Uuid,
    pub integration_id: Uuid,
    pub provider: &'a str,
    pub key_id: &'a str,
    pub ciphertext: &'a str,
    pub hint: &'a str,
}

/// Creates the integration's endpoint, or replaces its secret (keeping its URL).
pub async fn upsert_endpoint(
    db: impl PgExecutor<'_>,
    e: &NewEndpoint<'_>,
) -> sqlx::Result<Endpoint> {
    sqlx::query_as(&format!(
        "INSERT INTO webhook_endpoints (id, org_id, integration_id, provider, secret_key_id, secret_ciphertext, secret_hint)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (integration_id) DO UPDATE SET secret_key_id = $5, secret_ciphertext = $6, secret_hint = $7
         RETURNING {ENDPOINT_COLUMNS}"
    ))
    .bind(Uuid::new_v4())
    .bind(e.org_id)
    .bind(e.integration_id)
    .bind(e.provider)
    .bind(e.key_id)
    .bind(e.ciphertext)
    .bind(e.hint)
    .fetch_one(db)
    .await
}

pub async fn endpoint_of(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    integration_id: Uuid,
) -> sqlx::Result<Option<Endpoint>> {
    sqlx::query_as(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = $1 AND integration_id = $2"
    ))
    .bind(org_id)
    .bind(integration_id)
    .fetch_optional(db)
    .await
}

pub async fn delete_endpoint(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    integration_id: Uuid,
) -> sqlx::Result<bool> {
    let done =
        sqlx::query("DELETE FROM webhook_endpoints WHERE org_id = $1 AND integration_id = $2")
            .bind(org_id)
            .bind(integration_id)
            .execute(db)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// What the intake needs to verify a delivery.
#[derive(Debug, FromRow)]
pub struct Receiver {
    pub org_id: Uuid,
    pub integration_id: Uuid,
    pub provider: String,
    pub secret_ciphertext: String,
}

pub async fn receiver(
    db: impl PgExecutor<'_>,
    endpoint_id: Uuid,
) -> sqlx::Result<Option<Receiver>> {
    sqlx::query_as(
        "SELECT e.org_id, e.integration_id, e.provider, e.secret_ciphertext
         FROM webhook_endpoints e JOIN integrations i ON i.id = e.integration_id
         WHERE e.id = $1 AND i.status <> 'disconnected'",
    )
    .bind(endpoint_id)
    .fetch_optional(db)
    .await
}

pub struct Delivery<'a> {
    pub org_id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub body: &'a [u8],
    pub headers: &'a serde_json::Value,
}

/// Stores a verified delivery once: false when this endpoint already has the event.
///
/// A repeat is recognised by a plain read first: `ON CONFLICT` alone would wait for
/// the transaction of a worker processing the first copy (its row is being updated),
/// so a provider's retry would be acknowledged only when that batch commits.
pub async fn receive(conn: &mut PgConnection, d: &Delivery<'_>) -> sqlx::Result<bool> {
    let stored = sqlx::query(
        "INSERT INTO webhook_inbox (org_id, endpoint_id, event_id, event_type, body, headers)
         SELECT $1, $2, $3, $4, $5, $6
         WHERE NOT EXISTS (SELECT 1 FROM webhook_inbox WHERE endpoint_id = $2 AND event_id = $3)
         ON CONFLICT (endpoint_id, event_id) DO NOTHING",
    )
    .bind(d.org_id)
    .bind(d.endpoint_id)
    .bind(d.event_id)
    .bind(d.event_type)
    .bind(d.body)
    .bind(Json(d.headers))
    .execute(&mut *conn)
    .await?;
    // No counter on the endpoint row: every delivery would queue on its lock.
    Ok(stored.rows_affected() == 1)
}

/// A delivery waiting to be processed.
#[derive(Debug, FromRow)]
pub struct Pending {
    pub id: i64,
    pub org_id: Uuid,
    pub endpoint_id: Uuid,
    pub body: Vec<u8>,
    pub headers: Json<serde_json::Value>,
    pub attempts: i32,
}

/// Claims up to `limit` unprocessed deliveries in arrival order, skipping those
/// another worker holds; the caller processes them in its transaction.
pub async fn claim(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<Pending>> {
    sqlx::query_as(
        "UPDATE webhook_inbox SET attempts = attempts + 1 WHERE id IN (
             SELECT id FROM webhook_inbox WHERE processed_at IS NULL AND attempts < 5
             ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING id, org_id, endpoint_id, body, headers, attempts",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Claims one unprocessed delivery by its event id (waiting for a worker that holds it).
pub async fn claim_one(
    conn: &mut PgConnection,
    endpoint_id: Uuid,
    event_id: &str,
) -> sqlx::Result<Vec<Pending>> {
    sqlx::query_as(
        "UPDATE webhook_inbox SET attempts = attempts + 1 WHERE id IN (
             SELECT id FROM webhook_inbox WHERE endpoint_id = $1 AND event_id = $2
                 AND processed_at IS NULL AND attempts < 5 FOR UPDATE)
         RETURNING id, org_id, endpoint_id, body, headers, attempts",
    )
    .bind(endpoint_id)
    .bind(event_id)
    .fetch_all(conn)
    .await
}

pub async fn mark_processed(
    conn: &mut PgConnection,
    id: i64,
    error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE webhook_inbox SET processed_at = CASE WHEN $2::text IS NULL THEN now() ELSE processed_at END,
                                  error = $2 WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .execute(conn)
    .await?;
    Ok(())
}

pub struct NewRevenue<'a> {
    pub org_id: Uuid,
    pub store_id: Uuid,
    pub integration_id: Uuid,
    pub provider: &'a str,
    pub source_id: &'a str,
    pub kind: &'a str,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub customer_email: Option<&'a str>,
    pub campaign: Option<&'a str>,
    pub occurred_at: DateTime<Utc>,
    /// `amount_minor` is the source's total so far (see `RevenueMove::cumulative`).
    pub cumulative: bool,
    /// The sale a refund takes back (its `source_id`): a refund without a campaign
    /// of its own takes that sale's.
    pub reverses: Option<&'a str>,
}

/// Records a money movement once per source object and kind, numbered in the
/// organization's sequence. The sequence row stays locked until the caller commits,
/// so numbers become visible in order. Returns the number, or `None` for a repeat.
pub async fn insert_revenue(
    conn: &mut PgConnection,
    r: &NewRevenue<'_>,
) -> sqlx::Result<Option<i64>> {
    let source_id = if r.cumulative {
        format!("{}@{}", r.source_id, r.amount_minor.abs())
    } else {
        r.source_id.to_owned()
    };
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM revenue_events WHERE integration_id = $1 AND source_id = $2 AND kind = $3)",
    )
    .bind(r.integration_id)
    .bind(&source_id)
    .bind(r.kind)
    .fetch_one(&mut *conn)
    .await?;
    if exists {
        return Ok(None);
    }
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO live_sequences (org_id, last_seq) VALUES ($1, 1)
         ON CONFLICT (org_id) DO UPDATE SET last_seq = live_sequences.last_seq + 1
         RETURNING last_seq",
    )
    .bind(r.org_id)
    .fetch_one(&mut *conn)
    .await?;
    // A cumulative total counts what it adds to the amounts already recorded for the
    // source (read under the sequence row's lock, so two totals of one source never
    // both count the same difference), under its own id: a replay is a repeat, an
    // older (smaller) total adds nothing. The skipped number leaves a gap, as a repeat
    // does: streams follow numbers, not counts.
    let amount_minor = if r.cumulative {
        let recorded: i64 = sqlx::query_scalar(
            "SELECT coalesce(sum(amount_minor), 0)::bigint FROM revenue_events
             WHERE integration_id = $1 AND kind = $3
               AND (source_id = $2 OR left(source_id, length($2) + 1) = $2 || '@')",
        )
        .bind(r.integration_id)
        .bind(r.source_id)
        .bind(r.kind)
        .fetch_one(&mut *conn)
        .await?;
        let difference = r.amount_minor - recorded;
        // Same sign as the total (refunds are negative): nothing new otherwise.
        if difference == 0 || difference.signum() != r.amount_minor.signum() {
            return Ok(None);
        }
        difference
    } else {
        r.amount_minor
    };
    let inserted = sqlx::query(
        "INSERT INTO revenue_events (org_id, seq, store_id, integration_id, provider, source_id, kind,
             amount_minor, currency, customer_email, campaign, occurred_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
                 coalesce($11, (SELECT s.campaign FROM revenue_events s
                                WHERE s.integration_id = $4 AND s.source_id = $13 AND s.kind <> 'refund'
                                ORDER BY s.seq LIMIT 1)),
                 $12)
         ON CONFLICT (integration_id, source_id, kind) DO NOTHING",
    )
    .bind(r.org_id)
    .bind(seq)
    .bind(r.store_id)
    .bind(r.integration_id)
    .bind(r.provider)
    .bind(&source_id)
    .bind(r.kind)
    .bind(amount_minor)
    .bind(r.currency)
    .bind(r.customer_email)
    .bind(r.campaign)
    .bind(r.occurred_at)
    .bind(r.reverses)
    .execute(conn)
    .await?;
    Ok((inserted.rows_affected() == 1).then_some(seq))
}

/// A revenue event as the live stream and the Pulse page show it.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct RevenueEvent {
    /// The organization's sequence number: the stream's event id.
    pub seq: i64,
    pub store_id: Uuid,
    pub provider: String,
    /// `sale`, `subscription`, `renewal`, `upsell` or `refund`.
    pub kind: String,
    /// Minor units; refunds are negative.
    pub amount_minor: i64,
    pub currency: String,
    pub campaign: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

/// Events after `after` in sequence order, of one store or all (as the caller: RLS
/// applies).
pub async fn revenue_after(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    store_id: Option<Uuid>,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<RevenueEvent>> {
    sqlx::query_as(
        "SELECT seq, store_id, provider, kind, amount_minor, currency, campaign, occurred_at
         FROM revenue_events WHERE org_id = $1 AND ($4::uuid IS NULL OR store_id = $4) AND seq > $2
         ORDER BY seq LIMIT $3",
    )
    .bind(org_id)
    .bind(after)
    .bind(limit)
    .bind(store_id)
    .fetch_all(db)
    .await
}

/// Events since an instant (the Pulse page's today), of one store or all, newest last.
pub async fn revenue_since(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    store_id: Option<Uuid>,
    since: DateTime<Utc>,
) -> sqlx::Result<Vec<RevenueEvent>> {
    sqlx::query_as(
        "SELECT seq, store_id, provider, kind, amount_minor, currency, campaign, occurred_at
         FROM revenue_events WHERE org_id = $1 AND ($3::uuid IS NULL OR store_id = $3) AND occurred_at >= $2
         ORDER BY seq LIMIT 5000",
    )
    .bind(org_id)
    .bind(since)
    .bind(store_id)
    .fetch_all(db)
    .await
}

/// The newest sequence number of an organization (0 before any event).
pub async fn last_seq(db: impl PgExecutor<'_>, org_id: Uuid) -> sqlx::Result<i64> {
    let seq: Option<i64> =
        sqlx::query_scalar("SELECT last_seq FROM live_sequences WHERE org_id = $1")
            .bind(org_id)
            .fetch_optional(db)
            .await?;
    Ok(seq.unwrap_or(0))
}

/// Wakes every instance's live streams (one ping per processed batch; DESIGN §11).
pub async fn ping_live(db: impl PgExecutor<'_>, org_id: Uuid, seq: i64) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_notify('pulseboard_live', $1)")
        .bind(format!("{org_id}:{seq}"))
        .execute(db)
        .await?;
    Ok(())
}

/// Marks the organization's numbers as changed, so cached dashboards recompute.
pub async fn touch_org(conn: &mut PgConnection, org_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE organizations SET data_changed_at = clock_timestamp() WHERE id = $1")
        .bind(org_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Endpoints whose secret is sealed under another key than `key_id`:
/// (endpoint id, integration id, ciphertext).
pub async fn secrets_not_under(
    db: impl PgExecutor<'_>,
    key_id: &str,
) -> sqlx::Result<Vec<(Uuid, Uuid, String)>> {
    sqlx::query_as(
        "SELECT id, integration_id, secret_ciphertext FROM webhook_endpoints WHERE secret_key_id <> $1 ORDER BY id",
    )
    .bind(key_id)
    .fetch_all(db)
    .await
}

pub async fn rekey_secret(
    db: impl PgExecutor<'_>,
    id: Uuid,
    key_id: &str,
    ciphertext: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE webhook_endpoints SET secret_key_id = $2, secret_ciphertext = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(key_id)
    .bind(ciphertext)
    .execute(db)
    .await?;
    Ok(())
}

/// A customer's erasure (Shopify `customers/redact`): their own record goes, the
/// personal fields of records that name them are removed, and the live feed forgets
/// their email. Amounts stay: they are the merchant's numbers, not personal data.
pub async fn redact_customer(
    conn: &mut PgConnection,
    integration_id: Uuid,
    customer_id: Option<&str>,
    email: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM raw_records WHERE integration_id = $1 AND object_type = 'customer' AND external_id = $2",
    )
    .bind(integration_id)
    .bind(customer_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE raw_records
         SET payload = payload - 'email' - 'phone' - 'customer' - 'billingAddress' - 'shippingAddress'
                       - 'billing_address' - 'shipping_address'
         WHERE integration_id = $1
           AND (($3::text IS NOT NULL AND lower(payload->>'email') = lower($3))
                OR ($2::text IS NOT NULL AND payload->'customer'->>'id' = $2))",
    )
    .bind(integration_id)
    .bind(customer_id)
    .bind(email)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE revenue_events SET customer_email = NULL
         WHERE integration_id = $1 AND $2::text IS NOT NULL AND lower(customer_email) = lower($2)",
    )
    .bind(integration_id)
    .bind(email)
    .execute(conn)
    .await?;
    Ok(())
}

/// Erases everything held from one integration (Shopify `shop/redact`): its raw
/// records, the events derived from them (their days are recomputed) and its
/// revenue events.
pub async fn erase_integration_data(
    conn: &mut PgConnection,
    integration_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO rollup_dirty_days (org_id, store_id, day)
         SELECT DISTINCT e.org_id, e.store_id, (e.recorded_at AT TIME ZONE s.timezone)::date
         FROM metric_events e JOIN stores s ON s.id = e.store_id
         WHERE e.integration_id = $1
         ON CONFLICT DO NOTHING",
    )
    .bind(integration_id)
    .execute(&mut *conn)
    .await?;
    for statement in [
        "DELETE FROM metric_events WHERE integration_id = $1",
        "DELETE FROM raw_records WHERE integration_id = $1",
        "DELETE FROM revenue_events WHERE integration_id = $1",
    ] {
        sqlx::query(statement)
            .bind(integration_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The live integrations of one provider account (a Connect platform's delivery is
/// routed to each), with their endpoint when they have one: (org, integration, endpoint).
pub async fn integrations_of_account(
    db: impl PgExecutor<'_>,
    provider: &str,
    account: &str,
) -> sqlx::Result<Vec<(Uuid, Uuid, Option<Uuid>)>> {
    sqlx::query_as(
        "SELECT i.org_id, i.id, e.id FROM integrations i
         LEFT JOIN webhook_endpoints e ON e.integration_id = i.id
         WHERE i.provider = $1 AND i.external_account_id = $2 AND i.status <> 'disconnected'
         ORDER BY i.created_at",
    )
    .bind(provider)
    .bind(account)
    .fetch_all(db)
    .await
}

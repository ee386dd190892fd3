//! The e-mail outbox: messages are queued in the transaction of the action that
//! causes them and delivered by a background loop.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgExecutor};
use utoipa::ToSchema;
use uuid::Uuid;

/// A message to queue.
pub struct NewEmail<'a> {
    pub org_id: Uuid,
    pub kind: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
}

pub async fn enqueue(db: impl PgExecutor<'_>, email: NewEmail<'_>) -> sqlx::Result<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO email_outbox (id, org_id, kind, to_addr, subject, body_text) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(email.org_id)
    .bind(email.kind)
    .bind(email.to)
    .bind(email.subject)
    .bind(email.body_text)
    .execute(db)
    .await?;
    Ok(id)
}

/// A message claimed for delivery.
#[derive(Debug, FromRow)]
pub struct OutgoingEmail {
    pub id: Uuid,
    pub to_addr: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub attempts: i32,
}

/// Claims up to `limit` due messages: each claim pushes the next attempt out by a
/// backoff, so a crashed sender's messages come back later and two senders never
/// take the same message at once.
pub async fn claim_due(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<OutgoingEmail>> {
    sqlx::query_as(
        "UPDATE email_outbox SET attempts = attempts + 1,
                next_attempt_at = now() + least(interval '1 minute' * power(2, attempts), interval '6 hours')
         WHERE id IN (
             SELECT id FROM email_outbox WHERE sent_at IS NULL AND next_attempt_at <= now() AND attempts < 10
             ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED
         )
         RETURNING id, to_addr, subject, body_text, body_html, attempts",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn mark_sent(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE email_outbox SET sent_at = now(), last_error = NULL WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn mark_failed(db: impl PgExecutor<'_>, id: Uuid, error: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE email_outbox SET last_error = $2 WHERE id = $1")
        .bind(id)
        .bind(error)
        .execute(db)
        .await?;
    Ok(())
}

/// A queued or sent message as the mailbox page lists it.
#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct OutboxEntry {
    pub id: Uuid,
    pub kind: String,
    pub to_addr: String,
    pub subject: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub attempts: i32,
    pub last_error: Option<String>,
}

pub async fn list(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<OutboxEntry>> {
    sqlx::query_as(
        "SELECT id, kind, to_addr, subject, created_at, sent_at, attempts, last_error
         FROM email_outbox WHERE org_id = $1 ORDER BY created_at DESC LIMIT $2",
    )
    .bind(org_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

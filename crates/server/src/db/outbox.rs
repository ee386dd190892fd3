//! The e-mail outbox: messages are queued in the transaction of the action that
//! causes them and delivered by a background loop (`notify::deliver_due`).
//!
//! A message is `queued` until a transport accepts it (`sent`) or refuses it for
//! good (`failed`: a permanent refusal such as SMTP 5xx, or [`MAX_ATTEMPTS`]
//! temporary ones). Each claim pushes the next attempt out by an exponential
//! backoff, so a crashed sender's claims come back later by themselves.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{types::Json, FromRow, PgExecutor};
use utoipa::ToSchema;
use uuid::Uuid;

/// Attempts before a message that keeps failing temporarily is given up.
pub const MAX_ATTEMPTS: i32 = 8;

/// An image embedded in the HTML part and referenced as `cid:{content_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlineImage {
    pub content_id: String,
    pub content_type: String,
    /// Stored (in `email_outbox.inline_images`) as base64.
    #[serde(with = "base64_bytes")]
    pub bytes: Vec<u8>,
}

mod base64_bytes {
    use base64::{engine::general_purpose::STANDARD, Engine};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// A message to queue.
pub struct NewEmail<'a> {
    pub org_id: Uuid,
    /// What caused it: "invite", "integration_reauth", "alert", "digest", …
    pub kind: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: Option<&'a str>,
    pub inline_images: &'a [InlineImage],
    /// RFC 8058 one-click URL: the message gets `List-Unsubscribe: <url>` and
    /// `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
    pub unsubscribe_url: Option<&'a str>,
}

impl<'a> NewEmail<'a> {
    /// A plain-text message without HTML, images or unsubscribe link.
    pub fn text(
        org_id: Uuid,
        kind: &'a str,
        to: &'a str,
        subject: &'a str,
        body_text: &'a str,
    ) -> Self {
        Self {
            org_id,
            kind,
            to,
            subject,
            body_text,
            body_html: None,
            inline_images: &[],
            unsubscribe_url: None,
        }
    }
}

pub async fn enqueue(db: impl PgExecutor<'_>, email: NewEmail<'_>) -> sqlx::Result<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO email_outbox (id, org_id, kind, to_addr, subject, body_text, body_html, inline_images, unsubscribe_url)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(email.org_id)
    .bind(email.kind)
    .bind(email.to)
    .bind(email.subject)
    .bind(email.body_text)
    .bind(email.body_html)
    .bind(Json(email.inline_images))
    .bind(email.unsubscribe_url)
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
    #[sqlx(json)]
    pub inline_images: Vec<InlineImage>,
    pub unsubscribe_url: Option<String>,
    /// Including this one.
    pub attempts: i32,
}

/// Claims up to `limit` due messages: each claim pushes the next attempt out by a
/// backoff (1 minute, doubling, at most 6 hours), so a crashed sender's messages
/// come back later and two senders never take the same message at once.
pub async fn claim_due(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<OutgoingEmail>> {
    sqlx::query_as(
        "UPDATE email_outbox SET attempts = attempts + 1,
                next_attempt_at = now() + least(interval '1 minute' * power(2, attempts), interval '6 hours')
         WHERE id IN (
             SELECT id FROM email_outbox
             WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now() AND attempts < $2
             ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED
         )
         RETURNING id, to_addr, subject, body_text, body_html, inline_images, unsubscribe_url, attempts",
    )
    .bind(limit)
    .bind(MAX_ATTEMPTS)
    .fetch_all(db)
    .await
}

/// Fails the messages whose last attempt has come and gone without an outcome
/// (the sender died mid-send on the last attempt).
pub async fn give_up_exhausted(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "UPDATE email_outbox SET failed_at = now(),
                last_error = coalesce(last_error, 'no outcome after the last attempt')
         WHERE sent_at IS NULL AND failed_at IS NULL AND attempts >= $1 AND next_attempt_at <= now()",
    )
    .bind(MAX_ATTEMPTS)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

pub async fn mark_sent(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE email_outbox SET sent_at = now(), last_error = NULL WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// A temporary failure: keeps the message queued for the claim's backoff, or for
/// `retry_after` when the server named a delay; fails it once the attempts are used up.
pub async fn mark_retry(
    db: impl PgExecutor<'_>,
    id: Uuid,
    error: &str,
    retry_after: Option<Duration>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE email_outbox SET last_error = $2,
                next_attempt_at = coalesce(now() + make_interval(secs => $3), next_attempt_at),
                failed_at = CASE WHEN attempts >= $4 THEN now() END
         WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(retry_after.map(|d| d.as_secs_f64()))
    .bind(MAX_ATTEMPTS)
    .execute(db)
    .await?;
    Ok(())
}

/// A permanent refusal: the message will not be tried again.
pub async fn mark_failed(db: impl PgExecutor<'_>, id: Uuid, error: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE email_outbox SET failed_at = now(), last_error = $2 WHERE id = $1")
        .bind(id)
        .bind(error)
        .execute(db)
        .await?;
    Ok(())
}

/// Where a queued message (mail or Slack) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum DeliveryState {
    /// Waiting for its first or next attempt.
    Queued,
    /// Accepted by the transport.
    Sent,
    /// Refused for good, or out of attempts; `last_error` has the server's reply.
    Failed,
}

/// A message as the mailbox page lists it.
#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct OutboxEntry {
    pub id: Uuid,
    pub kind: String,
    pub to_addr: String,
    pub subject: String,
    pub created_at: DateTime<Utc>,
    pub state: DeliveryState,
    pub sent_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    /// When a queued message is tried next.
    pub next_attempt_at: DateTime<Utc>,
    pub attempts: i32,
    /// The server's reply to the latest failed attempt (`550 5.1.1 mailbox unavailable`).
    pub last_error: Option<String>,
}

pub async fn list(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<OutboxEntry>> {
    sqlx::query_as(
        "SELECT id, kind, to_addr, subject, created_at,
                CASE WHEN sent_at IS NOT NULL THEN 'sent' WHEN failed_at IS NOT NULL THEN 'failed' ELSE 'queued' END AS state,
                sent_at, failed_at, next_attempt_at, attempts, last_error
         FROM email_outbox WHERE org_id = $1 ORDER BY created_at DESC LIMIT $2",
    )
    .bind(org_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

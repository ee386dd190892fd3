//! Slack channels (incoming webhooks, the URL encrypted by the vault) and the
//! Slack outbox, delivered like mail by a background loop (`notify::slack`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgExecutor};
use utoipa::ToSchema;
use uuid::Uuid;

use super::outbox::MAX_ATTEMPTS;

/// The vault field a channel's webhook URL is sealed under (with the channel's id).
pub const WEBHOOK_FIELD: &str = "slack_channels.webhook_url";

/// A channel as the API shows it: never the webhook URL, only its hint.
#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct SlackChannel {
    pub id: Uuid,
    pub name: String,
    /// The webhook URL with its secret part masked: `…/T000/B000/****`.
    pub webhook_hint: String,
    pub created_at: DateTime<Utc>,
    /// Set when Slack said the webhook is gone; nothing is posted to it any more.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Slack's answer that disabled it (`410 channel_is_archived`).
    pub disabled_reason: Option<String>,
}

const CHANNEL_COLUMNS: &str = "id, name, webhook_hint, created_at, disabled_at, disabled_reason";

pub struct NewChannel<'a> {
    pub id: Uuid,
    pub name: &'a str,
    /// The vault's ciphertext of the URL, bound to `id`.
    pub webhook_ciphertext: &'a str,
    pub webhook_hint: &'a str,
}

pub async fn create_channel(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    channel: NewChannel<'_>,
) -> sqlx::Result<SlackChannel> {
    sqlx::query_as(&format!(
        "INSERT INTO slack_channels (id, org_id, name, webhook_ciphertext, webhook_hint)
         VALUES ($1, $2, $3, $4, $5) RETURNING {CHANNEL_COLUMNS}"
    ))
    .bind(channel.id)
    .bind(org_id)
    .bind(channel.name)
    .bind(channel.webhook_ciphertext)
    .bind(channel.webhook_hint)
    .fetch_one(db)
    .await
}

pub async fn list_channels(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
) -> sqlx::Result<Vec<SlackChannel>> {
    sqlx::query_as(&format!(
        "SELECT {CHANNEL_COLUMNS} FROM slack_channels WHERE org_id = $1 ORDER BY created_at, id"
    ))
    .bind(org_id)
    .fetch_all(db)
    .await
}

/// Deletes a channel and its queued messages; false when there is no such channel.
/// Whether the organization has this channel (an alert may name it).
pub async fn exists(db: impl PgExecutor<'_>, org_id: Uuid, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM slack_channels WHERE org_id = $1 AND id = $2)")
        .bind(org_id)
        .bind(id)
        .fetch_one(db)
        .await
}

pub async fn delete_channel(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    channel_id: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM slack_channels WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(channel_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Queues a message for a channel. `payload` is a complete incoming-webhook body
/// (Block Kit `blocks` and a `text` fallback).
pub async fn enqueue(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    channel_id: Uuid,
    payload: &serde_json::Value,
) -> sqlx::Result<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO slack_outbox (id, org_id, channel_id, payload) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(org_id)
    .bind(channel_id)
    .bind(payload)
    .execute(db)
    .await?;
    Ok(id)
}

/// A Slack message claimed for delivery, with its channel's sealed URL.
#[derive(Debug, FromRow)]
pub struct OutgoingSlack {
    pub id: Uuid,
    pub org_id: Uuid,
    pub channel_id: Uuid,
    pub webhook_ciphertext: String,
    pub payload: serde_json::Value,
    pub attempts: i32,
}

/// Claims up to `limit` due messages of enabled channels, pushing each one's
/// next attempt out by the backoff (see `outbox::claim_due`). Messages of a
/// disabled channel are failed instead of claimed.
pub async fn claim_due(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<OutgoingSlack>> {
    sqlx::query_as(
        "WITH claimed AS (
             UPDATE slack_outbox SET attempts = attempts + 1,
                    next_attempt_at = now() + least(interval '1 minute' * power(2, attempts), interval '6 hours')
             WHERE id IN (
                 SELECT o.id FROM slack_outbox o JOIN slack_channels c ON c.org_id = o.org_id AND c.id = o.channel_id
                 WHERE o.sent_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= now()
                   AND o.attempts < $2 AND c.disabled_at IS NULL
                 ORDER BY o.created_at LIMIT $1 FOR UPDATE OF o SKIP LOCKED
             )
             RETURNING id, org_id, channel_id, payload, attempts
         )
         SELECT claimed.id, claimed.org_id, claimed.channel_id, c.webhook_ciphertext, claimed.payload, claimed.attempts
         FROM claimed JOIN slack_channels c ON c.org_id = claimed.org_id AND c.id = claimed.channel_id",
    )
    .bind(limit)
    .bind(MAX_ATTEMPTS)
    .fetch_all(db)
    .await
}

/// Fails what can no longer be delivered: messages of disabled channels, and
/// messages whose last attempt came and went without an outcome.
pub async fn give_up_undeliverable(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "UPDATE slack_outbox o SET failed_at = now(),
                last_error = CASE WHEN c.disabled_at IS NOT NULL
                                  THEN 'channel disabled: ' || coalesce(c.disabled_reason, 'unknown')
                                  ELSE coalesce(o.last_error, 'no outcome after the last attempt') END
         FROM slack_channels c
         WHERE c.org_id = o.org_id AND c.id = o.channel_id
           AND o.sent_at IS NULL AND o.failed_at IS NULL
           AND (c.disabled_at IS NOT NULL OR (o.attempts >= $1 AND o.next_attempt_at <= now()))",
    )
    .bind(MAX_ATTEMPTS)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

pub async fn mark_sent(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE slack_outbox SET sent_at = now(), last_error = NULL WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// A temporary failure (see `outbox::mark_retry`).
pub async fn mark_retry(
    db: impl PgExecutor<'_>,
    id: Uuid,
    error: &str,
    retry_after: Option<Duration>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE slack_outbox SET last_error = $2,
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

pub async fn mark_failed(db: impl PgExecutor<'_>, id: Uuid, error: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE slack_outbox SET failed_at = now(), last_error = $2 WHERE id = $1")
        .bind(id)
        .bind(error)
        .execute(db)
        .await?;
    Ok(())
}

/// Slack says the webhook is gone: stop posting to the channel.
pub async fn disable_channel(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    channel_id: Uuid,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE slack_channels SET disabled_at = now(), disabled_reason = $3
         WHERE org_id = $1 AND id = $2 AND disabled_at IS NULL",
    )
    .bind(org_id)
    .bind(channel_id)
    .bind(reason)
    .execute(db)
    .await?;
    Ok(())
}

/// A sealed webhook URL not yet under the active key (for `pulseboard keys rotate`).
#[derive(Debug, FromRow)]
pub struct SealedWebhook {
    pub id: Uuid,
    pub webhook_ciphertext: String,
}

/// Webhook URLs sealed under another key than `active_key` (the key id is the
/// ciphertext's second dot-separated part, see `integrations::vault`).
pub async fn webhooks_not_under(
    db: impl PgExecutor<'_>,
    active_key: &str,
) -> sqlx::Result<Vec<SealedWebhook>> {
    sqlx::query_as(
        "SELECT id, webhook_ciphertext FROM slack_channels WHERE split_part(webhook_ciphertext, '.', 2) <> $1",
    )
    .bind(active_key)
    .fetch_all(db)
    .await
}

pub async fn rekey_webhook(
    db: impl PgExecutor<'_>,
    id: Uuid,
    ciphertext: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE slack_channels SET webhook_ciphertext = $2 WHERE id = $1")
        .bind(id)
        .bind(ciphertext)
        .execute(db)
        .await?;
    Ok(())
}

//! Slack delivery: queued incoming-webhook payloads posted to their channel's
//! URL, with the mail outbox's claim-then-send design and backoff. Slack answers
//! `200 ok`; 429 (with `Retry-After`) and 5xx are retried; 404 `no_service` and
//! 410 `channel_is_archived` mean the webhook is gone, so the channel is
//! disabled with Slack's answer as the reason.

use std::time::Duration;

use anyhow::Context;

use super::delivery::{classify_http, http_failure, SendError};
use crate::{
    db::{
        self,
        slack::{OutgoingSlack, WEBHOOK_FIELD},
        Database,
    },
    integrations::vault::Vault,
};

/// Posts Slack messages.
#[derive(Debug, Clone)]
pub struct SlackPoster {
    http: reqwest::Client,
}

impl SlackPoster {
    /// Each post gives up after `timeout`; redirects are not followed (a webhook
    /// answers directly).
    pub fn new(timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("building the HTTP client")?;
        Ok(Self { http })
    }

    async fn post(&self, url: &str, payload: &serde_json::Value) -> Result<(), Outcome> {
        let response = self
            .http
            .post(url)
            .json(payload)
            .send()
            .await
            .map_err(|error| Outcome::Failed(http_failure(error)))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.unwrap_or_default();
        if status == 404 || status == 410 {
            return Err(Outcome::Gone(format!(
                "{status} {}",
                super::delivery::clip(text.trim(), 200)
            )));
        }
        classify_http(status, retry_after.as_deref(), &text, chrono::Utc::now())
            .map_err(Outcome::Failed)
    }
}

enum Outcome {
    Failed(SendError),
    /// The webhook no longer exists: disable the channel.
    Gone(String),
}

/// Posts every due Slack message once; returns how many were delivered. Claims
/// commit before the posts, so no transaction is held across a request.
pub async fn deliver_due(
    db: &Database,
    vault: &Vault,
    poster: &SlackPoster,
) -> anyhow::Result<usize> {
    let mut sent = 0;
    loop {
        let mut tx = db.worker_tx().await?;
        db::slack::give_up_undeliverable(&mut *tx).await?;
        let batch = db::slack::claim_due(&mut *tx, 20).await?;
        tx.commit().await?;
        if batch.is_empty() {
            return Ok(sent);
        }
        for message in batch {
            if deliver_one(db, vault, poster, &message).await? {
                sent += 1;
            }
        }
    }
}

async fn deliver_one(
    db: &Database,
    vault: &Vault,
    poster: &SlackPoster,
    message: &OutgoingSlack,
) -> anyhow::Result<bool> {
    let url = match vault.decrypt(
        message.channel_id,
        WEBHOOK_FIELD,
        &message.webhook_ciphertext,
    ) {
        Ok(url) => url,
        Err(error) => {
            let reply = format!("the webhook URL cannot be decrypted: {error}");
            db::slack::mark_failed(db.pool(), message.id, &reply).await?;
            return Ok(false);
        }
    };
    match poster.post(&url, &message.payload).await {
        Ok(()) => {
            db::slack::mark_sent(db.pool(), message.id).await?;
            Ok(true)
        }
        Err(Outcome::Gone(reply)) => {
            tracing::warn!(channel_id = %message.channel_id, %reply, "Slack webhook is gone; disabling the channel");
            let mut tx = db.worker_tx().await?;
            db::slack::disable_channel(&mut *tx, message.org_id, message.channel_id, &reply)
                .await?;
            db::slack::mark_failed(&mut *tx, message.id, &reply).await?;
            tx.commit().await?;
            Ok(false)
        }
        Err(Outcome::Failed(SendError::Permanent { reply })) => {
            tracing::warn!(slack_message_id = %message.id, %reply, "Slack refused the message");
            db::slack::mark_failed(db.pool(), message.id, &reply).await?;
            Ok(false)
        }
        Err(Outcome::Failed(SendError::Temporary { reply, retry_after })) => {
            tracing::warn!(slack_message_id = %message.id, attempt = message.attempts, %reply, "Slack delivery failed; will retry");
            db::slack::mark_retry(db.pool(), message.id, &reply, retry_after).await?;
            Ok(false)
        }
    }
}

//! Outgoing mail and Slack messages: the outbox loops and the transports behind
//! [`Mailer`] and [`slack::SlackPoster`].

mod delivery;
pub mod format;
pub mod links;
mod mailer;
pub mod render;
pub mod slack;

pub use delivery::SendError;
pub use mailer::Mailer;

use crate::db::{self, Database};

/// Delivers every due message once; returns how many were sent. The claim commits
/// before delivery so no transaction is held across the transport.
pub async fn deliver_due(db: &Database, mailer: &Mailer) -> anyhow::Result<usize> {
    let mut sent = 0;
    loop {
        let mut tx = db.worker_tx().await?;
        db::outbox::give_up_exhausted(&mut *tx).await?;
        let batch = db::outbox::claim_due(&mut *tx, 20).await?;
        tx.commit().await?;
        if batch.is_empty() {
            return Ok(sent);
        }
        for message in batch {
            match mailer.send(&message).await {
                Ok(()) => {
                    db::outbox::mark_sent(db.pool(), message.id).await?;
                    sent += 1;
                }
                Err(SendError::Permanent { reply }) => {
                    tracing::warn!(message_id = %message.id, transport = mailer.transport_name(), %reply, "mail refused; not retrying");
                    db::outbox::mark_failed(db.pool(), message.id, &reply).await?;
                }
                Err(SendError::Temporary { reply, retry_after }) => {
                    tracing::warn!(message_id = %message.id, transport = mailer.transport_name(), attempt = message.attempts, %reply, "mail delivery failed; will retry");
                    db::outbox::mark_retry(db.pool(), message.id, &reply, retry_after).await?;
                }
            }
        }
    }
}

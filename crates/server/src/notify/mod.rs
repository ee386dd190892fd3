//! Outgoing mail: the outbox loop and the transports behind one [`Mailer`].

mod mailer;
pub mod render;

pub use mailer::Mailer;

use crate::db::{self, Database};

/// Delivers every due message once; returns how many were sent. The claim commits
/// before delivery so no transaction is held across the transport.
pub async fn deliver_due(db: &Database, mailer: &Mailer) -> anyhow::Result<usize> {
    let mut sent = 0;
    loop {
        let mut tx = db.worker_tx().await?;
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
                Err(error) => {
                    tracing::warn!(message_id = %message.id, attempt = message.attempts, error = %error, "mail delivery failed; will retry");
                    db::outbox::mark_failed(db.pool(), message.id, &error.to_string()).await?;
                }
            }
        }
    }
}

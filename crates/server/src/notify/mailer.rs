use std::path::PathBuf;

use anyhow::Context;
use lettre::message::{header::ContentType, Mailbox, Message};

use crate::db::outbox::OutgoingEmail;

/// Where mail goes. With no transport configured, each message becomes an `.eml`
/// file under `{data_dir}/mail`, named by its outbox id (so a retry overwrites
/// rather than duplicates). SMTP and Resend arrive with the alerts work.
#[derive(Debug, Clone)]
pub enum Mailer {
    Files { dir: PathBuf, from: String },
}

impl Mailer {
    pub fn files(dir: PathBuf, from: String) -> Self {
        Self::Files { dir, from }
    }

    pub async fn send(&self, email: &OutgoingEmail) -> anyhow::Result<()> {
        match self {
            Self::Files { dir, from } => {
                let message = build(from, email)?;
                tokio::fs::create_dir_all(dir)
                    .await
                    .with_context(|| format!("creating {}", dir.display()))?;
                let path = dir.join(format!("{}.eml", email.id));
                let tmp = dir.join(format!(".{}.eml.tmp", email.id));
                tokio::fs::write(&tmp, message.formatted()).await?;
                tokio::fs::rename(&tmp, &path).await?;
                Ok(())
            }
        }
    }
}

fn build(from: &str, email: &OutgoingEmail) -> anyhow::Result<Message> {
    let from: Mailbox = from
        .parse()
        .context("PULSEBOARD_EMAIL_FROM is not a valid address")?;
    let to: Mailbox = email
        .to_addr
        .parse()
        .context("the recipient address is not valid")?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(email.subject.clone())
        .message_id(Some(format!("<{}@pulseboard>", email.id)))
        .header(ContentType::TEXT_PLAIN)
        .body(email.body_text.clone())
        .context("building the message")
}

//! The mail transports behind one [`Mailer`]: files in the data directory (the
//! default), SMTP (`PULSEBOARD_SMTP_URL`) or Resend's HTTP API
//! (`PULSEBOARD_RESEND_API_KEY`). Every transport sends the same message,
//! including its `Message-ID`, which is derived from the outbox id so that a
//! retry is recognisably the same message.

use std::{fmt, path::PathBuf, time::Duration};

use anyhow::{anyhow, bail, Context};
use base64::{engine::general_purpose::STANDARD, Engine};
use lettre::{
    message::{
        header::{ContentType, HeaderName, HeaderValue},
        Attachment, Mailbox, Message, MultiPart, SinglePart,
    },
    transport::smtp::extension::ClientId,
    AsyncSmtpTransport, AsyncTransport, Tokio1Executor,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::delivery::{classify_http, clip, http_failure, SendError};
use crate::{config::Config, db::outbox::OutgoingEmail};

/// Where mail goes, and as whom.
#[derive(Clone)]
pub struct Mailer {
    from: String,
    /// The right-hand side of every `Message-ID`: the public URL's host.
    message_id_host: String,
    transport: Transport,
}

#[derive(Clone)]
enum Transport {
    /// Each message becomes `{dir}/{outbox id}.eml` (a retry overwrites rather
    /// than duplicates); the UI's mailbox lists them.
    Files { dir: PathBuf },
    Smtp {
        smtp: AsyncSmtpTransport<Tokio1Executor>,
        /// lettre's own timeout covers connecting but not a server that goes
        /// silent afterwards (no greeting, no reply): each attempt gets this deadline.
        timeout: Duration,
    },
    Resend {
        http: reqwest::Client,
        /// `{base}/emails` is the send endpoint.
        base: String,
        api_key: SecretString,
    },
}

// By hand: the SMTP transport's own Debug would print its credentials.
impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from)
            .field("transport", &self.transport_name())
            .finish()
    }
}

impl Mailer {
    /// The file mailbox under `dir`.
    pub fn files(dir: PathBuf, from: String) -> Self {
        Self {
            from,
            message_id_host: "pulseboard".into(),
            transport: Transport::Files { dir },
        }
    }

    /// The transport the configuration names: SMTP, Resend, or (neither) files
    /// under `{data_dir}/mail`.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let mail = &config.mail;
        let from: Mailbox = config
            .email_from
            .parse()
            .context("PULSEBOARD_EMAIL_FROM is not a valid address")?;
        let transport = match (&mail.smtp_url, &mail.resend_api_key) {
            (Some(_), Some(_)) => bail!(
                "both PULSEBOARD_SMTP_URL and PULSEBOARD_RESEND_API_KEY are set; choose one mail transport"
            ),
            (Some(url), None) => {
                // The URL's error is left out: it could quote the password.
                let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(|_| {
                        anyhow!(
                            "PULSEBOARD_SMTP_URL is not a valid SMTP URL \
                             (smtp://[user:pass@]host[:port][?tls=required|opportunistic] or smtps://…)"
                        )
                    })?;
                let mut builder = builder.timeout(Some(mail.timeout));
                // EHLO names this server by its public host unless the URL's path names
                // it (lettre's rule); lettre's default is `localhost`.
                let names_itself = url::Url::parse(url.expose_secret())
                    .is_ok_and(|u| !u.path().trim_matches('/').is_empty());
                if let (false, Some(url::Host::Domain(host))) =
                    (names_itself, config.public_url.host())
                {
                    if host != "localhost" {
                        builder = builder.hello_name(ClientId::Domain(host.to_owned()));
                    }
                }
                Transport::Smtp {
                    smtp: builder.build(),
                    timeout: mail.timeout,
                }
            }
            (None, Some(key)) => Transport::Resend {
                http: reqwest::Client::builder()
                    .timeout(mail.timeout)
                    .build()
                    .context("building the HTTP client")?,
                base: mail.resend_url.as_str().trim_end_matches('/').to_owned(),
                api_key: key.clone(),
            },
            (None, None) => Transport::Files {
                dir: config.data_dir.join("mail"),
            },
        };
        Ok(Self {
            from: from.to_string(),
            message_id_host: config
                .public_url
                .host_str()
                .unwrap_or("pulseboard")
                .to_owned(),
            transport,
        })
    }

    /// `files`, `smtp` or `resend`.
    pub fn transport_name(&self) -> &'static str {
        match self.transport {
            Transport::Files { .. } => "files",
            Transport::Smtp { .. } => "smtp",
            Transport::Resend { .. } => "resend",
        }
    }

    /// The `Message-ID` of an outbox message, the same for every attempt.
    pub fn message_id(&self, email: &OutgoingEmail) -> String {
        format!("<{}@{}>", email.id, self.message_id_host)
    }

    /// One delivery attempt.
    pub async fn send(&self, email: &OutgoingEmail) -> Result<(), SendError> {
        match &self.transport {
            Transport::Files { dir } => {
                let message = self.build(email)?;
                write_file(dir, email, &message.formatted())
                    .await
                    .map_err(|error| SendError::temporary(format!("{error:#}")))
            }
            Transport::Smtp { smtp, timeout } => {
                let message = self.build(email)?;
                match tokio::time::timeout(*timeout, smtp.send(message)).await {
                    Ok(sent) => sent.map(|_| ()).map_err(|error| smtp_failure(&error)),
                    Err(_) => Err(SendError::temporary(format!(
                        "timed out: no answer from the SMTP server within {} s",
                        timeout.as_secs_f64()
                    ))),
                }
            }
            Transport::Resend {
                http,
                base,
                api_key,
            } => self.send_resend(http, base, api_key, email).await,
        }
    }

    fn build(&self, email: &OutgoingEmail) -> Result<Message, SendError> {
        let from: Mailbox = self
            .from
            .parse()
            .map_err(|_| SendError::permanent("the sender address is not valid"))?;
        let to: Mailbox = email
            .to_addr
            .parse()
            .map_err(|_| SendError::permanent("the recipient address is not valid"))?;
        let mut builder = Message::builder()
            .from(from)
            .to(to)
            .subject(email.subject.clone())
            .message_id(Some(self.message_id(email)));
        if let Some(url) = &email.unsubscribe_url {
            builder = builder
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{url}>"),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".to_owned(),
                ));
        }
        let built = match &email.body_html {
            None => builder
                .header(ContentType::TEXT_PLAIN)
                .body(email.body_text.clone()),
            Some(html) if email.inline_images.is_empty() => builder.multipart(
                MultiPart::alternative_plain_html(email.body_text.clone(), html.clone()),
            ),
            Some(html) => {
                let mut related = MultiPart::related().singlepart(SinglePart::html(html.clone()));
                for image in &email.inline_images {
                    let content_type = ContentType::parse(&image.content_type).map_err(|_| {
                        SendError::permanent(format!(
                            "inline image {} has an invalid content type",
                            image.content_id
                        ))
                    })?;
                    related = related.singlepart(
                        Attachment::new_inline(image.content_id.clone())
                            .body(image.bytes.clone(), content_type),
                    );
                }
                builder.multipart(
                    MultiPart::alternative()
                        .singlepart(SinglePart::plain(email.body_text.clone()))
                        .multipart(related),
                )
            }
        };
        built.map_err(|error| SendError::permanent(format!("building the message: {error}")))
    }

    async fn send_resend(
        &self,
        http: &reqwest::Client,
        base: &str,
        api_key: &SecretString,
        email: &OutgoingEmail,
    ) -> Result<(), SendError> {
        let mut headers = serde_json::Map::new();
        headers.insert("Message-ID".into(), json!(self.message_id(email)));
        if let Some(url) = &email.unsubscribe_url {
            headers.insert("List-Unsubscribe".into(), json!(format!("<{url}>")));
            headers.insert(
                "List-Unsubscribe-Post".into(),
                json!("List-Unsubscribe=One-Click"),
            );
        }
        let attachments: Vec<_> = email
            .inline_images
            .iter()
            .map(|image| {
                json!({
                    "filename": image_filename(&image.content_id, &image.content_type),
                    "content": STANDARD.encode(&image.bytes),
                    "content_type": image.content_type,
                    "content_id": image.content_id,
                })
            })
            .collect();
        let mut body = json!({
            "from": self.from,
            "to": [email.to_addr],
            "subject": email.subject,
            "text": email.body_text,
            "headers": headers,
        });
        if let Some(html) = &email.body_html {
            body["html"] = json!(html);
        }
        if !attachments.is_empty() {
            body["attachments"] = json!(attachments);
        }
        let response = http
            .post(format!("{base}/emails"))
            .bearer_auth(api_key.expose_secret())
            // Resend keeps the key for 24 hours: a retry of this message is not a second email.
            .header("Idempotency-Key", email.id.to_string())
            .json(&body)
            .send()
            .await
            .map_err(http_failure)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.unwrap_or_default();
        let summary = resend_summary(&text);
        if status == 409 && summary.starts_with("concurrent_idempotent_requests") {
            // The first request with this key is still being processed: ask again later.
            return Err(SendError::temporary(format!("409 {summary}")));
        }
        classify_http(status, retry_after.as_deref(), &summary, chrono::Utc::now())
    }
}

/// Resend's errors are `{"statusCode", "name", "message"}`: keep `name: message`.
fn resend_summary(body: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(value) if value["name"].is_string() || value["message"].is_string() => format!(
            "{}: {}",
            value["name"].as_str().unwrap_or("error"),
            value["message"].as_str().unwrap_or("")
        ),
        _ => clip(body, 300).to_owned(),
    }
}

fn image_filename(content_id: &str, content_type: &str) -> String {
    let extension = content_type
        .split('/')
        .nth(1)
        .and_then(|sub| sub.split(['+', ';']).next())
        .unwrap_or("bin");
    format!("{content_id}.{extension}")
}

/// The server's reply (`550 5.1.1 mailbox unavailable`) when there was one;
/// permanent for 5xx replies, temporary for everything else (4xx, no
/// connection, a timeout, TLS trouble).
fn smtp_failure(error: &lettre::transport::smtp::Error) -> SendError {
    let reply = match error.status() {
        Some(code) => match std::error::Error::source(error) {
            Some(text) => format!("{code} {text}"),
            None => code.to_string(),
        },
        None => {
            let mut text = error.to_string();
            if error.is_timeout() && !text.contains("timed out") {
                text.push_str(" (timed out)");
            }
            text
        }
    };
    if error.is_permanent() {
        SendError::permanent(reply)
    } else {
        SendError::temporary(reply)
    }
}

async fn write_file(dir: &PathBuf, email: &OutgoingEmail, bytes: &[u8]) -> anyhow::Result<()> {
    tokio::fs::create_dir_all(dir)
        .await
        .with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{}.eml", email.id));
    let tmp = dir.join(format!(".{}.eml.tmp", email.id));
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, &path).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::db::outbox::InlineImage;

    fn email() -> OutgoingEmail {
        OutgoingEmail {
            id: Uuid::nil(),
            to_addr: "ann@example.com".into(),
            subject: "Weekly".into(),
            body_text: "plain".into(),
            body_html: Some("<p>rich <img src=\"cid:chart\"></p>".into()),
            inline_images: vec![InlineImage {
                content_id: "chart".into(),
                content_type: "image/png".into(),
                bytes: vec![0x89, b'P', b'N', b'G'],
            }],
            unsubscribe_url: Some("https://pb.example/u/abc".into()),
            attempts: 1,
        }
    }

    #[test]
    fn html_with_images_is_alternative_around_related() {
        let mailer = Mailer::files("/nonexistent".into(), "PB <pb@example.com>".into());
        let text = String::from_utf8(mailer.build(&email()).unwrap().formatted()).unwrap();
        assert!(text.contains("multipart/alternative"), "{text}");
        assert!(text.contains("multipart/related"), "{text}");
        assert!(text.contains("Content-ID: <chart>"), "{text}");
        assert!(
            text.contains("List-Unsubscribe: <https://pb.example/u/abc>"),
            "{text}"
        );
        assert!(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(text.contains("Message-ID: <00000000-0000-0000-0000-000000000000@pulseboard>"));
    }

    #[test]
    fn resend_errors_keep_name_and_message() {
        assert_eq!(
            resend_summary(
                r#"{"statusCode":422,"name":"validation_error","message":"Invalid `to`"}"#
            ),
            "validation_error: Invalid `to`"
        );
        assert_eq!(resend_summary("upstream down"), "upstream down");
        assert_eq!(image_filename("chart", "image/svg+xml"), "chart.svg");
    }
}

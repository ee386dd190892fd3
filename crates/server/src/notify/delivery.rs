//! What a transport's answer means for a queued message: delivered, try again
//! later (and when), or never.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Longest wait a `Retry-After` may ask for; beyond it, the usual backoff applies.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(6 * 3600);

/// A refused or failed delivery attempt. The text is the server's reply (or what
/// went wrong on the way to it) and never contains a credential or webhook URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth another attempt: SMTP 4xx, HTTP 408/429/5xx, no connection, a timeout.
    #[error("{reply}")]
    Temporary {
        reply: String,
        /// When the server said to come back (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// Never worth another attempt: SMTP 5xx, HTTP 4xx.
    #[error("{reply}")]
    Permanent { reply: String },
}

impl SendError {
    pub fn temporary(reply: impl Into<String>) -> Self {
        Self::Temporary {
            reply: reply.into(),
            retry_after: None,
        }
    }

    pub fn permanent(reply: impl Into<String>) -> Self {
        Self::Permanent {
            reply: reply.into(),
        }
    }

    pub fn reply(&self) -> &str {
        match self {
            Self::Temporary { reply, .. } | Self::Permanent { reply } => reply,
        }
    }
}

/// Classifies an HTTP answer: 2xx is delivered; 408, 429 and 5xx are temporary
/// (with `Retry-After` when given); any other status is permanent. `summary` is
/// the reply text to keep, e.g. `validation_error: Invalid "to" field`.
pub fn classify_http(
    status: u16,
    retry_after: Option<&str>,
    summary: &str,
    now: DateTime<Utc>,
) -> Result<(), SendError> {
    if (200..300).contains(&status) {
        return Ok(());
    }
    let reply = format!("{status} {}", clip(summary.trim(), 500));
    if status == 408 || status == 429 || status >= 500 {
        Err(SendError::Temporary {
            reply,
            retry_after: retry_after.and_then(|value| parse_retry_after(value, now)),
        })
    } else {
        Err(SendError::Permanent { reply })
    }
}

/// A transport-level failure (no connection, a timeout, a broken response):
/// always temporary. reqwest's URL is left out: a Slack webhook URL is a secret.
pub fn http_failure(error: reqwest::Error) -> SendError {
    let error = error.without_url();
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut reply = what.to_owned();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        reply.push_str(": ");
        reply.push_str(&cause.to_string());
        source = cause.source();
    }
    SendError::temporary(reply)
}

/// `Retry-After` as delta-seconds or an HTTP date (RFC 9110 §10.2.3), capped.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let at = DateTime::parse_from_rfc2822(value).ok()?;
        (at.with_timezone(&Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// At most `max` characters of `text`.
pub fn clip(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap()
    }

    #[test]
    fn success_temporary_and_permanent_statuses() {
        assert_eq!(classify_http(200, None, "ok", now()), Ok(()));
        for status in [408, 429, 500, 502, 503] {
            assert!(
                matches!(
                    classify_http(status, None, "x", now()),
                    Err(SendError::Temporary { .. })
                ),
                "{status}"
            );
        }
        for status in [400, 401, 403, 404, 409, 410, 422] {
            assert!(
                matches!(
                    classify_http(status, None, "x", now()),
                    Err(SendError::Permanent { .. })
                ),
                "{status}"
            );
        }
        assert_eq!(
            classify_http(422, None, " validation_error: bad to \n", now())
                .unwrap_err()
                .reply(),
            "422 validation_error: bad to"
        );
    }

    #[test]
    fn retry_after_is_seconds_or_a_date_and_capped() {
        assert_eq!(
            classify_http(429, Some("7"), "slow down", now()),
            Err(SendError::Temporary {
                reply: "429 slow down".into(),
                retry_after: Some(Duration::from_secs(7))
            })
        );
        assert_eq!(
            parse_retry_after("Mon, 05 Jan 2026 09:02:00 GMT", now()),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Mon, 05 Jan 2026 08:00:00 GMT", now()),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("999999", now()), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("soon", now()), None);
    }

    #[test]
    fn clip_counts_characters() {
        assert_eq!(clip("héllo", 2), "hé");
        assert_eq!(clip("hi", 10), "hi");
    }
}

//! Error types shared by every provider.
//!
//! Two rules shape them: the caller must be able to *act* on an error (retry it,
//! ask for re-authorization, show the provider's message), and no variant may ever
//! carry a token, code or secret. Provider messages pass through [`redact`] before
//! they are stored, because providers like to echo what they were sent.

use std::time::Duration;

/// The outcome of a failed call to a provider's OAuth or API endpoint, classified
/// by what the caller should do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// The provider answered `invalid_grant`: the code or refresh token is no longer
    /// valid, so the user has to authorize again. Never retried.
    #[error("the provider no longer accepts this grant; reauthorization is required: {0}")]
    InvalidGrant(String),
    /// The user (or the provider on their behalf) refused access.
    #[error("access was denied: {0}")]
    AccessDenied(String),
    /// The provider asked us to slow down (HTTP 429), or a limit we keep for it
    /// (Clarity's daily calls) is reached.
    #[error("{}", fmt_rate_limited(.reason.as_deref(), *.retry_after))]
    RateLimited {
        /// How long the provider asked us to wait (`Retry-After`), when it said.
        retry_after: Option<Duration>,
        /// Which of the provider's limits was hit and when it resets, in words for
        /// the sync monitor ("Clarity: 10 of 10 export calls used today; next call
        /// after 00:05 UTC"), when the provider knows.
        reason: Option<String>,
    },
    /// A server error (5xx), a timeout or a connection failure: worth retrying.
    #[error("temporary provider failure: {0}")]
    Transient(String),
    /// Any other refusal (4xx) with the provider's own message: not worth retrying.
    #[error("the provider rejected the request: {0}")]
    Rejected(String),
}

/// When a wait of `wait` from `now` ends, for a rate limit's reason: "in 40 s"
/// when it is short, else "after 14:05 UTC".
pub fn next_try(now: chrono::DateTime<chrono::Utc>, wait: Duration) -> String {
    if wait < Duration::from_secs(120) {
        return format!("in {} s", wait.as_secs().max(1));
    }
    let at = now + chrono::Duration::from_std(wait).unwrap_or_default();
    format!("after {} UTC", at.format("%H:%M"))
}

fn fmt_rate_limited(reason: Option<&str>, retry_after: Option<Duration>) -> String {
    match (reason, retry_after) {
        (Some(reason), _) => reason.to_owned(),
        (None, Some(d)) => format!(
            "rate limited by the provider (retry after {} s)",
            d.as_secs()
        ),
        (None, None) => "rate limited by the provider".to_owned(),
    }
}

impl OAuthError {
    /// A rate limit without a reason in words (a bare 429).
    pub fn rate_limited(retry_after: Option<Duration>) -> Self {
        Self::RateLimited {
            retry_after,
            reason: None,
        }
    }

    /// A named limit of the provider and when it resets, waiting `retry_after`.
    pub fn limit_reached(reason: impl Into<String>, retry_after: Duration) -> Self {
        Self::RateLimited {
            retry_after: Some(retry_after),
            reason: Some(reason.into()),
        }
    }

    /// Whether the integration must be re-authorized by a person
    /// (`sync_status = 'reauth_required'`).
    pub fn needs_reauthorization(&self) -> bool {
        matches!(self, Self::InvalidGrant(_) | Self::AccessDenied(_))
    }
}

/// Errors of provider operations other than the OAuth token calls: building URLs,
/// testing API keys, revoking access.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// The provider does not offer this operation (e.g. API keys for Shopify).
    #[error("{provider} does not support {what}")]
    Unsupported {
        provider: &'static str,
        what: &'static str,
    },
    /// The operation needs app credentials that are not configured.
    #[error("{0} is not configured on this server")]
    NotConfigured(String),
    /// The input is malformed (missing field, key of the wrong kind, bad shop domain).
    /// The message is meant for the user and never echoes a secret.
    #[error("{0}")]
    InvalidInput(String),
    /// The provider refused the credentials (401/403), with its message.
    #[error("the provider refused the credentials: {0}")]
    Unauthorized(String),
    /// Any other provider failure, classified.
    #[error(transparent)]
    Provider(#[from] OAuthError),
}

/// Errors of the Shopify OAuth callback verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("the callback is missing the `{0}` parameter")]
    MissingParam(&'static str),
    #[error("the callback repeats the `{0}` parameter")]
    DuplicateParam(String),
    #[error("the callback signature is invalid")]
    BadSignature,
    #[error("the callback names an invalid shop domain")]
    InvalidShop,
    #[error("the callback timestamp is malformed")]
    InvalidTimestamp,
    #[error("the callback is too old")]
    Stale,
    #[error("the callback timestamp is in the future")]
    FromTheFuture,
    #[error("this provider's app is not configured on this server")]
    NotConfigured,
}

/// Errors of inbound webhook verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the signature header is missing")]
    MissingSignature,
    #[error("the signature header is malformed")]
    MalformedSignature,
    #[error("the signature does not match")]
    BadSignature,
    #[error("the webhook timestamp is outside the tolerance")]
    OutsideTolerance,
    #[error("{0} does not support webhook verification")]
    Unsupported(&'static str),
    #[error("the body is not an event this provider sends")]
    MalformedBody,
}

/// Prefixes of credentials that providers may echo in error messages.
const SECRET_PREFIXES: &[&str] = &[
    "sk_", "rk_", "rt_", "ac_", "whsec_", "shpat_", "shpua_", "shpca_", "shpss_", "shprt_",
];

/// Removes secrets from a provider message before it is stored in an error:
/// every occurrence of one of `known` (what we sent) and every word that starts
/// with a known credential prefix is replaced by `***`. Also caps the length, so
/// a provider's HTML error page does not end up in a user-facing message.
pub(crate) fn redact(message: &str, known: &[&str]) -> String {
    let mut out = message.to_owned();
    for secret in known.iter().filter(|s| s.len() >= 4) {
        out = out.replace(secret, "***");
    }
    let words: Vec<String> = out
        .split(' ')
        .map(|word| {
            let bare = word.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
            match SECRET_PREFIXES.iter().find(|p| bare.starts_with(*p)) {
                Some(prefix) => format!("{}{prefix}***", &word[..word.len() - bare.len()]),
                None => word.to_owned(),
            }
        })
        .collect();
    let mut out = words.join(" ");
    if out.len() > 300 {
        let cut = (0..=300)
            .rev()
            .find(|i| out.is_char_boundary(*i))
            .unwrap_or(0);
        out.truncate(cut);
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_removes_known_secrets_and_prefixed_words() {
        let msg = "Invalid API Key provided: rk_test_****abcd (code ac_123 for secret hunter22)";
        let out = redact(msg, &["hunter22"]);
        assert_eq!(
            out,
            "Invalid API Key provided: rk_*** (code ac_*** for secret ***)"
        );
    }

    #[test]
    fn redact_keeps_plain_messages_and_caps_length() {
        assert_eq!(redact("No such code", &[]), "No such code");
        let long = "x".repeat(1000);
        assert!(redact(&long, &[]).chars().count() <= 301);
    }

    #[test]
    fn errors_say_what_to_do() {
        assert!(OAuthError::InvalidGrant("gone".into()).needs_reauthorization());
        assert!(!OAuthError::Transient("503".into()).needs_reauthorization());
        let e = OAuthError::rate_limited(Some(Duration::from_secs(3)));
        assert_eq!(
            e.to_string(),
            "rate limited by the provider (retry after 3 s)"
        );
        let e = OAuthError::limit_reached(
            "Clarity: 10 of 10 export calls used today",
            Duration::from_secs(3),
        );
        assert_eq!(e.to_string(), "Clarity: 10 of 10 export calls used today");
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-02T22:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(next_try(now, Duration::from_secs(30)), "in 30 s");
        assert_eq!(
            next_try(now, Duration::from_secs(2 * 3600 + 300)),
            "after 00:05 UTC"
        );
    }
}

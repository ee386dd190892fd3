//! The shared HTTP client and the classification of provider responses into
//! [`OAuthError`]s.

use std::time::Duration;

use reqwest::{header::HeaderMap, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::{
    config::HttpConfig,
    support::error::{redact, ConnectorError, OAuthError},
};

/// A `reqwest::Client` with a timeout and no redirect following: a redirect from
/// an API endpoint is never expected, and following one could carry credentials
/// to another host.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    timeout: Duration,
}

/// A received response, body read.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Http {
    pub fn new(config: &HttpConfig) -> Result<Self, ConnectorError> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConnectorError::NotConfigured(format!("HTTP client: {e}")))?;
        Ok(Self {
            client,
            timeout: config.timeout,
        })
    }

    pub fn get(&self, url: Url) -> RequestBuilder {
        self.client.get(url)
    }

    pub fn post(&self, url: Url) -> RequestBuilder {
        self.client.post(url)
    }

    /// Sends a request and reads the whole body. Only transport failures are
    /// errors here (all `Transient`); any HTTP status is returned for the caller
    /// to interpret.
    pub async fn send(&self, request: RequestBuilder) -> Result<Response, OAuthError> {
        let response = request.send().await.map_err(|e| self.transport(e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| self.transport(e))?;
        Ok(Response {
            status,
            headers,
            body: body.to_vec(),
        })
    }

    /// Describes a transport failure without the URL (which could one day carry a
    /// secret in its query) and without the source chain.
    fn transport(&self, err: reqwest::Error) -> OAuthError {
        let what = if err.is_timeout() {
            format!("no answer within {} ms", self.timeout.as_millis())
        } else if err.is_connect() {
            "could not connect".to_owned()
        } else if err.is_body() || err.is_decode() {
            "the response body could not be read".to_owned()
        } else {
            "the request failed".to_owned()
        };
        OAuthError::Transient(what)
    }
}

impl Response {
    /// `Ok(self)` for a 2xx status, else the classified error. `secrets` are the
    /// credentials sent with the request, scrubbed from any message kept.
    pub fn success(self, secrets: &[&str]) -> Result<Self, OAuthError> {
        if self.status.is_success() {
            Ok(self)
        } else {
            Err(classify(self.status, &self.headers, &self.body, secrets))
        }
    }

    /// Decodes a JSON body. The decoder's own message is not kept: it quotes the
    /// offending input, which may be a token.
    pub fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, OAuthError> {
        serde_json::from_slice(&self.body)
            .map_err(|_| OAuthError::Rejected(format!("unexpected response shape from {what}")))
    }

    /// The provider's own error message, scrubbed, or the status line.
    pub fn message(&self, secrets: &[&str]) -> String {
        provider_error(&self.body)
            .map(|(_, message)| redact(&message, secrets))
            .unwrap_or_else(|| format!("HTTP {}", self.status))
    }
}

/// Turns a non-2xx response into an [`OAuthError`].
pub(crate) fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    secrets: &[&str],
) -> OAuthError {
    if status == StatusCode::TOO_MANY_REQUESTS {
        return OAuthError::rate_limited(retry_after(headers));
    }
    let parsed = provider_error(body);
    let message = parsed
        .as_ref()
        .map(|(_, message)| redact(message, secrets))
        .unwrap_or_else(|| format!("HTTP {status}"));
    if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
        return OAuthError::Transient(message);
    }
    match parsed.as_ref().and_then(|(code, _)| code.as_deref()) {
        Some("invalid_grant") => OAuthError::InvalidGrant(message),
        Some("access_denied") => OAuthError::AccessDenied(message),
        _ => OAuthError::Rejected(message),
    }
}

/// Parses a `Retry-After` header: delta-seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// Extracts `(error code, message)` from the error bodies providers send:
/// OAuth's `{"error": "invalid_grant", "error_description": "…"}`, Stripe's
/// `{"error": {"type", "code", "message"}}` and Shopify's `{"errors": "…" | [{"message"}] | {…}}`.
fn provider_error(body: &[u8]) -> Option<(Option<String>, String)> {
    let json: Value = serde_json::from_slice(body).ok()?;
    let text = |v: &Value| v.as_str().map(str::to_owned);
    if let Some(code) = json.get("error").and_then(text) {
        let message = json
            .get("error_description")
            .and_then(text)
            .unwrap_or_else(|| code.clone());
        return Some((Some(code), message));
    }
    if let Some(error) = json.get("error").filter(|e| e.is_object()) {
        let code = error.get("code").and_then(text);
        let message = error
            .get("message")
            .and_then(text)
            .or_else(|| error.get("type").and_then(text))?;
        return Some((code, message));
    }
    match json.get("errors")? {
        Value::String(message) => Some((None, message.clone())),
        Value::Array(items) => {
            let message = items
                .iter()
                .filter_map(|item| item.get("message").and_then(text))
                .collect::<Vec<_>>()
                .join("; ");
            Some((None, message))
        }
        other => Some((None, other.to_string())),
    }
}

/// `base` with `path` appended, keeping any path prefix the base already has (the
/// simulator's bases are `http://127.0.0.1:PORT/stripe` and the like).
pub(crate) fn endpoint(base: &Url, path: &str) -> Url {
    let joined = format!(
        "{}/{}",
        base.as_str().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    // Appending a plain path to a valid base URL cannot make it invalid.
    Url::parse(&joined).expect("base URL plus path")
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderValue, RETRY_AFTER};

    use super::*;

    fn classify_json(status: u16, body: &str) -> OAuthError {
        classify(
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body.as_bytes(),
            &["rt_sent_token_123"],
        )
    }

    #[test]
    fn oauth_error_codes_are_classified() {
        let e = classify_json(
            400,
            r#"{"error":"invalid_grant","error_description":"Refresh token rt_sent_token_123 does not exist"}"#,
        );
        assert_eq!(
            e,
            OAuthError::InvalidGrant("Refresh token *** does not exist".into())
        );
        let e = classify_json(400, r#"{"error":"access_denied"}"#);
        assert_eq!(e, OAuthError::AccessDenied("access_denied".into()));
        let e = classify_json(
            401,
            r#"{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: rk_test_****abcd"}}"#,
        );
        assert_eq!(
            e,
            OAuthError::Rejected("Invalid API Key provided: rk_***".into())
        );
        let e = classify_json(401, r#"{"errors":"[API] Invalid API key or access token"}"#);
        assert_eq!(
            e,
            OAuthError::Rejected("[API] Invalid API key or access token".into())
        );
        let e = classify_json(404, "<html>not found</html>");
        assert_eq!(e, OAuthError::Rejected("HTTP 404 Not Found".into()));
    }

    #[test]
    fn server_errors_and_rate_limits() {
        assert!(matches!(classify_json(503, ""), OAuthError::Transient(_)));
        assert!(matches!(
            classify_json(500, r#"{"error":"invalid_grant"}"#),
            OAuthError::Transient(_)
        ));
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, &headers, b"", &[]),
            OAuthError::rate_limited(Some(Duration::from_secs(7)))
        );
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new(), b"", &[]),
            OAuthError::rate_limited(None)
        );
    }

    #[test]
    fn retry_after_accepts_http_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn endpoint_keeps_base_paths() {
        let base = Url::parse("http://127.0.0.1:9/stripe").unwrap();
        assert_eq!(
            endpoint(&base, "/oauth/token").as_str(),
            "http://127.0.0.1:9/stripe/oauth/token"
        );
        let base = Url::parse("https://api.stripe.com/").unwrap();
        assert_eq!(
            endpoint(&base, "v1/account").as_str(),
            "https://api.stripe.com/v1/account"
        );
    }
}

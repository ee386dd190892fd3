//! Scriptable faults and per-endpoint call counters.
//!
//! Every simulated endpoint has a name (`stripe.token`, `shopify.graphql`, …;
//! each provider lists its own, all of them are in [`crate::endpoints`]).
//! A test scripts faults for a name; each call to that endpoint takes the first
//! scripted fault (decrementing its count) before doing its normal work. Faults
//! queue in the order they were scripted, so "two 500s, then a 429" is two calls
//! to the handle.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    sync::Mutex,
    time::Duration,
};

use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::lock;
use crate::provider::{failure_response, Failure};

/// Something an endpoint can be told to do instead of (or before) its normal work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Authorize endpoints: the user refuses on the consent screen
    /// (redirect with `error=access_denied`).
    DenyConsent,
    /// Token endpoints: answer `400 {"error": "invalid_grant", …}`.
    InvalidGrant,
    /// Answer `500` with a provider-shaped error body.
    ServerError,
    /// Answer `429` with `Retry-After: retry_after_secs`.
    RateLimited { retry_after_secs: u64 },
    /// Sleep this long before answering normally (clients time out first).
    Hang { millis: u64 },
    /// Refuse with `status` and the provider's error named `code`, in the
    /// provider's shape: Slack's `410 channel_is_archived`, Resend's
    /// `422 validation_error`. Only endpoints that document such refusals
    /// interpret it (the others answer normally).
    Reject { status: u16, code: String },
    /// Answer `200` with a body that claims to be JSON but is cut off mid-object,
    /// as a provider behind a broken proxy would.
    Malformed,
}

impl Fault {
    /// A hang of the given duration.
    pub fn hang(duration: Duration) -> Self {
        Self::Hang {
            millis: duration.as_millis() as u64,
        }
    }
}

/// The JSON body of `POST /_sim/faults`:
/// `{"endpoint": "stripe.token", "fault": {"kind": "server_error"}, "times": 2}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultScript {
    pub endpoint: String,
    pub fault: Fault,
    /// How many consecutive calls the fault applies to (default 1).
    #[serde(default = "one")]
    pub times: usize,
}

fn one() -> usize {
    1
}

/// Faults that a handler must interpret itself, because their answer depends on
/// the endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scripted {
    DenyConsent,
    InvalidGrant,
    Reject { status: u16, code: String },
}

/// Scripted faults and call counters, shared by all handlers.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    queues: Mutex<HashMap<String, VecDeque<(Fault, usize)>>>,
    calls: Mutex<BTreeMap<String, usize>>,
}

impl Faults {
    pub fn script(&self, endpoint: &str, fault: Fault, times: usize) {
        if times == 0 {
            return;
        }
        lock(&self.queues)
            .entry(endpoint.to_owned())
            .or_default()
            .push_back((fault, times));
    }

    pub fn clear(&self) {
        lock(&self.queues).clear();
    }

    pub fn calls(&self, endpoint: &str) -> usize {
        lock(&self.calls).get(endpoint).copied().unwrap_or(0)
    }

    pub fn all_calls(&self) -> BTreeMap<String, usize> {
        lock(&self.calls).clone()
    }

    pub fn reset_calls(&self) {
        lock(&self.calls).clear();
    }

    /// Counts a call and takes the next scripted fault for the endpoint, if any.
    fn take(&self, endpoint: &str) -> Option<Fault> {
        *lock(&self.calls).entry(endpoint.to_owned()).or_default() += 1;
        let mut queues = lock(&self.queues);
        let queue = queues.get_mut(endpoint)?;
        let (fault, remaining) = queue.front_mut()?;
        let fault = fault.clone();
        *remaining -= 1;
        if *remaining == 0 {
            queue.pop_front();
        }
        Some(fault)
    }

    /// The first thing every handler does: count the call and apply generic
    /// faults. `Err` is a finished response (500, 429, in the shape of the
    /// provider the endpoint belongs to); `Ok` says whether an
    /// endpoint-specific fault applies.
    pub async fn enter(&self, endpoint: &str) -> Result<Option<Scripted>, Response> {
        match self.take(endpoint) {
            None => Ok(None),
            Some(Fault::DenyConsent) => Ok(Some(Scripted::DenyConsent)),
            Some(Fault::InvalidGrant) => Ok(Some(Scripted::InvalidGrant)),
            Some(Fault::Reject { status, code }) => Ok(Some(Scripted::Reject { status, code })),
            Some(Fault::Hang { millis }) => {
                tokio::time::sleep(Duration::from_millis(millis)).await;
                Ok(None)
            }
            Some(Fault::ServerError) => Err(failure_response(endpoint, Failure::ServerError)),
            Some(Fault::RateLimited { retry_after_secs }) => Err(failure_response(
                endpoint,
                Failure::RateLimited { retry_after_secs },
            )),
            Some(Fault::Malformed) => Err((
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                r#"{"object": "list", "data": [{"id": "#,
            )
                .into_response()),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{header::RETRY_AFTER, StatusCode};

    use super::*;

    const STRIPE_SHOULD_RETRY: &str = "stripe-should-retry";

    #[tokio::test]
    async fn faults_apply_in_order_and_run_out() {
        let faults = Faults::default();
        faults.script("stripe.token", Fault::ServerError, 2);
        faults.script("stripe.token", Fault::InvalidGrant, 1);
        assert_eq!(
            faults.enter("stripe.token").await.unwrap_err().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert!(faults.enter("stripe.token").await.is_err());
        assert_eq!(
            faults.enter("stripe.token").await.unwrap(),
            Some(Scripted::InvalidGrant)
        );
        assert_eq!(faults.enter("stripe.token").await.unwrap(), None);
        assert_eq!(faults.enter("stripe.account").await.unwrap(), None);
        assert_eq!(faults.calls("stripe.token"), 4);
        assert_eq!(faults.calls("stripe.account"), 1);
        assert_eq!(faults.calls("shopify.token"), 0);
    }

    #[tokio::test]
    async fn rate_limits_carry_retry_after() {
        let faults = Faults::default();
        faults.script(
            "shopify.graphql",
            Fault::RateLimited {
                retry_after_secs: 3,
            },
            1,
        );
        let response = faults.enter("shopify.graphql").await.unwrap_err();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[RETRY_AFTER], "3");
        assert!(response.headers().get(STRIPE_SHOULD_RETRY).is_none());
    }

    #[tokio::test]
    async fn stripe_faults_say_they_may_be_retried() {
        let faults = Faults::default();
        faults.script(
            "stripe.charges",
            Fault::RateLimited {
                retry_after_secs: 2,
            },
            1,
        );
        faults.script("stripe.charges", Fault::ServerError, 1);
        let limited = faults.enter("stripe.charges").await.unwrap_err();
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(limited.headers()[RETRY_AFTER], "2");
        assert_eq!(limited.headers()[STRIPE_SHOULD_RETRY], "true");
        let failed = faults.enter("stripe.charges").await.unwrap_err();
        assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(failed.headers()[STRIPE_SHOULD_RETRY], "true");
    }

    #[tokio::test]
    async fn names_no_provider_owns_get_a_plain_error() {
        let faults = Faults::default();
        faults.script("stripex.charges", Fault::ServerError, 1);
        let failed = faults.enter("stripex.charges").await.unwrap_err();
        assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(failed.headers().get(STRIPE_SHOULD_RETRY).is_none());
    }

    #[test]
    fn scripts_parse_from_json() {
        let script: FaultScript = serde_json::from_str(
            r#"{"endpoint":"stripe.token","fault":{"kind":"rate_limited","retry_after_secs":2}}"#,
        )
        .unwrap();
        assert_eq!(script.times, 1);
        assert_eq!(
            script.fault,
            Fault::RateLimited {
                retry_after_secs: 2
            }
        );
        let hang: Fault = serde_json::from_str(r#"{"kind":"hang","millis":50}"#).unwrap();
        assert_eq!(hang, Fault::hang(Duration::from_millis(50)));
    }
}

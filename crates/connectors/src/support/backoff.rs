//! Retrying provider calls: exponential backoff with full jitter.
//!
//! Only failures that may go away by themselves are retried (5xx, timeouts,
//! connection errors, 429). A `Retry-After` is honoured as long as it fits the
//! policy's patience; a longer one is handed back to the caller, who is better
//! placed to reschedule (a sync job) than to hold a worker asleep.

use std::{future::Future, time::Duration};

use rand::Rng;

use crate::support::error::{ConnectorError, OAuthError};

/// How an error should be treated by [`with_backoff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryHint {
    /// Do not retry (invalid grant, rejected request, bad input).
    Fatal,
    /// Retry after a jittered exponential delay.
    Backoff,
    /// Retry after the given delay, if the provider named one; else back off.
    After(Option<Duration>),
}

/// Errors that know whether retrying them can help.
pub trait Retryable {
    fn retry_hint(&self) -> RetryHint;
}

impl Retryable for OAuthError {
    fn retry_hint(&self) -> RetryHint {
        match self {
            Self::Transient(_) => RetryHint::Backoff,
            Self::RateLimited { retry_after, .. } => RetryHint::After(*retry_after),
            Self::InvalidGrant(_) | Self::AccessDenied(_) | Self::Rejected(_) => RetryHint::Fatal,
        }
    }
}

impl Retryable for ConnectorError {
    fn retry_hint(&self) -> RetryHint {
        match self {
            Self::Provider(e) => e.retry_hint(),
            _ => RetryHint::Fatal,
        }
    }
}

/// Parameters of [`with_backoff`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total number of attempts, the first included (1 = no retries).
    pub max_attempts: u32,
    /// The cap of the first retry's delay; doubles with every retry.
    pub base_delay: Duration,
    /// No computed delay exceeds this.
    pub max_delay: Duration,
    /// The longest `Retry-After` we are willing to sleep through; a longer one ends
    /// the retries and returns the rate-limit error.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// Four attempts, 500 ms doubling up to 8 s, `Retry-After` up to 30 s: a call
    /// gives up within about a minute at worst.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The exponential cap for the retry following failed attempt number `attempt`
    /// (1-based): `min(max_delay, base_delay * 2^(attempt-1))`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// How long to wait after failed attempt number `attempt` (1-based) that failed
    /// with `hint`, or `None` when the call should not be retried.
    pub fn delay_after(
        &self,
        attempt: u32,
        hint: RetryHint,
        rng: &mut impl Rng,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        match hint {
            RetryHint::Fatal => None,
            RetryHint::After(Some(wait)) if wait > self.max_retry_after => None,
            RetryHint::After(Some(wait)) => Some(wait),
            RetryHint::Backoff | RetryHint::After(None) => {
                // Full jitter: uniform in [0, ceiling], which spreads the retries of
                // many workers hitting the same provider outage.
                let ceiling = self.ceiling(attempt).as_micros() as u64;
                Some(Duration::from_micros(rng.gen_range(0..=ceiling)))
            }
        }
    }
}

/// Runs `op` until it succeeds, fails fatally or the attempts run out, sleeping
/// between attempts as [`RetryPolicy::delay_after`] says. Returns the last error.
///
/// ```no_run
/// # async fn demo(p: &dyn pulseboard_connectors::Provider) -> Result<(), pulseboard_connectors::OAuthError> {
/// use pulseboard_connectors::{with_backoff, RetryPolicy};
/// let tokens = with_backoff(&RetryPolicy::default(), || p.refresh("rt_…", None)).await?;
/// # Ok(()) }
/// ```
pub async fn with_backoff<T, E, F, Fut>(policy: &RetryPolicy, mut op: F) -> Result<T, E>
where
    E: Retryable + std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut attempt = 1;
    loop {
        match op().await {
            Ok(value) => return Ok(value),
            Err(err) => {
                // The thread-local RNG is not Send, so it must not live across the
                // await below: draw the delay in its own statement.
                let delay = policy.delay_after(attempt, err.retry_hint(), &mut rand::thread_rng());
                let Some(delay) = delay else { return Err(err) };
                tracing::debug!(attempt, ?delay, error = %err, "retrying provider call");
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use rand::{rngs::StdRng, SeedableRng};

    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            max_retry_after: Duration::from_secs(2),
        }
    }

    #[test]
    fn ceiling_doubles_and_is_capped() {
        let p = policy();
        assert_eq!(p.ceiling(1), Duration::from_millis(100));
        assert_eq!(p.ceiling(2), Duration::from_millis(200));
        assert_eq!(p.ceiling(3), Duration::from_millis(350));
        assert_eq!(p.ceiling(40), Duration::from_millis(350));
    }

    #[test]
    fn jittered_delays_stay_within_the_ceiling() {
        let p = policy();
        let mut rng = StdRng::seed_from_u64(7);
        let mut seen_small = false;
        for attempt in 1..p.max_attempts {
            for _ in 0..200 {
                let d = p
                    .delay_after(attempt, RetryHint::Backoff, &mut rng)
                    .unwrap();
                assert!(d <= p.ceiling(attempt), "{d:?} above ceiling at {attempt}");
                seen_small |= d < p.ceiling(attempt) / 4;
            }
        }
        assert!(seen_small, "full jitter should sometimes pick short delays");
    }

    #[test]
    fn stops_after_max_attempts_and_on_fatal_errors() {
        let p = policy();
        let mut rng = StdRng::seed_from_u64(1);
        assert!(p.delay_after(5, RetryHint::Backoff, &mut rng).is_none());
        assert!(p.delay_after(1, RetryHint::Fatal, &mut rng).is_none());
    }

    #[test]
    fn retry_after_is_honoured_unless_too_long() {
        let p = policy();
        let mut rng = StdRng::seed_from_u64(1);
        let wait = Duration::from_secs(1);
        assert_eq!(
            p.delay_after(1, RetryHint::After(Some(wait)), &mut rng),
            Some(wait)
        );
        let long = Duration::from_secs(60);
        assert_eq!(
            p.delay_after(1, RetryHint::After(Some(long)), &mut rng),
            None
        );
        let d = p.delay_after(2, RetryHint::After(None), &mut rng).unwrap();
        assert!(d <= p.ceiling(2));
    }

    #[test]
    fn error_classification() {
        assert_eq!(
            OAuthError::Transient("x".into()).retry_hint(),
            RetryHint::Backoff
        );
        assert_eq!(
            OAuthError::InvalidGrant("x".into()).retry_hint(),
            RetryHint::Fatal
        );
        assert_eq!(
            OAuthError::Rejected("x".into()).retry_hint(),
            RetryHint::Fatal
        );
        assert_eq!(
            ConnectorError::InvalidInput("x".into()).retry_hint(),
            RetryHint::Fatal
        );
        assert_eq!(
            ConnectorError::Provider(OAuthError::Transient("x".into())).retry_hint(),
            RetryHint::Backoff
        );
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            max_retry_after: Duration::from_millis(10),
        }
    }

    #[tokio::test]
    async fn retries_transient_errors_until_success() {
        let calls = AtomicU32::new(0);
        let result = with_backoff(&fast(), || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(OAuthError::Transient("503".into())),
                _ => Ok("done"),
            }
        })
        .await;
        assert_eq!(result, Ok("done"));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn never_retries_invalid_grant() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = with_backoff(&fast(), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(OAuthError::InvalidGrant("revoked".into()))
        })
        .await;
        assert!(matches!(result, Err(OAuthError::InvalidGrant(_))));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn gives_up_after_the_last_attempt() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = with_backoff(&fast(), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(OAuthError::Transient("503".into()))
        })
        .await;
        assert!(matches!(result, Err(OAuthError::Transient(_))));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }
}

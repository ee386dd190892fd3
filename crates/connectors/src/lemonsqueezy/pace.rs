//! LemonSqueezy allows 300 API requests a minute per key. A backfill of a big store
//! is hundreds of pages, so the sync paces itself instead of running into the 429:
//! each request reserves a slot, at most [`REQUESTS_PER_MINUTE`] in any sliding
//! minute per store, and waits for it. It keeps below 300 so that the store's
//! other uses of the same key still fit; a 429 that happens anyway is honoured
//! with its `Retry-After` (see `sync.rs`).

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
    time::{Duration, Instant},
};

/// The requests a sync sends per sliding minute per store.
pub(crate) const REQUESTS_PER_MINUTE: usize = 280;
const MINUTE: Duration = Duration::from_secs(60);

/// The send times reserved per store (the account id), in the last minute and
/// ahead.
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    sent: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Pacer {
    /// Reserves the next slot of `account` and says how long to wait for it.
    pub fn reserve(&self, account: &str, now: Instant) -> Duration {
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        let slots = sent.entry(account.to_owned()).or_default();
        while slots
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) >= MINUTE)
        {
            slots.pop_front();
        }
        let at = if slots.len() >= REQUESTS_PER_MINUTE {
            (slots[slots.len() - REQUESTS_PER_MINUTE] + MINUTE).max(now)
        } else {
            now
        };
        slots.push_back(at);
        at.saturating_duration_since(now)
    }

    /// Waits for the next slot of `account`.
    pub async fn wait(&self, account: &str) {
        let wait = self.reserve(account, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_the_budget_goes_in_any_minute_per_store() {
        let pacer = Pacer::default();
        let start = Instant::now();
        for _ in 0..REQUESTS_PER_MINUTE {
            assert_eq!(pacer.reserve("1", start), Duration::ZERO);
        }
        // The next one waits for the first to leave the window.
        assert_eq!(pacer.reserve("1", start), MINUTE);
        assert_eq!(pacer.reserve("1", start + Duration::from_secs(1)), MINUTE - Duration::from_secs(1));
        // Another store has its own budget.
        assert_eq!(pacer.reserve("2", start), Duration::ZERO);
        // A minute later the window has moved on.
        let later = start + Duration::from_secs(125);
        assert_eq!(pacer.reserve("1", later), Duration::ZERO);
    }
}

//! Gorgias allows an API key 40 requests per 20 seconds (a leaky bucket that
//! empties at 2 a second). The sync keeps to 38 in any sliding 20 seconds per
//! account, leaving room for the key's other uses; a 429 that happens anyway is
//! honoured with its `Retry-After` (see `sync.rs`).

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
    time::{Duration, Instant},
};

pub(crate) const REQUESTS_PER_WINDOW: usize = 38;
const WINDOW: Duration = Duration::from_secs(20);

#[derive(Debug, Default)]
pub(crate) struct Pacer {
    sent: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Pacer {
    /// Reserves the next slot of `account` and says how long to wait for it.
    pub fn reserve(&self, account: &str, now: Instant) -> Duration {
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        let slots = sent.entry(account.to_owned()).or_default();
        while slots.front().is_some_and(|at| now.saturating_duration_since(*at) >= WINDOW) {
            slots.pop_front();
        }
        let at = if slots.len() >= REQUESTS_PER_WINDOW {
            (slots[slots.len() - REQUESTS_PER_WINDOW] + WINDOW).max(now)
        } else {
            now
        };
        slots.push_back(at);
        at.saturating_duration_since(now)
    }

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
    fn at_most_38_requests_go_in_any_20_seconds_per_account() {
        let pacer = Pacer::default();
        let start = Instant::now();
        for _ in 0..REQUESTS_PER_WINDOW {
            assert_eq!(pacer.reserve("a", start), Duration::ZERO);
        }
        assert_eq!(pacer.reserve("a", start), WINDOW);
        assert_eq!(pacer.reserve("b", start), Duration::ZERO);
    }
}

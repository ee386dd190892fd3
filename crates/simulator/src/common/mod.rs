//! Provider-neutral pieces every simulated provider builds on: scripted
//! faults and call counters, the data clock, the `/_sim/*` controls that are
//! not about one provider, HTTP helpers, the deterministic random stream, the
//! event agenda, money in minor units, calendar arithmetic and demand
//! seasonality.

pub(crate) mod agenda;
pub(crate) mod clock;
pub(crate) mod controls;
pub(crate) mod faults;
pub(crate) mod http;
pub mod money;
pub(crate) mod rng;
pub(crate) mod season;
pub(crate) mod time;

use std::{fmt, sync::Mutex};

/// Why a live mutation was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimError {
    /// No such charge or order.
    NotFound(String),
    /// The mutation does not apply (amount too large, order cancelled, …).
    Invalid(String),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound(what) => write!(f, "no such {what}"),
            Self::Invalid(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for SimError {}

/// Locks a mutex, ignoring poisoning: the maps stay consistent across a panic in
/// a test, and the simulator should keep answering.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

//! Provider-neutral pieces every simulated provider builds on: scripted
//! faults and call counters, the deterministic random stream, the event
//! agenda, money in minor units, calendar arithmetic and demand seasonality.

pub(crate) mod agenda;
pub(crate) mod faults;
pub mod money;
pub(crate) mod rng;
pub(crate) mod season;
pub(crate) mod time;

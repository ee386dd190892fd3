//! The generated data behind the simulated APIs, exercised over HTTP the way
//! the sync pipeline will use it, and checked against the handle's ledgers.

mod controls;
mod helpers;
mod season;
mod shopify;
mod stripe;

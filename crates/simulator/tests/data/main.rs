//! The generated data behind the simulated APIs, exercised over HTTP the way
//! the sync pipeline will use it, and checked against the handle's ledgers.

mod helpers;
mod season;
mod shopify;
mod stripe;

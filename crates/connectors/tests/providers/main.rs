//! The connectors against the simulator: the same client code that talks to
//! Stripe and Shopify, pointed at `pulseboard-simulator` through configuration.

mod helpers;
mod shopify;
mod stripe;

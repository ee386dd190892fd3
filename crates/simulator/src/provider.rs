//! What a simulated provider gives the simulator, and the one list of them.
//!
//! A provider is one folder, `src/<name>/`, whose `mod.rs` has:
//! - `pub(crate) const PROVIDER: SimProvider`: its path prefix, its
//!   [`router`](SimProvider::router), its [`settings`](SimProvider::settings)
//!   and how it answers scripted [`failure`](SimProvider::failure)s;
//! - `pub mod defaults` (the credentials it accepts by default) and
//!   `pub mod endpoints` (its endpoint names, for fault scripting and call
//!   counting), whose items are re-exported in [`crate::defaults`] and
//!   [`crate::endpoints`], so their names carry the provider's prefix
//!   (`STRIPE_CLIENT_ID`, `stripe.token`).
//!
//! and one name in the `providers!` list in `lib.rs`, which declares the
//! module and puts it in [`PROVIDERS`](crate::PROVIDERS); `app()` merges
//! every provider's router and `connector_settings()` concatenates every
//! provider's settings.
//!
//! A provider keeps its state in its folder: its `router` is given the
//! simulator's shared pieces (the [`Sim`](crate::Sim): configuration,
//! scripted faults and call counters, and the [`World`](crate::World) with the
//! data clock) and closes over whatever else it needs (issued credentials,
//! rate limiters, its own configuration) with `Router::with_state`. Its
//! generated data goes in the world with [`World::data`](crate::World::data),
//! under the world's one lock, so that moving the data clock moves it with
//! every other provider's. (Stripe and Shopify, which predate this, keep
//! their configuration in typed [`SimulatorConfig`](crate::SimulatorConfig)
//! fields and their data in typed `World` fields, because the
//! [`SimulatorHandle`](crate::SimulatorHandle) exposes both.)

use std::{any::Any, fmt};

use axum::{
    http::{header::RETRY_AFTER, StatusCode},
    response::{IntoResponse, Response},
    Json, Router,
};

use crate::{AppState, PROVIDERS};

/// One simulated provider, as the simulator's list knows it.
pub(crate) struct SimProvider {
    /// Its name: the path prefix of its API (`/stripe/...`), of its data
    /// controls (`/_sim/stripe/...`) and of its endpoint names (`stripe.token`).
    pub name: &'static str,
    /// Every route of the provider (its API and its `/_sim/<name>/*`
    /// controls), with their state given: the routers of all providers are
    /// merged into one app.
    pub router: fn(&AppState) -> Router,
    /// The environment variables that point a Pulseboard server at this
    /// provider in a simulator listening at `base` (no trailing slash), with
    /// its default credentials, as `(name, value)` pairs.
    pub settings: fn(base: &str) -> Vec<(String, String)>,
    /// Its answer to a scripted server error or rate limit on one of its
    /// endpoints (`<name>.*`), in its error shape.
    pub failure: fn(Failure) -> Response,
}

/// A scripted fault that replaces the endpoint's answer with the provider's
/// error (see [`SimProvider::failure`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// A `500`.
    ServerError,
    /// A `429` with `Retry-After: retry_after_secs`.
    RateLimited { retry_after_secs: u64 },
}

/// The answer to a scripted `failure` of `endpoint`: the failure of the
/// provider whose name prefixes it (`stripe.token` → Stripe's), or a plain
/// JSON error for a name no provider owns.
pub(crate) fn failure_response(endpoint: &str, failure: Failure) -> Response {
    let owner = PROVIDERS.iter().find(|provider| {
        endpoint
            .strip_prefix(provider.name)
            .is_some_and(|rest| rest.starts_with('.'))
    });
    if let Some(provider) = owner {
        return (provider.failure)(failure);
    }
    match failure {
        Failure::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(serde_json::json!({ "error": "scripted server error" })),
        )
            .into_response(),
        Failure::RateLimited { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            [(RETRY_AFTER, retry_after_secs.to_string())],
            Json(serde_json::json!({ "error": "scripted rate limit" })),
        )
            .into_response(),
    }
}

/// A provider's generated data, kept in the [`World`](crate::World) (see
/// [`World::data`](crate::World::data)) so that moving the data clock
/// generates its activity too, under the same lock as every other
/// provider's.
pub(crate) trait ProviderData: Any + Send + fmt::Debug {
    /// Generates what happened up to `t` (unix seconds, later than any time
    /// it was given before) in whatever has been generated so far.
    fn advance(&mut self, t: i64);
}

/// Declares the provider modules and the list of them, [`PROVIDERS`]
/// (`crate::PROVIDERS`), plus the public [`defaults`](crate::defaults) and
/// [`endpoints`](crate::endpoints) that gather every provider's own. Invoked
/// once, in `lib.rs`.
macro_rules! providers {
    ($($provider:ident),+ $(,)?) => {
        $(mod $provider;)+

        /// Every simulated provider: routers are merged and settings listed
        /// in this order.
        pub(crate) const PROVIDERS: &[$crate::provider::SimProvider] =
            &[$($provider::PROVIDER),+];

        /// Default credentials the simulator accepts; point the connectors at
        /// these.
        pub mod defaults {
            $(pub use crate::$provider::defaults::*;)+
        }

        /// Endpoint names, for fault scripting and call counting.
        pub mod endpoints {
            $(pub use crate::$provider::endpoints::*;)+
        }
    };
}

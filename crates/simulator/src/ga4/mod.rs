//! Simulated Google Analytics 4, served under `/ga4`: Google's OAuth endpoints and
//! the Admin API (`api.rs`), the Data API's `runReport` with property quotas
//! (`report.rs`), the generated traffic behind it (`ledger.rs`), and the
//! `/_sim/ga4/*` controls:
//!
//! - `POST /_sim/ga4/revoke`: the user removes Pulseboard's access in their Google
//!   account: every refresh and access token stops working (`invalid_grant`, 401);
//! - `POST /_sim/ga4/properties/{id}/quota` with `{"tokens_per_hour_remaining": n}`,
//!   `{"tokens_per_day_remaining": n}` or `{"reset": true}`: scripts the property's
//!   quota (0 remaining answers 429 `RESOURCE_EXHAUSTED`);
//! - `GET /_sim/ga4/properties/{id}/ledger?from=YYYY-MM-DD&to=YYYY-MM-DD`: the
//!   property's cells per day as they stand at the data clock (see `ledger.rs`).
//!
//! The simulated Google user reads the properties of [`PROPERTIES`] marked readable,
//! plus [`FILLER_ACCOUNTS`] agency accounts of one property each, so that the
//! account summaries take two pages at Google's default page size of 50.

mod api;
mod ledger;
mod report;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::{
    http::{header::RETRY_AFTER, StatusCode},
    response::{IntoResponse, Response},
    Json, Router,
};
use serde_json::json;

use crate::{provider::Failure, provider::SimProvider, AppState};

/// GA4 in the simulator's list of providers.
pub(crate) const PROVIDER: SimProvider = SimProvider {
    name: "ga4",
    router,
    settings,
    failure,
};

/// Credentials and properties the simulated Google accepts by default (all of them
/// are in [`crate::defaults`]).
pub mod defaults {
    pub const GA4_CLIENT_ID: &str = "sim-pulseboard.apps.googleusercontent.com";
    pub const GA4_CLIENT_SECRET: &str = "GOCSPX-sim-ga4-client-secret";
    /// Acme Coffee's property: America/New_York, USD.
    pub const GA4_PROPERTY_ID: &str = "312000001";
    /// A property in yen (no minor unit): Asia/Tokyo, JPY.
    pub const GA4_PROPERTY_ID_JPY: &str = "312000002";
    /// A property twelve or more hours ahead of UTC: Pacific/Auckland, NZD.
    pub const GA4_PROPERTY_ID_AUCKLAND: &str = "312000003";
    /// A property that exists but the simulated Google user cannot read.
    pub const GA4_FORBIDDEN_PROPERTY_ID: &str = "399999999";
}

/// GA4's endpoint names, for fault scripting and call counting (all of them are in
/// [`crate::endpoints`]).
pub mod endpoints {
    pub const GA4_AUTHORIZE: &str = "ga4.authorize";
    pub const GA4_TOKEN: &str = "ga4.token";
    pub const GA4_REVOKE: &str = "ga4.revoke";
    pub const GA4_ACCOUNT_SUMMARIES: &str = "ga4.account_summaries";
    pub const GA4_PROPERTY: &str = "ga4.property";
    pub const GA4_RUN_REPORT: &str = "ga4.run_report";
}

/// A simulated GA4 property.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SimProperty {
    pub id: &'static str,
    pub display_name: &'static str,
    pub account: &'static str,
    pub account_name: &'static str,
    /// Its IANA zone, which tells its days (23 or 25 hours long across daylight
    /// saving changes).
    pub time_zone: &'static str,
    pub currency: &'static str,
    /// Whether the simulated Google user can read it.
    pub readable: bool,
    /// Its traffic relative to the shop volume of [`crate::DataConfig`].
    pub scale: f64,
}

/// The named properties.
pub(crate) const PROPERTIES: &[SimProperty] = &[
    SimProperty {
        id: defaults::GA4_PROPERTY_ID,
        display_name: "Acme Coffee – GA4",
        account: "accounts/200001",
        account_name: "Acme Coffee",
        time_zone: "America/New_York",
        currency: "USD",
        readable: true,
        scale: 1.0,
    },
    SimProperty {
        id: defaults::GA4_PROPERTY_ID_JPY,
        display_name: "Acme Coffee Japan",
        account: "accounts/200001",
        account_name: "Acme Coffee",
        time_zone: "Asia/Tokyo",
        currency: "JPY",
        readable: true,
        scale: 0.4,
    },
    SimProperty {
        id: defaults::GA4_PROPERTY_ID_AUCKLAND,
        display_name: "Kiwi Beans",
        account: "accounts/200002",
        account_name: "Kiwi Beans Ltd",
        time_zone: "Pacific/Auckland",
        currency: "NZD",
        readable: true,
        scale: 0.5,
    },
    SimProperty {
        id: defaults::GA4_FORBIDDEN_PROPERTY_ID,
        display_name: "Someone else's shop",
        account: "accounts/299999",
        account_name: "Someone else",
        time_zone: "Europe/London",
        currency: "GBP",
        readable: false,
        scale: 1.0,
    },
];

/// Agency accounts the user also reads, one small UTC/USD property each, numbered
/// `320000000 + n`.
pub(crate) const FILLER_ACCOUNTS: u32 = 55;

/// A property by its number, named or filler.
pub(crate) fn property(id: &str) -> Option<SimProperty> {
    if let Some(p) = PROPERTIES.iter().find(|p| p.id == id) {
        return Some(*p);
    }
    let n: u32 = id.strip_prefix("3200")?.parse().ok()?;
    (n < FILLER_ACCOUNTS).then_some(SimProperty {
        id: "filler",
        display_name: "Agency client",
        account: "accounts/filler",
        account_name: "Agency client",
        time_zone: "UTC",
        currency: "USD",
        readable: true,
        scale: 0.05,
    })
}

/// Issued codes and tokens, and the properties' quotas.
#[derive(Debug, Default)]
pub(crate) struct Store {
    codes: HashMap<String, Code>,
    /// Access tokens: when they expire and the refresh token they came from.
    access_tokens: HashMap<String, (Instant, Option<String>)>,
    /// Live refresh tokens and their scope.
    refresh_tokens: HashMap<String, String>,
    quotas: HashMap<String, report::Quota>,
}

#[derive(Debug, Clone)]
struct Code {
    redirect_uri: String,
    challenge: Option<String>,
    scope: String,
    offline: bool,
}

/// What every GA4 handler is given.
#[derive(Clone)]
pub(crate) struct Ga4 {
    sim: AppState,
    store: Arc<Mutex<Store>>,
}

fn router(sim: &AppState) -> Router {
    let state = Ga4 {
        sim: sim.clone(),
        store: Arc::default(),
    };
    Router::new()
        .merge(api::router())
        .merge(report::router())
        .with_state(state)
}

/// The environment variables that point a Pulseboard server at the simulated GA4 of
/// a simulator listening at `base`, with the default credentials.
fn settings(base: &str) -> Vec<(String, String)> {
    [
        ("PULSEBOARD_GA4_CLIENT_ID", defaults::GA4_CLIENT_ID.to_owned()),
        (
            "PULSEBOARD_GA4_CLIENT_SECRET",
            defaults::GA4_CLIENT_SECRET.to_owned(),
        ),
        ("PULSEBOARD_GA4_AUTH_URL", format!("{base}/ga4/o/oauth2/v2/auth")),
        ("PULSEBOARD_GA4_TOKEN_URL", format!("{base}/ga4/token")),
        ("PULSEBOARD_GA4_REVOKE_URL", format!("{base}/ga4/revoke")),
        ("PULSEBOARD_GA4_ADMIN_API_URL", format!("{base}/ga4/admin")),
        ("PULSEBOARD_GA4_DATA_API_URL", format!("{base}/ga4/data")),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

/// Google's API error body: `{"error": {"code", "message", "status"}}`.
pub(crate) fn google_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "code": status.as_u16(), "message": message, "status": code } })),
    )
        .into_response()
}

/// Google's answer to a scripted failure: `INTERNAL` or `RESOURCE_EXHAUSTED`.
fn failure(failure: Failure) -> Response {
    match failure {
        Failure::ServerError => google_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "Internal error encountered.",
        ),
        Failure::RateLimited { retry_after_secs } => {
            let mut response = google_error(
                StatusCode::TOO_MANY_REQUESTS,
                "RESOURCE_EXHAUSTED",
                "Exhausted property tokens per hour. Refer to \
                 https://developers.google.com/analytics/devguides/reporting/data/v1/quotas",
            );
            if let Ok(value) = retry_after_secs.to_string().parse() {
                response.headers_mut().insert(RETRY_AFTER, value);
            }
            response
        }
    }
}

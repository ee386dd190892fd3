//! Simulated Microsoft Clarity, served under `/clarity`: the Data Export API's one
//! endpoint (`api.rs`) over generated sessions (`gen.rs`), its 10 calls per project
//! and day counted on the data clock's UTC day, and the `/_sim/clarity/*` controls
//! (`controls.rs`): the ledger tests read (sessions and calls) and a malformed
//! answer on demand. Its data lives in the world, so moving the data clock moves
//! its sessions and its day.

mod api;
mod controls;
mod gen;

use axum::Router;

use crate::{provider::SimProvider, AppState};

/// Microsoft Clarity in the simulator's list of providers.
pub(crate) const PROVIDER: SimProvider = SimProvider {
    name: "clarity",
    router: |sim| router().with_state(sim.clone()),
    settings,
    failure: api::failure,
};

/// Export calls a project may make per (UTC) day.
const DAILY_LIMIT: usize = 10;

/// Tokens the simulated Clarity accepts by default (all of them are in
/// [`crate::defaults`]).
pub mod defaults {
    /// A Data Export token of the project `acme-coffee` (JWT-shaped, like Clarity's).
    pub const CLARITY_API_TOKEN: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJqdGkiOiJzaW0tYWNtZS1jb2ZmZWUiLCJzY29wZSI6IkRhdGEuRXhwb3J0In0.c2ltdWxhdGVkLXNpZ25hdHVyZS1hY21lLWNvZmZlZQ";
    /// A token of another project, `globex`, with a daily limit of its own.
    pub const CLARITY_OTHER_PROJECT_TOKEN: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJqdGkiOiJzaW0tZ2xvYmV4Iiwic2NvcGUiOiJEYXRhLkV4cG9ydCJ9.c2ltdWxhdGVkLXNpZ25hdHVyZS1nbG9iZXg";
    /// Every accepted token and the project it reads.
    pub const CLARITY_TOKENS: &[(&str, &str)] = &[
        (CLARITY_API_TOKEN, "acme-coffee"),
        (CLARITY_OTHER_PROJECT_TOKEN, "globex"),
    ];
}

/// Clarity's endpoint names, for fault scripting and call counting (all of
/// them are in [`crate::endpoints`]).
pub mod endpoints {
    pub const CLARITY_EXPORT: &str = "clarity.export";
}

fn router() -> Router<AppState> {
    Router::new()
        .merge(api::router())
        .merge(controls::router())
}

/// The variables that point a Pulseboard server at the simulated Clarity of a
/// simulator listening at `base`. (There are no app credentials: users paste
/// [`defaults::CLARITY_API_TOKEN`].)
fn settings(base: &str) -> Vec<(String, String)> {
    vec![(
        "PULSEBOARD_CLARITY_API_URL".to_owned(),
        format!("{base}/clarity"),
    )]
}

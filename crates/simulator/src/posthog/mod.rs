//! Simulated PostHog, served under `/posthog` (the host a user would type is
//! `http://127.0.0.1:PORT/posthog`): the project endpoint and the HogQL query
//! endpoint (`api.rs`) for any project id, with a known personal API key; the
//! generated events behind them (`gen.rs`), the minimal HogQL interpreter that runs
//! the queries Pulseboard sends (`hogql.rs`), and the `/_sim/posthog/*` controls
//! (`controls.rs`):
//!
//! - `GET /_sim/posthog/projects/{id}/ledger` → the project (name, time zone and
//!   its fixed UTC offset) and every event ingested so far, as JSON;
//! - `POST /_sim/posthog/projects/{id}/events` with `{"event", "timestamp",
//!   "person_id"?, "session_id"?}` → an event that happened in the past, ingested
//!   now (a late arrival);
//! - `POST /_sim/posthog/query-limit` with `{"per_hour": n}` → the per-key HogQL
//!   query limit (PostHog's default, 120 an hour, unless changed).
//!
//! The [`SimulatorHandle`](crate::SimulatorHandle) has the same as methods
//! (`posthog_ledger`, `posthog_late_event`, `posthog_query_limit`). Its state lives
//! in the [`World`](crate::World) (see [`World::data`](crate::World::data)), so
//! its events move with the shared data clock.

mod api;
mod controls;
mod gen;
mod hogql;

use std::collections::BTreeMap;

use axum::Router;

use self::gen::ProjectGen;
use crate::{
    common::{clock::Clock, lock, SimError},
    provider::{ProviderData, SimProvider},
    AppState, SimulatorHandle,
};

/// PostHog in the simulator's list of providers.
pub(crate) const PROVIDER: SimProvider = SimProvider {
    name: "posthog",
    router: |sim| router().with_state(sim.clone()),
    settings,
    failure: api::failure,
};

/// What the simulated PostHog accepts by default (all of it is in
/// [`crate::defaults`]).
pub mod defaults {
    /// A personal API key with `project:read` and `query:read`.
    pub const POSTHOG_PERSONAL_API_KEY: &str = "phx_sim_pulseboard_personal_key";
    /// A personal API key with `project:read` only: its queries get a 403.
    pub const POSTHOG_PROJECT_READ_ONLY_KEY: &str = "phx_sim_project_read_only_key";
    /// Any positive project id works; this one is in Asia/Tokyo (a project's zone
    /// is `["UTC", "Asia/Tokyo", "America/Phoenix", "Asia/Kolkata"][id % 4]`).
    pub const POSTHOG_PROJECT_ID: u64 = 4241;
    /// HogQL queries a key may run per sliding hour, PostHog's documented default.
    pub const POSTHOG_QUERIES_PER_HOUR: u32 = 120;
}

/// PostHog's endpoint names, for fault scripting and call counting (all of them
/// are in [`crate::endpoints`]).
pub mod endpoints {
    pub const POSTHOG_PROJECT: &str = "posthog.project";
    pub const POSTHOG_QUERY: &str = "posthog.query";
}

fn router() -> Router<AppState> {
    Router::new().merge(api::router()).merge(controls::router())
}

/// PostHog has no server-wide base URL (each connection names its host): the
/// server only has to accept the simulator's loopback host.
fn settings(_base: &str) -> Vec<(String, String)> {
    vec![("PULSEBOARD_POSTHOG_ALLOW_LOOPBACK".to_owned(), "true".to_owned())]
}

/// Every project generated so far and the query limiter, kept in the world.
#[derive(Debug, Default)]
pub(crate) struct Posthog {
    projects: BTreeMap<u64, ProjectGen>,
    limiter: api::QueryLimiter,
}

impl Posthog {
    /// A project, generated up to the clock on first use.
    fn project(&mut self, clock: &Clock, id: u64) -> &mut ProjectGen {
        self.projects.entry(id).or_insert_with(|| {
            let mut project = ProjectGen::new(clock.data.seed, id, clock.start, clock.data.end);
            project.advance(clock.end);
            project
        })
    }
}

impl ProviderData for Posthog {
    fn advance(&mut self, t: i64) {
        for project in self.projects.values_mut() {
            project.advance(t);
        }
    }
}

impl SimulatorHandle {
    /// The host a user types to reach the simulated PostHog.
    pub fn posthog_host(&self) -> String {
        format!("{}/posthog", self.base_url())
    }

    /// A project and every event ingested so far, as `GET
    /// /_sim/posthog/projects/{id}/ledger` shows them: `{"id", "name", "timezone",
    /// "utc_offset_secs", "start", "end", "events": [{"uuid", "event", "timestamp",
    /// "inserted_at", "person_id", "session_id"}]}` (times in unix seconds).
    pub fn posthog_ledger(&self, project_id: u64) -> serde_json::Value {
        let world = &mut *lock(&self.state.world);
        let (clock, data) = world.data(Posthog::default);
        serde_json::to_value(&data.project(clock, project_id).ledger)
            .expect("the ledger serialises")
    }

    /// Ingests, at the data clock, an event that happened at `timestamp`; a new
    /// person unless `person_id` is given; no session unless `session_id` is.
    pub fn posthog_late_event(
        &self,
        project_id: u64,
        event: &str,
        timestamp: i64,
        person_id: Option<&str>,
        session_id: Option<&str>,
    ) -> Result<(), SimError> {
        let world = &mut *lock(&self.state.world);
        let (clock, data) = world.data(Posthog::default);
        data.project(clock, project_id)
            .ingest_late(event, timestamp, person_id, session_id)
            .map(|_| ())
    }

    /// Sets the HogQL queries each key may run per sliding hour.
    pub fn posthog_query_limit(&self, per_hour: u32) {
        let world = &mut *lock(&self.state.world);
        world.data(Posthog::default).1.limiter.per_hour = per_hour;
    }
}

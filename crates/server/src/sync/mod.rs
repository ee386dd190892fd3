//! The sync engine (DESIGN §7): a job queue on `sync_jobs`, a scheduler, workers,
//! and the pipeline raw records → metric events → daily rollups → snapshots.
//!
//! Providers pull (the connectors crate); this module decides when, stores what they
//! hand over ([`sink`]), and keeps the derived tables current ([`rollups`]).

pub mod drift;
pub mod events;
pub mod queue;
pub mod rollups;
pub mod runner;
pub mod scheduler;
pub mod sink;
pub mod worker;

pub use crate::config::SyncSettings;

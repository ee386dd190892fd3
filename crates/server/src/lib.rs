//! Pulseboard server: configuration, database, HTTP API, background work.

pub mod alerts;
pub mod cli;
pub mod config;
pub mod dashboards;
pub mod db;
pub mod demo;
pub mod digest;
pub mod domain;
pub mod error;
pub mod http;
pub mod integrations;
pub mod live;
pub mod metrics;
pub mod notify;
pub mod startup;
pub mod state;
pub mod sync;
pub mod telemetry;
pub mod webhooks;

pub use startup::Application;

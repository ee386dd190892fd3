//! Dashboards (DESIGN §9): their model and checks, the built-in templates, and widget
//! data through the metrics service (widgets never send SQL).

pub mod data;
pub mod model;
pub mod templates;
pub mod warm;

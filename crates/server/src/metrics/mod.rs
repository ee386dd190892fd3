//! The metrics service (DESIGN §8): widgets send a declarative query, this module
//! validates it against the catalog ([`query`]), resolves its time windows in the
//! store's zone ([`window`]) and answers it from the rollups ([`engine`]). It is the
//! seam where another store (ClickHouse) could answer instead.

pub mod engine;
pub mod query;
pub mod window;

//! The metrics service (DESIGN §8): widgets send a declarative query, this module
//! validates it against the catalog ([`query`]), resolves its time windows in the
//! store's zone ([`window`]) and answers it ([`engine`]) from the rollups, read in
//! batches ([`reads`]) and computed with pure arithmetic ([`buckets`]) into a
//! [`result::QueryResult`]. Metrics that divide two catalog metrics of different
//! sources (conversion rate) are in [`computed`]. [`reads`] is the seam where another store (ClickHouse)
//! could answer instead.

mod buckets;
pub mod computed;
pub mod engine;
pub mod explain;
#[cfg(test)]
mod properties;
pub mod query;
mod reads;
pub mod result;
pub mod window;

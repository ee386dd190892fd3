//! The GraphQL Admin API's query root over a generated shop: `shop`,
//! `orders`, `customers`, `products` and `abandonedCheckouts`.
//!
//! There is no real GraphQL engine: a small scanner reads the operation's
//! root fields, their aliases and arguments (literals or `$variables`), and
//! each connection answers with the full node shape whatever the selection
//! asks for (see the `*_node` functions of
//! [`ShopifyLedger`](crate::ShopifyLedger)), wrapped in
//! `{edges: [{cursor, node}], nodes, pageInfo}` (`edges` and `nodes` only
//! when selected).
//!
//! Connections take `first` (required, ≤ 250), `after` (an opaque cursor,
//! base64 of `{"last_id", "last_value"}` like Shopify's), `sortKey` (`ID`
//! (default), `CREATED_AT`, `UPDATED_AT`, and `PROCESSED_AT` for orders),
//! `reverse`, and `query` in Shopify's search syntax with `updated_at` and
//! `created_at` (`processed_at` for orders) compared by `:>=`, `:>`, `:<=`,
//! `:<` or `:` (a date alone means that whole day, UTC), values quoted or
//! not; other search terms are ignored with a warning in
//! `extensions.search`, as Shopify does. Order is ascending (sort value, id).
//!
//! Access scopes are enforced: `read_orders` for orders and abandoned
//! checkouts, `read_customers`, `read_products` (or the `write_` scope); and
//! without `read_all_orders`, orders created more than 60 days before the data
//! clock silently do not exist, exactly the trap Shopify sets.
//!
//! Cost model (see [`cost`]): a connection requests `2 + first × node cost`
//! and actually costs `2 + returned nodes × node cost`; `shop` costs 1. Each
//! shop has a leaky bucket (`SimulatorConfig::shopify_bucket`, default 1000
//! points restoring 50/s): the requested cost is reserved up front and the
//! difference to the actual cost returned afterwards, as Shopify documents.
//! A query requesting more than the bucket holds now gets HTTP 200 with a
//! `THROTTLED` error and no data; one requesting more than the bucket's
//! maximum gets `MAX_COST_EXCEEDED`. Every answer carries
//! `extensions.cost.throttleStatus`.
//!
//! The request goes through `scanner.rs` (root fields), `plan.rs` (arguments
//! validated, with `search.rs` for `query` and `cursor.rs` for `after`),
//! `cost.rs` (the bucket) and `execute.rs` (the answer).

pub mod cost;
mod cursor;
mod execute;
mod plan;
mod scanner;
mod search;

pub(crate) use self::{cost::Buckets, execute::execute};

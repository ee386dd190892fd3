//! Shopify's calculated query cost, simplified (an order's line items and
//! refunds are counted in its flat node cost), and the per-shop leaky bucket
//! it is charged to.

use std::{collections::HashMap, time::Instant};

use serde_json::{json, Value};

use crate::shopify::gen::Connection;

/// What every connection costs on top of its nodes.
pub const CONNECTION: u32 = 2;
/// Per order node (the order, its `lineItems` and `refunds`).
pub const ORDER: u32 = 3;
/// Per customer, product or abandoned-checkout node.
pub const NODE: u32 = 1;
/// The `shop` field.
pub const SHOP: u32 = 1;

fn node_cost(connection: Connection) -> u32 {
    match connection {
        Connection::Orders => ORDER,
        _ => NODE,
    }
}

/// A connection's cost for `nodes` nodes: the requested cost with `first`,
/// the actual cost with the nodes returned.
pub(super) fn connection_cost(connection: Connection, nodes: usize) -> u32 {
    CONNECTION + nodes as u32 * node_cost(connection)
}

/// Per-shop leaky buckets.
#[derive(Debug, Default)]
pub(crate) struct Buckets {
    shops: HashMap<String, (f64, Instant)>,
}

/// A snapshot of a shop's bucket, as `throttleStatus` reports it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Throttle {
    maximum: f64,
    available: f64,
    restore: f64,
}

impl Throttle {
    pub(super) fn json(self) -> Value {
        json!({
            "maximumAvailable": self.maximum,
            "currentlyAvailable": self.available.floor(),
            "restoreRate": self.restore,
        })
    }
}

impl Buckets {
    /// Restores the bucket to now, then applies `change` to its level (which
    /// may refuse by returning `false`, leaving it untouched).
    pub(super) fn update(
        &mut self,
        shop: &str,
        maximum: f64,
        restore: f64,
        change: impl FnOnce(&mut f64) -> bool,
    ) -> (bool, Throttle) {
        let now = Instant::now();
        let (level, at) = self.shops.entry(shop.to_owned()).or_insert((maximum, now));
        *level = (*level + now.duration_since(*at).as_secs_f64() * restore).min(maximum);
        *at = now;
        let accepted = change(level);
        (
            accepted,
            Throttle {
                maximum,
                available: *level,
                restore,
            },
        )
    }
}

//! Shopify's `/_sim/shopify/{shop}/*` data controls (see [`crate::serve`]):
//! a shop's ledger as JSON, live refunds and order edits.

use axum::{
    body::Bytes,
    extract::{Path, State},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};

use super::ledger::parse_gid;
use crate::{
    common::{
        controls::{amount_param, mutation_response},
        lock, SimError,
    },
    AppState,
};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/_sim/shopify/{shop}/ledger", get(shopify_ledger))
        .route(
            "/_sim/shopify/{shop}/orders/{id}/refund",
            post(refund_shopify_order),
        )
        .route(
            "/_sim/shopify/{shop}/orders/{id}/edit",
            post(edit_shopify_order),
        )
}

async fn shopify_ledger(State(sim): State<AppState>, Path(shop): Path<String>) -> Response {
    let world = &mut *lock(&sim.world);
    Json(&world.shop(&shop).ledger).into_response()
}

async fn refund_shopify_order(
    State(sim): State<AppState>,
    Path((shop, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Some(order_id) = parse_gid("Order", &id) else {
        return mutation_response::<()>(Err(SimError::NotFound(format!("order {id}"))));
    };
    let world = &mut *lock(&sim.world);
    let gen = world.shop(&shop);
    let amount = amount_param(&body).unwrap_or_else(|| {
        gen.ledger
            .orders
            .iter()
            .find(|o| o.id == order_id)
            .map_or(0, |o| o.total_price - o.total_refunded)
    });
    mutation_response(gen.refund_order(order_id, amount))
}

async fn edit_shopify_order(
    State(sim): State<AppState>,
    Path((shop, id)): Path<(String, String)>,
) -> Response {
    let Some(order_id) = parse_gid("Order", &id) else {
        return mutation_response::<()>(Err(SimError::NotFound(format!("order {id}"))));
    };
    mutation_response(lock(&sim.world).shop(&shop).edit_order(order_id))
}

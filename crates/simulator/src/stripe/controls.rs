//! Stripe's `/_sim/stripe/*` data controls (see [`crate::serve`]): the
//! ledger as JSON and live refunds.

use axum::{
    body::Bytes,
    extract::{Path, State},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};

use crate::{
    common::{
        controls::{amount_param, mutation_response},
        lock,
    },
    AppState,
};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/_sim/stripe/ledger", get(stripe_ledger))
        .route(
            "/_sim/stripe/charges/{id}/refund",
            post(refund_stripe_charge),
        )
}

async fn stripe_ledger(State(sim): State<AppState>) -> Response {
    let world = &mut *lock(&sim.world);
    Json(&world.stripe().ledger).into_response()
}

async fn refund_stripe_charge(
    State(sim): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let world = &mut *lock(&sim.world);
    let stripe = world.stripe();
    let amount = amount_param(&body).unwrap_or_else(|| {
        stripe.charge_index.get(&id).map_or(0, |i| {
            stripe.ledger.charges[*i].amount - stripe.ledger.charges[*i].amount_refunded
        })
    });
    mutation_response(stripe.refund_charge(&id, amount))
}

//! Stripe's `/_sim/stripe/*` data controls (see [`crate::serve`]): the
//! ledger as JSON, live refunds, and charges silently hidden from (`hide`) or
//! altered in (`alter`, body `{"amount": N}`) the charge list and events while
//! their balance transactions stay (see `balance.rs`).

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
        lock, SimError,
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
        .route("/_sim/stripe/charges/{id}/hide", post(hide_stripe_charge))
        .route("/_sim/stripe/charges/{id}/alter", post(alter_stripe_charge))
}

/// Drops the charge from `/v1/charges` and `/v1/events` (not from the balance).
async fn hide_stripe_charge(State(sim): State<AppState>, Path(id): Path<String>) -> Response {
    let world = &mut *lock(&sim.world);
    let stripe = world.stripe();
    if !stripe.charge_index.contains_key(&id) {
        return mutation_response::<()>(Err(SimError::NotFound(format!("charge {id}"))));
    }
    stripe.tamper.hidden.insert(id.clone());
    mutation_response(Ok(serde_json::json!({ "hidden": id })))
}

/// Shows the charge with another `amount` in `/v1/charges` and `/v1/events`.
async fn alter_stripe_charge(
    State(sim): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(amount) = amount_param(&body) else {
        return mutation_response::<()>(Err(SimError::Invalid("an amount is required".into())));
    };
    let world = &mut *lock(&sim.world);
    let stripe = world.stripe();
    if !stripe.charge_index.contains_key(&id) {
        return mutation_response::<()>(Err(SimError::NotFound(format!("charge {id}"))));
    }
    stripe.tamper.altered.insert(id.clone(), amount);
    mutation_response(Ok(serde_json::json!({ "altered": id, "amount": amount })))
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

//! The `/_sim/*` controls that are not about one provider: scripting faults,
//! reading call counters, reading and moving the data clock (see
//! [`crate::serve`]); and the helpers the providers' own controls share.

use std::collections::BTreeMap;

use axum::{
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};

use super::{clock::now, faults::FaultScript, lock, SimError};
use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/_sim/faults", post(script_fault).delete(clear_faults))
        .route("/_sim/calls", get(list_calls))
        .route("/_sim/clock", get(clock))
        .route("/_sim/advance", post(advance))
}

async fn script_fault(State(sim): State<AppState>, body: Bytes) -> Response {
    let scripts: Vec<FaultScript> = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(value @ serde_json::Value::Array(_)) => match serde_json::from_value(value) {
            Ok(list) => list,
            Err(e) => return bad_request(e),
        },
        Ok(value) => match serde_json::from_value(value) {
            Ok(one) => vec![one],
            Err(e) => return bad_request(e),
        },
        Err(e) => return bad_request(e),
    };
    for script in &scripts {
        sim.faults
            .script(&script.endpoint, script.fault.clone(), script.times);
    }
    (
        StatusCode::OK,
        Json(serde_json::json!({ "scripted": scripts.len() })),
    )
        .into_response()
}

fn bad_request(error: serde_json::Error) -> Response {
    let body = serde_json::json!({ "error": format!("invalid fault script: {error}") });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

async fn clear_faults(State(sim): State<AppState>) -> StatusCode {
    sim.faults.clear();
    StatusCode::NO_CONTENT
}

async fn list_calls(State(sim): State<AppState>) -> Json<BTreeMap<String, usize>> {
    Json(sim.faults.all_calls())
}

async fn clock(State(sim): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "end": lock(&sim.world).end() }))
}

async fn advance(State(sim): State<AppState>, body: Bytes) -> Json<serde_json::Value> {
    let to = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("to").and_then(serde_json::Value::as_i64))
        .unwrap_or_else(now);
    let end = lock(&sim.world).advance_to(to);
    Json(serde_json::json!({ "end": end }))
}

/// `amount` from a mutation's JSON body, if any.
pub(crate) fn amount_param(body: &[u8]) -> Option<i64> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("amount")?
        .as_i64()
}

/// A live mutation's answer: the result as JSON, or the refusal as 404 (unknown
/// object) or 422.
pub(crate) fn mutation_response<T: serde::Serialize>(result: Result<T, SimError>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(error) => {
            let status = match error {
                SimError::NotFound(_) => StatusCode::NOT_FOUND,
                SimError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            };
            (
                status,
                Json(serde_json::json!({ "error": error.to_string() })),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use axum::http::StatusCode;

    use crate::{endpoints, Simulator, SimulatorConfig};

    #[tokio::test]
    async fn admin_endpoints_script_faults_and_report_calls() {
        let sim = Simulator::start(SimulatorConfig::default()).await.unwrap();
        let client = reqwest::Client::new();
        let script = serde_json::json!({
            "endpoint": "stripe.account",
            "fault": { "kind": "rate_limited", "retry_after_secs": 4 },
            "times": 1
        });
        let scripted = client
            .post(format!("{}/_sim/faults", sim.base_url()))
            .json(&script)
            .send()
            .await
            .unwrap();
        assert_eq!(scripted.status(), StatusCode::OK);

        let account = format!("{}/v1/account", sim.stripe_api_base());
        let limited = client.get(&account).send().await.unwrap();
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(limited.headers()["retry-after"], "4");
        let unauthorised = client
            .get(&account)
            .bearer_auth("rk_test_nope12345678")
            .send()
            .await
            .unwrap();
        assert_eq!(unauthorised.status(), StatusCode::UNAUTHORIZED);
        let body: serde_json::Value = unauthorised.json().await.unwrap();
        assert_eq!(
            body["error"]["message"],
            "Invalid API Key provided: rk_test_****5678"
        );

        let calls: BTreeMap<String, usize> = client
            .get(format!("{}/_sim/calls", sim.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(calls.get("stripe.account"), Some(&2));
        assert_eq!(sim.calls(endpoints::STRIPE_ACCOUNT), 2);
        let bad = client
            .post(format!("{}/_sim/faults", sim.base_url()))
            .json(&serde_json::json!({ "endpoint": "x", "fault": { "kind": "nope" } }))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        sim.shutdown().await;
    }
}

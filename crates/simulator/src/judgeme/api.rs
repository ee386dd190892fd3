//! `GET /judgeme/api/v1/reviews`, as Judge.me documents it: `api_token` and
//! `shop_domain` in the query (the token must be the shop's), `page` (from 1)
//! and `per_page` (default 10, at most 100), newest reviews first, answering
//! `{"current_page", "per_page", "reviews": [...]}`; a page past the end has no
//! reviews. A missing or foreign token is a `401` `{"error": "…"}`.

use axum::{
    extract::{Query, State},
    http::{header::RETRY_AFTER, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde_json::{json, Value};

use super::{defaults, endpoints, gen::JudgeMeData};
use crate::{common::lock, provider::Failure, AppState};

const MAX_PER_PAGE: usize = 100;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/judgeme/api/v1/reviews", get(reviews))
}

/// Judge.me's answer to a scripted failure, in its error shape.
pub(crate) fn failure(failure: Failure) -> Response {
    match failure {
        Failure::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": "Internal server error" })),
        )
            .into_response(),
        Failure::RateLimited { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            [(RETRY_AFTER, retry_after_secs.to_string())],
            Json(json!({ "error": "Too many requests, please retry later" })),
        )
            .into_response(),
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

async fn reviews(
    State(sim): State<AppState>,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    if let Err(response) = sim.faults.enter(endpoints::JUDGEME_REVIEWS).await {
        return response;
    }
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
    };
    let (Some(token), Some(shop)) = (param("api_token"), param("shop_domain")) else {
        return error(StatusCode::UNAUTHORIZED, "api_token and shop_domain are required");
    };
    let owns = defaults::JUDGEME_TOKENS
        .iter()
        .any(|(t, s)| *t == token && *s == shop);
    if !owns {
        return error(StatusCode::UNAUTHORIZED, "Invalid api_token for this shop_domain");
    }
    let number = |name: &str, default: usize| -> Option<usize> {
        match param(name) {
            None => Some(default),
            Some(v) => v.parse::<usize>().ok().filter(|n| *n >= 1),
        }
    };
    let (Some(page), Some(per_page)) = (number("page", 1), number("per_page", 10)) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "page and per_page must be positive integers",
        );
    };
    let per_page = per_page.min(MAX_PER_PAGE);
    let world = &mut *lock(&sim.world);
    let end = world.end();
    let (clock, data) = world.data(JudgeMeData::default);
    if std::mem::take(&mut data.malformed_next) {
        return Json(json!({ "current_page": page, "per_page": per_page, "reviews": "the simulator was told to answer the wrong shape" })).into_response();
    }
    let mut written: Vec<_> = data
        .shop(clock, &shop)
        .reviews
        .iter()
        .filter(|r| r.created_at < end)
        .collect();
    written.sort_by_key(|r| std::cmp::Reverse((r.created_at, r.id)));
    let reviews: Vec<Value> = written
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|r| r.json(end))
        .collect();
    Json(json!({ "current_page": page, "per_page": per_page, "reviews": reviews })).into_response()
}

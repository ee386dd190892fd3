//! The metric catalog of an organization, the query endpoint, and the records behind
//! a number.

use axum::{
    extract::State,
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
    Json,
};
use chrono::Utc;
use pulseboard_connectors::MetricSpec;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    extract::{read_only_post, ApiJson, ApiQuery, OrgScope},
    AppState,
};
use crate::{
    db,
    error::{ApiResult, ErrorBody},
    metrics::{computed, engine, explain, query::QueryConfig},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(catalog)).merge(
        // A query only reads: viewers may run it, though it is a POST.
        OpenApiRouter::new()
            .routes(routes!(run_query))
            .routes(routes!(explain_query))
            .layer(axum::middleware::from_fn(read_only_post)),
    )
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogEntry {
    /// `{provider}.{metric}`, what a query names.
    id: String,
    provider: String,
    /// The metric: name, description, unit, aggregation, kind (flow or stock),
    /// category, dimensions, for ratios the two metrics divided, and its written
    /// `definition` (`formula`, `source_fields`, `booked`, `excludes`).
    #[schema(value_type = Object)]
    metric: MetricSpec,
}

/// The metrics available from the organization's connected integrations, and the
/// computed ones (conversion rate) whose every source is connected.
#[utoipa::path(get, path = "/api/orgs/{org_slug}/metrics/catalog", tag = "metrics",
    params(("org_slug" = String, Path)),
    responses((status = 200, body = [CatalogEntry]), (status = 404, body = ErrorBody)))]
async fn catalog(
    State(state): State<AppState>,
    mut scope: OrgScope,
) -> ApiResult<Json<Vec<CatalogEntry>>> {
    let providers = db::integrations::connected_providers(&mut *scope.tx, scope.org.id).await?;
    scope.commit().await?;
    let entries = providers
        .iter()
        .filter_map(|id| state.providers.get(id))
        .flat_map(|provider| {
            let info = provider.info();
            info.metrics.iter().map(move |spec| CatalogEntry {
                id: format!("{}.{}", info.id, spec.id),
                provider: info.id.to_owned(),
                metric: *spec,
            })
        })
        .chain(
            computed::COMPUTED
                .iter()
                .filter(|c| c.offered(&state.providers))
                .filter(|c| c.sources().iter().all(|s| providers.iter().any(|p| p == s)))
                .map(|c| CatalogEntry {
                    id: format!("{}.{}", computed::SOURCE, c.spec.id),
                    provider: computed::SOURCE.to_owned(),
                    metric: c.spec,
                }),
        )
        .collect();
    Ok(Json(entries))
}

/// Answers a widget's query: series, total, the like-for-like previous period, delta
/// and freshness. Anything unknown or out of range is a 422 naming the field.
#[utoipa::path(post, path = "/api/orgs/{org_slug}/metrics/query", tag = "metrics",
    params(("org_slug" = String, Path)), request_body = QueryConfig,
    responses((status = 200, body = engine::QueryResult), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn run_query(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiJson(config): ApiJson<QueryConfig>,
) -> ApiResult<Json<engine::QueryResult>> {
    let validated = config.validate(&state.providers)?;
    let result = engine::run(&mut scope.tx, scope.org.id, &validated, Utc::now()).await?;
    scope.commit().await?;
    Ok(Json(result))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExplainPoint {
    /// One point of the query's series to explain instead of its total: the bucket
    /// as the series names it (`2026-11-02`, a week's Monday, a month's first day,
    /// or `2026-11-02T14:00` for an hour).
    #[param(max_length = 16)]
    pub bucket: Option<String>,
}

/// "Show the records behind this number": the source records (charges, orders,
/// refunds…) whose amounts add up to the query's total (or to one point of its
/// series, with `bucket`) over the same stores, window and filters, largest first,
/// with links to the provider's dashboard. With `Accept: text/csv`, the same as a
/// CSV file. Ratios and levels (MRR) are a 422: they are not sums of records.
#[utoipa::path(post, path = "/api/orgs/{org_slug}/metrics/explain", tag = "metrics",
    params(("org_slug" = String, Path), ExplainPoint), request_body = QueryConfig,
    responses((status = 200, body = explain::Explanation, content_type = "application/json"),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn explain_query(
    State(state): State<AppState>,
    mut scope: OrgScope,
    headers: HeaderMap,
    ApiQuery(point): ApiQuery<ExplainPoint>,
    ApiJson(config): ApiJson<QueryConfig>,
) -> ApiResult<Response> {
    let validated = config.validate(&state.providers)?;
    let explanation = explain::explain(
        &mut scope.tx,
        scope.org.id,
        &validated,
        &state.providers,
        Utc::now(),
        point.bucket.as_deref(),
    )
    .await?;
    scope.commit().await?;
    let wants_csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"));
    if !wants_csv {
        return Ok(Json(explanation).into_response());
    }
    let file: String = explanation
        .metric
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}-records.csv\""),
            ),
        ],
        explain::to_csv(&explanation),
    )
        .into_response())
}

//! Sync monitoring and control: the job history, a manual refresh, plan usage, and
//! seed 000's cron routes for deployments that drive syncs from outside.

use axum::{
    extract::State,
    http::{header, HeaderMap, StatusCode},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    extract::{ApiPath, ApiQuery, OrgScope},
    AppState,
};
use crate::{
    db,
    db::Bypass,
    domain::{plans, secrets::token_hash},
    error::{ApiError, ApiResult, ErrorBody},
    sync::{
        drift::{self, DriftCheck},
        queue::{self, JobView},
        runner,
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_jobs))
        .routes(routes!(request_sync))
        .routes(routes!(drift_checks))
        .routes(routes!(usage))
        .routes(routes!(cron_enqueue))
        .routes(routes!(cron_run))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JobsQuery {
    /// How many of the most recent jobs (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// The most recent sync jobs of the organization: status, duration, records, attempt, error.
#[utoipa::path(get, path = "/api/orgs/{org_slug}/sync-jobs", tag = "sync",
    params(("org_slug" = String, Path), JobsQuery),
    responses((status = 200, body = [JobView]), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_jobs(
    mut scope: OrgScope,
    ApiQuery(query): ApiQuery<JobsQuery>,
) -> ApiResult<Json<Vec<JobView>>> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::validation("limit", "must be between 1 and 200"));
    }
    let jobs = queue::recent(&mut *scope.tx, scope.org.id, limit).await?;
    scope.commit().await?;
    Ok(Json(jobs))
}

/// Sync an integration now (members and up). While a job is queued or running it is
/// returned (200) instead of adding another; a new job answers 202.
#[utoipa::path(post, path = "/api/orgs/{org_slug}/integrations/{integration_id}/sync", tag = "sync",
    params(("org_slug" = String, Path), ("integration_id" = Uuid, Path)),
    responses((status = 202, body = JobView), (status = 200, body = JobView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn request_sync(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    let (_, id) = path;
    let integration = db::integrations::get(&mut *scope.tx, scope.org.id, id)
        .await?
        .ok_or(ApiError::NotFound("integration"))?;
    if matches!(
        integration.status.as_str(),
        "disconnected" | "reauth_required"
    ) {
        return Err(ApiError::conflict(
            "integration_unavailable",
            format!(
                "this integration is {}; reconnect it before syncing",
                integration.status.replace('_', " ")
            ),
        ));
    }
    let (job_id, created) = queue::enqueue(&mut scope.tx, scope.org.id, id, "manual").await?;
    let job = queue::view(&mut *scope.tx, scope.org.id, job_id)
        .await?
        .ok_or(ApiError::NotFound("sync job"))?;
    scope.commit().await?;
    if created {
        state.sync_wakeup.notify_waiters();
    }
    let status = if created {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(job)))
}

/// The integration's drift checks of its last 14 checked days, newest first: per
/// store-local day and metric, the provider's own total (Stripe's balance
/// transactions), Pulseboard's, the difference, whether it is above the warning
/// threshold (not zero, and over 0.5 % of the provider's value or any difference of
/// a count), and the records explaining it. Empty until a sync has checked a day.
#[utoipa::path(get, path = "/api/orgs/{org_slug}/integrations/{integration_id}/drift", tag = "sync",
    params(("org_slug" = String, Path), ("integration_id" = Uuid, Path)),
    responses((status = 200, body = [DriftCheck]), (status = 404, body = ErrorBody)))]
async fn drift_checks(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<Json<Vec<DriftCheck>>> {
    let (_, id) = path;
    db::integrations::get(&mut *scope.tx, scope.org.id, id)
        .await?
        .ok_or(ApiError::NotFound("integration"))?;
    let checks = drift::recent(&mut scope.tx, scope.org.id, id, 14).await?;
    scope.commit().await?;
    Ok(Json(checks))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Usage {
    plan: plans::Plan,
    stores: i64,
    integrations: i64,
    /// Metric events stored this calendar month (UTC).
    metric_events_this_month: i64,
}

/// The organization's plan, its caps, and current usage.
#[utoipa::path(get, path = "/api/orgs/{org_slug}/usage", tag = "sync",
    params(("org_slug" = String, Path)),
    responses((status = 200, body = Usage), (status = 404, body = ErrorBody)))]
async fn usage(mut scope: OrgScope) -> ApiResult<Json<Usage>> {
    let usage = db::usage::of_org(&mut *scope.tx, scope.org.id).await?;
    scope.commit().await?;
    Ok(Json(Usage {
        plan: plans::plan(&usage.plan),
        stores: usage.stores,
        integrations: usage.integrations,
        metric_events_this_month: usage.metric_events_this_month,
    }))
}

/// Only a caller with `Authorization: Bearer $PULSEBOARD_CRON_SECRET` may use the cron routes.
pub(super) fn check_cron_secret(state: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let Some(expected) = state.config.cron_secret.as_ref() else {
        return Err(ApiError::forbidden(
            "the cron routes are disabled: set PULSEBOARD_CRON_SECRET to enable them",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(crate::http::extract::bearer_token);
    // Comparing digests keeps the comparison time independent of the secret.
    match given {
        Some(given)
            if token_hash(given) == token_hash(secrecy::ExposeSecret::expose_secret(expected)) =>
        {
            Ok(())
        }
        _ => Err(ApiError::Unauthenticated),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CronResult {
    /// Jobs queued (enqueue) or run (run).
    count: u64,
    /// Jobs whose worker stopped responding, put back in the queue (enqueue only).
    requeued: u64,
}

/// Queue a sync for every due integration (never a duplicate) and requeue expired leases.
#[utoipa::path(post, path = "/api/cron/enqueue-syncs", tag = "sync",
    responses((status = 200, body = CronResult), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn cron_enqueue(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<CronResult>> {
    check_cron_secret(&state, &headers)?;
    let mut tx = state.db.bypass_tx(Bypass::Cron).await?;
    let requeued = queue::reap_expired(&mut *tx).await?;
    let count = queue::enqueue_due(&mut *tx).await?;
    tx.commit().await?;
    Ok(Json(CronResult { count, requeued }))
}

/// Run due sync jobs now, up to 20, in this request.
#[utoipa::path(post, path = "/api/cron/run-syncs", tag = "sync",
    responses((status = 200, body = CronResult), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn cron_run(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<CronResult>> {
    check_cron_secret(&state, &headers)?;
    let ran = runner::drain(&state, &format!("cron/{}", std::process::id()), 20).await?;
    Ok(Json(CronResult {
        count: ran as u64,
        requeued: 0,
    }))
}

//! The live revenue pulse over HTTP: a snapshot of today's events and the SSE stream
//! of the ones that follow (DESIGN §11, §12), and read-only share links of a store's
//! Pulse page (a launch-day screen on the office TV): managed by owners and admins,
//! opened anonymously by token at `/api/shared-pulse/{token}` and its `/live` stream.

use axum::{
    body::Body,
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use uuid::Uuid;

use super::{
    extract::{ApiJson, ApiPath, ApiQuery, OrgScope},
    AppState,
};
use crate::{
    db::{self, pulse_shares::PulseShare, webhooks::RevenueEvent, Bypass},
    domain::secrets::{new_token, token_hash},
    error::{ApiError, ApiResult, ErrorBody},
    live::Reader,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pulse))
        .routes(routes!(live))
        .routes(routes!(list_pulse_shares, create_pulse_share))
        .routes(routes!(revoke_pulse_share))
        .routes(routes!(shared_pulse))
        .routes(routes!(shared_live))
}

/// When today began in `timezone` (UTC when the zone is unknown).
fn today_start(timezone: &str) -> DateTime<Utc> {
    let tz: Tz = timezone.parse().unwrap_or(Tz::UTC);
    let today = Utc::now().with_timezone(&tz).date_naive();
    tz.from_local_datetime(&today.and_time(NaiveTime::MIN))
        .earliest()
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc))
}

/// The stream's starting point: a reconnecting browser's `Last-Event-ID`, else `after`.
fn resume_point(headers: &HeaderMap, after: Option<i64>) -> ApiResult<Option<i64>> {
    let resume = match headers.get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<i64>().ok())
                .filter(|v| *v >= 0)
                .ok_or_else(|| {
                    ApiError::validation("Last-Event-ID", "must be an event id from this stream")
                })?,
        ),
        None => None,
    };
    if after.is_some_and(|a| a < 0) {
        return Err(ApiError::validation("after", "must be 0 or more"));
    }
    Ok(resume.or(after))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Pulse {
    /// The newest event's sequence number: open the stream after it.
    pub last_seq: i64,
    /// The zone "today" is taken in (the organization's first store's).
    pub timezone: String,
    pub today_starts_at: DateTime<Utc>,
    /// Today's events, oldest first.
    pub events: Vec<RevenueEvent>,
}

/// Today's revenue events so far, and where the live stream continues from.
#[utoipa::path(get, path = "/api/orgs/{org_slug}/pulse", tag = "live", params(("org_slug" = String, Path)),
    responses((status = 200, body = Pulse), (status = 404, body = ErrorBody)))]
async fn pulse(mut scope: OrgScope) -> ApiResult<Json<Pulse>> {
    let stores = db::stores::list(&mut *scope.tx, scope.org.id, None).await?;
    let timezone = stores
        .first()
        .map_or_else(|| "UTC".to_owned(), |s| s.timezone.clone());
    let today_starts_at = today_start(&timezone);
    // The sequence first: an event committed between the two reads is then both in
    // the list and after `last_seq`, and the page ignores the repeat by its number.
    let last_seq = db::webhooks::last_seq(&mut *scope.tx, scope.org.id).await?;
    let events =
        db::webhooks::revenue_since(&mut *scope.tx, scope.org.id, None, today_starts_at).await?;
    scope.commit().await?;
    Ok(Json(Pulse {
        last_seq,
        timezone,
        today_starts_at,
        events,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LiveQuery {
    /// Start after this sequence number (the pulse's `last_seq`); a reconnecting
    /// browser's `Last-Event-ID` header takes precedence. Default: only new events.
    pub after: Option<i64>,
}

/// Server-sent events: `event: revenue`, `id:` the organization's sequence number,
/// `data:` a revenue event as JSON; batched about every 500 ms, with keep-alive
/// comments. Resume with `Last-Event-ID` to get exactly what was missed.
#[utoipa::path(get, path = "/api/orgs/{org_slug}/live", tag = "live", params(("org_slug" = String, Path), LiveQuery),
    responses((status = 200, description = "An event stream", content_type = "text/event-stream", body = String),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn live(
    State(state): State<AppState>,
    scope: OrgScope,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<LiveQuery>,
) -> ApiResult<Response> {
    let start = resume_point(&headers, query.after)?;
    let (org_id, user_id) = (scope.org.id, scope.user.id);
    let mut scope = scope;
    let after = match start {
        Some(after) => after,
        None => db::webhooks::last_seq(&mut *scope.tx, org_id).await?,
    };
    scope.commit().await?;
    Ok(event_stream(crate::live::stream(
        state,
        org_id,
        Reader::User(user_id),
        after,
    )))
}

/// A `text/event-stream` response of an already SSE-encoded stream (the live module
/// encodes each batch once for all its clients and sends heartbeats itself).
fn event_stream(
    body: impl futures_util::Stream<Item = axum::body::Bytes> + Send + 'static,
) -> Response {
    use futures_util::StreamExt;
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(body.map(Ok::<_, std::convert::Infallible>)),
    )
        .into_response()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePulseShare {
    /// The store whose sales the link shows.
    pub store_id: Uuid,
    /// When the link stops working; `null`: until it is revoked.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedPulseShare {
    #[serde(flatten)]
    pub share: PulseShare,
    /// Shown once: the link's secret.
    pub token: String,
    pub url: String,
}

/// The organization's Pulse share links, newest first (revoked and expired ones too).
#[utoipa::path(get, path = "/api/orgs/{org_slug}/pulse/shares", tag = "live", params(("org_slug" = String, Path)),
    responses((status = 200, body = [PulseShare]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_pulse_shares(mut scope: OrgScope) -> ApiResult<Json<Vec<PulseShare>>> {
    scope.require_admin()?;
    let shares = db::pulse_shares::list(&mut *scope.tx, scope.org.id).await?;
    scope.commit().await?;
    Ok(Json(shares))
}

/// A read-only link to a store's Pulse page (owners and admins).
#[utoipa::path(post, path = "/api/orgs/{org_slug}/pulse/shares", tag = "live", params(("org_slug" = String, Path)),
    request_body = CreatePulseShare,
    responses((status = 201, body = CreatedPulseShare), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_pulse_share(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiJson(body): ApiJson<CreatePulseShare>,
) -> ApiResult<(StatusCode, Json<CreatedPulseShare>)> {
    scope.require_admin()?;
    if body.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(ApiError::validation("expires_at", "must be in the future"));
    }
    db::stores::get(&mut *scope.tx, scope.org.id, body.store_id)
        .await?
        .ok_or_else(|| ApiError::validation("store_id", "name a store of this organization"))?;
    let token = new_token("pbp_");
    let share = db::pulse_shares::create(
        &mut *scope.tx,
        scope.org.id,
        body.store_id,
        &token_hash(&token),
        body.expires_at,
        scope.user.id,
    )
    .await?;
    scope
        .audit(
            "pulse.shared",
            "store",
            body.store_id,
            serde_json::json!({ "share_id": share.id }),
        )
        .await?;
    scope.commit().await?;
    let url = state.config.link(&format!("/shared-pulse/{token}"));
    Ok((
        StatusCode::CREATED,
        Json(CreatedPulseShare { share, token, url }),
    ))
}

/// Revokes a Pulse share link: its page and open streams stop showing anything.
#[utoipa::path(delete, path = "/api/orgs/{org_slug}/pulse/shares/{pulse_share_id}", tag = "live",
    params(("org_slug" = String, Path), ("pulse_share_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_pulse_share(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    scope.require_admin()?;
    let share_id = path.1;
    if !db::pulse_shares::revoke(&mut *scope.tx, scope.org.id, share_id).await? {
        return Err(ApiError::NotFound("share"));
    }
    scope
        .audit(
            "pulse.share_revoked",
            "pulse_share",
            share_id,
            serde_json::json!({}),
        )
        .await?;
    scope.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SharedPulse {
    /// The store whose sales these are.
    pub store_name: String,
    pub currency: String,
    pub timezone: String,
    pub today_starts_at: DateTime<Utc>,
    /// The newest event's sequence number: open the stream after it.
    pub last_seq: i64,
    /// Today's events of this store, oldest first (amounts, campaigns; no customers).
    pub events: Vec<RevenueEvent>,
}

/// The public Pulse page of a share link: the store's sales today. Revoked, expired
/// or unknown links are 404.
#[utoipa::path(get, path = "/api/shared-pulse/{token}", tag = "live", params(("token" = String, Path)), security(()),
    responses((status = 200, body = SharedPulse), (status = 404, body = ErrorBody)))]
async fn shared_pulse(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Json<SharedPulse>> {
    // The worker role, bounded by the link's own organization and store on every read.
    let mut tx = state.db.bypass_tx(Bypass::PublicShare).await?;
    let share = db::pulse_shares::find_live(&mut *tx, &token_hash(&token))
        .await?
        .ok_or(ApiError::NotFound("shared pulse"))?;
    let store = db::stores::get(&mut *tx, share.org_id, share.store_id)
        .await?
        .ok_or(ApiError::NotFound("shared pulse"))?;
    let today_starts_at = today_start(&store.timezone);
    // The sequence first, as on the members' page.
    let last_seq = db::webhooks::last_seq(&mut *tx, share.org_id).await?;
    let events =
        db::webhooks::revenue_since(&mut *tx, share.org_id, Some(store.id), today_starts_at)
            .await?;
    tx.commit().await?;
    Ok(Json(SharedPulse {
        store_name: store.name,
        currency: store.currency,
        timezone: store.timezone,
        today_starts_at,
        last_seq,
        events,
    }))
}

/// The share link's live stream: the members' stream (same events, ids and
/// `Last-Event-ID` resumption) limited to the link's store; it ends when the link is
/// revoked or expires.
#[utoipa::path(get, path = "/api/shared-pulse/{token}/live", tag = "live", params(("token" = String, Path), LiveQuery), security(()),
    responses((status = 200, description = "An event stream", content_type = "text/event-stream", body = String),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn shared_live(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<LiveQuery>,
) -> ApiResult<Response> {
    let start = resume_point(&headers, query.after)?;
    let mut tx = state.db.bypass_tx(Bypass::PublicShare).await?;
    let share = db::pulse_shares::find_live(&mut *tx, &token_hash(&token))
        .await?
        .ok_or(ApiError::NotFound("shared pulse"))?;
    let after = match start {
        Some(after) => after,
        None => db::webhooks::last_seq(&mut *tx, share.org_id).await?,
    };
    tx.commit().await?;
    let reader = Reader::Share {
        share_id: share.id,
        store_id: share.store_id,
    };
    Ok(event_stream(crate::live::stream(
        state,
        share.org_id,
        reader,
        after,
    )))
}

//! The live revenue pulse over HTTP: a snapshot of today's events and the SSE stream
//! of the ones that follow (DESIGN §11, §12).

use axum::{
    extract::State,
    http::HeaderMap,
    response::sse::{KeepAlive, Sse},
    Json,
};
use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    extract::{ApiQuery, OrgScope},
    AppState,
};
use crate::{
    db::{self, webhooks::RevenueEvent},
    error::{ApiError, ApiResult, ErrorBody},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pulse))
        .routes(routes!(live))
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
    let tz: Tz = timezone.parse().unwrap_or(Tz::UTC);
    let today = Utc::now().with_timezone(&tz).date_naive();
    let today_starts_at = tz
        .from_local_datetime(&today.and_time(NaiveTime::MIN))
        .earliest()
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc));
    // The sequence first: an event committed between the two reads is then both in
    // the list and after `last_seq`, and the page ignores the repeat by its number.
    let last_seq = db::webhooks::last_seq(&mut *scope.tx, scope.org.id).await?;
    let events = db::webhooks::revenue_since(&mut *scope.tx, scope.org.id, today_starts_at).await?;
    scope.commit().await?;
    Ok(Json(Pulse {
        last_seq,
        timezone,
        today_starts_at,
        events,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
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
) -> ApiResult<
    Sse<
        impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
    >,
> {
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
    if query.after.is_some_and(|a| a < 0) {
        return Err(ApiError::validation("after", "must be 0 or more"));
    }
    let (org_id, user_id) = (scope.org.id, scope.user.id);
    let mut scope = scope;
    let after = match resume.or(query.after) {
        Some(after) => after,
        None => db::webhooks::last_seq(&mut *scope.tx, org_id).await?,
    };
    scope.commit().await?;
    Ok(Sse::new(crate::live::stream(state, org_id, user_id, after))
        .keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15))))
}

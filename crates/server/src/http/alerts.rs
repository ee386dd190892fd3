//! Alert rules: owners and admins write them, members read them, viewers see none.
//! Each rule is checked against the catalog and its scope when saved (the same
//! checks a widget's query gets), and answers with its current evaluation.

use axum::{extract::State, http::StatusCode, Json};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    extract::{ApiJson, ApiPath, ApiQuery, OrgScope},
    field, AppState,
};
use crate::{
    alerts::{
        deliver,
        detect::ANOMALY_METHOD,
        evaluate,
        rule::{AlertKind, AlertPeriod, Rule},
    },
    db::{
        self,
        alerts::{AlertEvent, AlertFields, AlertRow, Preferences},
    },
    domain::{DisplayName, EmailAddress},
    error::{ApiError, ApiResult, ErrorBody},
    metrics::query::{Filter, Scope},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_alerts, create_alert))
        .routes(routes!(get_alert, replace_alert, delete_alert))
        .routes(routes!(test_alert))
        .routes(routes!(snooze_alert, unsnooze_alert))
        .routes(routes!(alert_history))
        .routes(routes!(recent_events))
        .routes(routes!(get_preferences, put_preferences))
}

/// How a rule stands, for its badge on the Alerts page.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Not evaluated yet (new or just edited).
    Pending,
    Ok,
    /// The condition held at the last evaluation.
    Triggered,
    /// Snoozed until `snoozed_until`: evaluated, never sent.
    Snoozed,
    /// The data behind it is missing or stale (`status_reason` says which source).
    Waiting,
    Disabled,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Alert {
    pub id: Uuid,
    pub name: String,
    /// A catalog metric, as in a widget query.
    pub metric: String,
    pub scope: Scope,
    pub filters: Vec<Filter>,
    pub period: AlertPeriod,
    pub kind: AlertKind,
    /// above/below: in the metric's unit (minor units, count, basis points);
    /// pct_change_* and pace: percent; anomaly: the sensitivity k.
    pub threshold: f64,
    /// pct_change_*: compare with the same period this many days earlier.
    pub compare_days: i32,
    pub recipient_user_ids: Vec<Uuid>,
    pub recipient_emails: Vec<String>,
    pub slack_channel_id: Option<Uuid>,
    pub cooldown_minutes: i32,
    pub snoozed_until: Option<DateTime<Utc>>,
    pub enabled: bool,
    pub dashboard_id: Option<Uuid>,
    pub status: AlertStatus,
    pub status_reason: Option<String>,
    /// The method in words (anomaly rules), for the UI's tooltip.
    pub method: Option<String>,
    pub last_value: Option<i64>,
    pub last_baseline: Option<i64>,
    /// The last 30 days at the last evaluation, oldest first.
    pub last_series: Vec<Option<i64>>,
    pub last_evaluated_at: Option<DateTime<Utc>>,
    pub last_triggered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn view(row: AlertRow, now: DateTime<Utc>) -> Alert {
    let status = if !row.enabled {
        AlertStatus::Disabled
    } else if row.snoozed_until.is_some_and(|t| t > now) {
        AlertStatus::Snoozed
    } else {
        match row.state.as_str() {
            "ok" => AlertStatus::Ok,
            "triggered" => AlertStatus::Triggered,
            "waiting" => AlertStatus::Waiting,
            _ => AlertStatus::Pending,
        }
    };
    Alert {
        id: row.id,
        name: row.name,
        metric: row.metric,
        scope: row.scope.0,
        filters: row.filters.0,
        period: AlertPeriod::parse(&row.period).unwrap_or(AlertPeriod::Yesterday),
        kind: AlertKind::parse(&row.kind).unwrap_or(AlertKind::Above),
        threshold: row.threshold,
        compare_days: row.compare_days,
        recipient_user_ids: row.recipient_user_ids,
        recipient_emails: row.recipient_emails,
        slack_channel_id: row.slack_channel_id,
        cooldown_minutes: row.cooldown_minutes,
        snoozed_until: row.snoozed_until,
        enabled: row.enabled,
        dashboard_id: row.dashboard_id,
        status,
        status_reason: row.state_reason,
        method: (row.kind == "anomaly").then(|| ANOMALY_METHOD.to_owned()),
        last_value: row.last_value,
        last_baseline: row.last_baseline,
        last_series: row.last_series.map(|s| s.0).unwrap_or_default(),
        last_evaluated_at: row.last_evaluated_at,
        last_triggered_at: row.last_triggered_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// Members read alerts; viewers (client-portal users) are shown only dashboards.
fn require_member(scope: &OrgScope) -> ApiResult<()> {
    if scope.role.can_write() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "viewers see the dashboards shared with them, not alerts",
        ))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertRequest {
    #[schema(value_type = crate::domain::DisplayName)]
    pub name: String,
    pub metric: String,
    pub scope: Scope,
    #[serde(default)]
    pub filters: Vec<Filter>,
    /// Defaults to `today` for pace rules and `yesterday` otherwise.
    pub period: Option<AlertPeriod>,
    pub kind: AlertKind,
    pub threshold: f64,
    /// Defaults to 7.
    #[schema(minimum = 1, maximum = 365)]
    pub compare_days: Option<u16>,
    /// Members to mail. With no recipient and no Slack channel, the rule mails its creator.
    #[serde(default)]
    pub recipient_user_ids: Vec<Uuid>,
    /// Outside addresses to mail (up to 20).
    #[serde(default)]
    #[schema(value_type = Vec<crate::domain::EmailAddress>)]
    #[schema(max_items = 20)]
    pub recipient_emails: Vec<String>,
    pub slack_channel_id: Option<Uuid>,
    /// Minimum time between two firings; defaults to 24 hours.
    #[schema(maximum = 43200)]
    pub cooldown_minutes: Option<u32>,
    pub enabled: Option<bool>,
    /// The dashboard it was created from, linked from its messages.
    pub dashboard_id: Option<Uuid>,
}

struct Checked {
    name: DisplayName,
    rule: Rule,
    recipient_user_ids: Vec<Uuid>,
    recipient_emails: Vec<String>,
    cooldown_minutes: i32,
}

/// Validates a request against the catalog, the organization's stores, members,
/// dashboards and channels.
async fn check(state: &AppState, scope: &mut OrgScope, body: &AlertRequest) -> ApiResult<Checked> {
    let name = field("name", DisplayName::parse(&body.name))?;
    let period = body.period.unwrap_or(match body.kind {
        AlertKind::Pace => AlertPeriod::Today,
        _ => AlertPeriod::Yesterday,
    });
    let rule = Rule {
        metric: body.metric.clone(),
        scope: body.scope.clone(),
        filters: body.filters.clone(),
        period,
        kind: body.kind,
        threshold: body.threshold,
        compare_days: body.compare_days.unwrap_or(7),
    };
    if !(1..=365).contains(&rule.compare_days) {
        return Err(ApiError::validation("compare_days", "between 1 and 365"));
    }
    let queries = rule.queries(&state.providers)?;
    // The scope must resolve to this organization's stores, as a widget's must.
    crate::metrics::engine::run(&mut scope.tx, scope.org.id, &queries.current, Utc::now()).await?;

    let mut recipient_user_ids = body.recipient_user_ids.clone();
    recipient_user_ids.sort();
    recipient_user_ids.dedup();
    if !recipient_user_ids.is_empty() {
        let members =
            db::alerts::members(&mut *scope.tx, scope.org.id, Some(&recipient_user_ids)).await?;
        let eligible = members.iter().filter(|m| m.role != "viewer").count();
        if eligible != recipient_user_ids.len() {
            return Err(ApiError::validation(
                "recipient_user_ids",
                "name members of this organization (viewers cannot receive alerts)",
            ));
        }
    }
    if body.recipient_emails.len() > 20 {
        return Err(ApiError::validation(
            "recipient_emails",
            "at most 20 addresses",
        ));
    }
    let mut recipient_emails = Vec::new();
    for raw in &body.recipient_emails {
        let email = field("recipient_emails", EmailAddress::parse(raw))?;
        if !recipient_emails.contains(&email.as_str().to_owned()) {
            recipient_emails.push(email.as_str().to_owned());
        }
    }
    if let Some(channel) = body.slack_channel_id {
        if !db::slack::exists(&mut *scope.tx, scope.org.id, channel).await? {
            return Err(ApiError::validation(
                "slack_channel_id",
                "no such Slack channel in this organization",
            ));
        }
    }
    if recipient_user_ids.is_empty()
        && recipient_emails.is_empty()
        && body.slack_channel_id.is_none()
    {
        recipient_user_ids.push(scope.user.id);
    }
    if let Some(dashboard) = body.dashboard_id {
        if db::dashboards::get(&mut *scope.tx, scope.org.id, dashboard)
            .await?
            .is_none()
        {
            return Err(ApiError::validation("dashboard_id", "no such dashboard"));
        }
    }
    let cooldown_minutes = body.cooldown_minutes.unwrap_or(1440);
    if cooldown_minutes > 43_200 {
        return Err(ApiError::validation(
            "cooldown_minutes",
            "at most 30 days (43200 minutes)",
        ));
    }
    Ok(Checked {
        name,
        rule,
        recipient_user_ids,
        recipient_emails,
        cooldown_minutes: cooldown_minutes as i32,
    })
}

fn fields<'a>(c: &'a Checked, body: &AlertRequest) -> AlertFields<'a> {
    AlertFields {
        name: c.name.as_str(),
        metric: &c.rule.metric,
        scope: &c.rule.scope,
        filters: &c.rule.filters,
        period: c.rule.period.as_str(),
        kind: c.rule.kind.as_str(),
        threshold: c.rule.threshold,
        compare_days: i32::from(c.rule.compare_days),
        recipient_user_ids: &c.recipient_user_ids,
        recipient_emails: &c.recipient_emails,
        slack_channel_id: body.slack_channel_id,
        cooldown_minutes: c.cooldown_minutes,
        enabled: body.enabled.unwrap_or(true),
        dashboard_id: body.dashboard_id,
    }
}

async fn load(scope: &mut OrgScope, id: Uuid) -> ApiResult<AlertRow> {
    db::alerts::get(&mut *scope.tx, scope.org.id, id)
        .await?
        .ok_or(ApiError::NotFound("alert"))
}

/// Every alert rule of the organization with its last evaluation.
#[utoipa::path(get, path = "/api/orgs/{org_slug}/alerts", tag = "alerts", params(("org_slug" = String, Path)),
    responses((status = 200, body = [Alert]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_alerts(mut scope: OrgScope) -> ApiResult<Json<Vec<Alert>>> {
    require_member(&scope)?;
    let rows = db::alerts::list(&mut *scope.tx, scope.org.id).await?;
    scope.commit().await?;
    let now = Utc::now();
    Ok(Json(rows.into_iter().map(|r| view(r, now)).collect()))
}

#[utoipa::path(post, path = "/api/orgs/{org_slug}/alerts", tag = "alerts", params(("org_slug" = String, Path)),
    request_body = AlertRequest,
    responses((status = 201, body = Alert), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_alert(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiJson(body): ApiJson<AlertRequest>,
) -> ApiResult<(StatusCode, Json<Alert>)> {
    scope.require_admin()?;
    let checked = check(&state, &mut scope, &body).await?;
    let row = db::alerts::insert(
        &mut *scope.tx,
        scope.org.id,
        scope.user.id,
        &fields(&checked, &body),
    )
    .await?;
    scope
        .audit(
            "alert.created",
            "alert",
            row.id,
            serde_json::json!({ "name": row.name }),
        )
        .await?;
    scope.commit().await?;
    Ok((StatusCode::CREATED, Json(view(row, Utc::now()))))
}

#[utoipa::path(get, path = "/api/orgs/{org_slug}/alerts/{alert_id}", tag = "alerts",
    params(("org_slug" = String, Path), ("alert_id" = Uuid, Path)),
    responses((status = 200, body = Alert), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_alert(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<Json<Alert>> {
    let id = path.1;
    require_member(&scope)?;
    let row = load(&mut scope, id).await?;
    scope.commit().await?;
    Ok(Json(view(row, Utc::now())))
}

/// Replaces a rule's settings. Its state starts over, so the edited rule may fire
/// for the current period even if the old one already did.
#[utoipa::path(put, path = "/api/orgs/{org_slug}/alerts/{alert_id}", tag = "alerts",
    params(("org_slug" = String, Path), ("alert_id" = Uuid, Path)), request_body = AlertRequest,
    responses((status = 200, body = Alert), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn replace_alert(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
    ApiJson(body): ApiJson<AlertRequest>,
) -> ApiResult<Json<Alert>> {
    let id = path.1;
    scope.require_admin()?;
    load(&mut scope, id).await?;
    let checked = check(&state, &mut scope, &body).await?;
    let row = db::alerts::update(&mut *scope.tx, scope.org.id, id, &fields(&checked, &body))
        .await?
        .ok_or(ApiError::NotFound("alert"))?;
    scope
        .audit("alert.updated", "alert", id, serde_json::json!({}))
        .await?;
    scope.commit().await?;
    Ok(Json(view(row, Utc::now())))
}

#[utoipa::path(delete, path = "/api/orgs/{org_slug}/alerts/{alert_id}", tag = "alerts",
    params(("org_slug" = String, Path), ("alert_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_alert(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    let id = path.1;
    scope.require_admin()?;
    if !db::alerts::delete(&mut *scope.tx, scope.org.id, id).await? {
        return Err(ApiError::NotFound("alert"));
    }
    scope
        .audit("alert.deleted", "alert", id, serde_json::json!({}))
        .await?;
    scope.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TestSent {
    /// Where the sample went (the caller), plus the rule's Slack channel if it has one.
    pub sent_to: String,
    /// What the rule would conclude right now.
    pub status: String,
    pub status_reason: Option<String>,
    pub value: Option<i64>,
}

/// Sends the caller a sample of this rule's message with today's numbers, whether or
/// not it would fire; nothing is recorded in its history.
#[utoipa::path(post, path = "/api/orgs/{org_slug}/alerts/{alert_id}/test", tag = "alerts",
    params(("org_slug" = String, Path), ("alert_id" = Uuid, Path)),
    responses((status = 202, body = TestSent), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn test_alert(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<(StatusCode, Json<TestSent>)> {
    let id = path.1;
    scope.require_admin()?;
    let row = load(&mut scope, id).await?;
    let now = Utc::now();
    let (judgement, current, history) = evaluate::preview(&state, &mut scope.tx, &row, now).await?;
    let occasion = deliver::Occasion {
        judgement: &judgement,
        current: &current,
        history: &history,
        now,
        test: true,
    };
    let address = scope.user.email.clone();
    deliver::enqueue_test(
        &state,
        &mut scope.tx,
        &row,
        &occasion,
        scope.user.id,
        &address,
    )
    .await
    .map_err(ApiError::Internal)?;
    scope.commit().await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(TestSent {
            sent_to: address,
            status: judgement.state.to_owned(),
            status_reason: judgement.reason,
            value: judgement.value,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SnoozeRequest {
    /// How long, in hours (1 to 720); defaults to 24.
    #[schema(minimum = 1, maximum = 720)]
    pub hours: Option<u32>,
}

/// Keeps evaluating the rule but sends nothing until the snooze ends.
#[utoipa::path(post, path = "/api/orgs/{org_slug}/alerts/{alert_id}/snooze", tag = "alerts",
    params(("org_slug" = String, Path), ("alert_id" = Uuid, Path)), request_body = SnoozeRequest,
    responses((status = 200, body = Alert), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn snooze_alert(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
    ApiJson(body): ApiJson<SnoozeRequest>,
) -> ApiResult<Json<Alert>> {
    let id = path.1;
    scope.require_admin()?;
    let hours = body.hours.unwrap_or(24);
    if !(1..=720).contains(&hours) {
        return Err(ApiError::validation("hours", "between 1 and 720"));
    }
    let until = Utc::now() + Duration::hours(i64::from(hours));
    let row = db::alerts::set_snooze(&mut *scope.tx, scope.org.id, id, Some(until))
        .await?
        .ok_or(ApiError::NotFound("alert"))?;
    scope
        .audit(
            "alert.snoozed",
            "alert",
            id,
            serde_json::json!({ "until": until }),
        )
        .await?;
    scope.commit().await?;
    Ok(Json(view(row, Utc::now())))
}

#[utoipa::path(delete, path = "/api/orgs/{org_slug}/alerts/{alert_id}/snooze", tag = "alerts",
    params(("org_slug" = String, Path), ("alert_id" = Uuid, Path)),
    responses((status = 200, body = Alert), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn unsnooze_alert(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<Json<Alert>> {
    let id = path.1;
    scope.require_admin()?;
    let row = db::alerts::set_snooze(&mut *scope.tx, scope.org.id, id, None)
        .await?
        .ok_or(ApiError::NotFound("alert"))?;
    scope
        .audit("alert.unsnoozed", "alert", id, serde_json::json!({}))
        .await?;
    scope.commit().await?;
    Ok(Json(view(row, Utc::now())))
}

/// A rule's firings, newest first.
#[utoipa::path(get, path = "/api/orgs/{org_slug}/alerts/{alert_id}/events", tag = "alerts",
    params(("org_slug" = String, Path), ("alert_id" = Uuid, Path)),
    responses((status = 200, body = [AlertEvent]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn alert_history(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<Json<Vec<AlertEvent>>> {
    let id = path.1;
    require_member(&scope)?;
    load(&mut scope, id).await?;
    let events = db::alerts::events(&mut *scope.tx, scope.org.id, Some(id), None, 200).await?;
    scope.commit().await?;
    Ok(Json(events))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RecentQuery {
    /// At most this many (1 to 200); defaults to 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// Every rule's firings, newest first.
#[utoipa::path(get, path = "/api/orgs/{org_slug}/alert-events", tag = "alerts",
    params(("org_slug" = String, Path), RecentQuery),
    responses((status = 200, body = [AlertEvent]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn recent_events(
    mut scope: OrgScope,
    ApiQuery(query): ApiQuery<RecentQuery>,
) -> ApiResult<Json<Vec<AlertEvent>>> {
    require_member(&scope)?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::validation("limit", "between 1 and 200"));
    }
    let events = db::alerts::events(&mut *scope.tx, scope.org.id, None, None, limit).await?;
    scope.commit().await?;
    Ok(Json(events))
}

/// The caller's mail choices in this organization.
#[utoipa::path(get, path = "/api/orgs/{org_slug}/notifications", tag = "alerts", params(("org_slug" = String, Path)),
    responses((status = 200, body = Preferences), (status = 404, body = ErrorBody)))]
async fn get_preferences(mut scope: OrgScope) -> ApiResult<Json<Preferences>> {
    let prefs = db::alerts::preferences(&mut *scope.tx, scope.org.id, scope.user.id).await?;
    scope.commit().await?;
    Ok(Json(prefs))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesRequest {
    pub digest: bool,
    pub digest_everything: bool,
    pub alert_mail: bool,
}

#[utoipa::path(put, path = "/api/orgs/{org_slug}/notifications", tag = "alerts", params(("org_slug" = String, Path)),
    request_body = PreferencesRequest,
    responses((status = 200, body = Preferences), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_preferences(
    mut scope: OrgScope,
    ApiJson(body): ApiJson<PreferencesRequest>,
) -> ApiResult<Json<Preferences>> {
    let prefs = Preferences {
        digest: body.digest,
        digest_everything: body.digest_everything,
        alert_mail: body.alert_mail,
    };
    db::alerts::save_preferences(&mut *scope.tx, scope.org.id, scope.user.id, &prefs).await?;
    scope.commit().await?;
    Ok(Json(prefs))
}

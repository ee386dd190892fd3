//! What reaches people outside the app: the cron routes that check alerts and send
//! the digest, the digest preview, and the signed links in mail (one-click
//! unsubscribe per RFC 8058, snooze for 24 h). The links act only on POST; a GET
//! shows a page with a button and changes nothing, because mail scanners and link
//! previewers fetch every URL in a message.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Html,
    Json,
};
use chrono::{Duration, Utc};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    extract::{ApiPath, OrgScope},
    sync::check_cron_secret,
    AppState,
};
use crate::{
    alerts::evaluate::{self, PassReport},
    db::{self, Bypass},
    digest::{self, Digest, DigestReport},
    error::{ApiError, ApiResult, ErrorBody},
    notify::links::{Action, Link, Recipient},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(cron_check_alerts))
        .routes(routes!(cron_weekly_digest))
        .routes(routes!(digest_preview))
        .routes(routes!(unsubscribe_page, unsubscribe))
        .routes(routes!(snooze_page, snooze))
}

/// Evaluate every alert rule of every organization now (the scheduler does this
/// hourly). Safe to call any number of times: each crossing fires once.
#[utoipa::path(post, path = "/api/cron/check-alerts", tag = "alerts",
    responses((status = 200, body = PassReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn cron_check_alerts(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<PassReport>> {
    check_cron_secret(&state, &headers)?;
    let report = evaluate::check_all(&state, Utc::now())
        .await
        .map_err(ApiError::Internal)?;
    Ok(Json(report))
}

/// Send this ISO week's digest to every member who has not had it (the scheduler
/// does this Mondays at 09:00 UTC). Reruns send nothing twice.
#[utoipa::path(post, path = "/api/cron/weekly-digest", tag = "alerts",
    responses((status = 200, body = DigestReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn cron_weekly_digest(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<DigestReport>> {
    check_cron_secret(&state, &headers)?;
    let report = digest::send_weekly(&state, Utc::now())
        .await
        .map_err(ApiError::Internal)?;
    Ok(Json(report))
}

/// This week's digest as the caller would receive it (owners and admins).
#[utoipa::path(get, path = "/api/orgs/{org_slug}/digest/preview", tag = "alerts", params(("org_slug" = String, Path)),
    responses((status = 200, body = Digest), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn digest_preview(
    State(state): State<AppState>,
    mut scope: OrgScope,
) -> ApiResult<Json<Digest>> {
    scope.require_admin()?;
    let prefs = db::alerts::preferences(&mut *scope.tx, scope.org.id, scope.user.id).await?;
    let composed = digest::compose(
        &state,
        &mut scope.tx,
        scope.org.id,
        scope.user.id,
        &scope.user.name,
        prefs.digest_everything,
        Utc::now(),
        true,
    )
    .await
    .map_err(ApiError::Internal)?;
    scope.commit().await?;
    let (digest, _) = composed.ok_or(ApiError::NotFound("digest"))?;
    Ok(Json(digest))
}

fn verified(state: &AppState, token: &str) -> ApiResult<Link> {
    Link::verify(&state.vault, token).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_link",
            "this link is not valid: it may have been altered or cut short",
        )
    })
}

/// A small self-contained page: a sentence and, before acting, one button.
fn page(title: &str, message: &str, button: Option<&str>) -> Html<String> {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let form = button
        .map(|label| {
            format!(
                "<form method=\"post\"><button type=\"submit\">{}</button></form>",
                escape(label)
            )
        })
        .unwrap_or_default();
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\"><title>{t} · Pulseboard</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}}\
         button{{background:#1D9E75;color:#fff;border:0;border-radius:.375rem;padding:.6rem 1.1rem;font-size:1rem;cursor:pointer}}\
         p{{color:#6B7280}}</style></head>\
         <body><h1>{t}</h1><p>{m}</p>{form}</body></html>",
        t = escape(title),
        m = escape(message),
    ))
}

fn what(link: &Link) -> &'static str {
    match link.action {
        Action::UnsubscribeDigest => "the weekly digest",
        Action::UnsubscribeAlerts => "alert emails",
        Action::Snooze(_) => "this alert",
    }
}

/// The confirmation page of an unsubscribe link; changes nothing.
#[utoipa::path(get, path = "/api/mail/unsubscribe/{token}", tag = "alerts", params(("token" = String, Path)), security(()),
    responses((status = 200, description = "A page with a confirmation button", content_type = "text/html", body = String),
        (status = 400, body = ErrorBody)))]
async fn unsubscribe_page(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Html<String>> {
    let link = verified(&state, &token)?;
    if matches!(link.action, Action::Snooze(_)) {
        return Err(ApiError::bad_request(
            "invalid_link",
            "this is not an unsubscribe link",
        ));
    }
    Ok(page(
        "Unsubscribe",
        &format!("Stop receiving {} from this organization?", what(&link)),
        Some("Unsubscribe"),
    ))
}

/// Unsubscribes (RFC 8058 one-click: mail providers POST `List-Unsubscribe=One-Click`).
#[utoipa::path(post, path = "/api/mail/unsubscribe/{token}", tag = "alerts", params(("token" = String, Path)), security(()),
    responses((status = 200, description = "Done", content_type = "text/html", body = String), (status = 400, body = ErrorBody)))]
async fn unsubscribe(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Html<String>> {
    let link = verified(&state, &token)?;
    let mut tx = state.db.bypass_tx(Bypass::MailLink).await?;
    match (&link.recipient, link.action) {
        (Recipient::Member(user), Action::UnsubscribeDigest) => {
            db::alerts::unsubscribe(&mut *tx, link.org_id, *user, true).await?
        }
        (Recipient::Member(user), Action::UnsubscribeAlerts) => {
            db::alerts::unsubscribe(&mut *tx, link.org_id, *user, false).await?
        }
        (Recipient::Address(email), Action::UnsubscribeAlerts) => {
            db::alerts::remove_address(&mut *tx, link.org_id, email).await?
        }
        _ => {
            return Err(ApiError::bad_request(
                "invalid_link",
                "this is not an unsubscribe link",
            ))
        }
    }
    tx.commit().await?;
    Ok(page(
        "Unsubscribed",
        &format!(
            "You will no longer receive {}. You can turn it back on in your notification settings.",
            what(&link)
        ),
        None,
    ))
}

/// The confirmation page of a snooze link; changes nothing.
#[utoipa::path(get, path = "/api/mail/snooze/{token}", tag = "alerts", params(("token" = String, Path)), security(()),
    responses((status = 200, description = "A page with a confirmation button", content_type = "text/html", body = String),
        (status = 400, body = ErrorBody)))]
async fn snooze_page(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Html<String>> {
    let link = verified(&state, &token)?;
    if !matches!(link.action, Action::Snooze(_)) {
        return Err(ApiError::bad_request(
            "invalid_link",
            "this is not a snooze link",
        ));
    }
    Ok(page(
        "Snooze this alert",
        "Stop this alert's messages for the next 24 hours? It keeps being checked.",
        Some("Snooze for 24 hours"),
    ))
}

/// Snoozes the rule for 24 hours.
#[utoipa::path(post, path = "/api/mail/snooze/{token}", tag = "alerts", params(("token" = String, Path)), security(()),
    responses((status = 200, description = "Done", content_type = "text/html", body = String), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn snooze(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<(StatusCode, Html<String>)> {
    let link = verified(&state, &token)?;
    let Action::Snooze(alert_id) = link.action else {
        return Err(ApiError::bad_request(
            "invalid_link",
            "this is not a snooze link",
        ));
    };
    let until = Utc::now() + Duration::hours(24);
    let mut tx = state.db.bypass_tx(Bypass::MailLink).await?;
    db::alerts::set_snooze(&mut *tx, link.org_id, alert_id, Some(until))
        .await?
        .ok_or(ApiError::NotFound("alert"))?;
    tx.commit().await?;
    Ok((
        StatusCode::OK,
        page(
            "Snoozed",
            &format!(
                "This alert sends nothing until {} UTC.",
                until.format("%a %b %-d, %H:%M")
            ),
            None,
        ),
    ))
}

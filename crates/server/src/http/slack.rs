//! Slack channels: incoming-webhook URLs that alerts and digests post to. The URL
//! is a secret (anyone holding it can post to the channel): it is encrypted by
//! the vault on the way in and never shown again, only a masked hint.

use axum::{extract::State, http::StatusCode, Json};
use serde::Deserialize;
use url::Url;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    extract::{ApiJson, ApiPath, OrgScope},
    field, AppState,
};
use crate::{
    db::{
        self,
        slack::{NewChannel, SlackChannel, WEBHOOK_FIELD},
    },
    domain::{DisplayName, OrgRole},
    error::{ApiError, ApiResult, ErrorBody},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_slack_channels, create_slack_channel))
        .routes(routes!(delete_slack_channel))
}

/// Viewers see nothing of the channels (not even their names).
fn require_member(scope: &OrgScope) -> ApiResult<()> {
    if scope.role == OrgRole::Viewer {
        Err(ApiError::forbidden("viewers cannot see Slack channels"))
    } else {
        Ok(())
    }
}

/// The organization's Slack channels (members, owners and admins). Webhook URLs
/// are never returned, only a hint such as `…/T000/B000/****`.
#[utoipa::path(get, path = "/api/orgs/{org_slug}/slack-channels", tag = "slack",
    params(("org_slug" = String, Path)),
    responses((status = 200, body = [SlackChannel]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_slack_channels(mut scope: OrgScope) -> ApiResult<Json<Vec<SlackChannel>>> {
    require_member(&scope)?;
    let channels = db::slack::list_channels(&mut *scope.tx, scope.org.id).await?;
    scope.commit().await?;
    Ok(Json(channels))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlackChannelRequest {
    /// What people call the channel, e.g. `#growth`.
    #[schema(value_type = crate::domain::DisplayName)]
    name: String,
    /// The channel's incoming-webhook URL (`https://hooks.slack.com/services/…`).
    webhook_url: String,
}

/// Add a Slack channel by its incoming-webhook URL (owners and admins).
#[utoipa::path(post, path = "/api/orgs/{org_slug}/slack-channels", tag = "slack",
    params(("org_slug" = String, Path)), request_body = SlackChannelRequest,
    responses((status = 201, body = SlackChannel), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_slack_channel(
    State(state): State<AppState>,
    mut scope: OrgScope,
    ApiJson(body): ApiJson<SlackChannelRequest>,
) -> ApiResult<(StatusCode, Json<SlackChannel>)> {
    scope.require_admin()?;
    let name = field("name", DisplayName::parse(&body.name))?;
    let url = field(
        "webhook_url",
        parse_webhook_url(&body.webhook_url, &state.config.slack.webhook_url_prefixes),
    )?;
    let id = Uuid::new_v4();
    let sealed = state.vault.encrypt(id, WEBHOOK_FIELD, url.as_str());
    let channel = db::slack::create_channel(
        &mut *scope.tx,
        scope.org.id,
        NewChannel {
            id,
            name: name.as_str(),
            webhook_ciphertext: &sealed,
            webhook_hint: &hint(&url),
        },
    )
    .await?;
    scope
        .audit(
            "slack_channel.created",
            "slack_channel",
            id,
            serde_json::json!({ "name": channel.name, "webhook": channel.webhook_hint }),
        )
        .await?;
    scope.commit().await?;
    Ok((StatusCode::CREATED, Json(channel)))
}

/// Remove a Slack channel and its undelivered messages (owners and admins).
#[utoipa::path(delete, path = "/api/orgs/{org_slug}/slack-channels/{slack_channel_id}", tag = "slack",
    params(("org_slug" = String, Path), ("slack_channel_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_slack_channel(
    mut scope: OrgScope,
    ApiPath(path): ApiPath<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    let (_, id) = path;
    require_member(&scope)?;
    scope.require_admin()?;
    if !db::slack::delete_channel(&mut *scope.tx, scope.org.id, id).await? {
        return Err(ApiError::NotFound("Slack channel"));
    }
    scope
        .audit(
            "slack_channel.deleted",
            "slack_channel",
            id,
            serde_json::json!({}),
        )
        .await?;
    scope.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A webhook URL that starts with one of the allowed prefixes
/// (`https://hooks.slack.com/` unless configured otherwise), without credentials,
/// query or fragment. Comparing the parsed, normalised URL keeps
/// `https://hooks.slack.com.evil.example/` and `https://hooks.slack.com@evil/` out.
fn parse_webhook_url(raw: &str, prefixes: &[String]) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|_| "must be a URL".to_owned())?;
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err("must be a plain incoming-webhook URL".into());
    }
    if !prefixes
        .iter()
        .any(|prefix| url.as_str().starts_with(prefix))
    {
        return Err(format!(
            "must be a Slack incoming-webhook URL starting with {}",
            prefixes.join(" or ")
        ));
    }
    if url.path_segments().map_or(0, |s| s.count()) < 2 {
        return Err("must name a webhook".into());
    }
    Ok(url)
}

/// `…/T000/B000/****`: the last path segment is the secret, the two before it
/// (workspace and bot ids) help people tell channels apart.
fn hint(url: &Url) -> String {
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let shown = segments.len().saturating_sub(1);
    let start = shown.saturating_sub(2);
    let mut hint = String::from("…");
    for segment in &segments[start..shown] {
        hint.push('/');
        hint.push_str(segment);
    }
    hint.push_str("/****");
    hint
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slack() -> Vec<String> {
        vec!["https://hooks.slack.com/".into()]
    }

    #[test]
    fn only_allowed_prefixes_pass() {
        let ok = parse_webhook_url(
            "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
            &slack(),
        )
        .unwrap();
        assert_eq!(hint(&ok), "…/T000/B000/****");
        for bad in [
            "http://hooks.slack.com/services/T/B/X",
            "https://hooks.slack.com.evil.example/services/T/B/X",
            "https://hooks.slack.com@evil.example/services/T/B/X",
            "https://user:pw@hooks.slack.com/services/T/B/X",
            "https://hooks.slack.com/services/T/B/X?x=1",
            "https://evil.example/https://hooks.slack.com/",
            "https://hooks.slack.com/",
            "not a url",
        ] {
            assert!(parse_webhook_url(bad, &slack()).is_err(), "{bad}");
        }
        let sim = vec!["http://127.0.0.1:4010/slack/".to_owned()];
        assert!(parse_webhook_url("http://127.0.0.1:4010/slack/services/T/B/X", &sim).is_ok());
        assert!(parse_webhook_url("http://127.0.0.1:4010/stripe/x/y", &sim).is_err());
    }
}

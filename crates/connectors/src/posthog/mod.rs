//! PostHog: a personal API key (`phx_…`), a project id and the host the project
//! lives on (US cloud, EU cloud or self-hosted), all typed in by the user.
//!
//! Endpoints used, on the connection's own host: `GET /api/projects/{id}/` (checks
//! the key, names the project and its time zone) and `POST /api/projects/{id}/query/`
//! with a HogQL query (daily counts, see `sync.rs`). Both take the key as a bearer
//! token. Errors come as `{"type", "code", "detail", "attr"}`; a 429 carries
//! `Retry-After` (HogQL queries are limited per key, 120 an hour by default).

mod catalog;
pub mod config;
mod derive;
mod host;
mod sync;

pub use catalog::POSTHOG_METRICS;
pub use config::PosthogConfig;
pub use host::{parse_project_id, validate_posthog_key, PosthogHost};

use std::{collections::BTreeMap, sync::Arc};

use async_trait::async_trait;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use crate::{
    catalog::{AuthKind, KeyField, OptionField, OptionKind, ProviderInfo},
    config::HttpConfig,
    options::{check_declared, IntegrationOptions, OptionError},
    provider::{AccountInfo, Provider},
    registry::ProviderDef,
    support::error::{redact, ConnectorError, OAuthError},
    support::http::{Http, Response},
};

/// PostHog in the registry.
pub const PROVIDER: ProviderDef = ProviderDef {
    id: "posthog",
    env_prefix: "POSTHOG",
    settings: config::SETTINGS,
    build: |settings, http| {
        let config = PosthogConfig::from_settings(settings)?;
        Ok(Arc::new(PosthogProvider::new(&config, http)?))
    },
};

/// The field names of `test_api_key`'s map.
pub const POSTHOG_API_KEY_FIELD: &str = "api_key";
pub const POSTHOG_PROJECT_ID_FIELD: &str = "project_id";
pub const POSTHOG_HOST_FIELD: &str = "host";
/// The options an integration takes: the events it counts (up to
/// [`MAX_PICKED_EVENTS`]) and the property their counts are broken down by.
pub const POSTHOG_EVENTS_OPTION: &str = "events";
pub const POSTHOG_BREAKDOWN_OPTION: &str = "breakdown_property";
pub const MAX_PICKED_EVENTS: u32 = 10;
/// Longest event or property name accepted (PostHog's are far shorter in practice).
const MAX_NAME_LEN: usize = 200;

/// A picked event or property name: any printable text (it is quoted as a HogQL
/// string literal, never pasted into the query).
fn check_name(field: &str, name: &str) -> Result<(), OptionError> {
    if name.chars().count() > MAX_NAME_LEN {
        return Err(OptionError::new(field, format!("{name:.40}… is longer than {MAX_NAME_LEN} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(OptionError::new(field, "names cannot contain control characters"));
    }
    Ok(())
}

/// The PostHog provider.
#[derive(Debug, Clone)]
pub struct PosthogProvider {
    config: PosthogConfig,
    http: Http,
}

/// The parts of `GET /api/projects/{id}/` Pulseboard uses.
#[derive(Deserialize)]
struct Project {
    id: u64,
    name: Option<String>,
    timezone: Option<String>,
}

/// PostHog's error message (`detail`), scrubbed of what we sent, or the status line.
pub(crate) fn posthog_message(response: &Response, secrets: &[&str]) -> String {
    serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|body| body.get("detail").and_then(Value::as_str).map(str::to_owned))
        .map(|detail| redact(&detail, secrets))
        .unwrap_or_else(|| format!("HTTP {}", response.status))
}

impl PosthogProvider {
    pub fn new(config: &PosthogConfig, http: &HttpConfig) -> Result<Self, ConnectorError> {
        Ok(Self {
            config: config.clone(),
            http: Http::new(http)?,
        })
    }

    /// `GET /api/projects/{id}/` with the key.
    async fn project(
        &self,
        host: &PosthogHost,
        project_id: u64,
        key: &str,
    ) -> Result<Project, ConnectorError> {
        let request = self
            .http
            .get(host.url(&format!("api/projects/{project_id}/")))
            .bearer_auth(key);
        let response = self.http.send(request).await?;
        match response.status {
            StatusCode::UNAUTHORIZED => {
                return Err(ConnectorError::Unauthorized(posthog_message(&response, &[key])))
            }
            StatusCode::FORBIDDEN => {
                return Err(ConnectorError::Unauthorized(format!(
                    "{} (the key needs read access to project {project_id})",
                    posthog_message(&response, &[key])
                )))
            }
            StatusCode::NOT_FOUND => {
                return Err(ConnectorError::InvalidInput(format!(
                    "{} has no project {project_id} (or this key cannot see it).",
                    host.as_str()
                )))
            }
            status if !status.is_success() && status != StatusCode::TOO_MANY_REQUESTS && !status.is_server_error() => {
                return Err(ConnectorError::Provider(OAuthError::Rejected(posthog_message(
                    &response,
                    &[key],
                ))))
            }
            _ => {}
        }
        let project: Project = response
            .success(&[key])?
            .json("PostHog's project endpoint")?;
        if project.id != project_id {
            return Err(ConnectorError::Provider(OAuthError::Rejected(format!(
                "PostHog answered for project {} when asked for {project_id}",
                project.id
            ))));
        }
        Ok(project)
    }
}

fn field<'a>(fields: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    fields.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

#[async_trait]
impl Provider for PosthogProvider {
    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            id: "posthog",
            name: "PostHog",
            category: "analytics",
            auth: AuthKind::ApiKey {
                fields: vec![
                    KeyField {
                        name: POSTHOG_API_KEY_FIELD,
                        label: "Personal API key",
                        secret: true,
                        placeholder: "phx_…",
                        help: "In PostHog, Account settings → Personal API keys: create a key with \
                               read access to Project and Query, limited to this project.",
                        pattern: Some("^phx_[A-Za-z0-9_-]{16,}$"),
                    },
                    KeyField {
                        name: POSTHOG_PROJECT_ID_FIELD,
                        label: "Project ID",
                        secret: false,
                        placeholder: "12345",
                        help: "Project settings → Project ID (the number in your PostHog URLs).",
                        pattern: Some("^[0-9]+$"),
                    },
                    KeyField {
                        name: POSTHOG_HOST_FIELD,
                        label: "Host",
                        secret: false,
                        placeholder: "https://us.posthog.com",
                        help: "https://us.posthog.com (US cloud), https://eu.posthog.com (EU cloud) \
                               or your self-hosted instance's https:// address.",
                        pattern: Some("^(https://)?[^/?#@\\s]+/?$"),
                    },
                ],
            },
            api_key: None,
            oauth_configured: false,
            metrics: POSTHOG_METRICS,
            default_cadence_minutes: 60,
            account: None,
            account_picker: false,
            options: vec![
                OptionField {
                    name: POSTHOG_EVENTS_OPTION,
                    label: "Events to count",
                    kind: OptionKind::List { max_items: MAX_PICKED_EVENTS },
                    placeholder: "signed_up, checkout_started",
                    help: "Up to 10 event names, exactly as PostHog shows them; their daily counts \
                           become the Picked events metric.",
                    pattern: Some("^[^\\u0000-\\u001f]{1,200}$"),
                },
                OptionField {
                    name: POSTHOG_BREAKDOWN_OPTION,
                    label: "Break down by property",
                    kind: OptionKind::Text,
                    placeholder: "$browser",
                    help: "An event property (plan, utm_source, $browser); each day's counts are \
                           split by its value. Leave empty for totals only.",
                    pattern: Some("^[^\\u0000-\\u001f]{1,200}$"),
                },
            ],
            call_budget: None,
            env_prefix: PROVIDER.env_prefix,
        }
    }

    fn parse_options(&self, input: &IntegrationOptions) -> Result<IntegrationOptions, OptionError> {
        let options = check_declared(&self.info().options, input)?;
        for event in crate::options::list(&options, POSTHOG_EVENTS_OPTION) {
            check_name(POSTHOG_EVENTS_OPTION, event)?;
        }
        if let Some(property) = crate::options::text(&options, POSTHOG_BREAKDOWN_OPTION) {
            check_name(POSTHOG_BREAKDOWN_OPTION, property)?;
        }
        Ok(options)
    }

    async fn test_api_key(
        &self,
        fields: &BTreeMap<String, String>,
    ) -> Result<AccountInfo, ConnectorError> {
        let key = field(fields, POSTHOG_API_KEY_FIELD)
            .ok_or_else(|| ConnectorError::InvalidInput("Enter a PostHog personal API key.".into()))?;
        validate_posthog_key(key)?;
        let project_id = parse_project_id(field(fields, POSTHOG_PROJECT_ID_FIELD).unwrap_or_default())?;
        let host = PosthogHost::parse(
            field(fields, POSTHOG_HOST_FIELD).unwrap_or_default(),
            self.config.allow_loopback,
        )?;
        let project = self.project(&host, project_id, key).await?;
        let label = project
            .name
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| format!("PostHog project {project_id}"));
        Ok(AccountInfo {
            id: host::account_id(project_id, &host),
            label,
            currency: None,
            timezone: project.timezone.filter(|tz| !tz.is_empty()),
            livemode: None,
        })
    }
}

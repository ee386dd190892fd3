//! The PostHog connector against the simulator and against a misbehaving server:
//! the key test, retries, and malformed answers that end a sync with a clear error.

#[path = "providers/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use pulseboard_connectors::{
    ConnectorError, OAuthError, Provider, Registry, SecretString, SinkError, SyncError, SyncKind,
    SyncPage, SyncRequest, SyncSink, TokenSource,
};
use pulseboard_simulator::{defaults, endpoints, SimulatorConfig};
use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

fn fields(key: &str, project: &str, host: &str) -> BTreeMap<String, String> {
    [("api_key", key), ("project_id", project), ("host", host)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

struct Key(&'static str);

#[async_trait]
impl TokenSource for Key {
    async fn access_token(&self) -> Result<SecretString, OAuthError> {
        Ok(SecretString::from(self.0))
    }
}

#[derive(Default)]
struct Pages(Vec<SyncPage>);

#[async_trait]
impl SyncSink for Pages {
    async fn commit(&mut self, page: SyncPage) -> Result<(), SinkError> {
        self.0.push(page);
        Ok(())
    }
}

async fn sync(
    provider: &dyn Provider,
    account: &str,
    sink: &mut Pages,
) -> Result<SyncKind, SyncError> {
    let cursors: HashMap<String, Value> = HashMap::new();
    let req = SyncRequest {
        tokens: &Key(defaults::POSTHOG_PERSONAL_API_KEY),
        account_id: account,
        cursors: &cursors,
        options: &Default::default(),
        now: chrono::Utc::now(),
    };
    provider.sync(&req, sink).await
}

#[tokio::test]
async fn the_key_test_names_the_project_and_retries_keep_a_sync_going() {
    let env = helpers::spawn_with(SimulatorConfig::default()).await;
    let posthog = env.provider("posthog");
    let host = env.sim.posthog_host();
    let project = defaults::POSTHOG_PROJECT_ID.to_string();
    let account = posthog
        .test_api_key(&fields(defaults::POSTHOG_PERSONAL_API_KEY, &project, &host))
        .await
        .unwrap();
    assert_eq!(account.id, format!("{project}@{host}"));
    assert_eq!(account.timezone.as_deref(), Some("Asia/Tokyo"));
    assert!(!account.label.is_empty());

    let wrong = posthog
        .test_api_key(&fields("phx_not_a_key_we_know_of", &project, &host))
        .await
        .unwrap_err();
    assert!(
        matches!(wrong, ConnectorError::Unauthorized(_)),
        "{wrong:?}"
    );
    assert!(!wrong.to_string().contains("phx_not_a_key"), "{wrong}");

    // Without the setting the simulator enables, a loopback host is refused unsent.
    let production = Registry::from_config(&Default::default()).unwrap();
    let calls = env.sim.calls(endpoints::POSTHOG_PROJECT);
    let refused = production
        .get("posthog")
        .unwrap()
        .test_api_key(&fields(defaults::POSTHOG_PERSONAL_API_KEY, &project, &host))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ConnectorError::InvalidInput(_)),
        "{refused:?}"
    );
    assert_eq!(env.sim.calls(endpoints::POSTHOG_PROJECT), calls);

    // Two server errors are retried inside the sync.
    env.sim.fail(endpoints::POSTHOG_QUERY, 2);
    let mut pages = Pages::default();
    assert_eq!(
        sync(&*posthog, &account.id, &mut pages).await.unwrap(),
        SyncKind::Backfill
    );
    assert_eq!(pages.0.len(), 3);
    assert_eq!(env.sim.calls(endpoints::POSTHOG_QUERY), 5);
    let days: usize = pages.0.iter().map(|p| p.records.len()).sum();
    assert_eq!(days, 92);
}

/// A loopback server answering every request with `status` and `body`.
async fn answering(status: &'static str, body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = vec![0u8; 64 * 1024];
            let _ = socket.read(&mut buf).await;
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    format!("42@http://{addr}")
}

#[tokio::test]
async fn malformed_answers_end_the_sync_with_a_clear_error() {
    let env = helpers::spawn_with(SimulatorConfig::default()).await;
    let posthog = env.provider("posthog");
    for (status, body, says) in [
        (
            "200 OK",
            "<html>maintenance</html>",
            "unexpected response shape",
        ),
        (
            "200 OK",
            r#"{"results": [], "columns": ["day"], "hasMore": false}"#,
            "columns",
        ),
        (
            "200 OK",
            r#"{"results": [["not a day", "x", 1, 1, 1, 0, 0, 0]], "columns": ["day", "day_start", "pageviews", "unique_persons", "sessions", "signed_up", "checkout_started", "subscription_started"]}"#,
            "day",
        ),
        (
            "400 Bad Request",
            r#"{"type": "validation_error", "code": "invalid_input", "detail": "Unable to resolve field: foo", "attr": null}"#,
            "Unable to resolve field",
        ),
    ] {
        let account = answering(status, body).await;
        let mut pages = Pages::default();
        let error = sync(&*posthog, &account, &mut pages).await.unwrap_err();
        match &error {
            SyncError::Provider(OAuthError::Rejected(message)) => {
                assert!(message.contains(says), "{message}")
            }
            other => panic!("{other:?}"),
        }
        assert!(
            pages.0.is_empty(),
            "nothing is committed from a malformed answer"
        );
    }
    // A rate limit with a long Retry-After goes back to the caller to reschedule.
    let account = answering("429 Too Many Requests", r#"{"type": "throttled_error", "code": "throttled", "detail": "Request was throttled.", "attr": null}"#).await;
    let error = sync(&*posthog, &account, &mut Pages::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, SyncError::Provider(OAuthError::RateLimited { .. })),
        "{error:?}"
    );
}

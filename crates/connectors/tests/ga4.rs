//! The GA4 provider against the simulator: Google's OAuth with PKCE, the property
//! check and picker list over paginated account summaries, token revocation, and a
//! sync into a memory sink that stops on the property's quota without retrying.

#[path = "providers/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::{collections::HashMap, sync::Arc};

use async_trait::async_trait;
use pulseboard_connectors::{
    ga4::{Ga4Config, Ga4Provider},
    pkce_pair, AccountRef, AuthorizeRequest, CodeExchange, Connected, Derive, ExposeSecret,
    MetricEvent, OAuthError, Provider, Pull, RawRecord, SecretString, SinkError, SyncError,
    SyncKind, SyncPage, SyncRequest, SyncSink, TokenSource,
};
use pulseboard_simulator::{defaults, endpoints, SimulatorConfig, SimulatorHandle};
use serde_json::{json, Value};

use crate::helpers::{follow_authorize, param, providers_config, redirect_uri};

fn provider(sim: &SimulatorHandle) -> Ga4Provider {
    let config = providers_config(sim);
    let ga4 = Ga4Config::from_settings(
        config
            .settings
            .scoped("GA4", pulseboard_connectors::ga4::config::SETTINGS),
    )
    .unwrap();
    let mut http = config.http.clone();
    http.timeout = std::time::Duration::from_secs(10);
    Ga4Provider::new(&ga4, &http).unwrap()
}

/// Runs the consent flow for `property` and exchanges the code with `verifier`
/// (the right one unless told otherwise).
async fn connect(
    ga4: &Ga4Provider,
    property: &str,
    wrong_verifier: bool,
) -> Result<Connected, OAuthError> {
    let (verifier, challenge) = pkce_pair();
    let account = Some(ga4.parse_account(property).unwrap());
    let url = ga4
        .authorize_url(&AuthorizeRequest {
            state: "st-1".into(),
            redirect_uri: redirect_uri("ga4"),
            pkce_challenge: Some(challenge),
            account: account.clone(),
        })
        .unwrap();
    let callback = follow_authorize(&url).await;
    assert_eq!(param(&callback, "state").as_deref(), Some("st-1"));
    let verifier = if wrong_verifier {
        pkce_pair().0
    } else {
        verifier
    };
    ga4.exchange_code(&CodeExchange {
        code: param(&callback, "code").unwrap(),
        redirect_uri: redirect_uri("ga4"),
        pkce_verifier: Some(verifier),
        account,
    })
    .await
}

#[tokio::test]
async fn connects_with_pkce_checks_the_property_and_revokes() {
    let sim = pulseboard_simulator::Simulator::start(SimulatorConfig::default())
        .await
        .unwrap();
    let ga4 = provider(&sim);

    let connected = connect(&ga4, "properties/312000001", false).await.unwrap();
    assert_eq!(connected.account.id, defaults::GA4_PROPERTY_ID);
    assert_eq!(connected.account.label, "Acme Coffee – GA4");
    assert_eq!(
        connected.account.timezone.as_deref(),
        Some("America/New_York")
    );
    assert_eq!(connected.account.currency.as_deref(), Some("USD"));
    assert!(connected.tokens.refresh_token.is_some());
    assert!(connected.tokens.expires_at.is_some());

    // The picker's list: every readable property, over two pages of 50 accounts.
    let access = connected.tokens.access_token.expose_secret().to_owned();
    let calls = sim.calls(endpoints::GA4_ACCOUNT_SUMMARIES);
    let properties = ga4.list_properties(&access).await.unwrap();
    assert_eq!(sim.calls(endpoints::GA4_ACCOUNT_SUMMARIES) - calls, 2);
    assert_eq!(properties.len(), 3 + 55);
    assert!(properties.contains(&(
        defaults::GA4_PROPERTY_ID_JPY.into(),
        "Acme Coffee Japan".into(),
        "Acme Coffee".into()
    )));
    assert!(properties
        .iter()
        .all(|(id, _, _)| id != defaults::GA4_FORBIDDEN_PROPERTY_ID));

    // A property this Google account cannot read is refused with a clear reason.
    let refused = connect(&ga4, defaults::GA4_FORBIDDEN_PROPERTY_ID, false)
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, OAuthError::Rejected(m) if m.contains("cannot read property 399999999")),
        "{refused:?}"
    );
    // A wrong PKCE verifier is Google's invalid_grant.
    let wrong = connect(&ga4, defaults::GA4_PROPERTY_ID, true)
        .await
        .unwrap_err();
    assert!(matches!(wrong, OAuthError::InvalidGrant(_)), "{wrong:?}");

    // Refresh keeps the refresh token (Google does not rotate it); revoking ends it.
    let refresh = connected.tokens.refresh_token.unwrap();
    let account = AccountRef::new_validated(defaults::GA4_PROPERTY_ID);
    let refreshed = ga4
        .refresh(refresh.expose_secret(), Some(&account))
        .await
        .unwrap();
    assert_eq!(
        refreshed.refresh_token.unwrap().expose_secret(),
        refresh.expose_secret()
    );
    ga4.revoke_token(refresh.expose_secret()).await.unwrap();
    let gone = ga4
        .refresh(refresh.expose_secret(), Some(&account))
        .await
        .unwrap_err();
    assert!(matches!(gone, OAuthError::InvalidGrant(_)), "{gone:?}");
    let secret_free = format!("{gone}");
    assert!(!secret_free.contains(refresh.expose_secret()));
}

struct Fixed(SecretString);

#[async_trait]
impl TokenSource for Fixed {
    async fn access_token(&self) -> Result<SecretString, OAuthError> {
        Ok(self.0.clone())
    }
}

/// A sink that keeps the latest version of each record and its events, as the
/// server's does.
#[derive(Default)]
struct Memory {
    events: HashMap<String, Vec<MetricEvent>>,
    records: HashMap<String, RawRecord>,
    cursors: HashMap<String, Value>,
    commits: usize,
    derive: Option<Arc<Ga4Provider>>,
}

#[async_trait]
impl SyncSink for Memory {
    async fn commit(&mut self, page: SyncPage) -> Result<(), SinkError> {
        self.commits += 1;
        let provider = self.derive.clone().unwrap();
        for record in page.records {
            self.events
                .insert(record.external_id.clone(), provider.derive_events(&record));
            self.records.insert(record.external_id.clone(), record);
        }
        if let Some(cursor) = page.cursor {
            self.cursors.insert(page.stream, cursor);
        }
        Ok(())
    }
}

impl Memory {
    fn total(&self, metric: &str) -> i64 {
        self.events
            .values()
            .flatten()
            .filter(|e| e.metric == metric)
            .map(|e| e.value)
            .sum()
    }
}

/// One sync of the default property from the sink's stored cursors.
async fn sync_once(
    ga4: &Ga4Provider,
    tokens: &Fixed,
    sink: &mut Memory,
) -> Result<SyncKind, SyncError> {
    let cursors = sink.cursors.clone();
    ga4.sync(
        &SyncRequest {
            tokens,
            account_id: defaults::GA4_PROPERTY_ID,
            cursors: &cursors,
            options: &Default::default(),
            now: chrono::Utc::now(),
        },
        sink,
    )
    .await
}

/// Scripts the default property's remaining quota in the simulator.
async fn set_quota(sim: &SimulatorHandle, remaining: Value) {
    reqwest::Client::new()
        .post(format!(
            "{}/_sim/ga4/properties/{}/quota",
            sim.base_url(),
            defaults::GA4_PROPERTY_ID
        ))
        .json(&remaining)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn syncs_pages_and_stops_on_the_quota_without_retrying() {
    let sim = pulseboard_simulator::Simulator::start(SimulatorConfig::default())
        .await
        .unwrap();
    let ga4 = Arc::new(provider(&sim));
    let connected = connect(&ga4, defaults::GA4_PROPERTY_ID, false)
        .await
        .unwrap();
    let tokens = Fixed(connected.tokens.access_token.clone());
    let mut sink = Memory {
        derive: Some(ga4.clone()),
        ..Memory::default()
    };

    let kind = sync_once(&ga4, &tokens, &mut sink).await.unwrap();
    assert_eq!(kind, SyncKind::Backfill);
    // 90 days of totals; the country report (12 countries) takes two pages of 1000.
    let totals = sink
        .records
        .keys()
        .filter(|k| k.starts_with("totals/"))
        .count();
    assert!((90..=91).contains(&totals), "{totals}");
    assert!(sink.commits >= 6, "{}", sink.commits);
    assert!(sink.total("sessions") > 10_000);
    assert!(sink.total("purchase_revenue") > 0);
    let cursor = sink.cursors["ga4.reports"].clone();
    assert!(
        cursor.get("through").is_some() && cursor.get("window").is_none(),
        "{cursor}"
    );

    // The hour's tokens nearly spent: one page is stored, then the sync stops until
    // the top of the hour, and one call was made (no retry).
    set_quota(&sim, json!({ "tokens_per_hour_remaining": 60 })).await;
    let before = sim.calls(endpoints::GA4_RUN_REPORT);
    let error = sync_once(&ga4, &tokens, &mut sink).await.unwrap_err();
    let SyncError::Provider(OAuthError::RateLimited {
        retry_after: Some(wait),
        ..
    }) = error
    else {
        panic!("{error:?}");
    };
    assert!(wait.as_secs() >= 60 && wait.as_secs() <= 3600, "{wait:?}");
    assert_eq!(sim.calls(endpoints::GA4_RUN_REPORT) - before, 1);
    let window = &sink.cursors["ga4.reports"]["window"];
    assert_eq!(window["done"], 1, "the totals report is done: {window}");

    // Spent: GA4's 429 RESOURCE_EXHAUSTED is not retried either.
    set_quota(&sim, json!({ "tokens_per_day_remaining": 0 })).await;
    let before = sim.calls(endpoints::GA4_RUN_REPORT);
    let error = sync_once(&ga4, &tokens, &mut sink).await.unwrap_err();
    assert!(
        matches!(error, SyncError::Provider(OAuthError::RateLimited { retry_after: Some(w), .. }) if w.as_secs() > 60),
        "{error:?}"
    );
    assert_eq!(sim.calls(endpoints::GA4_RUN_REPORT) - before, 1);

    // An unknown metric is Google's INVALID_ARGUMENT, with its message.
    let response = reqwest::Client::new()
        .post(format!(
            "{}/ga4/data/v1beta/properties/{}:runReport",
            sim.base_url(),
            defaults::GA4_PROPERTY_ID_JPY
        ))
        .bearer_auth(connected.tokens.access_token.expose_secret())
        .json(&json!({ "dateRanges": [{ "startDate": "7daysAgo", "endDate": "today" }], "metrics": [{ "name": "conversions2" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("conversions2"));
}

//! `pulseboard demo`: Pulseboard with two populated tenants and numbers that move.
//!
//! Starts the provider simulator in-process, points the providers at it, starts the
//! server on a fresh database in `{data_dir}/demo`, then sets the tenants up the way a
//! person would, over HTTP: sign up, connect Shopify through the (simulated) OAuth
//! consent and Stripe with a restricted key, wait for the first syncs, create the
//! dashboards from the templates. The simulator's clock then follows real time, so new
//! orders and charges keep arriving and the scheduler syncs them every few minutes.
//! Launchpad's new Stripe events and its second store's LemonSqueezy sales are also
//! delivered as signed webhooks through the real endpoints, so its Pulse page moves.

use std::time::Duration;

use anyhow::{bail, Context};
use pulseboard_simulator::{defaults, DataConfig, Simulator, SimulatorConfig, ThrottleConfig};
use reqwest::{header, Client, StatusCode};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::{config::Config, state::AppState, Application};

pub const DEMO_PASSWORD: &str = "pulseboard-demo";

struct Tenant {
    email: &'static str,
    name: &'static str,
    org: &'static str,
    timezone: &'static str,
}

const ACME: Tenant = Tenant {
    email: "owner@acme-coffee.example",
    name: "Ada Acme",
    org: "Acme Coffee",
    timezone: "America/New_York",
};
const LAUNCHPAD: Tenant = Tenant {
    email: "owner@launchpad.example",
    name: "Lee Launchpad",
    org: "Launchpad",
    timezone: "Europe/Berlin",
};

pub async fn run(mut config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let now = chrono::Utc::now().timestamp();
    let sim = Simulator::start(SimulatorConfig {
        data: DataConfig {
            end: now,
            ..DataConfig::default()
        },
        // Realistic throttling would make the two-year backfill take half an hour.
        shopify_bucket: ThrottleConfig {
            maximum_available: 1000.0,
            restore_rate: 5000.0,
        },
        ..SimulatorConfig::default()
    })
    .await
    .context("starting the provider simulator")?;

    // A fresh database each run: the simulator's accounts and tokens are new each time.
    let dir = config.data_dir.join("demo");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;
    config.data_dir = dir;
    for (var, value) in pulseboard_simulator::connector_settings(&sim.base_url()) {
        config.providers.set(var, value);
    }
    // Slack channels may point at the simulator's webhooks; mail stays in the
    // file mailbox unless a transport is configured.
    config
        .slack
        .webhook_url_prefixes
        .push(format!("{}/slack/", sim.base_url()));
    config.sync.schedule_every = Duration::from_secs(30);
    // Live orders arrive every minute: check the rules every two minutes, not hourly.
    config.sync.alerts_every = Some(Duration::from_secs(120));

    let app = Application::build(config).await?;
    let state = app.state().clone();
    let base = app.public_url().trim_end_matches('/').to_owned();
    let stop = app.shutdown_token();
    let server = tokio::spawn(app.run_until_stopped());

    let slack_webhook = format!("{}/slack/services/TDEMO/BDEMO/demo-channel", sim.base_url());
    let seeded = async {
        let acme = seed_shopify(&base, &state)
            .await
            .context("setting up Acme Coffee")?;
        let launchpad = seed_stripe(&base).await.context("setting up Launchpad")?;
        seed_alerts(&base, &ACME, &acme, "shopify", Some(&slack_webhook))
            .await
            .context("Acme Coffee's alerts")?;
        seed_alerts(&base, &LAUNCHPAD, &launchpad, "stripe", None)
            .await
            .context("Launchpad's alerts")?;
        // A first pass now (the goals already met fire, so the Alerts page has
        // history) and this week's digest, so the mailbox shows both kinds of mail.
        let now = chrono::Utc::now();
        crate::alerts::evaluate::check_all(&state, now).await?;
        crate::digest::send_weekly(&state, now).await?;
        let webhook = stripe_webhook(&base, &launchpad)
            .await
            .context("Launchpad's Stripe webhook")?;
        let templates = seed_lemonsqueezy(&base, &launchpad)
            .await
            .context("Launchpad Templates (LemonSqueezy)")?;
        anyhow::Ok((acme.dashboard, launchpad.dashboard, webhook, templates))
    };
    let (acme, launchpad, webhook, templates) = tokio::select! {
        seeded = seeded => seeded?,
        _ = shutdown.cancelled() => { stop.cancel(); let _ = server.await; return Ok(()); }
    };
    eprintln!(
        "\nPulseboard demo is running at {base}\n\n  \
         Acme Coffee (Shopify): {} / {DEMO_PASSWORD}  → {base}/dashboards/{acme}\n  \
         Launchpad (Stripe, and LemonSqueezy for its templates store):\n                        \
         {} / {DEMO_PASSWORD}  → {base}/dashboards/{launchpad}, live: {base}/pulse\n\n\
         New orders and charges arrive every minute; Ctrl-C stops the demo.",
        ACME.email, LAUNCHPAD.email
    );

    // The simulated businesses keep trading in real time; Stripe's new events reach
    // Launchpad as signed webhooks through the real endpoint, so its Pulse page moves.
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    // The first tick also delivers the last six hours, as Stripe delivers what an
    // endpoint missed: the Pulse page has today's sales from the start.
    let mut forwarded_until = chrono::Utc::now().timestamp() - 6 * 3600;
    let poster = browser()?;
    let mut launch_sales = 0u64;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {
                let now = sim.advance_to(chrono::Utc::now().timestamp());
                let ledger = sim.stripe_ledger();
                for event in ledger.events.iter().filter(|e| e.created > forwarded_until && e.created <= now) {
                    let body = ledger.event_json(event).to_string();
                    if let Err(error) = post_stripe_webhook(&poster, &webhook, &body).await {
                        tracing::warn!(%error, "demo: a Stripe webhook was not accepted");
                    }
                }
                forwarded_until = forwarded_until.max(now);
                // Launchpad Templates is in its launch week: a sale a minute from the
                // launch campaign on top of its usual trade, and LemonSqueezy's signed
                // deliveries of everything new reach the real endpoint.
                launch_sales += 1;
                sim.lemonsqueezy_new_order(304 + launch_sales % 2, Some("launch-week"));
                for delivery in sim.lemonsqueezy_webhooks(&templates.secret) {
                    if let Err(error) = post_signed(&poster, &templates.url, &delivery.headers, &delivery.body).await {
                        tracing::warn!(%error, "demo: a LemonSqueezy webhook was not accepted");
                    }
                }
            }
        }
    }
    stop.cancel();
    server.await.context("server task")??;
    Ok(())
}

fn browser() -> anyhow::Result<Client> {
    Ok(Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

async fn expect_json(response: reqwest::Response, what: &str) -> anyhow::Result<Value> {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{what}: {status} {body}");
    }
    Ok(body)
}

/// Signs up the tenant's owner; returns the client, org slug and default store id.
async fn sign_up(base: &str, tenant: &Tenant) -> anyhow::Result<(Client, String, String)> {
    let client = browser()?;
    let me = expect_json(
        client
            .post(format!("{base}/api/auth/signup"))
            .json(&json!({ "email": tenant.email, "password": DEMO_PASSWORD, "name": tenant.name,
                "org_name": tenant.org, "store": { "name": tenant.org, "currency": "USD", "timezone": tenant.timezone } }))
            .send()
            .await?,
        "sign-up",
    )
    .await?;
    let org = me["memberships"][0]["org_slug"]
        .as_str()
        .context("org slug")?
        .to_owned();
    let stores = expect_json(
        client
            .get(format!("{base}/api/orgs/{org}/stores"))
            .send()
            .await?,
        "stores",
    )
    .await?;
    let store = stores[0]["id"].as_str().context("store id")?.to_owned();
    Ok((client, org, store))
}

/// Waits for the integration's first sync, printing its progress.
async fn await_sync(client: &Client, base: &str, org: &str, label: &str) -> anyhow::Result<()> {
    let mut last = -1;
    for _ in 0..1800 {
        let jobs = expect_json(
            client
                .get(format!("{base}/api/orgs/{org}/sync-jobs?limit=1"))
                .send()
                .await?,
            "sync jobs",
        )
        .await?;
        let job = &jobs[0];
        let records = job["records_synced"].as_i64().unwrap_or(0);
        if records / 5000 != last / 5000 {
            eprintln!("  {label}: {records} records synced");
            last = records;
        }
        match job["status"].as_str() {
            Some("success") => return Ok(()),
            Some("failed") => bail!("{label}: the first sync failed: {}", job["error"]),
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
    bail!("{label}: the first sync did not finish in 15 minutes")
}

async fn from_template(
    client: &Client,
    base: &str,
    org: &str,
    template: &str,
    store: &str,
) -> anyhow::Result<String> {
    let dashboard = expect_json(
        client
            .post(format!("{base}/api/orgs/{org}/dashboards/from-template"))
            .json(&json!({ "template": template, "store_id": store }))
            .send()
            .await?,
        "dashboard from template",
    )
    .await?;
    Ok(dashboard["id"].as_str().context("dashboard id")?.to_owned())
}

async fn quicker_cadence(client: &Client, base: &str, org: &str) -> anyhow::Result<()> {
    let integrations = expect_json(
        client
            .get(format!("{base}/api/orgs/{org}/integrations"))
            .send()
            .await?,
        "integrations",
    )
    .await?;
    for integration in integrations.as_array().into_iter().flatten() {
        let id = integration["id"].as_str().context("integration id")?;
        expect_json(
            client
                .patch(format!("{base}/api/orgs/{org}/integrations/{id}"))
                .json(&json!({ "cadence_minutes": 5 }))
                .send()
                .await?,
            "cadence",
        )
        .await?;
    }
    Ok(())
}

/// Connects a provider through its OAuth flow as a browser would: start, the
/// simulated consent screen (which approves at once), the callback.
async fn connect_oauth(
    client: &Client,
    base: &str,
    org: &str,
    provider: &str,
    body: Value,
) -> anyhow::Result<()> {
    let started = expect_json(
        client
            .post(format!(
                "{base}/api/orgs/{org}/integrations/{provider}/connect"
            ))
            .json(&body)
            .send()
            .await?,
        "start the connection",
    )
    .await?;
    let consent = browser()?
        .get(started["authorize_url"].as_str().context("authorize url")?)
        .send()
        .await?;
    let callback = consent
        .headers()
        .get(header::LOCATION)
        .context("consent redirect")?
        .to_str()?
        .to_owned();
    let done = client.get(&callback).send().await?;
    let flash = done
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    if done.status() != StatusCode::SEE_OTHER || !flash.contains(&format!("connected={provider}")) {
        bail!("the {provider} connection did not complete: {flash}");
    }
    Ok(())
}

/// Acme Coffee: a Shopify shop connected through the OAuth flow, with Google
/// Analytics 4 (OAuth, its New York property) and Microsoft Clarity (an export
/// token) for traffic and behaviour, so the CRO Overview has a conversion rate;
/// Judge.me (its product reviews, a few waiting for moderation), KnoCommerce (its
/// post-purchase survey: "How did you hear about us?"), Intelligems (its A/B tests)
/// and Gorgias (its support tickets) with API keys.
async fn seed_shopify(base: &str, state: &AppState) -> anyhow::Result<Seeded> {
    eprintln!("Setting up Acme Coffee (Shopify, two years of orders; GA4, Clarity, Judge.me, KnoCommerce, Intelligems and Gorgias)…");
    let (client, org, store) = sign_up(base, &ACME).await?;
    // Eight sources are more than the Free plan's three: the demo shop is on Pro.
    set_plan(state, &org, "pro").await?;
    connect_oauth(
        &client,
        base,
        &org,
        "shopify",
        json!({ "store_id": store, "account": "acme-coffee" }),
    )
    .await?;
    quicker_cadence(&client, base, &org).await?;
    await_sync(&client, base, &org, "Acme Coffee").await?;
    connect_oauth(
        &client,
        base,
        &org,
        "ga4",
        json!({ "store_id": store, "account": defaults::GA4_PROPERTY_ID }),
    )
    .await?;
    await_sync(&client, base, &org, "Acme Coffee (GA4)").await?;
    expect_json(
        client
            .post(format!(
                "{base}/api/orgs/{org}/integrations/clarity/api-key"
            ))
            .json(
                &json!({ "store_id": store, "fields": { "api_key": defaults::CLARITY_API_TOKEN } }),
            )
            .send()
            .await?,
        "connect Clarity",
    )
    .await?;
    await_sync(&client, base, &org, "Acme Coffee (Clarity)").await?;
    // Reviews (Judge.me: the shop's private token and its domain), the
    // post-purchase survey (KnoCommerce: an API client's ID and secret) and the
    // A/B tests (Intelligems: an API key).
    for (provider, name, fields) in [
        (
            "judgeme",
            "Judge.me",
            json!({ "api_key": defaults::JUDGEME_API_TOKEN, "shop_domain": defaults::JUDGEME_SHOP_DOMAIN }),
        ),
        (
            "knocommerce",
            "KnoCommerce",
            json!({ "client_id": defaults::KNOCOMMERCE_CLIENT_ID, "api_key": defaults::KNOCOMMERCE_CLIENT_SECRET }),
        ),
        // Its A/B tests: a running price test, a running shipping-threshold test,
        // an ended content test and a draft.
        (
            "intelligems",
            "Intelligems",
            json!({ "api_key": defaults::INTELLIGEMS_API_KEY }),
        ),
    ] {
        expect_json(
            client
                .post(format!(
                    "{base}/api/orgs/{org}/integrations/{provider}/api-key"
                ))
                .json(&json!({ "store_id": store, "fields": fields }))
                .send()
                .await?,
            &format!("connect {name}"),
        )
        .await?;
        await_sync(&client, base, &org, &format!("Acme Coffee ({name})")).await?;
    }
    // Its helpdesk: three months of tickets with CSAT. That backfill is a call per
    // ticket paced to Gorgias' 40 requests per 20 s, so it finishes in the background.
    expect_json(
        client
            .post(format!(
                "{base}/api/orgs/{org}/integrations/gorgias/api-key"
            ))
            .json(&json!({ "store_id": store, "fields": {
                "domain": defaults::GORGIAS_DOMAIN,
                "email": defaults::GORGIAS_EMAIL,
                "api_key": defaults::GORGIAS_API_KEY,
            } }))
            .send()
            .await?,
        "connect Gorgias",
    )
    .await?;
    let overview = from_template(&client, base, &org, "store_overview", &store).await?;
    from_template(&client, base, &org, "cro_overview", &store).await?;
    Ok(Seeded {
        client,
        org,
        store,
        dashboard: overview,
    })
}

/// Puts an organization on a plan, as `pulseboard plan` does.
async fn set_plan(state: &AppState, org: &str, plan: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        crate::db::orgs::set_plan(&state.db, org, plan).await?,
        "no organization {org}"
    );
    Ok(())
}

/// Launchpad: a SaaS on Stripe, connected with a restricted key.
async fn seed_stripe(base: &str) -> anyhow::Result<Seeded> {
    eprintln!("Setting up Launchpad (Stripe, two years of subscriptions)…");
    let (client, org, store) = sign_up(base, &LAUNCHPAD).await?;
    expect_json(
        client
            .post(format!("{base}/api/orgs/{org}/integrations/stripe/api-key"))
            .json(&json!({ "store_id": store, "fields": { "api_key": defaults::STRIPE_RESTRICTED_KEY } }))
            .send()
            .await?,
        "connect Stripe",
    )
    .await?;
    quicker_cadence(&client, base, &org).await?;
    await_sync(&client, base, &org, "Launchpad").await?;
    let dashboard = from_template(&client, base, &org, "saas_revenue", &store).await?;
    Ok(Seeded {
        client,
        org,
        store,
        dashboard,
    })
}

/// A tenant after set-up: the owner's session, the org, its store and main dashboard.
struct Seeded {
    client: Client,
    org: String,
    store: String,
    dashboard: String,
}

/// A few rules per tenant, made as a person would make them. "Sales today" is set
/// just above today's total so far, so the next live orders cross it and it fires
/// (mail, and Slack for Acme); "a good week" is already met, so the Alerts page has
/// history from the first minute; the others watch for drops and unusual days.
async fn seed_alerts(
    base: &str,
    tenant: &Tenant,
    seeded: &Seeded,
    provider: &str,
    slack_webhook: Option<&str>,
) -> anyhow::Result<()> {
    let Seeded {
        client,
        org,
        store,
        dashboard,
    } = seeded;
    let revenue = match provider {
        "shopify" => "shopify.net_sales",
        _ => "stripe.net_revenue",
    };
    let total = |range: &'static str| {
        let body = json!({ "metric": revenue, "range": range, "compare_to": "none", "scope": { "store": store } });
        async move {
            let result = expect_json(
                client
                    .post(format!("{base}/api/orgs/{org}/metrics/query"))
                    .json(&body)
                    .send()
                    .await?,
                "metrics query",
            )
            .await?;
            anyhow::Ok(result["total"].as_i64().unwrap_or(0))
        }
    };
    let me = expect_json(client.get(format!("{base}/api/me")).send().await?, "me").await?;
    let owner = me["user"]["id"].clone();
    let today = total("today").await?;
    let week = total("last_7_days").await?;
    let slack_channel = match slack_webhook {
        Some(url) => Some(
            expect_json(
                client
                    .post(format!("{base}/api/orgs/{org}/slack-channels"))
                    .json(&json!({ "name": "#sales", "webhook_url": url }))
                    .send()
                    .await?,
                "Slack channel",
            )
            .await?["id"]
                .clone(),
        ),
        None => None,
    };
    let rules = [
        json!({ "name": "Sales today passed the day's target", "kind": "above", "period": "today",
                "threshold": today + 5_000, "cooldown_minutes": 60, "slack_channel_id": slack_channel }),
        json!({ "name": "A good week: revenue above target", "kind": "above", "period": "last_7_days",
                "threshold": week * 9 / 10 }),
        json!({ "name": "Revenue yesterday down 25% on the week before", "kind": "pct_change_below",
                "period": "yesterday", "threshold": 25, "compare_days": 7 }),
        json!({ "name": "Unusual day", "kind": "anomaly", "threshold": 3 }),
        json!({ "name": "Behind last week's pace", "kind": "pace", "threshold": 40 }),
    ];
    for mut rule in rules {
        rule["metric"] = json!(revenue);
        rule["scope"] = json!({ "store": store });
        rule["dashboard_id"] = json!(dashboard);
        rule["recipient_emails"] = json!([format!(
            "team@{}",
            tenant.email.split('@').nth(1).unwrap_or("example.com")
        )]);
        rule["recipient_user_ids"] = json!([owner]);
        expect_json(
            client
                .post(format!("{base}/api/orgs/{org}/alerts"))
                .json(&rule)
                .send()
                .await?,
            "create an alert",
        )
        .await?;
    }
    Ok(())
}

/// The demo's Stripe signing secret: it signs what the demo sends, as Stripe would.
const DEMO_STRIPE_WEBHOOK_SECRET: &str = "whsec_demo_launchpad_signing_secret";

/// Sets up Launchpad's Stripe webhook as its owner would (pasting Stripe's secret);
/// returns the endpoint URL.
async fn stripe_webhook(base: &str, seeded: &Seeded) -> anyhow::Result<String> {
    let Seeded { client, org, .. } = seeded;
    let integrations = expect_json(
        client
            .get(format!("{base}/api/orgs/{org}/integrations"))
            .send()
            .await?,
        "integrations",
    )
    .await?;
    let id = integrations
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["provider"] == "stripe")
        .and_then(|i| i["id"].as_str())
        .context("Launchpad's Stripe integration")?
        .to_owned();
    let created = expect_json(
        client
            .post(format!("{base}/api/orgs/{org}/integrations/{id}/webhook"))
            .json(&json!({ "secret": DEMO_STRIPE_WEBHOOK_SECRET }))
            .send()
            .await?,
        "webhook endpoint",
    )
    .await?;
    Ok(created["url"].as_str().context("endpoint url")?.to_owned())
}

/// Launchpad's second store, "Launchpad Templates": a LemonSqueezy store of digital
/// products connected with an API key against the simulator, and its webhook endpoint
/// created through the API (Pulseboard makes the signing secret; its owner would
/// paste it into LemonSqueezy, where the demo keeps it to sign deliveries).
async fn seed_lemonsqueezy(base: &str, seeded: &Seeded) -> anyhow::Result<Endpoint> {
    eprintln!("Setting up Launchpad Templates (LemonSqueezy, a second store of Launchpad)…");
    let Seeded { client, org, .. } = seeded;
    let stores = expect_json(
        client
            .get(format!("{base}/api/orgs/{org}/stores"))
            .send()
            .await?,
        "stores",
    )
    .await?;
    let workspace = stores[0]["workspace_id"]
        .as_str()
        .context("workspace id")?
        .to_owned();
    let store = expect_json(
        client
            .post(format!("{base}/api/orgs/{org}/stores"))
            .json(
                &json!({ "workspace_id": workspace, "name": "Launchpad Templates",
                "currency": "USD", "timezone": LAUNCHPAD.timezone }),
            )
            .send()
            .await?,
        "create the templates store",
    )
    .await?;
    let store = store["id"].as_str().context("store id")?.to_owned();
    let integration = expect_json(
        client
            .post(format!(
                "{base}/api/orgs/{org}/integrations/lemonsqueezy/api-key"
            ))
            .json(&json!({ "store_id": store, "fields": {
                "api_key": defaults::LEMONSQUEEZY_API_KEY,
                "store_id": defaults::LEMONSQUEEZY_STORE_ID.to_string() } }))
            .send()
            .await?,
        "connect LemonSqueezy",
    )
    .await?;
    let id = integration["id"]
        .as_str()
        .context("integration id")?
        .to_owned();
    await_sync(client, base, org, "Launchpad Templates").await?;
    let created = expect_json(
        client
            .post(format!("{base}/api/orgs/{org}/integrations/{id}/webhook"))
            .json(&json!({}))
            .send()
            .await?,
        "LemonSqueezy webhook endpoint",
    )
    .await?;
    Ok(Endpoint {
        url: created["url"].as_str().context("endpoint url")?.to_owned(),
        secret: created["secret"]
            .as_str()
            .context("endpoint secret")?
            .to_owned(),
    })
}

/// A webhook endpoint as its provider knows it: where to POST, and the signing secret.
struct Endpoint {
    url: String,
    secret: String,
}

/// POSTs a delivery the simulator rendered and signed (its headers carry the signature).
async fn post_signed(
    client: &Client,
    url: &str,
    headers: &[(String, String)],
    body: &str,
) -> anyhow::Result<()> {
    let mut request = client.post(url).body(body.to_owned());
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = request.send().await?;
    if !response.status().is_success() {
        bail!(
            "{}: {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
    }
    Ok(())
}

/// POSTs one event, signed the way Stripe signs (`t=…,v1=HMAC-SHA256(secret, "t.body")`).
async fn post_stripe_webhook(client: &Client, url: &str, body: &str) -> anyhow::Result<()> {
    use hmac::Mac;
    let t = chrono::Utc::now().timestamp();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(DEMO_STRIPE_WEBHOOK_SECRET.as_bytes())
        .expect("any key length");
    mac.update(format!("{t}.{body}").as_bytes());
    let signature = format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()));
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("stripe-signature", signature)
        .body(body.to_owned())
        .send()
        .await?;
    if !response.status().is_success() {
        bail!(
            "{}: {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
    }
    Ok(())
}

//! Building and running the application: database, HTTP server, background loops,
//! and one cancellation token that stops them all.

use std::net::SocketAddr;

use anyhow::Context;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    config::Config,
    db::Database,
    http::{self, AppState},
    integrations::vault::Vault,
    notify::{self, slack::SlackPoster, Mailer},
};

pub struct Application {
    listener: TcpListener,
    state: AppState,
    mailer: Mailer,
    slack: SlackPoster,
    shutdown: CancellationToken,
}

impl Application {
    /// Connects (or starts the embedded database), migrates, and binds the listener.
    /// Bind to port 0 to get a free port (tests).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let vault = Vault::load(
            config.encryption_keys.as_ref().map(|k| k.expose_secret()),
            &config.data_dir,
        )?;
        let db = Database::connect(&config).await?;
        if let Err(error) = db.migrate().await {
            db.shutdown().await;
            return Err(error);
        }
        let listener = match TcpListener::bind(config.addr).await {
            Ok(listener) => listener,
            Err(error) => {
                db.shutdown().await;
                return Err(error).with_context(|| format!("binding {}", config.addr));
            }
        };
        let mut config = config;
        if config.public_url.port() == Some(0) {
            // Bound to port 0 (tests): links must carry the port actually bound.
            let port = listener.local_addr()?.port();
            let _ = config.public_url.set_port(Some(port));
        }
        let (mailer, slack) = match delivery(&config) {
            Ok(both) => both,
            Err(error) => {
                db.shutdown().await;
                return Err(error);
            }
        };
        tracing::info!(
            transport = mailer.transport_name(),
            "mail transport configured"
        );
        let providers = pulseboard_connectors::Registry::from_config(&config.providers_config())
            .context("configuring the providers")?;
        let state = AppState::new(db, config, vault, providers, mailer.clone());
        Ok(Self {
            listener,
            state,
            mailer,
            slack,
            shutdown: CancellationToken::new(),
        })
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The URL to print for people: the public URL, with the real port when bound to port 0.
    pub fn public_url(&self) -> String {
        self.state.config.public_url.to_string()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    pub fn slack_poster(&self) -> &SlackPoster {
        &self.slack
    }

    /// Cancel this token to stop the server gracefully.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until the shutdown token is cancelled, lets in-flight requests finish,
    /// then stops the background loops and the embedded database.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self {
            listener,
            state,
            mailer,
            slack,
            shutdown,
        } = self;
        let outbox = tokio::spawn(outbox_loop(state.clone(), mailer, shutdown.clone()));
        let slack = tokio::spawn(slack_loop(state.clone(), slack, shutdown.clone()));
        let sync = crate::sync::scheduler::spawn(state.clone(), shutdown.clone());
        let warm = tokio::spawn(warm_loop(state.clone(), shutdown.clone()));
        let webhooks = tokio::spawn(webhook_loop(state.clone(), shutdown.clone()));
        let live = tokio::spawn(crate::live::listen(state.clone(), shutdown.clone()));
        let app = http::router(state.clone());
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await;
        shutdown.cancel();
        let _ = outbox.await;
        let _ = slack.await;
        let _ = warm.await;
        let _ = webhooks.await;
        let _ = live.await;
        for task in sync {
            let _ = task.await;
        }
        state.db.shutdown().await;
        served.context("HTTP server")
    }
}

/// `pulseboard worker`: the scheduler, sync workers and outbox, without the HTTP API.
pub async fn run_worker(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let app = Application::build(Config {
        // The worker serves nothing; any free port keeps `build` simple.
        addr: "127.0.0.1:0".parse().expect("socket address"),
        ..config
    })
    .await?;
    let Application {
        listener,
        state,
        mailer,
        slack,
        ..
    } = app;
    drop(listener);
    let outbox = tokio::spawn(outbox_loop(state.clone(), mailer, shutdown.clone()));
    let slack = tokio::spawn(slack_loop(state.clone(), slack, shutdown.clone()));
    let sync = crate::sync::scheduler::spawn(state.clone(), shutdown.clone());
    let webhooks = tokio::spawn(webhook_loop(state.clone(), shutdown.clone()));
    shutdown.cancelled().await;
    let _ = webhooks.await;
    let _ = outbox.await;
    let _ = slack.await;
    for task in sync {
        let _ = task.await;
    }
    state.db.shutdown().await;
    Ok(())
}

/// Processes stored webhook deliveries as soon as the intake stores one, and every
/// background interval in case a wake-up was missed (another instance's intake).
async fn webhook_loop(state: AppState, shutdown: CancellationToken) {
    let refresher = crate::webhooks::Refresher::default();
    loop {
        if let Err(error) = crate::webhooks::process_due_with(&state, &refresher).await {
            tracing::warn!(error = %format!("{error:#}"), "webhook processing pass failed");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = state.webhook_wakeup.notified() => {}
            _ = tokio::time::sleep(state.config.background_interval) => {}
        }
    }
}

/// Recomputes recently loaded dashboards when their data changes (`dashboards::warm`).
async fn warm_loop(state: AppState, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(state.config.background_interval);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {
                crate::dashboards::warm::tick(&state).await;
            }
        }
    }
}

async fn outbox_loop(state: AppState, mailer: Mailer, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(state.config.background_interval);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Err(error) = notify::deliver_due(&state.db, &mailer).await {
            tracing::warn!(error = %format!("{error:#}"), "mail outbox pass failed");
        }
        if let Err(error) = forget_stale_oauth_states(&state).await {
            tracing::warn!(%error, "cleaning up expired OAuth states failed");
        }
    }
}

/// Posts queued Slack messages (`notify::slack`), beside the mail outbox.
async fn slack_loop(state: AppState, poster: SlackPoster, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(state.config.background_interval);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Err(error) = notify::slack::deliver_due(&state.db, &state.vault, &poster).await {
            tracing::warn!(error = %format!("{error:#}"), "Slack outbox pass failed");
        }
    }
}

/// The mail transport and the Slack poster the configuration asks for.
fn delivery(config: &Config) -> anyhow::Result<(Mailer, SlackPoster)> {
    let mailer = Mailer::from_config(config).context("configuring mail")?;
    let slack = SlackPoster::new(config.slack.timeout)?;
    Ok((mailer, slack))
}

async fn forget_stale_oauth_states(state: &AppState) -> sqlx::Result<()> {
    let mut tx = state.db.worker_tx().await?;
    crate::db::oauth_states::delete_stale(&mut *tx).await?;
    tx.commit().await
}

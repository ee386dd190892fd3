//! The command line: `serve`, `migrate`, and the shared configuration flags.

use clap::{Parser, Subcommand};

use crate::{
    config::{Config, ConfigArgs},
    db::Database,
    telemetry, Application,
};

/// Pulseboard: a self-hosted, multi-tenant metrics dashboard for stores and SaaS products.
///
/// Without DATABASE_URL, Pulseboard runs its own PostgreSQL inside the data
/// directory (the PostgreSQL server package must be installed).
#[derive(Debug, Parser)]
#[command(name = "pulseboard", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API and web UI with the background loops, until SIGINT/SIGTERM.
    /// Migrations are applied at start.
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::from_args(cli.config)?;
    telemetry::init(config.log_format);
    match cli.command {
        Command::Serve => {
            let app = Application::build(config).await?;
            let shutdown = app.shutdown_token();
            tokio::spawn(async move {
                wait_for_signal().await;
                tracing::info!("shutdown requested; finishing in-flight requests");
                shutdown.cancel();
            });
            eprintln!("Pulseboard is running at {}", app.public_url());
            app.run_until_stopped().await
        }
        Command::Migrate => {
            let db = Database::connect(&config).await?;
            let result = db.migrate().await;
            db.shutdown().await;
            result?;
            eprintln!("migrations are up to date");
            Ok(())
        }
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("installing the SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("installing the SIGINT handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

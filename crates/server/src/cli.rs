//! The command line: `serve`, `migrate`, and the shared configuration flags.

use clap::{Parser, Subcommand};

use secrecy::ExposeSecret;

use crate::{
    config::{Config, ConfigArgs},
    db::Database,
    integrations::credentials,
    integrations::vault::{self, Vault},
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
    /// Run Pulseboard with two demo tenants (a Shopify shop and a SaaS on Stripe) fed by
    /// the in-process provider simulator, on a fresh database in {data_dir}/demo.
    Demo,
    /// Run the sync scheduler and workers (and the mail outbox) without the HTTP API,
    /// until SIGINT/SIGTERM. Any number of workers can run beside `serve`.
    Worker,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Write a consistent backup of the database (`pg_dump -Fc`) while Pulseboard
    /// runs or not: the embedded cluster in the data dir, or DATABASE_URL's.
    /// The credential encryption keys are not in it: the command says where they are.
    Backup {
        /// The file to write (default: `pulseboard-<UTC time>.dump` here).
        file: Option<std::path::PathBuf>,
    },
    /// Replace the database's contents with a backup, in one transaction (all or
    /// nothing). Stop Pulseboard first. Newer migrations apply at the next start.
    Restore {
        /// A file written by `pulseboard backup`.
        file: std::path::PathBuf,
    },
    /// Manage the credential encryption keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Put an organization on a plan (free, pro or agency): self-hosted Pulseboard has
    /// no billing, so the operator decides how many stores, integrations and events
    /// an organization may have.
    Plan {
        /// The organization's slug (as in its URLs).
        org: String,
        /// `free`, `pro` or `agency`.
        #[arg(value_parser = ["free", "pro", "agency"])]
        plan: String,
    },
    /// Run the provider simulator (simulated Stripe and Shopify) on its own, to try the
    /// connect flows without real accounts. Prints the settings that point Pulseboard at it.
    Simulator {
        /// Address to listen on.
        #[arg(
            long,
            env = "PULSEBOARD_SIMULATOR_ADDR",
            default_value = "127.0.0.1:4010"
        )]
        listen: std::net::SocketAddr,
        /// Print the settings (`VAR=value`, one a line) for a simulator at `--listen`
        /// and exit without serving.
        #[arg(long)]
        print_env: bool,
        /// Days of generated history behind every simulated provider (two years by
        /// default). Fewer make first syncs quicker (the browser tests use 35: a
        /// Shopify backfill of two years waits minutes on the simulated cost bucket).
        #[arg(long, env = "PULSEBOARD_SIMULATOR_HISTORY_DAYS", value_parser = clap::value_parser!(u32).range(7..=3650))]
        history_days: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print a new key entry (`id:base64`) to put first in PULSEBOARD_ENCRYPTION_KEYS.
    Generate {
        /// The new key's id.
        #[arg(long, default_value = "k1")]
        id: String,
    },
    /// Re-encrypt every stored credential under the active (first) key. Keep the old
    /// keys in the ring until this has run.
    Rotate,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::from_args(cli.config)?;
    match cli.command {
        Command::Demo => telemetry::init_with(config.log_format, telemetry::DEMO_FILTER),
        _ => telemetry::init(config.log_format),
    }
    match cli.command {
        Command::Simulator {
            listen,
            print_env,
            history_days,
        } => {
            use pulseboard_simulator::{connector_settings, defaults, serve, SimulatorConfig};
            let env: Vec<String> = connector_settings(&format!("http://{listen}"))
                .into_iter()
                .map(|(var, value)| format!("{var}={value}"))
                .collect();
            if print_env {
                println!("{}", env.join("\n"));
                return Ok(());
            }
            eprintln!(
                "Provider simulator at http://{listen}. Start Pulseboard with:\n{}\n\
                 Stripe restricted key accepted: {}",
                env.iter()
                    .map(|line| format!("  {line:?}"))
                    .collect::<Vec<_>>()
                    .join(" \\\n"),
                defaults::STRIPE_RESTRICTED_KEY,
            );
            let mut sim = SimulatorConfig::default();
            if let Some(days) = history_days {
                sim.data.history_days = days;
            }
            serve(listen, sim, wait_for_signal()).await?;
            Ok(())
        }
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
        Command::Demo => {
            let shutdown = tokio_util::sync::CancellationToken::new();
            let stop = shutdown.clone();
            tokio::spawn(async move {
                wait_for_signal().await;
                tracing::info!("shutdown requested; stopping the demo");
                stop.cancel();
            });
            crate::demo::run(config, shutdown).await
        }
        Command::Worker => {
            let shutdown = tokio_util::sync::CancellationToken::new();
            let stop = shutdown.clone();
            tokio::spawn(async move {
                wait_for_signal().await;
                tracing::info!("shutdown requested; stopping the workers");
                stop.cancel();
            });
            eprintln!("Pulseboard worker running; stop with Ctrl-C");
            crate::startup::run_worker(config, shutdown).await
        }
        Command::Migrate => {
            let db = Database::connect(&config).await?;
            let result = db.migrate().await;
            db.shutdown().await;
            result?;
            eprintln!("migrations are up to date");
            Ok(())
        }
        Command::Backup { file } => {
            let file = file.unwrap_or_else(crate::db::backup::default_file);
            let bytes = crate::db::backup::backup(&config, &file).await?;
            eprintln!(
                "backup written to {} ({:.1} MB)\n{}",
                file.display(),
                bytes as f64 / 1e6,
                crate::db::backup::key_reminder(&config)
            );
            Ok(())
        }
        Command::Restore { file } => {
            crate::db::backup::restore(&config, &file).await?;
            eprintln!(
                "restored {}; start Pulseboard (it applies any newer migrations)\n{}",
                file.display(),
                crate::db::backup::restore_reminder(&config)
            );
            Ok(())
        }
        Command::Plan { org, plan } => {
            let db = Database::connect(&config).await?;
            let result = async {
                db.migrate().await?;
                anyhow::Ok(crate::db::orgs::set_plan(&db, &org, &plan).await?)
            }
            .await;
            db.shutdown().await;
            anyhow::ensure!(result?, "there is no organization `{org}`");
            eprintln!("{org} is on the {plan} plan");
            Ok(())
        }
        Command::Keys(KeysCommand::Generate { id }) => {
            println!("{}", vault::generate_key_entry(&id));
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate) => {
            let vault = Vault::load(
                config.encryption_keys.as_ref().map(|k| k.expose_secret()),
                &config.data_dir,
            )?;
            let db = Database::connect(&config).await?;
            let result = async {
                db.migrate().await?;
                credentials::rotate(&db, &vault).await
            }
            .await;
            db.shutdown().await;
            let report = result?;
            eprintln!(
                "re-encrypted {} credential(s) under key `{}`",
                report.reencrypted,
                vault.active_key_id()
            );
            for (integration, why) in &report.failed {
                eprintln!("could not re-encrypt a secret of {integration} (integration or Slack channel): {why}");
            }
            if report.failed.is_empty() {
                Ok(())
            } else {
                anyhow::bail!(
                    "{} credential(s) could not be re-encrypted",
                    report.failed.len()
                )
            }
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

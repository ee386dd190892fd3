//! One configuration type, read from flags and `PULSEBOARD_…` environment variables
//! (clap does both) and validated once at start-up.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::{bail, Context};
use clap::Args;
use ipnet::IpNet;
use pulseboard_connectors::{setting_vars, ProvidersConfig, Registry, Settings};
use secrecy::SecretString;
use url::Url;

/// Settings shared by every subcommand. Each flag is also an environment variable.
/// Provider settings (`PULSEBOARD_<PROVIDER>_…`) are environment variables only,
/// declared by each provider and listed by [`provider_settings_help`].
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// PostgreSQL connection string. When unset, Pulseboard runs a private
    /// PostgreSQL cluster inside the data directory (embedded mode).
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<SecretString>,

    /// Where Pulseboard keeps its files: the embedded database, generated keys,
    /// and mail written to disk when no mail transport is configured.
    #[arg(
        long,
        env = "PULSEBOARD_DATA_DIR",
        default_value = "./pulseboard-data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Address the HTTP server listens on.
    #[arg(
        long,
        env = "PULSEBOARD_ADDR",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub addr: SocketAddr,

    /// The URL users reach Pulseboard at (used in links, OAuth redirects and to
    /// decide whether cookies are `Secure`). Defaults to http://{addr}.
    #[arg(long, env = "PULSEBOARD_PUBLIC_URL", global = true)]
    pub public_url: Option<Url>,

    /// Bearer secret for the `/api/cron/*` routes (external schedulers). Unset: the routes refuse every call.
    #[arg(
        long,
        env = "PULSEBOARD_CRON_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub cron_secret: Option<SecretString>,

    /// Credential encryption key ring: comma-separated `id:base64(32 bytes)`, the first
    /// one encrypts. Unset: a key is generated into `{data_dir}/encryption-keys`.
    /// `pulseboard keys generate` prints a new entry.
    #[arg(
        long,
        env = "PULSEBOARD_ENCRYPTION_KEYS",
        global = true,
        hide_env_values = true
    )]
    pub encryption_keys: Option<SecretString>,

    /// Sender address for outgoing mail.
    #[arg(
        long,
        env = "PULSEBOARD_EMAIL_FROM",
        default_value = "Pulseboard <pulseboard@localhost>",
        global = true
    )]
    pub email_from: String,

    /// Send mail over SMTP: `smtp://user:pass@host:587?tls=required` (STARTTLS
    /// required), `…?tls=opportunistic` (STARTTLS when offered), `smtps://user:pass@host:465`
    /// (implicit TLS) or `smtp://host:25` (plaintext, for a relay on a trusted network);
    /// a path (`smtp://host/mail.example.com`) sets the EHLO name, which defaults to the
    /// public URL's host. Exclusive with PULSEBOARD_RESEND_API_KEY; with neither, mail
    /// is written to the data directory.
    #[arg(
        long,
        env = "PULSEBOARD_SMTP_URL",
        global = true,
        hide_env_values = true
    )]
    pub smtp_url: Option<SecretString>,

    /// Send mail through Resend's HTTP API with this key. Exclusive with
    /// PULSEBOARD_SMTP_URL.
    #[arg(
        long,
        env = "PULSEBOARD_RESEND_API_KEY",
        global = true,
        hide_env_values = true
    )]
    pub resend_api_key: Option<SecretString>,

    /// Base URL of Resend's API (tests and the simulator override it).
    #[arg(
        long,
        env = "PULSEBOARD_RESEND_URL",
        default_value = "https://api.resend.com",
        global = true
    )]
    pub resend_url: Url,

    /// Comma-separated URL prefixes a Slack channel's incoming-webhook URL must start
    /// with (the simulator adds its own).
    #[arg(
        long,
        env = "PULSEBOARD_SLACK_WEBHOOK_URL_PREFIXES",
        default_value = "https://hooks.slack.com/",
        value_delimiter = ',',
        global = true
    )]
    pub slack_webhook_url_prefixes: Vec<String>,

    /// Directory holding the PostgreSQL server binaries (initdb, postgres) for embedded
    /// mode. Unset: searched on PATH, via pg_config, then /usr/lib/postgresql/*/bin.
    #[arg(long, env = "PULSEBOARD_POSTGRES_BIN_DIR", global = true)]
    pub postgres_bin_dir: Option<PathBuf>,

    /// How long a login session lasts, in hours.
    #[arg(long, env = "PULSEBOARD_SESSION_TTL_HOURS", default_value_t = 24 * 30, global = true)]
    pub session_ttl_hours: u32,

    /// Bearer token for `GET /metrics` (Prometheus: `authorization.credentials`).
    /// Unset: `/metrics` answers callers on the loopback interface only.
    #[arg(
        long,
        env = "PULSEBOARD_METRICS_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub metrics_token: Option<SecretString>,

    /// Comma-separated addresses or CIDR ranges of reverse proxies whose
    /// `X-Forwarded-For` / `Forwarded` headers are believed for the client's address
    /// (login throttling, the audit of sign-ups). Unset: the socket's peer address.
    #[arg(
        long,
        env = "PULSEBOARD_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = parse_network,
        global = true
    )]
    pub trusted_proxies: Vec<IpNet>,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "PULSEBOARD_MAX_BODY_BYTES", default_value_t = 256 * 1024, global = true)]
    pub max_body_bytes: usize,

    /// Longest a request waits for a database connection, in seconds. When PostgreSQL
    /// is down or every connection is busy, requests answer 503 with `Retry-After`
    /// after this long instead of queueing.
    #[arg(
        long,
        env = "PULSEBOARD_DB_ACQUIRE_TIMEOUT_SECS",
        default_value_t = 3,
        global = true
    )]
    pub db_acquire_timeout_secs: u64,

    /// Seconds a sync worker's claim on a job lasts without a heartbeat; after that
    /// another worker resumes the job from its cursor.
    #[arg(
        long,
        env = "PULSEBOARD_SYNC_LEASE_SECS",
        default_value_t = 60,
        global = true
    )]
    pub sync_lease_secs: u64,

    /// Seconds between scheduler passes (enqueueing due syncs, requeueing jobs whose
    /// lease ran out).
    #[arg(
        long,
        env = "PULSEBOARD_SYNC_SCHEDULE_SECS",
        default_value_t = 60,
        global = true
    )]
    pub sync_schedule_secs: u64,

    /// Sync jobs one process runs at once (`serve` and `worker` alike). Syncs mostly
    /// wait on providers' APIs, so this can exceed the cores; 0 runs no syncs here.
    #[arg(
        long,
        env = "PULSEBOARD_SYNC_WORKERS",
        default_value_t = 4,
        global = true
    )]
    pub sync_workers: usize,

    /// Log format: `json` (one object per line) or `pretty`.
    #[arg(
        long,
        env = "PULSEBOARD_LOG_FORMAT",
        default_value = "json",
        global = true
    )]
    pub log_format: LogFormat,
}

impl ConfigArgs {
    /// Every flag at its documented default, with `data_dir` and a free loopback
    /// port, without reading the environment: what tests and benchmarks that run
    /// Pulseboard in-process start from (overriding the fields they care about).
    pub fn for_local(data_dir: PathBuf) -> Self {
        Self {
            database_url: None,
            data_dir,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            cron_secret: None,
            metrics_token: None,
            trusted_proxies: Vec::new(),
            encryption_keys: None,
            email_from: "Pulseboard <pulseboard@localhost>".into(),
            smtp_url: None,
            resend_api_key: None,
            resend_url: "https://api.resend.com".parse().expect("a valid URL"),
            slack_webhook_url_prefixes: vec!["https://hooks.slack.com/".into()],
            postgres_bin_dir: None,
            session_ttl_hours: 24 * 30,
            max_body_bytes: 256 * 1024,
            db_acquire_timeout_secs: 3,
            sync_lease_secs: 60,
            sync_schedule_secs: 60,
            sync_workers: 4,
            log_format: LogFormat::Json,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: Option<SecretString>,
    pub data_dir: PathBuf,
    pub addr: SocketAddr,
    pub public_url: Url,
    pub cron_secret: Option<SecretString>,
    pub metrics_token: Option<SecretString>,
    pub trusted_proxies: Vec<IpNet>,
    pub encryption_keys: Option<SecretString>,
    pub email_from: String,
    pub mail: MailSettings,
    pub slack: SlackSettings,
    pub postgres_bin_dir: Option<PathBuf>,
    pub session_ttl: Duration,
    pub max_body_bytes: usize,
    /// Longest wait for a pooled database connection (PULSEBOARD_DB_ACQUIRE_TIMEOUT_SECS).
    pub db_acquire_timeout: Duration,
    /// Connections in the pool (tests shrink it).
    pub db_max_connections: u32,
    pub log_format: LogFormat,
    /// Provider app credentials and endpoint overrides, by variable name
    /// (`PULSEBOARD_STRIPE_API_URL`), read from what each provider declares.
    pub providers: Settings,
    /// How often the background loops (mail outbox) wake up.
    pub background_interval: Duration,
    /// Whole-request timeout of calls to providers' APIs (tests shorten it).
    pub provider_timeout: Duration,
    pub sync: SyncSettings,
}

impl Config {
    pub fn from_args(args: ConfigArgs) -> anyhow::Result<Self> {
        let public_url = match args.public_url {
            Some(url) => url,
            None => Url::parse(&format!("http://{}", args.addr))
                .context("building the default public URL")?,
        };
        if !matches!(public_url.scheme(), "http" | "https") {
            bail!("PULSEBOARD_PUBLIC_URL must be an http or https URL, got {public_url}");
        }
        if args.session_ttl_hours == 0 {
            bail!("PULSEBOARD_SESSION_TTL_HOURS must be at least 1");
        }
        if args.max_body_bytes < 1024 {
            bail!("PULSEBOARD_MAX_BODY_BYTES must be at least 1024");
        }
        if args.sync_lease_secs < 3 {
            bail!("PULSEBOARD_SYNC_LEASE_SECS must be at least 3 (workers heartbeat every third of it)");
        }
        if args.sync_schedule_secs == 0 {
            bail!("PULSEBOARD_SYNC_SCHEDULE_SECS must be at least 1");
        }
        if args.db_acquire_timeout_secs == 0 {
            bail!("PULSEBOARD_DB_ACQUIRE_TIMEOUT_SECS must be at least 1");
        }
        if args.smtp_url.is_some() && args.resend_api_key.is_some() {
            bail!(
                "both PULSEBOARD_SMTP_URL and PULSEBOARD_RESEND_API_KEY are set; choose one mail transport"
            );
        }
        if !matches!(args.resend_url.scheme(), "http" | "https") {
            bail!("PULSEBOARD_RESEND_URL must be an http or https URL");
        }
        let slack = SlackSettings::new(args.slack_webhook_url_prefixes)?;
        let providers = Settings::from_lookup(setting_vars().map(|(var, _)| var), |var| {
            std::env::var(var).ok()
        });
        let config = Self {
            providers,
            database_url: args.database_url,
            data_dir: args.data_dir,
            addr: args.addr,
            public_url,
            cron_secret: args.cron_secret,
            metrics_token: args.metrics_token,
            trusted_proxies: args.trusted_proxies,
            encryption_keys: args.encryption_keys,
            email_from: args.email_from,
            mail: MailSettings {
                smtp_url: args.smtp_url,
                resend_api_key: args.resend_api_key,
                resend_url: args.resend_url,
                timeout: Duration::from_secs(30),
            },
            slack,
            postgres_bin_dir: args.postgres_bin_dir,
            session_ttl: Duration::from_secs(u64::from(args.session_ttl_hours) * 3600),
            max_body_bytes: args.max_body_bytes,
            db_acquire_timeout: Duration::from_secs(args.db_acquire_timeout_secs),
            db_max_connections: 16,
            log_format: args.log_format,
            background_interval: Duration::from_secs(2),
            provider_timeout: pulseboard_connectors::HttpConfig::default().timeout,
            sync: SyncSettings {
                lease: Duration::from_secs(args.sync_lease_secs),
                schedule_every: Duration::from_secs(args.sync_schedule_secs),
                workers: args.sync_workers,
                ..SyncSettings::default()
            },
        };
        config.validate_providers()?;
        Ok(config)
    }

    /// The connectors' configuration: these provider settings and the default HTTP
    /// client.
    pub fn providers_config(&self) -> ProvidersConfig {
        ProvidersConfig {
            settings: self.providers.clone(),
            http: pulseboard_connectors::HttpConfig {
                timeout: self.provider_timeout,
                ..Default::default()
            },
        }
    }

    /// Checks the provider settings by building every provider once, so a malformed
    /// one stops the start with the variable's name.
    pub fn validate_providers(&self) -> anyhow::Result<()> {
        Registry::from_config(&self.providers_config()).context("invalid provider settings")?;
        Ok(())
    }

    /// Whether cookies must carry `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// `scheme://host[:port]` of the public URL, compared against `Origin` headers.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    /// A link to a path of the web app, e.g. `link("/invite/abc")`.
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.public_url.as_str().trim_end_matches('/'), path)
    }
}

/// The providers' settings, one line each, for `pulseboard --help`.
pub fn provider_settings_help() -> String {
    let mut help = String::from(
        "Provider settings (environment variables only; each provider declares its own):\n",
    );
    for (var, spec) in setting_vars() {
        let default = spec
            .default
            .map(|d| format!(" [default: {d}]"))
            .unwrap_or_default();
        help.push_str(&format!("  {var}\n          {}{default}\n", spec.help));
    }
    help
}

/// Outgoing mail: which transport, and how long one attempt may take.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// SMTP transport URL (it may carry a password).
    pub smtp_url: Option<SecretString>,
    /// Resend API key.
    pub resend_api_key: Option<SecretString>,
    /// Resend's API base (`{base}/emails`).
    pub resend_url: Url,
    /// Per attempt: connect, talk, get the answer.
    pub timeout: Duration,
}

/// Slack incoming webhooks.
#[derive(Debug, Clone)]
pub struct SlackSettings {
    /// A webhook URL must start with one of these (`https://hooks.slack.com/`).
    pub webhook_url_prefixes: Vec<String>,
    /// Per post.
    pub timeout: Duration,
}

impl SlackSettings {
    /// Checks the prefixes: each an http(s) URL ending in `/`, so that a prefix
    /// names a whole host (or path), never part of a host name.
    pub fn new(prefixes: Vec<String>) -> anyhow::Result<Self> {
        let mut webhook_url_prefixes = Vec::new();
        for prefix in prefixes {
            let prefix = prefix.trim();
            if prefix.is_empty() {
                continue;
            }
            let parsed = Url::parse(prefix).with_context(|| {
                format!("PULSEBOARD_SLACK_WEBHOOK_URL_PREFIXES: {prefix} is not a URL")
            })?;
            if !matches!(parsed.scheme(), "http" | "https") || !prefix.ends_with('/') {
                bail!(
                    "PULSEBOARD_SLACK_WEBHOOK_URL_PREFIXES: {prefix} must be an http(s) URL ending in /"
                );
            }
            webhook_url_prefixes.push(parsed.to_string());
        }
        Ok(Self {
            webhook_url_prefixes,
            timeout: Duration::from_secs(10),
        })
    }
}

/// Settings of the sync engine (tests shorten them).
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// Sync jobs run at once per process; 0 runs none (tests drive jobs themselves).
    pub workers: usize,
    /// How long a claim lasts without a heartbeat.
    pub lease: Duration,
    /// How often the scheduler enqueues due integrations and reaps expired leases.
    pub schedule_every: Duration,
    /// How often idle workers look for work.
    pub poll_every: Duration,
    /// How often the scheduler evaluates every alert rule; `None` leaves it to
    /// `POST /api/cron/check-alerts`.
    pub alerts_every: Option<Duration>,
    /// Whether the scheduler sends the weekly digest (Mondays from 09:00 UTC);
    /// otherwise `POST /api/cron/weekly-digest` does.
    pub weekly_digest: bool,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            workers: 4,
            lease: Duration::from_secs(60),
            schedule_every: Duration::from_secs(60),
            poll_every: Duration::from_secs(5),
            alerts_every: Some(Duration::from_secs(3600)),
            weekly_digest: true,
        }
    }
}

/// An address (`10.0.0.1`, a single host) or a CIDR range (`10.0.0.0/8`, `fd00::/8`).
fn parse_network(raw: &str) -> Result<IpNet, String> {
    let raw = raw.trim();
    raw.parse::<IpNet>()
        .or_else(|_| raw.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{raw}` is neither an IP address nor a CIDR range (10.0.0.0/8)"))
}

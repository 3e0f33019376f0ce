//! Configuration: built-in defaults, overridden by a TOML file (`--config`), overridden by the
//! environment (`YRD_BIND`, `YRD_DATA_DIR`, `YRD_LOG_FORMAT`, `YRD_CONFIG`), overridden by
//! command-line flags.
//!
//! ```toml
//! # server.toml
//! bind = "127.0.0.1:8080"
//! data_dir = "reg"              # relative paths are relative to this file's directory
//! log_format = "json"           # or "text"
//! max_batch = 512               # submissions per durable batch (group commit)
//! queue_capacity = 4096         # requests waiting for the writer before senders wait
//! shutdown_grace_secs = 30      # how long in-flight requests may take after SIGTERM
//! cookie_secure = true          # session cookie only over HTTPS (also --cookie-secure)
//! clock_start = 2022-01-24T10:00:00  # demonstrations only: the registry clock starts here
//! max_streams = 1024            # live market streams served at once (503 beyond)
//!
//! [auth.session]                # yrd_auth::AuthConfig; every field optional
//! idle_timeout_secs = 900
//! [auth.lockout]
//! user_max_failures = 5
//! ```

use crate::writer::WriterConfig;
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default most live market streams served at once.
pub const DEFAULT_MAX_STREAMS: usize = 1024;

/// Default listening address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// How logs are written (to standard error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (for log shippers).
    Json,
}

/// `yrd-ets serve`: flags, each with an environment variable behind it.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Data directory holding the registry (create it with `yrd-ets init`).
    #[arg(long, env = "YRD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "YRD_BIND")]
    pub bind: Option<SocketAddr>,
    /// Configuration file (TOML): bind, data_dir, log_format, max_batch, queue_capacity,
    /// shutdown_grace_secs, cookie_secure, clock_start, max_streams, [auth]. Flags and
    /// environment variables override it.
    #[arg(long, env = "YRD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format [default: text].
    #[arg(long, env = "YRD_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Mark the session cookie `Secure` (browsers then send it over HTTPS only): turn on
    /// whenever clients reach the server through TLS.
    #[arg(long, env = "YRD_COOKIE_SECURE")]
    pub cookie_secure: bool,
    /// Start the registry's clock at this local time (e.g. `2022-01-24T10:00:00`) instead of
    /// the system clock; it runs at the real rate from there. For demonstrations and tests on a
    /// registry whose business dates are in the past - never in production.
    #[arg(long, env = "YRD_CLOCK_START")]
    pub clock_start: Option<chrono::NaiveDateTime>,
}

/// The configuration file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Listening address.
    pub bind: Option<SocketAddr>,
    /// Data directory (relative to the file's directory).
    pub data_dir: Option<PathBuf>,
    /// Log format.
    pub log_format: Option<LogFormat>,
    /// Submissions per durable batch.
    pub max_batch: Option<usize>,
    /// Queued write requests.
    pub queue_capacity: Option<usize>,
    /// Seconds in-flight requests may take after a shutdown signal.
    pub shutdown_grace_secs: Option<u64>,
    /// Mark the session cookie `Secure`.
    pub cookie_secure: Option<bool>,
    /// Simulated start of the registry's clock (local time; demonstrations and tests only).
    pub clock_start: Option<chrono::NaiveDateTime>,
    /// Most live market streams served at once.
    pub max_streams: Option<usize>,
    /// Authentication parameters (`[auth.session]`, `[auth.lockout]`, ...; see
    /// `yrd_auth::AuthConfig`).
    pub auth: Option<yrd_auth::AuthConfig>,
}

impl FileConfig {
    /// Reads and parses `path`; a relative `data_dir` becomes relative to the file's directory.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the server configuration {}", path.display()))?;
        let mut file: FileConfig = toml::from_str(&text)
            .with_context(|| format!("in the server configuration {}", path.display()))?;
        if let Some(dir) = &file.data_dir
            && dir.is_relative()
            && let Some(base) = path.parent()
        {
            file.data_dir = Some(base.join(dir));
        }
        Ok(file)
    }
}

/// The resolved configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Listening address.
    pub bind: SocketAddr,
    /// Data directory of the registry.
    pub data_dir: PathBuf,
    /// Log format.
    pub log_format: LogFormat,
    /// Writer tuning.
    pub writer: WriterConfig,
    /// How long in-flight requests may take after a shutdown signal before their connections are
    /// dropped (the writer's batch always completes).
    pub shutdown_grace: Duration,
    /// Whether the session cookie is marked `Secure`.
    pub cookie_secure: bool,
    /// Simulated start of the registry's clock (local time), `None` for the system clock.
    pub clock_start: Option<chrono::NaiveDateTime>,
    /// Most live market streams (`/v1/market/stream`) served at once; beyond, 503.
    pub max_streams: usize,
    /// Authentication parameters.
    pub auth: yrd_auth::AuthConfig,
}

impl ServerConfig {
    /// Defaults for a data directory.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            bind: DEFAULT_BIND.parse().expect("valid default address"),
            data_dir: data_dir.into(),
            log_format: LogFormat::Text,
            writer: WriterConfig::default(),
            shutdown_grace: Duration::from_secs(30),
            cookie_secure: false,
            clock_start: None,
            max_streams: DEFAULT_MAX_STREAMS,
            auth: yrd_auth::AuthConfig::default(),
        }
    }

    /// Flags and environment (`args`, as clap merged them) over the file named by `--config`
    /// (if any) over the defaults.
    pub fn resolve(args: &ServeArgs) -> Result<Self> {
        let file = match &args.config {
            Some(path) => FileConfig::read(path)?,
            None => FileConfig::default(),
        };
        Self::merge(args, &file)
    }

    /// `args` over `file` over the defaults.
    pub fn merge(args: &ServeArgs, file: &FileConfig) -> Result<Self> {
        let Some(data_dir) = args.data_dir.clone().or_else(|| file.data_dir.clone()) else {
            bail!("no data directory: give --data-dir, YRD_DATA_DIR or data_dir in --config");
        };
        let mut config = Self::for_data_dir(data_dir);
        if let Some(bind) = args.bind.or(file.bind) {
            config.bind = bind;
        }
        if let Some(format) = args.log_format.or(file.log_format) {
            config.log_format = format;
        }
        if let Some(n) = file.max_batch {
            if n == 0 {
                bail!("max_batch must be at least 1");
            }
            config.writer.max_batch = n;
        }
        if let Some(n) = file.queue_capacity {
            if n == 0 {
                bail!("queue_capacity must be at least 1");
            }
            config.writer.queue_capacity = n;
        }
        if let Some(secs) = file.shutdown_grace_secs {
            config.shutdown_grace = Duration::from_secs(secs);
        }
        config.cookie_secure = args.cookie_secure || file.cookie_secure.unwrap_or(false);
        config.clock_start = args.clock_start.or(file.clock_start);
        if let Some(n) = file.max_streams {
            if n == 0 {
                bail!("max_streams must be at least 1");
            }
            config.max_streams = n;
        }
        if let Some(auth) = &file.auth {
            auth.validate()
                .map_err(|e| anyhow::anyhow!("in the server configuration: {e}"))?;
            config.auth = auth.clone();
        }
        Ok(config)
    }
}

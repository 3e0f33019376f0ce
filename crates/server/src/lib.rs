//! `yrd-server`: the HTTP JSON API of yrd-ets (`yrd-ets serve`).
//!
//! ```text
//!   clients --HTTP--> axum router (request id, access log, metrics, 64 KiB body limit,
//!                     |             JSON errors, authentication by yrd-auth)
//!                     |-- GET  ... --> latest Arc<Snapshot> (RegistryState) --> read models
//!                     |-- POST /v1/transactions --mpsc--> writer thread (owns Registry<SqliteStore>)
//!                     |                                     batch -> submit_batch (one fsync)
//!                     |                                     -> new snapshot -> market events -> receipts
//!                     `-- GET /v1/market/stream <--broadcast-- market events (SSE)
//! ```
//!
//! * **One writer.** The registry is single-writer; [`writer`] runs it on a thread of its own,
//!   fed by a bounded channel. Whatever queued while a batch was being made durable forms the next
//!   batch (group commit). A request is answered only after the batch holding it was fsynced.
//! * **Snapshot reads.** After each batch that changed something, the writer publishes a copy of
//!   the state as an `Arc<Snapshot>`; reads take the latest one and never wait for a write or an
//!   fsync. The snapshot is published before the batch's answers, so clients read their writes.
//! * **Idempotency.** Every state-changing request carries an `Idempotency-Key`, which becomes
//!   the registry transaction id: a retry returns the original receipt, a reuse with other
//!   content is 409 `TRANSACTION_ID_REUSED` (the registry decides; the server adds nothing).
//! * **Live market data** ([`stream`]): trades and top-of-book changes derived from each batch's
//!   effects, as server-sent events.
//! * **Errors** ([`error`]): one body everywhere, `{"error": {"code", "message", "field"}}`.
//! * **Auth** ([`auth`], [`authz`], [`session`]): `yrd-auth` users and sessions (bearer token or
//!   `yrd_session` cookie), checked per account on every route and per command on every write;
//!   sessions, users and the authentication audit log under `/v1/session`, `/v1/users`,
//!   `/v1/audit`. The user store is `<data_dir>/users.db`. See `docs/api.md`.
//! * **Idempotency per user**: the transaction id is `<user id>:<Idempotency-Key>`, so two users
//!   never collide and nobody can replay another's receipt.
//! * **OpenAPI** ([`openapi`]): generated from the handlers and types, served at
//!   `/v1/openapi.json`.
//! * **Shutdown**: on SIGTERM or ctrl-c the listener closes, in-flight requests finish (up to a
//!   grace period), streams end, the writer finishes its batch durably, the store is closed.

#![warn(missing_docs)]

pub mod auth;
pub mod authz;
pub mod clock;
pub mod config;
pub mod error;
pub mod extract;
mod handlers;
pub mod model;
pub mod openapi;
pub mod overview;
pub mod security;
pub mod session;
pub mod stream;
pub mod telemetry;
pub mod web;
pub mod writer;

pub use auth::{Authenticated, Caller, SESSION_COOKIE, SignedIn};
pub use config::{LogFormat, ServeArgs, ServerConfig};
pub use error::ApiError;
pub use writer::{Snapshot, WriteOutcome, WriterConfig, WriterStats};

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::PrometheusHandle;
use std::future::Future;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};
use tokio::sync::{broadcast, watch};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use yrd_registry::Registry;
use yrd_storage::SqliteStore;

/// Largest request body accepted: 64 KiB (413 `PAYLOAD_TOO_LARGE` beyond).
pub const BODY_LIMIT: usize = 64 * 1024;

/// What every handler sees (cheap to clone).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The shared parts of [`AppState`].
pub struct Shared {
    /// Submits to the writer.
    pub writer: writer::WriterHandle,
    /// The latest snapshot.
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    /// Market events.
    pub events: broadcast::Sender<stream::MarketEvent>,
    /// Users, sessions, the authentication audit log.
    pub auth: Arc<yrd_auth::Auth>,
    /// Whether the session cookie is marked `Secure`.
    pub cookie_secure: bool,
    /// The registry's clock (server-set times; [`clock`]).
    pub clock: clock::RegistryClock,
    /// Group-committed refusal and approval rows of the authentication audit log.
    pub audit: auth::AuditAppender,
    /// Live market streams open now.
    pub streams: Arc<std::sync::atomic::AtomicUsize>,
    /// The most live market streams served at once (`max_streams`).
    pub max_streams: usize,
    /// True once shutdown began.
    pub shutdown: watch::Receiver<bool>,
    /// The OpenAPI document, serialised.
    pub openapi: OnceLock<Arc<str>>,
    /// The metrics recorder's handle.
    pub metrics: Option<PrometheusHandle>,
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// The latest published snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshots.borrow().clone()
    }
}

/// The service: the writer thread and everything the router needs.
pub struct App {
    writer: writer::Writer,
    auth: Arc<yrd_auth::Auth>,
    audit: auth::AuditAppender,
    streams: Arc<std::sync::atomic::AtomicUsize>,
    shutdown_tx: watch::Sender<bool>,
    config: ServerConfig,
}

impl App {
    /// Opens the registry in `config.data_dir` (which must hold one: `yrd-ets init`) and its
    /// user store `users.db` (created if absent; add users with `yrd-ets user`), and starts the
    /// writer. Replays and checks the whole journal first.
    pub fn open(config: &ServerConfig) -> Result<App> {
        let store = yrd_auth::UserStore::open(&config.data_dir)?;
        let auth =
            yrd_auth::Auth::new(store, Arc::new(yrd_auth::SystemClock), config.auth.clone())?;
        if auth.provision_users()?.is_empty() {
            tracing::warn!(
                data_dir = %config.data_dir.display(),
                "no users: nobody can sign in; create the first administrator with \
                 `yrd-ets user bootstrap` (or try `yrd-ets demo --service`)"
            );
        }
        Self::open_with_auth(config, Arc::new(auth))
    }

    /// As [`App::open`], with a given authentication service (tests: a manual clock, cheap
    /// password hashing).
    pub fn open_with_auth(config: &ServerConfig, auth: Arc<yrd_auth::Auth>) -> Result<App> {
        let dir = &config.data_dir;
        if !dir.join(yrd_storage::FILE_NAME).is_file() {
            bail!(
                "{} holds no registry (create one with `yrd-ets init --data-dir {} --market yrd`)",
                dir.display(),
                dir.display()
            );
        }
        let store = SqliteStore::open(dir)?;
        let registry = Registry::open(store)
            .with_context(|| format!("opening the registry in {}", dir.display()))?;
        Self::from_registry(registry, auth, config)
    }

    /// Starts the service on an opened registry and authentication service.
    pub fn from_registry(
        registry: Registry<SqliteStore>,
        auth: Arc<yrd_auth::Auth>,
        config: &ServerConfig,
    ) -> Result<App> {
        let offset = registry
            .state()
            .config()
            .security_or_default()
            .utc_offset_minutes;
        let mut clock = clock::RegistryClock::system(offset);
        if let Some(start) = config.clock_start {
            clock = clock.starting_at(start);
        }
        let writer_config = WriterConfig {
            clock,
            ..config.writer
        };
        let writer = writer::Writer::start(registry, writer_config)
            .context("starting the registry writer")?;
        let audit =
            auth::AuditAppender::start(auth.clone()).context("starting the audit appender")?;
        let (shutdown_tx, _) = watch::channel(false);
        Ok(App {
            writer,
            auth,
            audit,
            streams: Arc::default(),
            shutdown_tx,
            config: config.clone(),
        })
    }

    /// The authentication service.
    pub fn auth(&self) -> &Arc<yrd_auth::Auth> {
        &self.auth
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The writer's counters.
    pub fn writer_stats(&self) -> &WriterStats {
        self.writer.stats()
    }

    /// The latest snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.writer.snapshots().borrow().clone()
    }

    /// What the handlers share.
    fn state(&self) -> AppState {
        AppState(Arc::new(Shared {
            writer: self.writer.handle(),
            snapshots: self.writer.snapshots(),
            events: self.writer.events(),
            auth: self.auth.clone(),
            cookie_secure: self.config.cookie_secure,
            clock: self.writer.clock(),
            audit: self.audit.clone(),
            streams: self.streams.clone(),
            max_streams: self.config.max_streams,
            shutdown: self.shutdown_tx.subscribe(),
            openapi: OnceLock::new(),
            metrics: telemetry::metrics_handle(),
        }))
    }

    /// Executes the scheduled transfers that are due by the registry's clock, as the scheduler
    /// of `yrd-ets serve` does every few seconds; `None` if nothing was due.
    pub async fn execute_due_transfers(&self) -> Option<WriteOutcome> {
        security::execute_due(&self.state()).await
    }

    /// The router with every route and layer.
    pub fn router(&self) -> Router {
        let state = self.state();
        let (router, document) = api_router(state.clone()).split_for_parts();
        let text = document
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        let _ = state.openapi.set(text.into());
        router
            .merge(web::router())
            .fallback(handlers::not_found)
            .layer(
                ServiceBuilder::new()
                    .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                    .layer(
                        TraceLayer::new_for_http()
                            .make_span_with(telemetry::request_span)
                            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
                    )
                    .layer(PropagateRequestIdLayer::x_request_id())
                    .layer(CatchPanicLayer::custom(|_| {
                        ApiError::internal("the server failed on this request").into_response()
                    }))
                    .layer(middleware::from_fn(json_errors))
                    .layer(middleware::from_fn(telemetry::track_metrics))
                    .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
                    // Account data and session tokens must not be kept by browsers or proxies;
                    // the web assets set their own caching (ETag, no-cache).
                    .layer(SetResponseHeaderLayer::if_not_present(
                        header::CACHE_CONTROL,
                        HeaderValue::from_static("no-store"),
                    ))
                    .layer(SetResponseHeaderLayer::if_not_present(
                        header::X_CONTENT_TYPE_OPTIONS,
                        HeaderValue::from_static("nosniff"),
                    )),
            )
            .with_state(state)
    }

    /// Begins the shutdown: live streams end, new streams and readiness are refused.
    pub fn begin_shutdown(&self) {
        self.shutdown_tx.send_replace(true);
    }

    /// Shuts down: streams end, the writer finishes what is queued durably and closes the store.
    pub async fn shutdown(self) {
        self.begin_shutdown();
        self.writer.shutdown().await;
    }
}

/// Every route, with its OpenAPI description.
fn api_router(state: AppState) -> OpenApiRouter<AppState> {
    let public = OpenApiRouter::new()
        .routes(routes!(handlers::health))
        .routes(routes!(handlers::ready))
        .routes(routes!(handlers::openapi_json))
        .routes(routes!(handlers::metrics_text))
        .routes(routes!(session::sign_in));
    let authenticated = OpenApiRouter::new()
        .routes(routes!(session::current, session::sign_out))
        .routes(routes!(session::second_factor))
        .routes(routes!(session::begin_totp))
        .routes(routes!(session::confirm_totp))
        .routes(routes!(session::change_password))
        .routes(routes!(session::list_users, session::create_user))
        .routes(routes!(session::set_roles))
        .routes(routes!(session::suspend_user))
        .routes(routes!(session::reinstate_user))
        .routes(routes!(session::unlock_user))
        .routes(routes!(session::reset_second_factor))
        .routes(routes!(session::audit_log))
        .routes(routes!(handlers::holdings))
        .routes(routes!(handlers::cash))
        .routes(routes!(handlers::orders))
        .routes(routes!(handlers::compliance))
        .routes(routes!(handlers::supply))
        .routes(routes!(handlers::market_summary))
        .routes(routes!(handlers::book))
        .routes(routes!(handlers::trades))
        .routes(routes!(stream::market_stream))
        .routes(routes!(handlers::auction))
        .routes(routes!(handlers::call_market))
        .routes(routes!(handlers::net_flows))
        .routes(routes!(overview::auctions))
        .routes(routes!(overview::history))
        .routes(routes!(overview::compliance_summary))
        .routes(routes!(overview::transparency))
        .routes(routes!(handlers::submit_transaction))
        .routes(routes!(security::transfers))
        .routes(routes!(security::trusted))
        .routes(routes!(security::suspensions))
        .layer(middleware::from_fn_with_state(state, auth::authenticate));
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(public)
        .merge(authenticated)
}

/// Middleware: an error status without a JSON body (unknown route, wrong method, body limit)
/// gets the standard error body.
async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let mut replaced = error::for_status(status).into_response();
    if let Some(allow) = response.headers().get(header::ALLOW) {
        replaced.headers_mut().insert(header::ALLOW, allow.clone());
    }
    replaced
}

/// Serves `app` on `listener` until `signal` completes, then shuts down gracefully: stops
/// accepting, lets in-flight requests finish (at most the configured grace period; live streams
/// end at once), lets the writer finish everything queued durably, closes the store.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: App,
    signal: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = app.router();
    tokio::spawn(security::run_scheduler(app.state()));
    let grace = app.config.shutdown_grace;
    let (fired_tx, mut fired) = watch::channel(false);
    let shutdown_tx = app.shutdown_tx.clone();
    let graceful = async move {
        signal.await;
        tracing::info!("shutdown requested: finishing in-flight requests");
        shutdown_tx.send_replace(true);
        fired_tx.send_replace(true);
    };
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(graceful);
    let result = tokio::select! {
        r = server.into_future() => r,
        () = async {
            let _ = fired.wait_for(|f| *f).await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(grace_secs = grace.as_secs(), "grace period over; closing the remaining connections");
            Ok(())
        }
    };
    app.shutdown().await;
    tracing::info!("stopped");
    result
}

/// Completes on SIGTERM or ctrl-c (SIGINT).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// `yrd-ets serve`: resolves the configuration, starts logging, opens the registry, serves until
/// SIGTERM or ctrl-c.
pub fn run(args: &ServeArgs) -> Result<()> {
    let config = ServerConfig::resolve(args)?;
    telemetry::init_logging(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("yrd-http")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let app = App::open(&config)?;
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("binding {}", config.bind))?;
        let snapshot = app.snapshot();
        tracing::info!(
            address = %listener.local_addr().map_or_else(|_| config.bind.to_string(), |a| a.to_string()),
            data_dir = %config.data_dir.display(),
            market = %snapshot.state.config().market.name,
            last_seq = snapshot.last_seq(),
            "yrd-ets API listening"
        );
        serve(listener, app, shutdown_signal()).await?;
        Ok(())
    })
}

//! **Authentication and authorisation**, by `yrd-auth`.
//!
//! 1. [`authenticate`] (middleware on every `/v1` route except health, readiness, the OpenAPI
//!    document and sign-in) reads the session token from `Authorization: Bearer <token>` or,
//!    failing that, the cookie [`SESSION_COOKIE`], and asks [`yrd_auth::Auth::authenticate`] (on
//!    the blocking pool: SQLite) who it belongs to. No credentials: the anonymous principal (role
//!    `public`, reads public reports only). A token that is unknown, revoked, expired or belongs
//!    to a suspended user: 401 `UNAUTHENTICATED` and the handler never runs. The [`Caller`]
//!    (principal, token, client address) goes into the request's extensions.
//! 2. Handlers take the caller with [`Authenticated`] (anyone) or [`SignedIn`] (401 for
//!    anonymous) and check each [`Action`] the request performs with [`AppState::authorize`]
//!    (`yrd_auth::authorize`: roles, four eyes, second factor) before doing anything. What each
//!    route and command needs is in [`crate::authz`] and `docs/api.md`.
//! 3. **CSRF**: the cookie is `HttpOnly; SameSite=Strict`, and a `POST` authenticated by the
//!    cookie must be `application/json` (a cross-site HTML form can send only form encodings and
//!    plain text; anything else needs a CORS preflight, which this server never grants). Writes
//!    to the registry also need an `Idempotency-Key` header, which a form cannot set.
//!
//! Refusals (403 on a command, the registry's refusal of a signed-in user's command) are
//! appended to the authentication audit log ([`yrd_auth::Auth::record_notes`], group-committed by [`AuditAppender`]).

use crate::AppState;
use crate::error::{ApiError, codes};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use yrd_auth::{Action, AuditNote, Auth, AuthError, Denied, Principal, SessionToken};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "yrd_session";

/// Who is calling, as [`authenticate`] found out.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The principal: a signed-in user with their current roles, or anonymous.
    pub principal: Principal,
    /// The session token presented, if any (and valid).
    pub token: Option<SessionToken>,
    /// Whether the token came in the cookie (not the `Authorization` header).
    pub via_cookie: bool,
    /// The client's network address (IP), the audit log's `source`; `unknown` without one.
    pub source: String,
}

impl Caller {
    /// Whether nobody signed in.
    pub fn is_anonymous(&self) -> bool {
        self.principal.user_id().is_none()
    }
}

/// The session token of a request: the bearer token, else the cookie; and whether it was the
/// cookie.
pub fn session_token(parts: &Parts) -> Option<(SessionToken, bool)> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION)
        && let Ok(text) = value.to_str()
        && let Some(token) = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
    {
        return Some((SessionToken::new(token.trim()), false));
    }
    for value in parts.headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            if let Some((name, token)) = pair.trim().split_once('=')
                && name == SESSION_COOKIE
                && !token.is_empty()
            {
                return Some((SessionToken::new(token), true));
            }
        }
    }
    None
}

/// The client's IP address (from axum's `ConnectInfo`), `unknown` when served without one.
pub fn source_of(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string())
}

/// Runs a blocking `yrd-auth` call (SQLite, Argon2) on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    auth: &Arc<Auth>,
    f: impl FnOnce(&Auth) -> Result<T, AuthError> + Send + 'static,
) -> Result<T, ApiError> {
    let auth = auth.clone();
    tokio::task::spawn_blocking(move || f(&auth))
        .await
        .map_err(|e| ApiError::internal(format!("authentication task failed: {e}")))?
        .map_err(auth_error)
}

/// The answer to a refused authorisation.
pub fn denied(d: &Denied) -> ApiError {
    match d {
        Denied::SecondFactorRequired(_) => ApiError::new(
            StatusCode::FORBIDDEN,
            codes::SECOND_FACTOR_REQUIRED,
            format!(
                "{d}: verify one with POST /v1/session/second-factor (valid for a few minutes)"
            ),
            None,
        ),
        Denied::NotPermitted(_) | Denied::SameInitiator => {
            ApiError::new(StatusCode::FORBIDDEN, codes::FORBIDDEN, d.to_string(), None)
        }
    }
}

/// The answer to a `yrd-auth` error.
pub fn auth_error(e: AuthError) -> ApiError {
    use StatusCode as S;
    let (status, code, field) = match &e {
        AuthError::InvalidCredentials => (S::UNAUTHORIZED, codes::INVALID_CREDENTIALS, None),
        AuthError::InvalidOneTimePassword => (
            S::UNAUTHORIZED,
            codes::WRONG_ONE_TIME_PASSWORD,
            Some("code"),
        ),
        AuthError::OneTimePasswordReplayed => (
            S::UNAUTHORIZED,
            codes::ONE_TIME_PASSWORD_REPLAYED,
            Some("code"),
        ),
        AuthError::SourceLocked { retry_after_secs }
        | AuthError::UserLocked { retry_after_secs } => {
            let mut error =
                ApiError::new(S::TOO_MANY_REQUESTS, codes::LOCKED_OUT, e.to_string(), None);
            error.retry_after = Some(*retry_after_secs);
            return error;
        }
        AuthError::Suspended => (S::FORBIDDEN, codes::USER_SUSPENDED, None),
        AuthError::SecondFactorNotEnrolled => {
            (S::CONFLICT, codes::SECOND_FACTOR_NOT_ENROLLED, None)
        }
        AuthError::NoPendingEnrolment => (S::CONFLICT, codes::NO_PENDING_ENROLMENT, None),
        AuthError::InvalidSession => {
            return ApiError::new(
                S::UNAUTHORIZED,
                codes::UNAUTHENTICATED,
                "the session is unknown or has ended (signed out, revoked, or its user \
                 suspended); sign in again",
                None,
            );
        }
        AuthError::SessionExpired => {
            return ApiError::new(
                S::UNAUTHORIZED,
                codes::UNAUTHENTICATED,
                "the session expired; sign in again",
                None,
            );
        }
        AuthError::Denied(d) => return denied(d),
        AuthError::PasswordPolicy(_) => (S::BAD_REQUEST, codes::WEAK_PASSWORD, Some("password")),
        AuthError::InvalidUsername { .. } => {
            (S::BAD_REQUEST, codes::INVALID_USERNAME, Some("username"))
        }
        AuthError::UsernameTaken(_) => (S::CONFLICT, codes::USERNAME_TAKEN, Some("username")),
        AuthError::NoSuchUser(_) => (S::NOT_FOUND, codes::UNKNOWN_USER, Some("username")),
        AuthError::SelfAdministration => (S::FORBIDDEN, codes::FORBIDDEN, None),
        AuthError::SecondFactorRequired => (S::FORBIDDEN, codes::SECOND_FACTOR_REQUIRED, None),
        AuthError::AlreadyBootstrapped => (S::CONFLICT, codes::ALREADY_BOOTSTRAPPED, None),
        AuthError::Config(_)
        | AuthError::Random(_)
        | AuthError::Hashing(_)
        | AuthError::Storage(_) => {
            tracing::error!(error = %e, "authentication service failed");
            return ApiError::internal("the authentication service failed");
        }
    };
    ApiError::new(status, code, e.to_string(), field)
}

/// Middleware: authenticates the request and stores the [`Caller`] for the handler.
pub async fn authenticate(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let source = source_of(&parts);
    let caller = match session_token(&parts) {
        None => Caller {
            principal: Principal::anonymous(),
            token: None,
            via_cookie: false,
            source,
        },
        Some((token, via_cookie)) => {
            let presented = token.clone();
            match blocking(&app.auth, move |auth| auth.authenticate(&presented)).await {
                Ok(principal) => Caller {
                    principal,
                    token: Some(token),
                    via_cookie,
                    source,
                },
                Err(e) => return e.into_response(),
            }
        }
    };
    if caller.via_cookie && parts.method == Method::POST && !has_json_body(&parts) {
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::UNSUPPORTED_MEDIA_TYPE,
            "a POST authenticated by the session cookie must be application/json (protection \
             against cross-site requests); send {} if the route takes no body",
            Some("Content-Type"),
        )
        .into_response();
    }
    parts.extensions.insert(caller);
    next.run(Request::from_parts(parts, body)).await
}

fn has_json_body(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(crate::extract::is_json)
}

/// The caller, signed in or anonymous, as the [`authenticate`] middleware found it.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .map(Authenticated)
            .ok_or_else(|| ApiError::internal("route served without the authentication layer"))
    }
}

/// A signed-in caller: anonymous requests are answered 401 `UNAUTHENTICATED` before anything
/// else of the request (headers, body) is looked at.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Caller, pub SessionToken);

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Authenticated(caller) = Authenticated::from_request_parts(parts, state).await?;
        match caller.token.clone() {
            Some(token) if !caller.is_anonymous() => Ok(SignedIn(caller, token)),
            _ => Err(unauthenticated("sign in first (POST /v1/session)")),
        }
    }
}

/// 401 `UNAUTHENTICATED` with `message`.
pub fn unauthenticated(message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        codes::UNAUTHENTICATED,
        message,
        None,
    )
}

impl AppState {
    /// Whether `caller` may perform `action`: anonymous callers get 401 for anything but
    /// [`Action::ReadPublic`]; signed-in callers get 403 `FORBIDDEN` (no role allows it) or
    /// `SECOND_FACTOR_REQUIRED`.
    pub fn authorize(&self, caller: &Caller, action: &Action) -> Result<(), ApiError> {
        if caller.is_anonymous() && *action != Action::ReadPublic {
            return Err(unauthenticated(format!("sign in to {action}")));
        }
        yrd_auth::authorize(&caller.principal, action).map_err(|d| denied(&d))
    }

    /// The user id of `username` (for the initiator of an approval), `None` if no such user.
    pub async fn user_id(&self, username: String) -> Result<Option<yrd_auth::UserId>, ApiError> {
        blocking(&self.auth, move |auth| auth.user_id(&username)).await
    }

    /// Appends `caller`'s approval `action`, journaled as `transaction`, to the authentication
    /// audit log. A failure to write it is logged: the approval is already durable.
    pub async fn audit_approval(&self, caller: &Caller, action: String, transaction: String) {
        let note = AuditNote::Approved {
            action,
            transaction,
        };
        if let Err(e) = self.audit.append(caller, note).await {
            tracing::error!(error = %e, "could not audit an approval");
        }
    }

    /// Appends a refusal of `caller`'s request to the authentication audit log (nothing for
    /// anonymous callers). A failure to write it is logged, not answered: the refusal stands.
    pub async fn audit_refusal(&self, caller: &Caller, action: String, error: &ApiError) {
        if caller.is_anonymous() {
            return;
        }
        let note = AuditNote::Refused {
            action,
            code: error.code().to_string(),
            message: error.body.error.message.clone(),
        };
        if let Err(e) = self.audit.append(caller, note).await {
            tracing::error!(error = %e, "could not audit a refusal");
        }
    }
}

/// The `Set-Cookie` value that stores `token` (`Secure` when `secure`).
pub fn session_cookie(token: &SessionToken, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/{secure}",
        token.as_str()
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("yrd_session=; Max-Age=0"))
}

/// The `Set-Cookie` value that deletes the session cookie.
pub fn cleared_cookie(secure: bool) -> HeaderValue {
    if secure {
        HeaderValue::from_static(
            "yrd_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0; Secure",
        )
    } else {
        HeaderValue::from_static("yrd_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
    }
}

/// One note waiting for the audit appender, with whom to tell when it is durable.
type Pending = (
    yrd_auth::Principal,
    Option<String>,
    AuditNote,
    tokio::sync::oneshot::Sender<Result<(), String>>,
);

/// Appends the server's refusal and approval rows to the authentication audit log with group
/// commit: a thread of its own takes whatever queued while the previous group was being made
/// durable and writes it in one transaction (one fsync), like the registry writer. A request is
/// answered only once its row is durable; with one fsync per row, approvals were limited to the
/// rate of fsyncs of the user store.
#[derive(Clone)]
pub struct AuditAppender {
    tx: tokio::sync::mpsc::Sender<Pending>,
}

impl AuditAppender {
    /// Most notes written in one transaction.
    pub const MAX_GROUP: usize = 512;

    /// Starts the appender's thread; it ends once every handle is dropped and the queue is
    /// drained.
    pub fn start(auth: Arc<Auth>) -> std::io::Result<AuditAppender> {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Pending>(4096);
        std::thread::Builder::new()
            .name("yrd-audit".into())
            .spawn(move || {
                while let Some(first) = rx.blocking_recv() {
                    let mut group = vec![first];
                    while group.len() < Self::MAX_GROUP {
                        match rx.try_recv() {
                            Ok(next) => group.push(next),
                            Err(_) => break,
                        }
                    }
                    let notes: Vec<_> = group
                        .iter()
                        .map(|(p, s, n, _)| (p.clone(), s.clone(), n.clone()))
                        .collect();
                    let result = auth.record_notes(&notes).map_err(|e| e.to_string());
                    for (_, _, _, reply) in group {
                        let _ = reply.send(result.clone());
                    }
                }
            })?;
        Ok(AuditAppender { tx })
    }

    /// Appends `note` of `caller` and waits until it is durable.
    pub async fn append(&self, caller: &Caller, note: AuditNote) -> Result<(), String> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let pending = (
            caller.principal.clone(),
            Some(caller.source.clone()),
            note,
            reply,
        );
        self.tx
            .send(pending)
            .await
            .map_err(|_| "the audit appender has stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the audit appender stopped before answering".to_string())?
    }
}

//! **The authentication and authorisation hook.** Users, sessions and roles come from `yrd-auth`
//! (being written separately); this module is where it plugs in. Today the installed
//! [`Authenticator`] is [`AllowAll`]: every caller is the anonymous principal and may do
//! everything, as the CLI may.
//!
//! How it works:
//!
//! 1. [`authenticate`] (middleware on every `/v1` route except health, readiness and the OpenAPI
//!    document) calls [`Authenticator::authenticate`] with the request head and stores the
//!    resulting [`Principal`] in the request's extensions; a failure is answered 401 (or 403) with
//!    the usual error body and the handler never runs.
//! 2. Handlers take the principal with the [`Authenticated`] extractor and, before doing anything,
//!    ask [`Authenticator::authorize`] whether it may perform the [`Action`] (read an account's
//!    holdings, submit a command ...). A refusal is answered 403 and nothing is submitted.
//!
//! To plug `yrd-auth` in: implement [`Authenticator`] (session or token lookup in
//! `authenticate`, role checks in `authorize` - e.g. a participant reads only its own accounts and
//! places orders only for them, an administrator of a jurisdiction issues only its units) and
//! pass it to [`crate::App::with_authenticator`]. Idempotency keys should then be scoped to the
//! principal (see [`Principal::scope_key`]) so that two users cannot collide on a key.

use crate::AppState;
use crate::error::{ApiError, codes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::pin::Pin;
use yrd_registry::Command;
use yrd_types::{AccountId, OrderRef, TransactionId, UnitClass};

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Stable subject id (user id, service account); `anonymous` without authentication.
    pub subject: String,
    /// Roles or scopes granted (interpreted by the [`Authenticator`]).
    pub roles: Vec<String>,
}

impl Principal {
    /// The caller when nothing authenticates it.
    pub fn anonymous() -> Self {
        Self {
            subject: "anonymous".into(),
            roles: Vec::new(),
        }
    }

    /// The transaction id an idempotency key becomes for this principal. Today the key itself
    /// (there is one caller, the anonymous principal); with users, `yrd-auth` may prefix the
    /// subject so that keys are per user.
    pub fn scope_key(&self, key: TransactionId) -> TransactionId {
        key
    }
}

/// What a principal wants to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    /// Holdings, cash or open orders of an account.
    Account(&'a AccountId),
    /// The public compliance table.
    Compliance,
    /// Supply and the net-flow ledger.
    Supply,
    /// Market data of an instrument, or of all (`None`).
    Market,
    /// Market data of one instrument.
    Instrument(&'a UnitClass),
    /// An auction's public view.
    Auction(&'a OrderRef),
    /// A call market's public view.
    CallMarket(&'a OrderRef),
}

/// What a principal wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    /// Read something.
    Read(Resource<'a>),
    /// Submit a registry command under an idempotency key.
    Submit {
        /// The transaction id.
        key: &'a TransactionId,
        /// The command.
        command: &'a Command,
    },
}

/// Why a request is not allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No or invalid credentials: 401.
    Unauthenticated(String),
    /// Valid credentials, not allowed: 403.
    Forbidden(String),
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Unauthenticated(m) => {
                ApiError::new(StatusCode::UNAUTHORIZED, codes::UNAUTHENTICATED, m, None)
            }
            AuthError::Forbidden(m) => {
                ApiError::new(StatusCode::FORBIDDEN, codes::FORBIDDEN, m, None)
            }
        }
    }
}

/// A boxed future, so that [`Authenticator`] stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The hook `yrd-auth` implements.
pub trait Authenticator: Send + Sync + 'static {
    /// Who sent the request (headers: `Authorization`, cookies ...).
    fn authenticate<'a>(
        &'a self,
        request: &'a Parts,
    ) -> BoxFuture<'a, Result<Principal, AuthError>>;

    /// Whether `principal` may perform `action`.
    fn authorize(&self, principal: &Principal, action: &Action<'_>) -> Result<(), AuthError>;
}

/// Today's authenticator: everyone is anonymous and may do everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl Authenticator for AllowAll {
    fn authenticate<'a>(
        &'a self,
        _request: &'a Parts,
    ) -> BoxFuture<'a, Result<Principal, AuthError>> {
        Box::pin(async { Ok(Principal::anonymous()) })
    }

    fn authorize(&self, _principal: &Principal, _action: &Action<'_>) -> Result<(), AuthError> {
        Ok(())
    }
}

/// Middleware: authenticates the request and stores the [`Principal`] for the handler.
pub async fn authenticate(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    match app.authenticator.authenticate(&parts).await {
        Ok(principal) => {
            parts.extensions.insert(principal);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The authenticated caller, as the [`authenticate`] middleware found it.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Authenticated)
            .ok_or_else(|| ApiError::internal("route served without the authentication layer"))
    }
}

//! The one error body of the API: `{"error": {"code": "...", "message": "...", "field": ...}}`.
//!
//! Every failure - a malformed request, an unknown account, a refused transaction, a route that
//! does not exist, an oversized body, a panic - is answered with this body and a fitting status.
//! `code` is stable (clients match on it): the registry's rule codes (`INSUFFICIENT_HOLDINGS`,
//! `TRANSACTION_ID_REUSED`, ...) for refused transactions, and the codes in [`codes`] for
//! everything the HTTP layer decides itself.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use yrd_registry::{Rejection, RuleCode};

/// The codes the HTTP layer uses (the registry's rule codes come on top of these).
pub mod codes {
    /// The body is not JSON (syntax error or cut short); the message gives line and column.
    pub const MALFORMED_JSON: &str = "MALFORMED_JSON";
    /// A field the request type does not have.
    pub const UNKNOWN_FIELD: &str = "UNKNOWN_FIELD";
    /// A required field is absent.
    pub const MISSING_FIELD: &str = "MISSING_FIELD";
    /// A field has the wrong JSON type (a string where a number belongs, ...).
    pub const WRONG_TYPE: &str = "WRONG_TYPE";
    /// A field has the right type but an unusable value (bad date, invalid code, unknown
    /// command type).
    pub const INVALID_VALUE: &str = "INVALID_VALUE";
    /// A query parameter is malformed, unknown or out of range.
    pub const INVALID_QUERY: &str = "INVALID_QUERY";
    /// A path segment is not a valid identifier (account id, unit class, reference).
    pub const INVALID_PATH: &str = "INVALID_PATH";
    /// A state-changing request came without an `Idempotency-Key` header.
    pub const MISSING_IDEMPOTENCY_KEY: &str = "MISSING_IDEMPOTENCY_KEY";
    /// The `Idempotency-Key` header is not a valid transaction id.
    pub const INVALID_IDEMPOTENCY_KEY: &str = "INVALID_IDEMPOTENCY_KEY";
    /// The body is larger than the limit (64 KiB).
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    /// The body is not `application/json`.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    /// No such route.
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// The route exists, the method does not.
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    /// No auction with that reference.
    pub const UNKNOWN_AUCTION: &str = "UNKNOWN_AUCTION";
    /// No call market with that reference.
    pub const UNKNOWN_CALL_MARKET: &str = "UNKNOWN_CALL_MARKET";
    /// No session (sign in first), or the session is unknown, revoked or expired.
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    /// The caller's roles do not allow this (the message names the action).
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// The action moves units or cash (or administers): verify a one-time password first.
    pub const SECOND_FACTOR_REQUIRED: &str = "SECOND_FACTOR_REQUIRED";
    /// Sign-in: unknown username, wrong password, or a locked user (the same answer for all).
    pub const INVALID_CREDENTIALS: &str = "INVALID_CREDENTIALS";
    /// The one-time password is wrong (counts towards the lock-out).
    pub const WRONG_ONE_TIME_PASSWORD: &str = "WRONG_ONE_TIME_PASSWORD";
    /// The one-time password was already used (counts towards the lock-out).
    pub const ONE_TIME_PASSWORD_REPLAYED: &str = "ONE_TIME_PASSWORD_REPLAYED";
    /// Too many failures from this address, or of this session's user: 429 with `Retry-After`.
    pub const LOCKED_OUT: &str = "LOCKED_OUT";
    /// The password was right but an administrator suspended the user.
    pub const USER_SUSPENDED: &str = "USER_SUSPENDED";
    /// The user has no authenticator app yet (`POST /v1/session/totp`).
    pub const SECOND_FACTOR_NOT_ENROLLED: &str = "SECOND_FACTOR_NOT_ENROLLED";
    /// No second-factor enrolment waits for confirmation.
    pub const NO_PENDING_ENROLMENT: &str = "NO_PENDING_ENROLMENT";
    /// A new password breaks the password policy.
    pub const WEAK_PASSWORD: &str = "WEAK_PASSWORD";
    /// A username that breaks the format rule.
    pub const INVALID_USERNAME: &str = "INVALID_USERNAME";
    /// The username is taken.
    pub const USERNAME_TAKEN: &str = "USERNAME_TAKEN";
    /// No such user.
    pub const UNKNOWN_USER: &str = "UNKNOWN_USER";
    /// The user store already has users.
    pub const ALREADY_BOOTSTRAPPED: &str = "ALREADY_BOOTSTRAPPED";
    /// The registry's writer is not running (storage failure, shutting down): retry later.
    pub const UNAVAILABLE: &str = "UNAVAILABLE";
    /// A field only the server sets (a security command's time or user) was given another value.
    pub const SET_BY_SERVER: &str = "SET_BY_SERVER";
    /// A command names an entity the registry does not know.
    pub const UNKNOWN_REFERENCE: &str = "UNKNOWN_REFERENCE";
    /// A bug: the server failed; nothing was changed unless a receipt was returned.
    pub const INTERNAL: &str = "INTERNAL";
}

/// The error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code, e.g. `UNKNOWN_FIELD` or the registry's `INSUFFICIENT_HOLDINGS`.
    #[schema(example = "INSUFFICIENT_HOLDINGS")]
    pub code: String,
    /// Human-readable explanation naming the offending value.
    pub message: String,
    /// The field, header, query parameter or path segment concerned, if one is (`command.quantity`,
    /// `Idempotency-Key`, `per_page`, `id`).
    pub field: Option<String>,
    /// For a refused transaction (422, 409): every rule it broke, in check order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub violations: Option<Vec<ViolationBody>>,
}

/// One broken business rule of a refused transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ViolationBody {
    /// Rule code, e.g. `INSUFFICIENT_HOLDINGS`.
    pub code: String,
    /// The command's field it concerns, e.g. `quantity`.
    pub field: String,
    /// What exactly is wrong.
    pub message: String,
    /// The regulation or practice the rule comes from, where one states it.
    pub source: Option<String>,
}

/// An error answer: a status and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Body.
    pub body: ErrorBody,
    /// Seconds for a `Retry-After` header (429 lock-outs).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with `status`, `code` and `message`, concerning `field` if given.
    pub fn new(
        status: StatusCode,
        code: impl Into<String>,
        message: impl Into<String>,
        field: Option<&str>,
    ) -> Self {
        Self {
            status,
            body: ErrorBody {
                error: ErrorDetail {
                    code: code.into(),
                    message: message.into(),
                    field: field.map(str::to_string),
                    violations: None,
                },
            },
            retry_after: None,
        }
    }

    /// 400 with `code`.
    pub fn bad_request(code: &str, message: impl Into<String>, field: Option<&str>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message, field)
    }

    /// 404 with `code` about `field`.
    pub fn not_found(code: &str, message: impl Into<String>, field: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message, Some(field))
    }

    /// 503: the writer is not running.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::UNAVAILABLE,
            message,
            None,
        )
    }

    /// 500.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL,
            message,
            None,
        )
    }

    /// A refused transaction: 409 when the idempotency key was used for other content
    /// (`TRANSACTION_ID_REUSED`), else 422. `code` and `field` are the first violation's; every
    /// violation is listed.
    pub fn rejection(rejection: &Rejection) -> Self {
        let status = if rejection.has(RuleCode::TransactionIdReused) {
            StatusCode::CONFLICT
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let first = rejection.violations.first();
        let code = if status == StatusCode::CONFLICT {
            RuleCode::TransactionIdReused.as_str()
        } else {
            first.map_or_else(|| "REFUSED".to_string(), |v| v.code.as_str())
        };
        let field = if status == StatusCode::CONFLICT {
            Some("Idempotency-Key".to_string())
        } else {
            first.map(|v| format!("command.{}", v.field))
        };
        let violations = rejection
            .violations
            .iter()
            .map(|v| ViolationBody {
                code: v.code.as_str(),
                field: v.field.to_string(),
                message: v.message.clone(),
                source: v.code.source().map(str::to_string),
            })
            .collect();
        Self {
            status,
            body: ErrorBody {
                error: ErrorDetail {
                    code,
                    message: rejection.to_string(),
                    field,
                    violations: Some(violations),
                },
            },
            retry_after: None,
        }
    }

    /// The error's code.
    pub fn code(&self) -> &str {
        &self.body.error.code
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.body.error.code,
            self.body.error.message
        )
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let bytes = serde_json::to_vec(&self.body).unwrap_or_else(|_| {
            br#"{"error":{"code":"INTERNAL","message":"error body failed to serialise","field":null}}"#
                .to_vec()
        });
        let mut response = (self.status, bytes).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// The error for a status the HTTP stack produced on its own (unknown route, wrong method, body
/// limit, a caught panic): the code the status stands for.
pub fn for_status(status: StatusCode) -> ApiError {
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (codes::NOT_FOUND, "no such route".to_string()),
        StatusCode::METHOD_NOT_ALLOWED => (
            codes::METHOD_NOT_ALLOWED,
            "the route does not accept this method".to_string(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            codes::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is larger than {} bytes",
                crate::BODY_LIMIT
            ),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            codes::UNSUPPORTED_MEDIA_TYPE,
            "the body must be application/json".to_string(),
        ),
        s if s.is_server_error() => (codes::INTERNAL, format!("server error ({s})")),
        s => ("HTTP_ERROR", format!("request failed ({s})")),
    };
    ApiError::new(status, code, message, None)
}

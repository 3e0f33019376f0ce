//! Sessions, users and the authentication audit log over HTTP: thin handlers over
//! [`yrd_auth::Auth`] (every call on the blocking pool). The contract is in `docs/api.md`.
//!
//! The session token is returned once, in the body of `POST /v1/session` (for API clients, as a
//! bearer token) and in the `yrd_session` cookie (`HttpOnly; SameSite=Strict; Path=/`, plus
//! `Secure` with `cookie_secure`), for browsers. Other answers of the same shape carry
//! `"token": null`: the token is never readable by scripts after sign-in.

use crate::AppState;
use crate::auth::{
    Authenticated, Caller, SignedIn, blocking, cleared_cookie, session_cookie, source_of,
};
use crate::error::{ApiError, ErrorBody, codes};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yrd_auth::{AuditRecord, Password, Principal, Role, Timestamp, UserStatus};
use yrd_registry::RegistryState;
use yrd_types::JurisdictionCode;

/// The client's address, for the audit log (works on routes without the auth layer too).
pub struct Source(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Ok(Source(source_of(parts)))
    }
}

/// `POST /v1/session`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// Username (case-insensitive).
    pub username: String,
    /// Password.
    pub password: String,
}

/// A one-time password from the authenticator app.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// Six digits (spaces ignored).
    #[schema(example = "123456")]
    pub code: String,
}

/// `POST /v1/session/password`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The current password.
    pub current: String,
    /// The new one (12-128 characters, not the username).
    pub new: String,
}

/// The session as its holder sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionView {
    /// The session token: only in the answer to `POST /v1/session`, `null` elsewhere.
    pub token: Option<String>,
    /// Username.
    pub username: String,
    /// Roles, as yrd-auth serialises them, e.g.
    /// `{"role": "account_representative", "accounts": ["TR-SH-001"]}`.
    #[schema(value_type = Vec<Object>)]
    pub roles: Vec<Role>,
    /// Accounts the user represents (account representative or additional authorised
    /// representative), sorted.
    pub accounts: Vec<String>,
    /// Whether a one-time password was verified in the last minutes (movements and
    /// administration need it).
    pub second_factor: bool,
    /// Whether the user has an authenticator app.
    pub second_factor_enrolled: bool,
    /// When the session ends at the latest, RFC 3339 UTC.
    #[schema(example = "2024-03-04T17:00:00Z")]
    pub expires_at: String,
}

impl SessionView {
    fn new(
        principal: &Principal,
        token: Option<String>,
        enrolled: bool,
        expires_at: Timestamp,
    ) -> Self {
        let mut accounts: Vec<String> = principal
            .roles()
            .iter()
            .flat_map(|r| match r {
                Role::AccountRepresentative { accounts }
                | Role::AdditionalAuthorisedRepresentative { accounts } => {
                    accounts.iter().map(|a| a.to_string()).collect()
                }
                _ => Vec::new(),
            })
            .collect();
        accounts.sort();
        accounts.dedup();
        SessionView {
            token,
            username: principal.username().unwrap_or_default().to_string(),
            roles: principal.roles().to_vec(),
            accounts,
            second_factor: principal.has_second_factor(),
            second_factor_enrolled: enrolled,
            expires_at: rfc3339(expires_at),
        }
    }
}

fn rfc3339(t: Timestamp) -> String {
    chrono::DateTime::from_timestamp(t.unix_seconds(), 0).map_or_else(
        || t.unix_seconds().to_string(),
        |d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

/// What an authenticator app needs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TotpEnrolmentView {
    /// The shared secret, base32 without padding.
    pub secret_base32: String,
    /// `otpauth://totp/...` for a QR code.
    pub otpauth_uri: String,
}

/// `POST /v1/users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Username: 3-64 characters from a-z, 0-9, `.`, `_`, `-`, `@`.
    pub username: String,
    /// Initial password.
    pub password: String,
    /// Roles, e.g. `[{"role": "auditor"}]`.
    #[schema(value_type = Vec<Object>)]
    pub roles: Vec<Role>,
}

/// A created user.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    /// The user's number (the prefix of its transaction ids).
    pub user: i64,
    /// Username (normalised).
    pub username: String,
}

/// `PUT /v1/users/{username}/roles`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesRequest {
    /// The new roles (replacing all).
    #[schema(value_type = Vec<Object>)]
    pub roles: Vec<Role>,
}

/// `POST /v1/users/{username}/suspend`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendRequest {
    /// Why (kept in the audit log).
    pub reason: String,
}

/// Every user.
#[derive(Debug, Serialize, ToSchema)]
pub struct Users {
    /// By username: roles, suspension, `locked_until`, failure counts, enrolment, live sessions
    /// (times in Unix seconds).
    #[schema(value_type = Vec<Object>)]
    pub users: Vec<UserStatus>,
}

/// `GET /v1/audit` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Rows after this sequence number (default 0: from the start).
    pub after_seq: Option<i64>,
    /// At most this many rows, 1-1000 (default 100).
    pub limit: Option<u32>,
}

/// A page of the authentication audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Oldest first: `seq`, `at` (Unix seconds), `user`, `username`, `actor`, `source`, `event`
    /// (`{"event": "sign_in", "outcome": ...}`, `{"event": "refused", "action", "code",
    /// "message"}`, ...).
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<AuditRecord>,
    /// Pass as `after_seq` for the next page (the last `seq` here, or `after_seq` if empty).
    pub next_after_seq: i64,
}

fn with_cookie(mut response: Response, value: axum::http::HeaderValue) -> Response {
    response.headers_mut().insert(header::SET_COOKIE, value);
    response
}

/// Signs in with a password. 200 with the session (and its token, once) and the session cookie.
/// The session has not passed the second factor yet.
#[utoipa::path(post, path = "/v1/session", tag = "session", request_body = SignInRequest,
    responses(
        (status = 200, body = SessionView, headers(("Set-Cookie" = String, description = "yrd_session=<token>; HttpOnly; SameSite=Strict; Path=/ [; Secure]"))),
        (status = 400, body = ErrorBody),
        (status = 401, description = "INVALID_CREDENTIALS: unknown user, wrong password or locked user (one answer)", body = ErrorBody),
        (status = 403, description = "USER_SUSPENDED", body = ErrorBody),
        (status = 429, description = "LOCKED_OUT (this address), with Retry-After", body = ErrorBody),
    ))]
pub(crate) async fn sign_in(
    State(app): State<AppState>,
    Source(source): Source,
    JsonBody(request): JsonBody<SignInRequest>,
) -> Result<Response, ApiError> {
    let signed = blocking(&app.auth, move |auth| {
        auth.sign_in(&request.username, &Password::new(request.password), &source)
    })
    .await?;
    let view = SessionView::new(
        &signed.principal,
        Some(signed.token.as_str().to_string()),
        signed.second_factor_enrolled,
        signed.expires_at,
    );
    Ok(with_cookie(
        Json(view).into_response(),
        session_cookie(&signed.token, app.cookie_secure),
    ))
}

/// The current session.
#[utoipa::path(get, path = "/v1/session", tag = "session",
    responses((status = 200, body = SessionView), (status = 401, body = ErrorBody)))]
pub(crate) async fn current(
    State(app): State<AppState>,
    SignedIn(_caller, token): SignedIn,
) -> Result<Json<SessionView>, ApiError> {
    let status = blocking(&app.auth, move |auth| auth.session_status(&token)).await?;
    Ok(Json(SessionView::new(
        &status.principal,
        None,
        status.second_factor_enrolled,
        status.expires_at,
    )))
}

/// Signs out: the session is revoked and the cookie cleared.
#[utoipa::path(delete, path = "/v1/session", tag = "session",
    responses((status = 204, description = "Signed out"), (status = 401, body = ErrorBody)))]
pub(crate) async fn sign_out(
    State(app): State<AppState>,
    SignedIn(_caller, token): SignedIn,
) -> Result<Response, ApiError> {
    blocking(&app.auth, move |auth| auth.sign_out(&token)).await?;
    Ok(with_cookie(
        StatusCode::NO_CONTENT.into_response(),
        cleared_cookie(app.cookie_secure),
    ))
}

/// Verifies a one-time password: for the next minutes the session may move units and cash and
/// administer. Wrong and replayed codes count towards the lock-out.
#[utoipa::path(post, path = "/v1/session/second-factor", tag = "session", request_body = CodeRequest,
    responses(
        (status = 200, body = SessionView),
        (status = 401, description = "UNAUTHENTICATED, WRONG_ONE_TIME_PASSWORD or ONE_TIME_PASSWORD_REPLAYED", body = ErrorBody),
        (status = 409, description = "SECOND_FACTOR_NOT_ENROLLED", body = ErrorBody),
        (status = 429, description = "LOCKED_OUT, with Retry-After", body = ErrorBody),
    ))]
pub(crate) async fn second_factor(
    State(app): State<AppState>,
    SignedIn(caller, token): SignedIn,
    JsonBody(request): JsonBody<CodeRequest>,
) -> Result<Json<SessionView>, ApiError> {
    let source = caller.source;
    let status = blocking(&app.auth, move |auth| {
        auth.verify_second_factor(&token, &request.code, &source)?;
        auth.session_status(&token)
    })
    .await?;
    Ok(Json(SessionView::new(
        &status.principal,
        None,
        status.second_factor_enrolled,
        status.expires_at,
    )))
}

/// Begins enrolling an authenticator app (replacing an enrolled one needs the second factor).
#[utoipa::path(post, path = "/v1/session/totp", tag = "session",
    responses((status = 200, body = TotpEnrolmentView), (status = 401, body = ErrorBody),
        (status = 403, description = "SECOND_FACTOR_REQUIRED to replace an enrolled app", body = ErrorBody)))]
pub(crate) async fn begin_totp(
    State(app): State<AppState>,
    SignedIn(_caller, token): SignedIn,
) -> Result<Json<TotpEnrolmentView>, ApiError> {
    let e = blocking(&app.auth, move |auth| auth.begin_totp_enrolment(&token)).await?;
    Ok(Json(TotpEnrolmentView {
        secret_base32: e.secret_base32.clone(),
        otpauth_uri: e.otpauth_uri.clone(),
    }))
}

/// Confirms the pending authenticator app with a code from it; the session has then passed the
/// second factor.
#[utoipa::path(post, path = "/v1/session/totp/confirm", tag = "session", request_body = CodeRequest,
    responses((status = 200, body = SessionView), (status = 401, body = ErrorBody),
        (status = 409, description = "NO_PENDING_ENROLMENT", body = ErrorBody), (status = 429, body = ErrorBody)))]
pub(crate) async fn confirm_totp(
    State(app): State<AppState>,
    SignedIn(caller, token): SignedIn,
    JsonBody(request): JsonBody<CodeRequest>,
) -> Result<Json<SessionView>, ApiError> {
    let source = caller.source;
    let status = blocking(&app.auth, move |auth| {
        auth.confirm_totp_enrolment(&token, &request.code, &source)?;
        auth.session_status(&token)
    })
    .await?;
    Ok(Json(SessionView::new(
        &status.principal,
        None,
        status.second_factor_enrolled,
        status.expires_at,
    )))
}

/// Changes the password; every other session of the user is revoked.
#[utoipa::path(post, path = "/v1/session/password", tag = "session", request_body = PasswordChange,
    responses((status = 204, description = "Changed"), (status = 400, description = "WEAK_PASSWORD", body = ErrorBody),
        (status = 401, description = "INVALID_CREDENTIALS (wrong current password)", body = ErrorBody)))]
pub(crate) async fn change_password(
    State(app): State<AppState>,
    SignedIn(caller, token): SignedIn,
    JsonBody(request): JsonBody<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let source = caller.source;
    blocking(&app.auth, move |auth| {
        auth.change_password(
            &token,
            &Password::new(request.current),
            &Password::new(request.new),
            &source,
        )
    })
    .await
    .map_err(|mut e| {
        if e.code() == codes::WEAK_PASSWORD {
            e.body.error.field = Some("new".into());
        }
        e
    })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every user (administrators and auditors).
#[utoipa::path(get, path = "/v1/users", tag = "users",
    responses((status = 200, body = Users), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(crate) async fn list_users(
    State(app): State<AppState>,
    SignedIn(caller, _token): SignedIn,
) -> Result<Json<Users>, ApiError> {
    let principal = caller.principal;
    let users = blocking(&app.auth, move |auth| auth.users(&principal)).await?;
    Ok(Json(Users { users }))
}

/// Creates a user (administrators, with the second factor).
#[utoipa::path(post, path = "/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = CreatedUser), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, description = "USERNAME_TAKEN", body = ErrorBody)))]
pub(crate) async fn create_user(
    State(app): State<AppState>,
    SignedIn(caller, _token): SignedIn,
    JsonBody(request): JsonBody<NewUser>,
) -> Result<(StatusCode, Json<CreatedUser>), ApiError> {
    // Only a registry administrator manages users (yrd-auth decides); and only within the
    // jurisdictions administered.
    app.authorize(&caller, &yrd_auth::Action::ManageUsers)?;
    grantable(&request.roles)?;
    roles_within(&app.snapshot().state, &request.roles, &caller)?;
    let principal = caller.principal;
    let username =
        yrd_auth::normalize_username(&request.username).map_err(crate::auth::auth_error)?;
    let id = blocking(&app.auth, move |auth| {
        auth.create_user(
            &principal,
            &request.username,
            &Password::new(request.password),
            request.roles,
        )
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser {
            user: id.0,
            username,
        }),
    ))
}

/// Replaces a user's roles (administrators, not their own).
#[utoipa::path(put, path = "/v1/users/{username}/roles", tag = "users", request_body = RolesRequest,
    params(("username" = String, Path)),
    responses((status = 204, description = "Changed"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn set_roles(
    State(app): State<AppState>,
    SignedIn(caller, _token): SignedIn,
    ApiPath(username): ApiPath<String>,
    JsonBody(request): JsonBody<RolesRequest>,
) -> Result<StatusCode, ApiError> {
    grantable(&request.roles)?;
    roles_within(&app.snapshot().state, &request.roles, &caller)?;
    change_user(&app, caller, &username.clone(), move |auth, actor| {
        auth.set_roles(actor, &username, request.roles)
    })
    .await
}

/// Suspends a user: sign-in refused, every session revoked.
#[utoipa::path(post, path = "/v1/users/{username}/suspend", tag = "users", request_body = SuspendRequest,
    params(("username" = String, Path)),
    responses((status = 204, description = "Suspended"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn suspend_user(
    State(app): State<AppState>,
    SignedIn(caller, _token): SignedIn,
    ApiPath(username): ApiPath<String>,
    JsonBody(request): JsonBody<SuspendRequest>,
) -> Result<StatusCode, ApiError> {
    change_user(&app, caller, &username.clone(), move |auth, actor| {
        auth.suspend_user(actor, &username, &request.reason)
    })
    .await
}

/// Lifts a suspension.
#[utoipa::path(post, path = "/v1/users/{username}/reinstate", tag = "users",
    params(("username" = String, Path)),
    responses((status = 204, description = "Reinstated"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn reinstate_user(
    State(app): State<AppState>,
    SignedIn(caller, _token): SignedIn,
    ApiPath(username): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    change_user(&app, caller, &username.clone(), move |auth, actor| {
        auth.reinstate_user(actor, &username)
    })
    .await
}

/// Lifts a lock-out and clears the failure counts.
#[utoipa::path(post, path = "/v1/users/{username}/unlock", tag = "users",
    params(("username" = String, Path)),
    responses((status = 204, description = "Unlocked"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn unlock_user(
    State(app): State<AppState>,
    SignedIn(caller, _token): SignedIn,
    ApiPath(username): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    change_user(&app, caller, &username.clone(), move |auth, actor| {
        auth.unlock_user(actor, &username)
    })
    .await
}

/// Removes a user's authenticator app (lost phone); every session of the user is revoked.
#[utoipa::path(post, path = "/v1/users/{username}/reset-second-factor", tag = "users",
    params(("username" = String, Path)),
    responses((status = 204, description = "Reset"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn reset_second_factor(
    State(app): State<AppState>,
    SignedIn(caller, _token): SignedIn,
    ApiPath(username): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    change_user(&app, caller, &username.clone(), move |auth, actor| {
        auth.reset_second_factor(actor, &username)
    })
    .await
}

/// The authentication audit log, oldest first (auditors and administrators).
#[utoipa::path(get, path = "/v1/audit", tag = "users", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(crate) async fn audit_log(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    app.authorize(&caller, &yrd_auth::Action::ReadAudit)?;
    let after = query.after_seq.unwrap_or(0);
    let limit = query.limit.unwrap_or(100);
    if !(1..=1_000).contains(&limit) {
        return Err(ApiError::bad_request(
            codes::INVALID_QUERY,
            format!("query parameter `limit` must be 1-1000, not {limit}"),
            Some("limit"),
        ));
    }
    let principal = caller.principal;
    let records = blocking(&app.auth, move |auth| {
        auth.audit_log(&principal, after, limit)
    })
    .await?;
    let next_after_seq = records.last().map_or(after, |r| r.seq);
    Ok(Json(AuditPage {
        records,
        next_after_seq,
    }))
}

/// Runs an administrator's change to the user `target` through the authentication service,
/// which checks that `caller` may manage users, after checking that every role `target` holds
/// lies within the jurisdictions `caller` administers: 204, or the refusal.
async fn change_user(
    app: &AppState,
    caller: Caller,
    target: &str,
    change: impl FnOnce(&yrd_auth::Auth, &yrd_auth::Principal) -> Result<(), yrd_auth::AuthError>
    + Send
    + 'static,
) -> Result<StatusCode, ApiError> {
    let principal = caller.principal.clone();
    let name = target.to_string();
    let current = blocking(&app.auth, move |auth| auth.user_status(&principal, &name))
        .await?
        .roles;
    roles_within(&app.snapshot().state, &current, &caller)?;
    let principal = caller.principal;
    blocking(&app.auth, move |auth| change(auth, &principal)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Refuses to grant, over HTTP, a role over a holder's account: representatives and additional
/// authorised representatives are appointed by the registry operator on the holder's request,
/// with the identity checks that go with it (`yrd-ets user add`, EU Reg. 2019/1122 Art. 21-22).
/// An administrator who could appoint them could create both persons of a four-eyes pair and
/// move a holder's units alone.
fn grantable(roles: &[Role]) -> Result<(), ApiError> {
    match roles.iter().find(|r| {
        matches!(
            r,
            Role::AccountRepresentative { .. } | Role::AdditionalAuthorisedRepresentative { .. }
        )
    }) {
        Some(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            codes::FORBIDDEN,
            "representatives of holders' accounts are appointed by the registry operator on the \
             holder's request (`yrd-ets user add`), not by an administrator over HTTP: one \
             administrator could otherwise create both persons of a four-eyes pair",
            Some("roles"),
        )),
        None => Ok(()),
    }
}

/// Refuses unless every role in `roles` lies within the jurisdictions `caller` administers: an
/// administrator of CN-SH manages administrators of CN-SH and representatives of CN-SH accounts
/// and verifiers of CN-SH installations, nothing else. Auditors, who read every jurisdiction,
/// are provisioned by the operator (`yrd-ets user add`), not over HTTP. An account or
/// installation the registry does not know is 422 `UNKNOWN_REFERENCE`.
fn roles_within(state: &RegistryState, roles: &[Role], caller: &Caller) -> Result<(), ApiError> {
    let administered: Vec<&JurisdictionCode> = caller
        .principal
        .roles()
        .iter()
        .filter_map(|r| match r {
            Role::RegistryAdministrator { jurisdiction } => Some(jurisdiction),
            _ => None,
        })
        .collect();
    let outside = |what: String| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            codes::FORBIDDEN,
            format!("{what} is outside the jurisdictions you administer"),
            Some("roles"),
        )
    };
    let unknown = |what: String| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            codes::UNKNOWN_REFERENCE,
            format!("{what} is not in this registry"),
            Some("roles"),
        )
    };
    let within = |j: &JurisdictionCode| administered.contains(&j);
    for role in roles {
        match role {
            Role::RegistryAdministrator { jurisdiction } if !within(jurisdiction) => {
                return Err(outside(format!("administration of {jurisdiction}")));
            }
            Role::AccountRepresentative { accounts }
            | Role::AdditionalAuthorisedRepresentative { accounts } => {
                for account in accounts {
                    let reference = crate::authz::account_ref(state, account)
                        .ok_or_else(|| unknown(format!("account {account}")))?;
                    if !within(&reference.jurisdiction) {
                        return Err(outside(format!("account {account}")));
                    }
                }
            }
            Role::Verifier { installations } => {
                for installation in installations {
                    let jurisdiction = crate::authz::installation_jurisdiction(state, installation)
                        .ok_or_else(|| unknown(format!("installation {installation}")))?;
                    if !within(&jurisdiction) {
                        return Err(outside(format!("installation {installation}")));
                    }
                }
            }
            Role::Auditor => {
                return Err(outside(
                    "the auditor role (every jurisdiction; the operator provisions it)".into(),
                ));
            }
            Role::RegistryAdministrator { .. } | Role::Public => {}
        }
    }
    Ok(())
}

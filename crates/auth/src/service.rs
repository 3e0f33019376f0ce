//! [`Auth`]: the service the HTTP server calls.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use yrd_types::JurisdictionCode;

use crate::audit::{
    AuditEvent, AuditRecord, FailureKind, NewAuditRecord, SecondFactorOutcome, SignInOutcome,
};
use crate::clock::{Clock, Timestamp};
use crate::config::AuthConfig;
use crate::error::AuthError;
use crate::password::{Password, hash_password, needs_rehash, verify_password};
use crate::role::{Action, Principal, Role, UserId, authorize};
use crate::store::{SessionRow, Tx, UserRow, UserStore};
use crate::token::SessionToken;
use crate::totp::{self, TotpCheck, TotpEnrolment};

/// A row the server adds to the audit log (see [`Auth::record_notes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditNote {
    /// A refusal: what was asked, the code and message answered.
    Refused {
        /// What was asked.
        action: String,
        /// The error code answered.
        code: String,
        /// The message answered.
        message: String,
    },
    /// An approval the user gave, and the registry transaction holding it.
    Approved {
        /// What was approved.
        action: String,
        /// The registry transaction id.
        transaction: String,
    },
}

impl AuditNote {
    fn event(&self) -> AuditEvent {
        match self {
            AuditNote::Refused {
                action,
                code,
                message,
            } => AuditEvent::Refused {
                action: clip_long(action),
                code: clip(code),
                message: clip_long(message),
            },
            AuditNote::Approved {
                action,
                transaction,
            } => AuditEvent::Approved {
                action: clip_long(action),
                transaction: clip(transaction),
            },
        }
    }
}

/// The audit row of a server's note: the principal as the user, no separate actor.
fn note_row<'a>(
    at: Timestamp,
    principal: &'a Principal,
    source: Option<&'a str>,
    note: &AuditNote,
) -> NewAuditRecord<'a> {
    NewAuditRecord {
        at,
        user: principal.user,
        username: principal.username.as_deref(),
        actor: None,
        source,
        event: note.event(),
    }
}

/// How finely a session's idle timer is kept, in seconds: `last_seen_at` is rewritten only when
/// it is at least this old, so a session may expire up to this much earlier than
/// `SessionConfig::idle_timeout_secs` after its last request (15 s of 900 s by default).
pub const TOUCH_GRANULARITY_SECS: u64 = 15;

/// Longest source (network address) or typed username kept in the store, in characters.
const MAX_LOGGED_CHARS: usize = 128;

/// The result of a successful password sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// The session token to hand to the client (cookie or bearer token). Only its SHA-256 is
    /// stored: it cannot be shown again.
    pub token: SessionToken,
    /// The user as signed in (without the second factor yet).
    pub principal: Principal,
    /// Whether the user has an authenticator app: if so, actions that
    /// [require the second factor](Action::requires_second_factor) need
    /// [`Auth::verify_second_factor`] first; if not, the user must enrol one
    /// ([`Auth::begin_totp_enrolment`]) before moving units or cash.
    pub second_factor_enrolled: bool,
    /// When the session ends at the latest (its absolute lifetime).
    pub expires_at: Timestamp,
}

/// A live session as its holder sees it ([`Auth::session_status`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStatus {
    /// The user as authenticated now (roles re-read, second factor as of now).
    pub principal: Principal,
    /// Whether the user has an authenticator app.
    pub second_factor_enrolled: bool,
    /// When the session ends at the latest (its absolute lifetime).
    pub expires_at: Timestamp,
}

/// An administrator's view of a user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserStatus {
    /// The user's number.
    pub user: UserId,
    /// The username.
    pub username: String,
    /// The roles held.
    pub roles: Vec<Role>,
    /// When the user was created.
    pub created_at: Timestamp,
    /// Set while the user is suspended.
    pub suspended: Option<Suspension>,
    /// The end of the user's lock-out, while locked. Only administrators and auditors see this;
    /// the user sees the same error as for a wrong password.
    pub locked_until: Option<Timestamp>,
    /// Consecutive wrong passwords since the last success or lock-out.
    pub failed_passwords: u32,
    /// Consecutive wrong one-time passwords since the last success or lock-out.
    pub failed_otps: u32,
    /// Whether an authenticator app is enrolled.
    pub second_factor_enrolled: bool,
    /// Sessions that are open and neither idle nor past their lifetime.
    pub live_sessions: u32,
}

/// A suspension by an administrator.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Suspension {
    /// When.
    pub at: Timestamp,
    /// Why, as the administrator wrote it.
    pub reason: String,
}

/// Users, credentials, sessions and the authentication audit log.
///
/// `Auth` is `Send + Sync`: share it between request handlers with an `Arc`. Password hashing
/// (tens of milliseconds with the OWASP parameters) runs outside the store's lock; every decision
/// (counting a failure, locking, opening a session) is taken in one SQLite transaction together
/// with its audit row. Calls block on SQLite and Argon2: from async code, use `spawn_blocking`.
/// [`Auth::authenticate`] writes at most once per session per second (the idle timer has
/// one-second resolution), so reads do not each cost an `fsync`.
#[derive(Debug)]
pub struct Auth {
    store: Mutex<UserStore>,
    clock: Arc<dyn Clock>,
    config: AuthConfig,
    /// A hash of a random password, verified against when the username is unknown so that an
    /// unknown user takes as long as a wrong password.
    dummy_hash: String,
}

/// The normalised form of a username: ASCII letters folded to lower case; 3-64 characters from
/// `a-z`, `0-9`, `.`, `_`, `-`, `@`, starting with a letter or digit.
///
/// # Errors
///
/// [`AuthError::InvalidUsername`] naming the rule.
pub fn normalize_username(username: &str) -> Result<String, AuthError> {
    let bad = |rule| AuthError::InvalidUsername {
        username: clip(username),
        rule,
    };
    let name = username.to_ascii_lowercase();
    if !(3..=64).contains(&name.len()) {
        return Err(bad("must be 3-64 characters long"));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(bad("must start with a letter or digit"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c))
    {
        return Err(bad(
            "may contain only letters, digits and '.', '_', '-', '@'",
        ));
    }
    Ok(name)
}

/// At most [`MAX_LOGGED_CHARS`] characters of `text`.
fn clip(text: &str) -> String {
    text.chars().take(MAX_LOGGED_CHARS).collect()
}

/// At most 1,024 characters of `text` (a refusal's action and message).
fn clip_long(text: &str) -> String {
    text.chars().take(1_024).collect()
}

/// The actor of changes made on the machine itself (`yrd-ets user ...`).
const OPERATOR: &str = "operator";

impl Auth {
    /// A service over `store`, reading time from `clock`.
    ///
    /// # Errors
    ///
    /// [`AuthError::Config`] if `config` is invalid ([`AuthConfig::validate`]);
    /// [`AuthError::Random`] or [`AuthError::Hashing`] if the timing-equaliser hash cannot be
    /// made.
    pub fn new(
        store: UserStore,
        clock: Arc<dyn Clock>,
        config: AuthConfig,
    ) -> Result<Auth, AuthError> {
        config.validate()?;
        let mut random = [0u8; 24];
        crate::random::fill(&mut random)?;
        let dummy = Password::new(
            random
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
        );
        let dummy_hash = hash_password(&dummy, &config.argon2)?;
        Ok(Auth {
            store: Mutex::new(store),
            clock,
            config,
            dummy_hash,
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// The store, for tests that look at or tamper with the tables.
    #[cfg(test)]
    pub(crate) fn into_store(self) -> UserStore {
        self.store
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, UserStore> {
        // A panic while holding the lock cannot leave the database half-changed (every change is
        // one SQLite transaction, rolled back if not committed), so the store stays usable.
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Creates the first user, a [`Role::RegistryAdministrator`] of `jurisdiction`, in an empty
    /// store (the `init` step of a deployment). The administrator must then sign in and enrol an
    /// authenticator app before managing users.
    ///
    /// # Errors
    ///
    /// [`AuthError::AlreadyBootstrapped`] if the store has a user; [`AuthError::InvalidUsername`],
    /// [`AuthError::PasswordPolicy`]; storage and hashing errors.
    pub fn bootstrap_administrator(
        &self,
        username: &str,
        password: &Password,
        jurisdiction: JurisdictionCode,
    ) -> Result<UserId, AuthError> {
        let username = normalize_username(username)?;
        self.config.password.check(&username, password)?;
        let hash = hash_password(password, &self.config.argon2)?;
        let roles = vec![Role::RegistryAdministrator { jurisdiction }];
        let now = self.clock.now();
        self.store().write(|tx| {
            if tx.user_count()? > 0 {
                return Err(AuthError::AlreadyBootstrapped);
            }
            let id = tx.insert_user(&username, &hash, &roles, now)?;
            tx.append_audit(&NewAuditRecord {
                at: now,
                user: Some(id),
                username: Some(&username),
                actor: Some("bootstrap"),
                source: None,
                event: AuditEvent::UserCreated { roles },
            })?;
            Ok(id)
        })
    }

    /// Signs in with a password from `source` (the client's network address as the server sees
    /// it). Opens a session without the second factor.
    ///
    /// Every attempt writes an audit row. A wrong password counts a failure for the user and for
    /// the source; the limit ([`crate::LockoutPolicy`]) locks them. A success clears the user's and
    /// the source's password-failure counts (not their one-time-password counts).
    ///
    /// # Errors
    ///
    /// - [`AuthError::InvalidCredentials`] for an unknown username, a wrong password, or a locked
    ///   user (indistinguishable, and taking the same time: an unknown username is checked against
    ///   a dummy hash);
    /// - [`AuthError::SourceLocked`] while the source is locked;
    /// - [`AuthError::Suspended`] if the password is right but the user is suspended;
    /// - storage, hashing and randomness errors.
    pub fn sign_in(
        &self,
        username: &str,
        password: &Password,
        source: &str,
    ) -> Result<SignedIn, AuthError> {
        let source = clip(source);
        let typed = clip(username);
        let name = normalize_username(username).ok();
        let now = self.clock.now();

        // 1. Read what the password is checked against (short hold of the lock).
        let (candidate, source_locked) = self.store().read(|tx| {
            let user = match &name {
                Some(name) => tx.user_by_name(name)?,
                None => None,
            };
            Ok((user, tx.source_locked_until(&source, now)?))
        })?;
        if let Some(until) = source_locked {
            self.store().write(|tx| {
                tx.append_audit(&NewAuditRecord {
                    at: now,
                    user: candidate.as_ref().map(|u| u.id),
                    username: Some(&typed),
                    actor: None,
                    source: Some(&source),
                    event: AuditEvent::SignIn {
                        outcome: SignInOutcome::SourceLocked,
                    },
                })
            })?;
            return Err(AuthError::SourceLocked {
                retry_after_secs: now.seconds_until(until),
            });
        }

        // 2. Argon2 outside the lock; a dummy hash for an unknown user, to take the same time.
        let stored = candidate
            .as_ref()
            .map_or(self.dummy_hash.as_str(), |u| u.password_hash.as_str());
        let password_ok = verify_password(password, stored)? && candidate.is_some();
        let rehash = match &candidate {
            Some(u) if password_ok && needs_rehash(&u.password_hash, &self.config.argon2) => {
                Some(hash_password(password, &self.config.argon2)?)
            }
            _ => None,
        };
        let token = SessionToken::generate()?;
        let digest = token
            .digest()
            .ok_or_else(|| AuthError::Random("generated token does not decode".into()))?;

        // 3. Decide, count and record in one transaction, with the user's state as it is now.
        let policy = &self.config.lockout;
        self.store().write(|tx| {
            let audit = |user: Option<&UserRow>, event: AuditEvent| {
                tx.append_audit(&NewAuditRecord {
                    at: now,
                    user: user.map(|u| u.id),
                    username: Some(user.map_or(typed.as_str(), |u| u.username.as_str())),
                    actor: None,
                    source: Some(&source),
                    event,
                })
            };
            let sign_in = |outcome| AuditEvent::SignIn { outcome };
            let source_failure = || -> Result<(), AuthError> {
                if let Some(until) =
                    tx.record_source_failure(&source, FailureKind::Password, now, policy)?
                {
                    audit(
                        None,
                        AuditEvent::SourceLockedOut {
                            kind: FailureKind::Password,
                            until,
                        },
                    )?;
                }
                Ok(())
            };

            if let Some(until) = tx.source_locked_until(&source, now)? {
                audit(None, sign_in(SignInOutcome::SourceLocked))?;
                return Ok(Err(AuthError::SourceLocked {
                    retry_after_secs: now.seconds_until(until),
                }));
            }
            let user = match &candidate {
                Some(c) => tx.user_by_id(c.id)?,
                None => None,
            };
            let Some(user) = user else {
                audit(None, sign_in(SignInOutcome::UnknownUser))?;
                source_failure()?;
                return Ok(Err(AuthError::InvalidCredentials));
            };
            if user.locked_at(now).is_some() {
                audit(Some(&user), sign_in(SignInOutcome::UserLocked))?;
                source_failure()?;
                return Ok(Err(AuthError::InvalidCredentials));
            }
            if !password_ok {
                audit(Some(&user), sign_in(SignInOutcome::WrongPassword))?;
                if let Some(until) =
                    tx.record_user_failure(&user, FailureKind::Password, now, policy)?
                {
                    audit(
                        Some(&user),
                        AuditEvent::UserLockedOut {
                            kind: FailureKind::Password,
                            until,
                        },
                    )?;
                }
                source_failure()?;
                return Ok(Err(AuthError::InvalidCredentials));
            }
            if user.suspended_at.is_some() {
                audit(Some(&user), sign_in(SignInOutcome::Suspended))?;
                return Ok(Err(AuthError::Suspended));
            }
            tx.reset_user_failures(user.id, Some(FailureKind::Password), false)?;
            tx.reset_source_failures(&source, FailureKind::Password)?;
            if let Some(hash) = &rehash {
                tx.rehash_password(user.id, hash)?;
            }
            tx.insert_session(&digest, user.id, &source, now)?;
            audit(Some(&user), sign_in(SignInOutcome::Success))?;
            Ok(Ok(SignedIn {
                principal: self.principal(&user, None, now),
                second_factor_enrolled: user.totp_secret.is_some(),
                expires_at: now.plus_seconds(self.config.session.absolute_lifetime_secs),
                token: token.clone(),
            }))
        })?
    }

    /// The principal for `user` in a session whose second factor passed at `second_factor_at`.
    fn principal(
        &self,
        user: &UserRow,
        second_factor_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Principal {
        let validity = self.config.session.second_factor_validity_secs;
        Principal {
            user: Some(user.id),
            username: Some(user.username.clone()),
            roles: user.roles.clone(),
            second_factor: user.totp_secret.is_some()
                && second_factor_at.is_some_and(|at| now < at.plus_seconds(validity)),
        }
    }

    /// Finds the live session of `token` at `now` and marks it used. An expired session is revoked
    /// (with an audit row) and reported as such; the inner error is committed.
    fn live_session(
        &self,
        tx: &Tx<'_>,
        token: &SessionToken,
        now: Timestamp,
    ) -> Result<Result<(SessionRow, UserRow), AuthError>, AuthError> {
        const IDLE: &str = "idle";
        const ABSOLUTE: &str = "absolute";
        let Some(digest) = token.digest() else {
            return Ok(Err(AuthError::InvalidSession));
        };
        let Some(session) = tx.session_by_digest(&digest)? else {
            return Ok(Err(AuthError::InvalidSession));
        };
        match session.revoked.as_deref() {
            Some(IDLE | ABSOLUTE) => return Ok(Err(AuthError::SessionExpired)),
            Some(_) => return Ok(Err(AuthError::InvalidSession)),
            None => {}
        }
        let user = tx
            .user_by_id(session.user)?
            .ok_or_else(|| AuthError::Storage(format!("session of missing {}", session.user)))?;
        let s = &self.config.session;
        let expired = if now >= session.created_at.plus_seconds(s.absolute_lifetime_secs) {
            Some(ABSOLUTE)
        } else if now >= session.last_seen_at.plus_seconds(s.idle_timeout_secs) {
            Some(IDLE)
        } else {
            None
        };
        if let Some(reason) = expired {
            tx.revoke_session(session.id, now, reason)?;
            tx.append_audit(&NewAuditRecord {
                at: now,
                user: Some(user.id),
                username: Some(&user.username),
                actor: None,
                source: None,
                event: AuditEvent::SessionExpired {
                    reason: reason.into(),
                },
            })?;
            return Ok(Err(AuthError::SessionExpired));
        }
        if user.suspended_at.is_some() {
            return Ok(Err(AuthError::InvalidSession));
        }
        // The idle timer is kept to TOUCH_GRANULARITY_SECS: a request within that time of the
        // last recorded one writes nothing, so that reads cost no fsync of the user store.
        if now >= session.last_seen_at.plus_seconds(TOUCH_GRANULARITY_SECS) {
            tx.touch_session(session.id, now)?;
        }
        Ok(Ok((session, user)))
    }

    /// The principal of a session token, with the user's current roles; marks the session used
    /// (resetting its idle timer). Call it once per request.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidSession`] for an unknown, malformed or revoked token or a suspended
    /// user; [`AuthError::SessionExpired`] past the idle timeout or the absolute lifetime;
    /// storage errors.
    pub fn authenticate(&self, token: &SessionToken) -> Result<Principal, AuthError> {
        let now = self.clock.now();
        self.store().write(|tx| {
            Ok(self
                .live_session(tx, token, now)?
                .map(|(session, user)| self.principal(&user, session.second_factor_at, now)))
        })?
    }

    /// Checks a one-time password for the session's user and, if right, lets the session do
    /// actions that [require the second factor](Action::requires_second_factor) for
    /// `SessionConfig::second_factor_validity_secs`. Returns the updated principal.
    ///
    /// A code whose time step was already used is refused (replay). A wrong or replayed code counts
    /// a one-time-password failure for the user and the source; a right one clears both counts of
    /// the user and the source's one-time-password count.
    ///
    /// # Errors
    ///
    /// Session errors as [`Auth::authenticate`]; [`AuthError::SourceLocked`];
    /// [`AuthError::SecondFactorNotEnrolled`]; [`AuthError::InvalidOneTimePassword`] for a wrong
    /// code, [`AuthError::OneTimePasswordReplayed`] for a replayed one, [`AuthError::UserLocked`]
    /// for a locked user; storage errors.
    pub fn verify_second_factor(
        &self,
        token: &SessionToken,
        code: &str,
        source: &str,
    ) -> Result<Principal, AuthError> {
        let source = clip(source);
        let now = self.clock.now();
        self.store().write(|tx| {
            let (session, user) = match self.live_session(tx, token, now)? {
                Ok(found) => found,
                Err(e) => return Ok(Err(e)),
            };
            let Some(secret) = &user.totp_secret else {
                self.audit_second_factor(
                    tx,
                    &user,
                    &source,
                    now,
                    SecondFactorOutcome::NotEnrolled,
                )?;
                return Ok(Err(AuthError::SecondFactorNotEnrolled));
            };
            if let Some(refused) = self.refuse_locked_otp(tx, &user, &source, now)? {
                return Ok(Err(refused));
            }
            match totp::check(secret, code, now, user.totp_last_step)? {
                TotpCheck::Accepted { step } => {
                    tx.set_totp_last_step(user.id, step)?;
                    tx.reset_user_failures(user.id, None, false)?;
                    tx.reset_source_failures(&source, FailureKind::OneTimePassword)?;
                    tx.set_session_second_factor(session.id, now)?;
                    self.audit_second_factor(
                        tx,
                        &user,
                        &source,
                        now,
                        SecondFactorOutcome::Success,
                    )?;
                    Ok(Ok(self.principal(&user, Some(now), now)))
                }
                TotpCheck::Replayed => {
                    self.otp_failure(tx, &user, &source, now, SecondFactorOutcome::Replayed)?;
                    Ok(Err(AuthError::OneTimePasswordReplayed))
                }
                TotpCheck::Wrong => {
                    self.otp_failure(tx, &user, &source, now, SecondFactorOutcome::WrongCode)?;
                    Ok(Err(AuthError::InvalidOneTimePassword))
                }
            }
        })?
    }

    fn audit_second_factor(
        &self,
        tx: &Tx<'_>,
        user: &UserRow,
        source: &str,
        now: Timestamp,
        outcome: SecondFactorOutcome,
    ) -> Result<i64, AuthError> {
        tx.append_audit(&NewAuditRecord {
            at: now,
            user: Some(user.id),
            username: Some(&user.username),
            actor: None,
            source: Some(source),
            event: AuditEvent::SecondFactor { outcome },
        })
    }

    /// The error to return, with its audit row written, if the source or the user is locked.
    fn refuse_locked_otp(
        &self,
        tx: &Tx<'_>,
        user: &UserRow,
        source: &str,
        now: Timestamp,
    ) -> Result<Option<AuthError>, AuthError> {
        if let Some(until) = tx.source_locked_until(source, now)? {
            self.audit_second_factor(tx, user, source, now, SecondFactorOutcome::SourceLocked)?;
            return Ok(Some(AuthError::SourceLocked {
                retry_after_secs: now.seconds_until(until),
            }));
        }
        if let Some(until) = user.locked_at(now) {
            self.audit_second_factor(tx, user, source, now, SecondFactorOutcome::UserLocked)?;
            return Ok(Some(AuthError::UserLocked {
                retry_after_secs: now.seconds_until(until),
            }));
        }
        Ok(None)
    }

    /// Records a wrong or replayed code: audit row, user and source counts, lock-outs.
    fn otp_failure(
        &self,
        tx: &Tx<'_>,
        user: &UserRow,
        source: &str,
        now: Timestamp,
        outcome: SecondFactorOutcome,
    ) -> Result<(), AuthError> {
        let policy = &self.config.lockout;
        let kind = FailureKind::OneTimePassword;
        self.audit_second_factor(tx, user, source, now, outcome)?;
        let record = |event| {
            tx.append_audit(&NewAuditRecord {
                at: now,
                user: Some(user.id),
                username: Some(&user.username),
                actor: None,
                source: Some(source),
                event,
            })
        };
        if let Some(until) = tx.record_user_failure(user, kind, now, policy)? {
            record(AuditEvent::UserLockedOut { kind, until })?;
        }
        if let Some(until) = tx.record_source_failure(source, kind, now, policy)? {
            record(AuditEvent::SourceLockedOut { kind, until })?;
        }
        Ok(())
    }

    /// Ends the session (sign-out). Signing out of a session that already ended is not an error.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidSession`] for a token the service never issued; storage errors.
    pub fn sign_out(&self, token: &SessionToken) -> Result<(), AuthError> {
        let now = self.clock.now();
        let digest = token.digest().ok_or(AuthError::InvalidSession)?;
        self.store().write(|tx| {
            let Some(session) = tx.session_by_digest(&digest)? else {
                return Ok(Err(AuthError::InvalidSession));
            };
            if session.revoked.is_some() {
                return Ok(Ok(()));
            }
            tx.revoke_session(session.id, now, "signed out")?;
            let user = tx.user_by_id(session.user)?;
            tx.append_audit(&NewAuditRecord {
                at: now,
                user: Some(session.user),
                username: user.as_ref().map(|u| u.username.as_str()),
                actor: None,
                source: None,
                event: AuditEvent::SignedOut,
            })?;
            Ok(Ok(()))
        })?
    }

    /// Starts enrolling an authenticator app for the session's user: draws a new secret (kept
    /// pending; the current one, if any, stays in force) and returns what the app needs. Confirm
    /// with [`Auth::confirm_totp_enrolment`]. Starting again replaces the pending secret.
    ///
    /// # Errors
    ///
    /// Session errors; [`AuthError::SecondFactorRequired`] if the user already has an
    /// authenticator app and the session has not passed it recently (a stolen password must not
    /// let anyone replace the second factor); storage and randomness errors.
    pub fn begin_totp_enrolment(&self, token: &SessionToken) -> Result<TotpEnrolment, AuthError> {
        let now = self.clock.now();
        let secret = totp::generate_secret()?;
        self.store().write(|tx| {
            let (session, user) = match self.live_session(tx, token, now)? {
                Ok(found) => found,
                Err(e) => return Ok(Err(e)),
            };
            if user.totp_secret.is_some()
                && !self
                    .principal(&user, session.second_factor_at, now)
                    .second_factor
            {
                return Ok(Err(AuthError::SecondFactorRequired));
            }
            let enrolment = totp::enrolment(&self.config.totp_issuer, &user.username, &secret)?;
            tx.set_totp_pending(user.id, Some(&secret))?;
            tx.append_audit(&NewAuditRecord {
                at: now,
                user: Some(user.id),
                username: Some(&user.username),
                actor: None,
                source: None,
                event: AuditEvent::SecondFactorEnrolmentStarted,
            })?;
            Ok(Ok(enrolment))
        })?
    }

    /// Confirms the pending authenticator app with a code from it: the app becomes the user's
    /// second factor (replacing any earlier one) and the session has passed it. Wrong codes count
    /// as one-time-password failures.
    ///
    /// # Errors
    ///
    /// Session errors; [`AuthError::NoPendingEnrolment`]; [`AuthError::SourceLocked`];
    /// [`AuthError::InvalidOneTimePassword`]; storage errors.
    pub fn confirm_totp_enrolment(
        &self,
        token: &SessionToken,
        code: &str,
        source: &str,
    ) -> Result<Principal, AuthError> {
        let source = clip(source);
        let now = self.clock.now();
        self.store().write(|tx| {
            let (session, user) = match self.live_session(tx, token, now)? {
                Ok(found) => found,
                Err(e) => return Ok(Err(e)),
            };
            let Some(pending) = &user.totp_pending else {
                return Ok(Err(AuthError::NoPendingEnrolment));
            };
            if let Some(refused) = self.refuse_locked_otp(tx, &user, &source, now)? {
                return Ok(Err(refused));
            }
            match totp::check(pending, code, now, None)? {
                TotpCheck::Accepted { step } => {
                    tx.activate_totp(user.id, pending, step)?;
                    tx.reset_user_failures(user.id, None, false)?;
                    tx.reset_source_failures(&source, FailureKind::OneTimePassword)?;
                    tx.set_session_second_factor(session.id, now)?;
                    tx.append_audit(&NewAuditRecord {
                        at: now,
                        user: Some(user.id),
                        username: Some(&user.username),
                        actor: None,
                        source: Some(&source),
                        event: AuditEvent::SecondFactorEnrolled,
                    })?;
                    let mut user = user.clone();
                    user.totp_secret = Some(pending.clone());
                    Ok(Ok(self.principal(&user, Some(now), now)))
                }
                TotpCheck::Replayed | TotpCheck::Wrong => {
                    self.otp_failure(tx, &user, &source, now, SecondFactorOutcome::WrongCode)?;
                    Ok(Err(AuthError::InvalidOneTimePassword))
                }
            }
        })?
    }

    /// Changes the session user's password, given the current one; every other session of the
    /// user is revoked. A wrong current password counts as a password failure.
    ///
    /// # Errors
    ///
    /// Session errors; [`AuthError::InvalidCredentials`] for a wrong current password or a locked
    /// user; [`AuthError::PasswordPolicy`]; storage and hashing errors.
    pub fn change_password(
        &self,
        token: &SessionToken,
        current: &Password,
        new: &Password,
        source: &str,
    ) -> Result<(), AuthError> {
        let source = clip(source);
        let now = self.clock.now();
        let user = self
            .store()
            .write(|tx| Ok(self.live_session(tx, token, now)?.map(|(_, user)| user)))??;
        self.config.password.check(&user.username, new)?;
        let current_ok = verify_password(current, &user.password_hash)?;
        let new_hash = if current_ok {
            Some(hash_password(new, &self.config.argon2)?)
        } else {
            None
        };
        let policy = &self.config.lockout;
        self.store().write(|tx| {
            let (session, user) = match self.live_session(tx, token, now)? {
                Ok(found) => found,
                Err(e) => return Ok(Err(e)),
            };
            let audit = |event| {
                tx.append_audit(&NewAuditRecord {
                    at: now,
                    user: Some(user.id),
                    username: Some(&user.username),
                    actor: None,
                    source: Some(&source),
                    event,
                })
            };
            if user.locked_at(now).is_some() {
                audit(AuditEvent::SignIn {
                    outcome: SignInOutcome::UserLocked,
                })?;
                return Ok(Err(AuthError::InvalidCredentials));
            }
            let Some(hash) = &new_hash else {
                audit(AuditEvent::SignIn {
                    outcome: SignInOutcome::WrongPassword,
                })?;
                let kind = FailureKind::Password;
                if let Some(until) = tx.record_user_failure(&user, kind, now, policy)? {
                    audit(AuditEvent::UserLockedOut { kind, until })?;
                }
                if let Some(until) = tx.record_source_failure(&source, kind, now, policy)? {
                    audit(AuditEvent::SourceLockedOut { kind, until })?;
                }
                return Ok(Err(AuthError::InvalidCredentials));
            };
            tx.set_password_hash(user.id, hash, now)?;
            tx.reset_user_failures(user.id, Some(FailureKind::Password), false)?;
            tx.revoke_user_sessions(user.id, now, "password changed", Some(session.id))?;
            audit(AuditEvent::PasswordChanged)?;
            Ok(Ok(()))
        })?
    }

    /// Runs an administrator's operation on the user `username` in one write transaction, after
    /// checking `action` for `actor`.
    fn administer<T>(
        &self,
        actor: &Principal,
        action: Action,
        username: &str,
        f: impl FnOnce(&Tx<'_>, UserRow, Timestamp) -> Result<T, AuthError>,
    ) -> Result<T, AuthError> {
        authorize(actor, &action)?;
        let name = normalize_username(username)?;
        let now = self.clock.now();
        self.store().write(|tx| {
            let user = tx
                .user_by_name(&name)?
                .ok_or_else(|| AuthError::NoSuchUser(name.clone()))?;
            f(tx, user, now)
        })
    }

    fn admin_audit(
        tx: &Tx<'_>,
        actor: &Principal,
        user: &UserRow,
        now: Timestamp,
        event: AuditEvent,
    ) -> Result<i64, AuthError> {
        tx.append_audit(&NewAuditRecord {
            at: now,
            user: Some(user.id),
            username: Some(&user.username),
            actor: Some(&actor.actor_name()),
            source: None,
            event,
        })
    }

    /// Creates a user with `roles` (administrators, [`Action::ManageUsers`]).
    ///
    /// # Errors
    ///
    /// [`AuthError::Denied`]; [`AuthError::InvalidUsername`]; [`AuthError::UsernameTaken`];
    /// [`AuthError::PasswordPolicy`]; storage and hashing errors.
    pub fn create_user(
        &self,
        actor: &Principal,
        username: &str,
        password: &Password,
        roles: Vec<Role>,
    ) -> Result<UserId, AuthError> {
        authorize(actor, &Action::ManageUsers)?;
        let username = normalize_username(username)?;
        self.config.password.check(&username, password)?;
        let hash = hash_password(password, &self.config.argon2)?;
        let roles = tidy_roles(roles);
        let now = self.clock.now();
        self.store().write(|tx| {
            let id = tx.insert_user(&username, &hash, &roles, now)?;
            tx.append_audit(&NewAuditRecord {
                at: now,
                user: Some(id),
                username: Some(&username),
                actor: Some(&actor.actor_name()),
                source: None,
                event: AuditEvent::UserCreated { roles },
            })?;
            Ok(id)
        })
    }

    /// Replaces the roles of `username` (administrators; not their own). Takes effect at the
    /// user's next request.
    ///
    /// # Errors
    ///
    /// [`AuthError::Denied`]; [`AuthError::SelfAdministration`]; [`AuthError::NoSuchUser`];
    /// storage errors.
    pub fn set_roles(
        &self,
        actor: &Principal,
        username: &str,
        roles: Vec<Role>,
    ) -> Result<(), AuthError> {
        let roles = tidy_roles(roles);
        self.administer(actor, Action::ManageUsers, username, |tx, user, now| {
            if actor.user == Some(user.id) {
                return Err(AuthError::SelfAdministration);
            }
            tx.set_roles(user.id, &roles)?;
            let event = AuditEvent::RolesChanged {
                before: user.roles.clone(),
                after: roles,
            };
            Self::admin_audit(tx, actor, &user, now, event)?;
            Ok(())
        })
    }

    /// Suspends `username` (administrators; not themselves): sign-in is refused and every session
    /// of the user is revoked at once.
    ///
    /// # Errors
    ///
    /// [`AuthError::Denied`]; [`AuthError::SelfAdministration`]; [`AuthError::NoSuchUser`];
    /// storage errors.
    pub fn suspend_user(
        &self,
        actor: &Principal,
        username: &str,
        reason: &str,
    ) -> Result<(), AuthError> {
        let reason = clip(reason);
        self.administer(actor, Action::ManageUsers, username, |tx, user, now| {
            if actor.user == Some(user.id) {
                return Err(AuthError::SelfAdministration);
            }
            tx.set_suspended(user.id, Some((now, &reason)))?;
            tx.revoke_user_sessions(user.id, now, "suspended", None)?;
            Self::admin_audit(tx, actor, &user, now, AuditEvent::Suspended { reason })?;
            Ok(())
        })
    }

    /// Lifts the suspension of `username` (administrators).
    ///
    /// # Errors
    ///
    /// [`AuthError::Denied`]; [`AuthError::NoSuchUser`]; storage errors.
    pub fn reinstate_user(&self, actor: &Principal, username: &str) -> Result<(), AuthError> {
        self.administer(actor, Action::ManageUsers, username, |tx, user, now| {
            tx.set_suspended(user.id, None)?;
            Self::admin_audit(tx, actor, &user, now, AuditEvent::Reinstated)?;
            Ok(())
        })
    }

    /// Lifts the lock-out of `username` and clears its failure counts (administrators, after
    /// checking the user's identity out of band).
    ///
    /// # Errors
    ///
    /// [`AuthError::Denied`]; [`AuthError::NoSuchUser`]; storage errors.
    pub fn unlock_user(&self, actor: &Principal, username: &str) -> Result<(), AuthError> {
        self.administer(actor, Action::ManageUsers, username, |tx, user, now| {
            tx.reset_user_failures(user.id, None, true)?;
            Self::admin_audit(tx, actor, &user, now, AuditEvent::Unlocked)?;
            Ok(())
        })
    }

    /// Sets a new password for `username` (administrators): revokes every session of the user and
    /// lifts any lock-out.
    ///
    /// # Errors
    ///
    /// [`AuthError::Denied`]; [`AuthError::NoSuchUser`]; [`AuthError::PasswordPolicy`]; storage
    /// and hashing errors.
    pub fn reset_password(
        &self,
        actor: &Principal,
        username: &str,
        new: &Password,
    ) -> Result<(), AuthError> {
        authorize(actor, &Action::ManageUsers)?;
        let name = normalize_username(username)?;
        self.config.password.check(&name, new)?;
        let hash = hash_password(new, &self.config.argon2)?;
        self.administer(actor, Action::ManageUsers, &name, |tx, user, now| {
            tx.set_password_hash(user.id, &hash, now)?;
            tx.reset_user_failures(user.id, None, true)?;
            tx.revoke_user_sessions(user.id, now, "password reset", None)?;
            Self::admin_audit(tx, actor, &user, now, AuditEvent::PasswordReset)?;
            Ok(())
        })
    }

    /// Removes the authenticator app of `username` (administrators, for a lost phone): the user
    /// must enrol a new one before moving units or cash. Every session of the user is revoked.
    ///
    /// # Errors
    ///
    /// [`AuthError::Denied`]; [`AuthError::NoSuchUser`]; storage errors.
    pub fn reset_second_factor(&self, actor: &Principal, username: &str) -> Result<(), AuthError> {
        self.administer(actor, Action::ManageUsers, username, |tx, user, now| {
            tx.clear_totp(user.id)?;
            tx.revoke_user_sessions(user.id, now, "second factor reset", None)?;
            Self::admin_audit(tx, actor, &user, now, AuditEvent::SecondFactorReset)?;
            Ok(())
        })
    }

    fn status(&self, tx: &Tx<'_>, user: &UserRow, now: Timestamp) -> Result<UserStatus, AuthError> {
        let s = &self.config.session;
        let idle_since = Timestamp::from_unix_seconds(
            now.unix_seconds()
                .saturating_sub(i64::try_from(s.idle_timeout_secs).unwrap_or(i64::MAX)),
        );
        let created_since = Timestamp::from_unix_seconds(
            now.unix_seconds()
                .saturating_sub(i64::try_from(s.absolute_lifetime_secs).unwrap_or(i64::MAX)),
        );
        Ok(UserStatus {
            user: user.id,
            username: user.username.clone(),
            roles: user.roles.clone(),
            created_at: user.created_at,
            suspended: user.suspended_at.map(|at| Suspension {
                at,
                reason: user.suspended_reason.clone().unwrap_or_default(),
            }),
            locked_until: user.locked_at(now),
            failed_passwords: user.failed_passwords,
            failed_otps: user.failed_otps,
            second_factor_enrolled: user.totp_secret.is_some(),
            live_sessions: tx.live_session_count(user.id, idle_since, created_since)?,
        })
    }

    /// The id of `username`, if such a user exists: for the server to name the initiator of a
    /// movement in [`Action::ApproveMovement`] (the registry records initiators by username).
    ///
    /// # Errors
    ///
    /// Storage errors.
    pub fn user_id(&self, username: &str) -> Result<Option<UserId>, AuthError> {
        let Ok(name) = normalize_username(username) else {
            return Ok(None);
        };
        self.store()
            .read(|tx| Ok(tx.user_by_name(&name)?.map(|user| user.id)))
    }

    /// The state of `username`, including `locked_until` ([`Action::ReadUsers`]: administrators
    /// and auditors).
    ///
    /// # Errors
    ///
    /// [`AuthError::Denied`]; [`AuthError::NoSuchUser`]; storage errors.
    pub fn user_status(&self, actor: &Principal, username: &str) -> Result<UserStatus, AuthError> {
        authorize(actor, &Action::ReadUsers)?;
        let name = normalize_username(username)?;
        let now = self.clock.now();
        self.store().read(|tx| {
            let user = tx
                .user_by_name(&name)?
                .ok_or_else(|| AuthError::NoSuchUser(name.clone()))?;
            self.status(tx, &user, now)
        })
    }

    /// Every user, by username ([`Action::ReadUsers`]).
    ///
    /// # Errors
    ///
    /// [`AuthError::Denied`]; storage errors.
    pub fn users(&self, actor: &Principal) -> Result<Vec<UserStatus>, AuthError> {
        authorize(actor, &Action::ReadUsers)?;
        let now = self.clock.now();
        self.store().read(|tx| {
            tx.users()?
                .iter()
                .map(|user| self.status(tx, user, now))
                .collect()
        })
    }

    /// Up to `limit` audit rows after `after_seq` (0 for the first), oldest first
    /// ([`Action::ReadAudit`]: auditors and administrators). Page by passing the last `seq` seen.
    ///
    /// # Errors
    ///
    /// [`AuthError::Denied`]; storage errors (including a row that does not parse).
    pub fn audit_log(
        &self,
        actor: &Principal,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, AuthError> {
        authorize(actor, &Action::ReadAudit)?;
        self.store().read(|tx| tx.audit_records(after_seq, limit))
    }

    /// The session of `token` with its user, second-factor enrolment and end, marking it used
    /// like [`Auth::authenticate`] (`GET /v1/session`).
    ///
    /// # Errors
    ///
    /// As [`Auth::authenticate`].
    pub fn session_status(&self, token: &SessionToken) -> Result<SessionStatus, AuthError> {
        let now = self.clock.now();
        let lifetime = self.config.session.absolute_lifetime_secs;
        self.store().write(|tx| {
            Ok(self
                .live_session(tx, token, now)?
                .map(|(session, user)| SessionStatus {
                    principal: self.principal(&user, session.second_factor_at, now),
                    second_factor_enrolled: user.totp_secret.is_some(),
                    expires_at: session.created_at.plus_seconds(lifetime),
                }))
        })?
    }

    /// Appends an [`AuditEvent::Refused`] row: the server refused `principal`'s request to do
    /// `action` with `code` (a 403 of authorization, or the registry's refusal of a command).
    /// Append-only like every row; returns its `seq`.
    ///
    /// # Errors
    ///
    /// Storage errors.
    pub fn record_refusal(
        &self,
        principal: &Principal,
        source: Option<&str>,
        action: &str,
        code: &str,
        message: &str,
    ) -> Result<i64, AuthError> {
        let note = AuditNote::Refused {
            action: action.into(),
            code: code.into(),
            message: message.into(),
        };
        let now = self.clock.now();
        let source = source.map(clip);
        self.store()
            .write(|tx| tx.append_audit(&note_row(now, principal, source.as_deref(), &note)))
    }

    /// Appends several [`AuditNote`]s in one transaction (one fsync): the server's group commit
    /// of refusals and approvals, in the order given.
    ///
    /// # Errors
    ///
    /// Storage errors (then none of them is written).
    pub fn record_notes(
        &self,
        notes: &[(Principal, Option<String>, AuditNote)],
    ) -> Result<(), AuthError> {
        let now = self.clock.now();
        self.store().write(|tx| {
            for (principal, source, note) in notes {
                let source = source.as_deref().map(clip);
                tx.append_audit(&note_row(now, principal, source.as_deref(), note))?;
            }
            Ok(())
        })
    }

    // ----- Provisioning by the operator of the machine (`yrd-ets user ...`) -----
    //
    // These act on the store directly, without a principal: whoever can write `users.db` can
    // already do anything to it, so the command line is trusted like the file's owner. Each
    // change is audited with the actor `operator`. The server never calls them.

    /// Creates a user with `roles` as the machine's operator (the command line).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidUsername`]; [`AuthError::UsernameTaken`];
    /// [`AuthError::PasswordPolicy`]; storage and hashing errors.
    pub fn provision_user(
        &self,
        username: &str,
        password: &Password,
        roles: Vec<Role>,
    ) -> Result<UserId, AuthError> {
        let username = normalize_username(username)?;
        self.config.password.check(&username, password)?;
        let hash = hash_password(password, &self.config.argon2)?;
        let roles = tidy_roles(roles);
        let now = self.clock.now();
        self.store().write(|tx| {
            let id = tx.insert_user(&username, &hash, &roles, now)?;
            tx.append_audit(&NewAuditRecord {
                at: now,
                user: Some(id),
                username: Some(&username),
                actor: Some(OPERATOR),
                source: None,
                event: AuditEvent::UserCreated { roles },
            })?;
            Ok(id)
        })
    }

    /// Sets the authenticator-app secret of `username` as the machine's operator: `secret` (raw
    /// bytes, at least 16) or a new random one. Returns what the app needs. Any pending enrolment
    /// is dropped and every session of the user is revoked. For provisioning and test fixtures;
    /// users normally enrol themselves (`POST /v1/session/totp`).
    ///
    /// # Errors
    ///
    /// [`AuthError::NoSuchUser`]; [`AuthError::Config`] for a secret shorter than 128 bits;
    /// storage and randomness errors.
    pub fn provision_totp(
        &self,
        username: &str,
        secret: Option<Vec<u8>>,
    ) -> Result<TotpEnrolment, AuthError> {
        let secret = match secret {
            Some(s) if s.len() < 16 => {
                return Err(AuthError::Config(
                    "a TOTP secret must have at least 128 bits (RFC 4226 s. 4)".into(),
                ));
            }
            Some(s) => s,
            None => totp::generate_secret()?,
        };
        let name = normalize_username(username)?;
        let now = self.clock.now();
        self.store().write(|tx| {
            let user = tx
                .user_by_name(&name)?
                .ok_or_else(|| AuthError::NoSuchUser(name.clone()))?;
            let enrolment = totp::enrolment(&self.config.totp_issuer, &user.username, &secret)?;
            // Step 0: every code of the present is newer than the "last used" one.
            tx.activate_totp(user.id, &secret, 0)?;
            tx.revoke_user_sessions(user.id, now, "second factor provisioned", None)?;
            tx.append_audit(&NewAuditRecord {
                at: now,
                user: Some(user.id),
                username: Some(&user.username),
                actor: Some(OPERATOR),
                source: None,
                event: AuditEvent::SecondFactorEnrolled,
            })?;
            Ok(enrolment)
        })
    }

    /// Suspends (`Some(reason)`) or reinstates (`None`) `username` as the machine's operator;
    /// a suspension revokes every session of the user.
    ///
    /// # Errors
    ///
    /// [`AuthError::NoSuchUser`]; storage errors.
    pub fn provision_suspension(
        &self,
        username: &str,
        reason: Option<&str>,
    ) -> Result<(), AuthError> {
        let name = normalize_username(username)?;
        let now = self.clock.now();
        self.store().write(|tx| {
            let user = tx
                .user_by_name(&name)?
                .ok_or_else(|| AuthError::NoSuchUser(name.clone()))?;
            let event = match reason {
                Some(reason) => {
                    let reason = clip(reason);
                    tx.set_suspended(user.id, Some((now, &reason)))?;
                    tx.revoke_user_sessions(user.id, now, "suspended", None)?;
                    AuditEvent::Suspended { reason }
                }
                None => {
                    tx.set_suspended(user.id, None)?;
                    AuditEvent::Reinstated
                }
            };
            tx.append_audit(&NewAuditRecord {
                at: now,
                user: Some(user.id),
                username: Some(&user.username),
                actor: Some(OPERATOR),
                source: None,
                event,
            })?;
            Ok(())
        })
    }

    /// Every user, by username, as the machine's operator sees them.
    ///
    /// # Errors
    ///
    /// Storage errors.
    pub fn provision_users(&self) -> Result<Vec<UserStatus>, AuthError> {
        let now = self.clock.now();
        self.store().read(|tx| {
            tx.users()?
                .iter()
                .map(|user| self.status(tx, user, now))
                .collect()
        })
    }

    /// Housekeeping, to run now and then (say hourly): deletes sessions revoked more than one
    /// absolute lifetime ago or started more than one absolute lifetime ago (so certainly ended),
    /// and the failure counts of sources with no failure and no lock for as long. The audit log is
    /// never purged. Returns the numbers of (sessions, sources) deleted.
    ///
    /// # Errors
    ///
    /// Storage errors.
    pub fn purge(&self) -> Result<(usize, usize), AuthError> {
        let now = self.clock.now();
        let age = i64::try_from(self.config.session.absolute_lifetime_secs).unwrap_or(i64::MAX);
        let before = Timestamp::from_unix_seconds(now.unix_seconds().saturating_sub(age));
        self.store().write(|tx| tx.purge(before))
    }
}

/// Roles sorted and without duplicates, so that a role change's audit row is canonical.
fn tidy_roles(mut roles: Vec<Role>) -> Vec<Role> {
    roles.sort();
    roles.dedup();
    roles
}

//! The authentication audit log: one row per sign-in attempt, second-factor check, lock-out,
//! suspension, role change and other change to a user, kept in the `audit` table of the user store.
//! The table is append-only (triggers refuse `UPDATE` and `DELETE`), and a row is written in the
//! same SQLite transaction as the change it records, so the log and the users never disagree.
//!
//! Nothing secret is logged: no password, no one-time password, no token, no TOTP secret. The
//! username typed at a failed sign-in is logged (clipped to 128 characters) because that is what an
//! investigation of a password-guessing attack needs.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::role::{Role, UserId};

/// Why a sign-in attempt ended as it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInOutcome {
    /// Password right: a session was opened.
    Success,
    /// No user has the username given.
    UnknownUser,
    /// The password was wrong.
    WrongPassword,
    /// The user is locked out (the password was not looked at for the decision).
    UserLocked,
    /// The source is locked out.
    SourceLocked,
    /// The password was right but the user is suspended.
    Suspended,
}

/// Why a one-time-password check ended as it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorOutcome {
    /// The code was right and new: the session passed the second factor.
    Success,
    /// The code was wrong.
    WrongCode,
    /// The code was right but its time step had already been used.
    Replayed,
    /// The user is locked out.
    UserLocked,
    /// The source is locked out.
    SourceLocked,
    /// The user has no second factor enrolled.
    NotEnrolled,
}

/// What a lock-out counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Wrong passwords (and unknown usernames, for a source).
    Password,
    /// Wrong or replayed one-time passwords.
    OneTimePassword,
}

/// One event of the log. Serialised as JSON with an `event` tag in the `detail` column; the tag
/// is also the `kind` column, for filtering in SQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AuditEvent {
    /// A password sign-in attempt.
    SignIn {
        /// How it ended.
        outcome: SignInOutcome,
    },
    /// A one-time-password check (step-up or enrolment confirmation).
    SecondFactor {
        /// How it ended.
        outcome: SecondFactorOutcome,
    },
    /// A user reached the failure limit and is locked.
    UserLockedOut {
        /// What was counted.
        kind: FailureKind,
        /// When the lock ends.
        until: Timestamp,
    },
    /// A source reached the failure limit and is locked.
    SourceLockedOut {
        /// What was counted.
        kind: FailureKind,
        /// When the lock ends.
        until: Timestamp,
    },
    /// An administrator lifted a user's lock-out.
    Unlocked,
    /// An administrator suspended a user (and every session of the user was revoked).
    Suspended {
        /// The reason given.
        reason: String,
    },
    /// An administrator reinstated a suspended user.
    Reinstated,
    /// A user was created.
    UserCreated {
        /// The roles given.
        roles: Vec<Role>,
    },
    /// A user's roles were replaced.
    RolesChanged {
        /// The roles before.
        before: Vec<Role>,
        /// The roles after.
        after: Vec<Role>,
    },
    /// The user changed their password (other sessions were revoked).
    PasswordChanged,
    /// An administrator set a user's password (every session was revoked).
    PasswordReset,
    /// The user started enrolling an authenticator app.
    SecondFactorEnrolmentStarted,
    /// The user confirmed the new authenticator app with a code; it replaces any earlier one.
    SecondFactorEnrolled,
    /// An administrator removed a user's second factor.
    SecondFactorReset,
    /// The user signed out.
    SignedOut,
    /// A session ended by timeout.
    SessionExpired {
        /// `idle` or `absolute`.
        reason: String,
    },
    /// The server refused a signed-in user's request: an authorization refusal (403) or the
    /// registry's refusal of a command (422, 409). Written by [`crate::Auth::record_refusal`].
    Refused {
        /// What was asked, e.g. `place_order 7:o-1: initiate a movement from account TR-SH-001`.
        action: String,
        /// The error code answered, e.g. `SECOND_FACTOR_REQUIRED` or `INSUFFICIENT_HOLDINGS`.
        code: String,
        /// The message answered.
        message: String,
    },
    /// The server journaled an approval the user gave (a transfer, a trusted account, a
    /// cross-regional transfer): the four-eyes record beside the registry journal's.
    Approved {
        /// What was approved, e.g. `approve_transfer T-1 of TR-SH-001 initiated by alice`.
        action: String,
        /// The registry transaction id that holds it.
        transaction: String,
    },
}

impl AuditEvent {
    /// The `kind` column: the event's tag.
    pub fn kind(&self) -> &'static str {
        match self {
            AuditEvent::SignIn { .. } => "sign_in",
            AuditEvent::SecondFactor { .. } => "second_factor",
            AuditEvent::UserLockedOut { .. } => "user_locked_out",
            AuditEvent::SourceLockedOut { .. } => "source_locked_out",
            AuditEvent::Unlocked => "unlocked",
            AuditEvent::Suspended { .. } => "suspended",
            AuditEvent::Reinstated => "reinstated",
            AuditEvent::UserCreated { .. } => "user_created",
            AuditEvent::RolesChanged { .. } => "roles_changed",
            AuditEvent::PasswordChanged => "password_changed",
            AuditEvent::PasswordReset => "password_reset",
            AuditEvent::SecondFactorEnrolmentStarted => "second_factor_enrolment_started",
            AuditEvent::SecondFactorEnrolled => "second_factor_enrolled",
            AuditEvent::SecondFactorReset => "second_factor_reset",
            AuditEvent::SignedOut => "signed_out",
            AuditEvent::SessionExpired { .. } => "session_expired",
            AuditEvent::Refused { .. } => "refused",
            AuditEvent::Approved { .. } => "approved",
        }
    }

    /// Whether the event records a success (`success` / `failure` in the `outcome` column).
    pub fn is_success(&self) -> bool {
        match self {
            AuditEvent::SignIn { outcome } => *outcome == SignInOutcome::Success,
            AuditEvent::SecondFactor { outcome } => *outcome == SecondFactorOutcome::Success,
            AuditEvent::UserLockedOut { .. }
            | AuditEvent::SourceLockedOut { .. }
            | AuditEvent::Refused { .. } => false,
            _ => true,
        }
    }
}

/// One row of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the log, from 1, increasing.
    pub seq: i64,
    /// When it happened.
    pub at: Timestamp,
    /// The user concerned, when known.
    pub user: Option<UserId>,
    /// The username concerned: the user's, or as typed at a failed sign-in (clipped).
    pub username: Option<String>,
    /// Who did it, when it is not the user concerned (an administrator's username).
    pub actor: Option<String>,
    /// The network address the request came from, as the server reported it.
    pub source: Option<String>,
    /// What happened.
    pub event: AuditEvent,
}

/// The fields of a row to append (the store assigns `seq`).
#[derive(Debug, Clone)]
pub(crate) struct NewAuditRecord<'a> {
    pub at: Timestamp,
    pub user: Option<UserId>,
    pub username: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub source: Option<&'a str>,
    pub event: AuditEvent,
}

//! The crate's error type.
//!
//! The errors a person signing in can see are chosen so that they never tell whether a username
//! exists: an unknown username, a wrong password and a locked user all give
//! [`AuthError::InvalidCredentials`]. At the second-factor step the caller has already given the
//! right password, so the errors there are precise: a wrong code
//! ([`AuthError::InvalidOneTimePassword`]), a replayed one ([`AuthError::OneTimePasswordReplayed`]),
//! a lock-out ([`AuthError::UserLocked`], [`AuthError::SourceLocked`]). Errors that name a user ([`AuthError::NoSuchUser`],
//! [`AuthError::UsernameTaken`]) come only from operations an administrator is authorized for.

use crate::password::PasswordPolicyError;
use crate::role::Denied;

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Unknown username, wrong password, or a user locked out after repeated failures (the same
    /// error for all three; an administrator sees the lock in `UserStatus::locked_until`).
    #[error("invalid username or password")]
    InvalidCredentials,
    /// The one-time password is wrong.
    #[error("wrong one-time password")]
    InvalidOneTimePassword,
    /// The one-time password is right but its time step was already used (a replay).
    #[error("this one-time password was already used; wait for the next one")]
    OneTimePasswordReplayed,
    /// The user of a session is locked out after repeated wrong one-time passwords; it may try
    /// again after `retry_after_secs` seconds. Only said to a session holder (who has already
    /// given the right password), never at a password sign-in.
    #[error("too many wrong one-time passwords; try again in {retry_after_secs} s")]
    UserLocked {
        /// Seconds until the user's lock ends.
        retry_after_secs: u64,
    },
    /// Too many consecutive failures came from this source (network address); it may try again
    /// after `retry_after_secs` seconds. Says nothing about any user.
    #[error("too many failed attempts from this address; try again in {retry_after_secs} s")]
    SourceLocked {
        /// Seconds until the source's lock ends.
        retry_after_secs: u64,
    },
    /// The password was right but an administrator suspended the user.
    #[error("this user is suspended; contact the registry administrator")]
    Suspended,
    /// The user has no confirmed authenticator app to check a one-time password against.
    #[error("no second factor is enrolled for this user")]
    SecondFactorNotEnrolled,
    /// No second-factor enrolment is waiting for confirmation.
    #[error("no second-factor enrolment is pending; start one first")]
    NoPendingEnrolment,
    /// The session token is unknown, malformed, revoked, or its user is suspended.
    #[error("invalid session; sign in again")]
    InvalidSession,
    /// The session was idle longer than the idle timeout or exceeded its absolute lifetime.
    #[error("session expired; sign in again")]
    SessionExpired,
    /// The principal may not do this.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// A new password breaks the password policy.
    #[error(transparent)]
    PasswordPolicy(#[from] PasswordPolicyError),
    /// A username that does not meet the format rule (administrators only).
    #[error("invalid username {username:?}: {rule}")]
    InvalidUsername {
        /// The username given.
        username: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// The username is already in use (administrators only).
    #[error("username {0:?} is already taken")]
    UsernameTaken(String),
    /// No user has this username (administrators only).
    #[error("no user {0:?}")]
    NoSuchUser(String),
    /// An administrator tried to change their own roles or suspend themselves.
    #[error("administrators cannot change their own roles or suspend themselves")]
    SelfAdministration,
    /// Replacing an enrolled second factor needs a recent one-time password from it.
    #[error("replacing the second factor requires a one-time password from the current one")]
    SecondFactorRequired,
    /// The store already has users, so there is nothing to bootstrap.
    #[error("the user store already has users; bootstrap is only for an empty store")]
    AlreadyBootstrapped,
    /// The configuration is invalid (names the field and the rule).
    #[error("invalid authentication configuration: {0}")]
    Config(String),
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
    /// Argon2 failed, or a stored password hash is malformed.
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// The user store (SQLite) failed; the message names the file and the operation.
    #[error("user store: {0}")]
    Storage(String),
}

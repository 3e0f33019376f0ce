//! Users, roles, credentials, sessions and the authentication audit log of the yrd-ets service
//! (issue 6). A library: the HTTP server calls it; nothing here speaks HTTP.
//!
//! # What it enforces
//!
//! The registry security measures the EU adopted after the 2010-2011 registry thefts
//! (Commission Delegated Regulation (EU) 2019/1122, Art. 23 and 35) that concern people rather than
//! transactions:
//!
//! - **Roles** ([`Role`]) in EU Registry / CITSS terms, a user holding any number of them, and one
//!   decision function [`authorize`] over an [`Action`]: registry administrators per jurisdiction,
//!   account representatives (initiate), additional authorised representatives (approve),
//!   verifiers per installation, auditors (read everything) and the public (transparency reports).
//! - **Four eyes**: [`Action::ApproveMovement`] names the initiator and is refused to the same
//!   user.
//! - **Two-factor authentication**: a password ([`Password`], Argon2id) and a TOTP authenticator
//!   app (RFC 6238). Every action that moves units or cash or changes who may
//!   ([`Action::requires_second_factor`]) needs a one-time password verified in the last
//!   5 minutes ([`SessionConfig::second_factor_validity_secs`]); codes cannot be replayed.
//! - **Brute-force protection**: consecutive failures are counted per user and per source
//!   (network address), passwords and one-time passwords separately; 5 lock for 15 minutes
//!   ([`LockoutPolicy`]). A locked user gets the same error as a wrong password; administrators see
//!   `locked_until` ([`UserStatus`]). Administrators can suspend users.
//! - **Sessions**: opaque 256-bit random tokens, only their SHA-256 stored, 15 minutes idle and
//!   8 hours absolute ([`SessionConfig`]), revocation.
//! - **Audit**: every sign-in attempt, second-factor check, lock-out, suspension, role change and
//!   credential change is a row of an append-only SQLite table ([`AuditRecord`]), written in the
//!   same transaction as the change; auditors read it with [`Auth::audit_log`].
//!
//! The transaction-level measures (trusted account list, delayed execution, per-transfer limits)
//! belong to the registry; this crate supplies the identities and approvals they are checked with.
//!
//! # Parameters and their sources
//!
//! | what | value | source |
//! |---|---|---|
//! | password hash | Argon2id v1.3, 19,456 KiB, 2 passes, 1 lane, 16-byte salt, 32-byte output | OWASP Password Storage Cheat Sheet (first Argon2id configuration); RFC 9106 s. 3.1 (128-bit salt) |
//! | password length | 12 to 128 characters, not the username, no composition rules | OWASP ASVS 4.0.3 V2.1.1, V2.1.2, V2.1.9; NIST SP 800-63B s. 5.1.1.2 |
//! | TOTP | HMAC-SHA-1, 6 digits, 30 s step, +/-1 step, 160-bit secret | RFC 6238 s. 4, 5.2 and Appendix B; RFC 4226 s. 4 |
//! | session token | 32 bytes from the OS generator, base64url, SHA-256 stored | OWASP Session Management Cheat Sheet (>= 64 bits of entropy) |
//! | session lifetime | 900 s idle, 28,800 s absolute | OWASP Session Management Cheat Sheet; NIST SP 800-63B s. 4.3.3 |
//! | second factor validity | 300 s | this crate's choice: a few approvals in a row, not a whole session |
//! | lock-out | 5 consecutive failures, 900 s | issue 6; OWASP ASVS 4.0.3 V2.2.1 |
//!
//! All are in [`AuthConfig`]; durations are in seconds.
//!
//! # Limits (what the server or a later change must add)
//!
//! - Every [`Role::RegistryAdministrator`] may manage every user ([`Action::ManageUsers`] is not
//!   scoped to a jurisdiction, because roles name accounts and installations without their
//!   jurisdiction). An administrator cannot change their own roles or suspend themselves. A
//!   server that wants per-jurisdiction user management must check [`Action::Administer`] for
//!   the jurisdiction of each account and installation named in a role it grants.
//! - TOTP secrets must be readable to check codes, so they are stored as they are in `users.db`
//!   (created with mode 0600; password hashes and token digests are one-way). Protect the file and
//!   its backups like a key.
//! - The per-source counter is reset by a success from that source, like the per-user one (the
//!   "consecutive failures" of issue 6), so an attacker with a valid account of their own can reset
//!   their address's count; the per-user lock still limits guesses on each victim. Throttle
//!   request rates in the HTTP layer as well.
//! - A [`Principal`] is a snapshot of one request: roles are re-read at every
//!   [`Auth::authenticate`], so get a fresh one per request and do not cache it.
//! - Passwords are compared as given (no Unicode normalisation).
//!
//! # Use from the server
//!
//! ```no_run
//! use std::sync::Arc;
//! use yrd_auth::{Action, Auth, AuthConfig, Password, SessionToken, SystemClock, UserStore, authorize};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = UserStore::open(std::path::Path::new("data"))?;
//! let auth = Arc::new(Auth::new(store, Arc::new(SystemClock), AuthConfig::default())?);
//!
//! // POST /session {username, password}
//! let signed_in = auth.sign_in("alice", &Password::new("correct horse battery"), "203.0.113.7")?;
//! let token = signed_in.token; // to the client, e.g. a Secure HttpOnly SameSite=Strict cookie
//!
//! // POST /session/second-factor {code}
//! auth.verify_second_factor(&token, "287082", "203.0.113.7")?;
//!
//! // every request: authenticate, then authorize the action the request performs
//! let principal = auth.authenticate(&SessionToken::new(token.as_str()))?;
//! authorize(&principal, &Action::ReadPublic)?;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod audit;
mod clock;
mod config;
mod error;
mod password;
mod random;
mod role;
mod service;
mod store;
mod token;
mod totp;

#[cfg(test)]
mod tests;

pub use audit::{AuditEvent, AuditRecord, FailureKind, SecondFactorOutcome, SignInOutcome};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use config::{AuthConfig, LockoutPolicy, SessionConfig};
pub use error::AuthError;
pub use password::{
    Argon2Params, Password, PasswordPolicy, PasswordPolicyError, hash_password, verify_password,
};
pub use role::{
    AccountRef, Action, Denied, InstallationRef, Principal, Role, UserId, authorize, role_permits,
};
pub use service::{
    AuditNote, Auth, SessionStatus, SignedIn, Suspension, UserStatus, normalize_username,
};
pub use store::{APPLICATION_ID, FILE_NAME, SCHEMA_VERSION, UserStore};
pub use token::{SessionToken, TOKEN_BYTES};
pub use totp::{TOTP_DIGITS, TOTP_SECRET_BYTES, TOTP_SKEW_STEPS, TOTP_STEP_SECS, TotpEnrolment};

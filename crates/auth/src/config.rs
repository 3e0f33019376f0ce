//! Tunable parameters, with defaults and where they come from. Every duration is in seconds.

use serde::{Deserialize, Serialize};

use crate::error::AuthError;
use crate::password::{Argon2Params, PasswordPolicy};

/// Session lifetimes.
///
/// Defaults: 15 minutes idle, 8 hours absolute (OWASP Session Management Cheat Sheet: 2-5 minutes
/// idle for high-value applications, 15-30 for low-risk ones, 4-8 hours absolute; NIST SP 800-63B
/// s. 4.3.3 for AAL3: 15 minutes of inactivity). A passed second factor counts for 5 minutes, so an
/// approver can sign a few movements in a row but a stolen session cannot move units later on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// A session unused for this long ends, in seconds. Default 900 (15 min).
    pub idle_timeout_secs: u64,
    /// A session ends this long after sign-in, used or not, in seconds. Default 28,800 (8 h).
    pub absolute_lifetime_secs: u64,
    /// How long after a verified one-time password the session may do actions that
    /// [require the second factor](crate::Action::requires_second_factor), in seconds.
    /// Default 300 (5 min).
    pub second_factor_validity_secs: u64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle_timeout_secs: 15 * 60,
            absolute_lifetime_secs: 8 * 60 * 60,
            second_factor_validity_secs: 5 * 60,
        }
    }
}

/// Lock-out after repeated failures.
///
/// Defaults: 5 consecutive failures lock for 15 minutes (the brief; the EU Login service and
/// OWASP ASVS 4.0.3 V2.2.1 ask for anti-automation without fixing numbers; NIST SP 800-63B
/// s. 5.2.2 allows at most 100 consecutive failures). Password failures and one-time-password
/// failures are counted separately, so that a correct password does not clear the count of wrong
/// codes; either count reaching the limit locks. A lock-out resets the counts, so after it ends the
/// user has the full number of tries again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LockoutPolicy {
    /// Consecutive failures (passwords, or one-time passwords) that lock a user. Default 5.
    pub user_max_failures: u32,
    /// Consecutive failures from one source (network address), whatever the username, that lock
    /// the source. Default 5.
    pub source_max_failures: u32,
    /// How long a lock lasts, in seconds. Default 900 (15 min).
    pub lock_secs: u64,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            user_max_failures: 5,
            source_max_failures: 5,
            lock_secs: 15 * 60,
        }
    }
}

/// Everything the service can be tuned with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Session lifetimes.
    pub session: SessionConfig,
    /// Lock-out after repeated failures.
    pub lockout: LockoutPolicy,
    /// Rules for new passwords.
    pub password: PasswordPolicy,
    /// Argon2id cost of new password hashes.
    pub argon2: Argon2Params,
    /// The issuer shown by authenticator apps (the `issuer` of the `otpauth://` URI). Default
    /// `yrd-ets`.
    pub totp_issuer: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            session: SessionConfig::default(),
            lockout: LockoutPolicy::default(),
            password: PasswordPolicy::default(),
            argon2: Argon2Params::default(),
            totp_issuer: "yrd-ets".into(),
        }
    }
}

impl AuthConfig {
    /// The defaults with [`Argon2Params::INSECURE_FOR_TESTS`]: for tests only.
    pub fn insecure_for_tests() -> AuthConfig {
        AuthConfig {
            argon2: Argon2Params::INSECURE_FOR_TESTS,
            ..AuthConfig::default()
        }
    }

    /// Checks that the parameters make sense.
    ///
    /// # Errors
    ///
    /// [`AuthError::Config`] naming the first field that is out of range.
    pub fn validate(&self) -> Result<(), AuthError> {
        let bad = |field: &str, rule: &str| Err(AuthError::Config(format!("{field}: {rule}")));
        let s = &self.session;
        if s.idle_timeout_secs == 0 {
            return bad("session.idle_timeout_secs", "must be positive");
        }
        if s.absolute_lifetime_secs < s.idle_timeout_secs {
            return bad(
                "session.absolute_lifetime_secs",
                "must be at least session.idle_timeout_secs",
            );
        }
        if s.second_factor_validity_secs == 0
            || s.second_factor_validity_secs > s.absolute_lifetime_secs
        {
            return bad(
                "session.second_factor_validity_secs",
                "must be positive and at most session.absolute_lifetime_secs",
            );
        }
        let l = &self.lockout;
        if l.user_max_failures == 0 || l.source_max_failures == 0 {
            return bad(
                "lockout.user_max_failures / lockout.source_max_failures",
                "must be positive",
            );
        }
        if l.lock_secs == 0 {
            return bad("lockout.lock_secs", "must be positive");
        }
        let p = &self.password;
        if p.min_chars == 0 || p.max_chars < p.min_chars {
            return bad(
                "password",
                "min_chars must be positive and max_chars at least min_chars",
            );
        }
        self.argon2.validate()?;
        if self.totp_issuer.is_empty() || self.totp_issuer.contains(':') {
            return bad("totp_issuer", "must be non-empty and contain no ':'");
        }
        Ok(())
    }
}

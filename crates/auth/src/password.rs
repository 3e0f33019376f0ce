//! Passwords: the policy a new password must meet, and hashing with Argon2id.
//!
//! A password lives in memory only inside [`Password`], which never prints its content and is
//! wiped when dropped; only its Argon2id hash (a PHC string such as
//! `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) is stored.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use zeroize::Zeroizing;

use crate::error::AuthError;
use crate::random;

/// A password in clear, held only as long as needed. `Debug` prints `Password(<redacted>)` and the
/// memory is overwritten with zeros when the value is dropped, so a password cannot end up in a log
/// by accident.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl Password {
    /// Wraps a password typed by a user.
    pub fn new(text: impl Into<String>) -> Password {
        Password(Zeroizing::new(text.into()))
    }

    /// The password itself, for hashing.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Password {
    fn from(text: &str) -> Password {
        Password::new(text)
    }
}

impl From<String> for Password {
    fn from(text: String) -> Password {
        Password::new(text)
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Rules a new password must meet (OWASP ASVS 4.0.3 V2.1: at least 12 characters, at least 64
/// allowed and more than 128 refused, no composition rules; NIST SP 800-63B s. 5.1.1.2: no
/// composition rules, refuse context-specific words such as the username).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PasswordPolicy {
    /// Fewest characters (Unicode scalar values) a password may have. Default 12.
    pub min_chars: usize,
    /// Most characters a password may have; bounds the work of hashing. Default 128.
    pub max_chars: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_chars: 12,
            max_chars: 128,
        }
    }
}

/// Why a new password was refused. The messages are meant for the person choosing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    /// Shorter than [`PasswordPolicy::min_chars`].
    #[error("the password must have at least {min} characters; it has {actual}")]
    TooShort {
        /// The minimum.
        min: usize,
        /// The number of characters given.
        actual: usize,
    },
    /// Longer than [`PasswordPolicy::max_chars`].
    #[error("the password may have at most {max} characters; it has {actual}")]
    TooLong {
        /// The maximum.
        max: usize,
        /// The number of characters given.
        actual: usize,
    },
    /// The same as the username (compared ignoring case and surrounding spaces).
    #[error("the password must not be the username")]
    SameAsUsername,
}

impl PasswordPolicy {
    /// Checks a new `password` for the user `username`.
    ///
    /// # Errors
    ///
    /// The first rule the password breaks: [`PasswordPolicyError::TooShort`],
    /// [`PasswordPolicyError::TooLong`] or [`PasswordPolicyError::SameAsUsername`].
    pub fn check(&self, username: &str, password: &Password) -> Result<(), PasswordPolicyError> {
        let text = password.expose();
        let actual = text.chars().count();
        if actual < self.min_chars {
            return Err(PasswordPolicyError::TooShort {
                min: self.min_chars,
                actual,
            });
        }
        if actual > self.max_chars {
            return Err(PasswordPolicyError::TooLong {
                max: self.max_chars,
                actual,
            });
        }
        if text.trim().to_lowercase() == username.trim().to_lowercase() {
            return Err(PasswordPolicyError::SameAsUsername);
        }
        Ok(())
    }
}

/// Argon2id cost parameters (RFC 9106). Every hash records the parameters it was made with, so
/// changing them affects new hashes only; an old hash is re-made with the current parameters at the
/// user's next successful sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Argon2Params {
    /// Memory per hash, in KiB (1 KiB = 1024 bytes).
    pub memory_kib: u32,
    /// Number of passes over the memory.
    pub iterations: u32,
    /// Degree of parallelism (lanes).
    pub parallelism: u32,
}

impl Argon2Params {
    /// The OWASP Password Storage Cheat Sheet's first recommended configuration for Argon2id:
    /// 19 MiB of memory (19,456 KiB), 2 iterations, parallelism 1. The default.
    pub const OWASP: Argon2Params = Argon2Params {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    /// The cheapest parameters Argon2 accepts (8 KiB, 1 iteration, 1 lane). **Insecure**: only for
    /// tests, where hundreds of hashes must be cheap.
    pub const INSECURE_FOR_TESTS: Argon2Params = Argon2Params {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    };

    fn params(&self) -> Result<Params, AuthError> {
        Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(HASH_LEN),
        )
        .map_err(|e| AuthError::Config(format!("invalid Argon2 parameters {self:?}: {e}")))
    }

    pub(crate) fn validate(&self) -> Result<(), AuthError> {
        self.params().map(|_| ())
    }
}

impl Default for Argon2Params {
    fn default() -> Self {
        Argon2Params::OWASP
    }
}

/// Length of the Argon2 output, in bytes (256 bits).
const HASH_LEN: usize = 32;

/// Length of the random salt, in bytes (128 bits, RFC 9106 s. 3.1).
const SALT_LEN: usize = 16;

fn argon2id(params: &Argon2Params) -> Result<Argon2<'static>, AuthError> {
    Ok(Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        params.params()?,
    ))
}

/// Hashes `password` with Argon2id (version 0x13) under `params`, with a fresh 16-byte salt from
/// the operating system's random number generator. Returns the PHC string to store.
///
/// # Errors
///
/// [`AuthError::Config`] if `params` are outside Argon2's limits, [`AuthError::Random`] if the
/// operating system's generator fails, [`AuthError::Hashing`] if Argon2 fails.
pub fn hash_password(password: &Password, params: &Argon2Params) -> Result<String, AuthError> {
    let mut salt_bytes = [0u8; SALT_LEN];
    random::fill(&mut salt_bytes)?;
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| AuthError::Hashing(format!("encoding the salt: {e}")))?;
    let hash = argon2id(params)?
        .hash_password(password.expose().as_bytes(), &salt)
        .map_err(|e| AuthError::Hashing(e.to_string()))?;
    Ok(hash.to_string())
}

/// Whether `password` matches the stored PHC string `stored` (the parameters, salt and algorithm
/// are read from it; the comparison is constant-time).
///
/// # Errors
///
/// [`AuthError::Hashing`] if `stored` is not a valid Argon2 PHC string (a corrupted store), never
/// for a wrong password, which is `Ok(false)`.
pub fn verify_password(password: &Password, stored: &str) -> Result<bool, AuthError> {
    let parsed = PasswordHash::new(stored)
        .map_err(|e| AuthError::Hashing(format!("malformed stored password hash: {e}")))?;
    match Argon2::default().verify_password(password.expose().as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(AuthError::Hashing(e.to_string())),
    }
}

/// Whether the stored hash was made with other parameters (or another algorithm) than `params`
/// with Argon2id: the hash should be re-made at the next successful sign-in.
pub(crate) fn needs_rehash(stored: &str, params: &Argon2Params) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    if parsed.algorithm != Algorithm::Argon2id.ident() || parsed.version != Some(0x13) {
        return true;
    }
    match Params::try_from(&parsed) {
        Ok(p) => {
            p.m_cost() != params.memory_kib
                || p.t_cost() != params.iterations
                || p.p_cost() != params.parallelism
        }
        Err(_) => true,
    }
}

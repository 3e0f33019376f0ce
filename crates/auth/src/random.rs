//! Randomness from the operating system (`getrandom(2)` on Linux) and nothing else: salts, TOTP
//! secrets and session tokens are drawn here.

use rand::TryRngCore;
use rand::rngs::OsRng;

use crate::error::AuthError;

/// Fills `buf` from the operating system's cryptographically secure generator.
///
/// # Errors
///
/// [`AuthError::Random`] if the operating system refuses (the caller must then fail closed).
pub(crate) fn fill(buf: &mut [u8]) -> Result<(), AuthError> {
    OsRng
        .try_fill_bytes(buf)
        .map_err(|e| AuthError::Random(e.to_string()))
}

//! The second factor: time-based one-time passwords (TOTP, RFC 6238) as authenticator apps
//! (Google Authenticator, FreeOTP, Microsoft Authenticator, ...) compute them.
//!
//! Parameters: HMAC-SHA-1, 6 digits, 30-second steps, counted from the Unix epoch - the defaults
//! of RFC 6238 and the only ones every authenticator app supports. A code is accepted for the
//! current step and one step either side (RFC 6238 s. 5.2 recommends at most one step of network
//! delay), so a code is valid for 60 to 90 seconds. Once a code of step `s` has been accepted, no
//! code of step `s` or earlier is accepted again for that user (RFC 6238 s. 5.2: the verifier MUST
//! NOT accept the second attempt of the same OTP), which refuses replay within the window.
//!
//! The shared secret is 160 bits (RFC 4226 s. 4 recommends 160, requires at least 128) from the
//! operating system's generator.

use totp_rs::{Algorithm, TOTP};

use crate::clock::Timestamp;
use crate::error::AuthError;
use crate::random;

/// Number of digits of a code.
pub const TOTP_DIGITS: usize = 6;

/// Length of a time step, in seconds.
pub const TOTP_STEP_SECS: u64 = 30;

/// Steps accepted either side of the current one.
pub const TOTP_SKEW_STEPS: u64 = 1;

/// Length of the shared secret, in bytes (160 bits).
pub const TOTP_SECRET_BYTES: usize = 20;

/// What a user needs to set up an authenticator app: the secret in base32 (RFC 4648, no padding)
/// for typing in, and the `otpauth://` URI (the "Key Uri Format" of Google Authenticator) for a QR
/// code. `Debug` hides both: they are the second factor itself.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpEnrolment {
    /// The shared secret, base32 without padding (32 characters).
    pub secret_base32: String,
    /// `otpauth://totp/<issuer>:<username>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30`.
    pub otpauth_uri: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment(<redacted>)")
    }
}

/// The result of checking a code against a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TotpCheck {
    /// The code is that of time step `step` (a step after the last one used).
    Accepted { step: u64 },
    /// The code is right for a step that was already used (or an earlier one): a replay.
    Replayed,
    /// Not a code of any step in the window (or not six digits).
    Wrong,
}

/// A new random shared secret.
pub(crate) fn generate_secret() -> Result<Vec<u8>, AuthError> {
    let mut secret = vec![0u8; TOTP_SECRET_BYTES];
    random::fill(&mut secret)?;
    Ok(secret)
}

fn totp(secret: &[u8], digits: usize) -> Result<TOTP, AuthError> {
    TOTP::new(Algorithm::SHA1, digits, 0, TOTP_STEP_SECS, secret.to_vec())
        .map_err(|e| AuthError::Storage(format!("invalid stored TOTP secret: {e}")))
}

/// The time step containing `now` (0 before the epoch).
fn step_of(now: Timestamp) -> u64 {
    u64::try_from(now.unix_seconds()).unwrap_or(0) / TOTP_STEP_SECS
}

/// The code of `digits` digits for time `unix_seconds` (exposed to the crate for the RFC 6238 test
/// vectors, which use 8 digits, and for tests that play the authenticator app).
#[cfg(test)]
pub(crate) fn code_at(
    secret: &[u8],
    digits: usize,
    unix_seconds: u64,
) -> Result<String, AuthError> {
    Ok(totp(secret, digits)?.generate(unix_seconds))
}

/// Checks `code` (6 digits; spaces are ignored, as apps show `123 456`) against `secret` at `now`,
/// accepting steps `now - 1 .. now + 1` that are after `last_step`.
pub(crate) fn check(
    secret: &[u8],
    code: &str,
    now: Timestamp,
    last_step: Option<u64>,
) -> Result<TotpCheck, AuthError> {
    let code: String = code.chars().filter(|c| *c != ' ').collect();
    if code.len() != TOTP_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(TotpCheck::Wrong);
    }
    let totp = totp(secret, TOTP_DIGITS)?;
    let current = step_of(now);
    let mut replayed = false;
    // Newest first, so that a code that happens to match two steps counts for the newer one.
    for step in (current.saturating_sub(TOTP_SKEW_STEPS)..=current + TOTP_SKEW_STEPS).rev() {
        // `check` compares in constant time; skew is 0, so it tests exactly this step.
        if totp.check(&code, step * TOTP_STEP_SECS) {
            if last_step.is_some_and(|last| step <= last) {
                replayed = true;
            } else {
                return Ok(TotpCheck::Accepted { step });
            }
        }
    }
    Ok(if replayed {
        TotpCheck::Replayed
    } else {
        TotpCheck::Wrong
    })
}

/// The base32 form of `secret` (RFC 4648 alphabet, no padding).
pub(crate) fn secret_base32(secret: &[u8]) -> Result<String, AuthError> {
    Ok(totp(secret, TOTP_DIGITS)?.get_secret_base32())
}

/// The enrolment data for `username` under `issuer`.
pub(crate) fn enrolment(
    issuer: &str,
    username: &str,
    secret: &[u8],
) -> Result<TotpEnrolment, AuthError> {
    let secret_base32 = secret_base32(secret)?;
    let issuer_enc = percent_encode(issuer);
    let otpauth_uri = format!(
        "otpauth://totp/{issuer_enc}:{user}?secret={secret_base32}&issuer={issuer_enc}\
         &algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_STEP_SECS}",
        user = percent_encode(username),
    );
    Ok(TotpEnrolment {
        secret_base32,
        otpauth_uri,
    })
}

/// Percent-encodes everything but RFC 3986 unreserved characters (so `:`, `/`, `?`, `&`, `=`,
/// spaces and non-ASCII text are all escaped, as the Key Uri Format asks).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    /// RFC 6238 Appendix B, SHA-1 rows: (time, 8-digit TOTP).
    const RFC_VECTORS: &[(u64, &str)] = &[
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];

    #[test]
    fn rfc6238_sha1_vectors_with_eight_digits() {
        for &(time, expected) in RFC_VECTORS {
            assert_eq!(
                code_at(RFC_SECRET, 8, time).unwrap(),
                expected,
                "T = {time}"
            );
        }
    }

    #[test]
    fn six_digit_codes_are_the_last_six_digits_of_the_rfc_vectors() {
        // Truncation is `binary mod 10^digits`, so the 6-digit code is the 8-digit one's tail.
        for &(time, expected8) in RFC_VECTORS {
            let now = Timestamp::from_unix_seconds(i64::try_from(time).unwrap());
            let code = &expected8[2..];
            assert_eq!(code_at(RFC_SECRET, 6, time).unwrap(), code);
            assert_eq!(
                check(RFC_SECRET, code, now, None).unwrap(),
                TotpCheck::Accepted { step: time / 30 },
                "T = {time}"
            );
        }
    }

    #[test]
    fn window_is_one_step_either_side() {
        let code = "287082"; // step 1 (time 30..59)
        let at = |t| Timestamp::from_unix_seconds(t);
        assert_eq!(
            check(RFC_SECRET, code, at(0), None).unwrap(),
            TotpCheck::Accepted { step: 1 }
        );
        assert_eq!(
            check(RFC_SECRET, code, at(89), None).unwrap(),
            TotpCheck::Accepted { step: 1 }
        );
        assert_eq!(
            check(RFC_SECRET, code, at(90), None).unwrap(),
            TotpCheck::Wrong
        );
        assert_eq!(
            check(RFC_SECRET, "287 082", at(59), None).unwrap(),
            TotpCheck::Accepted { step: 1 }
        );
        for bad in ["", "28708", "2870822", "28708a", "000000"] {
            assert_eq!(
                check(RFC_SECRET, bad, at(59), None).unwrap(),
                TotpCheck::Wrong
            );
        }
    }

    #[test]
    fn a_used_step_is_a_replay() {
        let now = Timestamp::from_unix_seconds(59);
        assert_eq!(
            check(RFC_SECRET, "287082", now, Some(1)).unwrap(),
            TotpCheck::Replayed
        );
        assert_eq!(
            check(RFC_SECRET, "287082", now, Some(5)).unwrap(),
            TotpCheck::Replayed
        );
        assert_eq!(
            check(RFC_SECRET, "287082", now, Some(0)).unwrap(),
            TotpCheck::Accepted { step: 1 }
        );
    }

    #[test]
    fn enrolment_uri_follows_the_key_uri_format() {
        let e = enrolment("yrd-ets CN", "alice@sh", RFC_SECRET).unwrap();
        assert_eq!(e.secret_base32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            e.otpauth_uri,
            "otpauth://totp/yrd-ets%20CN:alice%40sh?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=yrd-ets%20CN&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(format!("{e:?}"), "TotpEnrolment(<redacted>)");
    }

    #[test]
    fn generated_secrets_are_160_bits_and_differ() {
        let a = generate_secret().unwrap();
        let b = generate_secret().unwrap();
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
    }
}

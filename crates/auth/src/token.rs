//! Session tokens: 32 random bytes from the operating system (256 bits; OWASP asks for at least
//! 64 bits of entropy), written as 43 characters of unpadded base64url (RFC 4648 s. 5) so that
//! they fit a cookie or an `Authorization: Bearer` header as they are. The store keeps only the
//! SHA-256 of the token's bytes, so a copy of `users.db` does not let anyone resume a session.

use base64ct::{Base64UrlUnpadded, Encoding};
use sha2::{Digest, Sha256};

use crate::error::AuthError;
use crate::random;

/// Length of a token's random content, in bytes.
pub const TOKEN_BYTES: usize = 32;

/// A session token as handed to the client. `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// Wraps a token received from a client (checked when used).
    pub fn new(text: impl Into<String>) -> SessionToken {
        SessionToken(text.into())
    }

    /// The token text (43 base64url characters), to send to the client.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A fresh random token.
    pub(crate) fn generate() -> Result<SessionToken, AuthError> {
        let mut bytes = [0u8; TOKEN_BYTES];
        random::fill(&mut bytes)?;
        Ok(SessionToken(Base64UrlUnpadded::encode_string(&bytes)))
    }

    /// The SHA-256 of the token's bytes, the key the store keeps; `None` if the text is not a
    /// well-formed token (so it cannot be one the service issued).
    pub(crate) fn digest(&self) -> Option<[u8; 32]> {
        let mut bytes = [0u8; TOKEN_BYTES];
        let decoded = Base64UrlUnpadded::decode(self.0.as_bytes(), &mut bytes).ok()?;
        if decoded.len() != TOKEN_BYTES {
            return None;
        }
        Some(Sha256::digest(bytes).into())
    }
}

impl From<&str> for SessionToken {
    fn from(text: &str) -> SessionToken {
        SessionToken::new(text)
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_base64url_characters_and_unique() {
        let a = SessionToken::generate().unwrap();
        let b = SessionToken::generate().unwrap();
        assert_eq!(a.as_str().len(), 43);
        assert!(
            a.as_str()
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_ne!(a, b);
        assert_ne!(a.digest(), b.digest());
        assert_eq!(format!("{a:?}"), "SessionToken(<redacted>)");
    }

    #[test]
    fn digest_is_sha256_of_the_bytes_and_refuses_malformed_tokens() {
        let t = SessionToken::new(Base64UrlUnpadded::encode_string(&[7u8; 32]));
        assert_eq!(t.digest(), Some(Sha256::digest([7u8; 32]).into()));
        for bad in ["", "abc", "!!!", &"A".repeat(44), &"A".repeat(42)] {
            assert_eq!(SessionToken::new(bad).digest(), None, "{bad:?}");
        }
    }
}

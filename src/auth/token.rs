//! Secret tokens (sessions, API tokens, emailed links): random, URL-safe, stored only as hashes.

use base64::Engine;
use sha2::{Digest, Sha256};

/// A new 256-bit random token, URL-safe.
pub fn generate() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// What the database keeps instead of the token: a leaked table opens no sessions.
/// (Tokens carry 256 random bits, so a fast hash suffices; passwords get argon2.)
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_random_and_digests_stable() {
        let a = super::generate();
        assert_eq!(a.len(), 43);
        assert_ne!(a, super::generate());
        assert_eq!(super::digest("abc"), super::digest("abc"));
        assert_eq!(super::digest("abc").len(), 64);
    }
}

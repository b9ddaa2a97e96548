//! Password hashing with argon2id (RustCrypto defaults: m=19456 KiB, t=2, p=1), off the async runtime.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// A hash of a random password. Unknown accounts are verified against it, so a wrong email
/// costs the same time as a wrong password and response times do not reveal who has an account.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let random: [u8; 16] = rand::random();
    hash_now(&hex::encode(random)).expect("hashing a random password succeeds")
});

fn hash_now(password: &str) -> Result<String, argon2::password_hash::Error> {
    Ok(Argon2::default().hash_password(password.as_bytes())?.to_string())
}

/// Hashes a new password (about 25 ms of one core: run on the blocking pool).
pub async fn hash(password: String) -> anyhow::Result<String> {
    let hashed = tokio::task::spawn_blocking(move || hash_now(&password)).await?;
    hashed.map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

/// Checks `password` against `stored`; with no stored hash, spends the same effort and fails.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    let known = stored.is_some();
    let hash = stored.unwrap_or_else(|| DUMMY_HASH.clone());
    let ok = tokio::task::spawn_blocking(move || {
        Argon2::default().verify_password(password.as_bytes(), hash.as_str()).is_ok()
    })
    .await
    .unwrap_or(false);
    ok && known
}

/// Computes the dummy hash ahead of the first login so that login is not slower than the rest.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery".into(), Some(h.clone())).await);
        assert!(!verify("wrong horse battery".into(), Some(h)).await);
        assert!(!verify("anything".into(), None).await);
        assert!(!verify("x".into(), Some("not a hash".into())).await);
    }
}

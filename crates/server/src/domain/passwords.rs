//! argon2id password hashing, run on the blocking pool so it never stalls the async threads.

use anyhow::Context;
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

use super::Password;

pub async fn hash(password: &Password) -> anyhow::Result<String> {
    let password = password.expose().to_string();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))
    })
    .await
    .context("password hashing task")?
}

/// Checks a password against a stored hash. With no hash (unknown account) a dummy
/// hash is checked instead, so both cases take the same time.
pub async fn verify(candidate: &str, stored: Option<String>) -> anyhow::Result<bool> {
    let candidate = candidate.to_string();
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
        let parsed = PasswordHash::new(&stored)
            .map_err(|e| anyhow::anyhow!("stored password hash is invalid: {e}"))?;
        Ok(Argon2::default()
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok()
            && known)
    })
    .await
    .context("password verification task")?
}

/// argon2id (default parameters) of a random string nobody knows.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8lr8Fh0ZsZ0EkVbzDtk0Xs2fe4lLd2ZkN3Dnc9tWJ0Q";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_only_the_right_password() {
        let password = Password::parse("correct horse battery").unwrap();
        let stored = hash(&password).await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", Some(stored.clone()))
            .await
            .unwrap());
        assert!(!verify("wrong horse battery", Some(stored)).await.unwrap());
        assert!(!verify("anything at all", None).await.unwrap());
    }
}

//! The credential vault (DESIGN §5): AEAD encryption in the application, so keys
//! never reach SQL or its logs.
//!
//! * XChaCha20-Poly1305 with a random 192-bit nonce per ciphertext.
//! * A key ring: `PULSEBOARD_ENCRYPTION_KEYS="k2:<base64 32 bytes>,k1:<…>"`, the first
//!   key encrypts, all decrypt. When unset, one key is generated into
//!   `{data_dir}/encryption-keys` (mode 0600) on first start.
//! * Every ciphertext names its key id: `v1.<key id>.<base64 nonce+ciphertext>`.
//! * The associated data binds a ciphertext to its integration and field, so a
//!   ciphertext copied to another row does not decrypt.

use std::{collections::HashMap, io::Write, os::unix::fs::OpenOptionsExt, path::Path};

use anyhow::{bail, Context};
use base64::{engine::general_purpose::STANDARD, Engine};
use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
    XChaCha20Poly1305, XNonce,
};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const FORMAT: &str = "v1";
const NONCE_LEN: usize = 24;

/// Why a credential could not be decrypted. Carries no key or plaintext material.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VaultError {
    #[error(
        "the credential was encrypted with key `{0}`, which is not in PULSEBOARD_ENCRYPTION_KEYS"
    )]
    UnknownKey(String),
    #[error("the credential does not decrypt for this integration and field (tampered or moved)")]
    Undecryptable,
    #[error("the stored credential is not in a format this version understands")]
    Malformed,
}

pub struct Vault {
    active: String,
    keys: HashMap<String, XChaCha20Poly1305>,
    /// Derived from the active key: signs short-lived cookies the same way on every instance.
    signing_key: [u8; 32],
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("active", &self.active)
            .field("keys", &self.keys.len())
            .finish()
    }
}

/// A fresh key ring entry `id:base64`, for documentation and the generated file.
pub fn generate_key_entry(id: &str) -> String {
    let key = XChaCha20Poly1305::generate_key(&mut OsRng);
    format!("{id}:{}", STANDARD.encode(key))
}

impl Vault {
    /// Parses a key ring: comma-separated `id:base64key`, the first one active.
    pub fn from_spec(spec: &str) -> anyhow::Result<Self> {
        let mut keys = HashMap::new();
        let mut active = None;
        let mut signing_key = [0u8; 32];
        for entry in spec
            .split([',', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty() && !e.starts_with('#'))
        {
            let (id, key) = entry
                .split_once(':')
                .context("each encryption key must look like `id:base64key`")?;
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                bail!("encryption key ids may only contain letters, digits, `-` and `_`");
            }
            let bytes = STANDARD
                .decode(key)
                .with_context(|| format!("encryption key `{id}` is not base64"))?;
            if bytes.len() != 32 {
                bail!(
                    "encryption key `{id}` must be 32 bytes, got {}",
                    bytes.len()
                );
            }
            if keys
                .insert(
                    id.to_string(),
                    XChaCha20Poly1305::new_from_slice(&bytes).expect("32-byte key"),
                )
                .is_some()
            {
                bail!("encryption key id `{id}` appears twice");
            }
            if active.is_none() {
                active = Some(id.to_string());
                let digest = Sha256::new()
                    .chain_update(b"pulseboard cookie signing\0")
                    .chain_update(&bytes)
                    .finalize();
                signing_key.copy_from_slice(&digest);
            }
        }
        let active = active.context("no encryption keys given")?;
        Ok(Self {
            active,
            keys,
            signing_key,
        })
    }

    /// The key ring from the environment value, or the generated file in the data dir.
    pub fn load(spec: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        if let Some(spec) = spec {
            return Self::from_spec(spec).context("PULSEBOARD_ENCRYPTION_KEYS");
        }
        let path = data_dir.join("encryption-keys");
        if !path.exists() {
            std::fs::create_dir_all(data_dir)?;
            let id = format!("k{}", chrono::Utc::now().format("%Y%m%d"));
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .with_context(|| format!("creating {}", path.display()))?;
            writeln!(file, "# Pulseboard credential encryption keys; the first line encrypts. Back this file up.")?;
            writeln!(file, "{}", generate_key_entry(&id))?;
            tracing::info!(path = %path.display(), "generated a credential encryption key");
        }
        let spec = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        Self::from_spec(&spec).with_context(|| format!("{}", path.display()))
    }

    /// HMAC-SHA256 of `message` under the derived signing key, hex-encoded.
    pub fn sign(&self, message: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.signing_key).expect("any key length");
        mac.update(message.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Constant-time check of a [`Vault::sign`] signature.
    pub fn verify_signature(&self, message: &str, signature: &str) -> bool {
        let Ok(bytes) = hex::decode(signature) else {
            return false;
        };
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.signing_key).expect("any key length");
        mac.update(message.as_bytes());
        mac.verify_slice(&bytes).is_ok()
    }

    pub fn active_key_id(&self) -> &str {
        &self.active
    }

    fn aad(integration_id: Uuid, field: &str) -> Vec<u8> {
        format!("pulseboard/integration/{integration_id}/{field}").into_bytes()
    }

    /// Encrypts a secret for one integration field under the active key.
    pub fn encrypt(&self, integration_id: Uuid, field: &str, plaintext: &str) -> String {
        let cipher = &self.keys[&self.active];
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = Self::aad(integration_id, field);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .expect("encryption with a valid key cannot fail");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&sealed);
        format!("{FORMAT}.{}.{}", self.active, STANDARD.encode(blob))
    }

    /// The key id a ciphertext names.
    pub fn key_id_of(ciphertext: &str) -> Option<&str> {
        ciphertext.split('.').nth(1)
    }

    pub fn decrypt(
        &self,
        integration_id: Uuid,
        field: &str,
        ciphertext: &str,
    ) -> Result<String, VaultError> {
        let mut parts = ciphertext.splitn(3, '.');
        let (Some(FORMAT), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(VaultError::Malformed);
        };
        let cipher = self
            .keys
            .get(key_id)
            .ok_or_else(|| VaultError::UnknownKey(key_id.to_string()))?;
        let blob = STANDARD.decode(body).map_err(|_| VaultError::Malformed)?;
        if blob.len() <= NONCE_LEN {
            return Err(VaultError::Malformed);
        }
        let (nonce, sealed) = blob.split_at(NONCE_LEN);
        let aad = Self::aad(integration_id, field);
        let plain = cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| VaultError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(ids: &[&str]) -> (String, Vec<String>) {
        let entries: Vec<String> = ids.iter().map(|id| generate_key_entry(id)).collect();
        (entries.join(","), entries)
    }

    #[test]
    fn round_trips_and_names_its_key() {
        let (spec, _) = ring(&["k1"]);
        let vault = Vault::from_spec(&spec).unwrap();
        let id = Uuid::new_v4();
        let sealed = vault.encrypt(id, "access_token", "sk_secret");
        assert!(!sealed.contains("sk_secret"));
        assert_eq!(Vault::key_id_of(&sealed), Some("k1"));
        assert_eq!(
            vault.decrypt(id, "access_token", &sealed).unwrap(),
            "sk_secret"
        );
        assert_ne!(
            sealed,
            vault.encrypt(id, "access_token", "sk_secret"),
            "fresh nonce each time"
        );
    }

    #[test]
    fn a_ciphertext_moved_to_another_row_or_field_fails() {
        let (spec, _) = ring(&["k1"]);
        let vault = Vault::from_spec(&spec).unwrap();
        let id = Uuid::new_v4();
        let sealed = vault.encrypt(id, "access_token", "secret");
        assert_eq!(
            vault.decrypt(Uuid::new_v4(), "access_token", &sealed),
            Err(VaultError::Undecryptable)
        );
        assert_eq!(
            vault.decrypt(id, "refresh_token", &sealed),
            Err(VaultError::Undecryptable)
        );
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(vault.decrypt(id, "access_token", &tampered).is_err());
    }

    #[test]
    fn old_keys_still_decrypt_after_rotation_and_unknown_keys_fail_closed() {
        let (old_spec, old_entries) = ring(&["old"]);
        let old = Vault::from_spec(&old_spec).unwrap();
        let id = Uuid::new_v4();
        let sealed = old.encrypt(id, "api_key", "rk_test_1");
        let new =
            Vault::from_spec(&format!("{},{}", generate_key_entry("new"), old_entries[0])).unwrap();
        assert_eq!(new.active_key_id(), "new");
        assert_eq!(new.decrypt(id, "api_key", &sealed).unwrap(), "rk_test_1");
        assert_eq!(
            Vault::key_id_of(&new.encrypt(id, "api_key", "x")),
            Some("new")
        );
        let stranger = Vault::from_spec(&generate_key_entry("other")).unwrap();
        assert_eq!(
            stranger.decrypt(id, "api_key", &sealed),
            Err(VaultError::UnknownKey("old".into()))
        );
    }

    #[test]
    fn signatures_verify_only_their_message_and_key() {
        let vault = Vault::from_spec(&generate_key_entry("k1")).unwrap();
        let sig = vault.sign("state-1");
        assert!(vault.verify_signature("state-1", &sig));
        assert!(!vault.verify_signature("state-2", &sig));
        assert!(!vault.verify_signature("state-1", "zz"));
        let other = Vault::from_spec(&generate_key_entry("k1")).unwrap();
        assert!(!other.verify_signature("state-1", &sig));
    }

    #[test]
    fn bad_key_rings_are_refused() {
        assert!(Vault::from_spec("").is_err());
        assert!(Vault::from_spec("k1:notbase64!").is_err());
        assert!(Vault::from_spec("k1:AAAA").is_err());
        let entry = generate_key_entry("k1");
        assert!(Vault::from_spec(&format!("{entry},{entry}")).is_err());
    }

    #[test]
    fn a_generated_key_file_is_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let first = Vault::load(None, dir.path()).unwrap();
        let mode = std::fs::metadata(dir.path().join("encryption-keys"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let id = Uuid::new_v4();
        let sealed = first.encrypt(id, "api_key", "x");
        let second = Vault::load(None, dir.path()).unwrap();
        assert_eq!(second.decrypt(id, "api_key", &sealed).unwrap(), "x");
    }
}

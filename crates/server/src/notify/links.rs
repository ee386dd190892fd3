//! Signed links in mail: one-click unsubscribe (RFC 8058) and "snooze for 24 h".
//! A token names who it is for, the organization and the action, and carries the
//! vault's HMAC over exactly those; altering any part of it breaks the signature.
//! The links act only on POST: a GET (a mail scanner prefetching, a person clicking)
//! shows a page with a confirmation button and changes nothing.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use uuid::Uuid;

use crate::integrations::vault::Vault;

/// Who a mail went to: a member, or an outside address an alert names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    Member(Uuid),
    Address(String),
}

/// What a link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Stop the weekly digest from this organization.
    UnsubscribeDigest,
    /// Stop alert mail from this organization.
    UnsubscribeAlerts,
    /// Snooze one alert rule for 24 hours.
    Snooze(Uuid),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub recipient: Recipient,
    pub org_id: Uuid,
    pub action: Action,
}

const VERSION: &str = "m1";

impl Link {
    fn payload(&self) -> String {
        let recipient = match &self.recipient {
            Recipient::Member(id) => format!("u:{id}"),
            Recipient::Address(email) => format!("e:{email}"),
        };
        let action = match self.action {
            Action::UnsubscribeDigest => "digest".to_owned(),
            Action::UnsubscribeAlerts => "alerts".to_owned(),
            Action::Snooze(id) => format!("snooze:{id}"),
        };
        format!("{VERSION}|{}|{recipient}|{action}", self.org_id)
    }

    /// The token: the payload, base64url, a dot, and its signature.
    pub fn token(&self, vault: &Vault) -> String {
        let payload = self.payload();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload.as_bytes()),
            vault.sign(&payload)
        )
    }

    /// The link's payload when the token is intact and signed by this server.
    pub fn verify(vault: &Vault, token: &str) -> Option<Link> {
        let (encoded, signature) = token.split_once('.')?;
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(encoded).ok()?).ok()?;
        if !vault.verify_signature(&payload, signature) {
            return None;
        }
        let mut parts = payload.splitn(4, '|');
        if parts.next()? != VERSION {
            return None;
        }
        let org_id = parts.next()?.parse().ok()?;
        let recipient = match parts.next()?.split_once(':')? {
            ("u", id) => Recipient::Member(id.parse().ok()?),
            ("e", email) => Recipient::Address(email.to_owned()),
            _ => return None,
        };
        let action = match parts.next()? {
            "digest" => Action::UnsubscribeDigest,
            "alerts" => Action::UnsubscribeAlerts,
            other => Action::Snooze(other.strip_prefix("snooze:")?.parse().ok()?),
        };
        Some(Link {
            recipient,
            org_id,
            action,
        })
    }

    /// The page (GET shows, POST acts) for this link.
    pub fn path(&self, vault: &Vault) -> String {
        let token = self.token(vault);
        match self.action {
            Action::Snooze(_) => format!("/api/mail/snooze/{token}"),
            _ => format!("/api/mail/unsubscribe/{token}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> Vault {
        Vault::from_spec(&crate::integrations::vault::generate_key_entry("k1")).unwrap()
    }

    #[test]
    fn a_token_round_trips_and_any_alteration_is_refused() {
        let vault = vault();
        let link = Link {
            recipient: Recipient::Member(Uuid::new_v4()),
            org_id: Uuid::new_v4(),
            action: Action::UnsubscribeDigest,
        };
        let token = link.token(&vault);
        assert_eq!(Link::verify(&vault, &token), Some(link.clone()));

        // The same signature on another organization's payload.
        let other = Link {
            org_id: Uuid::new_v4(),
            ..link.clone()
        };
        let (_, signature) = token.split_once('.').unwrap();
        let forged = format!(
            "{}.{signature}",
            URL_SAFE_NO_PAD.encode(other.payload().as_bytes())
        );
        assert_eq!(Link::verify(&vault, &forged), None);
        // A flipped signature character, a truncated token, another server's key.
        let mut flipped = token.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == '0' { '1' } else { '0' });
        assert_eq!(Link::verify(&vault, &flipped), None);
        assert_eq!(Link::verify(&vault, &token[..token.len() - 4]), None);
        assert_eq!(Link::verify(&self::vault(), &token), None);
    }

    #[test]
    fn snooze_and_address_links_keep_their_parts() {
        let vault = vault();
        let alert = Uuid::new_v4();
        let link = Link {
            recipient: Recipient::Address("ops@example.com".into()),
            org_id: Uuid::new_v4(),
            action: Action::Snooze(alert),
        };
        assert!(link.path(&vault).starts_with("/api/mail/snooze/"));
        assert_eq!(Link::verify(&vault, &link.token(&vault)), Some(link));
    }
}

//! `ShopDomain`: a Shopify shop's permanent `*.myshopify.com` host name.
//!
//! The shop domain decides where tokens are sent, so it is parsed strictly:
//! anything that is not exactly `<label>.myshopify.com` is refused, which rules
//! out `evil.com`, `x.myshopify.com.evil.com`, ports, paths and credentials.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::support::error::ConnectorError;

const SUFFIX: &str = ".myshopify.com";
/// A DNS label is at most 63 bytes.
const MAX_LABEL: usize = 63;

/// A validated shop domain such as `acme-store.myshopify.com` (always lowercase).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ShopDomain(String);

impl ShopDomain {
    /// Parses a shop domain exactly: `^[a-z0-9][a-z0-9-]*\.myshopify\.com$` after
    /// lowercasing. Surrounding whitespace is not tolerated.
    pub fn parse(input: &str) -> Result<Self, ConnectorError> {
        let lower = input.to_ascii_lowercase();
        let label = lower.strip_suffix(SUFFIX).ok_or_else(invalid)?;
        let mut chars = label.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if first_ok && rest_ok && label.len() <= MAX_LABEL {
            Ok(Self(lower))
        } else {
            Err(invalid())
        }
    }

    /// Parses what a person types into a "Shop" field: accepts a bare store name
    /// (`acme`), and strips an `https://` prefix and a trailing slash, then applies
    /// [`ShopDomain::parse`].
    pub fn from_user_input(input: &str) -> Result<Self, ConnectorError> {
        let trimmed = input.trim();
        let lower = trimmed.to_ascii_lowercase();
        let without_scheme = lower.strip_prefix("https://").unwrap_or(&lower);
        let host = without_scheme.strip_suffix('/').unwrap_or(without_scheme);
        if host.contains('.') {
            Self::parse(host)
        } else {
            Self::parse(&format!("{host}{SUFFIX}"))
        }
    }

    /// The domain, e.g. `acme.myshopify.com`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The store's handle, e.g. `acme` for `acme.myshopify.com`.
    pub fn handle(&self) -> &str {
        self.0.strip_suffix(SUFFIX).unwrap_or(&self.0)
    }
}

impl From<ShopDomain> for crate::AccountRef {
    fn from(shop: ShopDomain) -> Self {
        Self::new_validated(shop.0)
    }
}

fn invalid() -> ConnectorError {
    ConnectorError::InvalidInput(
        "the shop must be a Shopify domain like your-store.myshopify.com".into(),
    )
}

impl fmt::Display for ShopDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ShopDomain {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ShopDomain {
    type Error = ConnectorError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ShopDomain> for String {
    fn from(value: ShopDomain) -> Self {
        value.0
    }
}

impl std::str::FromStr for ShopDomain {
    type Err = ConnectorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_shop_domains_and_lowercases_them() {
        assert_eq!(
            ShopDomain::parse("acme.myshopify.com").unwrap().as_str(),
            "acme.myshopify.com"
        );
        assert_eq!(
            ShopDomain::parse("ACME-Store-2.MyShopify.com")
                .unwrap()
                .as_str(),
            "acme-store-2.myshopify.com"
        );
        assert_eq!(
            ShopDomain::parse("0shop.myshopify.com").unwrap().handle(),
            "0shop"
        );
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "evil.com",
            "myshopify.com",
            ".myshopify.com",
            "-acme.myshopify.com",
            "x.myshopify.com.evil.com",
            "evil.com/x.myshopify.com",
            "acme.myshopify.com:443",
            "acme.myshopify.com/",
            "https://acme.myshopify.com",
            "user@acme.myshopify.com",
            "a.b.myshopify.com",
            "acme_store.myshopify.com",
            " acme.myshopify.com",
            "acme.myshopify.com\n",
            "acme.myshopify.co",
            "acmemyshopify.com",
            "ac%2eme.myshopify.com",
        ] {
            assert!(ShopDomain::parse(bad).is_err(), "accepted {bad:?}");
        }
        let long = format!("{}.myshopify.com", "a".repeat(64));
        assert!(ShopDomain::parse(&long).is_err());
    }

    #[test]
    fn user_input_is_normalised_before_the_strict_parse() {
        for input in [
            "acme",
            " Acme ",
            "https://acme.myshopify.com/",
            "acme.myshopify.com",
        ] {
            assert_eq!(
                ShopDomain::from_user_input(input).unwrap().as_str(),
                "acme.myshopify.com"
            );
        }
        assert!(ShopDomain::from_user_input("http://acme.myshopify.com").is_err());
        assert!(ShopDomain::from_user_input("acme.example.com").is_err());
        assert!(ShopDomain::from_user_input("").is_err());
    }

    #[test]
    fn deserialising_validates() {
        let ok: ShopDomain = serde_json::from_str("\"Acme.myshopify.com\"").unwrap();
        assert_eq!(ok.as_str(), "acme.myshopify.com");
        assert!(serde_json::from_str::<ShopDomain>("\"evil.com\"").is_err());
    }
}

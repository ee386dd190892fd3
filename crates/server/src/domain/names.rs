use std::str::FromStr;

/// Why a value was refused; the caller attaches the field name.
pub type ParseError = String;

/// A syntactically plausible e-mail address, stored lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let email = raw.trim().to_lowercase();
        let (local, domain) = email
            .split_once('@')
            .ok_or("must be an email address like name@example.com")?;
        let valid = !local.is_empty()
            && email.len() <= 254
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !email
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == ',')
            && !domain.contains('@');
        if valid {
            Ok(Self(email))
        } else {
            Err("must be an email address like name@example.com".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The URL name of an organization: lowercase letters, digits and dashes, 2–63 long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSlug(String);

impl OrgSlug {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let ok = (2..=63).contains(&raw.len())
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !raw.starts_with('-');
        if ok {
            Ok(Self(raw.to_string()))
        } else {
            Err("must be 2–63 characters of lowercase letters, digits and dashes, not starting with a dash".into())
        }
    }

    /// A slug derived from a display name (`"Acme Coffee, Inc."` → `acme-coffee-inc`).
    pub fn from_name(name: &str) -> Self {
        let mut slug = String::new();
        for c in name.to_lowercase().chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let mut slug = slug
            .trim_end_matches('-')
            .chars()
            .take(48)
            .collect::<String>();
        slug = slug.trim_end_matches('-').to_string();
        if slug.len() < 2 {
            slug = format!("org-{slug}").trim_end_matches('-').to_string();
        }
        Self(slug)
    }

    /// The slug with a numeric suffix, used when the plain one is taken.
    pub fn with_suffix(&self, n: u32) -> Self {
        Self(format!("{}-{n}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A human name for a person, organization, workspace or store: trimmed, 1–100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("must not be empty".into());
        }
        if name.chars().count() > 100 {
            return Err("must be at most 100 characters".into());
        }
        if name.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Self(name.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that meets the length rules. Never printed.
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        match raw.chars().count() {
            n if n < 10 => Err("must be at least 10 characters".into()),
            n if n > 256 => Err("must be at most 256 characters".into()),
            _ => Ok(Self(raw.to_string())),
        }
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// An active ISO 4217 currency code such as `USD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        iso_currency::Currency::from_code(raw)
            .map(Self)
            .ok_or_else(|| format!("`{raw}` is not an ISO 4217 currency code (e.g. USD, EUR)"))
    }
    pub fn code(&self) -> &'static str {
        self.0.code()
    }
}

/// An IANA time zone name such as `Europe/Paris`; daily buckets are days in this zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        chrono_tz::Tz::from_str(raw)
            .map(Self)
            .map_err(|_| format!("`{raw}` is not an IANA time zone (e.g. America/New_York)"))
    }
    pub fn name(&self) -> &'static str {
        self.0.name()
    }
    pub fn tz(&self) -> chrono_tz::Tz {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(
            EmailAddress::parse(" Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "ann@.com",
            "a@b@c.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn slugs_follow_the_pattern() {
        assert!(OrgSlug::parse("acme-coffee").is_ok());
        for bad in [
            "a",
            "-acme",
            "Acme",
            "acme_coffee",
            "acme coffee",
            &"a".repeat(64),
        ] {
            assert!(OrgSlug::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn slugs_derive_from_names() {
        assert_eq!(
            OrgSlug::from_name("Acme Coffee, Inc.").as_str(),
            "acme-coffee-inc"
        );
        assert_eq!(OrgSlug::from_name("  ").as_str(), "org");
        assert_eq!(OrgSlug::from_name("Ü").as_str(), "org");
        assert!(OrgSlug::parse(OrgSlug::from_name(&"x".repeat(200)).as_str()).is_ok());
        assert_eq!(OrgSlug::from_name("acme").with_suffix(2).as_str(), "acme-2");
    }

    #[test]
    fn currencies_and_time_zones_are_validated() {
        assert_eq!(Currency::parse("EUR").unwrap().code(), "EUR");
        assert!(Currency::parse("eur").is_err());
        assert!(Currency::parse("XYZ").is_err());
        assert_eq!(
            TimeZone::parse("Europe/Paris").unwrap().name(),
            "Europe/Paris"
        );
        assert!(TimeZone::parse("Mars/Olympus").is_err());
    }

    #[test]
    fn passwords_have_a_minimum_length_and_never_print() {
        assert!(Password::parse("short").is_err());
        let p = Password::parse("correct horse battery").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }
}

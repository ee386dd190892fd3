//! The three things a PostHog connection names, checked before anything is sent:
//! the personal API key, the project id and the host (US cloud, EU cloud or a
//! self-hosted instance), and the account id that keeps the last two
//! (`{project_id}@{host}`), since a sync is given only the account id and the key.

use std::net::IpAddr;

use url::{Host, Url};

use crate::ConnectorError;

fn invalid<T>(message: impl Into<String>) -> Result<T, ConnectorError> {
    Err(ConnectorError::InvalidInput(message.into()))
}

/// A checked PostHog host: `https://us.posthog.com`, `https://eu.posthog.com`, a
/// self-hosted `https://…` origin, or (only when the server allows loopback hosts,
/// for the simulator) `http://127.0.0.1:PORT/prefix`. Never ends with a slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosthogHost(String);

impl PosthogHost {
    /// Validates and normalises what a user typed. A bare domain means `https://`.
    pub fn parse(input: &str, allow_loopback: bool) -> Result<Self, ConnectorError> {
        let input = input.trim();
        if input.is_empty() {
            return invalid(
                "Enter your PostHog host: https://us.posthog.com, https://eu.posthog.com or your instance's URL.",
            );
        }
        let with_scheme = if input.contains("://") {
            input.to_owned()
        } else {
            format!("https://{input}")
        };
        let Ok(url) = Url::parse(&with_scheme) else {
            return invalid("The PostHog host is not a valid URL.");
        };
        if !url.username().is_empty() || url.password().is_some() {
            return invalid("The PostHog host must not contain a user name or password.");
        }
        if url.query().is_some() || url.fragment().is_some() {
            return invalid("The PostHog host must not have a query string or fragment.");
        }
        let loopback = match url.host() {
            Some(Host::Domain(domain)) => {
                let domain = domain.trim_end_matches('.');
                domain == "localhost" || domain.ends_with(".localhost")
            }
            Some(Host::Ipv4(ip)) => ip_is_loopback(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => ip_is_loopback(IpAddr::V6(ip)),
            None => return invalid("The PostHog host has no host name."),
        };
        if loopback && !allow_loopback {
            return invalid("A PostHog host on this server's own machine (localhost) is not allowed.");
        }
        match url.host() {
            Some(Host::Ipv4(ip)) if !loopback && !ip_is_public(IpAddr::V4(ip)) => {
                return invalid("The PostHog host must be a public address; use your instance's https:// domain.")
            }
            Some(Host::Ipv6(ip)) if !loopback && !ip_is_public(IpAddr::V6(ip)) => {
                return invalid("The PostHog host must be a public address; use your instance's https:// domain.")
            }
            _ => {}
        }
        match (url.scheme(), loopback) {
            ("https", _) | ("http", true) => {}
            _ => return invalid("The PostHog host must use https://."),
        }
        let path = url.path().trim_end_matches('/');
        if !path.is_empty() && !loopback {
            return invalid(
                "The PostHog host is just the origin (https://us.posthog.com), without a path.",
            );
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let host = match host.as_str() {
            // Ingestion hosts take events, not personal-API-key calls.
            "us.i.posthog.com" | "eu.i.posthog.com" => {
                return invalid(format!(
                    "{host} is PostHog's ingestion host; API calls go to https://{}.posthog.com.",
                    &host[..2]
                ))
            }
            // The old US cloud address redirects there; the client follows no redirects.
            "app.posthog.com" => "us.posthog.com".to_owned(),
            _ => host,
        };
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        Ok(Self(format!("{}://{host}{port}{path}", url.scheme())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `{host}/{path}` (the path starts without a slash).
    pub(crate) fn url(&self, path: &str) -> Url {
        // The host was validated as a URL; appending a plain path keeps it one.
        Url::parse(&format!("{}/{path}", self.0)).expect("a checked host plus a path")
    }
}

fn ip_is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => ip.is_loopback(),
        IpAddr::V6(ip) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// Not private, link-local (cloud metadata services live there), unspecified,
/// broadcast, multicast or documentation space.
fn ip_is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => {
            !(ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                || ip.is_multicast()
                || ip.is_documentation()
                || ip.octets()[0] == 0
                // 100.64.0.0/10, carrier-grade NAT.
                || (ip.octets()[0] == 100 && (ip.octets()[1] & 0xC0) == 64))
        }
        IpAddr::V6(ip) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return ip_is_public(IpAddr::V4(v4));
            }
            let first = ip.segments()[0];
            !(ip.is_unspecified()
                || ip.is_multicast()
                // fc00::/7 unique local, fe80::/10 link-local.
                || (first & 0xFE00) == 0xFC00
                || (first & 0xFFC0) == 0xFE80)
        }
    }
}

/// A PostHog project id: the number in the project's URL and settings.
pub fn parse_project_id(input: &str) -> Result<u64, ConnectorError> {
    let input = input.trim();
    match input.parse::<u64>() {
        Ok(id) if id > 0 && input.bytes().all(|b| b.is_ascii_digit()) => Ok(id),
        _ => invalid("The PostHog project id is a number (Project settings → Project ID)."),
    }
}

/// Checks the shape of a personal API key before it is sent anywhere.
pub fn validate_posthog_key(key: &str) -> Result<(), ConnectorError> {
    if key.starts_with("phc_") {
        return invalid(
            "This is a project API key, which only sends events. Create a personal API key \
             (phx_…) with read access to the project and to queries in your PostHog account settings.",
        );
    }
    match key.strip_prefix("phx_") {
        Some(rest)
            if rest.len() >= 16
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
        {
            Ok(())
        }
        _ => invalid("A PostHog personal API key starts with phx_ followed by letters and digits."),
    }
}

/// The id of the account a connection reads: `{project_id}@{host}`.
pub(crate) fn account_id(project_id: u64, host: &PosthogHost) -> String {
    format!("{project_id}@{}", host.as_str())
}

/// The project and host of an account id, checked again (the server's settings may
/// have changed since the connection was made).
pub(crate) fn parse_account_id(
    account_id: &str,
    allow_loopback: bool,
) -> Result<(u64, PosthogHost), ConnectorError> {
    let Some((project, host)) = account_id.split_once('@') else {
        return invalid(format!("{account_id} is not a PostHog project@host"));
    };
    Ok((
        parse_project_id(project)?,
        PosthogHost::parse(host, allow_loopback)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(input: &str) -> Result<String, String> {
        PosthogHost::parse(input, false)
            .map(|h| h.0)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn cloud_and_self_hosted_hosts_are_normalised() {
        assert_eq!(host("https://us.posthog.com").unwrap(), "https://us.posthog.com");
        assert_eq!(host(" eu.posthog.com/ ").unwrap(), "https://eu.posthog.com");
        assert_eq!(host("https://EU.PostHog.com").unwrap(), "https://eu.posthog.com");
        assert_eq!(host("https://app.posthog.com").unwrap(), "https://us.posthog.com");
        assert_eq!(
            host("https://posthog.example.com:8443").unwrap(),
            "https://posthog.example.com:8443"
        );
    }

    #[test]
    fn unsafe_or_wrong_hosts_are_refused() {
        for bad in [
            "",
            "http://us.posthog.com",
            "ftp://us.posthog.com",
            "https://user:pw@us.posthog.com",
            "https://us.posthog.com/api",
            "https://us.posthog.com?x=1",
            "https://us.posthog.com#x",
            "https://us.i.posthog.com",
            "http://127.0.0.1:8000",
            "https://localhost",
            "https://10.0.0.5",
            "https://169.254.169.254",
            "https://[::1]",
            "https://[fd00::1]",
            "https://0.0.0.0",
            "not a url at all",
        ] {
            assert!(host(bad).is_err(), "accepted {bad:?}");
        }
        assert!(host("https://us.i.posthog.com")
            .unwrap_err()
            .contains("https://us.posthog.com"));
    }

    #[test]
    fn loopback_hosts_only_when_allowed_and_then_with_a_path() {
        let sim = PosthogHost::parse("http://127.0.0.1:4010/posthog/", true).unwrap();
        assert_eq!(sim.as_str(), "http://127.0.0.1:4010/posthog");
        assert_eq!(
            sim.url("api/projects/1/").as_str(),
            "http://127.0.0.1:4010/posthog/api/projects/1/"
        );
        assert!(PosthogHost::parse("http://localhost:4010", true).is_ok());
        assert!(PosthogHost::parse("http://[::1]:4010", true).is_ok());
        // Loopback allowed does not open private networks or plain http elsewhere.
        assert!(PosthogHost::parse("http://10.0.0.5", true).is_err());
        assert!(PosthogHost::parse("http://us.posthog.com", true).is_err());
    }

    #[test]
    fn project_ids_keys_and_account_ids() {
        assert_eq!(parse_project_id(" 12345 ").unwrap(), 12345);
        for bad in ["", "0", "-1", "+4", "12a", "1.5", "99999999999999999999999"] {
            assert!(parse_project_id(bad).is_err(), "accepted {bad:?}");
        }
        assert!(validate_posthog_key("phx_abcdefghijklmnop1234").is_ok());
        for bad in ["phc_abcdefghijklmnop1234", "phx_short", "phx_abc def ghij klmnop", "sk_abc"] {
            let error = validate_posthog_key(bad).unwrap_err().to_string();
            assert!(!error.contains(bad), "{error} echoes the key");
        }
        let host = PosthogHost::parse("https://eu.posthog.com", false).unwrap();
        let id = account_id(42, &host);
        assert_eq!(id, "42@https://eu.posthog.com");
        assert_eq!(parse_account_id(&id, false).unwrap(), (42, host));
        assert!(parse_account_id("42", false).is_err());
        assert!(parse_account_id("x@https://eu.posthog.com", false).is_err());
        assert!(parse_account_id("42@http://127.0.0.1:1/posthog", false).is_err());
    }
}

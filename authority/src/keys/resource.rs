//! Resource identifiers (RFC 8707 / RFC 9728): the URL of a tool server's
//! MCP endpoint, which access tokens are bound to and guards compare with
//! their own.

use std::fmt;

use url::Url;

/// A tool server's resource identifier in canonical form: an absolute URL
/// without query or fragment, https unless its host is loopback (a
/// developer's machine). Two spellings of one URL (`HTTPS://Wiki.Example.com`
/// and `https://wiki.example.com/`) canonicalize to the same text, so the
/// comparison a guard makes is a plain string equality.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceId(String);

/// Why a text is not a resource identifier; names the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{shown}` is not a resource identifier: {why}")]
pub struct ResourceError {
    shown: String,
    why: &'static str,
}

/// Longer identifiers are refused before parsing.
pub const MAX_RESOURCE_LEN: usize = 512;

impl ResourceId {
    pub fn parse(text: &str) -> Result<Self, ResourceError> {
        let bad = |why| ResourceError {
            shown: model::text::quote_input(text, 80),
            why,
        };
        if text.len() > MAX_RESOURCE_LEN {
            return Err(bad("longer than 512 bytes"));
        }
        let url = Url::parse(text).map_err(|_| bad("expected an absolute URL"))?;
        if url.fragment().is_some() || url.query().is_some() {
            return Err(bad("must have no query and no fragment (RFC 8707 §2)"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must not carry credentials"));
        }
        let host = url.host().ok_or_else(|| bad("must name a host"))?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&host) => {}
            _ => return Err(bad("must be https (http only on a loopback host)")),
        }
        Ok(Self(url.into()))
    }

    /// Rebuilds an identifier a store wrote (this module made it).
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host, for people deciding whether to trust it.
    pub fn host(&self) -> &str {
        host_of(&self.0)
    }
}

/// The host part of an absolute URL text (between `//` and the next `/`,
/// `:` port excluded unless it is an IPv6 literal's).
pub(crate) fn host_of(url: &str) -> &str {
    let rest = url.split_once("//").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => &authority[..i],
        _ => authority,
    }
}

pub(crate) fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

impl fmt::Debug for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for ResourceId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for ResourceId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A list of resources as one stored text (URLs hold no spaces).
pub(crate) fn to_storage(resources: &[ResourceId]) -> String {
    resources
        .iter()
        .map(ResourceId::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn from_storage(text: &str) -> Vec<ResourceId> {
    text.split_whitespace()
        .map(|r| ResourceId::from_stored(r.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_url_are_one_identifier() {
        let a = ResourceId::parse("HTTPS://Wiki.Example.com:443/mcp").unwrap();
        let b = ResourceId::parse("https://wiki.example.com/mcp").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "https://wiki.example.com/mcp");
        assert_eq!(a.host(), "wiki.example.com");
        assert_eq!(
            ResourceId::parse("https://wiki.example.com").unwrap(),
            ResourceId::parse("https://wiki.example.com/").unwrap()
        );
    }

    #[test]
    fn loopback_may_be_http_nothing_else_may() {
        for ok in [
            "http://127.0.0.1:8080/mcp",
            "http://localhost:3000/mcp",
            "http://[::1]:9/mcp",
        ] {
            assert!(ResourceId::parse(ok).is_ok(), "{ok}");
        }
        for (bad, rule) in [
            ("http://wiki.example.com/mcp", "https"),
            ("ftp://wiki.example.com/mcp", "https"),
            ("https://wiki.example.com/mcp?x=1", "no query"),
            ("https://wiki.example.com/mcp#top", "no query"),
            ("https://u:p@wiki.example.com/mcp", "credentials"),
            ("/mcp", "absolute URL"),
            ("mailto:a@b.c", "host"),
        ] {
            let e = ResourceId::parse(bad).unwrap_err().to_string();
            assert!(e.contains(rule), "{bad}: {e}");
        }
        let long = format!("https://x.example/{}", "a".repeat(600));
        assert!(ResourceId::parse(&long)
            .unwrap_err()
            .to_string()
            .contains("512"));
    }

    #[test]
    fn hosts_without_ports() {
        assert_eq!(host_of("http://127.0.0.1:8080/cb"), "127.0.0.1");
        assert_eq!(host_of("http://[::1]:8080/cb"), "[::1]");
        assert_eq!(host_of("http://[::1]/cb"), "[::1]");
        assert_eq!(host_of("https://app.example/cb?x"), "app.example");
        assert_eq!(host_of("com.example.app:/cb"), "com.example.app");
    }

    #[test]
    fn storage_round_trip() {
        let list = vec![
            ResourceId::parse("https://a.example/mcp").unwrap(),
            ResourceId::parse("http://127.0.0.1:9/mcp").unwrap(),
        ];
        assert_eq!(from_storage(&to_storage(&list)), list);
        assert!(from_storage("").is_empty());
    }
}

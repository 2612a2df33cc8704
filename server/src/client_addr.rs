//! Who is calling: the one client address every limit and audit event
//! uses, resolved once per request.
//!
//! By default it is the connection's peer. Behind a reverse proxy that is
//! the proxy for every client, so the operator names the proxies
//! (`--trusted-proxies`); for a connection from one of them the client is
//! the rightmost `X-Forwarded-For` entry that is not itself a trusted proxy.
//! Entries left of that are the client's own word and are never believed,
//! and the header is ignored entirely on connections from anyone else, so a
//! client cannot choose its address by sending the header.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use authority::guardrails::AddressRanges;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

/// The resolved client address, a request extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The reverse proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(AddressRanges);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and CIDR ranges
    /// (`10.0.0.1, 10.1.0.0/16, ::1`); empty means none. The parsing is
    /// the one keys' allowed networks use.
    pub fn parse(list: &str) -> Result<Self, String> {
        let items = list.split(',').map(str::trim).filter(|s| !s.is_empty());
        AddressRanges::parse(items, usize::MAX)
            .map(Self)
            .map_err(|e| e.to_string())
    }

    fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(ip)
    }

    /// The client behind `peer`: see the module rules.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.contains(peer) {
            return canonical(peer);
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = canonical(peer);
        for hop in hops.iter().rev() {
            // A hop we cannot read ends the chain we can vouch for: the
            // last address we could read is the client.
            let Ok(ip) = IpAddr::from_str(hop) else {
                break;
            };
            client = canonical(ip);
            if !self.contains(ip) {
                break;
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 addresses count as the IPv4 address they carry, so one
/// client is one key for every limiter whichever socket family it came on.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Middleware: resolves [`ClientAddr`] for every request.
pub async fn resolve(
    State(trusted): State<Arc<TrustedProxies>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |ConnectInfo(addr)| addr.ip());
    let client = trusted.client(peer, request.headers());
    request.extensions_mut().insert(ClientAddr(client));
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("203.0.113.9"), &headers(&["198.51.100.1"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_rightmost_untrusted_hop() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 192.0.2.7").unwrap();
        // The client forged "1.1.1.1"; the proxies appended the real hops.
        let h = headers(&["1.1.1.1, 198.51.100.4", "10.0.0.2"]);
        assert_eq!(trusted.client(ip("192.0.2.7"), &h), ip("198.51.100.4"));
        // A peer that is not a trusted proxy cannot use the header at all.
        assert_eq!(trusted.client(ip("198.51.100.9"), &h), ip("198.51.100.9"));
        // No header from a proxy: the proxy itself.
        assert_eq!(
            trusted.client(ip("10.0.0.3"), &HeaderMap::new()),
            ip("10.0.0.3")
        );
        // An unreadable hop stops the walk at the last readable one.
        let h = headers(&["1.1.1.1, garbage, 10.0.0.9"]);
        assert_eq!(trusted.client(ip("10.0.0.3"), &h), ip("10.0.0.9"));
    }

    #[test]
    fn mapped_ipv6_is_its_ipv4_address() {
        let trusted = TrustedProxies::parse("127.0.0.1").unwrap();
        assert_eq!(
            trusted.client(ip("::ffff:127.0.0.1"), &headers(&["198.51.100.4"])),
            ip("198.51.100.4")
        );
    }

    #[test]
    fn bad_lists_say_what_is_wrong() {
        let err = TrustedProxies::parse("10.0.0.1, proxy.local").unwrap_err();
        assert!(err.contains("proxy.local"), "{err}");
        assert_eq!(
            TrustedProxies::parse(" ").unwrap(),
            TrustedProxies::default()
        );
    }
}

//! Address ranges: a key's allowed networks (and the server's trusted
//! proxies). IPv4 and IPv6, CIDR or single addresses; an IPv4-mapped IPv6
//! address (`::ffff:10.0.0.1`, what a dual-stack socket reports) is matched
//! as the IPv4 address it is.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a text is not an address range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    #[error(
        "{shown} is not an IP address or CIDR range (e.g. 203.0.113.7, 10.0.0.0/8, 2001:db8::/32)"
    )]
    NotARange { shown: String },
    /// `10.0.0.1/8`: bits after the prefix are set, which usually means a
    /// typo (did they mean the host or the network?).
    #[error("{given} has host bits set after the prefix: write the network {network}, or the single address without a prefix")]
    HostBits { given: String, network: String },
    #[error("at most {max} ranges")]
    TooMany { max: usize },
}

/// A list of address ranges; empty means none (callers say what that
/// means: any address, or no trusted proxy).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressRanges(Vec<IpNet>);

impl AddressRanges {
    /// Parses each item, refusing more than `max`; duplicates are dropped.
    pub fn parse<'a>(
        items: impl IntoIterator<Item = &'a str>,
        max: usize,
    ) -> Result<Self, NetworkError> {
        let mut nets: Vec<IpNet> = Vec::new();
        for item in items {
            let net = parse_range(item.trim())?;
            if !nets.contains(&net) {
                nets.push(net);
            }
            if nets.len() > max {
                return Err(NetworkError::TooMany { max });
            }
        }
        Ok(Self(nets))
    }

    /// Ranges as stored: what [`Self::to_strings`] wrote, trusted.
    pub fn from_stored(items: &[String]) -> Self {
        Self(items.iter().filter_map(|s| parse_range(s).ok()).collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// Whether every range of `self` lies inside one of `outer`'s.
    pub fn within(&self, outer: &AddressRanges) -> bool {
        self.0
            .iter()
            .all(|inner| outer.0.iter().any(|o| o.contains(inner)))
    }

    /// Canonical texts (`10.0.0.0/8`; a single address as `203.0.113.7/32`).
    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }
}

impl fmt::Display for AddressRanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_strings().join(", "))
    }
}

fn parse_range(item: &str) -> Result<IpNet, NetworkError> {
    if let Ok(ip) = IpAddr::from_str(item) {
        return Ok(IpNet::from(ip.to_canonical()));
    }
    let net = IpNet::from_str(item).map_err(|_| NetworkError::NotARange {
        shown: format!("`{}`", model::text::quote_input(item, 60)),
    })?;
    if net.trunc() != net {
        return Err(NetworkError::HostBits {
            given: net.to_string(),
            network: net.trunc().to_string(),
        });
    }
    Ok(canonical_net(net))
}

/// `::ffff:10.0.0.0/104` is `10.0.0.0/8`: mapped ranges match as IPv4.
fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.network().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
                .map(IpNet::V4)
                .unwrap_or(net),
            None => net,
        },
        other => other,
    }
}

impl Serialize for AddressRanges {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_strings().serialize(s)
    }
}

impl<'de> Deserialize<'de> for AddressRanges {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = Vec::<String>::deserialize(d)?;
        AddressRanges::parse(items.iter().map(String::as_str), usize::MAX)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(items: &[&str]) -> AddressRanges {
        AddressRanges::parse(items.iter().copied(), 20).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn matches_v4_v6_and_mapped_addresses() {
        let r = ranges(&["10.0.0.0/8", "203.0.113.7", "2001:db8::/32"]);
        assert!(r.contains(ip("10.1.2.3")));
        assert!(r.contains(ip("::ffff:10.1.2.3")));
        assert!(r.contains(ip("203.0.113.7")));
        assert!(!r.contains(ip("203.0.113.8")));
        assert!(r.contains(ip("2001:db8:1::5")));
        assert!(!r.contains(ip("2001:db9::1")));
        assert!(!r.contains(ip("11.0.0.1")));
        let mapped = ranges(&["::ffff:192.168.0.0/112"]);
        assert_eq!(mapped.to_strings(), ["192.168.0.0/16"]);
        assert!(mapped.contains(ip("192.168.4.4")));
    }

    #[test]
    fn refuses_garbage_host_bits_and_too_many() {
        assert!(matches!(
            AddressRanges::parse(["10.0.0.1/8"], 20),
            Err(NetworkError::HostBits { network, .. }) if network == "10.0.0.0/8"
        ));
        let err = AddressRanges::parse(["example.com"], 20).unwrap_err();
        assert!(err.to_string().contains("example.com"), "{err}");
        assert!(AddressRanges::parse(["10.0.0.0/33"], 20).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("10.0.{i}.0/24")).collect();
        assert_eq!(
            AddressRanges::parse(many.iter().map(String::as_str), 20),
            Err(NetworkError::TooMany { max: 20 })
        );
        // A pasted key is not echoed back.
        let key = format!("ace_live_{}", "a".repeat(38));
        let err = AddressRanges::parse([key.as_str()], 20).unwrap_err();
        assert!(!err.to_string().contains(&key));
    }

    #[test]
    fn within_means_every_range_inside_one_outer_range() {
        let outer = ranges(&["10.0.0.0/8", "2001:db8::/32"]);
        assert!(ranges(&["10.1.0.0/16", "10.2.3.4"]).within(&outer));
        assert!(ranges(&["2001:db8:5::/48"]).within(&outer));
        assert!(!ranges(&["10.0.0.0/7"]).within(&outer));
        assert!(!ranges(&["192.168.0.1"]).within(&outer));
        assert!(AddressRanges::default().within(&outer));
    }
}

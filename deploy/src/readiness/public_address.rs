//! The guard in front of every check: only a public IPv4 address is ever tried, so a check can
//! never be turned into a way to reach this server's own network (loopback, private and
//! link-local space, and the ranges that route nowhere).

use std::net::Ipv4Addr;

/// Why an address is never checked.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{address} is {range}, not a public address; it is never checked")]
pub struct Refused {
    pub address: Ipv4Addr,
    pub range: &'static str,
}

/// Ranges no check may reach (RFC 6890 and friends): this server's own network, loopback,
/// private and link-local space, and addresses that route nowhere on the internet.
const NOT_PUBLIC: [(Ipv4Addr, u8, &str); 14] = [
    (Ipv4Addr::new(0, 0, 0, 0), 8, "in \"this network\" (0.0.0.0/8)"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private (10.0.0.0/8)"),
    (Ipv4Addr::new(100, 64, 0, 0), 10, "carrier-grade NAT space (100.64.0.0/10)"),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback (127.0.0.0/8)"),
    (Ipv4Addr::new(169, 254, 0, 0), 16, "link-local (169.254.0.0/16)"),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "private (172.16.0.0/12)"),
    (Ipv4Addr::new(192, 0, 0, 0), 24, "reserved for protocol use (192.0.0.0/24)"),
    (Ipv4Addr::new(192, 0, 2, 0), 24, "a documentation address (192.0.2.0/24)"),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "private (192.168.0.0/16)"),
    (Ipv4Addr::new(198, 18, 0, 0), 15, "reserved for benchmarks (198.18.0.0/15)"),
    (Ipv4Addr::new(198, 51, 100, 0), 24, "a documentation address (198.51.100.0/24)"),
    (Ipv4Addr::new(203, 0, 113, 0), 24, "a documentation address (203.0.113.0/24)"),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast (224.0.0.0/4)"),
    (Ipv4Addr::new(240, 0, 0, 0), 4, "reserved (240.0.0.0/4, broadcast included)"),
];

fn range_of(address: Ipv4Addr) -> Option<&'static str> {
    NOT_PUBLIC
        .iter()
        .find(|(base, bits, _)| {
            let mask = u32::MAX.checked_shl(32 - u32::from(*bits)).unwrap_or(0);
            u32::from(address) & mask == u32::from(*base) & mask
        })
        .map(|(_, _, range)| *range)
}

/// Whether `address` may be checked on the internet.
pub fn public(address: Ipv4Addr) -> Result<(), Refused> {
    match range_of(address) {
        Some(range) => Err(Refused { address, range }),
        None => Ok(()),
    }
}

/// The sandbox's addresses: the documentation ranges it hands out.
pub(super) fn sandbox_address(address: Ipv4Addr) -> bool {
    let octets = address.octets();
    matches!(octets, [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _])
}

//! Addresses: IP addresses in CIDR form, MAC addresses, and what must be
//! unique on one L2 segment or in one node.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::TopologyError;
use crate::topology::plan::Plan;
use crate::vocab::{mac_text, parse_mac};

/// An address in CIDR form on interface `ifname` of `node`.
pub(super) fn parse_cidr(node: &str, ifname: &str, input: &str) -> Result<IpNet, TopologyError> {
    cidr(input).map_err(|reason| TopologyError::InvalidCidr {
        node: node.to_string(),
        ifname: ifname.to_string(),
        input: input.to_string(),
        reason,
    })
}

/// A network prefix: CIDR form with no host bits set (`203.0.113.7/24`
/// is refused, naming `203.0.113.0/24`, as `ip route` and a careful reader
/// of a rule would).
pub(super) fn prefix(input: &str) -> Result<IpNet, String> {
    let net = cidr(input).map_err(|why| format!("is not in CIDR form: {why}"))?;
    if net != net.trunc() {
        return Err(format!("has host bits set; the prefix is {}", net.trunc()));
    }
    Ok(net)
}

/// `input` in CIDR form (`198.51.100.1/24`), or what is wrong with it.
pub(super) fn cidr(input: &str) -> Result<IpNet, String> {
    let Some((ip, len)) = input.split_once('/') else {
        return Err("missing /prefix length".into());
    };
    let ip: IpAddr = ip
        .parse()
        .map_err(|_| format!("`{ip}` is not an IPv4 or IPv6 address"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len: u8 = match len.parse() {
        Ok(l) if l <= max => l,
        _ => {
            return Err(format!(
                "prefix length `{len}` is not a number from 0 to {max} (IPv{})",
                if ip.is_ipv4() { 4 } else { 6 }
            ))
        }
    };
    IpNet::new(ip, len).map_err(|e| e.to_string())
}

/// Why no interface can have `net`, if so.
fn unusable(net: &IpNet) -> Option<String> {
    let ip = net.addr();
    if ip.is_unspecified() {
        return Some("the unspecified address names no host".into());
    }
    if ip.is_loopback() {
        return Some("a loopback address belongs on `lo`, which every node has".into());
    }
    if ip.is_multicast() {
        return Some("a multicast address names a group, not an interface".into());
    }
    match net {
        IpNet::V4(n) if n.prefix_len() == 0 => Some(
            "an IPv4 /0 subnet gets no route from the kernel: give a real prefix length".into(),
        ),
        IpNet::V4(n) if n.addr().is_broadcast() => {
            Some("255.255.255.255 is the limited broadcast address".into())
        }
        // /31 and /32 have no network or broadcast address (RFC 3021).
        IpNet::V4(n) if n.prefix_len() < 31 && n.addr() == n.network() => Some(format!(
            "it is the network address of {} (host bits all zero)",
            n.trunc()
        )),
        IpNet::V4(n) if n.prefix_len() < 31 && n.addr() == n.broadcast() => Some(format!(
            "it is the broadcast address of {} (host bits all one)",
            n.trunc()
        )),
        IpNet::V6(n) if n.prefix_len() < 127 && n.addr() == n.network() => Some(format!(
            "it is the subnet-router anycast address of {} (host bits all zero)",
            n.trunc()
        )),
        _ => None,
    }
}

/// An interface address: valid CIDR, and one a host can have.
pub(super) fn parse_iface_addr(
    node: &str,
    ifname: &str,
    input: &str,
) -> Result<IpNet, TopologyError> {
    let net = parse_cidr(node, ifname, input)?;
    match unusable(&net) {
        None => Ok(net),
        Some(reason) => Err(TopologyError::UnusableAddress {
            node: node.to_string(),
            ifname: ifname.to_string(),
            addr: input.to_string(),
            reason,
        }),
    }
}

/// A MAC address an interface can have: unicast, not all zeros.
pub(super) fn parse_iface_mac(
    node: &str,
    ifname: &str,
    text: &str,
) -> Result<[u8; 6], TopologyError> {
    let bad = |reason| TopologyError::InvalidMac {
        node: node.to_string(),
        ifname: ifname.to_string(),
        mac: text.to_string(),
        reason,
    };
    let mac =
        parse_mac(text).ok_or_else(|| bad("expected six hex octets like 02:00:00:00:00:01"))?;
    if mac[0] & 1 == 1 {
        return Err(bad("a multicast address cannot be an interface address"));
    }
    if mac == [0; 6] {
        return Err(bad("the all-zero address is not allowed"));
    }
    Ok(mac)
}

/// No IP address, and no MAC address, may appear twice among the interfaces
/// of one L2 segment (the two ends of a veth, or a bridge's members).
pub(super) fn check_segment_clash(
    ends: impl Iterator<Item = (usize, usize)> + Clone,
    plan: &Plan,
) -> Result<(), TopologyError> {
    check_clash(ends.clone(), plan, "segment")?;
    let mut seen = HashMap::<[u8; 6], String>::new();
    for (n, i) in ends {
        let node = &plan.nodes[n];
        let iface = &node.ifaces[i];
        let Some(mac) = iface.mac else { continue };
        let who = format!("{}/{}", node.name, iface.name);
        if let Some(first) = seen.insert(mac, who.clone()) {
            return Err(TopologyError::MacClash {
                mac: mac_text(&mac),
                first,
                second: who,
            });
        }
    }
    Ok(())
}

/// No address may appear twice among the given interfaces.
fn check_clash(
    ends: impl Iterator<Item = (usize, usize)>,
    plan: &Plan,
    scope: &'static str,
) -> Result<(), TopologyError> {
    let mut seen = HashMap::<IpAddr, String>::new();
    for (n, i) in ends {
        let node = &plan.nodes[n];
        let iface = &node.ifaces[i];
        for a in &iface.addrs {
            let who = format!("{}/{}", node.name, iface.name);
            if let Some(first) = seen.insert(a.addr(), who.clone()) {
                return Err(TopologyError::AddressClash {
                    addr: a.addr(),
                    scope,
                    first,
                    second: who,
                });
            }
        }
    }
    Ok(())
}

/// No address may appear twice in one node.
pub(super) fn check_node_clash(plan: &Plan) -> Result<(), TopologyError> {
    for (n, node) in plan.nodes.iter().enumerate() {
        check_clash((0..node.ifaces.len()).map(|i| (n, i)), plan, "node")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(cidr: &str) -> Option<String> {
        unusable(&cidr.parse().unwrap())
    }

    #[test]
    fn addresses_no_interface_can_have() {
        for bad in [
            "0.0.0.0/0",
            "::/0",
            "0.0.0.0/24",
            "127.0.0.1/8",
            "::1/128",
            "224.0.0.1/24",
            "ff02::1/64",
            "255.255.255.255/32",
            "198.51.100.0/24",
            "198.51.100.255/24",
            "198.51.100.128/25",
            "198.51.100.127/25",
            "203.0.113.0/30",
            "2001:db8::/64",
            "2001:db8::/126",
        ] {
            assert!(reason(bad).is_some(), "{bad} accepted");
        }
        for good in [
            "198.51.100.1/24",
            "198.51.100.254/24",
            "198.51.100.0/31",
            "198.51.100.1/31",
            "198.51.100.0/32",
            "198.51.100.255/32",
            "2001:db8::1/64",
            "2001:db8::/127",
            "2001:db8::/128",
            "2001:db8::ffff:ffff:ffff:ffff/64",
            "fe80::1/64",
        ] {
            assert_eq!(reason(good), None, "{good}");
        }
        assert_eq!(
            reason("198.51.100.0/24").unwrap(),
            "it is the network address of 198.51.100.0/24 (host bits all zero)"
        );
        assert_eq!(
            reason("198.51.100.255/24").unwrap(),
            "it is the broadcast address of 198.51.100.0/24 (host bits all one)"
        );
    }
}

//! What can be wrong with a topology description.

use crate::vocab::quoted;

/// A topology that cannot be built. Found before anything is created, so a
/// failed validation leaves nothing behind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopologyError {
    /// The same node declared twice.
    #[error("node `{node}` is declared twice")]
    DuplicateNode {
        /// The node name.
        node: String,
    },
    /// Two interfaces of the same name in one node.
    #[error("interface `{ifname}` appears twice in node `{node}`")]
    DuplicateInterface {
        /// The node.
        node: String,
        /// The interface name.
        ifname: String,
    },
    /// An interface name longer than the kernel's 15 bytes.
    #[error(
        "interface name `{ifname}` in node `{node}` is {len} bytes long; Linux allows at most 15"
    )]
    NameTooLong {
        /// The node.
        node: String,
        /// The interface name.
        ifname: String,
        /// Its length in bytes.
        len: usize,
    },
    /// A name the kernel (or this crate) would refuse.
    #[error("invalid name `{}`: {reason}", quoted(name))]
    InvalidName {
        /// The name.
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// An address that is not in CIDR form.
    #[error("bad CIDR `{input}` on {node}/{ifname}: {reason}")]
    InvalidCidr {
        /// The node.
        node: String,
        /// The interface.
        ifname: String,
        /// The text given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The same address twice on one L2 segment (or one node).
    #[error("address {addr} is used twice on one {scope}: by {first} and by {second}")]
    AddressClash {
        /// The address.
        addr: std::net::IpAddr,
        /// Where it must be unique: `segment` or `node`.
        scope: &'static str,
        /// The first user, as `node/ifname`.
        first: String,
        /// The second user, as `node/ifname`.
        second: String,
    },
    /// A route whose gateway is on no subnet the node is connected to.
    #[error("route {dst} in node `{node}`: gateway {gateway} is on no subnet connected to {on}")]
    GatewayUnreachable {
        /// The node.
        node: String,
        /// The route's destination.
        dst: String,
        /// The gateway.
        gateway: std::net::IpAddr,
        /// Where it was looked for (`the node` or an interface name).
        on: String,
    },
    /// A segment's switch node used as a host as well.
    #[error(
        "node `{node}` is the switch of a segment (it holds only the bridge) and cannot also be \
         an end of a link or a member of a segment"
    )]
    SwitchUsedAsHost {
        /// The node.
        node: String,
    },
    /// A node named as a segment's switch that is not one.
    #[error("node `{node}` is not the switch of a segment (used by {used_by})")]
    NotASwitch {
        /// The node.
        node: String,
        /// What named it.
        used_by: String,
    },
    /// A reference to a node that the topology does not hold.
    #[error("unknown node `{node}` (used by {used_by})")]
    UnknownNode {
        /// The node name.
        node: String,
        /// What referred to it.
        used_by: String,
    },
    /// A reference to an interface the node does not have.
    #[error("unknown interface `{ifname}` in node `{node}` (used by {used_by})")]
    UnknownInterface {
        /// The node.
        node: String,
        /// The interface name.
        ifname: String,
        /// What referred to it.
        used_by: String,
    },
    /// A link whose two ends are on the same node.
    #[error("link {a} -- {b} connects node `{node}` to itself")]
    SelfLink {
        /// The node.
        node: String,
        /// One end's interface.
        a: String,
        /// The other end's interface.
        b: String,
    },
    /// An MTU out of range.
    #[error("MTU {mtu} on {node}/{ifname} is out of range (68..=65535)")]
    InvalidMtu {
        /// The node.
        node: String,
        /// The interface.
        ifname: String,
        /// The MTU given.
        mtu: u32,
    },
    /// A wire model that cannot work, on the end that declared it.
    #[error("wire model on {node}/{ifname}: {source}")]
    InvalidImpairment {
        /// The node of the end.
        node: String,
        /// Its interface.
        ifname: String,
        /// What is wrong.
        #[source]
        source: crate::impairment::ImpairmentError,
    },
    /// One direction of a wire given two models: one end's `egress` and the
    /// other end's `ingress`.
    #[error(
        "the wire {from_node}/{from_ifname} -> {to_node}/{to_ifname} has two models for the same \
         direction (egress of the first end and ingress of the second); keep one"
    )]
    ConflictingImpairment {
        /// The sending end's node.
        from_node: String,
        /// The sending end's interface.
        from_ifname: String,
        /// The receiving end's node.
        to_node: String,
        /// The receiving end's interface.
        to_ifname: String,
    },
    /// A MAC address that is malformed, multicast or all zeros.
    #[error("bad MAC address `{mac}` on {node}/{ifname}: {reason}")]
    InvalidMac {
        /// The node.
        node: String,
        /// The interface.
        ifname: String,
        /// The text given.
        mac: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A route that makes no sense: a destination not in CIDR form or with
    /// host bits set, mixed families, neither gateway nor device.
    #[error("bad route {dst} in node `{node}`: {reason}")]
    InvalidRoute {
        /// The node.
        node: String,
        /// The destination given.
        dst: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A sysctl key that is not dot-separated words, or names an interface
    /// wrongly.
    #[error("bad sysctl `{}` for node `{node}`: {reason}", quoted(key))]
    InvalidSysctl {
        /// The node.
        node: String,
        /// The key.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A sysctl that is not known to be per network namespace: written from
    /// a node, a kernel-global one would change the whole machine.
    #[error("sysctl `{}` for node `{node}` is refused: {reason}", quoted(key))]
    SysctlNotPerNamespace {
        /// The node.
        node: String,
        /// The key.
        key: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A sysctl value longer than the kernel reads in one write.
    #[error(
        "the value of sysctl `{}` for node `{node}` is {len} bytes long; the kernel reads \
         at most {max} (one page)",
        quoted(key),
        max = SYSCTL_VALUE_MAX
    )]
    SysctlValueTooLong {
        /// The node.
        node: String,
        /// The key.
        key: String,
        /// The value's length in bytes.
        len: usize,
    },
    /// An interface address no host can have: unspecified, loopback,
    /// multicast, or a subnet's network or broadcast address.
    #[error("address `{addr}` on {node}/{ifname} cannot be an interface address: {reason}")]
    UnusableAddress {
        /// The node.
        node: String,
        /// The interface.
        ifname: String,
        /// The address, as given.
        addr: String,
        /// Why no interface can have it.
        reason: String,
    },
    /// The same MAC address on two interfaces of one L2 segment (the two
    /// ends of a veth, or the members of a bridge).
    #[error("MAC address {mac} is used twice on one segment: by {first} and by {second}")]
    MacClash {
        /// The address, lowercase.
        mac: String,
        /// The first user, as `node/ifname`.
        first: String,
        /// The second user, as `node/ifname`.
        second: String,
    },
    /// Two routes to the same destination in one node (two default routes
    /// of one family included).
    #[error(
        "node `{node}` has {} twice{}",
        route_name(dst),
        given_as(first, second)
    )]
    DuplicateRoute {
        /// The node.
        node: String,
        /// The destination prefix both resolve to (`0.0.0.0/0` for an IPv4
        /// default route).
        dst: String,
        /// The first destination, as given.
        first: String,
        /// The second destination, as given.
        second: String,
    },
    /// A route to the subnet of one of the node's own IPv4 addresses: the
    /// kernel routes it to that interface already, and refuses a second
    /// route to it.
    #[error(
        "route {dst} in node `{node}`: the kernel already routes {dst} to `{ifname}`, the subnet \
         of its address {addr}, and refuses a second route to it"
    )]
    RouteToConnectedSubnet {
        /// The node.
        node: String,
        /// The destination.
        dst: String,
        /// The interface with the address.
        ifname: String,
        /// The address, with its prefix length.
        addr: String,
    },
    /// An IPv6 address on an interface whose MTU is under IPv6's minimum.
    #[error(
        "{node}/{ifname} has MTU {mtu} and an IPv6 address: IPv6 needs an MTU of at least 1280, \
         and the kernel refuses the address"
    )]
    MtuTooSmallForIpv6 {
        /// The node.
        node: String,
        /// The interface.
        ifname: String,
        /// Its MTU (given on this end or on the other end of the veth).
        mtu: u32,
    },
    /// Different MTUs on the two ends of one veth.
    #[error(
        "the two ends of one veth have different MTUs: {a} has {mtu_a}, {b} has {mtu_b} \
         (give the MTU once, or the same on both ends)"
    )]
    MtuMismatch {
        /// One end, as `node/ifname`.
        a: String,
        /// Its MTU.
        mtu_a: u32,
        /// The other end, as `node/ifname`.
        b: String,
        /// Its MTU.
        mtu_b: u32,
    },
    /// A NAT on a node that does not forward: nothing would cross it.
    #[error("node `{node}` has a NAT but does not forward packets; add `.forwarding(\"{node}\")`")]
    NatWithoutForwarding {
        /// The node.
        node: String,
    },
    /// A NAT that needs an address on an interface that has none of the
    /// family.
    #[error("{used_by} needs an {family} address on {node}/{ifname}, which has none")]
    NoAddressForNat {
        /// The node.
        node: String,
        /// The interface.
        ifname: String,
        /// The family needed.
        family: crate::Family,
        /// What needs it.
        used_by: String,
    },
    /// A NAT whose parts do not fit together.
    #[error("bad NAT `{nat}` on node `{node}`: {reason}")]
    InvalidNat {
        /// The node.
        node: String,
        /// The NAT, in a few words.
        nat: String,
        /// What is wrong.
        reason: String,
    },
    /// A NAT that never matches: the NATs declared before it on the same
    /// node and interface take every packet it would (a source NAT of the
    /// same address family out of that interface, a port forward or DNAT
    /// of the same packets in on it).
    #[error(
        "NAT `{nat}` on node `{node}` never matches: `{first}`, declared before it, takes \
         its packets on {node}/{ifname}"
    )]
    NatNeverMatches {
        /// The node.
        node: String,
        /// The interface both NATs translate on.
        ifname: String,
        /// The NAT that never matches, in a few words.
        nat: String,
        /// The NAT (or NATs, joined by "` and `") declared before it that
        /// take its packets.
        first: String,
    },
    /// A firewall rule that cannot match or cannot be written.
    #[error("bad firewall rule {index} (chain {chain}) in node `{node}`: {reason}")]
    InvalidFirewallRule {
        /// The node.
        node: String,
        /// The chain: `input`, `forward` or `output`.
        chain: &'static str,
        /// The rule's number among the firewall's rules, from 1.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// Two firewalls declared for one node.
    #[error("node `{node}` has two firewalls; declare one with all of its rules")]
    DuplicateFirewall {
        /// The node.
        node: String,
    },
    /// A NAT or firewall on a segment's switch node, whose bridge forwards
    /// frames that the IP hooks never see.
    #[error(
        "node `{node}` is the switch of a segment: its bridge forwards frames, which a NAT or \
         firewall there would never see; put it on a router"
    )]
    NetfilterOnSwitch {
        /// The node.
        node: String,
    },
    /// A generator ([`Topology::chain`](crate::Topology::chain) and the
    /// others) called with parameters it makes no lab of; the topology it
    /// returned holds only this error.
    #[error("`Topology::{call}` cannot be generated: {parameter} is {value}, but {limit}")]
    InvalidGenerator {
        /// The call, as `ring(2)`.
        call: String,
        /// What is out of range: a parameter (`n`, `spines`, `leaves`) or
        /// what the parameters make (`the node count`, `the link count`,
        /// `the diameter`).
        parameter: &'static str,
        /// Its value.
        value: String,
        /// The limit, in words.
        limit: String,
    },
}

/// The most bytes of a sysctl value: the kernel reads one page per write.
pub(crate) const SYSCTL_VALUE_MAX: usize = 4096;

/// How the two routes were written, when not alike.
fn given_as(first: &str, second: &str) -> String {
    if first == second {
        String::new()
    } else {
        format!(" (given as `{first}` and as `{second}`)")
    }
}

/// How a message names the route to `dst`.
fn route_name(dst: &str) -> String {
    match dst {
        "0.0.0.0/0" => "the IPv4 default route (0.0.0.0/0)".into(),
        "::/0" => "the IPv6 default route (::/0)".into(),
        _ => format!("a route to {dst}"),
    }
}

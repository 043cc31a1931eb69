//! What can be wrong with a topology description.

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
    #[error("invalid name `{name}`: {reason}")]
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
        /// The interface (or `route` for a route destination).
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
    /// A route that makes no sense (mixed families, neither gateway nor device).
    #[error("bad route {dst} in node `{node}`: {reason}")]
    InvalidRoute {
        /// The node.
        node: String,
        /// The destination given.
        dst: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A sysctl key outside `net.` or with path tricks.
    #[error("bad sysctl `{key}` for node `{node}`: {reason}")]
    InvalidSysctl {
        /// The node.
        node: String,
        /// The key.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

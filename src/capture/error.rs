//! What a capture refuses: found before anything is opened or recorded.

/// A capture request that names a place it cannot capture; nothing was
/// opened, started or recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The network has no node of that name.
    #[error("capture on {node}/{iface}: the network has no node `{node}`")]
    UnknownNode {
        /// The node asked for.
        node: String,
        /// The interface asked for.
        iface: String,
    },
    /// The node has no interface of that name (for a recorded frame: none
    /// the topology made, and none captured).
    #[error("capture on {node}/{iface}: no interface `{iface}` in node `{node}`")]
    UnknownInterface {
        /// The node.
        node: String,
        /// The interface asked for.
        iface: String,
    },
    /// The interface's frames begin with a header capture does not record
    /// (it records Ethernet, loopback and raw-IP interfaces such as tun).
    #[error(
        "capture on {node}/{iface}: its device type (ARPHRD {device_type}) is none that \
         capture records: Ethernet (veth, bridge, VLAN, tap), loopback, or raw IP (tun)"
    )]
    UnsupportedLinkType {
        /// The node.
        node: String,
        /// The interface.
        iface: String,
        /// Its device type, an `ARPHRD_*` value (`ip -d link` names it).
        device_type: u16,
    },
}

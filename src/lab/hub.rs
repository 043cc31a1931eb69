//! The wire hub: one extra namespace per lab with wires, holding the far
//! end of every wire end's veth pair, where the relay's packet sockets
//! live. A node sees only its own veth end; nothing of the hub is in a node
//! or in the host namespace. The hub goes with its fds like a node.

use std::os::fd::{AsRawFd, OwnedFd};

use netlink_packet_route::link::LinkAttribute;

use crate::error::{Error, Result};
use crate::sys::ethtool::disable_tx_offload;
use crate::sys::netlink::sync::RouteSocket;
use crate::sys::netlink::VethEnd;
use crate::sys::netns::NetNs;
use crate::sys::packet_port::open_port;
use crate::sys::sysctl::write_own_sysctl;
use crate::topology::PlanIface;

/// The hub's name in messages.
pub(crate) const HUB: &str = "wire hub";

/// The hub's namespace and its netlink socket, while the lab is built.
pub(crate) struct Hub {
    pub(crate) ns: NetNs,
    pub(crate) sock: RouteSocket,
}

/// Sets the MTU of the hub's ends of wire `wire` through `sock`, a netlink
/// socket of the hub: `mtus[e]` on its end for end `e` (0: a, 1: b).
pub(crate) fn set_hub_mtus(sock: &mut RouteSocket, wire: usize, mtus: [u32; 2]) -> Result<()> {
    for (end, mtu) in mtus.into_iter().enumerate() {
        let (name, index) = hub_iface(wire, end);
        sock.set_mtu(index, &name, mtu)?;
    }
    Ok(())
}

/// The MTUs of the hub's ends of wire `wire` (end a's, then end b's), as
/// the kernel reports them through `sock`, a netlink socket of the hub.
pub(crate) fn hub_mtus(sock: &mut RouteSocket, wire: usize) -> Result<[u32; 2]> {
    let mut mtu = |end| {
        let (name, index) = hub_iface(wire, end);
        sock.get_link(index, &name)?
            .attributes
            .iter()
            .find_map(|a| match a {
                LinkAttribute::Mtu(m) => Some(*m),
                _ => None,
            })
            .ok_or_else(|| Error::Wire {
                place: format!("{HUB}/{name}"),
                op: "reading its MTU".into(),
                source: std::io::Error::other("the kernel's answer has no MTU"),
            })
    };
    Ok([mtu(0)?, mtu(1)?])
}

/// The hub's interface for end `end` (0: a, 1: b) of wire `wire`.
fn hub_iface(wire: usize, end: usize) -> (String, u32) {
    let name = format!("w{wire}{}", ["a", "b"][end]);
    (name, 2 + 2 * wire as u32 + end as u32)
}

impl Hub {
    /// Makes the hub: a fresh namespace (the calling thread moves into it)
    /// with IPv6 off (where the kernel has it), so its interfaces send
    /// nothing of their own.
    pub(crate) fn open() -> Result<Hub> {
        let ns = NetNs::unshare_current(HUB.to_string())?;
        for key in [
            "net/ipv6/conf/all/disable_ipv6",
            "net/ipv6/conf/default/disable_ipv6",
        ] {
            write_own_sysctl(HUB, key, "1")?;
        }
        let sock = RouteSocket::open_here(HUB)?;
        Ok(Hub { ns, sock })
    }

    /// Joins `iface` of node `node` (through `sock`, in `node_ns`) to the
    /// hub: a veth pair from the node's end to the hub's, both up and
    /// settled, and the node end's transmit offloads off.
    pub(crate) fn attach(
        &mut self,
        wire: usize,
        end: usize,
        (node, node_ns, sock): (&str, &NetNs, &mut RouteSocket),
        iface: &PlanIface,
        local: &VethEnd<'_>,
    ) -> Result<()> {
        let (name, index) = hub_iface(wire, end);
        let peer = VethEnd {
            name: &name,
            index,
            mtu: iface.mtu,
            mac: None,
            master: None,
        };
        sock.add_veth(local, &peer, self.ns.as_raw_fd())?;
        self.sock.set_link_up(index, &name, true)?;
        // As for a plain veth pair: without this, the first ARP of a fresh
        // pair is sometimes dropped. Each end through its own namespace.
        sock.settle_link(local.index, local.name)?;
        self.sock.settle_link(index, &name)?;
        node_ns
            .with(|| disable_tx_offload(&iface.name))?
            .map_err(|source| Error::Wire {
                place: format!("{node}/{}", iface.name),
                op: "turning transmit checksum offload off (SIOCETHTOOL)".into(),
                source,
            })
    }

    /// The relay's two ports of wire `wire`, opened inside the hub.
    pub(crate) fn ports(&self, wire: usize) -> Result<[OwnedFd; 2]> {
        let open = |end| {
            let (name, index) = hub_iface(wire, end);
            self.ns
                .with(|| open_port(index))?
                .map_err(|source| Error::Wire {
                    place: format!("{HUB}/{name}"),
                    op: "opening the relay's packet socket".into(),
                    source,
                })
        };
        Ok([open(0)?, open(1)?])
    }
}

//! The build's first phase: one namespace per node, with its sysctls
//! written, `lo` up, its bridge made, and its netlink socket open.
//!
//! Nodes are independent until they are linked, so a big lab makes them on
//! several threads at once, each unsharing namespace after namespace and
//! opening each node's socket from inside it. Most of a namespace's cost
//! (the kernel's per-namespace setup, its sysctl tables, the first lookup
//! of `/proc/sys/net/ipv6`) takes no lock that another thread making
//! another namespace waits for.

use super::shares::in_shares;
use crate::error::Result;
use crate::sys::netlink::sync::RouteSocket;
use crate::sys::netns::NetNs;
use crate::sys::sysctl::{write_sysctl, write_sysctls};
use crate::topology::{PlanNode, BRIDGE_NAME};

/// A node's namespace and its open socket.
pub(super) type Made = (NetNs, RouteSocket);

/// Makes every node of `nodes`, in order, on several threads for a big
/// lab. The calling thread makes the first share and is left inside the
/// last namespace it made.
///
/// On an error every namespace made so far is dropped, so the kernel frees
/// them; the first error in node order is returned.
pub(super) fn make_all(nodes: &[PlanNode]) -> Result<Vec<Made>> {
    in_shares(nodes, "netns-build", make)
}

/// Unshares node `node`'s namespace (the calling thread moves into it) and
/// sets it up.
fn make(node: &PlanNode) -> Result<Made> {
    let ns = NetNs::unshare_current(node.name.clone())?;
    write_sysctls(&node.name, &node.sysctls)?;
    if node.bridge.is_some() {
        bridge_netfilter_off(&node.name);
    }
    let mut sock = RouteSocket::open_here(&node.name)?;
    sock.set_link_up(1, "lo", true)?;
    if let Some(index) = node.bridge {
        sock.add_bridge(BRIDGE_NAME, index, None)?;
    }
    Ok((ns, sock))
}

/// Turns off br_netfilter's IP hooks for the switch node's namespace. A
/// bridge calls them when either its own flag or the namespace's says so,
/// and a switch node has no firewall for them to serve. Best effort: the
/// sysctls exist only while the module is loaded, and without them the
/// bridge merely forwards more slowly.
fn bridge_netfilter_off(node: &str) {
    for family in ["iptables", "ip6tables", "arptables"] {
        let _ = write_sysctl(node, &format!("net/bridge/bridge-nf-call-{family}"), "0");
    }
}

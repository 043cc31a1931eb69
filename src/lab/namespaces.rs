//! The build's first phase: one namespace per node, with its sysctls
//! written, `lo` up, its bridge made (with the switch's table), and its
//! netlink socket open.
//!
//! Nodes are independent until they are linked, so a big lab makes them on
//! several threads at once, each unsharing namespace after namespace and
//! opening each node's socket from inside it. Most of a namespace's cost
//! (the kernel's per-namespace setup, its sysctl tables) takes no lock
//! that another thread making another namespace waits for.

use super::shares::in_shares;
use crate::error::{Error, Result};
use crate::ruleset::{switch_ruleset, SWITCH_FAMILY, SWITCH_TABLE};
use crate::sys::netlink::nft::{Batch, Nft};
use crate::sys::netlink::sync::RouteSocket;
use crate::sys::netns::NetNs;
use crate::sys::sysctl::{write_sysctl, SysctlWriter};
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
    let writer = || sysctl_writer(nodes.len());
    in_shares(nodes, "netns-build", writer, make)
}

/// Labs of this many nodes or more write their sysctls through private
/// procfs instances: an instance costs about as much as one lookup in a
/// machine of a few hundred namespaces.
const PRIVATE_PROC_FROM: usize = 64;

/// The sysctl writer for a lab of `nodes` nodes.
pub(super) fn sysctl_writer(nodes: usize) -> SysctlWriter {
    if nodes >= PRIVATE_PROC_FROM {
        SysctlWriter::private()
    } else {
        SysctlWriter::new()
    }
}

/// Unshares node `node`'s namespace (the calling thread moves into it) and
/// sets it up, writing its sysctls with `sysctls`.
fn make(sysctls: &mut SysctlWriter, node: &PlanNode) -> Result<Made> {
    let ns = NetNs::unshare_current(node.name.clone())?;
    sysctls.write(&node.name, &node.sysctls, &node.own_sysctls)?;
    if node.bridge.is_some() {
        bridge_netfilter_off(&node.name);
    }
    let mut sock = RouteSocket::open_here(&node.name)?;
    sock.set_link_up(1, "lo", true)?;
    if let Some(index) = node.bridge {
        sock.add_bridge(BRIDGE_NAME, index, None)?;
    }
    if node.drops_mld {
        keep_mld_reports_off_the_bridge(&node.name)?;
    }
    Ok((ns, sock))
}

/// Installs the switch node's table, which drops the members' multicast
/// listener reports before the bridge floods them. On a kernel without
/// nftables, or without its bridge family, the bridge floods them, as any
/// bridge does, and the lab works the same; any other error is the build's.
fn keep_mld_reports_off_the_bridge(node: &str) -> Result<()> {
    let mut batch = Batch::new();
    batch.install_table(SWITCH_FAMILY, SWITCH_TABLE, &switch_ruleset());
    match Nft::open_here(node).and_then(|mut nft| nft.apply(&batch)) {
        Err(Error::Nftables { source, .. }) if missing_nftables(&source) => Ok(()),
        r => r,
    }
}

/// Whether `e` says the kernel has no nftables, or not for this family.
fn missing_nftables(e: &std::io::Error) -> bool {
    let unsupported = [libc::EAFNOSUPPORT, libc::EPROTONOSUPPORT, libc::EOPNOTSUPP];
    e.raw_os_error().is_some_and(|n| unsupported.contains(&n))
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

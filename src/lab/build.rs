//! Builds a validated [`Plan`] into live namespaces, in process, over rtnetlink.
//!
//! The calling thread does the build with blocking requests. First each
//! node gets its namespace (`namespaces.rs`): a thread unshares it, writes
//! the node's sysctls there, and opens the node's netlink socket; a big lab
//! makes its namespaces on several threads at once. Sockets keep their
//! namespace, so from then on the calling thread configures every node
//! through its socket. Each veth is created inside one node with its peer
//! placed directly in the other node by namespace fd: nothing is ever
//! created in, or moved through, the host namespace. A wire's ends are
//! veths too, each paired with an interface of the lab's wire hub (see
//! `hub.rs`), where the relay's packet sockets are opened. Then each node in
//! turn gets its addresses and routes, and its socket is closed. At the end
//! the calling thread is moved back to its own namespace.
//!
//! On any error the sockets are closed and the namespace fds dropped; as
//! nothing else refers to the namespaces, the kernel frees them with
//! everything built so far.

use std::os::fd::{AsRawFd, OwnedFd};

use super::hub::Hub;
use crate::error::Result;
use crate::sys::netlink::sync::{RouteOp, RouteSocket};
use crate::sys::netlink::VethEnd;
use crate::sys::netns::{NetNs, ThreadHome};
use crate::sys::thread;
use crate::topology::{Plan, PlanIface, PlanNode};

/// How long the build waits for the kernel to finish an IPv6 address (it
/// normally takes microseconds).
const IPV6_READY_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// What a build made: one namespace per node, in plan order; with wires,
/// the hub and the relay's two ports (end a, end b) of each wire, in plan
/// order.
pub(crate) struct Built {
    pub(crate) namespaces: Vec<NetNs>,
    pub(crate) hub: Option<NetNs>,
    pub(crate) ports: Vec<[OwnedFd; 2]>,
}

/// Builds `plan`.
///
/// The build unshares on the calling thread and moves it back afterwards
/// (the process aborts rather than let the thread run on
/// in a node). That saves a thread spawn, a tenth of a two-node build.
/// Where the thread could not move back, the build runs on a dedicated
/// thread instead.
pub(crate) fn build(plan: &Plan) -> Result<Built> {
    if let Some(_home) = ThreadHome::save_if_returnable() {
        return build_on_this_thread(plan);
    }
    thread::run_scoped("netns-build".into(), "the build thread", || {
        build_on_this_thread(plan)
    })
}

fn build_on_this_thread(plan: &Plan) -> Result<Built> {
    let mut nss = Vec::with_capacity(plan.nodes.len());
    let mut socks = Vec::with_capacity(plan.nodes.len());
    let mut hub = None;
    let mut ports = Vec::new();
    let built = configure(plan, &mut nss, &mut socks, &mut hub, &mut ports);
    // The sockets close here, before the namespaces are handed out.
    drop(socks);
    built.map(|()| Built {
        namespaces: nss,
        hub: hub.map(|Hub { ns, sock: _ }| ns),
        ports,
    })
}

fn veth_end(iface: &PlanIface) -> VethEnd<'_> {
    VethEnd {
        name: &iface.name,
        index: iface.index,
        mtu: iface.mtu,
        mac: iface.mac,
        master: iface.master,
    }
}

fn configure(
    plan: &Plan,
    nss: &mut Vec<NetNs>,
    socks: &mut Vec<Option<RouteSocket>>,
    hub: &mut Option<Hub>,
    ports: &mut Vec<[OwnedFd; 2]>,
) -> Result<()> {
    // Namespaces first, each with its sysctls, `lo` up and its bridge.
    for (ns, sock) in super::namespaces::make_all(&plan.nodes)? {
        nss.push(ns);
        socks.push(Some(sock));
    }
    for veth in &plan.veths {
        let (na, ia) = veth.a;
        let (nb, ib) = veth.b;
        let a = &plan.nodes[na].ifaces[ia];
        let b = &plan.nodes[nb].ifaces[ib];
        if veth.wire.is_some() {
            if hub.is_none() {
                *hub = Some(Hub::open()?);
            }
            let h = hub.as_mut().expect("opened above");
            let wire = ports.len();
            for (end, n, iface) in [(0, na, a), (1, nb, b)] {
                let node = (plan.nodes[n].name.as_str(), &nss[n], open(socks, n));
                h.attach(wire, end, node, iface, &veth_end(iface))?;
            }
            ports.push(h.ports(wire)?);
            continue;
        }
        open(socks, na).add_veth(&veth_end(a), &veth_end(b), nss[nb].as_raw_fd())?;
        // The peer cannot be created up; bring it up from its own namespace.
        open(socks, nb).set_link_up(b.index, &b.name, true)?;
        open(socks, na).settle_link(a.index, &a.name)?;
        open(socks, nb).settle_link(b.index, &b.name)?;
    }
    // Interface sysctls need their interface, and go before its addresses.
    let mut sysctls = super::namespaces::sysctl_writer(plan.nodes.len());
    for (node, ns) in plan.nodes.iter().zip(nss.iter()) {
        if !node.iface_sysctls.is_empty() {
            ns.with(|| sysctls.write(&node.name, &node.iface_sysctls, &[]))??;
        }
    }
    // Then node by node: addresses, routes, the wait for IPv6 addresses;
    // and the node's socket is closed. Only one socket subscribed to
    // address events exists at a time: the kernel walks every subscribed
    // socket of the machine for every routing notification, so many of
    // them would make every request of a big build slower. This stays on one thread: its
    // requests take the kernel's rtnl lock, so more threads would not help.
    for (node, sock) in plan.nodes.iter().zip(socks.iter_mut()) {
        configure_node(node, sock.take().expect("open until its node is done"))?;
    }
    Ok(())
}

/// The socket of node `i`, still open.
fn open(socks: &mut [Option<RouteSocket>], i: usize) -> &mut RouteSocket {
    socks[i].as_mut().expect("open until its node is done")
}

/// Addresses, routes, then the wait for the IPv6 addresses, through
/// `sock`, which is closed at the end.
fn configure_node(node: &PlanNode, mut sock: RouteSocket) -> Result<()> {
    let v6: Vec<_> = node
        .ifaces
        .iter()
        .flat_map(|i| {
            i.addrs.iter().filter_map(move |a| match a.addr() {
                std::net::IpAddr::V6(ip) => Some((i.index, i.name.as_str(), ip)),
                std::net::IpAddr::V4(_) => None,
            })
        })
        .collect();
    if !v6.is_empty() {
        sock.watch_ipv6_addresses()?;
    }
    for iface in &node.ifaces {
        for addr in &iface.addrs {
            sock.add_address(iface.index, &iface.name, *addr)?;
        }
    }
    for route in &node.routes {
        sock.route(
            RouteOp::Add,
            route.dst,
            route.via,
            route.dev.as_ref().map(|(i, n)| (*i, n.as_str())),
        )?;
    }
    // Last: the kernel finishes the addresses on a workqueue meanwhile, and
    // a route needs only an address's prefix route, which is there at once.
    if !v6.is_empty() {
        sock.wait_ipv6_ready(v6, IPV6_READY_LIMIT)?;
    }
    Ok(())
}

//! Builds a validated [`Plan`] into live namespaces, in process, over rtnetlink.
//!
//! One thread does the whole build on one current-thread runtime:
//! for each node it unshares a fresh namespace (so the thread is inside it),
//! writes the node's sysctls there, and opens the node's netlink
//! connection. Sockets keep their namespace, so from then on the same thread
//! configures every node through its connection. Each veth is created inside
//! one node with its peer placed directly in the other node by namespace fd:
//! nothing is ever created in, or moved through, the host namespace. A
//! wire's ends are veths too, each paired with an interface of the lab's
//! wire hub (see `hub.rs`), where the relay's packet sockets are opened.
//! Then
//! each node in turn gets its addresses and routes, and its connection is
//! closed. At the end the thread is moved back to its own namespace.
//!
//! On any error the connections are closed and the namespace fds dropped; as
//! nothing else refers to the namespaces, the kernel frees them with
//! everything built so far.

use std::os::fd::{AsRawFd, OwnedFd};

use super::hub::Hub;
use crate::error::Result;
use crate::sys::netlink::{Conn, VethEnd};
use crate::sys::netns::{can_return_here, NetNs, ThreadHome};
use crate::sys::sysctl::{write_sysctl, write_sysctls};
use crate::sys::{runtime, thread};
use crate::topology::{Plan, PlanIface, PlanNode, BRIDGE_NAME};

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
/// (checked by inode; the process aborts rather than let the thread run on
/// in a node). That saves a thread spawn, a tenth of a two-node build. From
/// inside a tokio runtime, where a nested runtime cannot be driven, or where
/// the thread could not move back (see `can_return_here`), the build runs on
/// a dedicated thread instead.
pub(crate) fn build(plan: &Plan) -> Result<Built> {
    if tokio::runtime::Handle::try_current().is_err() && can_return_here() {
        let _home = ThreadHome::save()?;
        return build_on_this_thread(plan);
    }
    thread::run_scoped("netns-build".into(), "the build thread", || {
        build_on_this_thread(plan)
    })
}

fn build_on_this_thread(plan: &Plan) -> Result<Built> {
    runtime::current_thread()?.block_on(async {
        let mut nss = Vec::with_capacity(plan.nodes.len());
        let mut conns = Vec::with_capacity(plan.nodes.len());
        let mut hub = None;
        let mut ports = Vec::new();
        let built = configure(plan, &mut nss, &mut conns, &mut hub, &mut ports).await;
        for conn in conns.into_iter().flatten() {
            conn.close().await;
        }
        let hub = match hub {
            Some(Hub { ns, conn }) => {
                conn.close().await;
                Some(ns)
            }
            None => None,
        };
        built.map(|()| Built {
            namespaces: nss,
            hub,
            ports,
        })
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

async fn configure(
    plan: &Plan,
    nss: &mut Vec<NetNs>,
    conns: &mut Vec<Option<Conn>>,
    hub: &mut Option<Hub>,
    ports: &mut Vec<[OwnedFd; 2]>,
) -> Result<()> {
    // Namespaces first, each with its sysctls, `lo` up and its bridge.
    for node in &plan.nodes {
        let ns = NetNs::unshare_current(node.name.clone())?;
        nss.push(ns);
        write_sysctls(&node.name, &node.sysctls)?;
        if node.bridge.is_some() {
            bridge_netfilter_off(&node.name);
        }
        let conn = Conn::open_here(&node.name)?;
        conn.link_up(1, "lo").await?;
        if let Some(index) = node.bridge {
            conn.add_bridge(BRIDGE_NAME, index, None).await?;
        }
        conns.push(Some(conn));
    }
    for veth in &plan.veths {
        let (na, ia) = veth.a;
        let (nb, ib) = veth.b;
        let a = &plan.nodes[na].ifaces[ia];
        let b = &plan.nodes[nb].ifaces[ib];
        let (ca, cb) = (open(conns, na)?, open(conns, nb)?);
        if veth.wire.is_some() {
            if hub.is_none() {
                *hub = Some(Hub::open().await?);
            }
            let h = hub.as_ref().expect("opened above");
            let wire = ports.len();
            let node = |n: usize, c| (plan.nodes[n].name.as_str(), &nss[n], c);
            h.attach(wire, 0, node(na, ca), a, &veth_end(a)).await?;
            h.attach(wire, 1, node(nb, cb), b, &veth_end(b)).await?;
            ports.push(h.ports(wire)?);
            continue;
        }
        ca.add_veth(&veth_end(a), &veth_end(b), nss[nb].as_raw_fd())
            .await?;
        // The peer cannot be created up; bring it up from its own namespace.
        cb.link_up(b.index, &b.name).await?;
        // One RTM_GETLINK per end right after both are up lets the carrier
        // settle, so the first ARP of a fresh pair is not dropped.
        ca.get_link(a.index).await?;
        cb.get_link(b.index).await?;
    }
    // Interface sysctls need their interface, and go before its addresses.
    for (node, ns) in plan.nodes.iter().zip(nss.iter()) {
        if !node.iface_sysctls.is_empty() {
            ns.with(|| write_sysctls(&node.name, &node.iface_sysctls))??;
        }
    }
    // Then node by node: addresses, the wait for IPv6 ones, routes; and the
    // node's connection is closed. Only one socket subscribed to address
    // events exists at a time: the kernel walks every subscribed socket of
    // the machine for every routing notification, so many of them would
    // make every request of a big build slower.
    for (i, node) in plan.nodes.iter().enumerate() {
        let v6: Vec<_> = node
            .ifaces
            .iter()
            .flat_map(|i| {
                i.addrs.iter().filter_map(move |a| match a.addr() {
                    std::net::IpAddr::V6(ip) => Some((i.index, ip)),
                    std::net::IpAddr::V4(_) => None,
                })
            })
            .collect();
        let mut conn = conns[i].take().expect("open until its node is done");
        if !v6.is_empty() {
            conn.close().await;
            conn = nss[i].with(|| Conn::open_here_watching_ipv6(&node.name))??;
        }
        let done = configure_node(node, &mut conn, v6).await;
        conn.close().await;
        done?;
    }
    Ok(())
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

/// The connection of node `i`, still open.
fn open(conns: &[Option<Conn>], i: usize) -> Result<&Conn> {
    Ok(conns[i].as_ref().expect("open until its node is done"))
}

/// Addresses, the wait for the IPv6 ones, then routes, through `conn`.
async fn configure_node(
    node: &PlanNode,
    conn: &mut Conn,
    v6: Vec<(u32, std::net::Ipv6Addr)>,
) -> Result<()> {
    for iface in &node.ifaces {
        for addr in &iface.addrs {
            conn.add_address(iface.index, &iface.name, *addr).await?;
        }
    }
    if !v6.is_empty() {
        conn.wait_ipv6_ready(v6, IPV6_READY_LIMIT).await?;
    }
    for route in &node.routes {
        conn.add_route(
            route.dst,
            route.via,
            route.dev.as_ref().map(|(i, n)| (*i, n.as_str())),
        )
        .await?;
    }
    Ok(())
}

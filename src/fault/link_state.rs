//! What a veth end loses when it goes down, and getting it back when it
//! comes up.
//!
//! The kernel deletes every route through an interface that goes down and
//! does not add them back when it comes up; without `keep_addr_on_down` it
//! also deletes the interface's IPv6 addresses. So before an end goes down
//! its IPv6 addresses are told to stay (the interface's
//! `keep_addr_on_down`; IPv4 addresses always stay) and the routes through
//! it are saved (see `routes_via` for which); once both ends are up again
//! the saved routes are added back.
//!
//! A way up returns once the kept IPv6 addresses are usable again: the
//! kernel finishes them on a workqueue after the interface comes up, and
//! until then a neighbour solicitation for one of them is dropped, which
//! stalls the first IPv6 packet across the link by a second (see
//! `sys::netlink::ipv6_ready`).
//!
//! A link's saved routes live in its veth's `lost_routes`, whose lock is
//! held over each whole change of the link's state, by `Link::set` and by
//! a flap's thread alike, so that two changes never interleave.

use std::net::Ipv6Addr;
use std::time::Duration;

use crate::error::Result;
use crate::lab::{Net, VethEnd};
use crate::sys::netlink::route::SavedRoute;
use crate::sys::netlink::sync::RouteSocket;
use crate::sys::sysctl::write_own_sysctl;

/// The routes a link's ends lost while down: (node, route).
pub(crate) type LostRoutes = Vec<(usize, SavedRoute)>;

/// How long a way up waits for the kernel to make an end's IPv6 addresses
/// usable; only a kernel that never reports them ready reaches it.
const READY_LIMIT: Duration = Duration::from_secs(10);

/// Sets both ends of a link up, and waits until the IPv6 addresses each
/// end that was down kept are usable again. `with(i, f)` runs `f` on a socket in
/// the node of `ends[i]`. The first error is returned, the sockets no
/// longer subscribed to address events in any case.
pub(crate) fn bring_up(
    ends: [&VethEnd; 2],
    mut with: impl FnMut(usize, &mut dyn FnMut(&mut RouteSocket) -> Result<()>) -> Result<()>,
) -> Result<()> {
    let mut kept: [Vec<Ipv6Addr>; 2] = Default::default();
    let mut first = Ok(());
    for (i, e) in ends.iter().enumerate() {
        if first.is_ok() {
            first = with(i, &mut |s| {
                // An end up already stays as it is: its addresses are in use.
                if s.link_is_up(e.index, &e.ifname)? {
                    return Ok(());
                }
                kept[i] = s.kept_ipv6_addresses(e.index, &e.ifname)?;
                if kept[i].is_empty() {
                    return Ok(());
                }
                s.watch_ipv6_addresses()
            });
        }
    }
    for (i, e) in ends.iter().enumerate() {
        if first.is_ok() {
            first = with(i, &mut |s| s.set_link_up(e.index, &e.ifname, true));
        }
    }
    for (i, e) in ends.iter().enumerate() {
        let pending: Vec<_> = std::mem::take(&mut kept[i])
            .into_iter()
            .map(|ip| (e.index, e.ifname.as_str(), ip))
            .collect();
        if pending.is_empty() {
            continue;
        }
        let wait = first.is_ok();
        let mut pending = Some(pending);
        let waited = with(i, &mut |s| {
            // The kernel reports an address ready just before it routes it
            // as local again, in the same work, under the RTNL lock: a
            // request that takes that lock (setting the end up once more,
            // which changes nothing) returns only after that work is done.
            let r = match pending.take() {
                Some(p) if wait => s
                    .wait_ipv6_ready(p, READY_LIMIT)
                    .and_then(|()| s.set_link_up(e.index, &e.ifname, true)),
                _ => Ok(()),
            };
            s.unwatch_ipv6_addresses();
            r
        });
        if first.is_ok() {
            first = waited;
        }
    }
    first
}

/// Makes the IPv6 addresses of end `e` stay when it goes down. A kernel
/// without IPv6 has no such setting, and no IPv6 address to keep.
pub(crate) fn keep_addresses(net: &Net, e: &VethEnd) -> Result<()> {
    let node = &net.nodes()[e.node];
    let (name, path) = (
        node.name().to_string(),
        format!("net/ipv6/conf/{}/keep_addr_on_down", e.ifname),
    );
    node.run(move || write_own_sysctl(&name, &path, "1"))?
}

/// Saves in `lost` the routes through end `e`, read through `sock` (a
/// socket in its node), before it goes down.
pub(crate) fn save_routes(
    sock: &mut RouteSocket,
    e: &VethEnd,
    lost: &mut LostRoutes,
) -> Result<()> {
    let routes = sock.routes_via(e.index, &e.ifname)?;
    lost.extend(routes.into_iter().map(|r| (e.node, r)));
    Ok(())
}

/// Adds back through `sock`, a socket in `node`, the routes of `lost` that
/// belong to that node. Every one is tried; those that fail stay in `lost`
/// for the next time the link comes up, and the first error is returned.
pub(crate) fn add_back(sock: &mut RouteSocket, node: usize, lost: &mut LostRoutes) -> Result<()> {
    let mut first = Ok(());
    lost.retain(|(n, route)| {
        if *n != node {
            return true;
        }
        match sock.restore_route(route) {
            Ok(()) => false,
            Err(e) => {
                if first.is_ok() {
                    first = Err(e);
                }
                true
            }
        }
    });
    first
}

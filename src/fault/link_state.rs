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
//! A way up returns once the ends' IPv6 addresses are usable again: the
//! kernel finishes them on a workqueue after the interface comes up, and
//! until then routes none of them as local, so a packet to one is dropped
//! (a neighbour advertisement answering it too, which stalls the first
//! IPv6 packet across the link by a second; see `sys::netlink::ipv6_ready`).
//!
//! A link's saved routes live in its veth's `lost_routes`, whose lock is
//! held over each whole change of the link's state, by `Link::set` and by
//! a flap's thread alike, so that two changes never interleave.

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

/// A socket of its own in the node of end `e`, for a change of the link's
/// state: it may wait for address events without holding up the node's
/// shared socket, and unsubscribes when it closes.
pub(crate) fn open_socket(net: &Net, e: &VethEnd) -> Result<RouteSocket> {
    let node = &net.nodes()[e.node];
    let name = node.name().to_string();
    node.run(move || RouteSocket::open_here(&name))?
}

/// Sets both ends of a link up through `socks` (a socket in each end's
/// node), then waits until the kernel has finished the IPv6 addresses of
/// each end that was down, but for those detecting duplicates (see
/// `unfinished_ipv6_addresses`). An end that was up already is left as it
/// is.
///
/// `Err` when an end could not be set up; `Ok(Err)` when both are up but
/// an address was not reported usable within [`READY_LIMIT`]. The sockets
/// are no longer subscribed to address events in any case.
pub(crate) fn bring_up(
    mut socks: [&mut RouteSocket; 2],
    ends: [&VethEnd; 2],
) -> Result<Result<()>> {
    let mut was_down = [false; 2];
    let result = up_and_wait(&mut socks, ends, &mut was_down);
    for (s, down) in socks.into_iter().zip(was_down) {
        if down {
            s.unwatch_ipv6_addresses();
        }
    }
    result
}

/// [`bring_up`] but for the unsubscribing: `was_down` says which sockets
/// subscribed.
fn up_and_wait(
    socks: &mut [&mut RouteSocket; 2],
    ends: [&VethEnd; 2],
    was_down: &mut [bool; 2],
) -> Result<Result<()>> {
    for (i, e) in ends.iter().enumerate() {
        if !socks[i].link_is_up(e.index, &e.ifname)? {
            was_down[i] = true;
            // Before the way up: no event of it is missed.
            socks[i].watch_ipv6_addresses()?;
        }
    }
    for (i, e) in ends.iter().enumerate() {
        socks[i].set_link_up(e.index, &e.ifname, true)?;
    }
    let mut wait = || -> Result<()> {
        for (i, e) in ends.iter().enumerate() {
            if !was_down[i] {
                continue;
            }
            let pending: Vec<_> = socks[i]
                .unfinished_ipv6_addresses(e.index, &e.ifname)?
                .into_iter()
                .map(|ip| (e.index, e.ifname.as_str(), ip))
                .collect();
            if pending.is_empty() {
                continue;
            }
            socks[i].wait_ipv6_ready(pending, READY_LIMIT)?;
            // The kernel reports an address ready just before it adds the
            // address's local route, in the same work, under the RTNL lock:
            // a request that takes that lock (setting the end up once more,
            // which changes nothing) returns only after that work is done.
            socks[i].set_link_up(e.index, &e.ifname, true)?;
        }
        Ok(())
    };
    Ok(wait())
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

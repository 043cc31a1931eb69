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
//! A link's saved routes live in its veth's `lost_routes`, whose lock is
//! held over each whole change of the link's state, by `Link::set` and by
//! a flap's thread alike, so that two changes never interleave.

use crate::error::Result;
use crate::lab::{Net, VethEnd};
use crate::sys::netlink::route::SavedRoute;
use crate::sys::netlink::sync::RouteSocket;
use crate::sys::sysctl::write_own_sysctl;

/// The routes a link's ends lost while down: (node, route).
pub(crate) type LostRoutes = Vec<(usize, SavedRoute)>;

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

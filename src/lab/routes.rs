//! Routes changed while a test runs.

use super::node::Node;
use crate::error::{Error, Result};
use crate::sys::netlink::sync::RouteOp;
use crate::topology::{resolve_route, Route};

impl Node {
    /// Adds a route to the live node (`ip route add`); it must not exist.
    ///
    /// The route is checked as the topology's are (a gateway on a subnet of
    /// the node, a device of the node), so a bad one is a typed error naming
    /// the node and the route, before the kernel sees it; what the kernel
    /// refuses (a route that exists) is an [`Error::Netlink`] naming both.
    /// Once the network's teardown has begun (a timed-out test's body still
    /// runs), every route change is refused with
    /// [`Error::TornDown`](crate::Error::TornDown).
    ///
    /// ```no_run
    /// # use netns_test::{Net, Route, Topology};
    /// # let net = Net::build(&Topology::new().link(("h1", "eth0", "198.51.100.1/24"), ("r1", "eth0", "198.51.100.254/24")))?;
    /// net["h1"].add_route(Route::to("203.0.113.0/24").via("198.51.100.254"))?;
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn add_route(&self, route: Route) -> Result<()> {
        self.change_route(RouteOp::Add, &route)
    }

    /// Adds the route, or replaces the route to the same destination
    /// (`ip route replace`): moves traffic onto another path at once.
    pub fn replace_route(&self, route: Route) -> Result<()> {
        self.change_route(RouteOp::Replace, &route)
    }

    /// Deletes the route to the route's destination (`ip route del`); its
    /// gateway and device, when given, must match. Any such route is
    /// deleted, also one the library did not add (the kernel's route to a
    /// connected subnet, one added with `ip`).
    pub fn delete_route(&self, route: Route) -> Result<()> {
        self.change_route(RouteOp::Delete, &route)
    }

    fn change_route(&self, op: RouteOp, route: &Route) -> Result<()> {
        let plan = resolve_route(self.name(), &self.ifaces, route).map_err(Error::Topology)?;
        self.refuse_once_torn(|| {
            format!(
                "ip route {} {} in node {}",
                op.word(),
                plan.dst,
                self.name()
            )
        })?;
        let dev = plan.dev.as_ref().map(|(i, n)| (*i, n.as_str()));
        self.with_route_socket(|s| s.route(op, plan.dst, plan.via, dev))
    }
}

//! Links at run time: down and up (with a guard that brings the link back),
//! a new MTU; a flapping link is in `flap.rs`.

use std::sync::atomic::Ordering;

use super::{link_state, FaultError, FaultId};
use crate::error::{Error, Result};
use crate::lab::faults::{Refused, Reservation};
use crate::lab::{Net, Veth, VethEnd};

/// The veth pair between two nodes, made by [`Net::link`]: both ends go
/// down and up together.
///
/// For a host on a bridge segment, the link is the one between the host and
/// the segment's switch node (`net.link("h1", "sw")`): taking it down
/// unplugs that one port.
#[derive(Debug, Clone, Copy)]
pub struct Link<'a> {
    pub(crate) net: &'a Net,
    pub(crate) veth: &'a Veth,
    /// The handle names the link from its veth's end b: what the handle
    /// calls forward is the veth's b to a.
    pub(crate) flipped: bool,
}

impl Net {
    /// The link between nodes `a` and `b`.
    ///
    /// Errors: [`Error::UnknownNode`] for a name that is no node,
    /// [`Error::NoLink`] when no veth joins the two, or several do (name
    /// the interface then with [`Net::link_at`]).
    ///
    /// ```no_run
    /// # use netns_test::{Net, Topology};
    /// let net = Net::build(&Topology::new().link(
    ///     ("n1", "eth0", "198.51.100.1/24"),
    ///     ("n2", "eth0", "198.51.100.2/24"),
    /// ))?;
    /// {
    ///     let _down = net.link("n1", "n2")?.down()?;
    ///     assert_eq!(net["n1"].ping("n2").run()?.received, 0);
    /// } // the guard brings the link back up
    /// assert_eq!(net["n1"].ping("n2").run()?.received, 1);
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn link(&self, a: &str, b: &str) -> Result<Link<'_>> {
        self.find_link(a, b, None)
    }

    /// The link between node `a`'s interface `ifname` and node `b`.
    pub fn link_at(&self, a: &str, ifname: &str, b: &str) -> Result<Link<'_>> {
        self.find_link(a, b, Some(ifname))
    }

    fn find_link(&self, a: &str, b: &str, ifname: Option<&str>) -> Result<Link<'_>> {
        let ia = self.position(a)?;
        let ib = self.position(b)?;
        let matches: Vec<&Veth> = self
            .veths()
            .iter()
            .filter(|v| {
                let (ea, eb) = if v.a.node == ia {
                    (&v.a, &v.b)
                } else {
                    (&v.b, &v.a)
                };
                ea.node == ia && eb.node == ib && ifname.is_none_or(|n| ea.ifname == n)
            })
            .collect();
        match matches.as_slice() {
            [veth] => Ok(Link {
                net: self,
                veth,
                flipped: veth.a.node != ia,
            }),
            _ => Err(Error::NoLink {
                a: a.to_string(),
                b: b.to_string(),
                found: matches.len(),
            }),
        }
    }
}

/// `node/ifname`.
fn end_name(net: &Net, e: &VethEnd) -> String {
    format!("{}/{}", net.nodes()[e.node].name(), e.ifname)
}

/// Sets one end up or down through its node's socket.
fn set_end(net: &Net, e: &VethEnd, up: bool) -> Result<()> {
    net.nodes()[e.node].with_route_socket(|s| s.set_link_up(e.index, &e.ifname, up))
}

impl<'a> Link<'a> {
    /// The position of the veth in the network's list.
    pub(crate) fn index(&self) -> usize {
        self.net
            .veths()
            .iter()
            .position(|v| std::ptr::eq(v, self.veth))
            .expect("a link of this network")
    }

    /// `n1/eth0 -- n2/eth0`.
    pub fn name(&self) -> String {
        format!(
            "{} -- {}",
            end_name(self.net, &self.veth.a),
            end_name(self.net, &self.veth.b)
        )
    }

    /// Sets both ends up or down now, counting the change (none when both
    /// ends were so already: they are left as they are); what going down
    /// deletes (see `link_state.rs`) is saved first and given back once
    /// both ends are up and their IPv6 addresses usable again.
    pub(super) fn set(&self, up: bool) -> Result<()> {
        let ends = [&self.veth.a, &self.veth.b];
        // Held over the whole change: no other change of this link
        // interleaves.
        let mut lost = self
            .veth
            .lost_routes
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        // An end whose state cannot be read counts as one to change.
        let already = ends.iter().all(|e| {
            self.net.nodes()[e.node]
                .with_route_socket(|s| s.link_is_up(e.index, &e.ifname))
                .is_ok_and(|is_up| is_up == up)
        });
        if already {
            // Nothing to change; the routes a failed way up left out are
            // tried again.
            if up {
                return self.add_back(&mut lost);
            }
            return Ok(());
        }
        if up {
            let mut sa = link_state::open_socket(self.net, &self.veth.a)?;
            let mut sb = link_state::open_socket(self.net, &self.veth.b)?;
            let usable = link_state::bring_up([&mut sa, &mut sb], ends)?;
            // Counted before the routes: the link changed state even if one
            // of them cannot come back, or an address was not reported
            // usable in time.
            self.veth.state_changes.fetch_add(1, Ordering::Relaxed);
            self.add_back(&mut lost)?;
            return usable;
        }
        for e in ends {
            link_state::keep_addresses(self.net, e)?;
            let node = &self.net.nodes()[e.node];
            node.with_route_socket(|s| link_state::save_routes(s, e, &mut lost))?;
        }
        self.take_down(ends, &mut lost)?;
        self.veth.state_changes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Sets both ends down; when end b refuses, end a is brought back up,
    /// with its routes, before the error is returned.
    fn take_down(&self, ends: [&VethEnd; 2], lost: &mut link_state::LostRoutes) -> Result<()> {
        set_end(self.net, &self.veth.a, false)?;
        if let Err(e) = set_end(self.net, &self.veth.b, false) {
            if set_end(self.net, &self.veth.a, true).is_ok() {
                for end in ends {
                    let node = &self.net.nodes()[end.node];
                    let _ = node.with_route_socket(|s| link_state::add_back(s, end.node, lost));
                }
            }
            return Err(e);
        }
        Ok(())
    }

    /// Adds back, in both ends' nodes, the routes `lost` holds; the first
    /// error, after trying both.
    fn add_back(&self, lost: &mut link_state::LostRoutes) -> Result<()> {
        let mut first = Ok(());
        for e in [&self.veth.a, &self.veth.b] {
            let node = &self.net.nodes()[e.node];
            let r = node.with_route_socket(|s| link_state::add_back(s, e.node, lost));
            if first.is_ok() {
                first = r;
            }
        }
        first
    }

    /// Takes the link down (both ends); the guard brings it back up when
    /// dropped, also on a panic. [`Net::heal`] brings it up too.
    ///
    /// A link has one fault at a time: while it is down (by another
    /// guard, detached or not) or flapping, this returns
    /// [`FaultError::LinkBusy`] and changes nothing; end the other fault
    /// first. Once the network is torn down it returns
    /// [`FaultError::TornDown`] (both as [`Error::Fault`]).
    ///
    /// Down, the ends lose their routes (the kernel deletes every route
    /// through a downed interface); their addresses stay (IPv6 ones through
    /// the interface's `keep_addr_on_down`). Back up, the routes the
    /// library or the test made through them (of the main table, single
    /// path) are added back; a route with the same destination and metric
    /// that the test added meanwhile is left as it is. The way back up
    /// returns once the ends' IPv6 addresses are usable again: the kernel
    /// finishes them on a workqueue after the link comes up, and until then
    /// routes none of them as local, so a packet sent to one is dropped
    /// (the first IPv6 packet across the link would wait a second for the
    /// next neighbour solicitation). Addresses that detect duplicates (the
    /// link-local address of a node without IPv6 addresses, say) take a
    /// second or more for that, and are not waited for, as after a build.
    pub fn down(&self) -> Result<LinkDown<'a>> {
        let reserved = self.reserve(format!("link {} down", self.name()))?;
        let before = self.state_changes();
        if let Err(e) = self.set(false) {
            self.net.faults.cancel(reserved);
            return Err(e);
        }
        let index = self.index();
        let id = self.net.faults.commit(
            self.net,
            reserved,
            evidence(index, before),
            Box::new(move |net: &Net| link_of(net, index).set(true)),
        )?;
        Ok(LinkDown { link: *self, id })
    }

    /// Reserves the link for a fault, before anything changes: refused
    /// while the link has a fault, or once the network is torn down.
    pub(super) fn reserve(&self, description: String) -> Result<Reservation> {
        self.net
            .faults
            .reserve(Some(self.key()), description.clone())
            .map_err(|refused| {
                match refused {
                    Refused::Closed => FaultError::TornDown { fault: description },
                    Refused::Busy(active) => FaultError::LinkBusy {
                        link: self.name(),
                        active,
                    },
                }
                .into()
            })
    }

    /// Brings the link up (both ends), whatever took it down; a detached
    /// [`LinkDown`] of the link is over then, and a flap of it stops. When
    /// ending such a fault fails but the link comes up with its routes,
    /// the fault is over all the same, and the error returned.
    pub fn up(&self) -> Result<()> {
        let ended = self.net.faults.end_keyed(self.net, &self.key());
        let set = self.set(true);
        if set.is_ok() && ended.is_err() {
            self.net.faults.forget_keyed(&self.key());
        }
        set.and(ended)
    }

    /// The key of the link's faults in the network's book.
    fn key(&self) -> String {
        format!("link {}", self.index())
    }

    /// Whether both ends are administratively up.
    pub fn is_up(&self) -> Result<bool> {
        let up = |e: &VethEnd| {
            self.net.nodes()[e.node].with_route_socket(|s| s.link_is_up(e.index, &e.ifname))
        };
        Ok(up(&self.veth.a)? && up(&self.veth.b)?)
    }

    /// How many times the link was set down or up at run time: by
    /// [`Link::down`], [`Link::up`] (and the guards and heals that call
    /// them), and each transition of a [`Link::flap`], with the way back up
    /// when a flap stops while the link is down. A change to the state the
    /// link has already (an `up` of a link that is up) is no change.
    pub fn state_changes(&self) -> u64 {
        self.veth.state_changes.load(Ordering::Relaxed)
    }

    /// Sets the MTU of both ends.
    ///
    /// A lasting change, not a fault: no guard, not listed by
    /// [`Net::active_faults`], and [`Net::heal`] leaves the new MTU (set
    /// the old one back to undo it).
    ///
    /// On a wire, the hub's ends of its veths (which the relay's frames
    /// cross) take the new MTU as well, so that every frame a node's end
    /// may send fits the hub's ends all along: a hub end that is raised is
    /// raised before the nodes' ends, one that is lowered is lowered after
    /// them. When a node's end refuses the MTU, the hub's ends are put back
    /// (as far as the kernel lets) and the error returned; a node's end
    /// already changed keeps the new MTU, as on a veth link.
    pub fn set_mtu(&self, mtu: u32) -> Result<()> {
        let hub = match (self.veth.wire, self.net.relay.as_ref()) {
            (Some(wire), Some(relay)) => Some((wire, relay, relay.hub_mtus(wire)?)),
            _ => None,
        };
        // Raising: the hub's ends first.
        if let Some((wire, relay, old)) = hub {
            let raised = old.map(|o| o.max(mtu));
            if raised != old {
                if let Err(e) = relay.set_hub_mtus(wire, raised) {
                    let _ = relay.set_hub_mtus(wire, old);
                    return Err(e);
                }
            }
        }
        for e in [&self.veth.a, &self.veth.b] {
            let set =
                self.net.nodes()[e.node].with_route_socket(|s| s.set_mtu(e.index, &e.ifname, mtu));
            if let Err(err) = set {
                if let Some((wire, relay, old)) = hub {
                    let _ = relay.set_hub_mtus(wire, old);
                }
                return Err(err);
            }
        }
        // Lowering: the hub's ends last.
        match hub {
            Some((wire, relay, old)) if old.iter().any(|&o| o > mtu) => {
                relay.set_hub_mtus(wire, [mtu; 2])
            }
            _ => Ok(()),
        }
    }
}

/// The handle of veth `index` of `net`.
pub(super) fn link_of(net: &Net, index: usize) -> Link<'_> {
    Link {
        net,
        veth: &net.veths()[index],
        flipped: false,
    }
}

/// The evidence of a link fault: the state changes of veth `index` since
/// the fault began, when the link had made `before`.
fn evidence(index: usize, before: u64) -> crate::lab::faults::Evidence {
    Box::new(move |net: &Net, _| {
        let n = net.veths()[index].state_changes.load(Ordering::Relaxed);
        format!("{} state changes of the link", n.saturating_sub(before))
    })
}

/// A link taken down by [`Link::down`]; dropping it brings the link back.
#[derive(Debug)]
#[must_use = "the link comes back up when the guard drops"]
pub struct LinkDown<'a> {
    link: Link<'a>,
    id: u64,
}

impl LinkDown<'_> {
    /// Lets the link stay down after the guard is gone, until [`Link::up`]
    /// or [`Net::heal`]; the fault stays listed by [`Net::active_faults`].
    pub fn detach(self) {
        std::mem::forget(self);
    }

    /// Detaches the guard and returns the fault's id, to end this fault
    /// later with [`Net::end_fault`] (and no other fault the link may have
    /// by then, as [`Link::up`] would).
    pub fn into_id(self) -> FaultId {
        let id = FaultId(self.id);
        std::mem::forget(self);
        id
    }

    /// Brings the link back up now, reporting an error instead of ignoring
    /// it as `drop` does.
    pub fn restore(self) -> Result<()> {
        // Ended here; the drop that follows finds nothing left to undo.
        self.link.net.faults.end(self.link.net, self.id)
    }
}

impl Drop for LinkDown<'_> {
    fn drop(&mut self) {
        let _ = self.link.net.faults.end(self.link.net, self.id);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::Route;

    use crate::lab::test_pair as pair;

    fn has_route(net: &Net, node: &str, dst: &str) -> bool {
        let dst = Some(dst.parse().unwrap());
        net[node].routes().unwrap().iter().any(|r| r.dst == dst)
    }

    #[test]
    fn end_a_comes_back_up_with_its_routes_when_end_b_refuses_to_go_down() {
        let net = pair();
        net["n1"]
            .add_route(Route::to("203.0.113.0/24").via("198.51.100.2"))
            .unwrap();
        let real = &net.veths()[0];
        // End b names an interface that does not exist: it cannot go down.
        let b = VethEnd {
            node: real.b.node,
            ifname: "absent0".into(),
            index: 999_999,
        };
        let veth = Veth {
            a: real.a.clone(),
            b,
            wire: None,
            state_changes: Arc::default(),
            lost_routes: Arc::default(),
        };
        let link = Link {
            net: &net,
            veth: &veth,
            flipped: false,
        };
        let e = link.set(false).unwrap_err();
        assert!(matches!(e, Error::Netlink { .. }), "{e}");
        assert!(link_of(&net, 0).is_up().unwrap(), "end a left down");
        assert!(has_route(&net, "n1", "203.0.113.0/24"), "its route lost");
        assert_eq!(link.state_changes(), 0);
    }
}

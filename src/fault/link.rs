//! Links at run time: down and up (with a guard that brings the link back),
//! a flapping link, a new MTU.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::{link_state, panic_text, FaultError};
use crate::error::{Error, Result};
use crate::lab::faults::{Refused, Reservation, Undo};
use crate::lab::{Net, Veth, VethEnd};
use crate::sys::netlink::sync::RouteSocket;

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

    /// Sets both ends up or down now, counting the change; what going down
    /// deletes (see `link_state.rs`) is saved first and given back once
    /// both ends are up. When end b refuses to go down, end a is brought
    /// back up, with its routes, before the error is returned.
    fn set(&self, up: bool) -> Result<()> {
        let ends = [&self.veth.a, &self.veth.b];
        // Held over the whole change: no other change of this link
        // interleaves.
        let mut lost = self
            .veth
            .lost_routes
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if !up {
            for e in ends {
                link_state::keep_addresses(self.net, e)?;
                let node = &self.net.nodes()[e.node];
                node.with_route_socket(|s| link_state::save_routes(s, e, &mut lost))?;
            }
        }
        set_end(self.net, &self.veth.a, up)?;
        if let Err(e) = set_end(self.net, &self.veth.b, up) {
            if !up && set_end(self.net, &self.veth.a, true).is_ok() {
                for end in ends {
                    let node = &self.net.nodes()[end.node];
                    let _ =
                        node.with_route_socket(|s| link_state::add_back(s, end.node, &mut lost));
                }
            }
            return Err(e);
        }
        if up {
            let mut first = Ok(());
            for e in ends {
                let node = &self.net.nodes()[e.node];
                let r = node.with_route_socket(|s| link_state::add_back(s, e.node, &mut lost));
                if first.is_ok() {
                    first = r;
                }
            }
            first?;
        }
        self.veth.state_changes.fetch_add(1, Ordering::Relaxed);
        Ok(())
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
    /// that the test added meanwhile is left as it is.
    pub fn down(&self) -> Result<LinkDown<'a>> {
        let reserved = self.reserve(format!("link {} down", self.name()))?;
        if let Err(e) = self.set(false) {
            self.net.faults.cancel(reserved);
            return Err(e);
        }
        let index = self.index();
        let id = self.net.faults.commit(
            self.net,
            reserved,
            evidence(index),
            Box::new(move |net: &Net| link_of(net, index).set(true)),
        )?;
        Ok(LinkDown { link: *self, id })
    }

    /// Reserves the link for a fault, before anything changes: refused
    /// while the link has a fault, or once the network is torn down.
    fn reserve(&self, description: String) -> Result<Reservation> {
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
    /// [`LinkDown`] of the link is over then, and a flap of it stops.
    pub fn up(&self) -> Result<()> {
        let ended = self.net.faults.end_keyed(self.net, &self.key());
        self.set(true).and(ended)
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

    /// How many times the link was set down or up at run time.
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

    /// Flaps the link in the background: down for `down_for`, up for
    /// `up_for`, again and again, until the returned guard is dropped (or
    /// [`Net::heal`], [`Link::up`], the lab's teardown); the link is left
    /// up then. A duration too long to add to the current time lasts until
    /// the flapping stops.
    ///
    /// Refused as [`Link::down`] is: [`FaultError::LinkBusy`] while the
    /// link is down or flapping already, [`FaultError::TornDown`] once the
    /// network is torn down; nothing is changed then.
    pub fn flap(&self, down_for: Duration, up_for: Duration) -> Result<Flap<'a>> {
        let reserved = self.reserve(format!(
            "link {} flapping (down {down_for:?}, up {up_for:?})",
            self.name()
        ))?;
        match self.start_flap(down_for, up_for) {
            Ok((undo, flips, errors)) => {
                let ev_flips = flips.clone();
                let id = self.net.faults.commit(
                    self.net,
                    reserved,
                    Box::new(move |_, _| {
                        format!("{} state changes", ev_flips.load(Ordering::Relaxed))
                    }),
                    undo,
                )?;
                Ok(Flap {
                    link: *self,
                    id,
                    flips,
                    errors,
                })
            }
            Err(e) => {
                self.net.faults.cancel(reserved);
                Err(e)
            }
        }
    }

    /// Starts the flap's thread; how to stop it, its transitions so far,
    /// and the error that stopped it.
    fn start_flap(&self, down_for: Duration, up_for: Duration) -> Result<FlapParts> {
        // Sockets of their own, opened in the two nodes: the thread owns them.
        let open = |e: &VethEnd| {
            let node = &self.net.nodes()[e.node];
            let name = node.name().to_string();
            node.run(move || RouteSocket::open_here(&name))?
        };
        let mut sa = open(&self.veth.a)?;
        let mut sb = open(&self.veth.b)?;
        link_state::keep_addresses(self.net, &self.veth.a)?;
        link_state::keep_addresses(self.net, &self.veth.b)?;
        let (a, b) = (self.veth.a.clone(), self.veth.b.clone());
        let stop = Arc::new(AtomicBool::new(false));
        let flips = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(Mutex::new(None::<String>));
        let (t_stop, t_flips, t_errors) = (stop.clone(), flips.clone(), errors.clone());
        let t_lost = self.veth.lost_routes.clone();
        let thread = thread::Builder::new()
            .name(format!("netns-flap-{}", self.name()))
            .spawn(move || {
                let mut up = true;
                // As `Link::set` does, under the same lock.
                let mut set = |up: bool| -> Result<()> {
                    let mut lost = t_lost.lock().unwrap_or_else(|p| p.into_inner());
                    if !up {
                        link_state::save_routes(&mut sa, &a, &mut lost)?;
                        link_state::save_routes(&mut sb, &b, &mut lost)?;
                    }
                    sa.set_link_up(a.index, &a.ifname, up)?;
                    sb.set_link_up(b.index, &b.ifname, up)?;
                    if up {
                        let first = link_state::add_back(&mut sa, a.node, &mut lost);
                        let second = link_state::add_back(&mut sb, b.node, &mut lost);
                        first.and(second)?;
                    }
                    Ok(())
                };
                while !t_stop.load(Ordering::Acquire) {
                    up = !up;
                    if let Err(e) = set(up) {
                        *t_errors.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                        break;
                    }
                    t_flips.fetch_add(1, Ordering::Relaxed);
                    // `None`: too far to tell, until the flapping stops.
                    let until = Instant::now().checked_add(if up { up_for } else { down_for });
                    while !t_stop.load(Ordering::Acquire)
                        && until.is_none_or(|u| Instant::now() < u)
                    {
                        let left = until.map_or(Duration::MAX, |u| {
                            u.saturating_duration_since(Instant::now())
                        });
                        thread::sleep(left.min(Duration::from_millis(5)));
                    }
                }
                // Leave the link up, with its routes back.
                if let Err(e) = set(true) {
                    let mut slot = t_errors.lock().unwrap_or_else(|p| p.into_inner());
                    slot.get_or_insert(e.to_string());
                }
            })
            .map_err(|source| Error::Spawn {
                op: format!("spawn the flap thread of link {}", self.name()),
                source,
            })?;
        let (u_errors, index) = (errors.clone(), self.index());
        let undo: Undo = Box::new(move |net: &Net| {
            stop.store(true, Ordering::Release);
            end_flap(net, index, thread.join(), &u_errors)
        });
        Ok((undo, flips, errors))
    }
}

/// What [`Link::start_flap`] gives: how to stop the flap, its transitions
/// so far, the error that stopped it.
type FlapParts = (Undo, Arc<AtomicU64>, Arc<Mutex<Option<String>>>);

/// The handle of veth `index` of `net`.
fn link_of(net: &Net, index: usize) -> Link<'_> {
    Link {
        net,
        veth: &net.veths()[index],
        flipped: false,
    }
}

/// After the flap thread of veth `index` ended (`joined`): a thread that
/// panicked may have left the link down, so it is brought up and the panic
/// returned; else the error that stopped the flapping, or that it met as
/// it left the link up.
fn end_flap(
    net: &Net,
    index: usize,
    joined: thread::Result<()>,
    errors: &Mutex<Option<String>>,
) -> Result<()> {
    let link = link_of(net, index);
    if let Err(payload) = joined {
        let _ = link.set(true);
        return Err(FaultError::FlapPanicked {
            link: link.name(),
            message: panic_text(payload.as_ref()),
        }
        .into());
    }
    match errors.lock().unwrap_or_else(|p| p.into_inner()).take() {
        Some(e) => Err(Error::Netlink {
            node: net.nodes()[link.veth.a.node].name().to_string(),
            op: format!("flap link {}", link.name()),
            source: std::io::Error::other(e),
        }),
        None => Ok(()),
    }
}

/// The evidence of a link fault: the state changes of veth `index` so far.
fn evidence(index: usize) -> crate::lab::faults::Evidence {
    Box::new(move |net: &Net, _| {
        let n = net.veths()[index].state_changes.load(Ordering::Relaxed);
        format!("{n} state changes of the link")
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

/// A link flapping in the background, made by [`Link::flap`]; dropping it
/// stops the flapping and leaves the link up.
#[derive(Debug)]
#[must_use = "the flapping stops when the guard drops"]
pub struct Flap<'a> {
    link: Link<'a>,
    id: u64,
    flips: Arc<AtomicU64>,
    errors: Arc<Mutex<Option<String>>>,
}

impl Flap<'_> {
    /// How many times the flap set the link down or up so far.
    pub fn transitions(&self) -> u64 {
        self.flips.load(Ordering::Relaxed)
    }

    /// The error that stopped the flapping early, if one did.
    pub fn error(&self) -> Option<String> {
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Stops flapping now and leaves the link up.
    pub fn stop(self) -> Result<()> {
        // Ended here; the drop that follows finds nothing left to undo.
        self.link.net.faults.end(self.link.net, self.id)
    }
}

impl Drop for Flap<'_> {
    fn drop(&mut self) {
        let _ = self.link.net.faults.end(self.link.net, self.id);
    }
}

#[cfg(test)]
mod tests {
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
            state_changes: AtomicU64::new(0),
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

    #[test]
    fn a_flap_thread_that_panicked_is_an_error_and_the_link_comes_up() {
        let net = pair();
        link_of(&net, 0).set(false).unwrap();
        let joined = thread::spawn(|| panic!("the flap thread fails")).join();
        let e = end_flap(&net, 0, joined, &Mutex::new(None)).unwrap_err();
        let expected = FaultError::FlapPanicked {
            link: "n1/eth0 -- n2/eth0".into(),
            message: "the flap thread fails".into(),
        };
        assert_eq!(FaultError::find(&e), Some(&expected), "{e}");
        assert!(link_of(&net, 0).is_up().unwrap());
    }
}

//! The open-file limit: a lab holds one fd per node, and two while it is
//! being built (the namespace and its netlink socket); a lab with wires
//! also holds two relay ports per wire, the wire hub and the relay's own.
//!
//! Builds on several threads at once (libtest runs tests in threads) each
//! count the fds open now, which do not yet include those the others are
//! about to open: a build therefore sets its estimate aside in
//! [`IN_FLIGHT`] when its check passes, and takes it back when it ends (its
//! [`Reservation`] drops). The fds a build has opened meanwhile are counted
//! twice, so the check errs on the side of refusing.

use std::sync::atomic::{AtomicU64, Ordering};

use nix::sys::resource::{getrlimit, setrlimit, Resource};

/// Fds the build itself needs besides those of the nodes: its runtime
/// (epoll, eventfd, the signal pipe), `/proc` files it opens for a moment,
/// and room for the test's own.
const HEADROOM: u64 = 8;

/// Fds each thread making namespaces holds for a moment: its procfs
/// instance, the instance's filesystem context while it is made, a
/// `/proc/sys` directory and file, a switch's netfilter socket.
const PER_BUILD_THREAD: u64 = 4;

/// Fds a lab with wires holds once, besides the ports: the hub namespace
/// and its netlink socket, the socket that turns a node end's offloads off
/// for a moment, the relay's epoll set, timerfd and waker, and the hub
/// socket the relay opens on first use.
const PER_HUB: u64 = 7;

/// Fds each wire holds: the relay's two packet sockets in the hub.
const PER_WIRE: u64 = 2;

/// Fds that builds under way still expect to open, by the estimates of
/// their checks.
static IN_FLIGHT: AtomicU64 = AtomicU64::new(0);

/// What a build is about to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Demand {
    /// Nodes (namespaces).
    pub(crate) nodes: usize,
    /// Wires (links through the relay).
    pub(crate) wires: usize,
    /// Threads that make the namespaces.
    pub(crate) threads: usize,
}

impl Demand {
    /// Fds the build needs besides those of its nodes.
    fn fixed(&self) -> u64 {
        HEADROOM + PER_BUILD_THREAD * self.threads as u64
    }

    /// Fds of the wires and their hub.
    fn of_wires(&self) -> u64 {
        if self.wires == 0 {
            0
        } else {
            PER_HUB + PER_WIRE * self.wires as u64
        }
    }

    /// Fds the build needs at its peak, besides those open before it.
    fn total(&self) -> u64 {
        self.fixed() + 2 * self.nodes as u64 + self.of_wires()
    }
}

/// What would be the first thing past the limit: nodes are made first,
/// then the wires in plan order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FirstOver {
    /// The node at this index.
    Node(usize),
    /// The wire at this index (among the wires).
    Wire(usize),
}

/// Why a lab of some size cannot be built under the open-file limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shortage {
    /// Fds open now, with those other builds under way set aside.
    pub(crate) open: u64,
    /// Fds the build needs at its peak.
    pub(crate) needed: u64,
    /// The soft limit (after raising it as far as allowed).
    pub(crate) soft: u64,
    /// The hard limit.
    pub(crate) hard: u64,
    /// The first node or wire that would not fit.
    pub(crate) first_over: FirstOver,
}

/// Fds open in this process now.
fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64)
}

/// Room set aside under the open-file limit for a build under way, given
/// back when it drops (when the build has ended, either way).
#[derive(Debug)]
#[must_use = "the room is given back when the reservation drops"]
pub(crate) struct Reservation {
    fds: u64,
    /// Fds open at the check, with those other builds had set aside.
    open: u64,
}

impl Reservation {
    /// The shortage of a build that ran out of fds all the same (other fds
    /// than those of builds, a test's own opened by another thread, took
    /// the room it counted on), by the limits now; its first node past the
    /// limit is unknown (past the last one).
    pub(crate) fn ran_out(&self, demand: Demand) -> Shortage {
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap_or((0, 0));
        Shortage {
            open: self.open,
            needed: self.open + self.fds,
            soft,
            hard,
            first_over: FirstOver::Node(demand.nodes),
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(self.fds, Ordering::AcqRel);
    }
}

/// Makes sure a build of `demand` fits under the open-file limit, with the
/// room other builds under way have set aside, and sets its own room aside
/// until the [`Reservation`] drops. If the soft limit is too low it is
/// raised to the hard one; the shortage if even that is not enough.
pub(crate) fn ensure_room_for(demand: Demand) -> Result<Reservation, Shortage> {
    let own = demand.total();
    let Ok((mut soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        IN_FLIGHT.fetch_add(own, Ordering::AcqRel);
        return Ok(Reservation { fds: own, open: 0 });
    };
    loop {
        let others = IN_FLIGHT.load(Ordering::Acquire);
        let open = open_fds() + others;
        let needed = open + own;
        if needed > soft {
            soft = raise(soft, hard, needed);
        }
        if needed > soft {
            return Err(Shortage {
                open,
                needed,
                soft,
                hard,
                first_over: first_over(demand, soft.saturating_sub(open)),
            });
        }
        // Another build that set room aside since the load above makes
        // this one count again.
        if IN_FLIGHT
            .compare_exchange(others, others + own, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return Ok(Reservation { fds: own, open });
        }
    }
}

/// The soft limit the process had before a build first raised it; 0 while
/// it was never raised. Programs started in nodes get it back (as Go's
/// `os/exec` does): a program may size tables by it, or `select()`.
static ORIGINAL_SOFT: AtomicU64 = AtomicU64::new(0);

/// The soft limit the process started with, if a build has raised it.
pub(crate) fn original_soft() -> Option<u64> {
    Some(ORIGINAL_SOFT.load(Ordering::Acquire)).filter(|s| *s != 0)
}

/// Raises the soft limit `soft` to the hard one (or, where that is refused,
/// to `needed` if the hard one allows it); the soft limit afterwards.
fn raise(soft: u64, hard: u64, needed: u64) -> u64 {
    let _ = ORIGINAL_SOFT.compare_exchange(0, soft, Ordering::AcqRel, Ordering::Acquire);
    if setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
        return hard;
    }
    let raised = needed.min(hard);
    if raised > soft && setrlimit(Resource::RLIMIT_NOFILE, raised, hard).is_ok() {
        return raised;
    }
    soft
}

/// Whether `e`, or an error it was caused by, is `EMFILE`: the process
/// reached its open-file limit.
pub(crate) fn is_emfile(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::raw_os_error)
            == Some(libc::EMFILE)
        {
            return true;
        }
        cause = c.source();
    }
    false
}

/// The first node or wire of `demand` past `room` free fds.
fn first_over(demand: Demand, room: u64) -> FirstOver {
    let for_nodes = room.saturating_sub(demand.fixed()) / 2;
    if for_nodes < demand.nodes as u64 {
        return FirstOver::Node(for_nodes as usize);
    }
    let left = room.saturating_sub(demand.fixed() + 2 * demand.nodes as u64 + PER_HUB);
    FirstOver::Wire(((left / PER_WIRE) as usize).min(demand.wires.saturating_sub(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emfile_is_found_through_the_sources() {
        let e = crate::Error::Netlink {
            node: "n1".into(),
            op: "open a NETLINK_ROUTE socket".into(),
            source: std::io::Error::from_raw_os_error(libc::EMFILE),
        };
        assert!(is_emfile(&e));
        let e = crate::Error::Netlink {
            node: "n1".into(),
            op: "open a NETLINK_ROUTE socket".into(),
            source: std::io::Error::from_raw_os_error(libc::ENOMEM),
        };
        assert!(!is_emfile(&e));
    }

    #[test]
    fn wires_and_their_hub_count() {
        let plain = Demand {
            nodes: 20,
            wires: 0,
            threads: 1,
        };
        let wired = Demand { wires: 10, ..plain };
        assert_eq!(wired.total(), plain.total() + PER_HUB + 20);
    }

    #[test]
    fn the_first_thing_over_is_a_node_then_a_wire() {
        let d = Demand {
            nodes: 4,
            wires: 2,
            threads: 1,
        };
        assert_eq!(first_over(d, d.fixed() + 3), FirstOver::Node(1));
        let nodes_fit = d.fixed() + 8 + PER_HUB;
        assert_eq!(first_over(d, nodes_fit), FirstOver::Wire(0));
        assert_eq!(first_over(d, nodes_fit + 3), FirstOver::Wire(1));
    }
}

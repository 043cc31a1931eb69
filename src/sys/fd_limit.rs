//! The open-file limit: a lab holds one fd per node, and two while it is
//! being built (the namespace and its netlink socket); a lab with wires
//! also holds two relay ports per wire, the wire hub and the relay's own.

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
    /// Fds open now.
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

/// Makes sure a build of `demand` fits under the open-file limit, raising
/// the soft limit (never above the hard one) if it must; the shortage
/// otherwise.
pub(crate) fn ensure_room_for(demand: Demand) -> Result<(), Shortage> {
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return Ok(());
    };
    let open = open_fds();
    let needed = open + demand.total();
    if needed <= soft {
        return Ok(());
    }
    let raised = needed.min(hard);
    let soft = if raised > soft && setrlimit(Resource::RLIMIT_NOFILE, raised, hard).is_ok() {
        raised
    } else {
        soft
    };
    if needed <= soft {
        return Ok(());
    }
    Err(Shortage {
        open,
        needed,
        soft,
        hard,
        first_over: first_over(demand, soft.saturating_sub(open)),
    })
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

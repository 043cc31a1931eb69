//! The open-file limit: a lab holds one fd per node, and two while it is
//! being built (the namespace and its netlink socket).

use nix::sys::resource::{getrlimit, setrlimit, Resource};

/// Fds the build itself needs besides those of the nodes: its runtime
/// (epoll, eventfd, the signal pipe), `/proc` files it opens for a moment,
/// and room for the test's own.
const HEADROOM: u64 = 8;

/// Fds each thread making namespaces holds for a moment: its procfs
/// instance, the instance's filesystem context while it is made, a
/// `/proc/sys` directory and file, a switch's netfilter socket.
const PER_BUILD_THREAD: u64 = 4;

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
    /// The index of the first node that would not fit.
    pub(crate) first_node_over: usize,
}

/// Fds open in this process now.
fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64)
}

/// Makes sure a build of `nodes` nodes on up to `threads` threads fits
/// under the open-file limit, raising the soft limit (never above the hard
/// one) if it must; the shortage otherwise.
pub(crate) fn ensure_room_for(nodes: usize, threads: usize) -> Result<(), Shortage> {
    let headroom = HEADROOM + PER_BUILD_THREAD * threads as u64;
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return Ok(());
    };
    let open = open_fds();
    let needed = open + 2 * nodes as u64 + headroom;
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
        first_node_over: (soft.saturating_sub(open + headroom) / 2) as usize,
    })
}

//! The raw floor scaled up: `n` namespaces joined by veth pairs as a
//! binary tree (node `i`'s parent is `(i - 1) / 2`) or a torus, as bare
//! syscalls and hand-encoded rtnetlink messages, for the scale phase's
//! per-node rows.
//!
//! On a fresh thread and one more: each makes half the nodes, for each
//! `unshare(CLONE_NEWNET)`, its namespace fd and `NETLINK_ROUTE` socket,
//! `lo` up. Always two threads, at every size; the library uses one per
//! core (two on the 2-core machines measured) from 64 nodes up.
//! Then for each link, on the first thread, the veth created in one node
//! with its peer placed in the other by namespace fd (one queue each way),
//! one `/127` of 2001:db8:1::/64 on each end (`IFA_F_NODAD`), both ends up
//! and one `RTM_GETLINK` each, as in the two-host floor. No sysctls, no
//! routes. Teardown is closing every fd. Every request is one `send` and
//! one `recv`.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::floor::{
    attr, check_not_host, finish, get_link, header, netlink_socket, new_veth_ends, on_fresh_thread,
    request_ack, request_reply, set_up, unshare_net, ACK_CREATE, LO_INDEX, NLMSG_HDR_LEN, RECV_BUF,
};

/// `IFA_F_NODAD` from `<linux/if_addr.h>`.
const IFA_F_NODAD: u8 = 0x02;

/// Build and teardown of one scaled floor lab.
pub(crate) struct FloorScale {
    pub(crate) build: Duration,
    pub(crate) teardown: Duration,
}

/// RTM_NEWADDR: `addr`/127 on `index`, without DAD.
fn new_addr6(seq: u32, index: i32, addr: [u8; 16]) -> Vec<u8> {
    let mut m = header(libc::RTM_NEWADDR, ACK_CREATE, seq);
    // struct ifaddrmsg { family, prefixlen, flags, scope, index }.
    m.push(libc::AF_INET6 as u8);
    m.push(127);
    m.push(IFA_F_NODAD);
    m.push(libc::RT_SCOPE_UNIVERSE);
    m.extend_from_slice(&(index as u32).to_ne_bytes());
    debug_assert_eq!(m.len(), NLMSG_HDR_LEN + 8);
    attr(&mut m, libc::IFA_LOCAL, &addr);
    attr(&mut m, libc::IFA_ADDRESS, &addr);
    finish(m)
}

/// 2001:db8:1::/64 + `i`.
fn link_addr(i: u32) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[..6].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01]);
    a[12..].copy_from_slice(&i.to_be_bytes());
    a
}

/// Raises the soft open-file limit to the hard one: the lab holds two fds
/// per node.
fn raise_fd_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid out-pointer for getrlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 && lim.rlim_cur < lim.rlim_max
    {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: `lim` is a valid rlimit; raising the soft limit up to the
        // hard one needs no privilege.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    }
}

/// A binary tree of `n` nodes: node `i`'s parent is `(i - 1) / 2`.
pub(crate) fn tree_edges(n: usize) -> Vec<(usize, usize)> {
    (1..n).map(|child| ((child - 1) / 2, child)).collect()
}

/// A `side` x `side` torus: each node linked to its right and lower
/// neighbours, wrapping around.
pub(crate) fn torus_edges(side: usize) -> Vec<(usize, usize)> {
    let at = |r: usize, c: usize| (r % side) * side + c % side;
    (0..side * side)
        .flat_map(|i| {
            let (r, c) = (i / side, i % side);
            [(i, at(r, c + 1)), (i, at(r + 1, c))]
        })
        .collect()
}

/// One floor lab of `n` nodes linked by `edges`, on a thread of its own.
pub(crate) fn lab(
    host_ino: u64,
    n: usize,
    edges: Vec<(usize, usize)>,
) -> Result<FloorScale, String> {
    raise_fd_limit();
    on_fresh_thread("raw-floor-scale", move || {
        lab_on_this_thread(host_ino, n, &edges)
    })
}

/// Node `i`'s namespace fd and netlink socket, with `lo` up.
fn make_node(host_ino: u64, i: usize, buf: &mut [u8]) -> Result<(OwnedFd, OwnedFd), String> {
    let ns = unshare_net().map_err(|e| format!("unshare {i}: {e}"))?;
    check_not_host(&ns, host_ino)?;
    let nl = netlink_socket().map_err(|e| format!("netlink {i}: {e}"))?;
    request_ack(&nl, &set_up(1, LO_INDEX), 1, buf).map_err(|e| format!("lo up in {i}: {e}"))?;
    Ok((ns, nl))
}

/// Nodes `range`, one after the other on the calling thread.
fn make_nodes(
    host_ino: u64,
    range: std::ops::Range<usize>,
) -> Result<Vec<(OwnedFd, OwnedFd)>, String> {
    let mut buf = vec![0u8; RECV_BUF];
    range.map(|i| make_node(host_ino, i, &mut buf)).collect()
}

fn lab_on_this_thread(
    host_ino: u64,
    n: usize,
    edges: &[(usize, usize)],
) -> Result<FloorScale, String> {
    let mut buf = vec![0u8; RECV_BUF];
    // Sequence numbers after lo up's (1).
    let mut seq = 1u32;
    let mut next = || {
        seq += 1;
        seq
    };
    let start = Instant::now();
    // The namespaces on two threads, each making half.
    let half = n / 2;
    let mut nodes = std::thread::scope(|s| {
        let second = s.spawn(|| make_nodes(host_ino, half..n));
        let mut first = make_nodes(host_ino, 0..half)?;
        first.extend(
            second
                .join()
                .map_err(|_| "floor thread panicked".to_string())??,
        );
        Ok::<_, String>(first)
    })?;
    nodes.shrink_to_fit();
    // Next free ifindex of every node (1 is lo).
    let mut index = vec![2i32; n];
    for (link, &(a, b)) in edges.iter().enumerate() {
        let (ia, ib) = (index[a], index[b]);
        index[a] += 1;
        index[b] += 1;
        let (nl_a, nl_b) = (&nodes[a].1, &nodes[b].1);
        let name = format!("e{ia}\0");
        let peer = format!("e{ib}\0");
        let s = next();
        let ends = [(name.as_bytes(), ia), (peer.as_bytes(), ib)];
        let msg = new_veth_ends(s, nodes[b].0.as_raw_fd(), ends);
        request_ack(nl_a, &msg, s, &mut buf).map_err(|e| format!("veth {link}: {e}"))?;
        let base = 2 * link as u32;
        for (nl, idx, addr) in [(nl_a, ia, base), (nl_b, ib, base + 1)] {
            let s = next();
            request_ack(nl, &new_addr6(s, idx, link_addr(addr)), s, &mut buf)
                .map_err(|e| format!("addr on link {link}: {e}"))?;
        }
        for (nl, idx) in [(nl_a, ia), (nl_b, ib)] {
            let s = next();
            request_ack(nl, &set_up(s, idx), s, &mut buf)
                .map_err(|e| format!("up on link {link}: {e}"))?;
        }
        for (nl, idx) in [(nl_a, ia), (nl_b, ib)] {
            let s = next();
            request_reply(nl, &get_link(s, idx), s, &mut buf)
                .map_err(|e| format!("getlink on link {link}: {e}"))?;
        }
    }
    let build = start.elapsed();
    let t = Instant::now();
    drop(nodes);
    Ok(FloorScale {
        build,
        teardown: t.elapsed(),
    })
}

//! NAT and firewalls on real labs: source NAT, port forwarding, the RFC
//! 4787 presets (UDP hole punching, hairpinning), stateful filters seen by
//! the probes, conntrack flushes, changes on live routers, and `nft` as an
//! oracle of what the library installs and lists.

#[path = "../common/mod.rs"]
mod common;

mod concurrent;
mod filters;
mod guards;
mod holepunch;
mod live;
mod mappings;
mod masquerade;
mod oracle;
mod shadowed;

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use netns_test::firewall::Nat;
use netns_test::{Net, Route, Topology};

/// How long a datagram that should come may take (the first waits for ARP).
pub(crate) const ARRIVES: Duration = Duration::from_secs(2);
/// How long to wait for a datagram that should not come.
pub(crate) const SILENT: Duration = Duration::from_millis(300);

/// h1 (198.51.100.1/26) -- r1 -- srv (203.0.113.10/24). srv has no route
/// to h1's network: h1 reaches it only translated. r1's outside address
/// is 203.0.113.1.
pub(crate) fn home(nat: Option<Nat>) -> Topology {
    let t = Topology::new()
        .link(
            ("h1", "eth0", "198.51.100.1/26"),
            ("r1", "eth0", "198.51.100.62/26"),
        )
        .link(
            ("r1", "eth1", "203.0.113.1/24"),
            ("srv", "eth0", "203.0.113.10/24"),
        )
        .forwarding("r1")
        .route("h1", Route::default_via("198.51.100.62"));
    match nat {
        Some(n) => t.nat("r1", n),
        None => t,
    }
}

/// Two sites behind NATs and a rendezvous server on one outside segment:
///
/// ```text
/// a 198.51.100.1/26  -- na 198.51.100.62 | 203.0.113.1 --+
/// b 198.51.100.65/26 -- nb 198.51.100.126 | 203.0.113.2 -+-- sw -- s 203.0.113.10
/// ```
pub(crate) fn two_sites(na: Nat, nb: Nat) -> Net {
    Net::build(
        &Topology::new()
            .link(
                ("a", "eth0", "198.51.100.1/26"),
                ("na", "eth0", "198.51.100.62/26"),
            )
            .link(
                ("b", "eth0", "198.51.100.65/26"),
                ("nb", "eth0", "198.51.100.126/26"),
            )
            .bridge(
                "sw",
                [
                    ("na", "eth1", "203.0.113.1/24"),
                    ("nb", "eth1", "203.0.113.2/24"),
                    ("s", "eth0", "203.0.113.10/24"),
                ],
            )
            .forwarding("na")
            .forwarding("nb")
            .route("a", Route::default_via("198.51.100.62"))
            .route("b", Route::default_via("198.51.100.126"))
            .nat("na", na)
            .nat("nb", nb),
    )
    .expect("build the lab (run as root or with user namespaces)")
}

/// A UDP socket bound in `node` to `addr`, reads waiting at most `wait`.
pub(crate) fn udp(net: &Net, node: &str, addr: &str) -> UdpSocket {
    let s = net[node]
        .with(|| UdpSocket::bind(addr))
        .unwrap()
        .unwrap_or_else(|e| panic!("bind {addr} in {node}: {e}"));
    s.set_read_timeout(Some(ARRIVES)).unwrap();
    s
}

/// The next datagram on `s` within `wait`: (payload, source), or `None`.
/// An ICMP error queued on the socket (a refusal) counts as nothing.
pub(crate) fn recv_within(s: &UdpSocket, wait: Duration) -> Option<(Vec<u8>, SocketAddr)> {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 1500];
    let deadline = std::time::Instant::now() + wait;
    loop {
        match s.recv_from(&mut buf) {
            Ok((n, from)) => return Some((buf[..n].to_vec(), from)),
            // A refusal queued on the socket, or a wait cut short (EINTR:
            // a socket timeout makes recv fail so, even for a signal with
            // SA_RESTART or a stop and continue): wait on until the deadline.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionRefused | io::ErrorKind::Interrupted
                ) =>
            {
                if std::time::Instant::now() >= deadline {
                    return None;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return None
            }
            Err(e) => panic!("recv: {e}"),
        }
    }
}

//! The library's rows: topologies and one build (+ ping) + teardown cycle.
//!
//! Addresses come from 198.51.100.0/24 and 203.0.113.0/24 only.

use std::time::Duration;

use netns_test::{Net, Route, Topology};

/// How long the one echo of a cycle may take (the floor uses the same).
pub(crate) const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Most parallel links / line nodes a row may ask for (addresses: /30s in
/// 198.51.100.0/24, so up to 63).
pub(crate) const MAX_LINKS: usize = 63;

/// Two hosts on one veth pair: `a` 198.51.100.1/24, `b` 198.51.100.2/24.
pub(crate) fn two_hosts() -> Topology {
    Topology::new().link(
        ("a", "veth0", "198.51.100.1/24"),
        ("b", "veth0", "198.51.100.2/24"),
    )
}

/// h1 -- r1 -- h2: two subnets, forwarding on r1, default routes on the hosts.
pub(crate) fn router_chain() -> Topology {
    Topology::new()
        .link(
            ("h1", "eth0", "198.51.100.1/24"),
            ("r1", "eth0", "198.51.100.254/24"),
        )
        .link(
            ("r1", "eth1", "203.0.113.254/24"),
            ("h2", "eth0", "203.0.113.1/24"),
        )
        .forwarding("r1")
        .route("h1", Route::default_via("198.51.100.254"))
        .route("h2", Route::default_via("203.0.113.254"))
}

/// `n` hosts `h1..hn` (198.51.100.1..n/24) on one bridge in node `sw`.
pub(crate) fn bridge(n: usize) -> Topology {
    assert!((1..=250).contains(&n));
    let members: Vec<(String, &str, String)> = (1..=n)
        .map(|i| (format!("h{i}"), "eth0", format!("198.51.100.{i}/24")))
        .collect();
    Topology::new().bridge(
        "sw",
        members
            .iter()
            .map(|(node, ifname, cidr)| (node.as_str(), *ifname, cidr.as_str())),
    )
}

/// The /30 of link `i` (0-based): .4i+1 on one end, .4i+2 on the other.
fn link_addrs(i: usize) -> (String, String) {
    assert!(i < MAX_LINKS);
    (
        format!("198.51.100.{}/30", 4 * i + 1),
        format!("198.51.100.{}/30", 4 * i + 2),
    )
}

/// Two nodes `a` and `b` joined by `k` parallel veth pairs `e0..e{k-1}`,
/// each its own /30. Only the number of links changes with `k`.
pub(crate) fn parallel_links(k: usize) -> Topology {
    (0..k).fold(Topology::new(), |t, i| {
        let (x, y) = link_addrs(i);
        let ifname = format!("e{i}");
        t.link(
            ("a", ifname.as_str(), x.as_str()),
            ("b", ifname.as_str(), y.as_str()),
        )
    })
}

/// `n` nodes `n0..n{n-1}` in a line, each linked to the next (its own /30,
/// no routes): every extra node brings one namespace and one link.
pub(crate) fn line(n: usize) -> Topology {
    assert!(n >= 2);
    (0..n - 1).fold(Topology::new(), |t, i| {
        let (x, y) = link_addrs(i);
        t.link(
            (format!("n{i}"), format!("to{}", i + 1), x.as_str()),
            (format!("n{}", i + 1), format!("to{i}"), y.as_str()),
        )
    })
}

/// Builds `topo`, optionally sends one echo `from` a node `to` an address,
/// tears down. Returns the first echo's round trip (`None`: no echo sent,
/// or no reply within [`PING_TIMEOUT`]).
pub(crate) fn cycle(
    topo: &Topology,
    ping: Option<(&str, &str)>,
) -> Result<Option<Duration>, String> {
    let net = Net::build(topo).map_err(|e| e.to_string())?;
    let rtt = match ping {
        Some((from, to)) => {
            let report = net
                .node(from)
                .map_err(|e| e.to_string())?
                .ping(to)
                .timeout(PING_TIMEOUT)
                .run()
                .map_err(|e| e.to_string())?;
            report.replies.first().map(|r| r.rtt)
        }
        None => None,
    };
    drop(net); // teardown is part of the cycle
    Ok(rtt)
}

/// Builds `topo` and checks that `from` reaches `to` with one echo.
pub(crate) fn verify(topo: &Topology, from: &str, to: &str) -> Result<(), String> {
    match cycle(topo, Some((from, to)))? {
        Some(_) => Ok(()),
        None => Err(format!("no echo reply from {to} to node `{from}`")),
    }
}

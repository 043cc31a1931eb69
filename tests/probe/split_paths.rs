//! `assert_path!` on a hop answered by two routers: traffic split between
//! the expected router and another is not the expected path.

use netns_test::assert::{self, Source};
use netns_test::{assert_path, Net, Route, Topology};

use crate::common::{nft_installed, run_in};

/// Runs `program args` inside `node`; it must succeed.
fn run(net: &Net, node: &str, program: &str, args: &[&str]) {
    run_in(&net[node], program, args);
}

/// h1 on a LAN with r1 and r2, both on a second LAN with h2. h1's packets
/// to h2 alternate between r1 and r2, packet by packet: nftables marks every
/// second one (`numgen inc mod 2`, a counter, so the split is the same on
/// every run) and a policy rule sends marked packets through r2. Its
/// traceroute sees r1 and r2 answer at hop 1.
fn split_lab() -> Net {
    let net = Net::build(
        &Topology::new()
            .bridge(
                "lan",
                [
                    ("h1", "eth0", "198.51.100.1/24"),
                    ("r1", "eth0", "198.51.100.254/24"),
                    ("r2", "eth0", "198.51.100.253/24"),
                ],
            )
            .bridge(
                "wan",
                [
                    ("r1", "eth1", "203.0.113.254/24"),
                    ("r2", "eth1", "203.0.113.253/24"),
                    ("h2", "eth0", "203.0.113.1/24"),
                ],
            )
            .forwarding("r1")
            .forwarding("r2")
            .route("h1", Route::default_via("198.51.100.254"))
            .route("h2", Route::default_via("203.0.113.254")),
    )
    .expect("build the lab (run as root)");
    run(
        &net,
        "h1",
        "ip",
        &[
            "route",
            "add",
            "default",
            "via",
            "198.51.100.253",
            "table",
            "100",
        ],
    );
    run(
        &net,
        "h1",
        "ip",
        &["rule", "add", "fwmark", "1", "lookup", "100"],
    );
    run(&net, "h1", "nft", &[SPLIT]);
    net
}

/// h1's table that marks every second packet to h2, its counter at 0.
const SPLIT: &str = "add table ip split; \
     add chain ip split out { type route hook output priority 0; }; \
     add rule ip split out ip daddr 203.0.113.1 meta mark set numgen inc mod 2";

#[test]
fn a_hop_split_between_two_routers_is_not_either_of_them() {
    // The library runs neither; `ip` and `nft` build the split (CI installs
    // both).
    if !nft_installed() {
        println!("skipped: the `nft` binary is not installed (CI installs it)");
        return;
    }
    let net = split_lab();
    let src = Source::with_net(&net, &net["h1"]);

    // Both routers really answer hop 1.
    let t = net["h1"].traceroute("203.0.113.1").run().unwrap();
    assert!(t.reached(), "{t}");
    let mut first: Vec<_> = t.hops[0]
        .probes
        .iter()
        .filter_map(|p| p.as_reply())
        .map(|r| r.from.to_string())
        .collect();
    first.dedup();
    assert_eq!(
        first,
        ["198.51.100.254", "198.51.100.253", "198.51.100.254"],
        "{t}"
    );

    // Naming either router alone fails, on hop 1, naming the other.
    let f = assert::path(src, "203.0.113.1", &["r1"]).unwrap_err();
    assert_eq!(f.reason, "the path differs", "{f}");
    assert_eq!(f.details[0], "expected: h1 -> r1 -> h2", "{f}");
    assert_eq!(f.details[1], "actual:   h1 -> r1|r2 -> h2", "{f}");
    assert_eq!(
        f.details[2], "          (hop 1: expected only r1, also got r2 (198.51.100.253))",
        "{f}"
    );
    assert_eq!(f.details.len(), 3, "{f}");
    // The report of the unexpected router is part of the evidence.
    assert!(
        f.to_string().contains("node r2:\n  $ ip address show\n"),
        "{f}"
    );

    let f = assert::path(src, "203.0.113.1", &["198.51.100.253"]).unwrap_err();
    assert!(
        f.details[2]
            .contains("(hop 1: expected only 198.51.100.253, also got r1 (198.51.100.254))"),
        "{f}"
    );

    // Neither router: both are listed.
    let f = assert::path(src, "203.0.113.1", &["r3"]).unwrap_err();
    assert!(
        f.details[2].contains("(hop 1: expected r3, got r1 (198.51.100.254), r2 (198.51.100.253))"),
        "{f}"
    );

    // With one probe per hop, hop 1 has one responder again and matches:
    // the counter starts again at 0, whatever the traces before sent.
    run(
        &net,
        "h1",
        "nft",
        &[&format!("delete table ip split; {SPLIT}")],
    );
    let one = assert::default_trace().probes_per_hop(1);
    let t = assert::path_with(src, "203.0.113.1", &["r1"], &one).unwrap();
    assert_eq!(t.names(), [Some("r1"), Some("h2")], "{t}");
    // The macro panics with the hop.
    let text = std::panic::catch_unwind(|| {
        assert_path!(net["h1"] => "203.0.113.1", via ["r2"]);
    })
    .expect_err("a split hop must fail");
    let text = text.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        text.contains("hop 1: expected only r2, also got r1 (198.51.100.254)"),
        "{text}"
    );
}

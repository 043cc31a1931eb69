//! Fresh veth pairs (also the two of a wire) must not drop the first ARP (or
//! neighbour solicitation): the build lets the links settle, so the very
//! first echo is answered at once instead of after the 1 s ARP retry.

use std::time::Duration;

use netns_test::{Net, Topology};

/// Far above a normal first echo (tens of microseconds, or a scheduling
/// stall of a loaded machine) and below the 1 s that a lost first ARP
/// costs.
const STALL: Duration = Duration::from_millis(700);

/// Builds `topology` `cycles` times, each time sending one echo from `n1`
/// to `dst`, and fails naming the cycles whose echo went unanswered within
/// [`STALL`].
fn assert_no_stall(topology: &Topology, dst: &str, cycles: usize) {
    let mut stalled = Vec::new();
    for cycle in 0..cycles {
        let net = Net::build(topology).unwrap();
        let report = net["n1"].ping(dst).count(1).timeout(STALL).run().unwrap();
        if report.received != 1 {
            stalled.push(cycle);
        }
    }
    assert!(
        stalled.is_empty(),
        "first echo unanswered within {STALL:?} in cycles {stalled:?}"
    );
}

#[test]
fn two_hundred_builds_without_a_first_ping_stall_v4() {
    let t = Topology::new().link(
        ("n1", "n1-veth0", "198.51.100.1/24"),
        ("n2", "n2-veth0", "198.51.100.2/24"),
    );
    assert_no_stall(&t, "198.51.100.2", 200);
}

#[test]
fn a_hundred_builds_without_a_first_ping_stall_v6() {
    let t = Topology::new().link(
        ("n1", "n1-veth0", "2001:db8::1/64"),
        ("n2", "n2-veth0", "2001:db8::2/64"),
    );
    assert_no_stall(&t, "2001:db8::2", 100);
}

#[test]
fn a_hundred_bridged_builds_without_a_first_ping_stall() {
    let t = Topology::new().bridge(
        "sw",
        [
            ("n1", "eth0", "198.51.100.1/24"),
            ("n2", "eth0", "198.51.100.2/24"),
        ],
    );
    assert_no_stall(&t, "198.51.100.2", 100);
}

#[test]
fn two_hundred_wired_builds_without_a_first_ping_stall() {
    let t = Topology::new().wire(
        ("n1", "n1-veth0", "198.51.100.1/24"),
        ("n2", "n2-veth0", "198.51.100.2/24"),
    );
    assert_no_stall(&t, "198.51.100.2", 200);
}

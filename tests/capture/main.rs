//! Packet capture on live labs: what crossed each hop, in order, the
//! failure output of a test with capture on, the pcapng file (read back by
//! our reader and by `tcpdump -r` when it is installed), and a teardown
//! that leaves no socket or thread.
//!
//! The fixtures (ignored) run in a child of this binary, started by the
//! tests of `files.rs`, `link_state.rs` and `teardown.rs`.

#[path = "../common/mod.rs"]
mod common;
mod files;
mod handles;
mod link_state;
mod rate;
mod refusals;
mod teardown;
mod tun;
mod wire;

use netns_test::{assert_reachable, netns_test, Net, Route, Topology};

/// Runs the ignored fixture `name` alone in a child of this binary and
/// fails unless it passed.
pub(crate) fn run_fixture(name: &str) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--include-ignored", "--test-threads", "1"])
        .output()
        .unwrap();
    let text = common::output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "{text}");
}

/// h1 -- r1 -- h2, routed.
pub(crate) fn routed() -> Topology {
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

/// The same, but h2 has no route back to h1: requests arrive, no reply
/// leaves.
pub(crate) fn no_way_back() -> Topology {
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
}

#[netns_test(topology = no_way_back, capture)]
#[ignore = "fails on purpose; files.rs runs it in a child"]
fn fixture_unreachable(net: &Net) {
    assert_reachable!(net["h1"] => "203.0.113.1");
}

#[netns_test(topology = routed, capture)]
#[ignore = "run in a child by files.rs"]
fn fixture_pass(net: &Net) {
    assert_reachable!(net["h1"] => "203.0.113.1");
}

/// No attribute: capture comes from the environment or from the body.
#[netns_test(topology = routed)]
#[ignore = "run in a child by files.rs"]
fn fixture_plain(net: &Net) {
    if std::env::var_os("FIXTURE_CAPTURE_IN_BODY").is_some() {
        net["h2"].capture().unwrap();
    }
    let report = net["h1"].ping("203.0.113.1").count(2).run().unwrap();
    if std::env::var_os("FIXTURE_FAIL").is_some() {
        panic!("failing on purpose after {} replies", report.received);
    }
}

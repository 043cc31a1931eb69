//! Guarantee: the host namespace is never touched.
//!
//! One snapshot of the host (this process's base namespace: the machine's
//! own when run as root) before a batch of labs of every kind, and one after:
//! links, addresses, routes, policy rules, qdiscs, permanent neighbours,
//! `/run/netns`, every net sysctl and the mount table must be identical. The
//! snapshot is the one `examples/host_snapshot.rs` prints (CI runs it before
//! and after the whole suite and diffs); see its docs for what it leaves out
//! and why.

mod common;

#[path = "support/host_snapshot.rs"]
#[allow(dead_code)]
mod host_snapshot;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use netns_test::{Endpoint, Net, Route, Topology};
use serial_test::serial;

fn router_lab() -> Topology {
    Topology::new()
        .link(
            ("h1", "eth0", ["198.51.100.1/24", "2001:db8:1::1/64"]),
            ("r1", "eth0", ["198.51.100.254/24", "2001:db8:1::fe/64"]),
        )
        .link(
            ("r1", "eth1", ["203.0.113.254/24", "2001:db8:2::fe/64"]),
            Endpoint::new("h2", "eth0")
                .addr("203.0.113.1/24")
                .addr("2001:db8:2::1/64")
                .mtu(1400)
                .mac("02:00:00:00:00:02"),
        )
        .forwarding("r1")
        .route("h1", Route::default_via("198.51.100.254"))
        .route("h1", Route::default_via("2001:db8:1::fe"))
        .route("h2", Route::default_via("203.0.113.254"))
        .route("h2", Route::default_via("2001:db8:2::fe"))
        .sysctl("r1", "net.ipv4.conf.all.rp_filter", "0")
}

fn lan() -> Topology {
    Topology::new().bridge(
        "sw",
        [
            ("a", "eth0", "203.0.113.11/24"),
            ("b", "eth0", "203.0.113.12/24"),
            ("c", "eth0", "203.0.113.13/24"),
        ],
    )
}

#[test]
#[serial]
fn a_batch_of_labs_leaves_the_host_snapshot_identical() {
    let before = host_snapshot::snapshot();
    // The snapshot is deterministic: two in a row are equal.
    assert_eq!(host_snapshot::snapshot(), before);
    let host = common::my_netns();

    for _ in 0..3 {
        let net = Net::build(&router_lab()).unwrap();
        assert_eq!(net["h1"].ping("203.0.113.1").run().unwrap().received, 1);
        assert_eq!(net["h1"].ping("2001:db8:2::1").run().unwrap().received, 1);
        let trace = net["h1"].traceroute("203.0.113.1").run().unwrap();
        assert!(trace.reached(), "{trace}");
        let _ = net["r1"].report().unwrap();
        let mut child = net["h2"]
            .command("sleep")
            .unwrap()
            .arg("600")
            .spawn()
            .unwrap();
        let _ = child.id();
        drop(net);
        let _ = child.wait();

        let net = Net::build(&lan()).unwrap();
        assert_eq!(net["a"].ping("203.0.113.13").run().unwrap().received, 1);
        let _sock = net["b"]
            .with(|| std::net::UdpSocket::bind("203.0.113.12:53"))
            .unwrap()
            .unwrap();
        let _ = net["c"]
            .udp_request("203.0.113.12:53", b"q")
            .timeout(Duration::from_millis(20))
            .run()
            .unwrap();
        net["c"]
            .block_on(async { tokio::net::TcpListener::bind("203.0.113.13:80").await })
            .unwrap()
            .unwrap();
        drop(net);
    }
    // Failures too: a panicking body, a build the kernel refuses.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let net = Net::build(&lan()).unwrap();
        net["a"].run(|| panic!("body failed")).unwrap();
    }));
    let refused = Topology::new().link(("a", "eth0"), ("b", "eth0")).sysctl(
        "b",
        "net.ipv4.conf.all.no_such_sysctl",
        "1",
    );
    assert!(Net::build(&refused).is_err());
    // A plain namespace, and many labs at once.
    let ns = netns_test::NetNs::new("plain").unwrap();
    ns.run(|| std::net::TcpListener::bind("127.0.0.1:80").unwrap())
        .unwrap();
    drop(ns);
    let many: Vec<Net> = (0..20).map(|_| Net::build(&lan()).unwrap()).collect();
    drop(many);

    common::assert_all_threads_back_in(host);
    let after = host_snapshot::snapshot();
    for (section, lines) in &before {
        let other = after.get(section).cloned().unwrap_or_default();
        let gone: Vec<_> = lines.iter().filter(|l| !other.contains(l)).collect();
        let new: Vec<_> = other.iter().filter(|l| !lines.contains(l)).collect();
        assert!(
            gone.is_empty() && new.is_empty() && *lines == other,
            "host section `{section}` changed:\n  before only: {gone:#?}\n  after only: {new:#?}"
        );
    }
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    println!(
        "host snapshot unchanged: {}",
        before
            .iter()
            .map(|(s, l)| format!("{s} {}", l.len()))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

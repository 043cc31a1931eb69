//! netns-test's own harness, with data-driven tests: one test per row of a
//! table, plus a `#[netns_test]` function, under libtest's command line.
//!
//! In a test target this file would be `tests/routing.rs` with
//! `[[test]] name = "routing" harness = false` in Cargo.toml. As an example
//! it is a program that behaves the same way:
//!
//! ```sh
//! cargo run --example harness_table                      # run every test
//! cargo run --example harness_table -- --list            # list them
//! cargo run --example harness_table -- reach:: --exact   # libtest's flags
//! ```
//!
//! As root, or as an ordinary user where user namespaces are allowed.

use std::time::Duration;

use netns_test::harness::Case;
use netns_test::{netns_test, Net, Route, Topology};

/// h1 -- r1 -- h2, and h3 on h2's subnet without a route back to h1.
fn routed() -> Topology {
    Topology::new()
        .link(
            ("h1", "eth0", "198.51.100.1/24"),
            ("r1", "eth0", "198.51.100.254/24"),
        )
        .bridge(
            "sw",
            [
                ("r1", "eth1", "203.0.113.254/24"),
                ("h2", "eth0", "203.0.113.1/24"),
                ("h3", "eth0", "203.0.113.3/24"),
            ],
        )
        .forwarding("r1")
        .route("h1", Route::default_via("198.51.100.254"))
        .route("h2", Route::default_via("203.0.113.254"))
}

/// A hand-written test runs alongside the table.
#[netns_test(topology = routed, timeout = "10s")]
fn router_forwards(net: &Net) -> netns_test::Result<()> {
    let report = net["h1"].ping("203.0.113.1").count(1).run()?;
    assert_eq!(report.received, 1, "{report}");
    Ok(())
}

/// Which node reaches which address.
const REACH: &[(&str, &str, bool)] = &[
    ("h1", "198.51.100.254", true),
    ("h1", "203.0.113.1", true),
    ("h2", "198.51.100.1", true),
    ("h2", "203.0.113.3", true),
    ("h3", "203.0.113.254", true),
    // h3 has no route back to h1's subnet: its replies are dropped.
    ("h1", "203.0.113.3", false),
];

fn table() -> Vec<Case> {
    REACH
        .iter()
        .map(|&(from, to, reachable)| {
            let name = format!("reach::{from}_to_{}", to.replace('.', "_"));
            Case::new(name, move |net: &Net| -> netns_test::Result<()> {
                let report = net[from]
                    .ping(to)
                    .count(1)
                    .timeout(Duration::from_millis(300))
                    .run()?;
                assert_eq!(report.received == 1, reachable, "{from} -> {to}: {report}");
                Ok(())
            })
            .topology(routed())
            .node(from)
            .timeout(Duration::from_secs(10))
        })
        .collect()
}

netns_test::main!(cases = table);

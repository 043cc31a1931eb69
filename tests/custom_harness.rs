//! A test target on netns-test's own harness (`harness = false` for it in
//! Cargo.toml): `netns_test::main!` is its `main`. It runs every
//! `#[netns_test]` function below and the data-driven cases of `table`,
//! under `cargo test` and `cargo nextest run`, as root or rootless.
//! `tests/harness_cli.rs` checks the command line and the failure paths.

use std::time::Duration;

use netns_test::harness::Case;
use netns_test::{netns_test, Net, Node, Topology};

fn two_hosts() -> Topology {
    Topology::new().link(
        ("n1", "n1-veth0", ["198.51.100.1/24", "2001:db8:5::1/64"]),
        ("n2", "n2-veth0", ["198.51.100.2/24", "2001:db8:5::2/64"]),
    )
}

#[netns_test]
fn binds_port_80() {
    let listener = std::net::TcpListener::bind("127.0.0.1:80").unwrap();
    assert_eq!(listener.local_addr().unwrap().port(), 80);
}

#[netns_test]
async fn async_body_runs_in_its_node() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:80").await?;
    let client = tokio::net::TcpStream::connect("127.0.0.1:80").await?;
    let (_server, peer) = listener.accept().await?;
    assert_eq!(peer, client.local_addr()?);
    Ok(())
}

#[netns_test(topology = two_hosts)]
fn hosts_ping_each_other(net: &Net, n2: &Node) -> netns_test::Result<()> {
    let report = net["n1"]
        .ping("198.51.100.2")
        .count(2)
        .interval(Duration::from_millis(20))
        .run()?;
    assert_eq!(report.received, 2);
    let report = n2.ping("2001:db8:5::1").count(1).run()?;
    assert_eq!(report.received, 1);
    Ok(())
}

#[netns_test(topology = two_hosts, node = "n2")]
fn runs_in_the_named_node() {
    // A socket made by the body belongs to n2.
    std::net::UdpSocket::bind("198.51.100.2:53").unwrap();
}

#[netns_test]
#[should_panic(expected = "on purpose")]
fn should_panic_is_honoured() {
    panic!("panicking on purpose");
}

#[netns_test(timeout = "200ms")]
#[should_panic(expected = "timed out")]
fn timeouts_fail_the_test() {
    std::thread::sleep(Duration::from_secs(2));
}

/// Runs only with `--ignored` or `--include-ignored` (`cargo nextest run
/// --run-ignored all`).
#[netns_test(topology = two_hosts)]
#[ignore = "slow: a second of pings"]
fn ignored_test(net: &Net) -> netns_test::Result<()> {
    let report = net["n1"]
        .ping("198.51.100.2")
        .count(5)
        .interval(Duration::from_millis(200))
        .run()?;
    assert_eq!(report.received, 5);
    Ok(())
}

mod nested {
    use netns_test::netns_test;

    /// Listed as `nested::in_a_module`, as libtest would.
    #[netns_test]
    fn in_a_module() {
        std::net::TcpListener::bind("127.0.0.1:80").unwrap();
    }
}

/// Data-driven tests: one per row, each in its own two-host network.
fn table() -> Vec<Case> {
    let rows = [
        (
            "table::ipv4",
            "198.51.100.1/24",
            "198.51.100.2/24",
            "198.51.100.2",
        ),
        (
            "table::ipv6",
            "2001:db8:6::1/64",
            "2001:db8:6::2/64",
            "2001:db8:6::2",
        ),
        (
            "table::other_range",
            "203.0.113.1/24",
            "203.0.113.2/24",
            "203.0.113.2",
        ),
    ];
    let mut cases: Vec<Case> = rows
        .into_iter()
        .map(|(name, a, b, peer)| {
            Case::new(name, move |net: &Net| -> netns_test::Result<()> {
                let report = net["n1"].ping(peer).count(1).run()?;
                assert_eq!(report.received, 1, "{report}");
                Ok(())
            })
            .topology(Topology::new().link(("n1", "eth0", a), ("n2", "eth0", b)))
        })
        .collect();
    cases.push(
        Case::new("table::unreachable", |net: &Net| {
            let report = net["local"]
                .ping("198.51.100.9")
                .count(1)
                .timeout(Duration::from_millis(200))
                .run();
            assert!(
                matches!(report, Ok(r) if r.received == 1),
                "no answer from 198.51.100.9"
            );
        })
        .should_panic_with("no answer from 198.51.100.9"),
    );
    cases
}

netns_test::main!(cases = table);

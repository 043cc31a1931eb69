//! Partitions: both ways, one way, isolation, through routers; healed by
//! guards and by `Net::heal`; counted; exactly our rules in the node.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

use netns_test::{Error, Net, Route, Topology};

use crate::{reaches, silent, ARRIVES, SILENT};

/// h1 -- r1 -- r2 -- h2, IPv4 and IPv6.
fn two_routers() -> Net {
    Net::build(
        &Topology::new()
            .link(
                ("h1", "eth0", ["198.51.100.1/26", "2001:db8:1::1/64"]),
                ("r1", "eth0", ["198.51.100.2/26", "2001:db8:1::2/64"]),
            )
            .link(
                ("r1", "eth1", ["198.51.100.65/26", "2001:db8:2::1/64"]),
                ("r2", "eth0", ["198.51.100.66/26", "2001:db8:2::2/64"]),
            )
            .link(
                ("r2", "eth1", ["203.0.113.1/24", "2001:db8:3::1/64"]),
                ("h2", "eth0", ["203.0.113.2/24", "2001:db8:3::2/64"]),
            )
            .forwarding("r1")
            .forwarding("r2")
            .route("h1", Route::default_via("198.51.100.2"))
            .route("h1", Route::default_via("2001:db8:1::2"))
            .route("r1", Route::to("203.0.113.0/24").via("198.51.100.66"))
            .route("r1", Route::to("2001:db8:3::/64").via("2001:db8:2::2"))
            .route("r2", Route::to("198.51.100.0/26").via("198.51.100.65"))
            .route("r2", Route::to("2001:db8:1::/64").via("2001:db8:2::1"))
            .route("h2", Route::default_via("203.0.113.1"))
            .route("h2", Route::default_via("2001:db8:3::1")),
    )
    .unwrap()
}

#[test]
fn a_partition_two_routers_apart_stops_both_ways_and_heals() {
    let net = two_routers();
    assert!(reaches(&net, "h1", "h2"));
    {
        let _p = net.partition("h1", "h2").unwrap();
        assert!(silent(&net, "h1", "h2"));
        assert!(silent(&net, "h2", "h1"));
        assert!(silent(&net, "h1", "2001:db8:3::2"));
        // Everything else still flows.
        assert!(reaches(&net, "h1", "r2"));
        assert!(reaches(&net, "h2", "r1"));
        let faults = net.active_faults();
        assert_eq!(faults.len(), 1);
        assert_eq!(faults[0].description, "partition {h1} | {h2}");
        let dropped: u64 = faults[0]
            .evidence
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(dropped >= 3, "{}", faults[0]);
    }
    assert!(net.active_faults().is_empty());
    assert!(reaches(&net, "h1", "h2"));
    assert!(reaches(&net, "h2", "h1"));
}

#[test]
fn a_tcp_connection_stalls_during_a_partition_and_recovers_after_heal() {
    let net = two_routers();
    let listener = net["h2"]
        .with(|| TcpListener::bind("0.0.0.0:7000"))
        .unwrap()
        .unwrap();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 64];
        loop {
            match conn.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => conn.write_all(&buf[..n]).unwrap(),
            }
        }
    });
    let mut client = net["h1"]
        .with(|| TcpStream::connect("203.0.113.2:7000"))
        .unwrap()
        .unwrap();
    client
        .set_read_timeout(Some(Duration::from_millis(400)))
        .unwrap();
    let mut buf = [0u8; 1];
    client.write_all(b"a").unwrap();
    client.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"a");
    let partition = net.partition("h1", "h2").unwrap();
    client.write_all(b"b").unwrap();
    let stalled = client.read(&mut buf).unwrap_err();
    assert!(
        matches!(
            stalled.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{stalled}"
    );
    partition.heal().unwrap();
    // TCP retransmits the byte once the path is back.
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    client.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"b");
    drop(client);
    server.join().unwrap();
}

#[test]
fn a_one_way_partition_lets_the_other_direction_through() {
    let net = two_routers();
    let (a, b) = (&net["h1"], &net["h2"]);
    let sa = a
        .with(|| UdpSocket::bind("198.51.100.1:5000"))
        .unwrap()
        .unwrap();
    let sb = b
        .with(|| UdpSocket::bind("203.0.113.2:5000"))
        .unwrap()
        .unwrap();
    // h1 waits for what should come, h2 (after that) for what should not.
    sa.set_read_timeout(Some(ARRIVES)).unwrap();
    sb.set_read_timeout(Some(SILENT)).unwrap();
    let _p = net.partition_one_way("h1", "h2").unwrap();
    sa.send_to(b"from h1", "203.0.113.2:5000").unwrap();
    sb.send_to(b"from h2", "198.51.100.1:5000").unwrap();
    let mut buf = [0u8; 16];
    let (n, _) = sa.recv_from(&mut buf).expect("h2 -> h1 arrives");
    assert_eq!(&buf[..n], b"from h2");
    assert!(sb.recv_from(&mut buf).is_err(), "h1 -> h2 arrived");
    assert_eq!(net.active_faults()[0].description, "partition {h1} -> {h2}");
}

#[test]
fn isolate_cuts_one_node_off_and_heal_ends_every_partition() {
    let net = two_routers();
    let p = net.isolate("r1").unwrap();
    assert!(silent(&net, "h1", "r1"));
    assert!(silent(&net, "r2", "r1"));
    // h1 -- h2 crosses r1 (forwarding is not filtered) and still works.
    assert!(reaches(&net, "h1", "h2"));
    let _q = net.partition_one_way("h2", "r2").unwrap();
    assert_eq!(net.active_faults().len(), 2);
    net.heal().unwrap();
    assert!(net.active_faults().is_empty());
    assert!(reaches(&net, "h1", "r1"));
    assert!(reaches(&net, "h2", "r2"));
    drop(p);
}

#[test]
fn bad_partitions_are_typed_errors() {
    let net = two_routers();
    let e = net.partition("h1", "h1").unwrap_err();
    assert!(matches!(e, Error::InvalidPartition { .. }), "{e}");
    assert!(e.to_string().contains("`h1` is on both sides"), "{e}");
    let e = net.partition("h1", "ghost").unwrap_err();
    assert!(matches!(e, Error::UnknownNode(_)), "{e}");
    assert!(net.active_faults().is_empty());
}

/// `nft` as an oracle, where it is installed (CI installs it): inside the
/// node, exactly our rules, and nothing after the heal.
#[test]
fn nft_sees_exactly_our_rules_and_nothing_after_heal() {
    if !crate::common::nft_installed() {
        println!("skipped: the `nft` binary is not installed (CI installs it as an oracle)");
        return;
    }
    let net = two_routers();
    let ruleset = |node: &str| crate::common::nft_list_ruleset(&net[node]);
    assert_eq!(ruleset("h1"), "");
    let p = net.partition("h1", "h2").unwrap();
    let text = ruleset("h1");
    assert!(text.contains("table inet netns_test"), "{text}");
    for rule in [
        "set fault0_1_from4 {\n\t\ttype ipv4_addr\n\t\telements = { 203.0.113.2 }",
        "set fault0_1_from6 {\n\t\ttype ipv6_addr\n\t\telements = { 2001:db8:3::2 }",
        "ip saddr @fault0_1_from4 counter packets 0 bytes 0 drop comment \"netns-test fault 0\"",
        "ip6 saddr @fault0_1_from6 counter packets 0 bytes 0 drop",
    ] {
        assert!(text.contains(rule), "no `{rule}` in:\n{text}");
    }
    // 2 rules in h1 (one per family of h2's addresses): nothing else.
    assert_eq!(text.matches(" drop").count(), 2, "{text}");
    assert_eq!(
        ruleset("r1"),
        "",
        "a router not in the partition has no rule"
    );
    drop(p);
    assert_eq!(ruleset("h1"), "");
    assert_eq!(ruleset("h2"), "");
}

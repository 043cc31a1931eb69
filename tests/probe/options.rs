//! Ping options a user reaches for: broadcast (opt-in), don't-fragment,
//! and node names where an address is expected.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;

use netns_test::assert;
use netns_test::probe::{PingErrorKind, PingOptions, ProbeError};
use netns_test::{Endpoint, Error, Net, Topology};

fn segment() -> Net {
    Net::build(
        &Topology::new()
            .bridge(
                "sw",
                [
                    ("a", "eth0", "203.0.113.1/24"),
                    ("b", "eth0", "203.0.113.2/24"),
                    ("c", "eth0", "203.0.113.3/24"),
                ],
            )
            .sysctl("b", "net.ipv4.icmp_echo_ignore_broadcasts", "0")
            .sysctl("c", "net.ipv4.icmp_echo_ignore_broadcasts", "0"),
    )
    .unwrap()
}

#[test]
fn a_broadcast_ping_needs_the_opt_in_and_then_reaches_every_host() {
    let net = segment();
    let refused = net["a"].ping("203.0.113.255").run().unwrap_err();
    assert!(
        matches!(refused, Error::Probe(ProbeError::Broadcast { .. })),
        "{refused}"
    );
    assert!(
        refused.to_string().contains(".broadcast(true)"),
        "{refused}"
    );
    let report = net["a"]
        .ping("203.0.113.255")
        .broadcast(true)
        .count(2)
        .interval(Duration::from_millis(50))
        .run()
        .unwrap();
    let from: BTreeSet<IpAddr> = report.replies.iter().map(|r| r.from).collect();
    let expected: BTreeSet<IpAddr> = ["203.0.113.2", "203.0.113.3"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(from, expected, "{report}");
}

fn narrow_link() -> Net {
    Net::build(
        &Topology::new().link(
            Endpoint::new("n1", "eth0")
                .addr("198.51.100.1/24")
                .addr("2001:db8::1/64")
                .mtu(1400),
            Endpoint::new("n2", "eth0")
                .addr("198.51.100.2/24")
                .addr("2001:db8::2/64")
                .mtu(1400),
        ),
    )
    .unwrap()
}

#[test]
fn dont_fragment_refuses_a_payload_above_the_link_mtu() {
    let net = narrow_link();
    for dst in ["198.51.100.2", "2001:db8::2"] {
        // 1,400 bytes of payload do not fit a 1,400-byte MTU with headers.
        let fragmented = net["n1"].ping(dst).payload_size(1400).run().unwrap();
        assert_eq!(fragmented.received, 1, "{fragmented}");
        let refused = net["n1"]
            .ping(dst)
            .payload_size(1400)
            .dont_fragment(true)
            .run()
            .unwrap();
        assert_eq!(refused.received, 0, "{refused}");
        assert!(
            refused.errors.iter().any(|e| e.kind
                == PingErrorKind::Send {
                    errno: libc::EMSGSIZE
                }),
            "{refused:?}"
        );
        // What fits still goes through with the bit set.
        let fits = net["n1"]
            .ping(dst)
            .payload_size(1300)
            .dont_fragment(true)
            .run()
            .unwrap();
        assert_eq!(fits.received, 1, "{fits}");
    }
}

#[test]
fn probes_take_node_names() {
    let net = narrow_link();
    let report = net["n1"].ping("n2").run().unwrap();
    assert_eq!(
        report.destination,
        "198.51.100.2".parse::<IpAddr>().unwrap()
    );
    assert_eq!(report.received, 1);
    let trace = net["n1"].traceroute("n2").run().unwrap();
    assert_eq!(trace.names(), [Some("n2")]);
    let server = net["n2"]
        .with(|| std::net::TcpListener::bind("0.0.0.0:8080"))
        .unwrap()
        .unwrap();
    let tcp = net["n1"].tcp_connect("n2:8080").run().unwrap();
    assert!(tcp.is_open(), "{tcp}");
    drop(server);
    let err = net["n1"].ping("nosuch").run().unwrap_err();
    assert!(matches!(err, Error::InvalidAddress { .. }), "{err}");
    assert!(err.to_string().contains("nor a node of this lab"), "{err}");
}

#[test]
fn unreachable_fails_when_the_deadline_cut_the_requests_short() {
    let net = segment();
    let early = PingOptions::new()
        .count(3)
        .deadline(Duration::from_nanos(1));
    let f = assert::unreachable_with(&net["a"], "203.0.113.9", &early).unwrap_err();
    assert!(
        f.reason
            .starts_with("only 0 of 3 echo requests were sent (the deadline of 1ns came first)"),
        "{f}"
    );
    // Every request sent, none answered: silence that proves something.
    let whole = PingOptions::new()
        .count(1)
        .timeout(Duration::from_millis(200))
        .deadline(Duration::from_secs(5));
    let r = assert::unreachable_with(&net["a"], "203.0.113.9", &whole).unwrap();
    assert_eq!((r.transmitted, r.received), (1, 0), "{r}");
}

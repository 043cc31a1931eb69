//! The waits over a slow wire, and waits too long to compute.

use std::net::TcpListener;
use std::time::Duration;

use netns_test::probe::{PingOptions, ProbeError, TraceOptions, MAX_WAIT};
use netns_test::wire::Profile;
use netns_test::{Error, Net, Topology};

use super::labs::two_hosts;

/// A round trip of about 600 ms (300 ms each way) is longer than the first
/// try of a wait; later tries wait longer and get the answer.
#[test]
fn waits_succeed_over_a_satellite_wire() {
    let net = Net::build(&Topology::new().wire_with(
        ("a", "e0", "198.51.100.1/24"),
        ("b", "e0", "198.51.100.2/24"),
        Profile::satellite(),
    ))
    .unwrap();
    let _listener = net["b"]
        .with(|| TcpListener::bind("198.51.100.2:8080"))
        .unwrap()
        .unwrap();
    let ping = net["a"]
        .wait_reachable("198.51.100.2")
        .timeout(Duration::from_secs(30))
        .run()
        .unwrap();
    assert_eq!(ping.received, 1, "{ping}");
    let tcp = net["a"]
        .wait_port_open("198.51.100.2:8080")
        .timeout(Duration::from_secs(30))
        .run()
        .unwrap();
    assert!(tcp.is_open(), "{tcp}");
}

fn refused_option(err: Error) -> (&'static str, &'static str) {
    match err {
        Error::Probe(ProbeError::InvalidOption { probe, option, .. }) => (probe, option),
        other => panic!("expected an invalid option, got {other:?}"),
    }
}

/// Every wait longer than `MAX_WAIT` is refused with a typed error naming
/// the option, never a panic on `Instant` arithmetic.
#[test]
fn waits_longer_than_max_wait_are_refused() {
    let net = two_hosts();
    let n1 = &net["n1"];
    let huge = Duration::MAX;
    let cases: Vec<(Error, (&str, &str))> = vec![
        (
            n1.ping("198.51.100.2").timeout(huge).run().unwrap_err(),
            ("ping", "timeout"),
        ),
        (
            n1.ping("198.51.100.2").interval(huge).run().unwrap_err(),
            ("ping", "interval"),
        ),
        (
            n1.ping("198.51.100.2").deadline(huge).run().unwrap_err(),
            ("ping", "deadline"),
        ),
        (
            n1.traceroute("198.51.100.2")
                .options(TraceOptions::new().timeout(huge))
                .run()
                .unwrap_err(),
            ("traceroute", "timeout"),
        ),
        (
            n1.tcp_connect("198.51.100.2:80")
                .timeout(huge)
                .run()
                .unwrap_err(),
            ("tcp_connect", "timeout"),
        ),
        (
            n1.udp_request("198.51.100.2:7", b"x")
                .timeout(huge)
                .run()
                .unwrap_err(),
            ("udp_request", "timeout"),
        ),
        (
            n1.wait_reachable("198.51.100.2")
                .timeout(huge)
                .run()
                .unwrap_err(),
            ("wait_reachable", "timeout"),
        ),
        (
            n1.wait_port_open("198.51.100.2:80")
                .timeout(huge)
                .run()
                .unwrap_err(),
            ("wait_port_open", "timeout"),
        ),
    ];
    for (err, expected) in cases {
        let text = err.to_string();
        assert_eq!(refused_option(err), expected, "{text}");
        assert!(text.contains("MAX_WAIT"), "{text}");
    }
    // The longest allowed wait runs (and ends with the reply, long before).
    let r = n1
        .ping("198.51.100.2")
        .timeout(MAX_WAIT)
        .interval(MAX_WAIT)
        .deadline(MAX_WAIT)
        .run()
        .unwrap();
    assert_eq!(r.received, 1, "{r}");
}

/// The matrix reports a ping it cannot run as a failed cell.
#[test]
fn the_matrix_reports_an_overlong_ping_timeout_as_failed_cells() {
    let net = two_hosts();
    let failure = net
        .connectivity()
        .ping_options(PingOptions::new().timeout(Duration::MAX))
        .check()
        .unwrap_err();
    let cells: Vec<_> = failure.matrix.failures().collect();
    assert!(!cells.is_empty());
    for c in cells {
        let e = c.report.as_ref().unwrap_err();
        assert!(e.contains("invalid ping option `timeout`"), "{e}");
    }
}

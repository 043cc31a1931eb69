//! TCP port probes on real labs: open, refused and timed out, and how a
//! probe leaves the server it connected to.

use std::io::Read;
use std::net::TcpListener;
use std::time::Duration;

use netns_test::probe::PortState;
use netns_test::Net;

use super::labs::{router, two_hosts};

#[test]
fn tcp_open_refused_and_timed_out() {
    let net = router(true, true);
    // Dual-stack listener in h2 (bindv6only is 0 in a new namespace).
    let _listener = net["h2"]
        .with(|| TcpListener::bind("[::]:8080"))
        .unwrap()
        .unwrap();
    let t = Duration::from_secs(2);
    for host in ["203.0.113.1", "2001:db8:2::1"] {
        let open = net["h1"]
            .tcp_connect((host, 8080))
            .timeout(t)
            .run()
            .unwrap();
        assert_eq!(open.state, PortState::Open, "{open}");
        let closed = net["h1"]
            .tcp_connect((host, 8081))
            .timeout(t)
            .run()
            .unwrap();
        assert_eq!(closed.state, PortState::Refused, "{closed}");
        assert!(
            closed.to_string().contains(": refused (reset) in "),
            "{closed}"
        );
    }
    let waited = net["h1"]
        .wait_port_open(("203.0.113.1", 8080))
        .timeout(Duration::from_secs(1))
        .run()
        .unwrap();
    assert!(waited.is_open());
}

/// A dropped SYN must end as `TimedOut`, after the timeout and long before
/// the kernel's own SYN retries would give up (over a minute); the slack
/// absorbs a loaded CI machine.
fn assert_timed_out(net: &Net, from: &str, addr: (&str, u16)) {
    let timeout = Duration::from_millis(400);
    let p = net[from].tcp_connect(addr).timeout(timeout).run().unwrap();
    assert_eq!(p.state, PortState::TimedOut, "{p}");
    assert!(p.elapsed >= timeout, "{p}");
    assert!(p.elapsed < timeout + Duration::from_millis(1500), "{p}");
}

#[test]
fn tcp_through_a_router_without_forwarding_times_out() {
    let net = router(false, true);
    let _listener = net["h2"]
        .with(|| TcpListener::bind("[::]:8080"))
        .unwrap()
        .unwrap();
    assert_timed_out(&net, "h1", ("203.0.113.1", 8080));
    assert_timed_out(&net, "h1", ("2001:db8:2::1", 8080));
    // The listener is there: h2 reaches itself.
    assert!(net["h2"]
        .tcp_connect(("203.0.113.1", 8080))
        .timeout(Duration::from_secs(1))
        .run()
        .unwrap()
        .is_open());
}

#[test]
fn tcp_without_a_return_route_times_out() {
    // SYNs reach h2, its SYN-ACKs have no route back.
    let net = router(true, false);
    let _listener = net["h2"]
        .with(|| TcpListener::bind("[::]:8080"))
        .unwrap()
        .unwrap();
    assert_timed_out(&net, "h1", ("203.0.113.1", 8080));
    assert_timed_out(&net, "h1", ("2001:db8:2::1", 8080));
}

/// A server in n2 that accepts one connection and reads until it ends; what
/// the read returned.
fn accept_and_read(net: &Net, port: u16) -> netns_test::NodeThread<std::io::Result<usize>> {
    let listener = net["n2"]
        .with(|| TcpListener::bind(("198.51.100.2", port)))
        .unwrap()
        .unwrap();
    net["n2"]
        .spawn(move |_stop| {
            let (mut conn, _) = listener.accept()?;
            let mut buf = [0u8; 64];
            conn.read(&mut buf)
        })
        .unwrap()
}

/// The server's read must see the probe's FIN (end of stream), not a reset.
fn assert_reads_end_of_stream(server: netns_test::NodeThread<std::io::Result<usize>>) {
    match server.join() {
        Ok(n) => assert_eq!(n, 0, "the server read {n} byte(s) from the probe"),
        Err(e) => panic!("the server's read failed: {e}"),
    }
}

#[test]
fn a_tcp_probe_closes_gracefully() {
    let net = two_hosts();
    let server = accept_and_read(&net, 8080);
    let p = net["n1"]
        .tcp_connect(("198.51.100.2", 8080))
        .timeout(Duration::from_secs(2))
        .run()
        .unwrap();
    assert!(p.is_open(), "{p}");
    assert_reads_end_of_stream(server);
}

#[test]
fn a_port_wait_closes_gracefully() {
    let net = two_hosts();
    let server = accept_and_read(&net, 8081);
    let p = net["n1"]
        .wait_port_open(("198.51.100.2", 8081))
        .timeout(Duration::from_secs(2))
        .run()
        .unwrap();
    assert!(p.is_open(), "{p}");
    assert_reads_end_of_stream(server);
}

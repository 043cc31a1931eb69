//! What crossed the wire, checked packet by packet.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use netns_test::capture::{Direction, Filter, TcpFlags};
use netns_test::{netns_test, Net, Topology};

use super::routed;

/// One echo request and one reply on each hop of h1 -- r1 -- h2, each in
/// the right direction.
#[netns_test(topology = routed, capture)]
fn ping_shows_request_and_reply_on_each_hop(net: &Net) {
    let cap = net.captured().expect("the attribute turned capture on");
    assert_eq!(
        cap.interfaces(),
        ["h1/eth0", "r1/eth0", "r1/eth1", "h2/eth0"]
    );
    let report = net["h1"].ping("203.0.113.1").count(1).run().unwrap();
    assert_eq!(report.received, 1);
    use Direction::{In, Out};
    // (node, iface, direction of the request, direction of the reply)
    for (node, iface, req, rep) in [
        ("h1", "eth0", Out, In),
        ("r1", "eth0", In, Out),
        ("r1", "eth1", Out, In),
        ("h2", "eth0", In, Out),
    ] {
        let request = cap.assert_count(
            &Filter::echo_request()
                .src("198.51.100.1")
                .dst("203.0.113.1")
                .on(node, iface)
                .direction(req),
            1,
        );
        cap.assert_count(
            &Filter::echo_reply()
                .src("203.0.113.1")
                .dst("198.51.100.1")
                .on(node, iface)
                .direction(rep),
            1,
        );
        assert_eq!(
            request[0].decoded.ip.unwrap().ttl,
            if node == "h1" || node == "r1" && iface == "eth0" {
                64
            } else {
                63
            }
        );
    }
    cap.assert_count(&Filter::echo_request(), 4);
    cap.assert_count(&Filter::echo_reply(), 4);
    // The request leaves h1 before it reaches h2, and the reply comes after.
    cap.assert_order(&[
        &Filter::echo_request().on("h1", "eth0"),
        &Filter::echo_request().on("h2", "eth0"),
        &Filter::echo_reply().on("h2", "eth0"),
        &Filter::echo_reply().on("h1", "eth0"),
    ]);
    let line = cap.matching(&Filter::echo_request().on("h1", "eth0"))[0].to_string();
    assert!(
        line.contains(" h1/eth0 Out IP 198.51.100.1 > 203.0.113.1: ICMP echo request, id ")
            && line.ends_with(", seq 1, length 64"),
        "{line}"
    );
}

/// A TCP handshake shows SYN, SYN-ACK and ACK in that order, on both ends.
#[netns_test(topology = routed)]
fn tcp_handshake_in_order(net: &Net) {
    let cap = net.capture().unwrap();
    let _listener = net["h2"]
        .with(|| TcpListener::bind("203.0.113.1:80"))
        .unwrap()
        .unwrap();
    assert!(net["h1"]
        .tcp_connect("203.0.113.1:80")
        .run()
        .unwrap()
        .is_open());
    let syn = Filter::tcp()
        .src("198.51.100.1")
        .dst_port(80)
        .flags(TcpFlags::SYN);
    let syn_ack = Filter::tcp()
        .src("203.0.113.1")
        .src_port(80)
        .flags(TcpFlags::SYN | TcpFlags::ACK);
    let ack = Filter::tcp()
        .src("198.51.100.1")
        .dst_port(80)
        .flags(TcpFlags::ACK);
    for (node, out, inn) in [
        ("h1", Direction::Out, Direction::In),
        ("h2", Direction::In, Direction::Out),
    ] {
        let seen = cap.assert_order(&[
            &syn.clone().on(node, "eth0").direction(out),
            &syn_ack.clone().on(node, "eth0").direction(inn),
            &ack.clone().on(node, "eth0").direction(out),
        ]);
        let (s, sa, a) = (
            seen[0].tcp().unwrap(),
            seen[1].tcp().unwrap(),
            seen[2].tcp().unwrap(),
        );
        assert_eq!(
            sa.ack,
            s.seq.wrapping_add(1),
            "the SYN-ACK acknowledges the SYN"
        );
        assert_eq!(
            a.ack,
            sa.seq.wrapping_add(1),
            "the ACK acknowledges the SYN-ACK"
        );
        assert!(
            seen[0].to_string().contains("Flags [S], seq "),
            "{}",
            seen[0]
        );
        assert!(
            seen[1].to_string().contains("Flags [S.], seq "),
            "{}",
            seen[1]
        );
    }
    // One handshake: one SYN each way through r1, no reset anywhere.
    cap.assert_count(&syn.clone().on("r1", "eth0"), 1);
    cap.assert_never(&Filter::tcp().has_flags(TcpFlags::RST));
    // The probe closes with a FIN.
    cap.assert_before(
        &syn,
        &Filter::tcp().src("198.51.100.1").has_flags(TcpFlags::FIN),
    );
}

/// Capture turned on from the test, per node and per interface; filters by
/// node, port and protocol; a failed capture assertion lists the packets.
#[netns_test(topology = routed)]
fn capture_one_interface_and_fail_readably(net: &Net) {
    let r1_out = net["r1"].capture_iface("eth1").unwrap();
    assert_eq!(r1_out.interfaces(), ["r1/eth1"]);
    let sock = net["h2"]
        .with(|| std::net::UdpSocket::bind("203.0.113.1:7"))
        .unwrap()
        .unwrap();
    let reply = net["h1"]
        .udp_request("203.0.113.1:7", b"hi")
        .timeout(Duration::from_millis(100))
        .run();
    let _ = reply; // nobody answers: only the request matters here
                   // The request may still be on its way (h1 and r1 resolve their
                   // neighbours first); h2's socket stays open until it has crossed r1.
    let forwarded = Filter::udp().dst_port(7).outgoing();
    let deadline = Instant::now() + Duration::from_secs(5);
    while r1_out.count(&forwarded) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(sock);
    let udp = r1_out.assert_count(&forwarded, 1);
    assert_eq!(udp[0].src_ip(), Some("198.51.100.1".parse().unwrap()));
    assert!(udp[0].to_string().contains("UDP, length 2"), "{}", udp[0]);
    // Nothing of h1's own interface is in this capture.
    assert_eq!(r1_out.count(&Filter::new().node("h1")), 0);
    let failure = r1_out
        .check_count(&Filter::udp().dst_port(7), 2)
        .unwrap_err();
    let text = failure.to_string();
    assert!(
        text.starts_with(
            "capture assertion failed: expected 2 packet(s) matching `udp dst port 7`, saw 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("last ") && text.contains(" packets on r1/eth1:"),
        "{text}"
    );
    assert!(text.contains("r1/eth1 Out IP 198.51.100.1."), "{text}");
    let never = r1_out.check_never(&Filter::udp()).unwrap_err();
    assert!(
        never
            .reason
            .contains("expected no packet matching `udp`, saw 1"),
        "{never}"
    );
    let order = r1_out
        .check_before(&Filter::echo_request(), &Filter::udp())
        .unwrap_err();
    assert!(
        order.reason.contains("no packet matches `echo request`"),
        "{order}"
    );
    // `?` converts a capture failure into the crate's error.
    let err: netns_test::Error = r1_out.check_never(&Filter::udp()).unwrap_err().into();
    assert!(err.to_string().contains("capture assertion failed"));
}

/// clear() forgets what came before; the size bound keeps the newest frames
/// and counts the rest; a recorded frame carries its comment.
#[netns_test(topology = routed)]
fn clear_limit_and_recorded_frames(net: &Net) {
    let cap = net["h1"].capture().unwrap();
    net["h1"].ping("203.0.113.1").count(1).run().unwrap();
    assert!(cap.count(&Filter::arp()) >= 1, "the first ping resolves r1");
    // Frames keep coming after the clear (the interfaces' IPv6 link-local
    // start-up, MLD and DAD, runs for a second or so after the build), but
    // none from before it stays.
    let cleared_at = std::time::SystemTime::now();
    cap.clear();
    let left = cap.packets();
    assert!(
        left.iter().all(|p| p.time >= cleared_at),
        "frames from before clear() are still there: {left:?}"
    );
    cap.set_limit(1_000);
    net["h1"]
        .ping("203.0.113.1")
        .count(10)
        .interval(Duration::from_millis(1))
        .run()
        .unwrap();
    let stats = &cap.stats()[0];
    assert_eq!(stats.interface, "h1/eth0");
    assert!(stats.evicted > 0, "{stats:?}");
    let kept: usize = cap.packets().iter().map(|p| p.data.len()).sum();
    assert!(kept <= 1_000, "{kept} bytes kept");
    assert_eq!(stats.kernel_drops, 0, "{stats:?}");
    // The hook a userspace wire will use for the frames it drops.
    let frame = cap.packets().last().unwrap().data.clone();
    cap.record(
        "h1",
        "eth0",
        Direction::Out,
        &frame,
        "dropped by the wire: loss 100%",
    )
    .unwrap();
    let last = cap.packets().pop().unwrap();
    assert_eq!(
        last.comment.as_deref(),
        Some("dropped by the wire: loss 100%")
    );
    assert!(
        last.to_string()
            .ends_with(" -- dropped by the wire: loss 100%"),
        "{last}"
    );
}

/// Interfaces that do not exist are refused with the node and name.
#[netns_test(topology = routed)]
fn unknown_interface_is_an_error(net: &Net) {
    let err = net["h1"].capture_iface("eth9").unwrap_err().to_string();
    assert!(
        err.contains("capture on h1/eth9") && err.contains("no interface `eth9` in node `h1`"),
        "{err}"
    );
}

/// loopback is captured too; each frame on it is seen once, arriving (as
/// tcpdump shows it): the kernel hands a packet socket a copy leaving
/// too, which is left out.
#[netns_test(topology = routed)]
fn loopback_shows_each_frame_once(net: &Net) {
    let lo = net["h2"].capture_iface("lo").unwrap();
    net["h2"].ping("127.0.0.1").count(1).run().unwrap();
    lo.assert_count(&Filter::echo_request().on("h2", "lo"), 1);
    lo.assert_count(&Filter::echo_reply().on("h2", "lo"), 1);
    lo.assert_count(&Filter::new().on("h2", "lo").outgoing(), 0);
}

/// h1 -- r1 -- h2, routed, in IPv4 and IPv6.
fn dual_stack() -> Topology {
    crate::common::dual_stack_router(true)
}

/// ICMP types are per family: a hop limit that runs out in IPv6 brings
/// ICMPv6 type 3 (time exceeded), which is not ICMPv4 type 3 (destination
/// unreachable); in IPv4, time exceeded is type 11.
#[netns_test(topology = dual_stack)]
fn icmp_types_are_per_family(net: &Net) {
    let cap = net["h1"].capture().unwrap();
    for dst in ["2001:db8:2::1", "203.0.113.1"] {
        let r = net["h1"].ping(dst).ttl(1).count(1).run().unwrap();
        assert_eq!(r.received, 0, "{r}");
    }
    let back = |f: Filter| f.on("h1", "eth0").incoming();
    cap.assert_count(&back(Filter::new().icmpv6_type(3)), 1);
    cap.assert_count(&back(Filter::new().icmp_type(11)), 1);
    cap.assert_never(&Filter::new().icmp_type(3));
    cap.assert_never(&Filter::new().icmpv6_type(11));
}

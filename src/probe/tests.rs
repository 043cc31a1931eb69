//! Live probe tests: each makes its own namespace and only sends to loopback
//! inside it (or to a documentation address with no route, which never
//! leaves the namespace). Needs root (or a user namespace with CAP_NET_RAW).

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};
use std::time::Duration;

use super::*;
use crate::NetNs;

const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

fn ns(name: &str) -> NetNs {
    NetNs::new(name).expect("create a namespace (run the tests as root)")
}

fn fast(count: u32) -> PingOptions {
    PingOptions::new()
        .count(count)
        .interval(Duration::from_millis(10))
        .timeout(Duration::from_secs(1))
}

#[test]
fn ping_loopback_v4_three_of_three() {
    let ns = ns("ping4");
    let r = ns.run(|| ping(V4, &fast(3))).unwrap().unwrap();
    assert_eq!((r.transmitted, r.received, r.duplicates), (3, 3, 0), "{r}");
    assert!(r.errors.is_empty(), "{r}");
    let seqs: Vec<u16> = r.replies.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
    for e in &r.replies {
        assert_eq!(e.ttl, Some(64), "{r}");
        assert_eq!(e.from, V4);
        assert_eq!(e.bytes, 64);
        assert!(e.rtt < Duration::from_millis(500));
    }
    assert_eq!(r.loss_percent(), 0.0);
    assert!(r.rtt().is_some());
    // Interval respected: the third request left ~20 ms after the first.
    assert!(r.time >= Duration::from_millis(19), "{:?}", r.time);
    let text = r.to_string();
    assert!(
        text.contains("64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time="),
        "{text}"
    );
    assert!(
        text.contains("3 packets transmitted, 3 received, 0% packet loss, time 2"),
        "{text}"
    );
    assert!(text.contains("rtt min/avg/max/mdev = "), "{text}");
}

#[test]
fn ping_loopback_v6_three_of_three() {
    let ns = ns("ping6");
    let r = ns.run(|| ping(V6, &fast(3))).unwrap().unwrap();
    assert_eq!((r.transmitted, r.received), (3, 3), "{r}");
    for e in &r.replies {
        assert_eq!(e.ttl, Some(64), "{r}");
        assert_eq!(e.from, V6);
        assert_eq!(e.bytes, 64);
    }
    assert!(r
        .to_string()
        .contains("64 bytes from ::1: icmp_seq=1 ttl=64 time="));
}

#[test]
fn ping_options_apply() {
    let ns = ns("pingopt");
    ns.run(|| {
        let r = ping(V4, &fast(2).payload_size(1000).ttl(3).interface("lo")).unwrap();
        assert_eq!(r.received, 2, "{r}");
        assert_eq!(r.replies[0].bytes, 1008);
        let r = ping(V4, &fast(1).payload_size(0).source(V4)).unwrap();
        assert_eq!(r.received, 1, "{r}");
        let r = ping(V6, &fast(1).payload_size(4).source(V6)).unwrap();
        assert_eq!(r.received, 1, "{r}");
        // A payload too large for the loopback MTU is still sent (fragmented).
        let r = ping(V4, &fast(1).payload_size(65_000)).unwrap();
        assert_eq!(r.received, 1, "{r}");
    })
    .unwrap();
}

#[test]
fn ping_bind_failures_are_typed() {
    let ns = ns("pingbind");
    ns.run(|| {
        let e = ping(V4, &fast(1).interface("nosuch0")).unwrap_err();
        assert!(matches!(e, ProbeError::Interface { .. }), "{e}");
        assert!(e.to_string().contains("nosuch0"), "{e}");
        let e = ping(V4, &fast(1).source("198.51.100.1".parse().unwrap())).unwrap_err();
        assert!(matches!(e, ProbeError::SourceAddress { .. }), "{e}");
        let e = ping(V6, &fast(1).source(V4)).unwrap_err();
        assert!(matches!(e, ProbeError::FamilyMismatch { .. }), "{e}");
        let e = ping(V4, &fast(0)).unwrap_err();
        assert!(
            matches!(
                e,
                ProbeError::InvalidOption {
                    option: "count",
                    ..
                }
            ),
            "{e}"
        );
    })
    .unwrap();
}

#[test]
fn ping_without_route_is_a_result() {
    // Only `lo` exists: the send fails with ENETUNREACH, nothing leaves.
    let ns = ns("noroute");
    let dst: IpAddr = "198.51.100.2".parse().unwrap();
    let r = ns.run(|| ping(dst, &fast(2))).unwrap().unwrap();
    assert_eq!((r.transmitted, r.received), (2, 0), "{r}");
    assert_eq!(r.errors.len(), 2, "{r}");
    assert_eq!(
        r.errors[0].kind,
        PingErrorKind::Send {
            errno: libc::ENETUNREACH
        }
    );
    assert_eq!(r.loss_percent(), 100.0);
    let text = r.to_string();
    assert!(
        text.contains("ping: sendmsg: Network is unreachable"),
        "{text}"
    );
    assert!(text.contains("+2 errors, 100% packet loss"), "{text}");
    assert!(!text.contains("rtt"), "{text}");
}

#[test]
fn concurrent_pings_in_one_namespace_do_not_mix() {
    let ns = ns("concur");
    ns.run(|| {
        std::thread::scope(|s| {
            let a = s.spawn(|| ping(V4, &fast(5)));
            let b = s.spawn(|| ping(V4, &fast(5)));
            for h in [a, b] {
                let r = h.join().unwrap().unwrap();
                assert_eq!((r.received, r.duplicates), (5, 0), "{r}");
            }
        });
    })
    .unwrap();
}

#[test]
fn probes_from_a_foreign_namespace_are_refused() {
    // The test thread is in the namespace the test runner started in.
    let check = |e: ProbeError| assert!(matches!(e, ProbeError::ForeignNamespace { .. }), "{e}");
    check(ping(V4, &PingOptions::new()).unwrap_err());
    check(traceroute(V4, &TraceOptions::new()).unwrap_err());
    check(tcp_connect("127.0.0.1:9".parse().unwrap(), Duration::from_millis(10)).unwrap_err());
    check(
        udp_request(
            "127.0.0.1:9".parse().unwrap(),
            b"x",
            Duration::from_millis(10),
        )
        .unwrap_err(),
    );
    check(wait_reachable(V4, Duration::from_millis(10)).unwrap_err());
    check(wait_port_open("127.0.0.1:9".parse().unwrap(), Duration::from_millis(10)).unwrap_err());
}

#[test]
fn tcp_open_refused_and_unreachable() {
    let ns = ns("tcp");
    ns.run(|| {
        for ip in [V4, V6] {
            let l = TcpListener::bind(SocketAddr::new(ip, 0)).unwrap();
            let addr = l.local_addr().unwrap();
            let p = tcp_connect(addr, Duration::from_secs(1)).unwrap();
            assert_eq!(p.state, PortState::Open, "{p}");
            assert!(p.is_open());
            drop(l);
            let p = tcp_connect(addr, Duration::from_secs(1)).unwrap();
            assert_eq!(p.state, PortState::Refused, "{p}");
        }
        let p = tcp_connect("198.51.100.2:80".parse().unwrap(), Duration::from_secs(1)).unwrap();
        assert_eq!(
            p.state,
            PortState::Unreachable {
                errno: libc::ENETUNREACH,
                message: "Network is unreachable".into()
            },
            "{p}"
        );
        let e = tcp_connect("127.0.0.1:0".parse().unwrap(), Duration::from_secs(1)).unwrap_err();
        assert!(matches!(e, ProbeError::InvalidDestination { .. }), "{e}");
    })
    .unwrap();
}

#[test]
fn udp_echo_refused_and_timeout() {
    let ns = ns("udp");
    ns.run(|| {
        for ip in [V4, V6] {
            let server = UdpSocket::bind(SocketAddr::new(ip, 0)).unwrap();
            let addr = server.local_addr().unwrap();
            let echo = std::thread::spawn(move || {
                let mut buf = [0u8; 1500];
                let (n, from) = server.recv_from(&mut buf).unwrap();
                server.send_to(&buf[..n], from).unwrap();
                server
            });
            let p = udp_request(addr, b"hello", Duration::from_secs(2)).unwrap();
            assert_eq!(p.reply(), Some(&b"hello"[..]), "{p:?}");
            let server = echo.join().unwrap();
            // Bound but silent: a timeout.
            let p = udp_request(addr, b"hello", Duration::from_millis(50)).unwrap();
            assert_eq!(p.outcome, UdpOutcome::Timeout);
            assert!(p.elapsed >= Duration::from_millis(50));
            drop(server);
            // Closed: port unreachable, ECONNREFUSED.
            let p = udp_request(addr, b"hello", Duration::from_secs(1)).unwrap();
            assert_eq!(p.outcome, UdpOutcome::Refused, "{p:?}");
        }
    })
    .unwrap();
}

#[test]
fn traceroute_loopback_reaches_in_one_hop() {
    let ns = ns("trace");
    ns.run(|| {
        for dst in [V4, V6] {
            for mode in [TraceMode::Icmp, TraceMode::udp()] {
                let opts = TraceOptions::new()
                    .mode(mode)
                    .timeout(Duration::from_secs(1));
                let r = traceroute(dst, &opts).unwrap();
                assert!(r.reached(), "{mode:?}\n{r}");
                assert_eq!(r.hops.len(), 1, "{r}");
                assert_eq!(r.path(), vec![Some(dst)]);
                assert_eq!(r.hops[0].probes.len(), 3);
                let text = r.to_string();
                let size = if dst.is_ipv4() { 60 } else { 80 };
                assert!(
                    text.starts_with(&format!(
                        "traceroute to {dst} ({dst}), 30 hops max, {size} byte packets\n 1  {dst}  "
                    )),
                    "{text}"
                );
                assert_eq!(text.matches(" ms").count(), 3, "{text}");
            }
        }
        let mut r = traceroute(V4, &TraceOptions::new().probes_per_hop(1)).unwrap();
        r.resolve_names(|a| (a == V4).then(|| "self".into()));
        assert_eq!(r.names(), vec![Some("self")]);
        assert!(r.to_string().contains(" 1  self (127.0.0.1)  "), "{r}");
    })
    .unwrap();
}

#[test]
fn traceroute_without_route_ends_at_once() {
    let ns = ns("tracenr");
    let dst: IpAddr = "203.0.113.2".parse().unwrap();
    let r = ns
        .run(|| traceroute(dst, &TraceOptions::new()))
        .unwrap()
        .unwrap();
    assert_eq!(r.hops.len(), 1, "{r}");
    assert!(!r.reached());
    assert!(matches!(
        r.hops[0].probes[0],
        HopProbe::SendFailed {
            errno: libc::ENETUNREACH
        }
    ));
}

#[test]
fn wait_helpers() {
    let ns = ns("wait");
    ns.run(|| {
        let r = wait_reachable(V4, Duration::from_secs(2)).unwrap();
        assert_eq!(r.received, 1);
        let e = wait_reachable("198.51.100.2".parse().unwrap(), Duration::from_millis(100))
            .unwrap_err();
        match &e {
            ProbeError::NotReachable { attempts, last, .. } => {
                assert!(*attempts >= 2, "{e}");
                assert_eq!(last.received, 0);
            }
            other => panic!("{other}"),
        }
        assert!(e.to_string().contains("ping statistics"), "{e}");

        // A listener that appears later.
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = probe.local_addr().unwrap();
        drop(probe);
        let e = wait_port_open(addr, Duration::from_millis(60)).unwrap_err();
        match &e {
            ProbeError::PortNotOpen { last, .. } => assert_eq!(last.state, PortState::Refused),
            other => panic!("{other}"),
        }
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(80));
                let l = TcpListener::bind(addr).unwrap();
                let (mut c, _) = l.accept().unwrap();
                let _ = c.write_all(b"x");
                let mut b = [0u8; 1];
                let _ = c.read(&mut b);
            });
            let p = wait_port_open(addr, Duration::from_secs(2)).unwrap();
            assert!(p.is_open());
        });
    })
    .unwrap();
}

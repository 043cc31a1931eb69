//! Probe tests across a router: h1 -- r -- h2, dual stack, all inside test
//! namespaces (documentation prefixes only).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::*;
use crate::{Net, Route, Topology};

const H1_V4: &str = "198.51.100.1";
const R_H1_V4: &str = "198.51.100.254";
const H2_V4: &str = "203.0.113.2";
const H1_V6: &str = "2001:db8:1::1";
const R_H1_V6: &str = "2001:db8:1::fe";
const H2_V6: &str = "2001:db8:2::2";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn lab() -> Net {
    let t = Topology::new()
        .link(
            ("h1", "h1-r", ["198.51.100.1/24", "2001:db8:1::1/64"]),
            ("r", "r-h1", ["198.51.100.254/24", "2001:db8:1::fe/64"]),
        )
        .link(
            ("r", "r-h2", ["203.0.113.254/24", "2001:db8:2::fe/64"]),
            ("h2", "h2-r", ["203.0.113.2/24", "2001:db8:2::2/64"]),
        )
        .forwarding("r")
        .route("h1", Route::default_via(R_H1_V4))
        .route("h1", Route::default_via(R_H1_V6))
        .route("h2", Route::default_via("203.0.113.254"))
        .route("h2", Route::default_via("2001:db8:2::fe"));
    Net::build(&t).expect("build the lab (run the tests as root)")
}

fn fast(count: u32) -> PingOptions {
    PingOptions::new()
        .count(count)
        .interval(Duration::from_millis(10))
        .timeout(Duration::from_secs(2))
}

#[test]
fn ping_through_a_router() {
    let net = lab();
    let _ = H1_V4;
    let _ = H1_V6;
    net["h1"]
        .run(|| {
            for dst in [ip(H2_V4), ip(H2_V6)] {
                let r = ping(dst, &fast(3)).unwrap();
                assert_eq!((r.transmitted, r.received), (3, 3), "{r}");
                assert!(r.replies.iter().all(|e| e.ttl == Some(63)), "{r}");
                assert!(r.replies.iter().all(|e| e.from == dst), "{r}");
            }
        })
        .unwrap();
}

#[test]
fn ttl_exceeded_is_recorded_with_the_router() {
    let net = lab();
    net["h1"]
        .run(|| {
            for (dst, router, text) in [
                (ip(H2_V4), ip(R_H1_V4), "Time to live exceeded"),
                (ip(H2_V6), ip(R_H1_V6), "Time exceeded: Hop limit"),
            ] {
                let r = ping(dst, &fast(2).ttl(1)).unwrap();
                assert_eq!(r.received, 0, "{r}");
                assert_eq!(r.errors.len(), 2, "{r}");
                assert_eq!(r.errors[0].from, Some(router));
                assert_eq!(r.errors[0].icmp_kind(), Some(IcmpErrorKind::TtlExceeded));
                let s = r.to_string();
                assert!(
                    s.contains(&format!("From {router} icmp_seq=1 {text}")),
                    "{s}"
                );
                assert!(s.contains("+2 errors, 100% packet loss"), "{s}");
            }
        })
        .unwrap();
}

#[test]
fn traceroute_through_a_router() {
    let net = lab();
    let name = |a: IpAddr| net.node_of(a).map(|n| n.name().to_string());
    for (dst, router) in [(ip(H2_V4), ip(R_H1_V4)), (ip(H2_V6), ip(R_H1_V6))] {
        for mode in [TraceMode::Icmp, TraceMode::udp()] {
            let mut r = net["h1"]
                .run(|| traceroute(dst, &TraceOptions::new().mode(mode)))
                .unwrap()
                .unwrap();
            assert!(r.reached(), "{mode:?}\n{r}");
            assert_eq!(r.path(), vec![Some(router), Some(dst)], "{r}");
            assert!(r.hops[0].probes.iter().all(|p| p
                .as_reply()
                .is_some_and(|x| x.kind == HopKind::TimeExceeded)));
            r.resolve_names(name);
            assert_eq!(r.names(), vec![Some("r"), Some("h2")]);
            let s = r.to_string();
            assert!(s.contains(&format!("\n 1  r ({router})  ")), "{s}");
            assert!(s.contains(&format!("\n 2  h2 ({dst})  ")), "{s}");
        }
    }
}

#[test]
fn unreachable_host_behind_a_router() {
    // r cannot resolve the neighbour and says so after ~3 s of ARP / ND.
    let net = lab();
    let gone_v4 = ip("203.0.113.99");
    let gone_v6 = ip("2001:db8:2::99");
    net["h1"]
        .run(|| {
            std::thread::scope(|s| {
                // The router answers after about 3 s of ARP or ND, and
                // later on a loaded machine: every probe waits 10 s.
                let p4 = s.spawn(|| ping(gone_v4, &fast(1).timeout(Duration::from_secs(10))));
                let p6 = s.spawn(|| ping(gone_v6, &fast(1).timeout(Duration::from_secs(10))));
                // A TCP socket busy in a system call when the router's error
                // arrives keeps it as a soft error and waits for the error
                // to its next SYN: another ~3 s of ARP at the router.
                let t4 = s.spawn(|| {
                    tcp_connect(SocketAddr::new(gone_v4, 80), Duration::from_secs(10))
                });
                let u4 = s.spawn(|| {
                    udp_request(SocketAddr::new(gone_v4, 7), b"x", Duration::from_secs(10))
                });
                let u6 = s.spawn(|| {
                    udp_request(SocketAddr::new(gone_v6, 7), b"x", Duration::from_secs(10))
                });

                let r = p4.join().unwrap().unwrap();
                assert_eq!(r.received, 0, "{r}");
                assert_eq!(
                    r.errors.first().and_then(PingError::icmp_kind),
                    Some(IcmpErrorKind::Unreachable(Unreachable::Host)),
                    "{r}"
                );
                assert!(
                    r.to_string()
                        .contains("From 198.51.100.254 icmp_seq=1 Destination Host Unreachable"),
                    "{r}"
                );
                let r = p6.join().unwrap().unwrap();
                assert_eq!(
                    r.errors.first().and_then(PingError::icmp_kind),
                    Some(IcmpErrorKind::Unreachable(Unreachable::Address)),
                    "{r}"
                );
                assert!(
                    r.to_string().contains(
                        "From 2001:db8:1::fe icmp_seq=1 Destination unreachable: Address unreachable"
                    ),
                    "{r}"
                );
                let t = t4.join().unwrap().unwrap();
                assert!(
                    matches!(t.state, PortState::Unreachable { errno: libc::EHOSTUNREACH, .. }),
                    "{t}"
                );
                for u in [u4, u6] {
                    let u = u.join().unwrap().unwrap();
                    assert!(
                        matches!(
                            u.outcome,
                            UdpOutcome::Unreachable {
                                errno: libc::EHOSTUNREACH,
                                ..
                            }
                        ),
                        "{u:?}"
                    );
                }
            });
        })
        .unwrap();
}

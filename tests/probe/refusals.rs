//! Probes refused on the way: a router's firewall `reject`, a `prohibit`
//! route, and how traceroute, ping and the path assertion report them.

use std::time::Duration;

use netns_test::assert::{self, Source};
use netns_test::firewall::{Filter, Firewall};
use netns_test::probe::{HopKind, PingErrorKind, TraceMode, TraceOptions, Unreachable};
use netns_test::{assert_path, assert_unreachable, Net};

use super::labs::{router, two_hosts};

/// Port unreachable from r1's `reject` is r1 refusing the probe, not h2
/// answering it: the trace ends at r1 with `!`, unreached.
#[test]
fn a_router_rejecting_the_probe_is_not_the_destination() {
    let net = router(true, true);
    let _fw = net["r1"]
        .set_firewall(Firewall::new().forward(Filter::reject()))
        .unwrap();
    for (dst, r1) in [
        ("203.0.113.1", "198.51.100.254"),
        ("2001:db8:2::1", "2001:db8:1::fe"),
    ] {
        for mode in [TraceMode::Icmp, TraceMode::udp()] {
            let t = net["h1"]
                .traceroute(dst)
                .options(
                    TraceOptions::new()
                        .mode(mode)
                        .probes_per_hop(1)
                        .timeout(Duration::from_secs(2)),
                )
                .run()
                .unwrap();
            assert!(!t.reached(), "{mode:?}\n{t}");
            let last = t.hops.last().unwrap();
            let answer = last.probes[0].as_reply().expect("r1 answers");
            assert_eq!(answer.from, r1.parse::<std::net::IpAddr>().unwrap());
            assert_eq!(answer.kind, HopKind::Unreachable(Unreachable::Port), "{t}");
            let text = t.to_string();
            assert!(
                text.lines().last().unwrap().ends_with(" ms !"),
                "{mode:?}\n{text}"
            );
        }
    }

    let failure =
        assert::path(Source::with_net(&net, &net["h1"]), "203.0.113.1", &["r1"]).unwrap_err();
    assert_eq!(
        failure.reason,
        "the path differs and the destination was not reached"
    );
    let text = failure.to_string();
    assert!(
        text.contains(
            "(hop 2: expected h2, got Destination Port Unreachable from r1 (198.51.100.254))"
        ),
        "{text}"
    );
}

fn add_prohibit_route(net: &Net, node: &str, prefix: &str) {
    let mut ip = net[node].command("ip").unwrap();
    if prefix.contains(':') {
        ip.arg("-6");
    }
    let status = ip
        .args(["route", "add", "prohibit", prefix])
        .status()
        .unwrap();
    assert!(status.success(), "ip route add prohibit {prefix} in {node}");
}

/// EACCES from a `prohibit` route is a failed request, not a broadcast.
#[test]
fn a_prohibit_route_is_a_failed_request_not_a_broadcast() {
    // The library has no prohibit routes; `ip` makes them (CI installs it).
    let ip_installed = std::process::Command::new("ip")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ip_installed {
        println!("skipped: the `ip` binary is not installed (CI installs it)");
        return;
    }
    let net = two_hosts();
    add_prohibit_route(&net, "n1", "203.0.113.0/24");
    add_prohibit_route(&net, "n1", "2001:db8:9::/64");
    for dst in ["203.0.113.2", "2001:db8:9::2"] {
        let r = net["n1"]
            .ping(dst)
            .count(2)
            .interval(Duration::from_millis(10))
            .run()
            .unwrap();
        assert_eq!((r.transmitted, r.received), (2, 0), "{r}");
        assert!(
            r.errors.iter().all(|e| e.kind
                == PingErrorKind::Send {
                    errno: libc::EACCES
                }),
            "{r:?}"
        );
        assert_unreachable!(net["n1"] => dst, "a prohibit route");
    }
}

/// `via` may end with the destination's address instead of its node.
#[test]
fn a_path_may_end_with_the_destination_address() {
    let net = router(true, true);
    assert_path!(net["h1"] => "203.0.113.1", via ["r1", "203.0.113.1"]);
    assert_path!(net["h1"] => "h2", via ["198.51.100.254", "203.0.113.1"]);
    assert_path!(net["h1"] => "2001:db8:2::1", via ["r1", "2001:db8:2:0::1"]);
}

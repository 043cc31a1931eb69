//! The classic labs, checked with the probes and the assertion macros.
//!
//! Every lab lives in namespaces built by the test (documentation prefixes
//! only: 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32). Needs root, or the
//! rootless user namespace the library enters by itself.

use std::net::IpAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use netns_test::assert::CellState;
use netns_test::probe::{IcmpErrorKind, PingErrorKind, Unreachable};
use netns_test::Family;
use netns_test::{assert_connectivity, assert_path, assert_reachable, assert_unreachable};
use netns_test::{Net, Route, Topology};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn build(t: Topology) -> Net {
    Net::build(&t).expect("build the lab (run as root, or with user namespaces enabled)")
}

/// The panic message of `f`, which must panic.
fn panic_text(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("the assertion should fail");
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

// ---------------------------------------------------------------- labs

/// n1 -- n2 on one veth pair, dual stack.
pub(crate) fn two_hosts() -> Net {
    build(Topology::new().link(
        ("n1", "n1-veth0", ["198.51.100.1/24", "2001:db8::1/64"]),
        ("n2", "n2-veth0", ["198.51.100.2/24", "2001:db8::2/64"]),
    ))
}

/// h1 -- r1 -- h2, dual stack; `forwarding` on r1 or not; `return_route`:
/// whether h2 has its default route back.
pub(crate) fn router(forwarding: bool, return_route: bool) -> Net {
    let mut t = Topology::new()
        .link(
            ("h1", "h1-r1", ["198.51.100.1/24", "2001:db8:1::1/64"]),
            ("r1", "r1-h1", ["198.51.100.254/24", "2001:db8:1::fe/64"]),
        )
        .link(
            ("r1", "r1-h2", ["203.0.113.254/24", "2001:db8:2::fe/64"]),
            ("h2", "h2-r1", ["203.0.113.1/24", "2001:db8:2::1/64"]),
        )
        .route("h1", Route::default_via("198.51.100.254"))
        .route("h1", Route::default_via("2001:db8:1::fe"));
    if forwarding {
        t = t.forwarding("r1");
    }
    if return_route {
        t = t
            .route("h2", Route::default_via("203.0.113.254"))
            .route("h2", Route::default_via("2001:db8:2::fe"));
    }
    build(t)
}

/// h1 -- r1 -- r2 -- h2 with static routes on each router; `r1_route`:
/// whether r1 knows the way to h2's subnets.
fn chain(r1_route: bool) -> Net {
    let mut t = Topology::new()
        .link(
            ("h1", "h1-r1", ["198.51.100.1/26", "2001:db8:1::1/64"]),
            ("r1", "r1-h1", ["198.51.100.62/26", "2001:db8:1::fe/64"]),
        )
        .link(
            ("r1", "r1-r2", ["198.51.100.65/26", "2001:db8:12::1/64"]),
            ("r2", "r2-r1", ["198.51.100.126/26", "2001:db8:12::2/64"]),
        )
        .link(
            ("r2", "r2-h2", ["203.0.113.254/24", "2001:db8:2::fe/64"]),
            ("h2", "h2-r2", ["203.0.113.1/24", "2001:db8:2::1/64"]),
        )
        .forwarding("r1")
        .forwarding("r2")
        .route("h1", Route::default_via("198.51.100.62"))
        .route("h1", Route::default_via("2001:db8:1::fe"))
        .route("h2", Route::default_via("203.0.113.254"))
        .route("h2", Route::default_via("2001:db8:2::fe"))
        .route("r2", Route::to("198.51.100.0/26").via("198.51.100.65"))
        .route("r2", Route::to("2001:db8:1::/64").via("2001:db8:12::1"));
    if r1_route {
        t = t
            .route("r1", Route::to("203.0.113.0/24").via("198.51.100.126"))
            .route("r1", Route::to("2001:db8:2::/64").via("2001:db8:12::2"));
    }
    build(t)
}

// ------------------------------------------------------- two hosts

#[test]
fn two_hosts_three_of_three() {
    let net = two_hosts();
    for dst in ["198.51.100.2", "2001:db8::2"] {
        let r = net["n1"]
            .ping(dst)
            .count(3)
            .interval(Duration::from_millis(10))
            .run()
            .unwrap();
        assert_eq!((r.transmitted, r.received), (3, 3), "{r}");
        assert!(r.errors.is_empty(), "{r}");
        // iputils' shape.
        let text = format!("{r}");
        let first = text.lines().next().unwrap();
        if dst.contains(':') {
            assert_eq!(first, "PING 2001:db8::2 (2001:db8::2) 56 data bytes");
        } else {
            assert_eq!(
                first,
                "PING 198.51.100.2 (198.51.100.2) 56(84) bytes of data."
            );
        }
        assert!(text.contains(&format!("64 bytes from {dst}: icmp_seq=3 ttl=64 time=")));
        assert!(text.contains(&format!(
            "--- {dst} ping statistics ---\n3 packets transmitted, 3 received, 0% packet loss, time "
        )));
        assert!(text.contains("\nrtt min/avg/max/mdev = "));
    }
    let r = assert_reachable!(net["n2"] => "198.51.100.1");
    assert_eq!(r.received, 3);
    assert_reachable!(net["n2"] => ip("2001:db8::1"));
    assert_reachable!(net["n1"] => "n2", "n2 by name is its first address");
    assert_path!(net["n1"] => "2001:db8::2", via []);
}

// ------------------------------------------------- host, router, host

#[test]
fn router_lab_traceroute_names_router_then_destination() {
    let net = router(true, true);
    for dst in ["203.0.113.1", "2001:db8:2::1"] {
        let t = net["h1"].traceroute(dst).run().unwrap();
        assert!(t.reached(), "{t}");
        assert_eq!(t.names(), [Some("r1"), Some("h2")], "{t}");
        let text = t.to_string();
        assert!(text.contains(" 1  r1 ("), "{text}");
        assert!(text.contains(&format!(" 2  h2 ({dst})")), "{text}");
        assert_path!(net["h1"] => dst, via ["r1"]);
        assert_reachable!(net["h1"] => dst);
    }
}

#[test]
fn router_without_forwarding_is_unreachable() {
    let net = router(false, true);
    for dst in ["203.0.113.1", "2001:db8:2::1"] {
        let r = assert_unreachable!(net["h1"] => dst, "r1 does not forward");
        // The router drops silently: no ICMP error comes back.
        assert!(r.errors.is_empty(), "{r}");
        // The router itself still answers.
    }
    assert_reachable!(net["h1"] => "198.51.100.254");
    assert_reachable!(net["h1"] => "r1");
}

// -------------------------------------------------- two-router chain

#[test]
fn chain_has_a_three_hop_path() {
    let net = chain(true);
    for dst in ["203.0.113.1", "2001:db8:2::1"] {
        let t = assert_path!(net["h1"] => dst, via ["r1", "r2"]);
        assert_eq!(t.hops.len(), 3, "{t}");
        assert_eq!(t.names(), [Some("r1"), Some("r2"), Some("h2")]);
        // Naming the destination's node is allowed too.
        assert_path!(net["h1"] => dst, via ["r1", "r2", "h2"]);
        // And the way back.
        let back = if dst.contains(':') {
            "2001:db8:1::1"
        } else {
            "198.51.100.1"
        };
        assert_path!(net["h2"] => back, via ["r2", "r1"]);
    }
    // Hops as Strings, and a hop given by address.
    let second = String::from("r2");
    assert_path!(net["h1"] => "203.0.113.1", via ["r1", second]);
    assert_path!(net["h1"] => "203.0.113.1", via ["198.51.100.62", "r2"]);
    let r = assert_reachable!(net["h1"] => "203.0.113.1");
    assert!(r.replies.iter().all(|e| e.ttl == Some(62)), "{r}");
}

#[test]
#[should_panic(expected = "hop 2: expected r3, got r2 (198.51.100.126)")]
fn chain_wrong_path_panics_with_the_hop() {
    let net = chain(true);
    assert_path!(net["h1"] => "203.0.113.1", via ["r1", "r3"]);
}

#[test]
fn chain_wrong_path_message_has_diff_trace_and_reports() {
    let net = chain(true);
    let text = panic_text(|| {
        assert_path!(net["h1"] => "203.0.113.1", via ["r1", "r3"], "case {}", 7);
    });
    let head = "assert_path! failed: h1 => 203.0.113.1 (node h2): the path differs\n  case 7\n  \
                expected: h1 -> r1 -> r3 -> h2\n  actual:   h1 -> r1 -> r2 -> h2\n            \
                (hop 2: expected r3, got r2 (198.51.100.126))\nprobe from h1:\n  \
                traceroute to 203.0.113.1 (203.0.113.1), 30 hops max, 60 byte packets\n   \
                1  r1 (198.51.100.62)  ";
    assert!(text.starts_with(head), "{text}");
    assert!(text.contains("\n   2  r2 (198.51.100.126)  "), "{text}");
    assert!(text.contains("\n   3  h2 (203.0.113.1)  "), "{text}");
    // Every node named on either line: h1, r1, r3 (unknown), h2, r2.
    for node in ["h1", "r1", "h2", "r2"] {
        assert!(
            text.contains(&format!("node {node}:\n  $ ip address show\n")),
            "{node}: {text}"
        );
    }
    assert!(
        text.contains("node r3: no such node in the network"),
        "{text}"
    );
    assert!(
        text.contains("  203.0.113.0/24 via 198.51.100.126 dev r1-r2 proto static"),
        "r1's routes: {text}"
    );
    assert!(text.contains("  $ ip neigh show\n"), "{text}");

    // The same check as a function: a Result, no panic.
    let src = netns_test::assert::Source::with_net(&net, &net["h1"]);
    let f = netns_test::assert::path(src, "2001:db8:2::1", &["r2", "r1"]).unwrap_err();
    assert_eq!(f.details[0], "expected: h1 -> r2 -> r1 -> h2");
    assert_eq!(f.details[1], "actual:   h1 -> r1 -> r2 -> h2");
    assert_eq!(
        f.details[2],
        "          (hop 1: expected r2, got r1 (2001:db8:1::fe))"
    );
    assert_eq!(
        f.details[3],
        "          (hop 2: expected r1, got r2 (2001:db8:12::2))"
    );
}

// ------------------------------------------------------ missing routes

#[test]
fn missing_route_at_the_source_records_the_failed_send() {
    // h1 has no route to 203.0.113.0/24 or 2001:db8:99::/64.
    let net = two_hosts();
    for dst in ["203.0.113.1", "2001:db8:99::1"] {
        let r = assert_unreachable!(net["n1"] => dst);
        assert_eq!(r.errors.len(), 3, "{r}");
        assert!(
            r.errors.iter().all(|e| matches!(
                e.kind,
                PingErrorKind::Send { errno } if errno == libc_enetunreach()
            )),
            "{r}"
        );
        assert!(
            format!("{r}").contains("ping: sendmsg: Network is unreachable"),
            "{r}"
        );
    }
}

fn libc_enetunreach() -> i32 {
    std::io::Error::from(std::io::ErrorKind::NetworkUnreachable)
        .raw_os_error()
        .unwrap_or(101)
}

#[test]
fn missing_route_at_a_router_records_its_icmp_error() {
    // r1 has no route to h2's subnets: it answers "net unreachable".
    //
    // Linux limits these IPv4 errors per source address (5 at once, then
    // one per second: net.ipv4.route.error_burst / error_cost, which exist
    // in the initial namespace only), so each check below asks for at least
    // one error, not one per request.
    let net = chain(false);
    // assert_reachable! fails with the ICMP error in its first line.
    let text = panic_text(|| {
        assert_reachable!(net["h1"] => "203.0.113.1");
    });
    assert!(
        text.starts_with(
            "assert_reachable! failed: h1 => 203.0.113.1 (node h2): 0 of 3 echo requests \
             answered; first error: From 198.51.100.62 icmp_seq="
        ),
        "{text}"
    );
    // The source's and the destination's state.
    assert!(text.contains("node h1:\n  $ ip address show\n"), "{text}");
    assert!(
        text.contains("  default via 198.51.100.62 dev h1-r1 proto static"),
        "{text}"
    );
    assert!(text.contains("node h2:\n"), "{text}");
    assert!(
        text.contains("    inet 203.0.113.1/24 brd 203.0.113.255 scope global h2-r2"),
        "{text}"
    );

    let r = assert_unreachable!(net["h1"] => "203.0.113.1");
    for e in &r.errors {
        assert_eq!(e.from, Some(ip("198.51.100.62")), "{r}");
        assert_eq!(
            e.icmp_kind(),
            Some(IcmpErrorKind::Unreachable(Unreachable::Net)),
            "{r}"
        );
    }

    // IPv6 has no such limit in a router (its icmp ratelimit is 0): every
    // request gets its error.
    let r = assert_unreachable!(net["h1"] => "2001:db8:2::1");
    assert_eq!(r.errors.len(), 3, "{r}");
    for e in &r.errors {
        assert_eq!(e.from, Some(ip("2001:db8:1::fe")), "{r}");
        assert_eq!(
            e.icmp_kind(),
            Some(IcmpErrorKind::Unreachable(Unreachable::NoRoute)),
            "{r}"
        );
    }
    assert!(
        format!("{r}").contains("From 2001:db8:1::fe icmp_seq=1 Destination unreachable: No route"),
        "{r}"
    );

    // The trace stops at r1 with traceroute's `!N`.
    let t = net["h1"].traceroute("2001:db8:2::1").run().unwrap();
    assert!(!t.reached(), "{t}");
    assert_eq!(t.names(), [Some("r1")], "{t}");
    assert!(t.to_string().contains(" !N"), "{t}");
}

#[test]
fn missing_return_route_is_silence() {
    // h2 gets the requests but has no route back: no reply, no ICMP error.
    let net = router(true, false);
    for dst in ["203.0.113.1", "2001:db8:2::1"] {
        let r = assert_unreachable!(net["h1"] => dst);
        assert_eq!((r.received, r.errors.len()), (0, 0), "{r}");
        let text = panic_text(|| {
            assert_reachable!(net["h1"] => dst);
        });
        assert!(
            text.contains("0 of 3 echo requests answered, no ICMP error came back"),
            "{text}"
        );
    }
}

// ------------------------------------------------ connectivity matrix

#[test]
fn pingall_on_a_switch() {
    let net = build(Topology::new().bridge(
        "sw",
        [
            ("h1", "eth0", ["198.51.100.1/24", "2001:db8::1/64"]),
            ("h2", "eth0", ["198.51.100.2/24", "2001:db8::2/64"]),
            ("h3", "eth0", ["198.51.100.3/24", "2001:db8::3/64"]),
        ],
    ));
    let m = assert_connectivity!(net);
    // The switch node has no address: not in the matrix.
    assert_eq!(m.nodes, ["h1", "h2", "h3"]);
    assert_eq!(m.families, [Family::V4, Family::V6]);
    assert_eq!(
        m.to_string(),
        "*** Ping: testing reachability (IPv4)
      h1    h2    h3
h1    --    ok    ok
h2    ok    --    ok
h3    ok    ok    --
*** Ping: testing reachability (IPv6)
      h1    h2    h3
h1    --    ok    ok
h2    ok    --    ok
h3    ok    ok    --
*** Results: 0% dropped (12/12 received)"
    );
}

#[test]
fn pingall_with_exceptions_and_failures() {
    // r1 does not forward: h1 and h2 each reach r1 only.
    let net = router(false, true);
    let m = net
        .connectivity()
        .family(Family::V4)
        .except("h1", "h2")
        .check()
        .expect("only the exception fails");
    assert_eq!(
        m.cell("h1", "h2", Family::V4).unwrap().state,
        CellState::Skipped { answered: false }
    );
    assert_eq!(
        m.to_string(),
        "*** Ping: testing reachability (IPv4)
      h1    r1    h2
h1    --    ok    skip
r1    ok    --    ok
h2    skip  ok    --
*** Results: 0% dropped (4/4 received)"
    );

    // Without the exception: the macro's panic holds the table, the failed
    // pings and the reports of h1 and h2 (not r1).
    let text = panic_text(|| {
        assert_connectivity!(net, "r1 {} forward", "does not");
    });
    assert!(
        text.starts_with("assert_connectivity! failed: r1 does not forward\n"),
        "{text}"
    );
    assert!(text.contains("h1    --    ok    x\n"), "{text}");
    assert!(
        text.contains("*** Ping: testing reachability (IPv6)\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "failed:\n  h1 -> h2 (203.0.113.1): 0 of 2 echo requests answered, no ICMP error came back\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("\n  h2 -> h1 (198.51.100.1): 0 of 2"),
        "{text}"
    );
    assert!(
        text.contains("*** Results: 33% dropped (8/12 received)"),
        "{text}"
    );
    assert!(
        text.contains("ping from h1 to h2 (203.0.113.1):\n  PING 203.0.113.1"),
        "{text}"
    );
    assert!(text.contains("node h1:\n  $ ip address show"), "{text}");
    assert!(text.contains("node h2:\n  $ ip address show"), "{text}");
    assert!(!text.contains("node r1:"), "{text}");
}

#[test]
fn pingall_flags_an_unneeded_exception() {
    let net = router(true, true);
    let m = assert_connectivity!(net, except[("h1", "h2")]);
    assert!(m.is_ok());
    let notes = m.notes();
    assert!(
        notes.contains(&"h1 -> h2 (203.0.113.1) answered, but is declared an exception".into()),
        "{m}"
    );
    assert_eq!(notes.len(), 4, "{m}"); // both directions, both families
    assert!(m.to_string().contains("\nnotes:\n  h1 -> h2"), "{m}");
    // An unknown node in an exception is an error of the check.
    let f = net.connectivity().except("h1", "h9").check().unwrap_err();
    assert_eq!(f.matrix.errors, ["unknown node `h9` in an exception"]);
}

// ------------------------------------------------------ macro forms

mod forms {
    use super::*;

    struct Lab {
        net: Net,
    }

    impl Lab {
        fn check(&self) {
            assert_reachable!(self.net["n1"] => "198.51.100.2");
            assert_path!(self.net["n2"] => "n1", via []);
            assert_connectivity!(self.net, except [], "no exception: {}", "none");
        }
    }

    #[test]
    fn paths_bare_nodes_and_full_paths() {
        let lab = Lab { net: two_hosts() };
        lab.check();
        // A field path to the network.
        netns_test::assert_reachable!(lab.net["n1"] => "198.51.100.2");
        netns_test::assert_unreachable!(lab.net["n1"] => "198.51.100.3", "nobody holds {}", ".3");
        // A bare node: reports itself only.
        let n1 = &lab.net["n1"];
        assert_reachable!(n1 => "2001:db8::2");
        assert_reachable!(*n1 => "2001:db8::2",);
        let text = panic_text(|| {
            assert_reachable!(n1 => "198.51.100.3");
        });
        assert!(text.contains("node n1:\n"), "{text}");
        // Names need the network.
        let text = panic_text(|| {
            assert_reachable!(n1 => "n2");
        });
        assert!(
            text.starts_with(
                "assert_reachable! failed: n1 => n2: not an IP address or a node name"
            ),
            "{text}"
        );
        // Unknown names in the index form panic as `net["x"]` does.
        let text = panic_text(|| {
            assert_reachable!(lab.net["n9"] => "198.51.100.2");
        });
        assert!(text.contains("unknown node `n9`"), "{text}");
    }

    #[test]
    fn unreachable_failure_names_the_replier() {
        let net = two_hosts();
        let text = panic_text(|| {
            assert_unreachable!(net["n1"] => "198.51.100.2", "isolation");
        });
        assert!(
            text.starts_with(
                "assert_unreachable! failed: n1 => 198.51.100.2 (node n2): 3 of 3 echo requests \
                 answered (by 198.51.100.2), expected none\n  isolation\nprobe from n1:\n  PING "
            ),
            "{text}"
        );
        assert!(text.contains("node n2:\n"), "{text}");
        assert!(
            text.contains("198.51.100.2 dev n1-veth0 lladdr "),
            "n1's neighbours: {text}"
        );
    }
}

//! Every kind of bad input returns its own typed error, names the culprit,
//! and creates nothing.

mod sysctls;

use crate::common;
use netns_test::{Endpoint, Error, Net, Route, Topology, TopologyError};
use serial_test::serial;

fn ok_link() -> Topology {
    Topology::new().link(
        ("a", "eth0", "198.51.100.1/24"),
        ("b", "eth0", "198.51.100.2/24"),
    )
}

/// Builds `t`, expects a topology error, and checks this process holds no
/// new namespace afterwards (the tests of this file run one at a time).
fn refused(t: Topology) -> TopologyError {
    let before: Vec<u64> = common::process_netns();
    let err = Net::build(&t).expect_err("the topology must be refused");
    assert_eq!(
        common::process_netns(),
        before,
        "a refused topology created a namespace"
    );
    match err {
        Error::Topology(e) => {
            assert_eq!(t.validate(), Err(e.clone()), "validate() and build() agree");
            e
        }
        other => panic!("expected a topology error, got {other:?}"),
    }
}

#[test]
#[serial]
fn duplicate_node() {
    let e = refused(Topology::new().node("a").node("a"));
    assert_eq!(e, TopologyError::DuplicateNode { node: "a".into() });
    assert_eq!(e.to_string(), "node `a` is declared twice");
    // A switch node cannot also be a host.
    let e = refused(
        Topology::new()
            .bridge("sw", [("h1", "eth0")])
            .link(("sw", "x"), ("h2", "y")),
    );
    assert_eq!(e, TopologyError::SwitchUsedAsHost { node: "sw".into() });
}

#[test]
#[serial]
fn forward_mld_names_a_switch() {
    let lan = || Topology::new().bridge("sw", [("h1", "eth0"), ("h2", "eth0")]);
    let e = refused(lan().forward_mld("h1"));
    assert_eq!(
        e,
        TopologyError::NotASwitch {
            node: "h1".into(),
            used_by: "forward_mld".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "node `h1` is not the switch of a segment (used by forward_mld)"
    );
    let e = refused(lan().forward_mld("ghost"));
    assert!(
        matches!(e, TopologyError::UnknownNode { ref node, ref used_by } if node == "ghost" && used_by == "forward_mld"),
        "{e:?}"
    );
    assert_eq!(lan().forward_mld("sw").validate(), Ok(()));
}

#[test]
#[serial]
fn duplicate_interface() {
    let e = refused(ok_link().link(
        ("a", "eth0", "203.0.113.1/24"),
        ("c", "eth0", "203.0.113.2/24"),
    ));
    assert_eq!(
        e,
        TopologyError::DuplicateInterface {
            node: "a".into(),
            ifname: "eth0".into()
        }
    );
    assert!(e.to_string().contains("`eth0`") && e.to_string().contains("`a`"));
}

#[test]
#[serial]
fn name_over_15_bytes() {
    let e = refused(Topology::new().link(("a", "sixteen-bytes-xx"), ("b", "eth0")));
    assert_eq!(
        e,
        TopologyError::NameTooLong {
            node: "a".into(),
            ifname: "sixteen-bytes-xx".into(),
            len: 16
        }
    );
    assert!(e.to_string().contains("at most 15"), "{e}");
    // 15 bytes is fine.
    Topology::new()
        .link(("a", "fifteen-bytes-x"), ("b", "eth0"))
        .validate()
        .unwrap();
}

#[test]
#[serial]
fn bad_names() {
    for (topo, culprit) in [
        (Topology::new().link(("a", "e/0"), ("b", "eth0")), "a/e/0"),
        (Topology::new().link(("a", ""), ("b", "eth0")), "a/"),
        (Topology::new().link(("a", "lo"), ("b", "eth0")), "a/lo"),
        (Topology::new().node(""), ""),
        (Topology::new().node("two words"), "two words"),
    ] {
        match refused(topo) {
            TopologyError::InvalidName { name, .. } => assert_eq!(name, culprit),
            other => panic!("expected InvalidName for {culprit:?}, got {other:?}"),
        }
    }
}

#[test]
#[serial]
fn bad_cidr() {
    for bad in [
        "198.51.100.300/24",
        "198.51.100.1",
        "2001:db8::1/129",
        "not-an-address/8",
        "198.51.100.1/33",
    ] {
        let e = refused(Topology::new().link(("a", "eth0", bad), ("b", "eth0")));
        match &e {
            TopologyError::InvalidCidr {
                node,
                ifname,
                input,
                ..
            } => {
                assert_eq!(
                    (node.as_str(), ifname.as_str(), input.as_str()),
                    ("a", "eth0", bad)
                );
            }
            other => panic!("expected InvalidCidr for {bad}, got {other:?}"),
        }
        assert!(e.to_string().contains(bad), "{e}");
    }
    let e = refused(Topology::new().link(("a", "eth0", "198.51.100.1/33"), ("b", "eth0")));
    assert!(
        e.to_string()
            .contains("prefix length `33` is not a number from 0 to 32 (IPv4)"),
        "{e}"
    );
    let e = refused(Topology::new().link(("a", "eth0", "2001:db8::x/64"), ("b", "eth0")));
    assert!(
        e.to_string()
            .contains("`2001:db8::x` is not an IPv4 or IPv6 address"),
        "{e}"
    );
}

#[test]
#[serial]
fn address_used_twice_on_one_segment() {
    let e = refused(Topology::new().link(
        ("a", "eth0", "198.51.100.1/24"),
        ("b", "eth0", "198.51.100.1/24"),
    ));
    assert_eq!(
        e,
        TopologyError::AddressClash {
            addr: "198.51.100.1".parse().unwrap(),
            scope: "segment",
            first: "a/eth0".into(),
            second: "b/eth0".into()
        }
    );
    let e = refused(Topology::new().bridge(
        "sw",
        [
            ("h1", "eth0", "2001:db8::1/64"),
            ("h2", "eth0", "2001:db8::2/64"),
            ("h3", "eth0", "2001:db8::1/64"),
        ],
    ));
    assert!(
        matches!(e, TopologyError::AddressClash { ref second, .. } if second == "h3/eth0"),
        "{e:?}"
    );
    // Twice on one node is refused too, and says so.
    let e = refused(
        Topology::new()
            .link(
                ("a", "eth0", "198.51.100.1/24"),
                ("b", "eth0", "198.51.100.2/24"),
            )
            .link(
                ("a", "eth1", "198.51.100.1/25"),
                ("c", "eth0", "198.51.100.3/25"),
            ),
    );
    assert!(
        matches!(e, TopologyError::AddressClash { scope: "node", .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("on one node"), "{e}");
    // The same address on two separate segments is fine (isolated labs).
    Topology::new()
        .link(
            ("a", "eth0", "198.51.100.1/24"),
            ("b", "eth0", "198.51.100.2/24"),
        )
        .link(
            ("c", "eth0", "198.51.100.1/24"),
            ("d", "eth0", "198.51.100.2/24"),
        )
        .validate()
        .unwrap();
}

#[test]
#[serial]
fn gateway_on_no_connected_subnet() {
    let e = refused(ok_link().route("a", Route::default_via("203.0.113.1")));
    assert!(
        matches!(e, TopologyError::GatewayUnreachable { ref node, gateway, .. } if node == "a" && gateway.to_string() == "203.0.113.1"),
        "{e:?}"
    );
    // A gateway equal to the node's own address is no gateway either.
    let e = refused(ok_link().route("a", Route::default_via("198.51.100.1")));
    assert!(
        matches!(e, TopologyError::InvalidRoute { ref reason, .. } if reason.contains("address of `a` itself")),
        "{e:?}"
    );
}

#[test]
#[serial]
fn unknown_node() {
    let e = refused(ok_link().route("ghost", Route::default_via("198.51.100.2")));
    assert!(
        matches!(e, TopologyError::UnknownNode { ref node, .. } if node == "ghost"),
        "{e:?}"
    );
    let e = refused(ok_link().forwarding("ghost"));
    assert!(
        e.to_string().contains("`ghost`") && e.to_string().contains("forwarding"),
        "{e}"
    );
    let e = refused(ok_link().sysctl("ghost", "net.ipv4.ip_forward", "1"));
    assert!(matches!(e, TopologyError::UnknownNode { .. }), "{e:?}");
    // And a live network refuses an unknown name with a typed error.
    let net = Net::build(&Topology::new().node("a")).unwrap();
    assert!(matches!(net.node("ghost"), Err(Error::UnknownNode(n)) if n == "ghost"));
}

#[test]
#[serial]
fn link_from_a_node_to_itself() {
    let e = refused(Topology::new().link(("a", "eth0"), ("a", "eth1")));
    assert_eq!(
        e,
        TopologyError::SelfLink {
            node: "a".into(),
            a: "eth0".into(),
            b: "eth1".into()
        }
    );
}

#[test]
#[serial]
fn bad_mtu_mac_route_and_sysctl() {
    let e = refused(Topology::new().link(Endpoint::new("a", "eth0").mtu(10), ("b", "eth0")));
    assert_eq!(
        e,
        TopologyError::InvalidMtu {
            node: "a".into(),
            ifname: "eth0".into(),
            mtu: 10
        }
    );
    for mac in [
        "zz:00:00:00:00:01",
        "01:00:5e:00:00:01",
        "00:00:00:00:00:00",
        "02:00:00:00:01",
    ] {
        let e = refused(Topology::new().link(Endpoint::new("a", "eth0").mac(mac), ("b", "eth0")));
        assert!(
            matches!(e, TopologyError::InvalidMac { mac: ref m, .. } if m == mac),
            "{mac}: {e:?}"
        );
    }
    let e = refused(ok_link().route("a", Route::to("203.0.113.0/24").dev("nope")));
    assert_eq!(
        e,
        TopologyError::UnknownInterface {
            node: "a".into(),
            ifname: "nope".into(),
            used_by: "route 203.0.113.0/24".into()
        }
    );
    for r in [
        Route::to("default"),
        Route::to("203.0.113.0/24").via("2001:db8::1"),
        Route::to("203.0.113.0/24").via("x"),
    ] {
        let e = refused(ok_link().route("a", r.clone()));
        assert!(
            matches!(e, TopologyError::InvalidRoute { .. }),
            "{r:?}: {e:?}"
        );
    }
    let e = refused(ok_link().sysctl("a", "kernel.panic", "1"));
    assert!(
        matches!(e, TopologyError::SysctlNotPerNamespace { .. }),
        "{e:?}"
    );
    let e = refused(ok_link().sysctl("a", "net.ipv4..x", "1"));
    assert!(matches!(e, TopologyError::InvalidSysctl { .. }), "{e:?}");
}

#[test]
#[serial]
fn interface_names_the_kernel_refuses_or_renames() {
    // `e%d` would come back as `e0`; `all` and `default` are the sysctl
    // directories of every interface.
    for ifname in ["e%d", "x%", "all", "default"] {
        let e = refused(Topology::new().link(("a", ifname), ("b", "eth0")));
        match &e {
            TopologyError::InvalidName { name, reason } => {
                assert_eq!(name, &format!("a/{ifname}"));
                let why = if ifname.contains('%') {
                    "`%`"
                } else {
                    "sysctl"
                };
                assert!(reason.contains(why), "{ifname}: {reason}");
            }
            other => panic!("{ifname}: expected InvalidName, got {other:?}"),
        }
    }
}

#[test]
#[serial]
fn interface_names_with_a_byte_the_kernel_reads_as_a_space() {
    // The kernel checks names byte by byte and its `isspace` is true for
    // 0xA0: `à` is `c3 a0`, `Š` is `c5 a0`, `\u{a0}` is `c2 a0`.
    for ifname in ["\u{e0}0", "e\u{160}", "e\u{a0}0", "e\x0b0"] {
        match refused(Topology::new().link(("a", ifname), ("b", "eth0"))) {
            TopologyError::InvalidName { name, reason } => {
                assert_eq!(name, format!("a/{ifname}"));
                assert!(reason.contains("cannot hold"), "{ifname:?}: {reason}");
            }
            other => panic!("{ifname:?}: expected InvalidName, got {other:?}"),
        }
    }
    // Other non-ASCII names are the kernel's to take: `é` is `c3 a9`.
    let net = Net::build(&Topology::new().link(
        ("a", "\u{e9}0", "198.51.100.1/24"),
        ("b", "eth0", "198.51.100.2/24"),
    ))
    .unwrap();
    assert!(net["a"].ping("198.51.100.2").run().unwrap().is_reachable());
}

#[test]
#[serial]
fn addresses_no_interface_can_have() {
    for (addr, why) in [
        ("198.51.100.0/24", "network address of 198.51.100.0/24"),
        ("198.51.100.255/24", "broadcast address of 198.51.100.0/24"),
        ("203.0.113.64/26", "network address of 203.0.113.64/26"),
        ("2001:db8::/64", "anycast address of 2001:db8::/64"),
        ("224.0.0.1/24", "multicast"),
        ("ff02::1/64", "multicast"),
        ("127.0.0.2/8", "loopback"),
        ("::1/128", "loopback"),
        ("0.0.0.0/0", "unspecified"),
        ("::/0", "unspecified"),
        ("255.255.255.255/32", "limited broadcast"),
    ] {
        let e = refused(Topology::new().link(("a", "eth0", addr), ("b", "eth0")));
        match &e {
            TopologyError::UnusableAddress {
                node,
                ifname,
                addr: a,
                reason,
            } => {
                assert_eq!(
                    (node.as_str(), ifname.as_str(), a.as_str()),
                    ("a", "eth0", addr)
                );
                assert!(reason.contains(why), "{addr}: {reason}");
            }
            other => panic!("{addr}: expected UnusableAddress, got {other:?}"),
        }
        assert!(e.to_string().contains(addr), "{e}");
    }
    // Point-to-point prefixes have no network or broadcast address.
    Topology::new()
        .link(
            ("a", "eth0", ["198.51.100.0/31", "2001:db8::/127"]),
            ("b", "eth0", ["198.51.100.1/31", "2001:db8::1/127"]),
        )
        .link(("a", "eth1", "203.0.113.255/32"), ("c", "eth0"))
        .validate()
        .unwrap();
}

#[test]
#[serial]
fn the_same_mac_twice_on_one_segment() {
    let mac = "02:00:00:00:00:01";
    let e = refused(Topology::new().link(
        Endpoint::new("a", "eth0").mac(mac),
        Endpoint::new("b", "eth0").mac("02:00:00:00:00:01"),
    ));
    assert_eq!(
        e,
        TopologyError::MacClash {
            mac: mac.into(),
            first: "a/eth0".into(),
            second: "b/eth0".into()
        }
    );
    // Case does not make it another address.
    let e = refused(Topology::new().bridge(
        "sw",
        [
            Endpoint::new("h1", "eth0").mac("02:00:00:00:00:0a"),
            Endpoint::new("h2", "eth0").mac("02:00:00:00:00:02"),
            Endpoint::new("h3", "eth0").mac("02:00:00:00:00:0A"),
        ],
    ));
    assert_eq!(
        e,
        TopologyError::MacClash {
            mac: "02:00:00:00:00:0a".into(),
            first: "h1/eth0".into(),
            second: "h3/eth0".into()
        }
    );
    assert!(e.to_string().contains("h1/eth0") && e.to_string().contains("h3/eth0"));
    // On two separate segments the same MAC is fine.
    Topology::new()
        .link(Endpoint::new("a", "eth0").mac(mac), ("b", "eth0"))
        .link(Endpoint::new("c", "eth0").mac(mac), ("d", "eth0"))
        .validate()
        .unwrap();
}

#[test]
#[serial]
fn two_routes_to_one_destination() {
    let e = refused(
        ok_link()
            .route("a", Route::default_via("198.51.100.2"))
            .route("a", Route::to("0.0.0.0/0").dev("eth0")),
    );
    assert_eq!(
        e,
        TopologyError::DuplicateRoute {
            node: "a".into(),
            dst: "0.0.0.0/0".into(),
            first: "default".into(),
            second: "0.0.0.0/0".into()
        }
    );
    assert!(e.to_string().contains("IPv4 default route"), "{e}");
    let v6 = Topology::new().link(
        ("a", "eth0", ["198.51.100.1/24", "2001:db8::1/64"]),
        ("b", "eth0", ["198.51.100.2/24", "2001:db8::2/64"]),
    );
    let e = refused(
        v6.clone()
            .route("a", Route::default_via("2001:db8::2"))
            .route("a", Route::default_via("2001:db8::2")),
    );
    assert!(
        matches!(&e, TopologyError::DuplicateRoute { dst, .. } if dst == "::/0"),
        "{e:?}"
    );
    // The same prefix, written two ways.
    let e = refused(
        v6.clone()
            .route("a", Route::to("2001:db8:1::/64").via("2001:db8::2"))
            .route("a", Route::to("2001:0db8:1:0::/64").dev("eth0")),
    );
    assert_eq!(
        e,
        TopologyError::DuplicateRoute {
            node: "a".into(),
            dst: "2001:db8:1::/64".into(),
            first: "2001:db8:1::/64".into(),
            second: "2001:0db8:1:0::/64".into()
        }
    );
    // One default per family, and the same route in two nodes, are fine.
    v6.route("a", Route::default_via("198.51.100.2"))
        .route("a", Route::default_via("2001:db8::2"))
        .route("b", Route::default_via("198.51.100.1"))
        .route("a", Route::to("203.0.113.0/24").via("198.51.100.2"))
        .route("b", Route::to("203.0.113.0/24").via("198.51.100.1"))
        .validate()
        .unwrap();
}

#[test]
#[serial]
fn route_destinations_with_host_bits_or_not_in_cidr_form() {
    for (dst, why) in [
        (
            "203.0.113.7/24",
            "the destination has host bits set; the prefix is 203.0.113.0/24",
        ),
        (
            "2001:db8:1::1/64",
            "the destination has host bits set; the prefix is 2001:db8:1::/64",
        ),
        (
            "203.0.113.0",
            "the destination is not in CIDR form: missing /prefix length",
        ),
    ] {
        let e = refused(ok_link().route("a", Route::to(dst).dev("eth0")));
        assert_eq!(
            e,
            TopologyError::InvalidRoute {
                node: "a".into(),
                dst: dst.into(),
                reason: why.into()
            }
        );
        assert_eq!(e.to_string(), format!("bad route {dst} in node `a`: {why}"));
    }
}

#[test]
#[serial]
fn different_mtus_on_the_ends_of_one_veth() {
    let e = refused(Topology::new().link(
        Endpoint::new("a", "eth0").mtu(1400),
        Endpoint::new("b", "eth0").mtu(1500),
    ));
    assert_eq!(
        e,
        TopologyError::MtuMismatch {
            a: "a/eth0".into(),
            mtu_a: 1400,
            b: "b/eth0".into(),
            mtu_b: 1500
        }
    );
    // Given on one end, the MTU is the pair's: both ends, and a bridge port.
    let net = Net::build(
        &Topology::new()
            .link(Endpoint::new("a", "eth0").mtu(1400), ("b", "eth0"))
            .bridge("sw", [Endpoint::new("c", "eth0").mtu(1300)]),
    )
    .unwrap();
    let mtu = |node: &str, ifname: &str| {
        net[node]
            .links()
            .unwrap()
            .into_iter()
            .find(|l| l.name == ifname)
            .unwrap()
            .mtu
    };
    assert_eq!(mtu("a", "eth0"), 1400);
    assert_eq!(mtu("b", "eth0"), 1400);
    assert_eq!(mtu("c", "eth0"), 1300);
    assert_eq!(mtu("sw", "port1"), 1300);
}

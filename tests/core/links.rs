//! Packets cross real veth pairs, bridges and routers; introspection reads
//! back what the topology asked for.

use crate::common;
use std::net::SocketAddr;
use std::time::Duration;

use crate::common::udp_crosses;
use netns_test::{Endpoint, Net, Route, Topology};

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

const WAIT: Duration = Duration::from_secs(2);

#[test]
#[serial_test::serial]
fn udp_crosses_a_veth_pair_v4_and_v6() {
    let net = Net::build(&Topology::new().link(
        ("n1", "n1-veth0", ["198.51.100.1/24", "2001:db8::1/64"]),
        ("n2", "n2-veth0", ["198.51.100.2/24", "2001:db8::2/64"]),
    ))
    .unwrap();
    assert!(udp_crosses(
        &net["n1"],
        sa("198.51.100.1:0"),
        &net["n2"],
        sa("198.51.100.2:9000"),
        WAIT
    ));
    assert!(udp_crosses(
        &net["n1"],
        sa("[2001:db8::1]:0"),
        &net["n2"],
        sa("[2001:db8::2]:9000"),
        WAIT
    ));
    assert!(udp_crosses(
        &net["n2"],
        sa("[2001:db8::2]:0"),
        &net["n1"],
        sa("[2001:db8::1]:9000"),
        WAIT
    ));
}

#[test]
#[serial_test::serial]
fn bridge_segment_of_three_hosts_all_reach_each_other() {
    let net = Net::build(&Topology::new().bridge(
        "sw",
        [
            ("h1", "eth0", ["198.51.100.1/24", "2001:db8::1/64"]),
            ("h2", "eth0", ["198.51.100.2/24", "2001:db8::2/64"]),
            ("h3", "eth0", ["198.51.100.3/24", "2001:db8::3/64"]),
        ],
    ))
    .unwrap();
    let hosts = [("h1", 1), ("h2", 2), ("h3", 3)];
    for (a, ia) in hosts {
        for (b, ib) in hosts {
            if a == b {
                continue;
            }
            assert!(
                udp_crosses(
                    &net[a],
                    sa(&format!("198.51.100.{ia}:0")),
                    &net[b],
                    sa(&format!("198.51.100.{ib}:9000")),
                    WAIT
                ),
                "{a} -> {b} over v4"
            );
            assert!(
                udp_crosses(
                    &net[a],
                    sa(&format!("[2001:db8::{ia}]:0")),
                    &net[b],
                    sa(&format!("[2001:db8::{ib}]:9000")),
                    WAIT
                ),
                "{a} -> {b} over v6"
            );
        }
    }
    // The switch holds the bridge and one port per host, all enslaved.
    let links = net["sw"].links().unwrap();
    let br = links
        .iter()
        .find(|l| l.name == "br0")
        .expect("br0 in the switch node");
    assert_eq!(br.kind.as_deref(), Some("bridge"));
    let ports: Vec<_> = links
        .iter()
        .filter(|l| l.master == Some(br.index))
        .map(|l| l.name.as_str())
        .collect();
    assert_eq!(ports, ["port1", "port2", "port3"]);
}

#[test]
#[serial_test::serial]
fn a_router_forwards_between_two_subnets() {
    let net = Net::build(&crate::common::dual_stack_router(true)).unwrap();
    assert!(udp_crosses(
        &net["h1"],
        sa("198.51.100.1:0"),
        &net["h2"],
        sa("203.0.113.1:9000"),
        WAIT
    ));
    assert!(udp_crosses(
        &net["h2"],
        sa("203.0.113.1:0"),
        &net["h1"],
        sa("198.51.100.1:9000"),
        WAIT
    ));
    assert!(udp_crosses(
        &net["h1"],
        sa("[2001:db8:1::1]:0"),
        &net["h2"],
        sa("[2001:db8:2::1]:9000"),
        WAIT
    ));
}

#[test]
#[serial_test::serial]
fn without_forwarding_the_router_drops() {
    let net = Net::build(&crate::common::dual_stack_router(false)).unwrap();
    let short = Duration::from_millis(300);
    assert!(!udp_crosses(
        &net["h1"],
        sa("198.51.100.1:0"),
        &net["h2"],
        sa("203.0.113.1:9000"),
        short
    ));
    assert!(!udp_crosses(
        &net["h1"],
        sa("[2001:db8:1::1]:0"),
        &net["h2"],
        sa("[2001:db8:2::1]:9000"),
        short
    ));
    // Both sides of the router are still reachable from it.
    assert!(udp_crosses(
        &net["r1"],
        sa("198.51.100.254:0"),
        &net["h1"],
        sa("198.51.100.1:9000"),
        WAIT
    ));
    assert!(udp_crosses(
        &net["r1"],
        sa("203.0.113.254:0"),
        &net["h2"],
        sa("203.0.113.1:9000"),
        WAIT
    ));
}

#[test]
#[serial_test::serial]
fn introspection_reads_back_the_topology() {
    let net = Net::build(
        &crate::common::dual_stack_router(true).link(
            Endpoint::new("h2", "eth1")
                .addr("198.51.100.129/25")
                .mtu(1400)
                .mac("02:00:00:00:00:42"),
            ("h3", "eth0", "198.51.100.130/25"),
        ),
    )
    .unwrap();
    let links = net["h2"].links().unwrap();
    let names: Vec<_> = links.iter().map(|l| (l.index, l.name.as_str())).collect();
    assert_eq!(names, [(1, "lo"), (2, "eth0"), (3, "eth1")]);
    let eth1 = &links[2];
    assert_eq!(eth1.mtu, 1400);
    assert_eq!(eth1.mac.as_deref(), Some("02:00:00:00:00:42"));
    assert!(eth1.up && eth1.flags.contains(&"LOWER_UP"), "{eth1}");
    assert_eq!(eth1.kind.as_deref(), Some("veth"));
    let v4: Vec<String> = links[1].addrs.iter().map(|a| a.addr.to_string()).collect();
    assert!(
        v4.contains(&"203.0.113.1/24".to_string()) && v4.contains(&"2001:db8:2::1/64".to_string()),
        "{v4:?}"
    );

    let routes = net["h2"].routes().unwrap();
    let text: Vec<String> = routes.iter().map(|r| r.to_string()).collect();
    assert!(
        text.contains(&"default via 203.0.113.254 dev eth0 proto static".to_string()),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|r| r.starts_with("2001:db8:1::/64 via 2001:db8:2::fe dev eth0")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|r| r
                .starts_with("203.0.113.0/24 dev eth0 proto kernel scope link src 203.0.113.1")),
        "{text:#?}"
    );
    let default = routes
        .iter()
        .find(|r| r.is_default() && r.via.is_some_and(|v| v.is_ipv4()))
        .unwrap();
    assert_eq!(default.dev.as_deref(), Some("eth0"));

    // The router forwards; the hosts do not.
    let fwd = |n: &str| {
        net[n]
            .run(|| std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap())
            .unwrap()
    };
    assert_eq!(fwd("r1").trim(), "1");
    assert_eq!(fwd("h1").trim(), "0");

    // Neighbours appear once traffic has flowed.
    assert!(common::udp_crosses(
        &net["h2"],
        sa("203.0.113.1:0"),
        &net["r1"],
        sa("203.0.113.254:9000"),
        WAIT
    ));
    let neigh = net["h2"].neighbours().unwrap();
    assert!(
        neigh.iter().any(|n| n.addr.to_string() == "203.0.113.254"
            && n.dev == "eth0"
            && n.lladdr.is_some()),
        "{neigh:?}"
    );
}

#[test]
#[serial_test::serial]
fn threads_and_sockets_live_in_the_right_node() {
    let net = Net::build(&Topology::new().link(
        ("a", "veth-a", "198.51.100.1/30"),
        ("b", "veth-b", "198.51.100.2/30"),
    ))
    .unwrap();
    let host = common::my_netns();
    assert_eq!(
        net["a"].run(common::my_netns).unwrap(),
        net["a"].netns().inode()
    );
    assert_eq!(
        net["b"].with(common::my_netns).unwrap(),
        net["b"].netns().inode()
    );
    assert_eq!(common::my_netns(), host, "with() restored the thread");
    let inside = net["a"].block_on(async { common::my_netns() }).unwrap();
    assert_eq!(inside, net["a"].netns().inode());
    {
        let _g = net["b"].enter().unwrap();
        assert_eq!(common::my_netns(), net["b"].netns().inode());
    }
    assert_eq!(common::my_netns(), host, "the guard restored the thread");
    // A panic inside run() comes back with its message, and the thread is gone.
    let err = std::panic::catch_unwind(|| net["a"].run(|| panic!("boom in node a")).unwrap())
        .unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"boom in node a"));
    // A panic while entered restores the thread during unwinding.
    let _ = std::panic::catch_unwind(|| net["b"].with(|| panic!("boom in b")).unwrap());
    assert_eq!(common::my_netns(), host);
}

#[test]
#[serial_test::serial]
fn a_route_via_a_link_local_gateway_and_its_device_is_taken() {
    let t = Topology::new()
        .link(
            ("h1", "eth0", "2001:db8:1::1/64"),
            ("r1", "eth0", ["2001:db8:1::fe/64", "fe80::fe/64"]),
        )
        .link(
            ("r1", "eth1", "2001:db8:2::fe/64"),
            ("h2", "eth0", "2001:db8:2::1/64"),
        )
        .forwarding("r1")
        .route("h2", Route::default_via("2001:db8:2::fe"));
    let without_dev = t
        .clone()
        .route("h1", Route::to("2001:db8:2::/64").via("fe80::fe"));
    let e = without_dev.validate().unwrap_err();
    assert!(e.to_string().contains("needs a device"), "{e}");
    let net = Net::build(&t.route(
        "h1",
        Route::to("2001:db8:2::/64").via("fe80::fe").dev("eth0"),
    ))
    .unwrap();
    assert!(udp_crosses(
        &net["h1"],
        sa("[2001:db8:1::1]:0"),
        &net["h2"],
        sa("[2001:db8:2::1]:9000"),
        WAIT
    ));
    let hops = net["h1"].traceroute("2001:db8:2::1").run().unwrap();
    assert_eq!(hops.hops[0].name(), Some("r1"), "{hops}");
}

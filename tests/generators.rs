//! Generated topologies: every generator's lab passes a full connectivity
//! check (sampled for the large ones), and the allocator stays inside the
//! documentation prefix, never handing out an address twice.

mod common;

use std::collections::HashSet;
use std::net::IpAddr;

use netns_test::{Net, Topology};
use serial_test::serial;

/// Every address the topology gives, checked: unique, in 2001:db8::/32
/// (the star's 2001:db8:5::/64 is inside too).
fn addresses_are_unique_and_documentation(net: &Net) {
    let doc: ipnet::IpNet = "2001:db8::/32".parse().unwrap();
    let mut seen = HashSet::new();
    for n in net.nodes() {
        for (ifname, a) in n.declared_addrs() {
            assert!(doc.contains(&a.addr()), "{}/{ifname}: {a}", n.name());
            assert!(seen.insert(a.addr()), "{a} handed out twice");
        }
    }
}

fn first_addr(net: &Net, node: &str) -> IpAddr {
    net[node].declared_addrs()[0].1.addr()
}

#[test]
#[serial]
fn every_small_generated_lab_is_fully_connected() {
    for (what, topo) in [
        ("chain", Topology::chain(6)),
        ("ring", Topology::ring(7)),
        ("star", Topology::star(5)),
        ("tree", Topology::tree(2, 3)),
        ("grid", Topology::grid(4, 3)),
        ("torus", Topology::torus(4, 4)),
        ("mesh", Topology::full_mesh(5)),
        ("leaf-spine", Topology::leaf_spine(2, 3, 2)),
    ] {
        let net = Net::build(&topo).unwrap_or_else(|e| panic!("{what}: {e}"));
        addresses_are_unique_and_documentation(&net);
        // Every node to every other node (the star's switch has no address).
        let m = net.connectivity().check();
        assert!(m.is_ok(), "{what}:\n{}", m.unwrap_err());
    }
}

#[test]
#[serial]
fn a_thousand_node_leaf_spine_reaches_across_the_fabric() {
    // 4 spines, 24 leaves, 41 hosts each: 1,012 nodes.
    let net = Net::build(&Topology::leaf_spine(4, 24, 41)).unwrap();
    assert_eq!(net.nodes().len(), 1012);
    addresses_are_unique_and_documentation(&net);
    // A sample: hosts on far leaves, and through every spine.
    for (a, b) in [
        ("h0_0", "h23_40"),
        ("h5_7", "h17_2"),
        ("h23_0", "h0_40"),
        ("leaf3", "spine2"),
    ] {
        let dst = first_addr(&net, b);
        let r = net[a].ping(dst).run().unwrap();
        assert_eq!(r.received, 1, "{a} -> {b} ({dst}): {r}");
    }
}

#[test]
#[serial]
fn a_thousand_node_torus_and_tree_reach_their_far_corners() {
    let net = Net::build(&Topology::torus(32, 32)).unwrap();
    for (a, b) in [("g0_0", "g16_16"), ("g31_0", "g0_31"), ("g5_9", "g20_30")] {
        let r = net[a].ping(first_addr(&net, b)).run().unwrap();
        assert_eq!(r.received, 1, "{a} -> {b}: {r}");
    }
    drop(net);
    let net = Net::build(&Topology::tree(9, 2)).unwrap();
    assert_eq!(net.nodes().len(), 1023);
    for (a, b) in [
        ("t0_0_0_0_0_0_0_0_0", "t1_1_1_1_1_1_1_1_1"),
        ("t", "t1_0_1_0_1_0_1_0_1"),
    ] {
        let r = net[a].ping(first_addr(&net, b)).ttl(64).run().unwrap();
        assert_eq!(r.received, 1, "{a} -> {b}: {r}");
    }
}

#[test]
#[serial]
fn a_chain_as_long_as_the_default_hop_limit_carries_reaches_end_to_end() {
    // 63 hops between the ends, 62 routers: within the hop limit of 64, so
    // the lab keeps it (no sysctl of its own).
    let net = Net::build(&Topology::chain(64)).unwrap();
    for (a, b) in [("n0", "n63"), ("n63", "n0")] {
        let r = net[a].ping(first_addr(&net, b)).run().unwrap();
        assert_eq!(r.received, 1, "{a} -> {b}: {r}");
    }
}

#[test]
#[serial]
fn a_chain_longer_than_the_default_hop_limit_reaches_end_to_end() {
    // 69 hops between the ends: past a new namespace's IPv6 hop limit of 64.
    let net = Net::build(&Topology::chain(70)).unwrap();
    for (a, b) in [("n0", "n69"), ("n69", "n0")] {
        let r = net[a].ping(first_addr(&net, b)).run().unwrap();
        assert_eq!(r.received, 1, "{a} -> {b}: {r}");
    }
    // Every router's time-exceeded answer comes back from as far away.
    let t = net["n0"]
        .traceroute(first_addr(&net, "n69"))
        .max_hops(80)
        .probes_per_hop(1)
        .run()
        .unwrap();
    assert!(t.reached(), "{t}");
    let want: Vec<String> = (1..70).map(|i| format!("n{i}")).collect();
    let names: Vec<Option<&str>> = t.names();
    assert_eq!(
        names,
        want.iter().map(|n| Some(n.as_str())).collect::<Vec<_>>(),
        "{t}"
    );
}

#[test]
#[serial]
fn a_big_lab_that_fails_in_a_later_share_names_the_node_and_leaves_nothing() {
    let home = std::fs::metadata("/proc/thread-self/ns/net").unwrap();
    let before = common::process_netns();
    // 127 nodes: on a machine of two cores or more their namespaces are
    // made on several threads, and the last node, whose sysctl the kernel
    // refuses, is in the last share.
    let topo = Topology::tree(6, 2);
    let last = topo.node_names().last().unwrap().clone();
    assert_eq!(last, "t1_1_1_1_1_1");
    let e = Net::build(&topo.sysctl(&last, "net.ipv4.ip_forward", "banana")).unwrap_err();
    match &e {
        netns_test::Error::Sysctl { node, .. } => assert_eq!(node, &last, "{e}"),
        other => panic!("expected a sysctl error naming {last}, got {other}"),
    }
    // No namespace of the lab is held any more, and no thread is left in one.
    assert!(common::eventually(
        std::time::Duration::from_secs(2),
        || { common::process_netns() == before }
    ));
    common::assert_all_threads_back_in(std::os::unix::fs::MetadataExt::ino(&home));
}

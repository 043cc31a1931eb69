//! A connectivity matrix whose named nodes or family take part in no pair
//! is an error of the check, not a pass with nothing probed.

use netns_test::{Family, Net, Topology};

/// h1 and h2 dual stack on one link; h3 with no address; h4 and h5
/// IPv6 only.
fn lab() -> Net {
    Net::build(
        &Topology::new()
            .link(
                ("h1", "eth0", ["198.51.100.1/24", "2001:db8::1/64"]),
                ("h2", "eth0", ["198.51.100.2/24", "2001:db8::2/64"]),
            )
            .node("h3")
            .link(
                ("h4", "eth0", "2001:db8:1::4/64"),
                ("h5", "eth0", "2001:db8:1::5/64"),
            ),
    )
    .expect("build the lab")
}

#[test]
fn named_nodes_and_a_family_must_take_part_in_a_pair() {
    let net = lab();
    let errors = |c: netns_test::assert::Connectivity| {
        let m = c.run();
        assert!(!m.is_ok(), "{m}");
        m.errors
    };
    assert_eq!(
        errors(net.connectivity().nodes(["h1", "h3"])),
        [
            "node `h1` given to .nodes() shares no address family with another node of the matrix",
            "node `h3` given to .nodes() has no address",
        ]
    );
    assert_eq!(
        errors(net.connectivity().nodes(["h1", "h4"]).family(Family::V4)),
        [
            "node `h1` given to .nodes() is the only node of the matrix with an IPv4 address",
            "node `h4` given to .nodes() has no IPv4 address",
        ]
    );
    assert_eq!(
        errors(net.connectivity().nodes(["h3", "h4", "h5"])),
        ["node `h3` given to .nodes() has no address"]
    );
    assert_eq!(
        errors(net.connectivity().nodes(["h4", "h5"]).family(Family::V4)),
        [
            "node `h4` given to .nodes() has no IPv4 address",
            "node `h5` given to .nodes() has no IPv4 address",
        ]
    );
    // The IPv6-only pair, asked for IPv4 without naming nodes.
    let v6_only = Net::build(&Topology::new().link(
        ("a", "eth0", "2001:db8::1/64"),
        ("b", "eth0", "2001:db8::2/64"),
    ))
    .unwrap();
    let f = v6_only
        .connectivity()
        .family(Family::V4)
        .check()
        .unwrap_err();
    assert_eq!(
        f.matrix.errors,
        ["0 node(s) of the matrix have an IPv4 address: no IPv4 pair to probe"]
    );
    assert!(f.to_string().contains("errors:\n  0 node(s)"), "{f}");
}

#[test]
fn a_node_named_twice_counts_once() {
    let net = lab();
    let m = net
        .connectivity()
        .nodes(["h1", "h2", "h1"])
        .family(Family::V4)
        .check()
        .unwrap();
    assert_eq!(m.nodes, ["h1", "h2"]);
    assert_eq!(m.cells.len(), 2, "{m}");
}

#[test]
fn a_matrix_with_no_pair_to_probe_fails() {
    let net = lab();
    let f = net
        .connectivity()
        .nodes(Vec::<String>::new())
        .check()
        .unwrap_err();
    assert!(f.matrix.cells.is_empty(), "{f}");
    assert_eq!(
        f.matrix.errors,
        ["no node given to .nodes(): no pair to probe"]
    );
    // One node with an address: nothing to pair it with.
    let one =
        Net::build(&Topology::new().link(("a", "eth0", "198.51.100.1/24"), ("b", "eth0"))).unwrap();
    let f = one.connectivity().check().unwrap_err();
    assert_eq!(
        f.matrix.errors,
        ["1 node(s) of the matrix have an address: no pair to probe"]
    );
    assert!(f.to_string().contains("errors:\n  1 node(s)"), "{f}");
    // Two nodes, one IPv4 only, the other IPv6 only.
    let apart = Net::build(&Topology::new().link(
        ("a", "eth0", "198.51.100.1/24"),
        ("b", "eth0", "2001:db8::2/64"),
    ))
    .unwrap();
    let m = apart.connectivity().run();
    assert!(!m.is_ok(), "{m}");
    assert_eq!(
        m.errors,
        ["no two nodes of the matrix have an address of the same family: no pair to probe"]
    );
}

#[test]
fn a_node_left_out_for_lack_of_a_partner_is_no_error_but_takes_no_part() {
    // h4 and h5 are IPv6 only, h1 and h2 dual stack: every node has a
    // partner; h3 has no address.
    let net = lab();
    let m = net.connectivity().family(Family::V4).check().unwrap();
    assert_eq!(m.nodes, ["h1", "h2", "h4", "h5"]);
    assert_eq!(m.probed_nodes(), ["h1", "h2"]);
}

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

//! Addresses that nodes on separate segments share (legal, as behind two
//! NATs): the matrix pings an address only its destination holds, and
//! names are given only to addresses one node holds.

use std::net::IpAddr;

use netns_test::assert::{self, CellState, Source};
use netns_test::{Family, Net, Topology};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Two islands, hA -- rA and hB -- rB, whose hosts both hold
/// 198.51.100.10; hB also holds 198.51.100.20, which no other node does.
fn islands() -> Net {
    Net::build(
        &Topology::new()
            .link(
                ("hA", "eth0", "198.51.100.10/24"),
                ("rA", "eth0", "198.51.100.1/24"),
            )
            .link(
                ("hB", "eth0", ["198.51.100.10/24", "198.51.100.20/24"]),
                ("rB", "eth0", "198.51.100.2/24"),
            ),
    )
    .expect("build the lab")
}

#[test]
fn the_matrix_never_counts_a_pair_by_an_address_another_node_holds() {
    let net = islands();
    // The islands are not linked: neither host reaches the other.
    let f = net.connectivity().nodes(["hA", "hB"]).check().unwrap_err();
    let m = &f.matrix;
    // hB's own address: pinged, and no reply.
    let to_b = m.cell("hA", "hB", Family::V4).unwrap();
    assert_eq!(
        (to_b.state, to_b.dst),
        (CellState::Failed, ip("198.51.100.20")),
        "{m}"
    );
    // hA's only address is hB's too: a reply would come from hB itself.
    let to_a = m.cell("hB", "hA", Family::V4).unwrap();
    assert_eq!(
        (to_a.state, to_a.dst),
        (CellState::Unknown, ip("198.51.100.10")),
        "{m}"
    );
    assert_eq!(m.received(), 0, "{m}");
    let text = f.to_string();
    assert!(text.contains("hA    --    x\nhB    ?     --\n"), "{text}");
    assert!(
        text.contains(
            "hB -> hA (198.51.100.10): not probed: every IPv4 address of hA is held by another \
             node too (198.51.100.10 by hB)"
        ),
        "{text}"
    );
    // rA reaches hA, but that cannot be told from a reply by 198.51.100.10.
    let m = net.connectivity().nodes(["rA", "hA"]).run();
    assert_eq!(
        m.cell("rA", "hA", Family::V4).unwrap().state,
        CellState::Unknown
    );
    assert_eq!(m.cell("hA", "rA", Family::V4).unwrap().state, CellState::Ok);
}

#[test]
fn a_shared_address_names_no_node() {
    let net = islands();
    assert!(net.node_of(ip("198.51.100.10")).is_none());
    assert_eq!(net.node_of(ip("198.51.100.20")).unwrap().name(), "hB");
    // rB reaches 198.51.100.10 (hB's): the failure names no node for it.
    let f = assert::unreachable(Source::with_net(&net, &net["rB"]), "198.51.100.10").unwrap_err();
    assert_eq!(f.destination_node, None, "{f}");
    let t = net["rB"].traceroute("198.51.100.10").run().unwrap();
    assert_eq!(t.names(), [None], "{t}");
    let t = net["rB"].traceroute("198.51.100.20").run().unwrap();
    assert_eq!(t.names(), [Some("hB")], "{t}");
}

#[test]
fn a_node_name_stands_for_an_address_only_that_node_holds() {
    let net = islands();
    // hB by name: 198.51.100.20, its own; not 198.51.100.10, which hA in
    // the other island answers.
    let r = assert::reachable(Source::with_net(&net, &net["rB"]), "hB").unwrap();
    assert_eq!(r.destination, ip("198.51.100.20"), "{r}");
    assert::unreachable(Source::with_net(&net, &net["rA"]), "hB").unwrap();
    let r = net["rA"].ping("hB").count(1).run().unwrap();
    assert_eq!((r.destination, r.received), (ip("198.51.100.20"), 0), "{r}");
    // hA holds no address of its own: its name stands for none, though
    // hB answers 198.51.100.10 from rB.
    let expected = "node `hA` has no address of its own to stand for it as a destination: \
                    another node holds each of its addresses too (198.51.100.10 by hB)";
    let f = assert::reachable(Source::with_net(&net, &net["rB"]), "hA").unwrap_err();
    assert_eq!(f.reason, "a node with no address of its own", "{f}");
    assert!(f.probe.to_string().contains(expected), "{f}");
    let f = assert::unreachable(Source::with_net(&net, &net["rA"]), "hA").unwrap_err();
    assert!(f.probe.to_string().contains(expected), "{f}");
    let f = assert::path(Source::with_net(&net, &net["rB"]), "hA", &["hA"]).unwrap_err();
    assert!(f.probe.to_string().contains(expected), "{f}");
    match net["rB"].ping("hA").count(1).run() {
        Err(netns_test::Error::NoOwnAddress { node, addr, .. }) => {
            assert_eq!((node.as_str(), addr), ("hA", ip("198.51.100.10")))
        }
        other => panic!("expected NoOwnAddress, got {other:?}"),
    }
    let e = net["rB"].tcp_connect("hA:80").run().unwrap_err();
    assert!(
        e.to_string()
            .starts_with("node `hA` has no address of its own"),
        "{e}"
    );
}

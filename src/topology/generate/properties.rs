//! Property tests of the address allocator: over every generator kind and
//! many sizes, and over random link sets up to the allocator's 65,536
//! nodes, no address is handed out twice, no subnet overlaps another, and
//! everything stays inside the documentation ranges.

use std::collections::{BTreeMap, HashSet};

use ipnet::{IpNet, Ipv6Net};
use proptest::prelude::*;

use super::alloc::Allocator;
use crate::topology::{Endpoint, Topology};

/// The documentation ranges a lab may use (RFC 5737, RFC 3849).
fn documentation() -> [IpNet; 3] {
    [
        "198.51.100.0/24".parse().unwrap(),
        "203.0.113.0/24".parse().unwrap(),
        "2001:db8::/32".parse().unwrap(),
    ]
}

fn inside_documentation(net: &IpNet) -> bool {
    documentation().iter().any(|d| d.contains(net))
}

/// A generator and its parameters, kept small enough for a debug build
/// (routes are computed for every pair of nodes).
#[derive(Debug, Clone)]
enum Shape {
    Chain(usize),
    Ring(usize),
    Star(usize),
    Tree(usize, usize),
    Grid(usize, usize),
    Torus(usize, usize),
    FullMesh(usize),
    LeafSpine(usize, usize, usize),
}

impl Shape {
    fn topology(&self) -> Topology {
        match *self {
            Shape::Chain(n) => Topology::chain(n),
            Shape::Ring(n) => Topology::ring(n),
            Shape::Star(n) => Topology::star(n),
            Shape::Tree(d, f) => Topology::tree(d, f),
            Shape::Grid(w, h) => Topology::grid(w, h),
            Shape::Torus(w, h) => Topology::torus(w, h),
            Shape::FullMesh(n) => Topology::full_mesh(n),
            Shape::LeafSpine(s, l, h) => Topology::leaf_spine(s, l, h),
        }
    }
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        (1usize..256).prop_map(Shape::Chain),
        (3usize..300).prop_map(Shape::Ring),
        (1usize..300).prop_map(Shape::Star),
        (1usize..4)
            .prop_flat_map(|f| (1usize..=[0, 7, 7, 5][f], Just(f)))
            .prop_map(|(d, f)| Shape::Tree(d, f)),
        (1usize..18, 1usize..18).prop_map(|(w, h)| Shape::Grid(w, h)),
        (3usize..18, 3usize..18).prop_map(|(w, h)| Shape::Torus(w, h)),
        (2usize..24).prop_map(Shape::FullMesh),
        (1usize..5, 1usize..10, 0usize..24).prop_map(|(s, l, h)| Shape::LeafSpine(s, l, h)),
    ]
}

/// Every interface's addresses, grouped by the link or segment they sit on.
fn addresses_by_wire(topo: &Topology) -> Vec<Vec<(String, IpNet)>> {
    let parse = |e: &Endpoint| -> Vec<(String, IpNet)> {
        e.addrs
            .iter()
            .map(|a| {
                let net = a.parse().unwrap_or_else(|_| panic!("{a} is a prefix"));
                (format!("{}/{}", e.node, e.ifname), net)
            })
            .collect()
    };
    let links = topo.links.iter().map(|l| {
        let mut v = parse(&l.a);
        v.extend(parse(&l.b));
        v
    });
    let segments = topo
        .segments
        .iter()
        .map(|s| s.members.iter().flat_map(parse).collect());
    links.chain(segments).collect()
}

/// The properties every generated lab keeps; an error names the culprit.
fn check_lab(topo: &Topology) -> Result<(), String> {
    let mut addrs = HashSet::new();
    // Subnet -> the wire that owns it.
    let mut owner = BTreeMap::<IpNet, usize>::new();
    for (wire, ends) in addresses_by_wire(topo).iter().enumerate() {
        for (iface, net) in ends {
            if !inside_documentation(net) {
                return Err(format!(
                    "{iface}: {net} is outside the documentation ranges"
                ));
            }
            if !addrs.insert(net.addr()) {
                return Err(format!("{iface}: {} handed out twice", net.addr()));
            }
            if net.addr() == net.network() && net.prefix_len() < net.max_prefix_len() - 1 {
                return Err(format!("{iface}: {net} is its subnet's own address"));
            }
            match owner.insert(net.trunc(), wire) {
                Some(w) if w != wire => {
                    return Err(format!(
                        "{iface}: subnet {} shared by two wires",
                        net.trunc()
                    ))
                }
                _ => {}
            }
        }
    }
    // No two subnets overlap: sorted, each must end before the next starts.
    let subnets: Vec<IpNet> = owner.into_keys().collect();
    for pair in subnets.windows(2) {
        if pair[0].contains(&pair[1]) || pair[1].contains(&pair[0]) {
            return Err(format!("subnets {} and {} overlap", pair[0], pair[1]));
        }
    }
    Ok(())
}

/// Random links among `nodes` nodes, with a hub so that one node's block
/// takes many links.
fn links() -> impl Strategy<Value = (usize, Vec<(usize, usize)>)> {
    (2usize..=1 << 16).prop_flat_map(|nodes| {
        let edge = (0..nodes, 0..nodes).prop_filter("two nodes", |(a, b)| a != b);
        let hub =
            (0..nodes, proptest::collection::vec(0..nodes, 0..600)).prop_map(move |(h, others)| {
                others
                    .into_iter()
                    .filter(|&o| o != h)
                    .map(|o| if o % 2 == 0 { (h, o) } else { (o, h) })
                    .collect::<Vec<_>>()
            });
        (
            Just(nodes),
            (proptest::collection::vec(edge, 0..600), hub).prop_map(|(mut e, h)| {
                e.extend(h);
                e
            }),
        )
    })
}

fn check_allocator(nodes: usize, edges: &[(usize, usize)]) -> Result<(), String> {
    let doc: Ipv6Net = "2001:db8::/32".parse().unwrap();
    let block = |n: usize| -> Ipv6Net {
        let base = u128::from(doc.network()) + ((n as u128) << 16);
        Ipv6Net::new(base.into(), 112).unwrap()
    };
    let alloc = Allocator::new(edges, nodes);
    let mut seen = HashSet::new();
    for (e, &(a, b)) in edges.iter().enumerate() {
        let l = alloc.link(e);
        for (end, net) in [(a, l.a), (b, l.b)] {
            if !doc.contains(&net) {
                return Err(format!("link {e} ({a}-{b}): {net} outside {doc}"));
            }
            if !seen.insert(net.addr()) {
                return Err(format!(
                    "link {e} ({a}-{b}): {} handed out twice",
                    net.addr()
                ));
            }
            if !block(a).contains(&net) && !block(b).contains(&net) {
                return Err(format!(
                    "link {e}: {net} of node {end} in neither node's block"
                ));
            }
        }
        if l.a.trunc() != l.b.trunc() || l.a.prefix_len() != 127 {
            return Err(format!("link {e}: {} and {} not one /127", l.a, l.b));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn generated_labs_never_reuse_an_address_nor_leave_the_documentation_ranges(s in shape()) {
        let topo = s.topology();
        prop_assert!(check_lab(&topo).is_ok(), "{s:?}: {}", check_lab(&topo).unwrap_err());
    }

    #[test]
    fn the_allocator_never_reuses_an_address_up_to_its_largest_lab((nodes, edges) in links()) {
        let r = check_allocator(nodes, &edges);
        prop_assert!(r.is_ok(), "{} nodes: {}", nodes, r.unwrap_err());
    }

    #[test]
    fn a_cover_is_exactly_the_blocks_of_its_nodes(first in 0usize..1 << 16, len in 1usize..5000) {
        let last = (first + len - 1).min((1 << 16) - 1);
        let alloc = Allocator::new(&[], 1 << 16);
        let doc: Ipv6Net = "2001:db8::/32".parse().unwrap();
        let cover = alloc.cover(first, last);
        let mut next = u128::from(doc.network()) + ((first as u128) << 16);
        for p in &cover {
            prop_assert!(doc.contains(p), "{p} outside {doc}");
            prop_assert_eq!(u128::from(p.network()), next, "gap or overlap at {}", p);
            next += 1u128 << (128 - p.prefix_len());
        }
        prop_assert_eq!(next, u128::from(doc.network()) + (((last + 1) as u128) << 16));
        // At most two prefixes per bit of the run's length.
        prop_assert!(cover.len() <= 2 * 17, "{} prefixes", cover.len());
    }
}

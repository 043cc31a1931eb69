//! The routes of generated labs checked without a kernel: from every node,
//! forwarding by longest prefix match, hop by hop, reaches every address
//! of the lab along a shortest path to the node whose block holds it (and
//! then at most one hop to the address's own node).

use std::collections::HashMap;
use std::net::Ipv6Addr;

use ipnet::Ipv6Net;
use proptest::prelude::*;

use crate::topology::{Endpoint, Topology};

/// What forwarding needs of a lab: each node's connected subnets (with the
/// node at the other end) and routes, and the owner of each address.
#[derive(Default)]
struct Fib {
    connected: HashMap<String, Vec<(Ipv6Net, String)>>,
    routes: HashMap<String, Vec<(Ipv6Net, Ipv6Addr)>>,
    owner: HashMap<Ipv6Addr, String>,
}

fn v6(text: &str) -> Ipv6Net {
    text.parse()
        .unwrap_or_else(|_| panic!("{text} is an IPv6 prefix"))
}

fn fib(t: &Topology) -> Fib {
    let mut f = Fib::default();
    let mut end = |me: &Endpoint, other: &Endpoint| {
        for a in &me.addrs {
            let net = v6(a);
            f.owner.insert(net.addr(), me.node.clone());
            let peers = f.connected.entry(me.node.clone()).or_default();
            peers.push((net.trunc(), other.node.clone()));
        }
    };
    for l in &t.links {
        end(&l.a, &l.b);
        end(&l.b, &l.a);
    }
    for (node, r) in &t.routes {
        let via = r.via.as_ref().expect("generated routes have a gateway");
        let route = (v6(&r.dst), via.parse().expect("an IPv6 gateway"));
        f.routes.entry(node.clone()).or_default().push(route);
    }
    f
}

/// The hops from `from` to the owner of `dst`, or why it is not reached.
fn deliver(f: &Fib, from: &str, dst: Ipv6Addr, nodes: usize) -> Result<usize, String> {
    let mut at = from.to_string();
    for hops in 0..=nodes {
        if f.owner.get(&dst) == Some(&at) {
            return Ok(hops);
        }
        let connected = f.connected.get(&at).into_iter().flatten();
        if let Some((_, peer)) = connected.clone().find(|(net, _)| net.contains(&dst)) {
            at = peer.clone();
            continue;
        }
        let best = f
            .routes
            .get(&at)
            .into_iter()
            .flatten()
            .filter(|(net, _)| net.contains(&dst))
            .max_by_key(|(net, _)| net.prefix_len())
            .ok_or_else(|| format!("{at} has no route to {dst}"))?;
        let (_, gw) = best;
        let (_, next) = connected
            .clone()
            .find(|(net, _)| net.contains(gw))
            .ok_or_else(|| format!("{at}: gateway {gw} is on no link"))?;
        at = next.clone();
    }
    Err(format!("{from} -> {dst}: a loop"))
}

/// Hop counts from `to` to every node (BFS over the links).
fn distances(f: &Fib, to: &str) -> HashMap<String, usize> {
    let mut dist = HashMap::from([(to.to_string(), 0)]);
    let mut queue = std::collections::VecDeque::from([to.to_string()]);
    while let Some(at) = queue.pop_front() {
        let d = dist[&at];
        for (_, peer) in f.connected.get(&at).into_iter().flatten() {
            if !dist.contains_key(peer) {
                dist.insert(peer.clone(), d + 1);
                queue.push_back(peer.clone());
            }
        }
    }
    dist
}

fn check(t: &Topology) -> Result<(), String> {
    t.validate().map_err(|e| e.to_string())?;
    let f = fib(t);
    // Generated nodes are declared in the order of their numbers, which
    // number their address blocks.
    let numbered: Vec<&String> = t
        .mentions
        .iter()
        .filter(|(_, d)| *d)
        .map(|(n, _)| n)
        .collect();
    let base = u128::from(super::alloc::all_blocks().addr());
    let nodes: Vec<&String> = f.connected.keys().collect();
    for &dst in f.owner.keys() {
        let block = &numbered[((u128::from(dst) - base) >> 16) as usize];
        let dist = distances(&f, block);
        for from in &nodes {
            let hops = deliver(&f, from, dst, nodes.len())?;
            if hops > dist[from.as_str()] + 1 {
                return Err(format!(
                    "{from} -> {dst}: {hops} hops, the block's node {block} is {} away",
                    dist[from.as_str()]
                ));
            }
        }
    }
    Ok(())
}

fn shape() -> impl Strategy<Value = Topology> {
    prop_oneof![
        (1usize..30).prop_map(Topology::chain),
        (3usize..30).prop_map(Topology::ring),
        (1usize..5, 1usize..4).prop_map(|(d, f)| Topology::tree(d, f)),
        (1usize..7, 1usize..7).prop_map(|(w, h)| Topology::grid(w, h)),
        (3usize..7, 3usize..7).prop_map(|(w, h)| Topology::torus(w, h)),
        (2usize..8).prop_map(Topology::full_mesh),
        (1usize..4, 1usize..5, 0usize..4).prop_map(|(s, l, h)| Topology::leaf_spine(s, l, h)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_node_reaches_every_address_of_a_generated_lab(t in shape()) {
        prop_assert_eq!(check(&t), Ok(()));
    }
}

#[test]
fn a_lab_with_a_missing_route_is_caught() {
    let mut t = Topology::torus(4, 4);
    t.routes
        .retain(|(node, r)| !(node == "g0_0" && r.dst == "2001:db8::/96"));
    assert!(check(&t).is_err_and(|e| e.contains("g0_0 has no route")));
}

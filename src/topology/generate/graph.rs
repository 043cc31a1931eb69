//! A generated lab as a graph (named nodes, point-to-point links), turned
//! into a [`Topology`] with addresses and shortest-path static routes.

use std::collections::VecDeque;

use super::alloc::{Allocator, LinkAddrs};
use crate::topology::{Endpoint, Route, Topology};

/// The diameter (in hops) from which a lab's longest route may not fit in
/// a new namespace's IPv6 hop limit of 64: a route follows a shortest path
/// to the node whose block holds the address, then at most one more hop
/// (diameter + 1 hops, diameter routers), and a packet crosses at most 63
/// routers with a hop limit of 64.
pub(crate) const LONG_ROUTE_HOPS: u32 = 64;

/// The hop limit every node of a lab with long routes sends with.
const MAX_HOP_LIMIT: &str = "255";

/// Written when the namespace is made, before its interfaces exist: an
/// interface copies `default`'s settings when it is created; `all` is the
/// fallback where no interface applies.
const HOP_LIMIT_KEYS: [&str; 2] = [
    "net.ipv6.conf.default.hop_limit",
    "net.ipv6.conf.all.hop_limit",
];

/// Nodes and the links between them; node indices are positions in `names`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Graph {
    pub(crate) names: Vec<String>,
    pub(crate) edges: Vec<(usize, usize)>,
}

impl Graph {
    pub(crate) fn add_node(&mut self, name: String) -> usize {
        self.names.push(name);
        self.names.len() - 1
    }

    pub(crate) fn add_edge(&mut self, a: usize, b: usize) {
        self.edges.push((a, b));
    }

    /// Neighbours of every node, as (neighbour, edge index), by index.
    fn adjacency(&self) -> Vec<Vec<(usize, usize)>> {
        let mut adj = vec![Vec::new(); self.names.len()];
        for (e, &(a, b)) in self.edges.iter().enumerate() {
            adj[a].push((b, e));
            adj[b].push((a, e));
        }
        for list in &mut adj {
            list.sort_unstable();
        }
        adj
    }

    /// The topology: addresses from the allocator, forwarding on every node
    /// with more than one link, and in each node one route per aggregated
    /// range of destinations that share a next hop.
    pub(crate) fn into_topology(self) -> Topology {
        let adj = self.adjacency();
        let n = self.names.len();
        let alloc = Allocator::new(&self.edges, n);
        let mut topo = Topology::new();
        for name in &self.names {
            topo = topo.node(name.clone());
        }
        // Interface names: one per link of a node, in edge order.
        let mut next_if = vec![0usize; n];
        let mut ifname = vec![(String::new(), String::new()); self.edges.len()];
        for (e, &(a, b)) in self.edges.iter().enumerate() {
            ifname[e] = (format!("eth{}", next_if[a]), format!("eth{}", next_if[b]));
            next_if[a] += 1;
            next_if[b] += 1;
        }
        for (e, &(a, b)) in self.edges.iter().enumerate() {
            let LinkAddrs { a: aa, b: ba } = alloc.link(e);
            topo = topo.link(
                Endpoint::new(self.names[a].clone(), ifname[e].0.clone()).addr(aa.to_string()),
                Endpoint::new(self.names[b].clone(), ifname[e].1.clone()).addr(ba.to_string()),
            );
        }
        for (links, name) in adj.iter().zip(&self.names) {
            if links.len() > 1 {
                topo = topo.forwarding(name.clone());
            }
        }
        // Each node's routes from one search of its own: memory stays linear
        // in the lab's size.
        let mut search = FirstHops::new(n);
        let mut routes = Vec::with_capacity(n);
        let mut diameter = 0;
        for s in 0..n {
            diameter = diameter.max(search.run(&adj, s));
            routes.push(with_catch_all(aggregate(&search.edge, s, &alloc)));
        }
        if diameter >= LONG_ROUTE_HOPS {
            for name in &self.names {
                for key in HOP_LIMIT_KEYS {
                    topo = topo.sysctl(name.clone(), key, MAX_HOP_LIMIT);
                }
            }
        }
        for (s, routes) in routes.into_iter().enumerate() {
            for (edge, prefix) in routes {
                let (a, _) = self.edges[edge];
                let LinkAddrs { a: aa, b: ba } = alloc.link(edge);
                let via = if a == s { ba.addr() } else { aa.addr() };
                topo = topo.route(
                    self.names[s].clone(),
                    Route::to(prefix.to_string()).via(via.to_string()),
                );
            }
        }
        topo
    }
}

/// A breadth-first search from one source that labels every node with the
/// link the source takes towards it.
///
/// Among the source's neighbours on a shortest path to a node, the label
/// is the one whose number is farthest from the source's (a grid then
/// routes rows first, so the destinations of one next hop form few number
/// ranges), then the smallest. A node's candidates are the union of its
/// parents' in the search, so the best of its parents' labels is its own.
struct FirstHops {
    dist: Vec<u32>,
    /// The edge taken first towards each node (`usize::MAX`: the source
    /// itself, or unreachable).
    edge: Vec<usize>,
    /// The neighbour of the source that `edge` leads to.
    via: Vec<usize>,
    queue: VecDeque<usize>,
}

impl FirstHops {
    fn new(n: usize) -> Self {
        FirstHops {
            dist: vec![u32::MAX; n],
            edge: vec![usize::MAX; n],
            via: vec![usize::MAX; n],
            queue: VecDeque::new(),
        }
    }

    /// Labels every node for source `s`; returns the hop count to the
    /// farthest node reached.
    fn run(&mut self, adj: &[Vec<(usize, usize)>], s: usize) -> u32 {
        self.dist.fill(u32::MAX);
        self.edge.fill(usize::MAX);
        self.via.fill(usize::MAX);
        let better = |u: usize, than: usize| {
            (u.abs_diff(s), std::cmp::Reverse(u)) > (than.abs_diff(s), std::cmp::Reverse(than))
        };
        self.dist[s] = 0;
        self.queue.push_back(s);
        let mut farthest = 0;
        while let Some(v) = self.queue.pop_front() {
            let d = self.dist[v] + 1;
            for &(w, e) in &adj[v] {
                // Through v, w's first hop is v's, or w itself next to s.
                let (first, first_edge) = if v == s {
                    (w, e)
                } else {
                    (self.via[v], self.edge[v])
                };
                if self.dist[w] == u32::MAX {
                    self.dist[w] = d;
                    farthest = d;
                    self.queue.push_back(w);
                } else if self.dist[w] != d || !better(first, self.via[w]) {
                    continue;
                }
                self.via[w] = first;
                self.edge[w] = first_edge;
            }
        }
        farthest
    }
}

/// `routes` with the prefixes of the next hop that has the most replaced
/// by one route to 2001:db8::/96, which holds every block of the lab: the
/// other next hops' prefixes are longer and cover exactly their own
/// destinations (and the source's own block, whose addresses are on its
/// own links), so the longest match still picks the same next hop for
/// every destination.
fn with_catch_all(routes: Vec<(usize, ipnet::Ipv6Net)>) -> Vec<(usize, ipnet::Ipv6Net)> {
    let mut count: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for (edge, _) in &routes {
        *count.entry(*edge).or_default() += 1;
    }
    // The most prefixes, then the lowest edge: the same lab, the same routes.
    let Some((top, _)) = count
        .into_iter()
        .max_by_key(|&(edge, c)| (c, std::cmp::Reverse(edge)))
    else {
        return routes;
    };
    let mut out: Vec<_> = routes.into_iter().filter(|(e, _)| *e != top).collect();
    out.push((top, super::alloc::all_blocks()));
    out
}

/// Groups destinations by next hop into runs of consecutive indices (the
/// source itself and unreachable nodes join any run), and covers each run's
/// address blocks with the fewest aligned prefixes.
fn aggregate(next_hop: &[usize], me: usize, alloc: &Allocator) -> Vec<(usize, ipnet::Ipv6Net)> {
    let mut out = Vec::new();
    let mut run: Option<(usize, usize, usize)> = None; // (edge, first, last)
    for (d, &e) in next_hop.iter().enumerate() {
        if d == me || e == usize::MAX {
            if let Some(r) = run.as_mut() {
                r.2 = d;
            }
            continue;
        }
        match run {
            Some((edge, first, _)) if edge == e => run = Some((edge, first, d)),
            _ => {
                if let Some((edge, first, last)) = run {
                    out.extend(alloc.cover(first, last).into_iter().map(|p| (edge, p)));
                }
                run = Some((e, d, d));
            }
        }
    }
    if let Some((edge, first, last)) = run {
        out.extend(alloc.cover(first, last).into_iter().map(|p| (edge, p)));
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{FirstHops, Graph};
    use crate::topology::Topology;

    /// The rule a search must follow, by brute force: hop counts from every
    /// destination, then for each source the neighbour one hop closer
    /// whose number is farthest from the source's, then the smallest.
    fn reference(g: &Graph, s: usize) -> Vec<usize> {
        let adj = g.adjacency();
        let n = adj.len();
        let dist_to = |d: usize| {
            let mut dist = vec![u32::MAX; n];
            dist[d] = 0;
            let mut queue = std::collections::VecDeque::from([d]);
            while let Some(v) = queue.pop_front() {
                for &(u, _) in &adj[v] {
                    if dist[u] == u32::MAX {
                        dist[u] = dist[v] + 1;
                        queue.push_back(u);
                    }
                }
            }
            dist
        };
        (0..n)
            .map(|d| {
                let dist = dist_to(d);
                if d == s || dist[s] == u32::MAX {
                    return usize::MAX;
                }
                adj[s]
                    .iter()
                    .filter(|(u, _)| dist[*u] + 1 == dist[s])
                    .max_by_key(|(u, _)| (u.abs_diff(s), std::cmp::Reverse(*u)))
                    .map(|&(_, e)| e)
                    .expect("a neighbour one hop closer")
            })
            .collect()
    }

    fn graph() -> impl Strategy<Value = Graph> {
        (1usize..14).prop_flat_map(|n| {
            proptest::collection::btree_set((0..n, 0..n), 0..30).prop_map(move |pairs| {
                let mut g = Graph::default();
                for i in 0..n {
                    g.add_node(format!("v{i}"));
                }
                for (a, b) in pairs {
                    if a < b {
                        g.add_edge(a, b);
                    }
                }
                g
            })
        })
    }

    proptest! {
        #[test]
        fn one_search_per_source_picks_the_rule_s_next_hops(g in graph()) {
            let adj = g.adjacency();
            let mut search = FirstHops::new(adj.len());
            for s in 0..adj.len() {
                search.run(&adj, s);
                prop_assert_eq!(&search.edge, &reference(&g, s), "source {}", s);
            }
        }
    }

    /// The hop limit sysctls of `t`, by node.
    fn hop_limits(t: &Topology) -> usize {
        t.sysctls
            .iter()
            .filter(|(_, k, v)| k.ends_with(".hop_limit") && v == "255")
            .count()
    }

    #[test]
    fn only_labs_with_long_routes_raise_the_hop_limit() {
        // Diameters 63 and 64.
        assert_eq!(hop_limits(&Topology::chain(64)), 0);
        assert_eq!(hop_limits(&Topology::chain(65)), 2 * 65);
        assert_eq!(hop_limits(&Topology::ring(127)), 0);
        assert_eq!(hop_limits(&Topology::ring(128)), 2 * 128);
        assert_eq!(hop_limits(&Topology::torus(32, 32)), 0);
        assert_eq!(hop_limits(&Topology::tree(9, 2)), 0);
        // 33 + 32 hops across.
        assert_eq!(hop_limits(&Topology::grid(34, 33)), 2 * 34 * 33);
    }
}

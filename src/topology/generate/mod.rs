//! Generated topologies: chains, rings, stars, trees, grids, tori, full
//! meshes and leaf-spine fabrics, addressed and routed so that every node
//! reaches every other.
//!
//! Every link is a veth pair with a /127 of IPv6 from 2001:db8::/32 (see
//! the allocator: node `i` owns `2001:db8::` + `i` * 2^16, a /112); every
//! node with more than one link forwards; every node gets static routes
//! computed by shortest path, aggregated so that the destinations a node
//! reaches through one neighbour take few prefixes (the nodes are numbered
//! so that such destinations have consecutive numbers: trees depth first,
//! grids row by row and routed rows first), and the neighbour with the most
//! prefixes gets one route to 2001:db8::/96, which holds every node's
//! block, instead (the others' prefixes are longer, so the longest match is
//! unchanged; in a tree that neighbour is mostly the parent). So an address
//! of that /96 that no node holds, or one whose route went with a link
//! taken down, follows the catch-all routes until its hop limit runs out
//! instead of being refused at once. A lab whose diameter is 63 hops or
//! more sets `net.ipv6.conf.default.hop_limit` and `.all.hop_limit` to 255
//! in every node (written before the interfaces exist, which copy
//! `default`), since a new namespace's hop limit of 64 would not carry its
//! longest routes. The star is one bridge segment
//! (no routes). Node names say the shape: `n3`, `t0_1_2`, `g4_7`, `leaf2`.
//!
//! A routed lab uses all of 2001:db8::/96 (the star, 2001:db8:5::/64):
//! addresses and routes added to a generated lab must use other prefixes
//! (such as 2001:db8:1::/64, or the IPv4 documentation ranges), or they
//! may clash with a link's address or follow the catch-all routes to the
//! wrong node.
//!
//! Limits, counted from the parameters before anything is made (see
//! `limits.rs`): at most 4,096 nodes and 8,192 links (the routes take one
//! search of the lab per node, so their time grows with the square of the
//! node count), and at most 254 hops between two nodes (IPv6's largest hop
//! limit is 255). A call out of range, or with parameters that make no
//! connected lab (`ring(2)`, `leaf_spine(0, 2, 1)`), still returns a
//! [`Topology`], one that holds only the error: validation, and so
//! `Net::build`, reports it as [`TopologyError::InvalidGenerator`] before
//! anything is created.
//!
//! ```no_run
//! use netns_test::{Net, Topology};
//! let net = Net::build(&Topology::grid(4, 4))?;
//! let far = net["g3_3"].declared_addrs()[0].1.addr();
//! assert_eq!(net["g0_0"].ping(far).run()?.received, 1);
//! # Ok::<(), netns_test::Error>(())
//! ```

mod alloc;
#[cfg(test)]
mod forwarding;
mod graph;
mod limits;
#[cfg(test)]
mod properties;

use graph::Graph;
use limits::{refuse, Size};

use super::{Topology, TopologyError};

/// The lab of `build`'s graph, or, when `size` (counted from the
/// parameters) is an error or out of the limits, a topology that holds
/// only why `call` makes no lab. Nothing is built before the check.
fn generated(
    call: impl Fn() -> String,
    size: Result<Size, TopologyError>,
    build: impl FnOnce() -> Graph,
) -> Topology {
    match size.and_then(|size| limits::check(&call, size)) {
        Ok(()) => build().into_topology(),
        Err(e) => limits::refused(e),
    }
}

/// The size of a lab whose counts cannot overflow.
fn size(nodes: usize, links: usize, diameter: usize) -> Result<Size, TopologyError> {
    Ok(Size {
        nodes: Some(nodes as u128),
        links: Some(links as u128),
        diameter: Some(diameter as u128),
    })
}

impl Topology {
    /// `n` nodes in a line: `n0 -- n1 -- ... -- n{n-1}`.
    ///
    /// Every generator makes labs of at most 4,096 nodes, 8,192 links and
    /// 254 hops across (so `n` <= 255 here); beyond those, or with
    /// parameters that make no connected lab, it returns a topology that
    /// holds only the error, which validation (and so
    /// [`Net::build`](crate::Net::build)) reports as
    /// [`TopologyError::InvalidGenerator`] before anything is created.
    ///
    /// Every generator but [`star`](Topology::star) addresses its links
    /// from 2001:db8::/96 and routes all of that prefix, so addresses and
    /// routes added to its lab must use other prefixes (2001:db8:1::/64,
    /// say, or the IPv4 documentation ranges).
    ///
    /// ```
    /// use netns_test::{Topology, TopologyError};
    /// assert!(Topology::chain(255).validate().is_ok());
    /// let e = Topology::chain(256).validate().unwrap_err();
    /// assert!(matches!(e, TopologyError::InvalidGenerator { parameter: "the diameter", .. }));
    /// ```
    pub fn chain(n: usize) -> Topology {
        let span = n.saturating_sub(1);
        generated(
            || format!("chain({n})"),
            size(n, span, span),
            || {
                let mut g = Graph::default();
                for i in 0..n {
                    g.add_node(format!("n{i}"));
                }
                for i in 1..n {
                    g.add_edge(i - 1, i);
                }
                g
            },
        )
    }

    /// `n` nodes in a ring (a chain whose ends are linked too), 3 <= `n`
    /// <= 509; see [`chain`](Topology::chain) for what a call out of range
    /// returns.
    pub fn ring(n: usize) -> Topology {
        let call = || format!("ring({n})");
        let size = if n < 3 {
            Err(refuse(
                call(),
                "n",
                n,
                "a ring has at least 3 nodes (a chain may have fewer)",
            ))
        } else {
            size(n, n, n / 2)
        };
        generated(call, size, || {
            let mut g = Graph::default();
            for i in 0..n {
                g.add_node(format!("n{i}"));
            }
            for i in 1..n {
                g.add_edge(i - 1, i);
            }
            g.add_edge(n - 1, 0);
            g
        })
    }

    /// `n` hosts `h0` .. on one bridge segment in switch node `sw`, in
    /// 2001:db8:5::/64 (`h{i}` is `2001:db8:5::{i+1}`), `n` <= 1,023: the
    /// kernel numbers a bridge's ports 1 to 1023 (see
    /// [`chain`](Topology::chain) for what a call out of range returns).
    pub fn star(n: usize) -> Topology {
        if n > limits::MAX_BRIDGE_PORTS {
            let limit = format!("a bridge has at most {} ports", limits::MAX_BRIDGE_PORTS);
            return limits::refused(refuse(format!("star({n})"), "n", n, limit));
        }
        Topology::new().bridge(
            "sw",
            (0..n).map(|i| {
                crate::topology::Endpoint::new(format!("h{i}"), "eth0")
                    .addr(format!("2001:db8:5::{:x}/64", i + 1))
            }),
        )
    }

    /// A tree `depth` levels below its root `t`, each inner node with
    /// `fanout` children; a node's name is its path: `t`, `t0`, `t0_1`, ...
    /// (at most 4,096 nodes and 254 hops across: see
    /// [`chain`](Topology::chain)).
    pub fn tree(depth: usize, fanout: usize) -> Topology {
        fn grow(g: &mut Graph, parent: usize, name: &str, depth: usize, fanout: usize) {
            if depth == 0 {
                return;
            }
            for c in 0..fanout {
                let child_name = if name == "t" {
                    format!("t{c}")
                } else {
                    format!("{name}_{c}")
                };
                let child = g.add_node(child_name.clone());
                g.add_edge(parent, child);
                grow(g, child, &child_name, depth - 1, fanout);
            }
        }
        let nodes = limits::tree_nodes(depth, fanout);
        let size = Ok(Size {
            nodes,
            links: nodes.map(|n| n - 1),
            diameter: match fanout {
                0 => Some(0),
                1 => Some(depth as u128),
                _ => (depth as u128).checked_mul(2),
            },
        });
        generated(
            || format!("tree({depth}, {fanout})"),
            size,
            || {
                let mut g = Graph::default();
                let root = g.add_node("t".into());
                grow(&mut g, root, "t", depth, fanout);
                g
            },
        )
    }

    /// A `w` x `h` grid, `g{x}_{y}` linked to its four neighbours (limits
    /// as for [`chain`](Topology::chain)).
    pub fn grid(w: usize, h: usize) -> Topology {
        lattice(w, h, false)
    }

    /// A `w` x `h` torus: a grid whose rows and columns wrap around
    /// (limits as for [`chain`](Topology::chain)).
    pub fn torus(w: usize, h: usize) -> Topology {
        lattice(w, h, true)
    }

    /// `n` nodes `m0` .. each linked to every other, `n` <= 128 (8,128
    /// links; see [`chain`](Topology::chain)).
    pub fn full_mesh(n: usize) -> Topology {
        let nodes = n as u128;
        let size = Ok(Size {
            nodes: Some(nodes),
            links: Some(nodes * nodes.saturating_sub(1) / 2),
            diameter: Some(nodes.min(2).saturating_sub(1)),
        });
        generated(
            || format!("full_mesh({n})"),
            size,
            || {
                let mut g = Graph::default();
                for i in 0..n {
                    g.add_node(format!("m{i}"));
                }
                for a in 0..n {
                    for b in a + 1..n {
                        g.add_edge(a, b);
                    }
                }
                g
            },
        )
    }

    /// A leaf-spine (Clos) fabric: every leaf `leaf{j}` linked to every
    /// spine `spine{i}`, and `hosts` hosts `h{j}_{k}` on each leaf. More
    /// than one leaf needs a spine, and more than one spine a leaf; limits
    /// as for [`chain`](Topology::chain).
    pub fn leaf_spine(spines: usize, leaves: usize, hosts: usize) -> Topology {
        let call = || format!("leaf_spine({spines}, {leaves}, {hosts})");
        let (s, l, h) = (spines as u128, leaves as u128, hosts as u128);
        let size = if spines == 0 && leaves > 1 {
            let limit = format!(
                "{leaves} leaves need a spine: leaves reach each other only through spines"
            );
            Err(refuse(call(), "spines", spines, limit))
        } else if leaves == 0 && spines > 1 {
            let limit =
                format!("{spines} spines need a leaf: spines reach each other only through leaves");
            Err(refuse(call(), "leaves", leaves, limit))
        } else {
            Ok(Size {
                nodes: l.checked_mul(h + 1).and_then(|n| n.checked_add(s)),
                links: l
                    .checked_mul(h)
                    .zip(l.checked_mul(s))
                    .and_then(|(a, b)| a.checked_add(b)),
                // Host, leaf, spine, leaf, host.
                diameter: Some(4),
            })
        };
        generated(call, size, || leaf_spine_graph(spines, leaves, hosts))
    }
}

fn leaf_spine_graph(spines: usize, leaves: usize, hosts: usize) -> Graph {
    let mut g = Graph::default();
    // Leaves and their hosts first, a leaf right before its hosts, so
    // that a leaf's subtree is one range of numbers; spines last.
    let mut leaf_ids = Vec::new();
    for j in 0..leaves {
        let leaf = g.add_node(format!("leaf{j}"));
        leaf_ids.push(leaf);
        for k in 0..hosts {
            let host = g.add_node(format!("h{j}_{k}"));
            g.add_edge(leaf, host);
        }
    }
    for i in 0..spines {
        let spine = g.add_node(format!("spine{i}"));
        for &leaf in &leaf_ids {
            g.add_edge(leaf, spine);
        }
    }
    g
}

fn lattice(w: usize, h: usize, wrap: bool) -> Topology {
    let name = if wrap { "torus" } else { "grid" };
    let call = || format!("{name}({w}, {h})");
    generated(call, Ok(limits::lattice_size(w, h, wrap)), || {
        lattice_graph(w, h, wrap)
    })
}

fn lattice_graph(w: usize, h: usize, wrap: bool) -> Graph {
    let mut g = Graph::default();
    // Row-major numbering (x fastest): a column move changes the number by
    // one, a row move by `w`.
    for y in 0..h {
        for x in 0..w {
            g.add_node(format!("g{x}_{y}"));
        }
    }
    let id = |x: usize, y: usize| y * w + x;
    for y in 0..h {
        for x in 0..w {
            if x + 1 < w {
                g.add_edge(id(x, y), id(x + 1, y));
            } else if wrap && w > 2 {
                g.add_edge(id(x, y), id(0, y));
            }
            if y + 1 < h {
                g.add_edge(id(x, y), id(x, y + 1));
            } else if wrap && h > 2 {
                g.add_edge(id(x, y), id(x, 0));
            }
        }
    }
    g
}

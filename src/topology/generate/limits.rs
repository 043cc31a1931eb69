//! What a generator may make, counted from its parameters before any node
//! is made: a call out of range gives a [`Topology`] that holds only the
//! error, which validation reports.

use crate::topology::{Topology, TopologyError};

/// The most nodes of a generated lab. Its routes take one search of the
/// whole lab per node, so their time grows with the square of the count
/// (about 3 s for 4,096 nodes in a debug build).
pub(crate) const MAX_NODES: u128 = 4096;

/// The most links of a generated lab (a 64 x 64 torus has 8,192).
pub(crate) const MAX_LINKS: u128 = 8192;

/// The most hops between two nodes of a generated lab. A route takes at
/// most one hop more than the shortest path, and IPv6's largest hop
/// limit, 255, carries a packet across at most 254 routers: 255 links.
pub(crate) const MAX_DIAMETER: u128 = 254;

/// The ports of one bridge: the kernel numbers them 1 to 1023
/// (`BR_MAX_PORTS` is 1,024, and port 0 is reserved).
pub(crate) const MAX_BRIDGE_PORTS: usize = 1023;

/// What a call would make; `None` where the count overflows.
pub(super) struct Size {
    pub(super) nodes: Option<u128>,
    pub(super) links: Option<u128>,
    pub(super) diameter: Option<u128>,
}

/// The error of call `call`: `parameter` is `value`, beyond `limit`.
pub(super) fn refuse(
    call: String,
    parameter: &'static str,
    value: impl ToString,
    limit: impl Into<String>,
) -> TopologyError {
    TopologyError::InvalidGenerator {
        call,
        parameter,
        value: value.to_string(),
        limit: limit.into(),
    }
}

/// Checks `size` against the limits of every generated lab.
pub(super) fn check(call: impl Fn() -> String, size: Size) -> Result<(), TopologyError> {
    let bounds = [
        (
            "the node count",
            size.nodes,
            MAX_NODES,
            format!("a generated lab has at most {MAX_NODES} nodes"),
        ),
        (
            "the link count",
            size.links,
            MAX_LINKS,
            format!("a generated lab has at most {MAX_LINKS} links"),
        ),
        (
            "the diameter",
            size.diameter,
            MAX_DIAMETER,
            format!(
                "a generated lab spans at most {MAX_DIAMETER} hops (IPv6's largest hop limit, \
                 255, lets a packet cross at most 254 routers)"
            ),
        ),
    ];
    for (parameter, value, max, limit) in bounds {
        match value {
            Some(v) if v <= max => {}
            Some(v) => return Err(refuse(call(), parameter, v, limit)),
            None => return Err(refuse(call(), parameter, "too large to count", limit)),
        }
    }
    Ok(())
}

/// The topology of a refused call.
pub(super) fn refused(error: TopologyError) -> Topology {
    Topology {
        generator_error: Some(error),
        ..Topology::default()
    }
}

/// Nodes of a tree `depth` levels below its root, each inner node with
/// `fanout` children.
pub(super) fn tree_nodes(depth: usize, fanout: usize) -> Option<u128> {
    match fanout {
        0 => Some(1),
        1 => (depth as u128).checked_add(1),
        f => {
            // Overflows within 128 levels, so the loop is short.
            let (mut total, mut level) = (1u128, 1u128);
            for _ in 0..depth {
                level = level.checked_mul(f as u128)?;
                total = total.checked_add(level)?;
            }
            Some(total)
        }
    }
}

/// The size of a `w` x `h` grid, or torus if `wrap`.
pub(super) fn lattice_size(w: usize, h: usize, wrap: bool) -> Size {
    let (w, h) = (w as u128, h as u128);
    if w == 0 || h == 0 {
        return Size {
            nodes: Some(0),
            links: Some(0),
            diameter: Some(0),
        };
    }
    // A side wraps only with more than two nodes (two would double a link).
    let wraps = |side: u128| wrap && side > 2;
    let links = || {
        let rows = h.checked_mul(w - 1 + u128::from(wraps(w)))?;
        let columns = w.checked_mul(h - 1 + u128::from(wraps(h)))?;
        rows.checked_add(columns)
    };
    let span = |side: u128| if wraps(side) { side / 2 } else { side - 1 };
    Size {
        nodes: w.checked_mul(h),
        links: links(),
        diameter: span(w).checked_add(span(h)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(t: &Topology) -> Option<(&'static str, String)> {
        match &t.generator_error {
            Some(TopologyError::InvalidGenerator {
                parameter, value, ..
            }) => Some((*parameter, value.clone())),
            _ => None,
        }
    }

    #[test]
    fn calls_out_of_range_are_refused_before_anything_is_made() {
        let cases = [
            (Topology::ring(2), ("n", "2")),
            (Topology::ring(0), ("n", "0")),
            (Topology::leaf_spine(0, 2, 1), ("spines", "0")),
            (Topology::leaf_spine(3, 0, 0), ("leaves", "0")),
            (Topology::chain(65_537), ("the node count", "65537")),
            (Topology::tree(1, 32_769), ("the node count", "32770")),
            (Topology::tree(40, 2), ("the node count", "2199023255551")),
            (
                Topology::tree(usize::MAX, 2),
                ("the node count", "too large to count"),
            ),
            (Topology::tree(255, 1), ("the diameter", "255")),
            (
                Topology::grid(usize::MAX, usize::MAX),
                ("the node count", "340282366920938463426481119284349108225"),
            ),
            (Topology::grid(251, 6), ("the diameter", "255")),
            (
                Topology::torus(1 << 40, 1 << 40),
                ("the node count", "1208925819614629174706176"),
            ),
            (Topology::full_mesh(200), ("the link count", "19900")),
            (Topology::chain(256), ("the diameter", "255")),
            (Topology::ring(600), ("the diameter", "300")),
            (Topology::star(1024), ("n", "1024")),
        ];
        for (t, want) in cases {
            assert_eq!(refusal(&t), Some((want.0, want.1.to_string())));
            assert!(t.mentions.is_empty() && t.links.is_empty());
            assert!(matches!(
                t.validate(),
                Err(TopologyError::InvalidGenerator { .. })
            ));
        }
    }

    #[test]
    fn calls_at_the_limits_are_accepted() {
        for t in [
            Topology::chain(255),
            Topology::ring(3),
            Topology::ring(509),
            Topology::tree(254, 1),
            Topology::tree(0, 0),
            Topology::grid(2, 2),
            Topology::full_mesh(128),
            Topology::leaf_spine(0, 1, 3),
            Topology::leaf_spine(1, 0, 0),
            Topology::leaf_spine(0, 0, 0),
            Topology::star(1023),
        ] {
            assert_eq!(refusal(&t), None, "{:?}", t.generator_error);
        }
        // The largest ones, counted only (their routes take seconds).
        let call = || String::new();
        assert!(check(call, lattice_size(64, 64, true)).is_ok());
        assert_eq!(tree_nodes(11, 2), Some(4095));
        assert_eq!(tree_nodes(12, 2), Some(8191));
    }
}

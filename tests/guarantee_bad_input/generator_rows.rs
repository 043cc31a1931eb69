//! The rows of the bad-input table for generators called out of range:
//! the topology they return holds the error, and validation reports it.

use netns_test::Topology;

use super::{topo, Row};

pub(crate) fn rows() -> Vec<Row> {
    vec![
        topo("Topology::ring(2)", || Topology::ring(2)),
        topo("Topology::leaf_spine(0, 2, 1)", || {
            Topology::leaf_spine(0, 2, 1)
        }),
        topo("Topology::leaf_spine(2, 0, 1)", || {
            Topology::leaf_spine(2, 0, 1)
        }),
        topo("Topology::chain(65_537)", || Topology::chain(65_537)),
        topo("Topology::tree(1, 32_769)", || Topology::tree(1, 32_769)),
        topo("Topology::tree(40, 2)", || Topology::tree(40, 2)),
        topo("Topology::full_mesh(200)", || Topology::full_mesh(200)),
        topo("Topology::chain(256)", || Topology::chain(256)),
        topo("Topology::star(1024)", || Topology::star(1024)),
        topo(
            r#"Topology::ring(2).link(("a", "eth0"), ("b", "eth0"))"#,
            || Topology::ring(2).link(("a", "eth0"), ("b", "eth0")),
        ),
    ]
}

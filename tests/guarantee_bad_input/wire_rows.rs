//! The rows of the bad-input table about wires: models that cannot work,
//! in a topology and at run time, and wire verbs on a veth.

use std::time::Duration;

use netns_test::wire::{Direction, Distribution, Impairment, Probability, MAX_DELAY};
use netns_test::{Endpoint, Net, Topology};

use super::{row, topo, Row};

fn reorder_without_delay() -> Impairment {
    Impairment::new().reorder(Probability::percent(10.0).unwrap())
}

pub(crate) fn rows() -> Vec<Row> {
    vec![
        topo(
            r#".link(Endpoint::new("a", "e").egress(Impairment::new().reorder(10%)), ("b", "e"))"#,
            || {
                Topology::new().link(
                    Endpoint::new("a", "e").egress(reorder_without_delay()),
                    ("b", "e"),
                )
            },
        ),
        topo(
            r#".wire(Endpoint::new("a", "e").ingress(Impairment::new().queue_limit(0)), ("b", "e"))"#,
            || {
                Topology::new().wire(
                    Endpoint::new("a", "e").ingress(Impairment::new().queue_limit(0)),
                    ("b", "e"),
                )
            },
        ),
        topo(
            r#".link(Endpoint::new("a", "e").egress(Impairment::new().mtu(20)), ("b", "e"))"#,
            || {
                Topology::new().link(
                    Endpoint::new("a", "e").egress(Impairment::new().mtu(20)),
                    ("b", "e"),
                )
            },
        ),
        topo(
            r#".link(Endpoint::new("a", "e").egress(Impairment::new().delay(MAX_DELAY * 2)), ("b", "e"))"#,
            || {
                Topology::new().link(
                    Endpoint::new("a", "e").egress(Impairment::new().delay(MAX_DELAY * 2)),
                    ("b", "e"),
                )
            },
        ),
        topo(
            r#".link(Endpoint::new("a", "e").egress(m), Endpoint::new("b", "e").ingress(m))"#,
            || {
                let m = Impairment::new().delay(Duration::from_millis(1));
                Topology::new().link(
                    Endpoint::new("a", "e").egress(m.clone()),
                    Endpoint::new("b", "e").ingress(m),
                )
            },
        ),
        topo(
            r#".wire(Endpoint::new("a", "e").egress(Impairment::new().burst(3000)), ("b", "e"))"#,
            || {
                Topology::new().wire(
                    Endpoint::new("a", "e").egress(Impairment::new().burst(3000)),
                    ("b", "e"),
                )
            },
        ),
        row(
            "wire",
            r#"net.link("n1", "n2")?.hold(Direction::Both)"#,
            |net| net.link("n1", "n2")?.hold(Direction::Both).map(drop),
        ),
        row(
            "wire",
            r#"wired.link("a", "b")?.impair(Direction::Both, Impairment::new().reorder(10%))"#,
            |_| {
                let wired = Net::build(&Topology::new().wire(("a", "e"), ("b", "e")))?;
                wired
                    .link("a", "b")?
                    .impair(Direction::Both, reorder_without_delay())
            },
        ),
        row(
            "wire",
            r#"wired.link("a", "b")?.impair(Direction::Forward, Impairment::new().jitter(MAX_DELAY * 2, Distribution::Uniform))"#,
            |_| {
                let wired = Net::build(&Topology::new().wire(("a", "e"), ("b", "e")))?;
                let model = Impairment::new().jitter(MAX_DELAY * 2, Distribution::Uniform);
                wired.link("a", "b")?.impair(Direction::Forward, model)
            },
        ),
        row(
            "wire",
            r#"wired.link("a", "b")?.impair(Direction::Forward, Impairment::new().queue_limit(10))"#,
            |_| {
                let wired = Net::build(&Topology::new().wire(("a", "e"), ("b", "e")))?;
                let model = Impairment::new().queue_limit(10);
                wired.link("a", "b")?.impair(Direction::Forward, model)
            },
        ),
    ]
}

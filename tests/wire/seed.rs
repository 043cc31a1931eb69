//! The seed: set by the attribute or the topology, shown with the wires'
//! counters when an assertion fails; models declared in the topology;
//! typed errors.

use std::time::Duration;

use netns_test::assert::{self, Source};
use netns_test::wire::{Direction, Impairment, ImpairmentError, Probability};
use netns_test::{netns_test, Endpoint, Error, Net, Topology, TopologyError};

fn wired() -> Topology {
    Topology::new().wire(
        ("n1", "eth0", "198.51.100.1/24"),
        ("n2", "eth0", "198.51.100.2/24"),
    )
}

#[netns_test(topology = wired, seed = 4242)]
fn the_attribute_seeds_the_lab(net: &Net) {
    if std::env::var("NETNS_TEST_SEED").is_err() {
        assert_eq!(net.seed(), 4242);
    }
    assert!(net.has_wires());
}

#[test]
fn a_failed_assertion_lists_the_wires_with_the_seed() {
    let net = Net::build(&wired().seed(77)).unwrap();
    net.link("n1", "n2")
        .unwrap()
        .impair(
            Direction::Forward,
            Impairment::new().loss(Probability::ALWAYS),
        )
        .unwrap();
    let failure = assert::reachable(Source::with_net(&net, &net["n1"]), "n2").unwrap_err();
    let text = failure.to_string();
    if std::env::var("NETNS_TEST_SEED").is_err() {
        assert!(
            text.contains("wires (seed 77; replay with NETNS_TEST_SEED=77)"),
            "{text}"
        );
    }
    assert!(text.contains("n1/eth0 -> n2/eth0: loss 100%;"), "{text}");
    assert!(text.contains("lost"), "{text}");
    assert!(text.contains("active faults:"), "{text}");
}

#[test]
fn a_model_declared_in_the_topology_applies_and_heal_restores_it() {
    let t = Topology::new().link(
        Endpoint::new("n1", "eth0")
            .addr("198.51.100.1/24")
            .egress(Impairment::new().loss(Probability::ALWAYS)),
        ("n2", "eth0", "198.51.100.2/24"),
    );
    let net = Net::build(&t).unwrap();
    let link = net.link("n2", "n1").unwrap();
    let (forward, backward) = link.impairment().unwrap();
    // Seen from n2, what n1 sends comes backward.
    assert!(forward.is_transparent());
    assert_eq!(backward, Impairment::new().loss(Probability::ALWAYS));
    assert_eq!(net["n1"].ping("n2").run().unwrap().received, 0);
    link.unimpair(Direction::Both).unwrap();
    assert_eq!(net["n1"].ping("n2").run().unwrap().received, 1);
    // A run-time model is a fault: heal puts back the declared one.
    let slow = Impairment::new().delay(std::time::Duration::from_millis(1));
    link.impair(Direction::Backward, slow).unwrap();
    assert_eq!(net.active_faults().len(), 1);
    net.heal().unwrap();
    assert_eq!(
        link.impairment().unwrap().1,
        Impairment::new().loss(Probability::ALWAYS)
    );
}

#[test]
fn bad_wire_input_is_typed_and_names_the_culprit() {
    // A veth is not a wire.
    let net = Net::build(&Topology::new().link(("a", "e0"), ("b", "e0"))).unwrap();
    let err = net
        .link("a", "b")
        .unwrap()
        .hold(Direction::Both)
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotAWire { link } if link == "a/e0 -- b/e0"),
        "{err}"
    );
    // A model that cannot work is refused before anything changes.
    let net = Net::build(&wired()).unwrap();
    let link = net.link("n1", "n2").unwrap();
    let bad = Impairment::new().reorder(Probability::percent(10.0).unwrap());
    let err = link.impair(Direction::Both, bad.clone()).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::InvalidImpairment {
                source: ImpairmentError::ReorderWithoutDelay(_),
                ..
            }
        ),
        "{err}"
    );
    assert!(link.impairment().unwrap().0.is_transparent());
    assert!(net.active_faults().is_empty());
    // So is a delay no frame could wait out.
    let err = link
        .impair(Direction::Forward, Impairment::new().delay(Duration::MAX))
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::InvalidImpairment {
                source: ImpairmentError::DelayTooLong(d),
                link,
            } if *d == Duration::MAX && link == "n1/eth0 -> n2/eth0"
        ),
        "{err}"
    );
    assert!(err.to_string().contains("MAX_DELAY"), "{err}");
    assert!(net.active_faults().is_empty());
    // In a topology, the end that declared it is named.
    let t = Topology::new().link(Endpoint::new("x", "e0").egress(bad), ("y", "e0"));
    assert!(matches!(
        t.validate(),
        Err(TopologyError::InvalidImpairment { node, ifname, .. }) if node == "x" && ifname == "e0"
    ));
    // Two models for one direction.
    let t = Topology::new().link(
        Endpoint::new("x", "e0").egress(Impairment::new()),
        Endpoint::new("y", "e0").ingress(Impairment::new()),
    );
    assert!(matches!(
        t.validate(),
        Err(TopologyError::ConflictingImpairment { .. })
    ));
}

#[test]
fn a_wire_joins_a_host_to_a_bridge() {
    let net = Net::build(&Topology::new().bridge(
        "sw",
        [
            Endpoint::new("h1", "eth0").addr("203.0.113.1/24").wire(),
            Endpoint::new("h2", "eth0").addr("203.0.113.2/24"),
            Endpoint::new("h3", "eth0").addr("203.0.113.3/24").wire(),
        ],
    ))
    .unwrap();
    for dst in ["203.0.113.2", "203.0.113.3"] {
        assert_eq!(net["h1"].ping(dst).run().unwrap().received, 1, "{dst}");
    }
    let hold = net
        .link("h1", "sw")
        .unwrap()
        .hold(Direction::Forward)
        .unwrap();
    assert_eq!(net["h1"].ping("203.0.113.2").run().unwrap().received, 0);
    drop(hold);
    assert_eq!(net["h1"].ping("203.0.113.2").run().unwrap().received, 1);
}

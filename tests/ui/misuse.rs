use netns_test::{netns_test, Topology};

fn two_hosts() -> Topology {
    Topology::new().node("n1").node("n2")
}

#[netns_test(node = "n2")]
fn node_without_topology() {}

#[netns_test(topology = two_hosts, topology = two_hosts)]
fn key_twice() {}

#[netns_test]
#[test]
fn test_attribute_too() {}

#[netns_test]
#[should_panic]
fn should_panic_result() -> Result<(), String> {
    Ok(())
}

fn main() {}

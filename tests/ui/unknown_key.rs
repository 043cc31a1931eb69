use netns_test::{netns_test, Topology};

fn two_hosts() -> Topology {
    Topology::new().node("n1").node("n2")
}

#[netns_test(topolgy = two_hosts)]
fn misspelled_key() {}

fn main() {}

use netns_test::netns_test;

#[netns_test]
fn number(port: u16) {}

#[netns_test]
fn mutable_node(local: &mut netns_test::Node) {}

#[netns_test]
fn owned_node(local: netns_test::Node) {}

#[netns_test]
fn pattern((a, b): (u8, u8)) {}

#[netns_test]
fn by_ref(ref net: &netns_test::Net) {}

fn main() {}

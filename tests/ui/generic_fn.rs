use netns_test::netns_test;

#[netns_test]
fn generic<T: Default>() {
    let _ = T::default();
}

#[netns_test]
fn with_lifetime<'a>(_net: &'a netns_test::Net) {}

fn main() {}

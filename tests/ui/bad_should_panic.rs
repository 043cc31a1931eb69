use netns_test::netns_test;

#[netns_test]
#[should_panic(message = "boom")]
fn wrong_key() {
    panic!("boom");
}

#[netns_test]
#[should_panic = 42]
fn not_a_string() {
    panic!("boom");
}

fn main() {}

use netns_test::netns_test;

#[netns_test(timeout = "5 seconds")]
fn unknown_unit() {}

#[netns_test(timeout = "1.5s")]
fn fraction() {}

#[netns_test(timeout = "0ms")]
fn zero() {}

#[netns_test(timeout = 5)]
fn not_a_string() {}

fn main() {}

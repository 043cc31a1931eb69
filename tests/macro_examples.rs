//! Runs the `#[netns_test]` examples' tests under a plain `cargo test`.

#[allow(dead_code)]
#[path = "../examples/macro_basic.rs"]
mod macro_basic;

#[allow(dead_code)]
#[path = "../examples/macro_topology.rs"]
mod macro_topology;

#[allow(dead_code)]
#[path = "../examples/macro_async.rs"]
mod macro_async;

#[allow(dead_code)]
#[path = "../examples/macro_timeout.rs"]
mod macro_timeout;

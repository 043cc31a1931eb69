//! Procedural macros of `netns-test`. Use them through the `netns_test` crate.

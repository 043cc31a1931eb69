//! `#[netns_test]` under the standard harness: every form, failures, the runner.

#[path = "../common/mod.rs"]
mod common;

mod failures;
mod forms;
mod runner;

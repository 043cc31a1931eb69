//! The link-time list of `#[netns_test]` functions that the custom harness
//! runs.

use super::runner::Outcome;

/// What `#[netns_test]` registers for the custom harness; not a public API.
#[derive(Debug)]
pub struct Registration {
    /// `module_path!()::fn_name`.
    pub name: &'static str,
    /// `#[ignore]`.
    pub ignored: bool,
    /// `#[ignore = "reason"]`.
    pub ignore_reason: Option<&'static str>,
    /// `#[should_panic]`.
    pub should_panic: bool,
    /// `#[should_panic(expected = "text")]`.
    pub expected: Option<&'static str>,
    /// Runs the test through the runner.
    pub run: fn() -> Outcome,
}

/// Every `#[netns_test]` function linked into the binary; not a public API.
#[linkme::distributed_slice]
pub static TESTS: [Registration];

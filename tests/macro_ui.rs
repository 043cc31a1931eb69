//! Compile errors of `#[netns_test]` misuse, checked with trybuild.
//!
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test --test
//! macro_ui` and review the diff.

#[test]
fn misuse_is_a_compile_error() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}

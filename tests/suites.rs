//! The suite files of `suites/`: each scenario is a test named
//! `file::scenario` (see `docs/suites.md`).

netns_test::suite_main!("suites");

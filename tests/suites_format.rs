//! The suite file format without running anything: the committed JSON
//! schema is the one the types generate, every committed suite file
//! checks clean, and each deliberately broken file under
//! `tests/suites_broken/` is reported with the position of its mistake.

use std::path::{Path, PathBuf};

use netns_test::suite::{self, LoadOptions, SuiteErrorKind};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_schema_is_the_generated_one() {
    let path = root().join("docs/suite.schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = suite::schema_json();
    if committed != generated {
        if std::env::var_os("NETNS_TEST_BLESS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        panic!(
            "docs/suite.schema.json differs from the types; regenerate it with \
             NETNS_TEST_BLESS=1 cargo test --test suites_format"
        );
    }
}

#[test]
fn the_committed_suites_check_clean() {
    let loaded = suite::load(&[root().join("suites")], &LoadOptions::default());
    let errors: Vec<String> = loaded
        .iter()
        .filter_map(|l| l.result.as_ref().err())
        .flatten()
        .map(ToString::to_string)
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let scenarios: usize = loaded
        .iter()
        .filter_map(|l| l.result.as_ref().ok())
        .map(|f| f.scenarios.len())
        .sum();
    assert!(scenarios >= 5, "{scenarios} scenarios");
}

/// The one mistake of a broken file: (line, column, kind).
fn only_error(file: &str) -> (usize, usize, SuiteErrorKind) {
    let path = root().join("tests/suites_broken").join(file);
    let errors = suite::check(&[&path], &LoadOptions::default());
    assert_eq!(errors.len(), 1, "{file}: {errors:#?}");
    let e = &errors[0];
    assert_eq!(e.file, path);
    (e.line, e.column, e.kind.clone())
}

#[test]
fn syntax_errors_are_placed() {
    let (line, _, kind) = only_error("not_toml.toml");
    assert_eq!(line, 4);
    assert!(matches!(kind, SuiteErrorKind::Syntax(_)), "{kind:?}");
}

#[test]
fn an_unknown_key_is_placed() {
    let (line, _, kind) = only_error("unknown_key.toml");
    assert_eq!(line, 6);
    assert!(kind.to_string().contains("adress"), "{kind}");
}

#[test]
fn an_unknown_step_verb_is_placed() {
    let (line, _, kind) = only_error("unknown_verb.toml");
    assert_eq!(line, 5);
    assert!(kind.to_string().contains("pingg"), "{kind}");
}

#[test]
fn a_bad_duration_is_placed() {
    let (line, _, kind) = only_error("bad_duration.toml");
    assert_eq!(line, 5);
    assert!(kind.to_string().contains("unit"), "{kind}");
}

#[test]
fn an_unknown_variable_is_placed_where_it_is_written() {
    let (line, col, kind) = only_error("unknown_variable.toml");
    assert_eq!((line, col), (8, 59));
    assert!(
        matches!(kind, SuiteErrorKind::UnknownVariable { ref name, .. } if name == "prot"),
        "{kind:?}"
    );
}

#[test]
fn a_step_naming_an_unknown_node_is_placed() {
    let (line, col, kind) = only_error("unknown_node.toml");
    assert_eq!((line, col), (6, 3));
    assert!(
        matches!(kind, SuiteErrorKind::UnknownNode { step: 2, ref node, .. } if node == "n3"),
        "{kind:?}"
    );
}

#[test]
fn a_program_never_started_is_placed() {
    let (line, _, kind) = only_error("unknown_program.toml");
    assert_eq!(line, 7);
    assert!(
        matches!(kind, SuiteErrorKind::UnknownProgram { ref name, .. } if name == "web"),
        "{kind:?}"
    );
}

#[test]
fn a_bad_regex_is_placed() {
    let (line, _, kind) = only_error("bad_regex.toml");
    assert_eq!(line, 6);
    assert!(kind.to_string().contains("bad regex"), "{kind}");
}

#[test]
fn an_invalid_topology_is_placed_at_the_entry_that_breaks_it() {
    let (line, col, kind) = only_error("invalid_topology.toml");
    assert_eq!((line, col), (6, 11));
    assert!(
        matches!(kind, SuiteErrorKind::Topology(ref t) if t.contains("r9")),
        "{kind:?}"
    );
    let (line, _, kind) = only_error("nat_without_interface.toml");
    assert_eq!(line, 3);
    assert!(
        matches!(kind, SuiteErrorKind::Topology(ref t) if t.contains("iif")),
        "{kind:?}"
    );
}

#[test]
fn a_mistake_in_an_included_lab_is_placed_in_that_file() {
    let path = root().join("tests/suites_broken/includes_a_broken_lab.toml");
    let errors = suite::check(&[&path], &LoadOptions::default());
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let e = &errors[0];
    assert_eq!(
        e.file,
        root().join("tests/suites_broken/labs/duplicate_address.toml")
    );
    assert_eq!((e.line, e.column), (6, 1));
    assert!(e.kind.to_string().contains("203.0.113.1"), "{}", e.kind);
}

#[test]
fn an_include_cycle_is_placed_where_it_closes() {
    let path = root().join("tests/suites_broken/include_cycle.toml");
    let errors = suite::check(&[&path], &LoadOptions::default());
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let e = &errors[0];
    assert_eq!(
        e.file,
        root().join("tests/suites_broken/include_cycle_back.toml")
    );
    assert_eq!((e.line, e.column), (1, 11));
    assert!(
        matches!(e.kind, SuiteErrorKind::IncludeCycle(_)),
        "{:?}",
        e.kind
    );
}

#[test]
fn a_file_with_several_mistakes_reports_each() {
    let path = root().join("tests/suites_broken/several.toml");
    let errors = suite::check(&[&path], &LoadOptions::default());
    let places: Vec<(usize, usize)> = errors.iter().map(|e| (e.line, e.column)).collect();
    // The last step has two: an unknown signal, and no such program.
    assert_eq!(places, [(6, 3), (7, 3), (9, 3), (9, 3)], "{errors:#?}");
}

#[test]
fn every_broken_file_is_a_failed_trial_naming_its_mistakes() {
    let trials =
        suite::harness(root().join("tests/suites_broken")).into_trials(&Default::default());
    let names: Vec<&str> = trials.iter().map(|t| t.name()).collect();
    let dir = root().join("tests/suites_broken");
    let toml = |d: &Path| {
        std::fs::read_dir(d)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "toml")
            })
            .count()
    };
    let files = toml(&dir) + toml(&dir.join("labs"));
    // Every file is broken (an included file of a cycle is reported too).
    assert_eq!(names.len(), files, "{names:?}");
    assert!(names.contains(&"unknown_node"), "{names:?}");
    assert!(names.contains(&"labs/duplicate_address"), "{names:?}");
}

#[test]
fn bad_impairments_are_placed() {
    let (line, _, kind) = only_error("bad_percentage.toml");
    assert_eq!(line, 5);
    assert!(
        kind.to_string().contains("150 is not a percentage"),
        "{kind}"
    );
    let (line, _, kind) = only_error("bad_rate.toml");
    assert_eq!(line, 5);
    assert!(kind.to_string().contains("unit must be"), "{kind}");
    // Placed at the link entry that declares it.
    let (line, _, kind) = only_error("bad_wire_end.toml");
    assert_eq!(line, 2);
    assert!(
        kind.to_string()
            .contains("wire model on n1/eth0: reordering 5%"),
        "{kind}"
    );
    let path = root().join("tests/suites_broken/bad_impairment.toml");
    let errors = suite::check(&[&path], &LoadOptions::default());
    let found: Vec<(usize, String)> = errors
        .iter()
        .map(|e| (e.line, e.kind.to_string()))
        .collect();
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].0 == 9 && found[0].1.contains("needs a delay"),
        "{found:#?}"
    );
    assert!(
        found[1].0 == 10 && found[1].1.contains("not both"),
        "{found:#?}"
    );
}

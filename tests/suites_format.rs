//! The suite file format without running anything: the committed JSON
//! schema is the one the types generate, every committed suite file
//! checks clean, and each deliberately broken file under
//! `tests/suites_broken/` is reported with the position of its mistake.

mod common;

use std::path::{Path, PathBuf};

use common::suite_files::write;
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
    // tc's `bps` is bytes per second: refused, not read as bits.
    let (line, _, kind) = only_error("rate_in_bytes.toml");
    assert_eq!(line, 5);
    assert!(kind.to_string().contains("reads `bps` as bytes"), "{kind}");
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

#[test]
fn destinations_addresses_and_links_are_checked_before_running() {
    let path = root().join("tests/suites_broken/unknown_destination.toml");
    let errors = suite::check(&[&path], &LoadOptions::default());
    let found: Vec<(usize, String)> = errors
        .iter()
        .map(|e| (e.line, e.kind.to_string()))
        .collect();
    let lines: Vec<usize> = found.iter().map(|f| f.0).collect();
    assert_eq!(lines, [12, 13, 15, 17, 18, 19, 20, 23], "{found:#?}");
    assert!(
        matches!(&errors[0].kind, SuiteErrorKind::UnknownHost { step: 1, field: "to", value, .. } if value == "h9"),
        "{:?}",
        errors[0].kind
    );
    // The message shows what the file says, and the host in it.
    assert!(
        matches!(&errors[1].kind, SuiteErrorKind::UnknownHost { step: 2, value, host, .. }
            if value == "h9:80" && &**host == "h9"),
        "{:?}",
        errors[1].kind
    );
    assert!(
        found[1].1.contains(r#"`to = "h9:80"`: `h9` is neither"#),
        "{found:#?}"
    );
    assert!(
        matches!(&errors[2].kind, SuiteErrorKind::UnknownHost { field: "filter.src", value, .. } if value == "h1"),
        "{:?}",
        errors[2].kind
    );
    assert!(
        found[3].1.contains("node `lonely` has no address"),
        "{found:#?}"
    );
    assert!(
        found[4]
            .1
            .contains("step 7 (link_down): no link joins `n1` (at `eth9`) and `n2`"),
        "{found:#?}"
    );
    assert!(found[5].1.contains("is not a wire"), "{found:#?}");
    assert!(
        found[6].1.contains("no link joins `n1` and `lonely`"),
        "{found:#?}"
    );
    assert!(
        found[7].1.contains("node `n1` has no interface `eth7`"),
        "{found:#?}"
    );
}

const TWO_HOSTS: &str = r#"
[[topology.links]]
a = { node = "n1", iface = "eth0", addr = "198.51.100.1/24" }
b = { node = "n2", iface = "eth0", addr = "198.51.100.2/24" }
"#;

#[test]
fn variables_work_unquoted_and_in_the_include() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "labs/two.toml", TWO_HOSTS);
    let file = write(
        dir.path(),
        "vars.toml",
        r#"
include = "labs/${lab}.toml"   # ${lab} from [vars] below
seed = ${s}

[vars]
lab = "two"
n = 2
c = 2
s = ${n}
dest = "${peer}:80"
peer = "n2"

[[scenario]]
name = "pings"
steps = [
  { do = "ping", from = "n1", to = "n2", count = ${c}, min_received = ${n} },
  { do = "tcp", from = "n1", to = "${dest}", expect = "refused" },
]
"#,
    );
    let loaded = suite::load(&[&file], &LoadOptions::default());
    let lab = loaded[0].result.as_ref().unwrap();
    assert_eq!(lab.seed, 2);
    assert_eq!(lab.topology.node_names(), ["n1", "n2"]);
    assert_eq!(lab.scenarios[0].verbs(), ["ping", "tcp"]);
    // In place of a value, the value's text is read as TOML.
    let quoted = LoadOptions {
        vars: [("c".to_string(), "\"two\"".to_string())].into(),
        ..Default::default()
    };
    let errors = suite::check(&[&file], &quoted);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].to_string().contains("step 1"), "{}", errors[0]);
    // A variable from the command line picks the lab.
    let other = LoadOptions {
        vars: [("lab".to_string(), "missing".to_string())].into(),
        ..Default::default()
    };
    let errors = suite::check(&[&file], &other);
    assert_eq!((errors[0].line, errors[0].column), (2, 11), "{errors:#?}");
    assert!(
        errors[0]
            .to_string()
            .contains("labs/missing.toml not found"),
        "{}",
        errors[0]
    );
}

#[test]
fn an_unknown_variable_in_the_include_is_placed() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "f.toml", "include = \"labs/${nope}.toml\"\n");
    let errors = suite::check(&[&file], &LoadOptions::default());
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!((errors[0].line, errors[0].column), (1, 17));
    assert!(
        matches!(&errors[0].kind, SuiteErrorKind::UnknownVariable { name, .. } if name == "nope"),
        "{:?}",
        errors[0].kind
    );
}

/// A lab with a seed of 42 and a node named after `${seed}`.
const SEEDED_LAB: &str = "seed = 42\n[topology]\nnodes = [\"h${seed}\"]\n[vars]\ns = 9\n";

/// The seed, the node names and the description of the first scenario of
/// `text` (a file beside `labs/seeded.toml`) loaded with `options`.
fn seeds(text: &str, options: &LoadOptions) -> (u64, Vec<String>, String) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "labs/seeded.toml", SEEDED_LAB);
    let file = write(dir.path(), "f.toml", text);
    let loaded = suite::load(&[&file], options);
    let lab = match &loaded[0].result {
        Ok(lab) => lab,
        Err(errors) => panic!("{errors:#?}"),
    };
    let description = lab.scenarios[0].description().unwrap_or_default();
    (lab.seed, lab.topology.node_names(), description.to_string())
}

#[test]
fn seed_in_vars_is_the_seed_the_lab_gets() {
    let scenario = "[vars]\nmsg = \"s${seed}\"\n\
                    [[scenario]]\nname = \"x\"\ndescription = \"${msg}\"\n\
                    steps = [{ do = \"sleep\", for = \"1ms\" }]\n";
    let default = LoadOptions::default();
    // The default seed.
    let (seed, _, msg) = seeds(scenario, &default);
    assert_eq!((seed, msg.as_str()), (1, "s1"));
    // The included file's seed.
    let included = format!("include = \"labs/seeded.toml\"\n{scenario}");
    let (seed, nodes, msg) = seeds(&included, &default);
    assert_eq!((seed, msg.as_str()), (42, "s42"));
    assert_eq!(nodes, ["h42"]);
    // This file's seed, for the included file too.
    let own = format!("seed = 7\n{included}");
    let (seed, nodes, msg) = seeds(&own, &default);
    assert_eq!(
        (seed, nodes, msg.as_str()),
        (7, vec!["h7".to_string()], "s7")
    );
    // This file's seed, from a variable of the included file.
    let from_lab = format!("seed = ${{s}}\n{included}");
    let (seed, nodes, msg) = seeds(&from_lab, &default);
    assert_eq!(
        (seed, nodes, msg.as_str()),
        (9, vec!["h9".to_string()], "s9")
    );
    // The seed given from outside.
    let outside = LoadOptions {
        seed: Some(3),
        ..Default::default()
    };
    let (seed, nodes, msg) = seeds(&from_lab, &outside);
    assert_eq!(
        (seed, nodes, msg.as_str()),
        (3, vec!["h3".to_string()], "s3")
    );
}

/// The mistakes of `text`, as (line, column, kind).
fn mistakes(text: &str) -> Vec<(usize, usize, SuiteErrorKind)> {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "labs/two.toml", TWO_HOSTS);
    let file = write(dir.path(), "f.toml", text);
    let errors = suite::check(&[&file], &LoadOptions::default());
    errors
        .into_iter()
        .map(|e| (e.line, e.column, e.kind))
        .collect()
}

#[test]
fn a_variable_that_does_not_settle_blames_its_cause() {
    // Through the include: the unknown name inside `lab`, where written.
    let found = mistakes("include = \"labs/${lab}.toml\"\n[vars]\nlab = \"${kind}\"\n");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        matches!(&found[0], (3, 8, SuiteErrorKind::UnknownVariable { name, .. }) if name == "kind"),
        "{found:#?}"
    );
    // In the body: the same, and no word of `msg`.
    let found = mistakes(
        "include = \"labs/two.toml\"\n[vars]\nmsg = \"${kind}\"\n\
         [[scenario]]\nname = \"x\"\ndescription = \"${msg}\"\nsteps = []\n",
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        matches!(&found[0], (3, 8, SuiteErrorKind::UnknownVariable { name, .. }) if name == "kind"),
        "{found:#?}"
    );
    // A cycle, as one.
    let cycle = "[vars]\na = \"${b}\"\nb = \"${a}\"\n\
                 [[scenario]]\nname = \"${a}\"\nsteps = []\n";
    let found = mistakes(cycle);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        found[0].2,
        SuiteErrorKind::VariableCycle {
            names: vec!["a".into(), "b".into(), "a".into()]
        }
    );
    assert_eq!((found[0].0, found[0].1), (3, 6));
    let found = mistakes(&format!("include = \"labs/${{a}}.toml\"\n{cycle}"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        matches!(found[0].2, SuiteErrorKind::VariableCycle { .. }),
        "{found:#?}"
    );
    // A variable in a name of `[vars]`.
    let found = mistakes("[vars]\nk = 1\n${k} = 2\n");
    assert_eq!(found, [(3, 1, SuiteErrorKind::VariableInKey)]);
}

#[test]
fn an_include_and_a_seed_that_depend_on_each_other_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let lab = |seed: u64| format!("seed = {seed}\n[topology]\nnodes = [\"h\"]\n");
    write(dir.path(), "labs/1.toml", &lab(2));
    write(dir.path(), "labs/2.toml", &lab(1));
    let file = write(dir.path(), "f.toml", "include = \"labs/${seed}.toml\"\n");
    let errors = suite::check(&[&file], &LoadOptions::default());
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].kind, SuiteErrorKind::SeedAndInclude);
    assert_eq!((errors[0].line, errors[0].column), (1, 11));
    // A choice that agrees with itself is taken.
    write(dir.path(), "labs/2.toml", &lab(2));
    let loaded = suite::load(&[&file], &LoadOptions::default());
    assert_eq!(loaded[0].result.as_ref().unwrap().seed, 2);
}

#[test]
fn the_example_of_the_docs_checks_clean() {
    let doc = std::fs::read_to_string(root().join("docs/suites.md")).unwrap();
    let section = &doc[doc.find("## A file").unwrap()..];
    let start = section.find("```toml\n").unwrap() + "```toml\n".len();
    let example = &section[start..start + section[start..].find("```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let lab = std::fs::read_to_string(root().join("suites/labs/router.toml")).unwrap();
    write(dir.path(), "labs/router.toml", &lab);
    let file = write(dir.path(), "example.toml", example);
    let errors = suite::check(&[&file], &LoadOptions::default());
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn a_path_that_does_not_exist_is_a_mistake() {
    let missing = root().join("suites/no_such_file.toml");
    let loaded = suite::load(
        &[root().join("suites/basics.toml"), missing.clone()],
        &LoadOptions::default(),
    );
    assert_eq!(loaded.len(), 2);
    let errors = loaded[1].result.as_ref().unwrap_err();
    assert_eq!(errors[0].file, missing);
    assert!(
        errors[0].to_string().contains("no such file"),
        "{}",
        errors[0]
    );
}

#[test]
fn a_folders_parameterised_lab_is_checked_through_its_includers() {
    let dir = tempfile::tempdir().unwrap();
    let lab = "[[topology.links]]\n\
        a = { node = \"n1\", iface = \"eth0\", addr = \"${net}.1/24\" }\n\
        b = { node = \"n2\", iface = \"eth0\", addr = \"${net}.2/24\" }\n";
    std::fs::create_dir(dir.path().join("labs")).unwrap();
    std::fs::write(dir.path().join("labs/pair.toml"), lab).unwrap();
    let main = "include = \"labs/pair.toml\"\n[vars]\nnet = \"198.51.100\"\n\n\
        [[scenario]]\nname = \"x\"\nsteps = [{ do = \"ping\", from = \"n9\", to = \"n1\" }]\n\n\
        [[scenario]]\nname = \"a::b\"\nsteps = []\n\n\
        [[scenario]]\nname = \"x\"\nsteps = []\n";
    std::fs::write(dir.path().join("main.toml"), main).unwrap();
    let errors = suite::check(&[dir.path()], &LoadOptions::default());
    // The lab alone would miss `net`; only main.toml's own mistakes show.
    let kinds: Vec<String> = errors.iter().map(|e| e.kind.to_string()).collect();
    assert_eq!(errors.len(), 3, "{kinds:#?}");
    assert!(
        errors.iter().all(|e| e.file.ends_with("main.toml")),
        "{errors:#?}"
    );
    assert!(kinds[0].contains("n9"), "{kinds:#?}");
    assert!(kinds[1].contains("`a::b`"), "{kinds:#?}");
    // The first `x` had a mistake; the second is still a duplicate.
    assert!(matches!(errors[2].kind, SuiteErrorKind::DuplicateScenario(ref n) if n == "x"));
    // Named on its own, the lab is checked alone; and a lab with another
    // mistake is reported from the folder too.
    let alone = suite::check(
        &[dir.path().join("labs/pair.toml")],
        &LoadOptions::default(),
    );
    assert!(
        matches!(alone[0].kind, SuiteErrorKind::UnknownVariable { .. }),
        "{alone:#?}"
    );
    std::fs::write(
        dir.path().join("labs/pair.toml"),
        format!("{lab}bogus = 1\n"),
    )
    .unwrap();
    let errors = suite::check(&[dir.path()], &LoadOptions::default());
    assert!(
        errors.iter().any(|e| e.file.ends_with("labs/pair.toml")),
        "{errors:#?}"
    );
}

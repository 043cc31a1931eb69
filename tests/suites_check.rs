//! What `check` finds in suite files before anything runs: files found in
//! a folder, values a probe would refuse, every mistake of a scenario.

use std::path::{Path, PathBuf};

use netns_test::suite::{self, LoadOptions, SuiteError, SuiteErrorKind};

/// `dir/name` with `text`, its folders made.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

const TWO_HOSTS: &str = r#"
[[topology.links]]
a = { node = "h1", iface = "eth0", addr = "198.51.100.1/24" }
b = { node = "h2", iface = "eth0", addr = "198.51.100.2/24" }
"#;

#[test]
fn a_file_with_scenarios_however_written_is_not_taken_for_a_lab() {
    let step = r#"{ do = "tcp", from = "h1", to = "h2:${prot}", expect = "refused" }"#;
    let forms = [
        format!("[[ scenario ]]\nname = \"t\"\nsteps = [{step}]\n"),
        format!("[[\"scenario\"]]\nname = \"t\"\nsteps = [{step}]\n"),
        format!("\"scenario\" = [{{ name = \"t\", steps = [{step}] }}]\n"),
        format!("'scenario' = [{{ name = \"t\", steps = [{step}] }}]\n"),
        format!("scenario = [{{ name = \"t\", steps = [{step}] }}]\n"),
    ];
    for form in forms {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "good.toml",
            &format!("{TWO_HOSTS}[[scenario]]\nname = \"ok\"\nsteps = []\n"),
        );
        // Top-level keys come before the tables.
        let text = format!("{form}{TWO_HOSTS}");
        let file = write(dir.path(), "spaced.toml", &text);
        let errors = suite::check(&[dir.path()], &LoadOptions::default());
        assert_eq!(errors.len(), 1, "{form}\n{errors:#?}");
        assert_eq!(errors[0].file, file, "{form}");
        assert!(errors[0].to_string().contains("${prot}"), "{}", errors[0]);
    }
}

#[test]
fn a_lab_with_scenario_only_in_a_comment_or_a_string_is_still_a_lab() {
    let dir = tempfile::tempdir().unwrap();
    let lab = "# [[scenario]] are in the files that include this one\n\
        [[topology.links]]\n\
        a = { node = \"h1\", iface = \"eth0\", addr = \"${net}.1/24\" }\n\
        b = { node = \"h2\", iface = \"eth0\", addr = \"${net}.2/24\" }\n\
        [vars]\nnote = \"scenario = 1\"\n";
    write(dir.path(), "labs/pair.toml", lab);
    write(
        dir.path(),
        "main.toml",
        "include = \"labs/pair.toml\"\n[vars]\nnet = \"198.51.100\"\n",
    );
    let errors = suite::check(&[dir.path()], &LoadOptions::default());
    assert!(errors.is_empty(), "{errors:#?}");
}

/// The mistakes `check` finds in one file: the lab of two hosts and `body`.
fn mistakes(body: &str) -> Vec<SuiteError> {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "f.toml", &format!("{body}{TWO_HOSTS}"));
    suite::check(&[&file], &LoadOptions::default())
}

#[test]
fn a_step_that_cannot_be_read_hides_no_other_steps_mistake() {
    let errors = mistakes(
        r#"
[[scenario]]
name = "s"
steps = [
  { do = "start", name = "web", node = "h1", cmd = ["true"], bogus = 1 },
  { do = "ping", from = "h9", to = "h2" },
  { do = "stop", name = "web" },
  { do = "heal", name = "cut" },
  { do = "partition", name = "cut", a = "h1", b = "h2", oops = true },
]
"#,
    );
    let found: Vec<(usize, String)> = errors
        .iter()
        .map(|e| (e.line, e.kind.to_string()))
        .collect();
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(
        matches!(&errors[0].kind, SuiteErrorKind::Syntax(m) if m.contains("step 1") && m.contains("bogus")),
        "{found:#?}"
    );
    // Step 3 stops what step 1 starts, as written; step 4 heals a
    // partition made only later.
    assert!(
        matches!(&errors[1].kind, SuiteErrorKind::UnknownNode { step: 2, node, .. } if node == "h9"),
        "{found:#?}"
    );
    assert_eq!(found[1].0, 6, "{found:#?}");
    assert!(
        found[2].1.contains("step 4 (heal): no partition `cut`"),
        "{found:#?}"
    );
    assert!(
        matches!(&errors[3].kind, SuiteErrorKind::Syntax(m) if m.contains("step 5")),
        "{found:#?}"
    );
}

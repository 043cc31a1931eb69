//! `run` and `check` on sets of files: names that stay apart, folders
//! that loop, a filter that matches nothing, a report that cannot be
//! written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

mod common;

use common::{output_within, text, two_hosts_lab, BIN};

/// `netns-test ARGS` in folder `dir`, artifacts under `dir/artifacts`.
fn netns_test_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("NETNS_TEST_ARTIFACTS", dir.join("artifacts"))
        .output()
        .unwrap()
}

/// Writes `body` after the two-host lab of `suites/labs/` as `name` under
/// `dir` (its folders made); the file's path.
fn suite(dir: &Path, name: &str, body: &str) -> PathBuf {
    let lab = two_hosts_lab();
    let file = dir.join(name);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let text = format!("include = {:?}\n{body}", lab.to_str().unwrap());
    std::fs::write(&file, text).unwrap();
    file
}

const FAILS: &str = r#"
[[scenario]]
name = "fails"
steps = [{ do = "run", node = "n1", cmd = ["false"] }]
"#;

#[test]
fn files_of_the_same_name_stay_apart_in_the_report_and_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    suite(dir.path(), "a/lab.toml", FAILS);
    suite(dir.path(), "b/lab.toml", FAILS);
    suite(dir.path(), "c/alone.toml", FAILS);
    let out = netns_test_in(
        dir.path(),
        &[
            "run",
            "a/lab.toml",
            "b/lab.toml",
            "c/alone.toml",
            "--junit",
            "report.xml",
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    for name in ["a/lab::fails", "b/lab::fails", "alone::fails"] {
        assert!(stdout.contains(&format!("FAILED  {name}")), "{stdout}");
    }
    let xml = std::fs::read_to_string(dir.path().join("report.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let mut suites: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .filter_map(|n| n.attribute("name"))
        .collect();
    suites.sort();
    assert_eq!(suites, ["a/lab", "alone", "b/lab"], "{xml}");
    for folder in ["a__lab__fails", "b__lab__fails", "alone__fails"] {
        let failure = dir
            .path()
            .join("artifacts")
            .join(folder)
            .join("failure.txt");
        assert!(failure.is_file(), "no {}\n{stdout}", failure.display());
    }
}

/// `netns-test ARGS` in `dir`, failed if it runs past 30 s.
fn netns_test_within(dir: &Path, args: &[&str]) -> Output {
    output_within(
        Command::new(BIN)
            .args(args)
            .current_dir(dir)
            .env("NETNS_TEST_ARTIFACTS", dir.join("artifacts")),
        Duration::from_secs(30),
    )
}

const PASSES: &str = r#"
[[scenario]]
name = "passes"
steps = [{ do = "run", node = "n1", cmd = ["true"] }]
"#;

#[test]
fn folders_that_loop_are_searched_once() {
    let dir = tempfile::tempdir().unwrap();
    let suites = dir.path().join("suites");
    suite(&suites, "one.toml", PASSES);
    std::fs::create_dir(suites.join("sub")).unwrap();
    std::os::unix::fs::symlink("..", suites.join("sub/up")).unwrap();
    std::os::unix::fs::symlink("../sub", suites.join("sub/self")).unwrap();
    std::os::unix::fs::symlink("one.toml", suites.join("same.toml")).unwrap();
    let out = netns_test_within(dir.path(), &["check", "suites"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert_eq!(stdout, "1 file(s), 1 scenario(s): no mistake\n");
    let out = netns_test_within(dir.path(), &["run", "suites", "suites/one.toml"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("running 1 scenario(s)"), "{stdout}");
}

#[test]
fn a_filter_that_matches_no_scenario_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    suite(dir.path(), "one.toml", PASSES);
    let out = netns_test_within(dir.path(), &["run", "one.toml", "--filter", "pases"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}{err}", text(&out.stdout));
    assert!(
        err.contains("--filter `pases` matches no scenario"),
        "{err}"
    );
    let out = netns_test_within(dir.path(), &["run", "one.toml", "--filter", "passes"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
}

#[test]
fn a_report_that_cannot_be_written_is_found_before_running() {
    let dir = tempfile::tempdir().unwrap();
    suite(dir.path(), "one.toml", PASSES);
    let out = netns_test_within(
        dir.path(),
        &["run", "one.toml", "--junit", "no-such-folder/report.xml"],
    );
    let (stdout, err) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}{err}");
    assert!(err.contains("no-such-folder/report.xml"), "{err}");
    assert!(!stdout.contains("running"), "{stdout}");
}

#[test]
fn the_summary_is_printed_when_the_report_cannot_be_written_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.xml");
    // The scenario puts a folder where the report goes.
    let body = format!(
        r#"
[[scenario]]
name = "in_the_way"
steps = [{{ do = "run", node = "n1", cmd = ["sh", "-c", "rm -f {0} && mkdir {0}"] }}]
"#,
        report.display()
    );
    suite(dir.path(), "one.toml", &body);
    let out = netns_test_within(dir.path(), &["run", "one.toml", "--junit", "report.xml"]);
    let (stdout, err) = (text(&out.stdout), text(&out.stderr));
    assert!(report.is_dir(), "{stdout}{err}");
    assert_eq!(out.status.code(), Some(2), "{stdout}{err}");
    assert!(
        stdout.lines().any(|l| l == "1 passed, 0 failed, 0 skipped"),
        "{stdout}"
    );
    assert!(err.contains("report.xml"), "{err}");
}

#[test]
fn a_run_in_which_no_scenario_ran_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    // Lab files only: `check` validates them, `run` has nothing to run.
    std::fs::create_dir(dir.path().join("labs")).unwrap();
    std::fs::copy(two_hosts_lab(), dir.path().join("labs/two.toml")).unwrap();
    let out = netns_test_within(dir.path(), &["check", "labs"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = netns_test_within(dir.path(), &["run", "labs"]);
    let (stdout, err) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}{err}");
    assert!(
        err.contains("no scenario in 1 file(s): nothing to run"),
        "{err}"
    );
    assert!(!stdout.contains("running"), "{stdout}");
    // Every scenario skipped: the summary and the report, then exit 2.
    let ignored = r#"
[[scenario]]
name = "later"
ignore = "not yet"
steps = [{ do = "run", node = "n1", cmd = ["true"] }]
"#;
    suite(dir.path(), "ignored.toml", ignored);
    let out = netns_test_within(
        dir.path(),
        &["run", "ignored.toml", "--junit", "report.xml"],
    );
    let (stdout, err) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}{err}");
    assert!(
        stdout.lines().any(|l| l == "0 passed, 0 failed, 1 skipped"),
        "{stdout}"
    );
    assert!(
        err.contains("no scenario ran: all 1 skipped (first, ignored::later: ignored: not yet)"),
        "{err}"
    );
    assert!(dir.path().join("report.xml").is_file(), "{stdout}{err}");
    // One that runs beside it: a pass.
    suite(dir.path(), "one.toml", PASSES);
    let out = netns_test_within(dir.path(), &["run", "ignored.toml", "one.toml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn a_scenario_with_no_step_is_a_mistake_for_check_and_run() {
    let dir = tempfile::tempdir().unwrap();
    let body = "\n[[scenario]]\nname = \"empty\"\n";
    suite(dir.path(), "empty.toml", body);
    for command in ["check", "run"] {
        let out = netns_test_within(dir.path(), &[command, "empty.toml"]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{command}: {err}");
        assert!(
            err.contains("empty.toml:3:1: scenario `empty` has no step"),
            "{command}: {err}"
        );
    }
}

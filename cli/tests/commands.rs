//! The command line on real files: `check` places every mistake, `run`
//! reports passes and failures with an exit status, JUnit XML and an
//! artifact folder, `draw` prints a picture.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::{text, two_hosts_lab, BIN};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn netns_test(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// Writes `body` as `name` in `dir`, with the path of `suites/labs/`'s
/// two-host lab in place of `LAB_FILE`; the file's path.
fn suite_on_two_hosts(dir: &Path, name: &str, body: &str) -> PathBuf {
    let file = dir.join(name);
    let lab = two_hosts_lab();
    std::fs::write(&file, body.replace("LAB_FILE", lab.to_str().unwrap())).unwrap();
    file
}

#[test]
fn check_lists_every_mistake_with_its_position() {
    let broken = repo().join("tests/suites_broken");
    let out = netns_test(&["check", broken.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    for place in [
        "unknown_node.toml:6:3: step 2 (ping): unknown node `n3`",
        "unknown_variable.toml:8:59: unknown variable `${prot}`",
        "unknown_key.toml:6:",
        "several.toml:9:3: step 5 (kill): unknown signal `BOOM`",
        "invalid_topology.toml:6:11: invalid topology",
    ] {
        assert!(err.contains(place), "missing {place:?} in:\n{err}");
    }
    let ok = netns_test(&["check", repo().join("suites").to_str().unwrap()], &[]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
}

#[test]
fn a_seed_in_the_environment_that_is_no_number_is_named_once() {
    let mut c = Command::new(BIN);
    c.args(["check", repo().join("suites").to_str().unwrap()])
        .env("NETNS_TEST_SEED", "0x2a");
    let out = c.output().unwrap();
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    let warning = "ignoring NETNS_TEST_SEED=\"0x2a\": expected a whole number";
    assert_eq!(err.matches(warning).count(), 1, "{err}");
}

/// Scenarios on the two-host lab of `suites/labs/` (its path in place of
/// `LAB_FILE`): one passes, one fails, one is ignored.
const MIXED: &str = r#"
include = "LAB_FILE"

[[scenario]]
name = "passes"
steps = [{ do = "ping", from = "n1", to = "n2", count = 1 }]

[[scenario]]
name = "fails"
steps = [
  { do = "capture" },
  { do = "run", node = "n2", cmd = ["sh", "-c", "echo to-the-artifacts"] },
  { do = "tcp", from = "n1", to = "n2:80", expect = "open", timeout = "500ms" },
]

[[scenario]]
name = "ignored"
ignore = "shows a skipped case"
steps = [{ do = "sleep", for = "1ms" }]
"#;

#[test]
fn run_reports_failures_junit_and_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    let file = suite_on_two_hosts(dir.path(), "mixed.toml", MIXED);
    let junit = dir.path().join("report.xml");
    let artifacts = dir.path().join("artifacts");
    let out = netns_test(
        &[
            "run",
            file.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ],
        &[("NETNS_TEST_ARTIFACTS", &artifacts)],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("ok      mixed::passes"), "{stdout}");
    assert!(stdout.contains("FAILED  mixed::fails"), "{stdout}");
    assert!(
        stdout.contains("mixed.toml:13:3: step 3 (tcp) failed"),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l == "1 passed, 1 failed, 1 skipped"),
        "{stdout}"
    );

    let folder = artifacts.join("mixed__fails");
    assert!(
        stdout.contains(&format!("artifacts: {}", folder.display())),
        "{stdout}"
    );
    for f in [
        "steps.log",
        "failure.txt",
        "seed",
        "topology.svg",
        "nodes/n1.txt",
        "nodes/n2.txt",
        "capture.pcapng",
    ] {
        assert!(folder.join(f).is_file(), "no {f} in {}", folder.display());
    }
    let program = std::fs::read_to_string(folder.join("programs/run-1.stdout")).unwrap();
    assert_eq!(program, "to-the-artifacts\n");
    // The capture holds the refused connection (tcpdump as an oracle, when
    // installed).
    if let Ok(out) = Command::new("tcpdump")
        .args(["-n", "-r"])
        .arg(folder.join("capture.pcapng"))
        .arg("tcp dst port 80")
        .output()
    {
        let lines = text(&out.stdout);
        assert!(lines.contains("198.51.100.2.80: Flags [S]"), "{lines}");
    }
    let svg = std::fs::read_to_string(folder.join("topology.svg")).unwrap();
    assert!(svg.contains("marked"), "the failing path is not marked");

    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("name"), Some("mixed"));
    assert_eq!(suite.attribute("tests"), Some("3"));
    assert_eq!(suite.attribute("failures"), Some("1"));
    assert_eq!(suite.attribute("skipped"), Some("1"));
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert!(failure
        .attribute("message")
        .unwrap()
        .contains("step 3 (tcp) failed"));
    validate_junit(&junit);
}

/// Validates a report against Jenkins' `junit-10.xsd` with `xmllint`, when
/// both are here (the schema from `NETNS_TEST_JUNIT_XSD`, or in `shared/`
/// beside the repository, as the JUnit writer's own tests look for it).
fn validate_junit(report: &Path) {
    let xsd = std::env::var_os("NETNS_TEST_JUNIT_XSD")
        .map(PathBuf::from)
        .into_iter()
        .chain([repo().join("../shared/jenkins-junit.xsd")])
        .find(|p| p.is_file());
    let Some(xsd) = xsd else {
        println!("note: no jenkins-junit.xsd here; schema validation skipped");
        return;
    };
    let Ok(out) = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(report)
        .output()
    else {
        println!("note: xmllint is not installed; schema validation skipped");
        return;
    };
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn draw_prints_each_format() {
    let lab = repo().join("suites/labs/router.toml");
    let svg = netns_test(&["draw", lab.to_str().unwrap()], &[]);
    assert!(svg.status.success());
    let svg = text(&svg.stdout);
    roxmltree::Document::parse(&svg).unwrap();
    assert!(svg.contains("r1") && svg.contains("203.0.113.254"));
    let dot = text(&netns_test(&["draw", lab.to_str().unwrap(), "--format", "dot"], &[]).stdout);
    assert!(dot.contains("graph") && dot.contains("h1"), "{dot}");
    let bad = netns_test(&["draw", lab.to_str().unwrap(), "--format", "png"], &[]);
    assert_eq!(bad.status.code(), Some(2));
}

/// `netns-test ARGS` run in folder `dir`.
fn netns_test_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn a_path_that_does_not_exist_is_a_usage_error() {
    let lab = two_hosts_lab();
    for command in ["run", "check"] {
        let out = netns_test(&[command, lab.to_str().unwrap(), "typo.toml"], &[]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        let err = text(&out.stderr);
        assert!(err.contains("typo.toml: no such file or folder"), "{err}");
    }
}

#[test]
fn programs_of_a_file_named_bare_run_in_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let lab = std::fs::read_to_string(repo().join("suites/labs/two_hosts.toml")).unwrap();
    let scenario = r#"
[[scenario]]
name = "here"
steps = [
  { do = "run", node = "n1", cmd = ["sh", "-c", "test -f bare.toml"] },
  { do = "start", name = "sleeper", node = "n2", cmd = ["sleep", "5"] },
]
"#;
    std::fs::write(dir.path().join("bare.toml"), format!("{lab}{scenario}")).unwrap();
    let out = netns_test_in(dir.path(), &["run", "bare.toml"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("1 passed, 0 failed"), "{stdout}");
}

/// Packets counted on the dual-stack two-host lab (its path in place of
/// `LAB_FILE`): each ICMP family apart, nodes for addresses, `count`
/// judging once what was captured (pings end when answered), and `count`
/// and `none` with a `timeout` observing a window long enough to see a
/// packet sent half a second into it. Filters on `n2` see one copy of
/// each packet, so every count is known.
const PACKETS: &str = r#"
include = "LAB_FILE"

[[scenario]]
name = "counted"
steps = [
  { do = "capture" },
  { do = "ping", from = "n1", to = "198.51.100.2", count = 2 },
  { do = "ping", from = "n1", to = "2001:db8::2", count = 2 },
  # Echo requests and replies over IPv4; neighbour discovery is ICMPv6.
  { do = "expect_packets", filter = { proto = "icmp", node = "n2" }, count = 4 },
  { do = "expect_packets", filter = { proto = "icmpv6", node = "n2" }, min = 5 },
  { do = "expect_packets", filter = { proto = "icmp", src = "n1", node = "n2" }, count = 2 },
  { do = "start", name = "late", node = "n1", cmd = ["bash", "-c", "sleep 0.5; echo x > /dev/udp/198.51.100.2/9999"] },
  { do = "expect_packets", filter = { proto = "udp", dst = "n2", dst_port = 9999, node = "n2" }, count = 1, timeout = "5s" },
]

[[scenario]]
name = "too_many"
steps = [
  { do = "capture" },
  { do = "ping", from = "n1", to = "198.51.100.2", count = 2 },
  { do = "expect_packets", filter = { proto = "icmp", node = "n2" }, count = 1 },
]

[[scenario]]
name = "none_for_the_whole_timeout"
steps = [
  { do = "capture" },
  { do = "start", name = "late", node = "n1", cmd = ["bash", "-c", "sleep 0.5; echo x > /dev/udp/198.51.100.2/9999"] },
  { do = "expect_packets", filter = { proto = "udp", dst_port = 9999, node = "n2" }, none = true, timeout = "5s" },
]
"#;

#[test]
fn expect_packets_counts_families_nodes_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let file = suite_on_two_hosts(dir.path(), "packets.toml", PACKETS);
    let artifacts = dir.path().join("artifacts");
    let out = netns_test(
        &["run", file.to_str().unwrap()],
        &[("NETNS_TEST_ARTIFACTS", &artifacts)],
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("ok      packets::counted"), "{stdout}");
    assert!(stdout.contains("FAILED  packets::too_many"), "{stdout}");
    assert!(
        stdout.contains("step 3 (expect_packets) failed: 4 matching packets, exactly 1 expected"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAILED  packets::none_for_the_whole_timeout"),
        "{stdout}"
    );
    assert!(
        stdout.contains("step 3 (expect_packets) failed: 1 matching packets, none expected"),
        "{stdout}"
    );
    assert!(stdout.contains("1 passed, 2 failed"), "{stdout}");
    assert_eq!(out.status.code(), Some(1), "{stdout}");
}

/// `netns-test run FILE --junit REPORT` with the report beside the file:
/// the exit code, standard output and the report.
fn run_with_report(file: &Path) -> (Option<i32>, String, String) {
    let junit = file.with_extension("xml");
    let out = netns_test(
        &[
            "run",
            file.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ],
        &[],
    );
    let xml = std::fs::read_to_string(&junit).unwrap_or_default();
    (out.status.code(), text(&out.stdout), xml)
}

#[test]
fn a_lab_the_kernel_refuses_is_an_error_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("refused.toml");
    // The file is valid, but the kernel takes a default TTL from 1 to 255.
    let text_of_file = r#"
[[topology.links]]
a = { node = "n1", iface = "eth0", addr = "198.51.100.1/24" }
b = { node = "n2", iface = "eth0", addr = "198.51.100.2/24" }

[topology.sysctls.n1]
"net.ipv4.ip_default_ttl" = "0"

[[scenario]]
name = "never_runs"
steps = [{ do = "ping", from = "n1", to = "n2", count = 1 }]
"#;
    std::fs::write(&file, text_of_file).unwrap();
    let (code, stdout, xml) = run_with_report(&file);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("ERROR   refused::never_runs"), "{stdout}");
    assert!(stdout.contains("ip_default_ttl"), "{stdout}");
    assert!(
        stdout.lines().any(|l| l == "0 passed, 1 failed, 0 skipped"),
        "{stdout}"
    );
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("errors"), Some("1"), "{xml}");
    assert_eq!(suite.attribute("failures"), Some("0"), "{xml}");
    assert!(doc.descendants().any(|n| n.has_tag_name("error")), "{xml}");
    validate_junit(&file.with_extension("xml"));
}

#[test]
fn a_scenario_out_of_time_names_the_step_it_was_in() {
    let dir = tempfile::tempdir().unwrap();
    let body = r#"include = "LAB_FILE"

[[scenario]]
name = "too_slow"
timeout = "3s"
steps = [
  { do = "run", node = "n1", cmd = ["true"] },
  { do = "run", node = "n1", cmd = ["sleep", "30"], timeout = "60s" },
]
"#;
    let file = suite_on_two_hosts(dir.path(), "slow.toml", body);
    let (code, stdout, xml) = run_with_report(&file);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("FAILED  slow::too_slow"), "{stdout}");
    assert!(
        stdout.contains("the last step it started: step 2 (run) at "),
        "{stdout}"
    );
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let log = doc
        .descendants()
        .find(|n| n.has_tag_name("system-out"))
        .and_then(|n| n.text())
        .unwrap_or_default();
    assert!(
        log.contains("step 1 (run)") && log.contains("  ok: "),
        "{xml}"
    );
    assert!(log.contains("step 2 (run)"), "{xml}");
}

#[test]
fn a_scenario_out_of_time_runs_no_further_step_and_writes_no_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    let artifacts = dir.path().join("artifacts");
    // Without the stop, the first scenario's runner would go on after its
    // time is up, fail its next step on the emptied lab and write a folder
    // while the second scenario keeps the process alive.
    let body = r#"include = "LAB_FILE"

[[scenario]]
name = "late"
timeout = "1s"
steps = [
  { do = "sleep", for = "2s" },
  { do = "run", node = "n1", cmd = ["true"] },
]

[[scenario]]
name = "next"
steps = [{ do = "sleep", for = "3s" }]
"#;
    let file = suite_on_two_hosts(dir.path(), "late.toml", body);
    let out = netns_test(
        &["run", file.to_str().unwrap()],
        &[("NETNS_TEST_ARTIFACTS", &artifacts)],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAILED  late::late"), "{stdout}");
    assert!(stdout.contains("ok      late::next"), "{stdout}");
    let written: Vec<_> = std::fs::read_dir(&artifacts)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(written.is_empty(), "{written:?}\n{stdout}");
}

//! Suite scenarios run in process, as `suite_main!` and `Scenario::run`
//! run them: what a failure says and where its artifacts go. Needs the
//! privileges to make namespaces.

mod common;

use common::suite_files::{write, ISLANDS, TWO_HOSTS};

use netns_test::harness::{Arguments, Conclusion};
use netns_test::suite;

/// Runs the suite in `dir/suite` under the harness, one test at a time:
/// its conclusion and its log.
fn run_suite(dir: &std::path::Path) -> (Conclusion, String) {
    let log = dir.join("log");
    let args = Arguments {
        logfile: Some(log.to_string_lossy().into_owned()),
        test_threads: Some(1),
        ..Arguments::default()
    };
    let conclusion = suite::harness(dir.join("suite")).run_with(&args);
    (
        conclusion,
        std::fs::read_to_string(&log).unwrap_or_default(),
    )
}

/// Runs each scenario of `body` with lab `lab` in process: its report.
fn run_scenarios(body: &str, lab: &str) -> Vec<suite::ScenarioReport> {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "f.toml", &format!("{body}{lab}"));
    let mut reports = Vec::new();
    for loaded in suite::load(&[file], &Default::default()) {
        for scenario in loaded.result.unwrap().scenarios {
            reports.push(scenario.run());
        }
    }
    reports
}

/// Asserts that `r` passed and that a line of its log contains `text`.
fn assert_passed_saying(r: &suite::ScenarioReport, text: &str) {
    assert_eq!(r.verdict, suite::Verdict::Passed, "{:#?}", r.log);
    assert!(
        r.log.iter().any(|l| l.contains(text)),
        "{text}: {:#?}",
        r.log
    );
}

#[test]
fn under_the_harness_a_scenario_out_of_time_names_its_last_step_and_log() {
    let dir = tempfile::tempdir().unwrap();
    let body = r#"
[[scenario]]
name = "too_slow"
timeout = "1s"
steps = [
  { do = "run", node = "h1", cmd = ["true"] },
  { do = "sleep", for = "10s" },
  { do = "run", node = "h1", cmd = ["true"] },
]
"#;
    write(dir.path(), "suite/slow.toml", &format!("{body}{TWO_HOSTS}"));
    let (conclusion, text) = run_suite(dir.path());
    assert_eq!(conclusion.num_failed, 1, "{text}");
    assert!(text.contains("test `slow::too_slow` timed out"), "{text}");
    assert!(
        text.contains("the last step it started: step 2 (sleep) at "),
        "{text}"
    );
    assert!(text.contains("the step log so far:"), "{text}");
    assert!(
        text.contains("step 1 (run)") && text.contains("  ok: "),
        "{text}"
    );
    assert!(!text.contains("step 3 (run)"), "{text}");
}

#[test]
fn scenarios_whose_names_map_alike_keep_their_artifacts_apart() {
    let dir = tempfile::tempdir().unwrap();
    let fails = |name: &str| {
        format!(
            "[[scenario]]\nname = \"{name}\"\n\
             steps = [{{ do = \"run\", node = \"h1\", cmd = [\"false\"] }}]\n"
        )
    };
    let two = format!("{}{}{TWO_HOSTS}", fails("x y"), fails("x_y"));
    write(dir.path(), "suite/f.toml", &two);
    write(
        dir.path(),
        "suite/a/b.toml",
        &format!("{}{TWO_HOSTS}", fails("s")),
    );
    write(
        dir.path(),
        "suite/a__b.toml",
        &format!("{}{TWO_HOSTS}", fails("s")),
    );
    let loaded = suite::load(&[dir.path().join("suite")], &Default::default());
    let mut folders = Vec::new();
    for file in loaded {
        for scenario in file.result.unwrap().scenarios {
            let report = scenario.run();
            assert!(report.verdict.problem().is_some(), "{report:?}");
            folders.push((scenario.name(), report.artifacts.expect("artifacts")));
        }
    }
    assert_eq!(folders.len(), 4, "{folders:#?}");
    // Each folder still holds its own scenario's artifacts.
    for (name, folder) in &folders {
        let written = std::fs::read_to_string(folder.join("scenario.txt")).unwrap();
        assert_eq!(written.lines().next(), Some(name.as_str()), "{folders:#?}");
    }
}

#[test]
fn a_packet_check_on_a_node_no_capture_covers_fails() {
    let dir = tempfile::tempdir().unwrap();
    let body = r#"
[[scenario]]
name = "uncovered"
steps = [
  { do = "capture", nodes = ["h1"] },
  { do = "ping", from = "h1", to = "h2" },
  { do = "expect_packets", filter = { proto = "icmp", node = "h2" }, none = true },
]
"#;
    write(
        dir.path(),
        "suite/uncovered.toml",
        &format!("{body}{TWO_HOSTS}"),
    );
    let (conclusion, text) = run_suite(dir.path());
    assert_eq!(conclusion.num_failed, 1, "{text}");
    assert!(
        text.contains("can match no packet: no capture covers its node and interface")
            && text.contains("captured: h1/eth0"),
        "{text}"
    );
}

#[test]
fn a_path_step_takes_routers_by_name_or_by_the_address_that_answers() {
    let dir = tempfile::tempdir().unwrap();
    let lab = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/labs/router.toml");
    let body = format!(
        r#"include = {:?}

[[scenario]]
name = "by_address"
steps = [
  {{ do = "path", from = "h1", to = "h2", via = ["198.51.100.254"] }},
  {{ do = "path", from = "h1", to = "203.0.113.1", via = ["r1", "203.0.113.1"] }},
]

[[scenario]]
name = "wrong_address"
steps = [{{ do = "path", from = "h1", to = "h2", via = ["198.51.100.253"] }}]
"#,
        lab.to_str().unwrap()
    );
    let file = write(dir.path(), "paths.toml", &body);
    let loaded = suite::load(&[&file], &Default::default());
    let scenarios = match &loaded[0].result {
        Ok(f) => &f.scenarios,
        Err(errors) => panic!("{errors:#?}"),
    };
    let ok = scenarios[0].run();
    assert_eq!(ok.verdict, suite::Verdict::Passed, "{ok:#?}");
    let wrong = scenarios[1].run();
    let why = wrong.verdict.problem().unwrap_or_default();
    assert!(
        why.contains("expected 198.51.100.253, got r1 (198.51.100.254)"),
        "{wrong:#?}"
    );
}

#[test]
fn a_node_name_as_a_destination_is_an_address_only_that_node_holds() {
    // hB by name is 198.51.100.20: rA does not reach it, though hA, in
    // rA's island, answers hB's other address, 198.51.100.10.
    let body = r#"
[[scenario]]
name = "own"
steps = [
  { do = "unreachable", from = "rA", to = "hB" },
  { do = "ping", from = "rB", to = "hB" },
  { do = "path", from = "rB", to = "hB", via = ["hB"] },
]
"#;
    let reports = run_scenarios(body, ISLANDS);
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert_passed_saying(r, "198.51.100.20 did not answer");
}

#[test]
fn a_connectivity_step_counts_only_the_nodes_that_took_part() {
    // h3 is IPv6 only, with no IPv6 partner: left out of every pair.
    let lab = r#"
[[topology.links]]
a = { node = "h1", iface = "eth0", addr = "198.51.100.1/24" }
b = { node = "h2", iface = "eth0", addr = "198.51.100.2/24" }
[[topology.links]]
a = { node = "h3", iface = "eth0", addr = "2001:db8::3/64" }
b = { node = "h1", iface = "eth1" }
"#;
    let body = r#"
[[scenario]]
name = "all"
steps = [{ do = "connectivity" }]
"#;
    let reports = run_scenarios(body, lab);
    let r = &reports[0];
    assert_passed_saying(r, "2 nodes reach each other as expected");
}

#[test]
fn a_ping_with_min_received_zero_fails_when_no_request_could_be_sent() {
    // h1 has no route to 203.0.113.0/24: every send fails.
    let body = r#"
[[scenario]]
name = "unroutable"
steps = [{ do = "ping", from = "h1", to = "203.0.113.1", min_received = 0 }]

[[scenario]]
name = "unanswered"
steps = [{ do = "ping", from = "h1", to = "198.51.100.9", min_received = 0, timeout = "200ms" }]
"#;
    let reports = run_scenarios(body, TWO_HOSTS);
    assert_eq!(reports.len(), 2);
    let why = reports[0].verdict.problem().expect("the ping step fails");
    assert!(
        why.contains("none of the 3 requests to 203.0.113.1 could be sent")
            && why.contains("Network is unreachable"),
        "{why}"
    );
    // Requests that went unanswered are what `min_received = 0` allows.
    assert_eq!(
        reports[1].verdict,
        suite::Verdict::Passed,
        "{:#?}",
        reports[1].log
    );
}

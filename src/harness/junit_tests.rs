//! Tests of the JUnit writer: the document's structure against the rules
//! of Jenkins' `junit-10.xsd`, escaping, timestamps, and (where `xmllint`
//! and a copy of the schema are present) validation by the schema itself.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::*;

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

/// Two suites with every outcome, properties, raw program output and
/// names that need escaping.
fn sample() -> JunitReport {
    let mut r = JunitReport::new("netns-test <run>", "ci&host", at(1_800_000_000));
    r.property("nat.toml", "seed", "42")
        .property("nat.toml", "file", "suites/nat \"main\".toml");
    r.case(
        "nat.toml",
        JunitCase::new(
            "nat.toml::http",
            Duration::from_millis(1250),
            Outcome::Passed,
        ),
    )
    .case(
        "nat.toml",
        JunitCase::new(
            "nat.toml::refused <22>",
            Duration::from_micros(3_000_400),
            Outcome::failed(
                "step 3: tcp h1 -> 203.0.113.2:22 \"connected\"\nexpected refused",
                "step log:\n1 ok\n2 ok\n3 FAILED & stopped",
            ),
        )
        .stdout("\u{1b}[31mred\u{1b}[0m\r\nnul:\u{0} <end>")
        .stderr("warn: ]]> in output"),
    )
    .case(
        "broken.toml",
        JunitCase::new(
            "broken.toml",
            Duration::ZERO,
            Outcome::error(
                "broken.toml:3:7: unknown step `pong`",
                "3 | pong h1\n  |   ^",
            ),
        ),
    )
    .case(
        "nat.toml",
        JunitCase::new(
            "nat.toml::ipv6",
            Duration::ZERO,
            Outcome::skipped("IPv6 is off on this host"),
        ),
    );
    r
}

/// Whether `s` matches the schema's `SUREFIRE_TIME` for what we write:
/// digits, optionally a point and digits.
fn is_time(s: &str) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    !int.is_empty() && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
}

fn attrs_within(node: roxmltree::Node<'_, '_>, allowed: &[&str], required: &[&str]) {
    let tag = node.tag_name().name();
    for a in node.attributes() {
        assert!(
            allowed.contains(&a.name()),
            "<{tag}> has attribute {}",
            a.name()
        );
    }
    for r in required {
        assert!(node.attribute(*r).is_some(), "<{tag}> lacks attribute {r}");
    }
}

fn elements<'a, 'i>(node: roxmltree::Node<'a, 'i>) -> Vec<roxmltree::Node<'a, 'i>> {
    node.children().filter(|c| c.is_element()).collect()
}

fn count(node: roxmltree::Node<'_, '_>, attr: &str) -> usize {
    node.attribute(attr).unwrap().parse().unwrap()
}

/// The rules of Jenkins' `junit-10.xsd` that our documents touch, checked
/// element by element, and counts that agree with the cases.
fn check_structure(xml: &str) {
    let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    attrs_within(root, &["name", "time", "tests", "failures", "errors"], &[]);
    assert!(is_time(root.attribute("time").unwrap()));
    let (mut tests, mut failures, mut errors) = (0, 0, 0);
    for suite in elements(root) {
        assert_eq!(suite.tag_name().name(), "testsuite");
        attrs_within(
            suite,
            &[
                "name",
                "tests",
                "failures",
                "errors",
                "group",
                "time",
                "skipped",
                "timestamp",
                "hostname",
                "id",
                "package",
                "file",
                "log",
                "url",
            ],
            &["name", "tests", "failures", "errors"],
        );
        assert!(is_time(suite.attribute("time").unwrap()));
        let cases: Vec<_> = elements(suite)
            .into_iter()
            .filter(|c| c.tag_name().name() == "testcase")
            .collect();
        let with = |tag: &str| {
            cases
                .iter()
                .filter(|c| elements(**c).iter().any(|e| e.tag_name().name() == tag))
                .count()
        };
        assert_eq!(count(suite, "tests"), cases.len());
        assert_eq!(count(suite, "failures"), with("failure"));
        assert_eq!(count(suite, "errors"), with("error"));
        assert_eq!(count(suite, "skipped"), with("skipped"));
        tests += cases.len();
        failures += with("failure");
        errors += with("error");
        for child in elements(suite) {
            match child.tag_name().name() {
                "properties" => {
                    for p in elements(child) {
                        assert_eq!(p.tag_name().name(), "property");
                        attrs_within(p, &["name", "value"], &["name", "value"]);
                    }
                }
                "testcase" => {
                    attrs_within(child, &["name", "time", "classname", "group"], &["name"]);
                    assert!(is_time(child.attribute("time").unwrap()));
                    for e in elements(child) {
                        match e.tag_name().name() {
                            "failure" | "error" | "skipped" => {
                                attrs_within(e, &["type", "message"], &[]);
                            }
                            "system-out" | "system-err" => {
                                assert!(elements(e).is_empty(), "system-out holds text only");
                            }
                            other => panic!("<testcase> holds <{other}>"),
                        }
                    }
                }
                other => panic!("<testsuite> holds <{other}>"),
            }
        }
    }
    assert_eq!(count(root, "tests"), tests);
    assert_eq!(count(root, "failures"), failures);
    assert_eq!(count(root, "errors"), errors);
}

#[test]
fn the_document_has_the_structure_of_the_common_schema() {
    check_structure(&sample().to_xml());
    check_structure(&JunitReport::new("empty", "h", at(0)).to_xml());
}

#[test]
fn counts_times_and_attributes_are_written() {
    let xml = sample().to_xml();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.attribute("name"), Some("netns-test <run>"));
    assert_eq!(
        [
            root.attribute("tests"),
            root.attribute("failures"),
            root.attribute("errors")
        ],
        [Some("4"), Some("1"), Some("1")]
    );
    assert_eq!(root.attribute("time"), Some("4.250"));
    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    assert_eq!(suites.len(), 2, "suites in the order first named");
    let nat = suites[0];
    assert_eq!(nat.attribute("name"), Some("nat.toml"));
    assert_eq!(nat.attribute("skipped"), Some("1"));
    assert_eq!(nat.attribute("hostname"), Some("ci&host"));
    assert_eq!(nat.attribute("timestamp"), Some("2027-01-15T08:00:00"));
    assert_eq!(suites[1].attribute("id"), Some("1"));
    let case = nat
        .descendants()
        .find(|n| n.attribute("name") == Some("nat.toml::refused <22>"))
        .unwrap();
    assert_eq!(case.attribute("classname"), Some("nat.toml"));
    assert_eq!(case.attribute("time"), Some("3.000"));
    assert!(!sample().passed());
    let mut ok = JunitReport::new("r", "h", at(0));
    ok.case(
        "s",
        JunitCase::new("s::a", Duration::ZERO, Outcome::skipped("no")),
    );
    assert!(ok.passed());
}

#[test]
fn text_survives_escaping() {
    let xml = sample().to_xml();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let text_of = |tag: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name(tag))
            .unwrap_or_else(|| panic!("no <{tag}>"))
    };
    let failure = text_of("failure");
    assert_eq!(
        failure.attribute("message"),
        Some("step 3: tcp h1 -> 203.0.113.2:22 \"connected\"\nexpected refused"),
        "a line break in an attribute is kept"
    );
    assert_eq!(
        failure.text(),
        Some("step log:\n1 ok\n2 ok\n3 FAILED & stopped")
    );
    assert_eq!(
        text_of("system-out").text(),
        Some("\\u{1b}[31mred\\u{1b}[0m\r\nnul:\\u{0} <end>"),
        "control characters XML forbids are shown, carriage returns kept"
    );
    assert_eq!(text_of("system-err").text(), Some("warn: ]]> in output"));
    assert_eq!(text_of("error").attribute("type"), Some("error"));
    assert_eq!(
        text_of("skipped").attribute("message"),
        Some("IPv6 is off on this host")
    );
    let property = doc
        .descendants()
        .find(|n| n.attribute("name") == Some("file"))
        .unwrap();
    assert_eq!(
        property.attribute("value"),
        Some("suites/nat \"main\".toml")
    );
}

#[test]
fn timestamps_are_utc_calendar_dates() {
    assert_eq!(iso8601(at(0)), "1970-01-01T00:00:00");
    assert_eq!(iso8601(at(951_782_400 + 3661)), "2000-02-29T01:01:01");
    assert_eq!(iso8601(at(4_102_444_799)), "2099-12-31T23:59:59");
    assert_eq!(
        iso8601(SystemTime::UNIX_EPOCH - Duration::from_secs(5)),
        "1970-01-01T00:00:00"
    );
    assert_eq!(seconds(Duration::from_nanos(1_999_999_999)), "1.999");
}

/// A copy of Jenkins' `junit-10.xsd` (MIT), from `NETNS_TEST_JUNIT_XSD`
/// or next to the repository in `shared/`.
fn schema() -> Option<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::env::var_os("NETNS_TEST_JUNIT_XSD")
        .map(PathBuf::from)
        .into_iter()
        .chain([manifest.join("../shared/jenkins-junit.xsd")])
        .find(|p| p.is_file())
}

fn xmllint(xsd: &std::path::Path, xml: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.xml");
    std::fs::write(&file, xml).unwrap();
    std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(xsd)
        .arg(&file)
        .output()
        .expect("xmllint runs")
}

#[test]
fn the_document_validates_against_the_jenkins_schema() {
    let Some(xsd) = schema() else {
        println!(
            "note: no copy of jenkins-junit.xsd (set NETNS_TEST_JUNIT_XSD or put it in ../shared/); schema validation skipped"
        );
        return;
    };
    if std::process::Command::new("xmllint")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("note: xmllint is not installed; schema validation skipped");
        return;
    }
    for xml in [
        sample().to_xml(),
        JunitReport::new("e", "h", at(0)).to_xml(),
    ] {
        let out = xmllint(&xsd, &xml);
        assert!(
            out.status.success(),
            "{}\n{xml}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The validator bites: a suite without its counts is refused.
    let bad = sample().to_xml().replacen(r#" tests="3""#, "", 1);
    assert!(!xmllint(&xsd, &bad).status.success());
}

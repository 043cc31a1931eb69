//! JUnit XML reports, the test report format CI systems read (Jenkins,
//! GitLab, GitHub Actions reporters, Azure Pipelines, ...).
//!
//! Pure: a [`JunitReport`] is built from results and written as text; the
//! caller supplies the host name and the time the run started. The
//! document follows the common schema (Jenkins' `junit-10.xsd`, as
//! Surefire and Ant write it): `<testsuites>` holding one `<testsuite>` per
//! suite (a file of scenarios) with its counts (`tests`, `failures`,
//! `errors`, `skipped`), `time`, `timestamp`, `hostname` and
//! `<properties>` (the seed, ...), each holding `<testcase>`s with
//! `<failure>`, `<error>` or `<skipped>`, `<system-out>` and
//! `<system-err>`. Text is escaped for XML 1.0, including the control
//! characters it forbids (written as `\u{1b}`), so a program's raw output
//! never breaks the file.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use netns_test::harness::junit::{JunitCase, JunitReport, Outcome};
//!
//! let started = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
//! let mut report = JunitReport::new("netns-test", "ci-runner-1", started);
//! report.property("nat.toml", "seed", "42");
//! report.case(
//!     "nat.toml",
//!     JunitCase::new("nat.toml::http_through_nat", Duration::from_millis(1250), Outcome::Passed)
//!         .stdout("GET / 200\n"),
//! );
//! report.case(
//!     "nat.toml",
//!     JunitCase::new(
//!         "nat.toml::port_refused",
//!         Duration::from_millis(3000),
//!         Outcome::failed("step 3: tcp h1 -> 203.0.113.2:22 connected", "step log:\n..."),
//!     ),
//! );
//! let xml = report.to_xml();
//! assert!(xml.contains(r#"<testsuite name="nat.toml" tests="2" failures="1" errors="0" skipped="0" time="4.250" timestamp="2027-01-15T08:00:00" hostname="ci-runner-1" id="0">"#));
//! assert!(xml.contains(r#"<property name="seed" value="42"/>"#));
//! assert!(xml.contains(r#"<failure message="step 3: tcp h1 -&gt; 203.0.113.2:22 connected" type="failure">"#));
//! ```

use std::fmt::Write;
use std::time::{Duration, SystemTime};

use crate::vocab::{xml_attr, xml_text};

/// How a test case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It passed.
    Passed,
    /// An assertion failed: `message` is the one-line reason (the
    /// `message` attribute), `details` the full text (the element's body:
    /// step log, diff, where the artifacts are).
    Failed {
        /// One line.
        message: String,
        /// Any length.
        details: String,
    },
    /// It could not run as written (a bad file, a lab that could not be
    /// built): the same fields as [`Failed`](Outcome::Failed), reported as
    /// an `<error>`.
    Error {
        /// One line.
        message: String,
        /// Any length.
        details: String,
    },
    /// It did not run (ignored, filtered, unsupported here), and why.
    Skipped {
        /// Why.
        message: String,
    },
}

impl Outcome {
    /// [`Outcome::Failed`] from anything textual.
    pub fn failed(message: impl Into<String>, details: impl Into<String>) -> Outcome {
        Outcome::Failed {
            message: message.into(),
            details: details.into(),
        }
    }

    /// [`Outcome::Error`] from anything textual.
    pub fn error(message: impl Into<String>, details: impl Into<String>) -> Outcome {
        Outcome::Error {
            message: message.into(),
            details: details.into(),
        }
    }

    /// [`Outcome::Skipped`] from anything textual.
    pub fn skipped(message: impl Into<String>) -> Outcome {
        Outcome::Skipped {
            message: message.into(),
        }
    }
}

/// One test case: its name (`file::scenario`), how long it took, how it
/// ended, and what it printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JunitCase {
    name: String,
    time: Duration,
    outcome: Outcome,
    stdout: String,
    stderr: String,
}

impl JunitCase {
    /// A case named `name` that took `time` and ended with `outcome`.
    pub fn new(name: impl Into<String>, time: Duration, outcome: Outcome) -> JunitCase {
        JunitCase {
            name: name.into(),
            time,
            outcome,
            stdout: String::new(),
            stderr: String::new(),
        }
    }

    /// What the case wrote to standard output (`<system-out>`).
    pub fn stdout(mut self, text: impl Into<String>) -> JunitCase {
        self.stdout = text.into();
        self
    }

    /// What the case wrote to standard error (`<system-err>`).
    pub fn stderr(mut self, text: impl Into<String>) -> JunitCase {
        self.stderr = text.into();
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Suite {
    name: String,
    properties: Vec<(String, String)>,
    cases: Vec<JunitCase>,
}

/// Counts of one suite or of the whole report.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    time: Duration,
}

impl Counts {
    fn of<'a>(cases: impl IntoIterator<Item = &'a JunitCase>) -> Counts {
        let mut c = Counts::default();
        for case in cases {
            c.tests += 1;
            c.time += case.time;
            match case.outcome {
                Outcome::Passed => {}
                Outcome::Failed { .. } => c.failures += 1,
                Outcome::Error { .. } => c.errors += 1,
                Outcome::Skipped { .. } => c.skipped += 1,
            }
        }
        c
    }
}

/// A whole run: suites in the order first named, each with its cases in
/// the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JunitReport {
    name: String,
    hostname: String,
    timestamp: SystemTime,
    suites: Vec<Suite>,
}

impl JunitReport {
    /// An empty report: `name` of the run (`<testsuites name>`), the
    /// `hostname` that ran it and when it `started` (each suite's
    /// `timestamp`, written in UTC).
    pub fn new(
        name: impl Into<String>,
        hostname: impl Into<String>,
        started: SystemTime,
    ) -> JunitReport {
        JunitReport {
            name: name.into(),
            hostname: hostname.into(),
            timestamp: started,
            suites: Vec::new(),
        }
    }

    fn suite(&mut self, name: &str) -> &mut Suite {
        let i = match self.suites.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                self.suites.push(Suite {
                    name: name.to_string(),
                    properties: Vec::new(),
                    cases: Vec::new(),
                });
                self.suites.len() - 1
            }
        };
        &mut self.suites[i]
    }

    /// Adds a case to suite `suite` (created on first use); the case's
    /// `classname` is the suite's name.
    pub fn case(&mut self, suite: &str, case: JunitCase) -> &mut JunitReport {
        self.suite(suite).cases.push(case);
        self
    }

    /// Adds a property (`<property name value>`) to suite `suite`, such as
    /// the seed its scenarios ran with.
    pub fn property(
        &mut self,
        suite: &str,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> &mut JunitReport {
        self.suite(suite)
            .properties
            .push((name.into(), value.into()));
        self
    }

    /// Whether every case passed or was skipped.
    pub fn passed(&self) -> bool {
        let c = Counts::of(self.suites.iter().flat_map(|s| &s.cases));
        c.failures == 0 && c.errors == 0
    }

    /// The report as a JUnit XML document.
    pub fn to_xml(&self) -> String {
        let total = Counts::of(self.suites.iter().flat_map(|s| &s.cases));
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            r#"<testsuites name="{}" tests="{}" failures="{}" errors="{}" time="{}">"#,
            xml_attr(&self.name),
            total.tests,
            total.failures,
            total.errors,
            seconds(total.time)
        );
        let timestamp = iso8601(self.timestamp);
        for (id, suite) in self.suites.iter().enumerate() {
            let c = Counts::of(&suite.cases);
            let _ = writeln!(
                out,
                r#"  <testsuite name="{}" tests="{}" failures="{}" errors="{}" skipped="{}" time="{}" timestamp="{timestamp}" hostname="{}" id="{id}">"#,
                xml_attr(&suite.name),
                c.tests,
                c.failures,
                c.errors,
                c.skipped,
                seconds(c.time),
                xml_attr(&self.hostname),
            );
            if !suite.properties.is_empty() {
                out.push_str("    <properties>\n");
                for (name, value) in &suite.properties {
                    let _ = writeln!(
                        out,
                        r#"      <property name="{}" value="{}"/>"#,
                        xml_attr(name),
                        xml_attr(value)
                    );
                }
                out.push_str("    </properties>\n");
            }
            for case in &suite.cases {
                write_case(&mut out, &suite.name, case);
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }
}

fn write_case(out: &mut String, classname: &str, case: &JunitCase) {
    let _ = write!(
        out,
        r#"    <testcase name="{}" classname="{}" time="{}""#,
        xml_attr(&case.name),
        xml_attr(classname),
        seconds(case.time)
    );
    if case.outcome == Outcome::Passed && case.stdout.is_empty() && case.stderr.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    match &case.outcome {
        Outcome::Passed => {}
        Outcome::Failed { message, details } | Outcome::Error { message, details } => {
            let tag = if matches!(case.outcome, Outcome::Failed { .. }) {
                "failure"
            } else {
                "error"
            };
            let _ = writeln!(
                out,
                r#"      <{tag} message="{}" type="{tag}">{}</{tag}>"#,
                xml_attr(message),
                xml_text(details)
            );
        }
        Outcome::Skipped { message } => {
            let _ = writeln!(out, r#"      <skipped message="{}"/>"#, xml_attr(message));
        }
    }
    for (tag, text) in [("system-out", &case.stdout), ("system-err", &case.stderr)] {
        if !text.is_empty() {
            let _ = writeln!(out, "      <{tag}>{}</{tag}>", xml_text(text));
        }
    }
    out.push_str("    </testcase>\n");
}

/// Seconds with millisecond precision, as JUnit writes them (`1.250`).
fn seconds(d: Duration) -> String {
    format!("{}.{:03}", d.as_secs(), d.subsec_millis())
}

/// `t` in UTC as `YYYY-MM-DDTHH:MM:SS` (the form JUnit writers use); a
/// time before 1970 is written as 1970-01-01T00:00:00.
fn iso8601(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The proleptic Gregorian date `days` days after 1970-01-01 (Howard
/// Hinnant's `civil_from_days`, for non-negative day counts).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
#[path = "junit_tests.rs"]
mod tests;

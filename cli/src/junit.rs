//! `run --junit`: the report in JUnit XML, one suite per file.

use std::path::Path;
use std::time::SystemTime;

use netns_test::harness::junit::{JunitCase, JunitReport, Outcome};
use netns_test::suite::{Loaded, ScenarioReport, Verdict};

/// The machine's name, for the report.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// The suite of a scenario: its file's name.
fn suite_of(name: &str) -> &str {
    name.rsplit_once("::").map_or(name, |(f, _)| f)
}

/// A usage error when a report cannot be written at `path`: a file there
/// that cannot be opened for writing, or a folder in which none can be
/// made. Leaves `path` as it was.
pub(crate) fn check_writable(path: &Path) -> Result<(), String> {
    let existed = path.symlink_metadata().is_ok();
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| format!("cannot write the report {}: {e}", path.display()))?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

pub(crate) fn write(
    path: &Path,
    started: SystemTime,
    reports: &[ScenarioReport],
    loaded: &[Loaded],
) -> Result<(), String> {
    let mut report = JunitReport::new("netns-test", hostname(), started);
    for l in loaded {
        match &l.result {
            Ok(file) => {
                report.property(&l.name, "seed", file.seed.to_string());
                report.property(&l.name, "file", l.path.display().to_string());
            }
            Err(errors) => {
                let details: Vec<String> = errors.iter().map(ToString::to_string).collect();
                let first = details.first().cloned().unwrap_or_default();
                report.case(
                    &l.name,
                    JunitCase::new(
                        l.name.clone(),
                        Default::default(),
                        Outcome::error(first, details.join("\n")),
                    ),
                );
            }
        }
    }
    for r in reports {
        let outcome = match &r.verdict {
            Verdict::Passed => Outcome::Passed,
            Verdict::Failed(msg) => {
                let first = msg.lines().next().unwrap_or_default().to_string();
                Outcome::failed(first, msg.clone())
            }
            Verdict::Error(msg) => {
                let first = msg.lines().next().unwrap_or_default().to_string();
                Outcome::error(first, msg.clone())
            }
            Verdict::Skipped(why) => Outcome::skipped(why.clone()),
            _ => Outcome::skipped("an outcome this report does not know"),
        };
        let case = JunitCase::new(r.name.clone(), r.duration, outcome).stdout(r.log.join("\n"));
        report.case(suite_of(&r.name), case);
    }
    std::fs::write(path, report.to_xml())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

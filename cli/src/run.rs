//! `run` and `check`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use netns_test::suite::{load, LoadOptions, ScenarioReport, Verdict};

/// Every file's mistakes, printed; whether there were any.
fn print_errors(loaded: &[netns_test::suite::Loaded]) -> usize {
    let mut n = 0;
    for l in loaded {
        if let Err(errors) = &l.result {
            for e in errors {
                eprintln!("{e}");
                n += 1;
            }
        }
    }
    n
}

/// A usage error for the first path given that does not exist.
fn all_exist(files: &[PathBuf]) -> Result<(), String> {
    match files.iter().find(|f| !f.exists()) {
        Some(f) => Err(format!("{}: no such file or folder", f.display())),
        None => Ok(()),
    }
}

pub(crate) fn check(files: &[PathBuf], options: &LoadOptions) -> Result<ExitCode, String> {
    all_exist(files)?;
    let loaded = load(files, options);
    if loaded.is_empty() {
        return Err("no .toml file found".into());
    }
    let errors = print_errors(&loaded);
    let scenarios: usize = loaded
        .iter()
        .filter_map(|l| l.result.as_ref().ok())
        .map(|f| f.scenarios.len())
        .sum();
    if errors > 0 {
        eprintln!(
            "{errors} mistake(s) in {} file(s)",
            loaded.iter().filter(|l| l.result.is_err()).count()
        );
        return Ok(ExitCode::from(1));
    }
    println!(
        "{} file(s), {scenarios} scenario(s): no mistake",
        loaded.len()
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn run(
    files: &[PathBuf],
    options: &LoadOptions,
    filter: Option<&str>,
    junit: Option<&Path>,
) -> Result<ExitCode, String> {
    all_exist(files)?;
    if let Some(path) = junit {
        crate::junit::check_writable(path)?;
    }
    netns_test::privilege::enter_user_namespace();
    let loaded = load(files, options);
    if loaded.is_empty() {
        return Err("no .toml file found".into());
    }
    let broken = print_errors(&loaded);
    let scenarios: Vec<_> = loaded
        .iter()
        .filter_map(|l| l.result.as_ref().ok())
        .flat_map(|f| f.scenarios.iter())
        .filter(|s| filter.is_none_or(|f| s.name().contains(f)))
        .collect();
    if let (Some(f), true) = (filter, scenarios.is_empty()) {
        // A typo in a CI script must not pass as an empty run.
        return Err(format!("--filter `{f}` matches no scenario"));
    }
    if scenarios.is_empty() && broken == 0 {
        // Lab files only, say: a run that tests nothing must not pass.
        return Err(format!(
            "no scenario in {} file(s): nothing to run",
            loaded.len()
        ));
    }
    println!("running {} scenario(s)", scenarios.len());
    let begin = Instant::now();
    let started = std::time::SystemTime::now();
    let mut reports: Vec<ScenarioReport> = Vec::new();
    for sc in scenarios {
        let report = sc.run();
        let word = match &report.verdict {
            Verdict::Passed => "ok",
            Verdict::Failed(_) => "FAILED",
            Verdict::Error(_) => "ERROR",
            _ => "skipped",
        };
        println!(
            "  {word:<7} {} ({:.2} s)",
            report.name,
            report.duration.as_secs_f64()
        );
        reports.push(report);
    }
    let failed: Vec<&ScenarioReport> = reports
        .iter()
        .filter(|r| r.verdict.problem().is_some())
        .collect();
    if !failed.is_empty() {
        println!("\nfailures:");
        for r in &failed {
            if let Some(msg) = r.verdict.problem() {
                println!("\n---- {} ----\n{msg}", r.name);
            }
        }
    }
    let passed = reports
        .iter()
        .filter(|r| r.verdict == Verdict::Passed)
        .count();
    let skipped = reports.len() - passed - failed.len();
    let failed_n = failed.len() + loaded.iter().filter(|l| l.result.is_err()).count();
    if broken > 0 {
        println!("\n{broken} mistake(s) in files (above)");
    }
    println!("\nfinished in {:.2} s", begin.elapsed().as_secs_f64());
    println!("{passed} passed, {failed_n} failed, {skipped} skipped");
    if let Some(path) = junit {
        crate::junit::write(path, started, &reports, &loaded)?;
    }
    if failed_n == 0 && passed == 0 {
        // Every scenario skipped (ignored, or no namespaces here with
        // NETNS_TEST_SKIP_UNSUPPORTED set): nothing was tested.
        return Err(format!(
            "no scenario ran: all {skipped} skipped{}",
            skip_reason(&reports)
        ));
    }
    Ok(if failed_n > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The first skipped scenario and why it was skipped, for the message of
/// a run in which none ran.
fn skip_reason(reports: &[ScenarioReport]) -> String {
    reports
        .iter()
        .find_map(|r| match &r.verdict {
            Verdict::Skipped(why) => Some(format!(" (first, {}: {why})", r.name)),
            _ => None,
        })
        .unwrap_or_default()
}

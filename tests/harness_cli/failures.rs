//! Failures, the paths without privileges, the harness driven in process,
//! and names given twice.

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

use netns_test::harness::{Arguments, Case, Harness, Trial};
use netns_test::Net;

use super::{child, ensure, fixtures, DUPLICATE, MISBEHAVE};

fn line_of(marker: &str) -> usize {
    include_str!("../harness_cli.rs")
        .lines()
        .position(|l| l.contains(marker) && !l.contains("line_of"))
        .unwrap()
        + 1
}

pub(crate) fn check_failures() -> Result<(), String> {
    let start = Instant::now();
    let run = child(&[], |c| {
        c.env(MISBEHAVE, "1");
    });
    ensure(
        start.elapsed() < Duration::from_secs(15),
        format!("the run waited for timed-out bodies: {:?}", start.elapsed()),
        &run,
    )?;
    ensure(run.code == Some(101), "libtest's failure status", &run)?;
    let failed = [
        "case::err",
        "case::timeout",
        "fixture_async",
        "fixture_panic",
        "fixture_setup",
        "fixture_should_panic",
        "fixture_should_panic_no_panic",
        "fixture_timeout",
    ];
    for name in failed {
        ensure(
            run.outcome(name).as_deref() == Some("FAILED"),
            format!("{name} did not fail"),
            &run,
        )?;
    }
    ensure(
        run.summary()
            .starts_with("test result: FAILED. 7 passed; 8 failed; 2 ignored;"),
        "summary",
        &run,
    )?;
    let all = run.all();
    let panic_at = format!(
        "panicked at tests/harness_cli.rs:{}:9:\nfixture panic number 42",
        line_of("FIXTURE-PANIC-LINE")
    );
    for needle in [
        // A panic: the hook's report (thread named after the test, the
        // body's location), and the message in the failure.
        "thread 'fixture_panic'",
        panic_at.as_str(),
        "---- fixture_panic ----\ntest panicked: fixture panic number 42",
        // A returned error.
        "test `fixture_async` returned an error: Custom { kind: Other, error: \"async fixture error\" }",
        "test `case::err` returned an error: \"case error\"",
        // A setup error, with its hint.
        "test `fixture_setup`: cannot build topology `maybe_invalid`: invalid topology: node `n1` is declared twice",
        "hint: fix the topology description; nothing was created",
        // Timeouts.
        "test `fixture_timeout` timed out: its body ran longer than `timeout = \"300ms\"`",
        "test `case::timeout` timed out: its body ran longer than its timeout (300ms)",
        "The network was torn down",
        // should_panic, as libtest words it; the panic report is shown.
        "panic did not contain expected string\n      panic message: \"bang\"\n expected substring: \"boom\"",
        "thread 'fixture_should_panic' panicked at tests/harness_cli.rs:",
        "---- fixture_should_panic_no_panic ----\ntest did not panic as expected",
    ] {
        ensure(all.contains(needle), format!("missing {needle:?}"), &run)?;
    }
    Ok(())
}

#[cfg(target_arch = "x86_64")]
fn unsupported(c: &mut Command) {
    c.env_remove(netns_test::privilege::NO_USERNS_ENV);
    // SAFETY: the hook only makes async-signal-safe syscalls.
    unsafe {
        c.pre_exec(crate::common::seccomp::deny_namespaces);
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn unsupported(c: &mut Command) {
    // Without the seccomp filter: no capabilities, no user namespace.
    c.env(netns_test::privilege::NO_USERNS_ENV, "1");
    // SAFETY: only prctl, async-signal-safe, between fork and exec.
    unsafe {
        c.pre_exec(|| {
            for cap in 0..64 {
                libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0);
            }
            Ok(())
        });
    }
}

pub(crate) fn check_unsupported_fails_loudly() -> Result<(), String> {
    let run = child(&[], unsupported);
    ensure(run.code == Some(101), "must fail, never pass", &run)?;
    ensure(
        run.summary()
            .starts_with("test result: FAILED. 1 passed; 14 failed; 2 ignored;"),
        "every netns test fails; the plain trial passes",
        &run,
    )?;
    ensure(
        run.outcome("plain_trial").as_deref() == Some("ok"),
        "the plain trial",
        &run,
    )?;
    let all = run.all();
    for needle in [
        "netns-test: every netns test of this binary will fail.",
        "cannot create network namespaces",
        "NETNS_TEST_SKIP_UNSUPPORTED=1",
        "---- fixture_pass ----\ntest `fixture_pass`: cannot build the default one-node network",
        "---- case::pass ----\ntest `case::pass`: cannot build the topology of case `case::pass`",
        // A #[should_panic] test does not pass on a setup error.
        "(the test is #[should_panic], but this is no panic of its body)",
    ] {
        ensure(all.contains(needle), format!("missing {needle:?}"), &run)?;
    }
    #[cfg(target_arch = "x86_64")]
    ensure(all.contains("seccomp"), "the fix-it names seccomp", &run)?;
    Ok(())
}

pub(crate) fn check_unsupported_skip_on_request() -> Result<(), String> {
    let skip = |c: &mut Command| {
        unsupported(c);
        c.env(netns_test::privilege::SKIP_ENV, "1");
    };
    let run = child(&[], skip);
    ensure(run.code == Some(0), "skipping is no failure", &run)?;
    ensure(
        run.summary()
            .starts_with("test result: ok. 1 passed; 0 failed; 16 ignored;"),
        "every netns test is ignored; the plain trial passes",
        &run,
    )?;
    let reason =
        "ignored (cannot create network namespaces here and NETNS_TEST_SKIP_UNSUPPORTED is set)";
    for (name, outcome) in run.results() {
        let want = match name.as_str() {
            "plain_trial" => "ok",
            "fixture_ignored" => "ignored (ignored on purpose)",
            "case::ignored" => "ignored (a data-driven ignore)",
            _ => reason,
        };
        ensure(outcome == want, format!("{name}: {outcome}"), &run)?;
    }
    ensure(
        run.stderr
            .matches("this process cannot create network namespaces")
            .count()
            == 1,
        "the reason is printed once",
        &run,
    )?;
    ensure(
        run.stderr.contains("cannot create network namespaces")
            && !run.stderr.contains("set NETNS_TEST_SKIP_UNSUPPORTED=1"),
        "the reason does not ask for the variable that is already set",
        &run,
    )?;
    // nextest learns from this list that the tests are ignored.
    let run = child(&["--list", "--format", "terse", "--ignored"], skip);
    let expected: String = fixtures()
        .iter()
        .filter(|f| **f != "plain_trial")
        .map(|f| format!("{f}: test\n"))
        .collect();
    ensure(
        run.stdout == expected,
        "--list --ignored lists every netns test",
        &run,
    )?;
    // Run anyway (`--include-ignored`, or nextest's `--run-ignored`): ignored
    // at run time, never a pass.
    let run = child(&["--exact", "fixture_pass", "--ignored"], skip);
    ensure(
        run.outcome("fixture_pass").as_deref() == Some(reason),
        "an ignored-and-run netns test is ignored at run time",
        &run,
    )
}

/// Opted out of the user namespace (`NETNS_TEST_NO_USERNS=1`) and without
/// capabilities: user namespaces are allowed, but the process is in none.
pub(crate) fn check_opted_out() -> Result<(), String> {
    let opted_out = |c: &mut Command| {
        c.env(netns_test::privilege::NO_USERNS_ENV, "1");
        // SAFETY: only prctl, async-signal-safe, between fork and exec.
        unsafe {
            c.pre_exec(|| {
                for cap in 0..64 {
                    libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0);
                }
                Ok(())
            });
        }
    };
    let run = child(&["--exact", "fixture_pass"], opted_out);
    ensure(run.code == Some(101), "must fail", &run)?;
    ensure(
        run.stderr
            .contains("NETNS_TEST_NO_USERNS kept it from entering a user namespace"),
        "the reason names the opt-out",
        &run,
    )?;
    let run = child(&["--list", "--ignored"], |c| {
        opted_out(c);
        c.env(netns_test::privilege::SKIP_ENV, "1");
    });
    ensure(
        run.stdout.lines().count() == 16,
        "every netns test is ignored when skipping",
        &run,
    )?;
    // The variable is a switch: `false` does not opt out.
    let run = child(&["--exact", "fixture_pass"], |c| {
        opted_out(c);
        c.env(netns_test::privilege::NO_USERNS_ENV, "false");
    });
    ensure(
        run.code == Some(0) && run.outcome("fixture_pass").as_deref() == Some("ok"),
        "NETNS_TEST_NO_USERNS=false opted out of the user namespace",
        &run,
    )
}

/// The harness driven in process: only the given cases, the report in a
/// log file.
pub(crate) fn check_in_process() -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("netns-test-harness-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let log = dir.join("log");
    let args = Arguments {
        logfile: Some(log.to_string_lossy().into_owned()),
        test_threads: Some(2),
        ..Arguments::default()
    };
    let conclusion = Harness::new()
        .without_registered_tests()
        .case(Case::new("in_process::ok", |net: &Net| {
            assert_eq!(net.nodes()[0].name(), "local");
        }))
        .case(Case::new("in_process::fails", |_net: &Net| Err("no")))
        .case(Case::new("in_process::ignored", |_net: &Net| {}).ignore())
        .trial(Trial::test("in_process::plain", || Ok(())))
        .run_with(&args);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    let want = (2, 1, 1);
    let got = (
        conclusion.num_passed,
        conclusion.num_failed,
        conclusion.num_ignored,
    );
    if got != (want.0, want.1, want.2) {
        return Err(format!("passed, failed, ignored: {got:?}\n{text}"));
    }
    if !text.contains("test `in_process::fails` returned an error: \"no\"") {
        return Err(format!("log:\n{text}"));
    }
    Ok(())
}

pub(crate) fn check_duplicate_names() -> Result<(), String> {
    let run = child(&["--list"], |c| {
        c.env(DUPLICATE, "1");
    });
    ensure(
        run.code == Some(101),
        "two tests of the same name were accepted",
        &run,
    )?;
    ensure(
        run.stderr
            .contains("several tests have the same name: fixture_pass"),
        "the message names the test",
        &run,
    )
}

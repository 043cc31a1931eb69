//! The custom harness's command line and failure paths, tested for real.
//!
//! This target is itself on the custom harness (`harness = false`). Its
//! fixtures are ordinary tests that pass; its `check_*` tests run this same
//! binary again (found by `current_exe`, so it works wherever cargo or
//! nextest put it) with [`CHILD`] set, where only the fixtures run, with
//! libtest's flags, with [`MISBEHAVE`] set (the fixtures then fail), or
//! without privileges (a seccomp filter that refuses user namespaces and an
//! empty capability bounding set), and check what the child prints and how
//! it exits.

mod common;

use std::os::unix::process::CommandExt;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use netns_test::harness::{Arguments, Case, Harness, Trial};
use netns_test::{netns_test, Net, Node, Topology};

/// Set in the child: run the fixtures only.
const CHILD: &str = "NETNS_TEST_HARNESS_CHILD";
/// Set in the child: the fixtures fail.
const MISBEHAVE: &str = "NETNS_TEST_MISBEHAVE";
/// Set in the child: a plain trial takes the name of a `#[netns_test]`.
const DUPLICATE: &str = "NETNS_TEST_HARNESS_DUPLICATE";
/// Printed by the ignored fixtures when they run.
const IGNORED_RAN: &str = "IGNORED-FIXTURE-RAN";

fn misbehave() -> bool {
    std::env::var_os(MISBEHAVE).is_some()
}

// ---- fixtures ----------------------------------------------------------------

fn two_hosts() -> Topology {
    Topology::new().link(
        ("n1", "n1-veth0", "198.51.100.1/24"),
        ("n2", "n2-veth0", "198.51.100.2/24"),
    )
}

/// Valid, unless misbehaving: then `n1` is declared twice.
fn maybe_invalid() -> Topology {
    let t = Topology::new().node("n1");
    if misbehave() {
        t.node("n1")
    } else {
        t
    }
}

#[netns_test]
fn fixture_pass() {
    std::net::TcpListener::bind("127.0.0.1:80").unwrap();
}

#[netns_test]
fn fixture_panic() {
    if misbehave() {
        panic!("fixture panic number {}", 42); // FIXTURE-PANIC-LINE
    }
}

#[netns_test]
async fn fixture_async() -> std::io::Result<()> {
    tokio::net::TcpListener::bind("127.0.0.1:80").await?;
    if misbehave() {
        return Err(std::io::Error::other("async fixture error"));
    }
    Ok(())
}

#[netns_test(topology = two_hosts)]
fn fixture_topology(net: &Net, n2: &Node) -> netns_test::Result<()> {
    assert_eq!(n2.name(), "n2");
    let report = net["n1"].ping("198.51.100.2").count(1).run()?;
    assert_eq!(report.received, 1);
    Ok(())
}

#[netns_test(topology = maybe_invalid)]
fn fixture_setup() {}

#[netns_test(timeout = "300ms")]
fn fixture_timeout() {
    if misbehave() {
        std::thread::sleep(Duration::from_secs(20));
    }
}

#[netns_test]
#[should_panic(expected = "boom")]
fn fixture_should_panic() {
    if misbehave() {
        panic!("bang");
    }
    panic!("boom");
}

#[netns_test]
#[should_panic = "as expected"]
fn fixture_should_panic_no_panic() {
    if !misbehave() {
        panic!("a panic, as expected");
    }
}

/// Compiled out: not registered either.
#[netns_test]
#[cfg(any())]
fn fixture_cfg_out() {
    compile_error!("compiled");
}

#[netns_test]
#[ignore = "ignored on purpose"]
fn fixture_ignored() {
    println!("{IGNORED_RAN}");
}

mod module {
    use netns_test::netns_test;

    #[netns_test]
    fn fixture_nested() {
        assert_eq!(
            std::thread::current().name(),
            Some("module::fixture_nested")
        );
    }
}

/// A body that only panics has the type `!`, which is no `TestReturn`: give
/// it a function (or `Case::new::<_, ()>`).
fn case_boom() {
    panic!("case boom");
}

/// The data-driven fixtures.
fn cases() -> Vec<Case> {
    vec![
        Case::new("case::pass", |net: &Net| {
            assert_eq!(net.nodes().len(), 2);
            assert_eq!(std::thread::current().name(), Some("case::pass"));
        })
        .topology(two_hosts()),
        Case::new("case::err", |_net: &Net| {
            if misbehave() {
                Err("case error")
            } else {
                Ok(())
            }
        }),
        Case::new("case::ignored", |_net: &Net| println!("{IGNORED_RAN}"))
            .ignore_because("a data-driven ignore"),
        Case::new("case::should_panic", |_net: &Net| case_boom()).should_panic_with("case boom"),
        Case::new("case::timeout", |_net: &Net| {
            if misbehave() {
                std::thread::sleep(Duration::from_secs(20));
            }
        })
        .timeout(Duration::from_millis(300)),
        Case::new("case::in_n2", |_net: &Net| {
            std::net::UdpSocket::bind("198.51.100.2:53").unwrap();
        })
        .topology(two_hosts())
        .node("n2"),
    ]
}

/// A plain trial: needs no namespace, so it passes even without privileges.
fn plain_trial() -> Trial {
    Trial::test("plain_trial", || Ok(()))
}

/// Every fixture, as `--list` prints them: sorted by name.
const FIXTURES: [&str; 17] = [
    "case::err",
    "case::ignored",
    "case::in_n2",
    "case::pass",
    "case::should_panic",
    "case::timeout",
    "fixture_async",
    "fixture_ignored",
    "fixture_panic",
    "fixture_pass",
    "fixture_setup",
    "fixture_should_panic",
    "fixture_should_panic_no_panic",
    "fixture_timeout",
    "fixture_topology",
    "module::fixture_nested",
    "plain_trial",
];

fn fixtures() -> Vec<&'static str> {
    FIXTURES.to_vec()
}

fn main() {
    let mut harness = Harness::new().cases(cases()).trial(plain_trial());
    if std::env::var_os(DUPLICATE).is_some() {
        harness = harness.trial(Trial::test("fixture_pass", || Ok(())));
    }
    if std::env::var_os(CHILD).is_some() {
        harness.run()
    } else {
        harness.trials(checks()).run()
    }
}

// ---- running the child -------------------------------------------------------

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// `test NAME ... OUTCOME` lines, as (name, outcome).
    fn results(&self) -> Vec<(String, String)> {
        self.stdout
            .lines()
            .filter_map(|l| l.strip_prefix("test "))
            .filter_map(|l| l.split_once(" ... "))
            .filter(|(_, o)| !o.is_empty())
            .map(|(n, o)| (n.trim_end().to_string(), o.to_string()))
            .collect()
    }

    fn outcome(&self, name: &str) -> Option<String> {
        self.results()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, o)| o)
    }

    fn summary(&self) -> &str {
        self.stdout
            .lines()
            .find(|l| l.starts_with("test result: "))
            .unwrap_or("(no summary)")
    }
}

fn child(args: &[&str], setup: impl FnOnce(&mut Command)) -> Run {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(args)
        .env(CHILD, "1")
        .env_remove(MISBEHAVE)
        .env_remove(DUPLICATE)
        .env_remove(netns_test::privilege::SKIP_ENV)
        .env_remove("CLICOLOR_FORCE")
        .env("NO_COLOR", "1")
        .current_dir("/");
    setup(&mut cmd);
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

fn ensure(cond: bool, what: impl std::fmt::Display, run: &Run) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(format!(
            "{what}\n--- child stdout ---\n{}\n--- child stderr ---\n{}",
            run.stdout, run.stderr
        ))
    }
}

fn check(name: &str, f: fn() -> Result<(), String>) -> Trial {
    Trial::test(name, move || f().map_err(Into::into))
}

fn checks() -> Vec<Trial> {
    vec![
        check("check_list", check_list),
        check("check_list_terse_ignored", check_list_terse_ignored),
        check("check_default_run", check_default_run),
        check("check_filter", check_filter),
        check("check_exact", check_exact),
        check("check_skip_flag", check_skip_flag),
        check("check_ignored", check_ignored),
        check("check_include_ignored", check_include_ignored),
        check("check_test_threads_1", check_test_threads_1),
        check("check_format_terse", check_format_terse),
        check("check_failures", check_failures),
        check(
            "check_unsupported_fails_loudly",
            check_unsupported_fails_loudly,
        ),
        check(
            "check_unsupported_skip_on_request",
            check_unsupported_skip_on_request,
        ),
        check("check_opted_out", check_opted_out),
        check("check_in_process", check_in_process),
        check("check_duplicate_names", check_duplicate_names),
    ]
}

// ---- checks ------------------------------------------------------------------

fn check_list() -> Result<(), String> {
    let run = child(&["--list"], |_| {});
    let expected: String = fixtures().iter().map(|f| format!("{f}: test\n")).collect();
    ensure(run.code == Some(0), "--list failed", &run)?;
    ensure(
        run.stdout == expected,
        format!("--list printed, not:\n{expected}"),
        &run,
    )
}

/// What nextest runs to find the tests and the ignored ones.
fn check_list_terse_ignored() -> Result<(), String> {
    let run = child(&["--list", "--format", "terse"], |_| {});
    let expected: String = fixtures().iter().map(|f| format!("{f}: test\n")).collect();
    ensure(run.stdout == expected, "--list --format terse", &run)?;
    let run = child(&["--list", "--format", "terse", "--ignored"], |_| {});
    ensure(
        run.stdout == "case::ignored: test\nfixture_ignored: test\n",
        "--list --format terse --ignored lists only the ignored tests",
        &run,
    )
}

fn check_default_run() -> Result<(), String> {
    let run = child(&[], |_| {});
    ensure(run.code == Some(0), "the fixtures fail", &run)?;
    ensure(
        run.summary()
            .starts_with("test result: ok. 15 passed; 0 failed; 2 ignored;"),
        "summary",
        &run,
    )?;
    ensure(
        run.outcome("fixture_ignored").as_deref() == Some("ignored (ignored on purpose)"),
        "an ignored test shows its reason",
        &run,
    )?;
    ensure(
        run.outcome("case::ignored").as_deref() == Some("ignored (a data-driven ignore)"),
        "an ignored case shows its reason",
        &run,
    )?;
    ensure(
        !run.all().contains(IGNORED_RAN),
        "an ignored test ran",
        &run,
    )?;
    // The expected panics of passing #[should_panic] tests are not printed.
    ensure(
        !run.stderr.contains("boom") && !run.stderr.contains("a panic, as expected"),
        "a passing #[should_panic] test printed its panic",
        &run,
    )
}

fn check_filter() -> Result<(), String> {
    let run = child(&["case::"], |_| {});
    ensure(run.code == Some(0), "failed", &run)?;
    let names: Vec<_> = run.results().into_iter().map(|(n, _)| n).collect();
    let mut sorted = names.clone();
    sorted.sort();
    ensure(
        sorted
            == [
                "case::err",
                "case::ignored",
                "case::in_n2",
                "case::pass",
                "case::should_panic",
                "case::timeout",
            ],
        format!("a substring filter ran {names:?}"),
        &run,
    )?;
    ensure(
        run.summary().contains("; 11 filtered out;"),
        "filtered-out count",
        &run,
    )
}

fn check_exact() -> Result<(), String> {
    // What nextest runs for each test.
    let run = child(&["--exact", "fixture_pass", "--nocapture"], |_| {});
    ensure(run.code == Some(0), "failed", &run)?;
    ensure(run.stdout.contains("running 1 test\n"), "one test", &run)?;
    ensure(
        run.outcome("fixture_pass").as_deref() == Some("ok"),
        "fixture_pass ran",
        &run,
    )?;
    let run = child(&["--exact", "module::fixture_nested"], |_| {});
    ensure(
        run.outcome("module::fixture_nested").as_deref() == Some("ok"),
        "the module path is part of the name",
        &run,
    )?;
    let run = child(&["--exact", "fixture"], |_| {});
    ensure(
        run.stdout.contains("running 0 tests\n"),
        "--exact matched a substring",
        &run,
    )
}

fn check_skip_flag() -> Result<(), String> {
    let run = child(
        &["fixture_", "--skip", "should_panic", "--skip", "topology"],
        |_| {},
    );
    ensure(run.code == Some(0), "failed", &run)?;
    let names: Vec<_> = run.results().into_iter().map(|(n, _)| n).collect();
    ensure(
        names
            .iter()
            .all(|n| !n.contains("should_panic") && !n.contains("topology"))
            && names.len() == 7,
        format!("--skip ran {names:?}"),
        &run,
    )
}

fn check_ignored() -> Result<(), String> {
    let run = child(&["--ignored"], |_| {});
    ensure(run.code == Some(0), "failed", &run)?;
    ensure(
        run.summary()
            .starts_with("test result: ok. 2 passed; 0 failed; 0 ignored;"),
        "--ignored runs the two ignored tests only",
        &run,
    )?;
    ensure(
        run.stdout.matches(IGNORED_RAN).count() == 2,
        "both ignored tests ran",
        &run,
    )?;
    // nextest runs an ignored test so.
    let run = child(
        &["--exact", "fixture_ignored", "--nocapture", "--ignored"],
        |_| {},
    );
    ensure(
        run.outcome("fixture_ignored").as_deref() == Some("ok"),
        "--exact --ignored",
        &run,
    )
}

fn check_include_ignored() -> Result<(), String> {
    let run = child(&["--include-ignored"], |_| {});
    ensure(run.code == Some(0), "failed", &run)?;
    ensure(
        run.summary()
            .starts_with("test result: ok. 17 passed; 0 failed; 0 ignored;"),
        "--include-ignored runs everything",
        &run,
    )
}

fn check_test_threads_1() -> Result<(), String> {
    let run = child(&["--test-threads", "1"], |_| {});
    ensure(run.code == Some(0), "failed", &run)?;
    // One at a time, in name order.
    let names: Vec<_> = run.results().into_iter().map(|(n, _)| n).collect();
    ensure(
        names == fixtures(),
        format!("ran in this order: {names:?}"),
        &run,
    )
}

fn check_format_terse() -> Result<(), String> {
    let run = child(&["--format", "terse", "--test-threads", "1"], |_| {});
    ensure(run.code == Some(0), "failed", &run)?;
    // One character per test, in name order: `i` for the two ignored ones.
    ensure(
        run.stdout.contains("\n.i.....i.........\n"),
        "terse progress line",
        &run,
    )?;
    let run = child(&["-q", "--exact", "fixture_pass"], |_| {});
    ensure(run.stdout.contains("\n.\n"), "-q is terse", &run)
}

fn line_of(marker: &str) -> usize {
    include_str!("harness_cli.rs")
        .lines()
        .position(|l| l.contains(marker) && !l.contains("line_of"))
        .unwrap()
        + 1
}

fn check_failures() -> Result<(), String> {
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
        c.pre_exec(common::seccomp::deny_namespaces);
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

fn check_unsupported_fails_loudly() -> Result<(), String> {
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

fn check_unsupported_skip_on_request() -> Result<(), String> {
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
fn check_opted_out() -> Result<(), String> {
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
    )
}

/// The harness driven in process: only the given cases, the report in a
/// log file.
fn check_in_process() -> Result<(), String> {
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

fn check_duplicate_names() -> Result<(), String> {
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

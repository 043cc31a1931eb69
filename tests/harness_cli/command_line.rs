//! The command line: listing, filters, `--exact`, `--skip`, the ignored
//! tests, threads and formats.

use super::{child, ensure, fixtures, Run, IGNORED_RAN, PLAIN_TRIAL_THREAD};

pub(crate) fn check_list() -> Result<(), String> {
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
pub(crate) fn check_list_terse_ignored() -> Result<(), String> {
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

pub(crate) fn check_default_run() -> Result<(), String> {
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

pub(crate) fn check_filter() -> Result<(), String> {
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

/// The names of the tests a run reported, sorted.
fn ran(run: &Run) -> Vec<String> {
    let mut names: Vec<_> = run.results().into_iter().map(|(n, _)| n).collect();
    names.sort();
    names
}

/// Several filters, as libtest takes them: a test runs when its name
/// contains any of them, and no other test runs.
pub(crate) fn check_several_filters() -> Result<(), String> {
    let run = child(&["fixture_pa", "case::p"], |_| {});
    ensure(run.code == Some(0), "two filters failed", &run)?;
    ensure(
        ran(&run) == ["case::pass", "fixture_panic", "fixture_pass"],
        format!("two filters ran {:?}", ran(&run)),
        &run,
    )?;
    ensure(
        run.summary()
            .starts_with("test result: ok. 3 passed; 0 failed; 0 ignored;")
            && run.summary().contains("; 14 filtered out;"),
        "summary",
        &run,
    )?;
    // A filter that matches nothing adds nothing.
    let run = child(&["plain_trial", "no_such_test", "fixture_async"], |_| {});
    ensure(
        ran(&run) == ["fixture_async", "plain_trial"],
        format!("three filters ran {:?}", ran(&run)),
        &run,
    )
}

/// With `--exact`, a test runs when its name equals any of the filters.
pub(crate) fn check_several_exact_filters() -> Result<(), String> {
    let run = child(
        &[
            "--exact",
            "fixture_pass",
            "module::fixture_nested",
            "fixture",
        ],
        |_| {},
    );
    ensure(run.code == Some(0), "failed", &run)?;
    ensure(
        ran(&run) == ["fixture_pass", "module::fixture_nested"],
        format!("--exact with three filters ran {:?}", ran(&run)),
        &run,
    )?;
    ensure(
        run.summary().contains("; 15 filtered out;"),
        "filtered-out count",
        &run,
    )?;
    let run = child(&["--list", "--exact", "plain_trial", "case::pass"], |_| {});
    ensure(
        run.stdout == "case::pass: test\nplain_trial: test\n",
        "--list --exact with two filters",
        &run,
    )
}

/// Several filters with `--skip`, `--ignored`, `--list`, options that take
/// a value, and `--`.
pub(crate) fn check_several_filters_with_flags() -> Result<(), String> {
    let run = child(&["case::", "fixture_should", "--skip", "panic"], |_| {});
    ensure(
        ran(&run)
            == [
                "case::err",
                "case::ignored",
                "case::in_n2",
                "case::pass",
                "case::timeout",
            ],
        format!("two filters and --skip ran {:?}", ran(&run)),
        &run,
    )?;
    let run = child(&["--ignored", "case::", "fixture_ignored"], |_| {});
    ensure(
        run.summary()
            .starts_with("test result: ok. 2 passed; 0 failed; 0 ignored;")
            && run.stdout.matches(IGNORED_RAN).count() == 2,
        "--ignored with two filters runs both ignored tests",
        &run,
    )?;
    let run = child(&["--list", "plain", "--format", "terse", "nested"], |_| {});
    ensure(
        run.stdout == "module::fixture_nested: test\nplain_trial: test\n",
        "--list with two filters around an option's value",
        &run,
    )?;
    let run = child(
        &[
            "--test-threads",
            "1",
            "plain_trial",
            "--skip=async",
            "--color",
            "never",
            "--",
            "fixture_pass",
            "fixture_async",
        ],
        |_| {},
    );
    ensure(run.code == Some(0), "failed", &run)?;
    ensure(
        run.results()
            .into_iter()
            .map(|(n, _)| n)
            .collect::<Vec<_>>()
            == ["fixture_pass", "plain_trial"],
        "option values are no filters; after `--` everything is one",
        &run,
    )
}

pub(crate) fn check_exact() -> Result<(), String> {
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

pub(crate) fn check_skip_flag() -> Result<(), String> {
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

pub(crate) fn check_ignored() -> Result<(), String> {
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

pub(crate) fn check_include_ignored() -> Result<(), String> {
    let run = child(&["--include-ignored"], |_| {});
    ensure(run.code == Some(0), "failed", &run)?;
    ensure(
        run.summary()
            .starts_with("test result: ok. 17 passed; 0 failed; 0 ignored;"),
        "--include-ignored runs everything",
        &run,
    )
}

pub(crate) fn check_test_threads_1() -> Result<(), String> {
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

/// Without `--test-threads`, `RUST_TEST_THREADS` sets the number of
/// threads: with one, tests run on the main thread; with more, on a pool.
pub(crate) fn check_rust_test_threads() -> Result<(), String> {
    for (threads, thread) in [("1", "Some(\"main\")"), ("2", "None")] {
        let run = child(&["--exact", "plain_trial"], |c| {
            c.env("RUST_TEST_THREADS", threads);
        });
        ensure(run.code == Some(0), "failed", &run)?;
        ensure(
            run.stderr
                .contains(&format!("{PLAIN_TRIAL_THREAD} {thread}\n")),
            format!("RUST_TEST_THREADS={threads}: the trial's thread is not {thread}"),
            &run,
        )?;
    }
    // The flag wins over the variable.
    let run = child(&["--exact", "plain_trial", "--test-threads", "2"], |c| {
        c.env("RUST_TEST_THREADS", "1");
    });
    ensure(
        run.stderr.contains(&format!("{PLAIN_TRIAL_THREAD} None\n")),
        "--test-threads 2 with RUST_TEST_THREADS=1: not on the pool",
        &run,
    )
}

/// Zero test threads would wait forever: refused, as libtest refuses them.
/// (Listing, or a filter that selects nothing, would end even so.)
pub(crate) fn check_zero_test_threads() -> Result<(), String> {
    let message = "error: argument for --test-threads must be a number > 0";
    let run = child(&["--list", "--test-threads", "0"], |_| {});
    ensure(
        run.code == Some(101),
        "--test-threads 0: libtest's status",
        &run,
    )?;
    ensure(
        run.stderr.contains(message) && run.stdout.is_empty(),
        "--test-threads 0: libtest's message, nothing listed",
        &run,
    )?;
    let run = child(&["no_such_test"], |c| {
        c.env("RUST_TEST_THREADS", "0");
    });
    ensure(
        run.code == Some(101),
        "RUST_TEST_THREADS=0: libtest's status",
        &run,
    )?;
    ensure(
        run.stderr
            .contains(&format!("{message} (RUST_TEST_THREADS is `0`)")),
        "RUST_TEST_THREADS=0: the message names the variable",
        &run,
    )
}

pub(crate) fn check_format_terse() -> Result<(), String> {
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

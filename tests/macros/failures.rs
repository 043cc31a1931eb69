//! How `#[netns_test]` tests fail: each fixture below is a normal test that
//! passes, and misbehaves when `NETNS_TEST_MISBEHAVE=1` is set. The `check_*`
//! tests run this same binary again on one fixture with that variable (or
//! without privileges) and check that libtest reports a failure, with a
//! message that reads well. This works the same under `cargo test` and
//! `cargo nextest run`, which both run a libtest binary.

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

use netns_test::{netns_test, Node, Topology};

const MISBEHAVE: &str = "NETNS_TEST_MISBEHAVE";

fn misbehave() -> bool {
    std::env::var_os(MISBEHAVE).is_some()
}

/// Valid, unless misbehaving: then `n1` is declared twice.
fn maybe_invalid() -> Topology {
    let t = Topology::new().node("n1").node("n3");
    if misbehave() {
        t.node("n1")
    } else {
        t
    }
}

/// Has `n3`, unless misbehaving.
fn maybe_without_n3() -> Topology {
    let t = Topology::new().node("n1");
    if misbehave() {
        t
    } else {
        t.node("n3")
    }
}

#[netns_test]
fn fixture_panic() {
    if misbehave() {
        panic!("fixture panic number {}", 42); // FIXTURE-PANIC-LINE
    }
}

fn wired() -> Topology {
    Topology::new().wire(
        ("n1", "eth0", "198.51.100.1/24"),
        ("n2", "eth0", "198.51.100.2/24"),
    )
}

#[netns_test(topology = wired, seed = 31337)]
fn fixture_wire_panic(net: &netns_test::Net) {
    assert_eq!(net["n1"].ping("n2").run().unwrap().received, 1);
    if misbehave() {
        panic!("failed over a wire");
    }
}

#[netns_test]
async fn fixture_async_panic() {
    tokio::task::yield_now().await;
    if misbehave() {
        panic!("async fixture panic");
    }
}

#[netns_test]
fn fixture_err() -> Result<(), std::io::Error> {
    if misbehave() {
        return Err(std::io::Error::other("fixture error"));
    }
    Ok(())
}

#[netns_test(topology = maybe_invalid)]
fn fixture_setup(n3: &Node) {
    assert_eq!(n3.name(), "n3");
}

#[netns_test(topology = maybe_without_n3)]
fn fixture_unknown_node(n3: &Node) {
    assert_eq!(n3.name(), "n3");
}

#[netns_test]
#[should_panic(expected = "boom")]
fn fixture_should_panic_no_panic() {
    if !misbehave() {
        panic!("boom");
    }
}

#[netns_test(topology = maybe_invalid)]
#[should_panic]
fn fixture_should_panic_setup() {
    panic!("the body panics, as expected");
}

#[netns_test(timeout = "300ms")]
fn fixture_timeout() {
    if misbehave() {
        std::thread::sleep(Duration::from_secs(20));
    }
}

/// Times out, as it expects, unless misbehaving.
#[netns_test(timeout = "300ms")]
#[should_panic(expected = "timed out")]
fn fixture_timeout_expected() {
    if !misbehave() {
        std::thread::sleep(Duration::from_secs(20));
    }
}

#[netns_test]
#[should_panic(expected = "boom")]
fn fixture_should_panic_wrong_message() {
    if misbehave() {
        panic!("bang");
    }
    panic!("boom");
}

/// Panics over a seeded wire, as it expects, unless misbehaving.
#[netns_test(topology = wired, seed = 4242)]
#[should_panic(expected = "over a wire")]
fn fixture_wire_should_panic(net: &netns_test::Net) {
    assert_eq!(net["n1"].ping("n2").run().unwrap().received, 1);
    if !misbehave() {
        panic!("an expected panic over a wire");
    }
}

/// Runs one fixture of this binary; returns (passed, all output).
fn run_fixture(name: &str, setup: impl FnOnce(&mut Command)) -> (bool, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([&format!("failures::{name}"), "--exact", "--test-threads=1"]);
    cmd.env_remove(MISBEHAVE);
    setup(&mut cmd);
    let out = cmd.output().unwrap();
    let text = crate::common::output_text(&out);
    assert!(
        text.contains("running 1 test"),
        "fixture {name} did not run:\n{text}"
    );
    (out.status.success(), text)
}

fn misbehaving(name: &str) -> String {
    let (passed, text) = run_fixture(name, |c| {
        c.env(MISBEHAVE, "1");
    });
    assert!(!passed, "{name} passed while misbehaving:\n{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("test failures::{name} ")) && l.ends_with("... FAILED")),
        "{text}"
    );
    assert!(
        !text.contains("called `Result::unwrap()`"),
        "a bare unwrap message:\n{text}"
    );
    text
}

fn line_of(marker: &str) -> usize {
    include_str!("failures.rs")
        .lines()
        .position(|l| l.contains(marker) && !l.contains("line_of"))
        .unwrap()
        + 1
}

#[test]
fn check_fixtures_pass_when_behaving() {
    for name in [
        "fixture_panic",
        "fixture_err",
        "fixture_setup",
        "fixture_should_panic_setup",
    ] {
        let (passed, text) = run_fixture(name, |_| {});
        assert!(passed, "{name}:\n{text}");
    }
}

#[test]
fn check_panic_keeps_message_and_location() {
    let text = misbehaving("fixture_panic");
    // The body's thread is named after the test; the location is the body's.
    assert!(text.contains("thread 'failures::fixture_panic'"), "{text}");
    let loc = format!(
        "panicked at tests/macros/failures.rs:{}:9",
        line_of("FIXTURE-PANIC-LINE")
    );
    assert!(text.contains(&loc), "no {loc} in:\n{text}");
    assert!(text.contains("fixture panic number 42"), "{text}");
}

#[test]
fn check_a_failure_over_wires_prints_the_seed_and_counters() {
    let text = misbehaving("fixture_wire_panic");
    assert!(text.contains("failed over a wire"), "{text}");
    assert!(
        text.contains("wires (seed 31337; replay with NETNS_TEST_SEED=31337)"),
        "{text}"
    );
    assert!(text.contains("n1/eth0 -> n2/eth0: transparent; "), "{text}");
    let (passed, text) = run_fixture("fixture_wire_panic", |_| {});
    assert!(passed, "{text}");
    assert!(!text.contains("wires (seed"), "{text}");
}

#[test]
fn check_async_panic() {
    let text = misbehaving("fixture_async_panic");
    assert!(text.contains("async fixture panic"), "{text}");
}

#[test]
fn check_err_return() {
    let text = misbehaving("fixture_err");
    assert!(
        text.contains("test `failures::fixture_err` returned an error: Custom { kind: Other, error: \"fixture error\" }"),
        "{text}"
    );
}

#[test]
fn check_setup_error_has_message_and_hint() {
    let text = misbehaving("fixture_setup");
    assert!(
        text.contains(
            "test `failures::fixture_setup`: cannot build topology `maybe_invalid`: invalid topology: \
             node `n1` is declared twice"
        ),
        "{text}"
    );
    assert!(
        text.contains("hint: fix the topology description; nothing was created"),
        "{text}"
    );
}

#[test]
fn check_unknown_node_parameter() {
    let text = misbehaving("fixture_unknown_node");
    assert!(
        text.contains(
            "parameter `n3: &Node` names no node of topology `maybe_without_n3`; its nodes are: `n1`"
        ),
        "{text}"
    );
}

#[test]
fn check_should_panic_fails_without_a_panic() {
    let text = misbehaving("fixture_should_panic_no_panic");
    assert!(text.contains("did not panic"), "{text}");
}

#[test]
fn check_should_panic_names_the_expected_text() {
    let text = misbehaving("fixture_should_panic_wrong_message");
    assert!(
        text.contains(
            "panic did not contain expected string\n      panic message: \"bang\"\n \
             expected substring: \"boom\""
        ),
        "{text}"
    );
    let (passed, text) = run_fixture("fixture_should_panic_wrong_message", |_| {});
    assert!(passed, "{text}");
}

/// The lab report of a failed test, and the capture file it keeps, follow
/// the test's verdict: the expected panic of a `#[should_panic]` test is no
/// failure; no panic is one.
#[test]
fn check_should_panic_gets_the_lab_report_only_when_it_fails() {
    let target = tempfile::tempdir().unwrap();
    let file = target
        .path()
        .join("netns-test/macros/failures.fixture_wire_should_panic/capture.pcapng");
    let run = |misbehaving: bool| {
        run_fixture("fixture_wire_should_panic", |c| {
            c.arg("--nocapture")
                .env("NETNS_TEST_CAPTURE", "1")
                .env("CARGO_TARGET_DIR", target.path());
            if misbehaving {
                c.env(MISBEHAVE, "1");
            }
        })
    };
    let wires = "wires (seed 4242; replay with NETNS_TEST_SEED=4242)";

    let (passed, text) = run(false);
    assert!(passed, "{text}");
    assert!(!text.contains(wires), "{text}");
    assert!(!text.contains("netns-test: capture of"), "{text}");
    assert!(!file.exists(), "{text}");

    let (passed, text) = run(true);
    assert!(!passed, "{text}");
    assert!(text.contains("test did not panic as expected"), "{text}");
    assert!(
        text.contains("test `failures::fixture_wire_should_panic` failed; its"),
        "{text}"
    );
    assert!(text.contains(wires), "{text}");
    assert!(
        text.contains("netns-test: capture of failed test `failures::fixture_wire_should_panic`"),
        "{text}"
    );
    assert!(file.exists(), "{text}");
}

#[test]
fn check_should_panic_fails_on_setup_error() {
    let text = misbehaving("fixture_should_panic_setup");
    assert!(text.contains("invalid topology"), "{text}");
    assert!(text.contains("did not panic"), "{text}");
}

#[test]
fn check_timeout_fails_fast_with_test_and_limit() {
    let start = Instant::now();
    let text = misbehaving("fixture_timeout");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "the run waited for the body: {:?}",
        start.elapsed()
    );
    assert!(
        text.contains(
            "test `failures::fixture_timeout` timed out: its body ran longer than `timeout = \"300ms\"`"
        ),
        "{text}"
    );
    assert!(text.contains("The network was torn down"), "{text}");
}

/// A timeout is a failure like any other: `NETNS_TEST_DUMP` shows the
/// network; unless the test expected it.
#[test]
fn check_timeout_gets_the_lab_report_only_when_it_fails() {
    let dump = |name: &str| format!("netns-test: the network of failed test `failures::{name}`");
    let (passed, text) = run_fixture("fixture_timeout", |c| {
        c.env(MISBEHAVE, "1").env("NETNS_TEST_DUMP", "1");
    });
    assert!(!passed, "{text}");
    assert!(text.contains(&dump("fixture_timeout")), "{text}");
    assert!(text.contains("node local:"), "{text}");

    let (passed, text) = run_fixture("fixture_timeout_expected", |c| {
        c.arg("--nocapture").env("NETNS_TEST_DUMP", "1");
    });
    assert!(passed, "{text}");
    assert!(!text.contains(&dump("fixture_timeout_expected")), "{text}");
}

/// Root without capabilities, and without the rootless fallback: drop every
/// capability from the bounding set before exec and opt out of the user
/// namespace, so the fixture cannot create a namespace.
fn unprivileged(c: &mut Command) {
    c.env("NETNS_TEST_NO_USERNS", "1");
    c.env_remove("NETNS_TEST_SKIP_UNSUPPORTED");
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

#[test]
fn check_missing_privileges_fail_loudly() {
    let (passed, text) = run_fixture("fixture_panic", unprivileged);
    assert!(!passed, "passed without privileges:\n{text}");
    assert!(
        text.contains(
            "test `failures::fixture_panic`: cannot build the default one-node network (node `local`): \
             cannot create a network namespace"
        ),
        "{text}"
    );
    assert!(text.contains("hint: netns-test needs root"), "{text}");
    assert!(!text.contains("called `Result::unwrap()`"), "{text}");
}

/// A process that can create no namespace at all (x86_64): a seccomp
/// filter refuses user namespaces and no capability survives the exec.
/// Elsewhere, [`unprivileged`].
#[cfg(target_arch = "x86_64")]
fn no_namespaces(c: &mut Command) {
    c.env_remove("NETNS_TEST_NO_USERNS");
    c.env_remove("NETNS_TEST_SKIP_UNSUPPORTED");
    // SAFETY: the hook only makes async-signal-safe syscalls.
    unsafe {
        c.pre_exec(crate::common::seccomp::deny_namespaces);
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn no_namespaces(c: &mut Command) {
    unprivileged(c);
}

#[test]
fn check_missing_privileges_skip_on_request() {
    let skip_line = "netns-test: skipping test `failures::fixture_panic` \
                     (NETNS_TEST_SKIP_UNSUPPORTED is set): cannot create a network namespace";
    /// How the fixture is kept from making namespaces, and what that is.
    type Setup = (&'static str, fn(&mut Command));
    let setups: [Setup; 2] = [
        ("no namespaces", no_namespaces),
        ("opted out", unprivileged),
    ];
    for (how, setup) in setups {
        // Output captured (no --nocapture): the skip line shows all the same.
        let (passed, text) = run_fixture("fixture_panic", |c| {
            setup(c);
            c.env("NETNS_TEST_SKIP_UNSUPPORTED", "1");
        });
        assert!(passed, "{how}:\n{text}");
        assert!(
            text.contains("test failures::fixture_panic ... ok"),
            "{how}:\n{text}"
        );
        assert_eq!(text.matches(skip_line).count(), 1, "{how}:\n{text}");
        // With the fix-it text, which does not ask for the variable that is
        // already set.
        assert!(
            text.contains("netns-test cannot create network namespaces"),
            "{how}:\n{text}"
        );
        assert!(
            !text.contains("set NETNS_TEST_SKIP_UNSUPPORTED=1"),
            "{how}:\n{text}"
        );
    }
    let (passed, text) = run_fixture("fixture_panic", |c| {
        no_namespaces(c);
        c.env("NETNS_TEST_SKIP_UNSUPPORTED", "1");
        c.arg("--nocapture");
    });
    assert!(passed, "{text}");
    assert_eq!(text.matches(skip_line).count(), 1, "{text}");
}

/// A `#[should_panic]` test that is skipped passes, under libtest, with the
/// skip line.
#[test]
fn check_should_panic_passes_when_skipped() {
    let skip_line = "netns-test: skipping test `failures::fixture_should_panic_no_panic` \
                     (NETNS_TEST_SKIP_UNSUPPORTED is set)";
    let (passed, text) = run_fixture("fixture_should_panic_no_panic", |c| {
        no_namespaces(c);
        c.env("NETNS_TEST_SKIP_UNSUPPORTED", "1");
    });
    assert!(passed, "{text}");
    assert!(
        text.contains("test failures::fixture_should_panic_no_panic ... ok"),
        "{text}"
    );
    assert_eq!(text.matches(skip_line).count(), 1, "{text}");
    assert!(!text.contains("did not panic"), "{text}");
}

#[netns_test]
#[ignore = "ignored on purpose"]
fn fixture_ignored() {
    panic!("an ignored test ran");
}

#[test]
fn check_ignore_passes_through() {
    let (passed, text) = run_fixture("fixture_ignored", |_| {});
    assert!(passed, "{text}");
    assert!(
        text.contains("test failures::fixture_ignored ... ignored, ignored on purpose"),
        "{text}"
    );
}

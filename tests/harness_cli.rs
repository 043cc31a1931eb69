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

#[path = "harness_cli/command_line.rs"]
mod command_line;
#[path = "harness_cli/failures.rs"]
mod failures;

use std::process::{Command, Output};
use std::time::Duration;

use netns_test::harness::{Case, Harness, Trial};
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

/// Printed to stderr by the plain trial in the child, with the name of its
/// thread (the main thread's with one test thread, none on the pool's).
const PLAIN_TRIAL_THREAD: &str = "PLAIN-TRIAL-THREAD";

/// A plain trial: needs no namespace, so it passes even without privileges.
fn plain_trial() -> Trial {
    Trial::test("plain_trial", || {
        if std::env::var_os(CHILD).is_some() {
            eprintln!("{PLAIN_TRIAL_THREAD} {:?}", std::thread::current().name());
        }
        Ok(())
    })
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
        .env_remove("RUST_TEST_THREADS")
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
    use command_line::*;
    use failures::*;
    vec![
        check("check_list", check_list),
        check("check_list_terse_ignored", check_list_terse_ignored),
        check("check_default_run", check_default_run),
        check("check_filter", check_filter),
        check("check_several_filters", check_several_filters),
        check("check_several_exact_filters", check_several_exact_filters),
        check(
            "check_several_filters_with_flags",
            check_several_filters_with_flags,
        ),
        check("check_exact", check_exact),
        check("check_skip_flag", check_skip_flag),
        check("check_ignored", check_ignored),
        check("check_include_ignored", check_include_ignored),
        check("check_test_threads_1", check_test_threads_1),
        check("check_rust_test_threads", check_rust_test_threads),
        check("check_zero_test_threads", check_zero_test_threads),
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

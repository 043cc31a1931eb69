//! The custom test harness: a `harness = false` test target whose `main` is
//! netns-test's, on [libtest-mimic](libtest_mimic).
//!
//! ```toml
//! [[test]]
//! name = "network"
//! harness = false
//! ```
//!
//! ```no_run
//! // tests/network.rs
//! use netns_test::netns_test;
//!
//! #[netns_test]
//! fn binds_port_80() {
//!     std::net::TcpListener::bind("127.0.0.1:80").unwrap();
//! }
//!
//! netns_test::main!();
//! ```
//!
//! [`main`] (what `netns_test::main!()` calls):
//! 1. enters the rootless user namespace first, while the process has one
//!    thread (a no-op when the pre-main constructor already did, or for
//!    root);
//! 2. parses libtest's command line: filters (any number: a test runs when
//!    its name contains one of them), `--exact`, `--skip`, `--list`,
//!    `--ignored`, `--include-ignored`, `--test-threads` (else
//!    `RUST_TEST_THREADS`), `--format pretty|terse|json`, `-q`, `--color`,
//!    `--logfile`, so `cargo test`, `cargo nextest run` and IDEs drive it as
//!    they drive libtest;
//! 3. runs every `#[netns_test]` function of the target (besides its
//!    `#[test]`, which a `harness = false` target does not compile, the
//!    attribute registers each test in a link-time list, a `linkme`
//!    distributed slice), plus the data-driven [`Case`]s and plain
//!    [`Trial`]s given to a [`Harness`].
//!
//! Tests run through the same runner as under the standard harness, so
//! panics, returned errors, setup errors, timeouts and their messages are
//! the same. `#[should_panic]` (with `expected`) and `#[ignore]` (with a
//! reason) behave as under libtest.
//!
//! When the process can create no network namespace (neither root nor user
//! namespaces), every netns test fails with the fix-it message, unless
//! `NETNS_TEST_SKIP_UNSUPPORTED=1` is set: then each is reported `ignored`
//! (and `cargo nextest` lists it as skipped), with the reason printed once.
//!
//! Differences from libtest: output is not captured (a test's `println!`
//! and the panic message of a passing `#[should_panic]` test appear as they
//! happen; under `cargo nextest`, which runs a process per test, output is
//! captured by nextest as usual); tests run in name order, each on a
//! thread of the pool (or the main thread with `--test-threads 1`).

use std::collections::BTreeMap;

use libtest_mimic::{Completion, Failed};

mod body;
mod capture;
mod case;
mod cli;
mod debug;
pub mod junit;
mod quiet;
mod registry;
mod runner;
pub mod suite;
mod verdict;

use registry::{Registration, TESTS};

pub use capture::CAPTURE_ENV;
pub use case::Case;
use cli::CommandLine;
pub use debug::{DUMP_ENV, KEEP_ENV};
use quiet::Quiet;

use crate::sys::privilege;
use runner::{display_name, execute, panic_message, Outcome, TestSpec};
use verdict::Expect;

pub use libtest_mimic::{Arguments, Conclusion, Trial};
pub use runner::TestReturn;

/// What `#[netns_test]` and `main!` expand to calls; re-exported by
/// `crate::__private`.
pub(crate) mod __private {
    pub use super::registry::{Registration, TESTS};
    pub use super::runner::{
        block_on, execute, panic_message, report, run, Ctx, Failure, Inject, Outcome, TestSpec,
        DEFAULT_NODE,
    };
}

/// The reason shown for a test skipped because namespaces cannot be made.
const SKIP_REASON: &str =
    "cannot create network namespaces here and NETNS_TEST_SKIP_UNSUPPORTED is set";

/// The custom harness: the registered `#[netns_test]` functions, data-driven
/// [`Case`]s and plain libtest-mimic [`Trial`]s, run under libtest's command
/// line.
///
/// ```no_run
/// use netns_test::harness::{Case, Harness, Trial};
///
/// fn main() {
///     Harness::new()
///         .case(Case::new("loopback_is_up", |net| {
///             assert!(net["local"].links().unwrap().iter().any(|l| l.name == "lo"));
///         }))
///         .trial(Trial::test("no_network_needed", || Ok(())))
///         .run()
/// }
/// ```
#[derive(Debug)]
pub struct Harness {
    registered: bool,
    cases: Vec<Case>,
    trials: Vec<Trial>,
}

impl Default for Harness {
    fn default() -> Self {
        Harness::new()
    }
}

/// Runs every `#[netns_test]` function of the binary under libtest's command
/// line and exits; what `netns_test::main!()` calls. See the
/// [module documentation](self).
pub fn main() -> ! {
    Harness::new().run()
}

/// The privilege state, looked at once per run.
enum Policy {
    /// Namespaces can be created (or it is not known that they cannot).
    Run,
    /// They cannot, and the user asked to skip: the fix-it text.
    Skip(String),
    /// They cannot: the fix-it text; each test fails with it.
    Fail(String),
}

impl Harness {
    /// A harness with every `#[netns_test]` function linked into the binary.
    ///
    /// Enters the rootless user namespace if the pre-main constructor has not
    /// (call it before starting any thread: `unshare(CLONE_NEWUSER)` needs a
    /// single-threaded process).
    pub fn new() -> Self {
        privilege::enter_user_namespace();
        Harness {
            registered: true,
            cases: Vec::new(),
            trials: Vec::new(),
        }
    }

    /// Leaves out the registered `#[netns_test]` functions: only the cases
    /// and trials given to this harness run.
    pub fn without_registered_tests(mut self) -> Self {
        self.registered = false;
        self
    }

    /// Adds a data-driven test.
    pub fn case(mut self, case: Case) -> Self {
        self.cases.push(case);
        self
    }

    /// Adds data-driven tests.
    pub fn cases(mut self, cases: impl IntoIterator<Item = Case>) -> Self {
        self.cases.extend(cases);
        self
    }

    /// Adds a plain libtest-mimic trial (a test that needs no namespace).
    pub fn trial(mut self, trial: Trial) -> Self {
        self.trials.push(trial);
        self
    }

    /// Adds plain libtest-mimic trials.
    pub fn trials(mut self, trials: impl IntoIterator<Item = Trial>) -> Self {
        self.trials.extend(trials);
        self
    }

    /// Parses the command line, runs the tests and exits: status 0 when
    /// nothing failed, 101 otherwise (libtest's codes).
    ///
    /// Every positional argument is a filter, as under libtest: a test runs
    /// when its name contains any of them (with `--exact`, equals any).
    pub fn run(self) -> ! {
        let cl = CommandLine::from_env();
        self.run_command_line(&cl).exit()
    }

    /// Runs the tests under `args` and returns the tally (what [`run`] does,
    /// without parsing the command line or exiting; `args.filter` is the one
    /// filter). With `args.logfile` set, the report goes to that file
    /// instead of stdout.
    ///
    /// [`run`]: Harness::run
    ///
    /// # Panics
    ///
    /// When two tests have the same name.
    pub fn run_with(self, args: &Arguments) -> Conclusion {
        self.run_command_line(&CommandLine::from_arguments(args))
    }

    fn run_command_line(self, cl: &CommandLine) -> Conclusion {
        let trials = self.into_trials(&cl.args);
        cli::run(cl, trials)
    }

    /// The trials this harness runs under `args`, sorted by name, as
    /// [`Harness::run_with`] hands them to libtest-mimic.
    ///
    /// # Panics
    ///
    /// When two tests have the same name.
    pub fn into_trials(self, args: &Arguments) -> Vec<Trial> {
        let policy = match cannot_create_namespaces() {
            None => Policy::Run,
            Some(why) if privilege::skip_requested() => Policy::Skip(why),
            Some(why) => Policy::Fail(why),
        };
        let registered: &[Registration] = if self.registered { &TESTS } else { &[] };
        let netns_count = registered.len() + self.cases.len();
        if !args.list && netns_count > 0 {
            match &policy {
                Policy::Run => {}
                Policy::Skip(why) => eprintln!(
                    "netns-test: {} is set and this process cannot create network namespaces: \
                     its {netns_count} netns test(s) are reported ignored.\n{why}\n",
                    privilege::SKIP_ENV
                ),
                Policy::Fail(why) => {
                    eprintln!("netns-test: every netns test of this binary will fail.\n{why}\n")
                }
            }
        }
        let skip = matches!(policy, Policy::Skip(_));

        let mut trials = Vec::new();
        for reg in registered {
            let expect = Expect {
                should_panic: reg.should_panic,
                expected: reg.expected,
            };
            let run = reg.run;
            let ignore = reg.ignored.then(|| reg.ignore_reason.map(str::to_string));
            let name = display_name(reg.name).to_string();
            trials.push(netns_trial(name.clone(), ignore, skip, args, move || {
                let quiet = Quiet::new(&name, expect.should_panic);
                let outcome = run();
                quiet.verdict(judge(outcome, expect, skip))
            }));
        }
        for case in self.cases {
            let name = case.parts.name.clone();
            let mut spec = TestSpec::from_case(case.parts, case.should_panic.is_some());
            if let Some(Some(expected)) = case.should_panic {
                spec = spec.should_panic_with(expected);
            }
            let body = case.body;
            let on_timeout = case.on_timeout;
            trials.push(netns_trial(
                name.clone(),
                case.ignore,
                skip,
                args,
                move || {
                    let quiet = Quiet::new(&name, spec.should_panic);
                    let expected = spec.expected.clone();
                    let expect = Expect {
                        should_panic: spec.should_panic,
                        expected: expected.as_deref(),
                    };
                    let outcome = match (execute(spec, move |ctx| body(ctx.net())), on_timeout) {
                        (Outcome::TimedOut(m), Some(note)) => {
                            Outcome::TimedOut(format!("{m}\n{}", note()))
                        }
                        (outcome, _) => outcome,
                    };
                    quiet.verdict(judge(outcome, expect, skip))
                },
            ));
        }
        trials.extend(self.trials);

        let mut seen = BTreeMap::new();
        for t in &trials {
            *seen.entry(t.name().to_string()).or_insert(0) += 1;
        }
        let dups: Vec<_> = seen
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(k, _)| k)
            .collect();
        assert!(
            dups.is_empty(),
            "netns-test harness: several tests have the same name: {}",
            dups.join(", ")
        );
        trials.sort_by(|a, b| a.name().cmp(b.name()));
        trials
    }
}

/// Why this process cannot create network namespaces, if it cannot.
fn cannot_create_namespaces() -> Option<String> {
    if let Some(why) = privilege::unsupported_reason() {
        return Some(why);
    }
    match privilege::detect() {
        p if p.can_create_namespaces() => None,
        // User namespaces are allowed, but this process did not enter one
        // (threads were started before the harness could).
        _ => Some(format!(
            "netns-test cannot create network namespaces: the process lacks CAP_SYS_ADMIN and \
             CAP_NET_ADMIN and did not enter a user namespace (threads were started before the \
             harness). Run as root, or call netns_test::privilege::enter_user_namespace() first \
             in main.{}",
            privilege::skip_advice()
        )),
    }
}

/// A trial for a netns test; `ignore`: `#[ignore]`, with its reason.
fn netns_trial(
    name: String,
    ignore: Option<Option<String>>,
    skip: bool,
    args: &Arguments,
    run: impl FnOnce() -> Result<Completion, Failed> + Send + 'static,
) -> Trial {
    let reason = match (ignore, skip) {
        (Some(reason), _) => Some(reason),
        (None, true) => Some(Some(SKIP_REASON.to_string())),
        (None, false) => None,
    };
    match reason {
        None => Trial::ignorable_test(name, run),
        // libtest prints the reason of an ignored test; libtest-mimic only
        // prints that of a test ignored at run time. So when ignored tests
        // are not run, report one that way; the flag still serves `--list`,
        // `--ignored` and `--include-ignored`, which nextest relies on.
        Some(reason) if !args.list && !args.ignored && !args.include_ignored => {
            Trial::ignorable_test(name, move || {
                Ok(match reason {
                    Some(r) => Completion::ignored_with(r),
                    None => Completion::ignored(),
                })
            })
        }
        Some(_) => Trial::ignorable_test(name, run).with_ignored_flag(true),
    }
}

/// The verdict on a test's outcome, as libtest gives it.
fn judge(outcome: Outcome, expect: Expect<'_>, announced_skip: bool) -> Result<Completion, Failed> {
    match outcome {
        Outcome::Skipped(msg) => {
            if !announced_skip {
                eprintln!("{msg}");
            }
            Ok(Completion::ignored_with(SKIP_REASON))
        }
        outcome if expect.should_panic => match expect.should_panic_failure(&outcome) {
            None => Ok(Completion::Completed),
            Some(why) => Err(why.into()),
        },
        Outcome::Passed => Ok(Completion::Completed),
        Outcome::Panicked(payload) => Err(match panic_message(payload.as_ref()) {
            Some(msg) => format!("test panicked: {msg}").into(),
            None => "test panicked (with a payload that is not a string)".into(),
        }),
        Outcome::Returned(msg) | Outcome::Setup(msg) | Outcome::TimedOut(msg) => Err(msg.into()),
    }
}

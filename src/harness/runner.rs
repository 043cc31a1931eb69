//! What `#[netns_test]` runs: the one entry point the macro calls.
//!
//! [`run`] builds the test's network, runs the body inside the chosen node
//! (on the test's own thread, or on a thread of its own when there is a
//! timeout: see `body.rs`), waits for it, tears the network down and turns
//! every way of failing into a readable test failure.
//! [`execute`] does the same but returns an [`Outcome`] instead of failing, so
//! the runner is tested without the macro.
//!
//! # Timeouts and teardown
//!
//! A thread cannot be killed. When the body overruns its limit, the runner
//! takes the network down through the same teardown as `Drop`, in its
//! releasing form (threads stopped and children killed, every interface but
//! `lo` deleted, every namespace descriptor let go), then fails the test with
//! a message that names the test and the limit.
//!
//! The body's thread is left running, detached. It still borrows the
//! [`Net`], which is freed when the thread returns (or the process exits;
//! under `cargo nextest` that is right after the failure). Until then the
//! namespace the thread is in (the chosen node, or one it entered) stays
//! alive, emptied down to `lo`, and so do namespaces its own sockets belong
//! to. The body can no longer enter a node: `Node::with`, `Node::run` and
//! commands return errors instead of running elsewhere.

use std::any::Any;
use std::fmt::{self, Debug};
use std::future::Future;
use std::panic::resume_unwind;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::verdict::Expect;
use crate::error::Error;
use crate::lab::{Net, Node};
use crate::topology::Topology;

/// The node a test without `topology` runs in.
pub const DEFAULT_NODE: &str = "local";

/// A topology function, with its name as written in the attribute.
pub(super) type NamedTopology = (&'static str, fn() -> Topology);

/// What the macro knows about a test: its name and the attribute's arguments.
#[derive(Debug, Clone)]
pub struct TestSpec {
    /// The test's path, `module_path!()::fn_name`; the crate name is dropped
    /// when shown, as libtest does.
    pub name: &'static str,
    /// The function that describes the network, and its name as written;
    /// `None`: one node called [`DEFAULT_NODE`].
    pub topology: Option<NamedTopology>,
    /// The node the body runs in; `None`: the first node of the topology.
    pub node: Option<&'static str>,
    /// The body's time limit, and how it was written (`"5s"`).
    pub timeout: Option<(Duration, &'static str)>,
    /// The test carries `#[should_panic]`: failures other than a panic of the
    /// body or a timeout (a setup error) must not count as the expected panic.
    pub should_panic: bool,
    /// `#[should_panic(expected = "text")]`: the text the panic's message
    /// must contain.
    pub expected: Option<String>,
    /// `capture` in the attribute: every interface is captured, and the
    /// pcapng file is kept if the test fails (see [`crate::capture`]).
    pub capture: bool,
    /// `seed = N` in the attribute: the seed of the lab's wires (the
    /// `NETNS_TEST_SEED` variable still wins, to replay a failure).
    pub seed: Option<u64>,
    /// A data-driven test of the custom harness: what it has that the
    /// `'static` fields above cannot hold.
    case: Option<Box<CaseParts>>,
}

/// The parts of a data-driven test (`harness::Case`) that are built at run
/// time; each one, when set, wins over the matching field of [`TestSpec`].
#[derive(Debug, Clone, Default)]
pub(crate) struct CaseParts {
    /// The test's full name, shown as is.
    pub(crate) name: String,
    pub(crate) topology: Option<Topology>,
    pub(crate) node: Option<String>,
    pub(crate) timeout: Option<Duration>,
}

impl TestSpec {
    /// A test called `name` (`module_path!()::fn_name`) in one fresh node.
    pub const fn new(name: &'static str) -> Self {
        TestSpec {
            name,
            topology: None,
            node: None,
            timeout: None,
            should_panic: false,
            expected: None,
            capture: false,
            seed: None,
            case: None,
        }
    }

    /// A data-driven test of the custom harness.
    pub(crate) fn from_case(parts: CaseParts, should_panic: bool) -> Self {
        TestSpec {
            should_panic,
            case: Some(Box::new(parts)),
            ..TestSpec::new("")
        }
    }

    /// Builds the network that `f` describes; `name` is how `f` was written.
    pub const fn topology(mut self, name: &'static str, f: fn() -> Topology) -> Self {
        self.topology = Some((name, f));
        self
    }

    /// Runs the body in node `node` instead of the first one.
    pub const fn node(mut self, node: &'static str) -> Self {
        self.node = Some(node);
        self
    }

    /// Fails the test when the body runs longer than `limit`; `text` is the
    /// limit as written (`"5s"`), for the message.
    pub const fn timeout(mut self, limit: Duration, text: &'static str) -> Self {
        self.timeout = Some((limit, text));
        self
    }

    /// Captures every interface of the network while the body runs; the
    /// file is kept when the test fails.
    pub const fn capture(mut self) -> Self {
        self.capture = true;
        self
    }

    /// Seeds the lab's wires with `seed`.
    pub const fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Marks the test `#[should_panic]`.
    pub const fn should_panic(mut self) -> Self {
        self.should_panic = true;
        self
    }

    /// Marks the test `#[should_panic(expected = "...")]`: its panic's
    /// message must contain `expected`.
    pub fn should_panic_with(mut self, expected: impl Into<String>) -> Self {
        self.should_panic = true;
        self.expected = Some(expected.into());
        self
    }

    /// What the test expects of its body.
    pub(super) fn expect(&self) -> Expect<'_> {
        Expect {
            should_panic: self.should_panic,
            expected: self.expected.as_deref(),
        }
    }

    /// The name libtest shows: the path without the crate's name.
    pub fn display_name(&self) -> &str {
        match &self.case {
            Some(case) => &case.name,
            None => display_name(self.name),
        }
    }

    /// The test binary the test belongs to, which tells apart tests of the
    /// same name in different binaries (`tests/ipv4.rs` and `tests/ipv6.rs`
    /// may both have a `smoke`): the crate's name, the first segment of the
    /// path, for a `#[netns_test]` function; the executable's name without
    /// cargo's hash for a data-driven case.
    pub(crate) fn binary(&self) -> String {
        match self.name.split_once("::") {
            Some((krate, _)) if self.case.is_none() => krate.to_string(),
            _ => super::capture::binary_name(),
        }
    }

    fn topology_text(&self) -> String {
        match (&self.case, self.topology) {
            (Some(case), _) if case.topology.is_some() => {
                format!("the topology of case `{}`", case.name)
            }
            (_, Some((name, _))) => format!("topology `{name}`"),
            _ => format!("the default one-node network (node `{DEFAULT_NODE}`)"),
        }
    }

    fn build_topology(&self) -> Topology {
        let t = match (&self.case, self.topology) {
            (Some(case), _) if case.topology.is_some() => case.topology.clone().unwrap_or_default(),
            (_, Some((_, f))) => f(),
            _ => Topology::new().node(DEFAULT_NODE),
        };
        match self.seed {
            Some(seed) => t.seed(seed),
            None => t,
        }
    }

    fn node_name(&self) -> Option<&str> {
        match &self.case {
            Some(case) if case.node.is_some() => case.node.as_deref(),
            _ => self.node,
        }
    }

    pub(super) fn time_limit(&self) -> Option<Duration> {
        match &self.case {
            Some(case) if case.timeout.is_some() => case.timeout,
            _ => self.timeout.map(|(limit, _)| limit),
        }
    }

    /// The limit as the user wrote it, for the timeout message.
    pub(super) fn timeout_text(&self) -> String {
        match (&self.case, self.timeout) {
            (Some(case), _) if case.timeout.is_some() => {
                format!("its timeout ({:?})", case.timeout.unwrap_or_default())
            }
            (_, Some((_, text))) => format!("`timeout = \"{text}\"`"),
            _ => "its timeout".to_string(),
        }
    }
}

/// The name libtest shows for the path `crate::module::test`: the path
/// without the crate's name.
pub(super) fn display_name(path: &str) -> &str {
    match path.split_once("::") {
        Some((_, rest)) => rest,
        None => path,
    }
}

/// What the body closure gets: the live network and the node it runs in.
pub struct Ctx {
    pub(super) net: Arc<Net>,
    pub(super) node: usize,
    pub(super) spec: TestSpec,
}

impl Debug for Ctx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx")
            .field("test", &self.spec.display_name())
            .field("node", &self.node().name())
            .finish()
    }
}

impl Ctx {
    /// The live network.
    pub fn net(&self) -> &Net {
        &self.net
    }

    /// The node the body runs in.
    pub fn node(&self) -> &Node {
        &self.net.nodes()[self.node]
    }
}

/// Why a body did not pass, other than by panicking.
#[derive(Debug)]
pub enum Failure {
    /// The body could not start: a parameter names no node, or the tokio
    /// runtime of an `async fn` could not be built. The message is complete.
    Setup(String),
    /// The body returned `Err`; the `Debug` form of the error.
    Returned(String),
}

/// A value that a parameter of a `#[netns_test]` function can take.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parameter of a #[netns_test] function",
    label = "unsupported parameter type",
    note = "parameters are `&Net` (the live network) or `&Node` (the node named like the parameter)"
)]
pub trait Inject<'a>: Sized {
    /// The value for a parameter called `param`.
    fn inject(ctx: &'a Ctx, param: &str) -> Result<Self, Failure>;
}

impl<'a> Inject<'a> for &'a Net {
    fn inject(ctx: &'a Ctx, _param: &str) -> Result<Self, Failure> {
        Ok(ctx.net())
    }
}

impl<'a> Inject<'a> for &'a Node {
    fn inject(ctx: &'a Ctx, param: &str) -> Result<Self, Failure> {
        ctx.net.node(param).map_err(|_| {
            Failure::Setup(format!(
                "test `{}`: parameter `{param}: &Node` names no node of {}; its nodes are: {} \
                 (a `&Node` parameter is named after its node)",
                ctx.spec.display_name(),
                ctx.spec.topology_text(),
                node_list(&ctx.net),
            ))
        })
    }
}

/// What a `#[netns_test]` function may return.
#[diagnostic::on_unimplemented(
    message = "a #[netns_test] function cannot return `{Self}`",
    label = "unsupported return type",
    note = "return `()` or `Result<(), E>` where `E: Debug`"
)]
pub trait TestReturn {
    /// `Ok` for a pass, [`Failure::Returned`] for an error.
    fn into_outcome(self) -> Result<(), Failure>;
}

impl TestReturn for () {
    fn into_outcome(self) -> Result<(), Failure> {
        Ok(())
    }
}

impl<E: Debug> TestReturn for Result<(), E> {
    fn into_outcome(self) -> Result<(), Failure> {
        self.map_err(|e| Failure::Returned(format!("{e:?}")))
    }
}

/// Runs `fut` on a current-thread tokio runtime made on the calling thread
/// (which the runner has put inside the node: the runtime's blocking pool
/// and any thread it starts inherit the namespace).
pub fn block_on<F: Future>(fut: F) -> Result<F::Output, Failure> {
    let rt = crate::sys::runtime::current_thread().map_err(|e| Failure::Setup(e.to_string()))?;
    Ok(rt.block_on(fut))
}

/// How a test ended, as [`execute`] reports it.
pub enum Outcome {
    /// The body returned `()` or `Ok(())`.
    Passed,
    /// The body panicked; the original payload.
    Panicked(Box<dyn Any + Send>),
    /// The body returned `Err`; the full failure message.
    Returned(String),
    /// The network could not be built or the body could not start; the full
    /// message, with the error's hint when it has one.
    Setup(String),
    /// The process cannot create namespaces and the user asked to skip such
    /// tests (`NETNS_TEST_SKIP_UNSUPPORTED=1`); the message. The body did
    /// not run. libtest has no run-time skip: [`run`] writes the message to
    /// the process's standard error, past libtest's output capture, and lets
    /// the test pass.
    Skipped(String),
    /// The body overran its limit; the full message. The network was torn
    /// down as the documentation of `src/runner.rs` describes.
    TimedOut(String),
}

impl Debug for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Passed => f.write_str("Passed"),
            Outcome::Panicked(p) => f
                .debug_tuple("Panicked")
                .field(&panic_message(p.as_ref()))
                .finish(),
            Outcome::Returned(m) => f.debug_tuple("Returned").field(m).finish(),
            Outcome::Setup(m) => f.debug_tuple("Setup").field(m).finish(),
            Outcome::Skipped(m) => f.debug_tuple("Skipped").field(m).finish(),
            Outcome::TimedOut(m) => f.debug_tuple("TimedOut").field(m).finish(),
        }
    }
}

/// The text of a panic payload (`&str` or `String`), if it has one.
pub fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

/// The entry point of `#[netns_test]`: runs the test and fails it the way
/// libtest expects (see [`report`]).
pub fn run<F>(spec: TestSpec, body: F)
where
    F: FnOnce(&Ctx) -> Result<(), Failure> + Send + 'static,
{
    let (should_panic, expected) = (spec.should_panic, spec.expected.clone());
    report(should_panic, expected.as_deref(), execute(spec, body))
}

/// Passes or fails a test under libtest, for an [`Outcome`] that
/// [`execute`] returned: returns when the test passed (or was skipped),
/// unwinds when it failed. `should_panic` and `expected`: the test's
/// `#[should_panic(expected = "...")]`, which the macro leaves off the
/// `#[test]` it emits, so that the verdict is this function's alone.
///
/// A test without `#[should_panic]` fails on a panic of its body, which is
/// resumed with its original payload (its message and location were
/// already printed by the panic hook, on the body's thread, which is named
/// after the test); every other failure prints its message and unwinds with
/// it as the payload.
///
/// A `#[should_panic]` test passes when its body panicked (or returned
/// `Err`, or timed out) with a message that contains `expected`; otherwise
/// the reason, in libtest's words ("test did not panic as expected", "panic
/// did not contain expected string ..."), is printed and is the payload. A
/// setup error is no panic of the body: such a test fails.
///
/// A skipped test (`NETNS_TEST_SKIP_UNSUPPORTED`) returns, with its
/// `netns-test: skipping test ...` line written to the process's standard
/// error itself, past libtest's output capture.
pub fn report(should_panic: bool, expected: Option<&str>, outcome: Outcome) {
    let expect = Expect {
        should_panic,
        expected,
    };
    match outcome {
        Outcome::Skipped(msg) => crate::sys::env::write_past_capture(&msg),
        outcome if should_panic => match expect.should_panic_failure(&outcome) {
            Some(why) => {
                eprintln!("{why}");
                resume_unwind(Box::new(why));
            }
            None => {
                if let Outcome::Returned(msg) | Outcome::TimedOut(msg) = outcome {
                    eprintln!("{msg}");
                }
            }
        },
        Outcome::Passed => {}
        Outcome::Panicked(payload) => resume_unwind(payload),
        Outcome::Setup(msg) | Outcome::Returned(msg) | Outcome::TimedOut(msg) => {
            eprintln!("{msg}");
            resume_unwind(Box::new(msg));
        }
    }
}

fn node_list(net: &Net) -> String {
    net.nodes()
        .iter()
        .map(|n| format!("`{}`", n.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn setup_message(spec: &TestSpec, e: &Error) -> String {
    let mut msg = format!(
        "test `{}`: cannot build {}: {}",
        spec.display_name(),
        spec.topology_text(),
        e.to_string().trim_end()
    );
    if let Some(hint) = e.hint() {
        msg.push_str("\nhint: ");
        msg.push_str(hint);
    }
    msg
}

/// Whether a skip message of this process has carried the fix-it text yet.
static SKIP_EXPLAINED: AtomicBool = AtomicBool::new(false);

/// The line of a test skipped for lack of privileges; the first one of the
/// process also carries the fix-it text, the others repeat only the error.
fn skip_message(spec: &TestSpec, source: &std::io::Error, fix: &str) -> String {
    let mut msg = format!(
        "netns-test: skipping test `{}` ({} is set): cannot create a network namespace ({source})",
        spec.display_name(),
        crate::sys::privilege::SKIP_ENV
    );
    if !fix.is_empty() && !SKIP_EXPLAINED.swap(true, Ordering::AcqRel) {
        msg.push('\n');
        msg.push_str(fix.trim_end());
    }
    msg
}

/// Runs the test like [`run`] and returns how it ended, without failing.
pub fn execute<F>(spec: TestSpec, body: F) -> Outcome
where
    F: FnOnce(&Ctx) -> Result<(), Failure> + Send + 'static,
{
    let topology = spec.build_topology();
    let net = match Net::build(&topology) {
        Ok(net) => Arc::new(net),
        Err(Error::Privileges { source, fix }) if crate::sys::privilege::skip_requested() => {
            return Outcome::Skipped(skip_message(&spec, &source, &fix))
        }
        Err(e) => return Outcome::Setup(setup_message(&spec, &e)),
    };
    let node = match spec.node_name() {
        None => 0,
        Some(name) => match net.nodes().iter().position(|n| n.name() == name) {
            Some(i) => i,
            None => {
                return Outcome::Setup(format!(
                    "test `{}`: `node = \"{name}\"` names no node of {}; its nodes are: {}",
                    spec.display_name(),
                    spec.topology_text(),
                    node_list(&net)
                ))
            }
        },
    };
    if net.nodes().is_empty() {
        return Outcome::Setup(format!(
            "test `{}`: {} has no node to run the body in",
            spec.display_name(),
            spec.topology_text()
        ));
    }

    let capture = super::capture::mode(spec.capture);
    if capture != super::capture::Mode::Off {
        if let Err(e) = net.capture() {
            return Outcome::Setup(format!(
                "test `{}`: cannot start the capture: {e}",
                spec.display_name()
            ));
        }
    }

    super::body::run(spec, net, node, capture, body)
}

//! Data-driven tests: a [`Case`] is a named body with its own topology,
//! node, timeout and expectations.

use super::runner::TestReturn;
use super::runner::{CaseParts, Failure};
use crate::lab::Net;

/// The body of a data-driven test.
type CaseBody = Box<dyn FnOnce(&Net) -> Result<(), Failure> + Send>;

/// What a test that ran out of time adds to its failure: what its body
/// had done so far.
type TimeoutNote = Box<dyn FnOnce() -> String + Send>;

/// A data-driven netns test: a name, a network, a body; for tests made from
/// a table at run time rather than written as functions.
///
/// The body runs exactly like a `#[netns_test]` body: on a thread named
/// after the case, inside the first node of the topology (or the one
/// [`Case::node`] names), with the same failure messages and time limit.
///
/// ```no_run
/// use netns_test::harness::{Case, Harness};
/// use netns_test::Topology;
///
/// // One test per row: a name, the two ends' addresses, the peer to ping.
/// const TABLE: [(&str, &str, &str, &str); 2] = [
///     ("pairs::v4", "198.51.100.1/24", "198.51.100.2/24", "198.51.100.2"),
///     ("pairs::v6", "2001:db8::1/64", "2001:db8::2/64", "2001:db8::2"),
/// ];
///
/// fn main() {
///     let cases = TABLE.map(|(name, a, b, peer)| {
///         Case::new(name, move |net| -> netns_test::Result<()> {
///             let report = net["n1"].ping(peer).count(2).run()?;
///             assert_eq!(report.received, 2);
///             Ok(())
///         })
///         .topology(Topology::new().link(("n1", "eth0", a), ("n2", "eth0", b)))
///     });
///     Harness::new().cases(cases).run()
/// }
/// ```
pub struct Case {
    pub(super) parts: CaseParts,
    pub(super) ignore: Option<Option<String>>,
    pub(super) should_panic: Option<Option<String>>,
    pub(super) body: CaseBody,
    pub(super) on_timeout: Option<TimeoutNote>,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("name", &self.parts.name)
            .field("topology", &self.parts.topology)
            .field("node", &self.parts.node)
            .field("timeout", &self.parts.timeout)
            .field("ignore", &self.ignore)
            .field("should_panic", &self.should_panic)
            .finish_non_exhaustive()
    }
}

impl Case {
    /// A test called `name` (shown and filtered as is, for example
    /// `mtu::1500`) whose body gets the live network and returns `()` or
    /// `Result<(), E>` with `E: Debug`. Without [`Case::topology`] the
    /// network is one fresh node called `local`.
    pub fn new<F, R>(name: impl Into<String>, body: F) -> Self
    where
        F: FnOnce(&Net) -> R + Send + 'static,
        R: TestReturn,
    {
        Case {
            parts: CaseParts {
                name: name.into(),
                ..CaseParts::default()
            },
            ignore: None,
            should_panic: None,
            body: Box::new(move |net: &Net| body(net).into_outcome()),
            on_timeout: None,
        }
    }

    /// Adds what `note` returns, on a line of its own, to the failure of a
    /// test that ran out of time; it is called once the limit has passed,
    /// while the body may still run.
    pub(crate) fn on_timeout(mut self, note: impl FnOnce() -> String + Send + 'static) -> Self {
        self.on_timeout = Some(Box::new(note));
        self
    }

    /// The network the test runs in.
    pub fn topology(mut self, topology: crate::Topology) -> Self {
        self.parts.topology = Some(topology);
        self
    }

    /// Runs the body in node `node` instead of the first one.
    pub fn node(mut self, node: impl Into<String>) -> Self {
        self.parts.node = Some(node.into());
        self
    }

    /// Fails the test when the body runs longer than `limit` (network setup
    /// not counted), as `timeout = "..."` does.
    ///
    /// # Panics
    ///
    /// When `limit` is zero, which no body could meet (`#[netns_test]`
    /// refuses `timeout = "0ms"` at compile time); leave the timeout out
    /// for no limit.
    pub fn timeout(mut self, limit: std::time::Duration) -> Self {
        assert!(
            !limit.is_zero(),
            "Case::timeout of test `{}`: the limit must be more than zero (leave it out for no \
             limit)",
            self.parts.name
        );
        self.parts.timeout = Some(limit);
        self
    }

    /// Marks the test ignored, like `#[ignore]`: it runs only with
    /// `--ignored` or `--include-ignored`.
    pub fn ignore(mut self) -> Self {
        self.ignore = Some(None);
        self
    }

    /// Marks the test ignored, with a reason, like `#[ignore = "reason"]`.
    pub fn ignore_because(mut self, reason: impl Into<String>) -> Self {
        self.ignore = Some(Some(reason.into()));
        self
    }

    /// The test passes only if the body panics (or fails: returns `Err`,
    /// times out), like `#[should_panic]`.
    pub fn should_panic(mut self) -> Self {
        self.should_panic = Some(None);
        self
    }

    /// Like [`Case::should_panic`], and the panic message must contain
    /// `expected`, like `#[should_panic(expected = "...")]`.
    pub fn should_panic_with(mut self, expected: impl Into<String>) -> Self {
        self.should_panic = Some(Some(expected.into()));
        self
    }

    /// The test's name.
    pub fn name(&self) -> &str {
        &self.parts.name
    }
}

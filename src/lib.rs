//! netns-test: real network integration tests in Linux network namespaces.
//!
//! Each test gets its own anonymous network namespaces joined by veth pairs
//! and bridges, built in process over rtnetlink, and torn down by closing
//! file descriptors, so nothing is left behind even after SIGKILL.
#![warn(missing_docs)]

pub mod assert;
mod build;
pub mod debug;
pub mod error;
pub mod harness;
pub mod inspect;
mod net;
mod netlink;
pub mod netns;
mod node;
mod node_probe;
pub mod privilege;
pub mod probe;
mod process;
mod runner;
pub mod topology;

pub use error::{Error, Result};

/// Everything a network test usually needs, in one `use`:
///
/// ```
/// use netns_test::prelude::*;
///
/// let lab = Topology::new()
///     .link(("h1", "eth0", "198.51.100.1/24"), ("r1", "eth0", "198.51.100.254/24"))
///     .route("h1", Route::default_via("198.51.100.254"));
/// lab.validate()?;
/// # Ok::<(), TopologyError>(())
/// ```
pub mod prelude {
    pub use crate::{
        assert_connectivity, assert_path, assert_reachable, assert_unreachable, netns_test,
        Endpoint, Error, Net, Node, Route, Topology, TopologyError,
    };
}
pub use net::Net;
pub use netns::{NetNs, NsGuard};
pub use node::{Node, NodeThread, StopToken};
pub use node_probe::{IntoIp, IntoSocketAddr, Ping, Trace};
pub use topology::{Endpoint, Route, Topology, TopologyError};

#[doc = include_str!("../docs/macro.md")]
pub use netns_test_macros::netns_test;

/// What `#[netns_test]` expands to calls this; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::harness::{Registration, TESTS};
    pub use crate::runner::{
        block_on, execute, panic_message, report, run, Ctx, Failure, Inject, Outcome, TestReturn,
        TestSpec, DEFAULT_NODE,
    };
    pub use linkme;
}

/// The `main` of a `harness = false` test target: runs every
/// `#[netns_test]` function of the target, and data-driven tests, under
/// libtest's command line (see [`harness`]).
///
/// ```no_run
/// // tests/network.rs, with `[[test]] name = "network" harness = false`
/// use netns_test::netns_test;
///
/// #[netns_test]
/// fn binds_port_80() {
///     std::net::TcpListener::bind("127.0.0.1:80").unwrap();
/// }
///
/// // Data-driven tests: a function returning `impl IntoIterator<Item = Case>`.
/// fn table() -> Vec<netns_test::harness::Case> {
///     (1..=3)
///         .map(|i| netns_test::harness::Case::new(format!("table::row{i}"), |_net| {}))
///         .collect()
/// }
///
/// netns_test::main!(cases = table);
/// ```
///
/// `main!()` runs the `#[netns_test]` functions only; `main!(cases = f)` or
/// `main!(cases = [f, g])` adds the cases that each function returns. For
/// more (plain trials, a harness built by hand) write `main` with
/// [`harness::Harness`].
#[macro_export]
macro_rules! main {
    () => {
        fn main() {
            $crate::harness::main()
        }
    };
    (cases = [$($cases:path),* $(,)?] $(,)?) => {
        fn main() {
            $crate::harness::Harness::new()
                $(.cases($cases()))*
                .run()
        }
    };
    (cases = $cases:path $(,)?) => {
        $crate::main!(cases = [$cases]);
    };
}

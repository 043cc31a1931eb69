//! netns-test: real network integration tests in Linux network namespaces.
//!
//! Each test gets its own anonymous network namespaces joined by veth pairs
//! and bridges, built in process over rtnetlink, and torn down by closing
//! file descriptors, so nothing is left behind even after SIGKILL.
//!
//! # Layers
//!
//! The source folders are the layers, and each layer uses only those below
//! it. At the bottom, pure code with no I/O: `vocab` (address families,
//! things that name addresses, the kernel's rules for interface names and
//! MAC addresses), `ruleset` (the nftables rule language as data, NAT and
//! firewall declarations), `topology` (the description of a lab and its
//! validation), `packet` (wire formats) and `inspect` (a node's state as
//! plain structs). Above them `sys`, the only place that speaks to the
//! kernel directly (libc, netlink, `unsafe`): namespaces and threads, the
//! runtime helper, sysctls, privileges, processes. Then `lab`, the live
//! network (`Net`, `Node`, build, teardown). On a lab, `probe` observes
//! (ping, traceroute, port probes), `capture` records what crossed the wire
//! (packet sockets with rings, filters, assertions on packets, pcapng files),
//! `fault` breaks (links down, flaps, partitions, schedules of faults) and
//! `firewall` translates and filters (NAT, firewalls, connection tracking).
//! At the top, test integration: `assert` (the assertion macros and the
//! connectivity matrix) and `harness` (what `#[netns_test]` runs, the custom
//! harness, debugging aids, suites from files). An upper layer that adds verbs to `Node` or
//! `Net` does so in its own folder (`probe/verbs/`, `assert/matrix/`,
//! `fault/`, `capture/`, `firewall/`), so the lab knows nothing of them;
//! what an upper layer keeps on a live network (active faults, capture
//! rings) the lab holds without knowing its type, to end it first at
//! teardown.

pub mod assert;
pub mod capture;
mod error;
pub mod fault;
pub mod firewall;
pub mod harness;
mod impairment;
pub mod inspect;
mod lab;
mod packet;
pub mod probe;
mod ruleset;
mod sys;
mod topology;
mod vocab;
pub mod wire;

pub use error::{Error, Result};
pub use harness::suite;
pub use lab::{ActiveFault, Net, Node, NodeThread, StopToken};
pub use sys::netns::{NetNs, NsGuard};
pub use sys::privilege;
pub use topology::{draw, Endpoint, Route, Topology, TopologyError};
pub use vocab::{Family, IntoIp, IntoSocketAddr};

/// The README's Rust examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The Rust examples of docs/pictures.md, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/pictures.md")]
pub struct PicturesDoctests;

#[doc = include_str!("../docs/macro.md")]
pub use netns_test_macros::netns_test;

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
        Endpoint, Error, Family, Net, Node, Route, Topology, TopologyError,
    };
}

/// What `#[netns_test]` expands to calls this; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::assert::macros::{finish, finish_matrix};
    pub use crate::harness::__private::*;
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

/// The `main` of a `harness = false` test target that runs suite files:
/// every scenario of every `.toml` file under the folder (relative to the
/// package, fixed at compile time) is a test (see [`suite`]).
///
/// ```no_run
/// // tests/suites.rs, with `[[test]] name = "suites" harness = false`
/// netns_test::suite_main!("tests/suites");
/// ```
#[macro_export]
macro_rules! suite_main {
    ($dir:expr $(,)?) => {
        fn main() {
            $crate::suite::main(::std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join($dir))
        }
    };
}

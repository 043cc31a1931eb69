//! netns-test: real network integration tests in Linux network namespaces.
//!
//! Each test gets its own anonymous network namespaces joined by veth pairs
//! and bridges, built in process over rtnetlink, and torn down by closing
//! file descriptors, so nothing is left behind even after SIGKILL.
#![warn(missing_docs)]

pub mod assert;
mod build;
pub mod error;
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
    pub use crate::runner::{
        block_on, execute, panic_message, run, Ctx, Failure, Inject, Outcome, TestReturn, TestSpec,
        DEFAULT_NODE,
    };
}

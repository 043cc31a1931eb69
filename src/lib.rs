//! netns-test: real network integration tests in Linux network namespaces.
//!
//! Each test gets its own anonymous network namespaces joined by veth pairs
//! and bridges, built in process over rtnetlink, and torn down by closing
//! file descriptors, so nothing is left behind even after SIGKILL.
#![warn(missing_docs)]

mod build;
pub mod error;
pub mod inspect;
mod net;
mod netlink;
pub mod netns;
mod node;
pub mod probe;
mod process;
pub mod topology;

pub use error::{Error, Result};
pub use net::Net;
pub use netns::{NetNs, NsGuard};
pub use node::{Node, NodeThread, StopToken};
pub use topology::{Endpoint, Route, Topology, TopologyError};

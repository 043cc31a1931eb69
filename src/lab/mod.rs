//! The live network: [`Net`] and its [`Node`]s, the build that makes them
//! from a validated topology, the threads and processes started inside them,
//! and the one teardown path.

mod build;
mod net;
mod node;
mod node_thread;
pub(crate) mod teardown;

pub use net::Net;
pub use node::Node;
pub use node_thread::{NodeThread, StopToken};

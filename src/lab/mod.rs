//! The live network: [`Net`] and its [`Node`]s, the build that makes them
//! from a validated topology, the threads and processes started inside them,
//! what upper layers attach to it (captures), and the one teardown path.

pub(crate) mod attach;
mod build;
pub(crate) mod faults;
mod hub;
mod namespaces;
mod net;
mod netfilter;
mod node;
mod node_thread;
mod relay;
mod routes;
mod shares;
pub(crate) mod teardown;

pub use faults::ActiveFault;
pub use net::Net;
pub(crate) use net::{Veth, VethEnd};
pub(crate) use node::Directory;
pub use node::Node;
pub use node_thread::{NodeThread, StopToken};
pub(crate) use relay::{Relay, SharedRule};

/// For unit tests: `n1` (198.51.100.1/24) linked to `n2` (198.51.100.2/24).
#[cfg(test)]
pub(crate) fn test_pair() -> Net {
    Net::build(&crate::Topology::new().link(
        ("n1", "eth0", "198.51.100.1/24"),
        ("n2", "eth0", "198.51.100.2/24"),
    ))
    .expect("build the lab (run the tests as root)")
}

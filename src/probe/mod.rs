//! Native probes: ICMP echo (ping), traceroute and port probes.
//!
//! Every probe runs on a thread inside a node's namespace and checks first that
//! the namespace is one this process created.

mod error;

pub use error::ProbeError;

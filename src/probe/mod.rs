//! Native probes: ICMP echo (ping), traceroute and port probes.
//!
//! No external binary is run: ping and traceroute speak ICMP over raw
//! sockets (datagram ICMP sockets are refused in new namespaces, whose
//! `ping_group_range` is `1 0`), port probes use plain TCP and UDP sockets.
//!
//! Every probe runs on the **calling thread**, which must already be inside
//! a node's namespace (for example in [`NetNs::run`](crate::NetNs::run) or
//! [`NetNs::with`](crate::NetNs::with)); each one first checks that the
//! namespace is one this process created and otherwise refuses with
//! [`ProbeError::ForeignNamespace`], so test traffic never leaves the host
//! namespace.
//!
//! A probe that ran and got no answer is a result (loss, `*`, a timed-out
//! port), not an error; errors are for probes that could not run (bad
//! options, a foreign namespace, a socket failure).
//!
//! Results print like the classic tools: [`PingReport`] as iputils `ping`,
//! [`TraceReport`] as `traceroute -n`.

mod error;
mod errqueue;
mod ping;
mod port;
mod sock;
mod traceroute;
mod verbs;
mod wait;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_routed;

pub use crate::packet::{IcmpErrorKind, Unreachable};
pub use error::{ProbeError, MAX_WAIT};
pub use errqueue::IcmpError;
pub use ping::{
    ping, EchoReply, PingError, PingErrorKind, PingOptions, PingReport, RttStats, MAX_PAYLOAD_V4,
    MAX_PAYLOAD_V6,
};
pub(crate) use port::check_addr;
pub use port::{tcp_connect, udp_request, PortState, TcpReport, UdpOutcome, UdpReport};
pub use traceroute::{
    traceroute, Hop, HopKind, HopProbe, ProbeReply, TraceMode, TraceOptions, TraceReport,
};
pub use verbs::{Ping, TcpConnect, Trace, UdpRequest, WaitPortOpen, WaitReachable};
pub use wait::{wait_port_open, wait_reachable};

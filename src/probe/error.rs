//! Errors of the probes.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::ping::PingReport;
use super::port::TcpReport;

/// A probe that could not run (a probe that ran and got no answer is a result, not an error).
///
/// The exceptions are the `wait_*` helpers: a wait that ends without success
/// is their failure, and the error carries the last result
/// ([`ProbeError::NotReachable`], [`ProbeError::PortNotOpen`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The destination is a broadcast address and the ping was not allowed
    /// to use one.
    #[error(
        "ping: {destination} is a broadcast address: the kernel refuses to send to it \
         unless the ping allows it (`.broadcast(true)`, iputils `ping -b`)"
    )]
    Broadcast {
        /// The destination.
        destination: std::net::IpAddr,
    },
    /// The calling thread is in a namespace this process did not create.
    #[error(
        "refusing to send a probe from network namespace {inode}: netns-test only probes \
         from namespaces it created, so test traffic can never leave the machine"
    )]
    ForeignNamespace {
        /// The inode of the namespace the thread was in.
        inode: u64,
    },
    /// A socket operation failed.
    #[error("{op}: {source}")]
    Io {
        /// What was being done.
        op: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// An option of a probe has a value it cannot run with.
    #[error("invalid {probe} option `{option}` = {value}: {reason}")]
    InvalidOption {
        /// The probe (`ping`, `traceroute`, `tcp_connect`, ...).
        probe: &'static str,
        /// The option's name, as the builder method spells it.
        option: &'static str,
        /// The rejected value.
        value: String,
        /// What a valid value looks like.
        reason: String,
    },
    /// The payload does not fit in one IP packet.
    #[error("{probe} payload of {size} bytes is too large for {family}: at most {max} bytes")]
    PayloadTooLarge {
        /// The probe.
        probe: &'static str,
        /// The requested payload size.
        size: usize,
        /// The largest payload the family allows.
        max: usize,
        /// `IPv4` or `IPv6`.
        family: &'static str,
    },
    /// The source address and the destination are of different address families.
    #[error(
        "{probe}: source address {source_addr} and destination {destination} are of different \
         address families"
    )]
    FamilyMismatch {
        /// The probe.
        probe: &'static str,
        /// The source address given in the options.
        source_addr: IpAddr,
        /// The destination.
        destination: IpAddr,
    },
    /// The destination cannot be probed (unspecified address, port 0, ...).
    #[error("{probe}: cannot probe {destination}: {reason}")]
    InvalidDestination {
        /// The probe.
        probe: &'static str,
        /// The destination, as given.
        destination: String,
        /// Why.
        reason: String,
    },
    /// The interface named in the options cannot be bound to.
    #[error("{probe}: cannot bind to interface `{interface}`: {source}")]
    Interface {
        /// The probe.
        probe: &'static str,
        /// The interface name.
        interface: String,
        /// The error (`No such device` when the node has no such interface).
        #[source]
        source: io::Error,
    },
    /// The source address in the options cannot be bound to.
    #[error("{probe}: cannot bind to source address {addr}: {source}")]
    SourceAddress {
        /// The probe.
        probe: &'static str,
        /// The source address.
        addr: IpAddr,
        /// The error (`Cannot assign requested address` when no interface of
        /// the node has it).
        #[source]
        source: io::Error,
    },
    /// [`wait_reachable`](super::wait_reachable) ran out of time without an echo reply.
    #[error(
        "{destination} did not answer a ping within {waited:?} ({attempts} attempts); last \
         attempt:\n{last}"
    )]
    NotReachable {
        /// The destination.
        destination: IpAddr,
        /// How long it waited.
        waited: Duration,
        /// How many pings it sent.
        attempts: u32,
        /// The report of the last ping.
        last: Box<PingReport>,
    },
    /// [`wait_port_open`](super::wait_port_open) ran out of time without a connection.
    #[error(
        "TCP port {addr} did not open within {waited:?} ({attempts} attempts); last attempt: {last}"
    )]
    PortNotOpen {
        /// The address.
        addr: SocketAddr,
        /// How long it waited.
        waited: Duration,
        /// How many connections it tried.
        attempts: u32,
        /// The last attempt.
        last: Box<TcpReport>,
    },
}

/// The longest time any probe option may ask to wait (a timeout, a
/// deadline, an interval): one day. Longer waits are refused with
/// [`ProbeError::InvalidOption`] before anything is sent.
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

impl ProbeError {
    /// Refuses a wait longer than [`MAX_WAIT`] for option `option` of `probe`.
    pub(crate) fn check_wait(
        probe: &'static str,
        option: &'static str,
        wait: Duration,
    ) -> Result<(), ProbeError> {
        if wait > MAX_WAIT {
            return Err(ProbeError::InvalidOption {
                probe,
                option,
                value: format!("{wait:?}"),
                reason: format!("wait at most {MAX_WAIT:?} (probe::MAX_WAIT)"),
            });
        }
        Ok(())
    }

    /// Refuses a `timeout` of zero or longer than [`MAX_WAIT`] for `probe`.
    pub(crate) fn check_timeout(probe: &'static str, timeout: Duration) -> Result<(), ProbeError> {
        if timeout.is_zero() {
            return Err(ProbeError::InvalidOption {
                probe,
                option: "timeout",
                value: "0s".into(),
                reason: "wait more than zero".into(),
            });
        }
        ProbeError::check_wait(probe, "timeout", timeout)
    }

    pub(crate) fn io(op: impl Into<String>, source: io::Error) -> Self {
        ProbeError::Io {
            op: op.into(),
            source,
        }
    }
}

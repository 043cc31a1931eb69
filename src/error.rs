//! Typed errors of the library.
//!
//! Every failure names its culprit: the node, the interface, the address or
//! the system call that went wrong.

use std::io;
use std::net::IpAddr;

use std::fmt;

use crate::assert::{AssertFailure, MatrixFailure};
use crate::capture::{CaptureError, CaptureFailure};
use crate::probe::ProbeError;
use crate::topology::TopologyError;
use crate::vocab::quoted;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `netns-test`.
///
/// Its `Debug` prints what `Display` prints, so an `.unwrap()` or a
/// `fn main() -> Result<(), netns_test::Error>` shows the readable message
/// (with the fix-it text of [`Error::Privileges`] on lines of its own).
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The topology description is invalid; nothing was created.
    #[error("invalid topology: {0}")]
    Topology(#[from] TopologyError),

    /// The process lacks the privileges to create network namespaces.
    #[error("cannot create a network namespace ({source})\n{fix}")]
    Privileges {
        /// The error the kernel returned.
        #[source]
        source: io::Error,
        /// What to change: which knob, or how to run as root.
        fix: String,
    },

    /// A namespace operation (unshare, setns, open of a namespace file) failed.
    #[error("{op}: {source}")]
    Namespace {
        /// What was being done.
        op: String,
        /// The error the kernel returned.
        #[source]
        source: io::Error,
    },

    /// The open-file limit is too low for the lab, even after raising the
    /// soft limit to the hard one. Nothing was created (or, when the build
    /// ran out of fds all the same, what it made was dropped).
    #[error(
        "a lab of {nodes} nodes needs about {needed} open files while it is built (one per \
         node, two during the build, two per wire, {open} already \
         open or set aside for other builds under way), but the limit is {soft} \
         (hard limit {hard}): node `{first_node_over}` would be the first past it; raise the \
         hard limit (`ulimit -Hn`, `LimitNOFILE=` for a service, `--ulimit nofile=` for a \
         container) or build a smaller lab"
    )]
    TooManyFiles {
        /// Nodes in the lab.
        nodes: usize,
        /// Fds the build needs at its peak.
        needed: u64,
        /// Fds open before the build, with those other builds under way
        /// have set aside.
        open: u64,
        /// The soft limit, after raising it to the hard one where allowed.
        soft: u64,
        /// The hard limit.
        hard: u64,
        /// The first node that would not fit.
        first_node_over: String,
    },

    /// A fault was refused or failed: see [`FaultError`](crate::fault::FaultError).
    #[error(transparent)]
    Fault(#[from] crate::fault::FaultError),

    /// A partition whose sides are empty or share a node.
    #[error("invalid partition: {reason}")]
    InvalidPartition {
        /// What is wrong.
        reason: String,
    },

    /// No single link joins the two nodes (none, or several: name the
    /// interface then).
    #[error("no single link between `{a}` and `{b}`: {found} found")]
    NoLink {
        /// The first node.
        a: String,
        /// The second node.
        b: String,
        /// How many veth pairs join them.
        found: usize,
    },

    /// A netlink request failed in a node.
    #[error("netlink: {op} in node `{node}`: {source}")]
    Netlink {
        /// The node whose namespace the request ran in.
        node: String,
        /// The request, in the words of `ip`.
        op: String,
        /// The error the kernel returned.
        #[source]
        source: io::Error,
    },

    /// An nftables change or query failed in a node.
    #[error("nftables: {op} in node `{node}`: {source}")]
    Nftables {
        /// The node whose namespace the request ran in.
        node: String,
        /// The change or query, in the words of `nft` ("add rule inet t output").
        op: String,
        /// The error the kernel returned.
        #[source]
        source: io::Error,
    },

    /// A sysctl could not be written in a node.
    #[error("sysctl {}={} in node `{node}`: {source}", quoted(key), quoted(value))]
    Sysctl {
        /// The node.
        node: String,
        /// The sysctl key, dotted (`net.ipv4.ip_forward`).
        key: String,
        /// The value written (a message shows its start only).
        value: String,
        /// The error of the write.
        #[source]
        source: io::Error,
    },

    /// The network's teardown had begun (a timed-out test's): a change or
    /// a thread in one of its nodes was refused.
    #[error("the network is being torn down: {what} was refused")]
    TornDown {
        /// What was refused: `ip route add ... in node n1`.
        what: String,
    },

    /// A node name that the live network does not hold.
    #[error("unknown node `{0}`")]
    UnknownNode(String),

    /// An address (or socket address) that does not parse.
    #[error(
        "`{input}` is neither an IP address (or `ip:port` socket address) nor a node of this \
         lab (or `node:port`); names are not looked up in DNS"
    )]
    InvalidAddress {
        /// The text given.
        input: String,
    },

    /// A node name given as a destination, for a node whose every address
    /// another node holds too (nodes on separate segments may): a reply
    /// would not tell which node answered.
    #[error(
        "node `{node}` has no address of its own to stand for it as a destination: \
         another node holds each of its addresses too ({shared}); give an address instead"
    )]
    NoOwnAddress {
        /// The node named.
        node: String,
        /// Its first address.
        addr: IpAddr,
        /// Its addresses and the other nodes that hold them:
        /// `198.51.100.10 by hB`.
        shared: String,
    },

    /// A probe failed to run (not: the probe ran and saw no reply).
    #[error(transparent)]
    Probe(#[from] ProbeError),

    /// A thread or process could not be started.
    #[error("{op}: {source}")]
    Spawn {
        /// What was being started.
        op: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// A wire's port (in the lab's wire hub) or its relay failed.
    #[error("wire {place}: {op}: {source}")]
    Wire {
        /// The wire: `node/iface -- node/iface`, or `relay`.
        place: String,
        /// What was being done.
        op: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The link is a veth, not a wire: it has no impairment, hold or rule.
    #[error(
        "the link {link} is a veth, not a wire; declare it with `Topology::wire` (or \
         `Endpoint::wire` for a bridge member) to impair, hold or filter its frames"
    )]
    NotAWire {
        /// The link: `node/iface -- node/iface`.
        link: String,
    },
    /// An impairment that cannot work; nothing was changed.
    #[error("impairment for {link}: {source}")]
    InvalidImpairment {
        /// The link (`node/iface -- node/iface`) for a model meant for both
        /// directions, else the direction (`node/iface -> node/iface`).
        link: String,
        /// What is wrong with it.
        #[source]
        source: crate::impairment::ImpairmentError,
    },
    /// A capture could not start, or its file could not be written.
    #[error("capture on {place}: {op}: {source}")]
    Capture {
        /// What was captured: `node/iface`, or a list of them.
        place: String,
        /// What was being done.
        op: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// A capture was asked of a place it cannot capture; nothing was
    /// opened or recorded.
    #[error(transparent)]
    CaptureRefused(#[from] CaptureError),
    /// A capture assertion failed (`?` on
    /// [`Capture::check_count`](crate::capture::Capture::check_count) and
    /// friends).
    #[error("{0}")]
    CaptureAssert(Box<CaptureFailure>),
    /// A reachability or path check failed (`?` on
    /// [`assert::reachable`](crate::assert::reachable) and friends).
    #[error("{0}")]
    Assert(Box<AssertFailure>),
    /// A connectivity matrix differed from what was expected.
    #[error("{0}")]
    Matrix(Box<MatrixFailure>),
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<AssertFailure> for Error {
    fn from(e: AssertFailure) -> Self {
        Error::Assert(Box::new(e))
    }
}

impl From<CaptureFailure> for Error {
    fn from(e: CaptureFailure) -> Self {
        Error::CaptureAssert(Box::new(e))
    }
}

impl From<MatrixFailure> for Error {
    fn from(e: MatrixFailure) -> Self {
        Error::Matrix(Box::new(e))
    }
}

impl Error {
    pub(crate) fn namespace(op: impl Into<String>, source: impl Into<io::Error>) -> Self {
        Error::Namespace {
            op: op.into(),
            source: source.into(),
        }
    }

    /// A hint for the person reading a failed test, if the error has one.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::Privileges { .. } => Some(
                "netns-test needs root or CAP_SYS_ADMIN+CAP_NET_ADMIN; see the README, \
                 section \"Privileges\"",
            ),
            Error::Topology(_) => Some("fix the topology description; nothing was created"),
            _ => None,
        }
    }
}

/// Turns a nix errno into an `io::Error`.
pub(crate) fn errno(e: nix::errno::Errno) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

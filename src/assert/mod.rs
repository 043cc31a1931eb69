//! Network assertions: reachability, paths and the connectivity matrix.
//!
//! The macros read like the lab notes they replace:
//!
//! ```
//! use netns_test::{assert_path, assert_reachable, assert_unreachable, Net, Route, Topology};
//! // h1 -- r1 -- h2
//! let net = Net::build(
//!     &Topology::new()
//!         .link(("h1", "eth0", "198.51.100.1/24"), ("r1", "eth0", "198.51.100.254/24"))
//!         .link(("r1", "eth1", "203.0.113.254/24"), ("h2", "eth0", "203.0.113.1/24"))
//!         .forwarding("r1")
//!         .route("h1", Route::default_via("198.51.100.254"))
//!         .route("h2", Route::default_via("203.0.113.254")),
//! )?;
//! assert_reachable!(net["h1"] => "203.0.113.1");
//! assert_reachable!(net["h1"] => "h2", "h2 by name: its first address of its own");
//! assert_unreachable!(net["h1"] => "203.0.113.99");
//! assert_path!(net["h1"] => "203.0.113.1", via ["r1"]);
//! # Ok::<(), netns_test::Error>(())
//! ```
//!
//! Each macro is a thin wrapper around a function of this module that
//! returns a `Result` ([`reachable`], [`unreachable()`], [`path`],
//! [`Net::connectivity`]); the macros panic with the failure's `Display`,
//! the functions never panic.
//!
//! # What a failure prints
//!
//! An [`AssertFailure`] holds the probe's result (the ping or traceroute
//! report, iputils style) and, for each node involved, its
//! [`NodeReport`] (`ip address`, `ip route`, `ip neigh`), and the
//! nftables ruleset and conntrack entries of those that have some
//! ([`NetfilterReport`]): the source, the
//! destination's node if the network knows the address, and for a path every
//! node expected or met on the way. With capture on (see
//! [`capture`](crate::capture)), it also lists the last
//! [`PACKETS_SHOWN`] packets of those nodes' captured interfaces, one
//! tcpdump-style line each. The other nodes are only reachable when
//! the assertion knows the network: the `net["h1"]` form of the macros, or a
//! [`Source::with_net`]; a bare node reports only itself.
//!
//! # Destinations
//!
//! A destination is an IP address (text or `IpAddr`), never looked up in
//! DNS. When the network is known, a node name is accepted too and means
//! that node's first IPv4 address that no other node holds, else its first
//! such IPv6 address (topology order): a reply to it can only come from
//! that node. A node whose every address another node holds too (nodes on
//! separate segments may share one) stands for none: the assertion fails
//! with [`Error::NoOwnAddress`](crate::Error::NoOwnAddress) as its probe's
//! error.

// A failure carries the whole evidence (reports of several nodes); it is
// made once, when a test is about to fail, so its size does not matter.
#![allow(clippy::result_large_err)]

use std::fmt;
use std::net::IpAddr;

use crate::inspect::{NetfilterReport, NodeReport};

/// How many packets a failure lists when capture is on.
pub const PACKETS_SHOWN: usize = crate::capture::RECENT;
use crate::probe::{PingReport, TraceReport};
use crate::vocab::IntoIp;
use crate::{Net, Node};

pub(crate) mod macros;
mod matrix;
mod path;
mod reach;

pub use matrix::{Cell, CellState, Connectivity, Matrix, MatrixFailure};
pub use path::{default_trace, path, path_with};
pub use reach::{default_ping, reachable, reachable_with, unreachable, unreachable_with};

/// Where an assertion's probe is sent from: a node and, if known, the
/// network it belongs to (used to name and report the other nodes involved).
///
/// ```
/// # use netns_test::{Net, Topology, assert::Source};
/// let net = Net::build(&Topology::new().link(("a", "e0", "198.51.100.1/24"), ("b", "e0", "198.51.100.2/24")))?;
/// let bare: Source = (&net["a"]).into();          // reports only `a` on failure
/// let full = Source::with_net(&net, &net["a"]);  // reports `a` and the destination's node
/// assert_eq!(full.node().name(), bare.node().name());
/// # Ok::<(), netns_test::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    node: &'a Node,
    net: Option<&'a Net>,
}

impl<'a> Source<'a> {
    /// A node of `net`: failures report every node involved.
    pub fn with_net(net: &'a Net, node: &'a Node) -> Self {
        Source {
            node,
            net: Some(net),
        }
    }

    /// The node probes are sent from.
    pub fn node(&self) -> &'a Node {
        self.node
    }

    /// The network, if known.
    pub fn net(&self) -> Option<&'a Net> {
        self.net
    }

    /// The name of the node holding `ip`, if the network knows it.
    fn name_of(&self, ip: IpAddr) -> Option<String> {
        self.node.directory().name_of(ip).map(str::to_string)
    }

    /// Parses `dst`; with the network known, a node name is accepted (the
    /// address that stands for it: see the [module documentation](self)).
    /// `Err` with the text and, for a node with no address of its own, why
    /// it stands for none.
    fn resolve(&self, dst: impl IntoIp) -> Result<IpAddr, (String, Option<crate::Error>)> {
        match dst.into_ip() {
            Ok(ip) => Ok(ip),
            Err(text) => match self.net.and_then(|net| net.node(&text).ok()) {
                Some(n) => match n.directory().destination_of(n.name()) {
                    Some(Ok(ip)) => Ok(ip),
                    Some(Err(e)) => Err((text, Some(e))),
                    None => Err((text, None)),
                },
                None => Err((text, None)),
            },
        }
    }

    /// The failure of an assertion whose destination `text` stands for no
    /// address: not an address nor a node, or (`why`) a node with no
    /// address of its own.
    fn unresolved(
        &self,
        kind: AssertKind,
        text: String,
        why: Option<crate::Error>,
    ) -> AssertFailure {
        let (reason, probe) = match why {
            Some(e) => ("a node with no address of its own", e.to_string()),
            None => (
                "not an IP address or a node name",
                format!(
                    "`{text}` is not an IP address{}",
                    if self.net.is_some() {
                        " nor a node of the network"
                    } else {
                        " (node names need the `net[\"node\"]` form)"
                    }
                ),
            ),
        };
        let mut f = AssertFailure::new(
            kind,
            self.node.name(),
            text,
            reason,
            ProbeResult::Error(probe),
        );
        self.evidence(&mut f, &[self.node.name().to_string()]);
        f
    }

    /// The reports of `names` (deduplicated, in order); only the source's
    /// without the network.
    fn reports(&self, names: &[String]) -> Vec<Result<NodeReport, String>> {
        let mut out = Vec::new();
        for name in distinct(names) {
            match self.lookup(name) {
                Some(n) => out.push(n.report().map_err(|e| format!("node {name}: {e}"))),
                None if self.net.is_some() => {
                    out.push(Err(format!("node {name}: no such node in the network")))
                }
                None => out.push(Err(format!(
                    "node {name}: not reported (the assertion was given a bare node; \
                     use the `net[\"{}\"]` form to see every node involved)",
                    self.node.name()
                ))),
            }
        }
        out
    }
}

impl Source<'_> {
    /// Fills the evidence of a failure about the nodes `names`: their
    /// reports, the active faults, and, with capture on, their last
    /// packets.
    fn evidence(&self, f: &mut AssertFailure, names: &[String]) {
        f.reports = self.reports(names);
        f.faults = self.faults();
        let (ifaces, lines) = crate::capture::recent_lines(self.node, names, PACKETS_SHOWN);
        f.packet_interfaces = ifaces;
        f.packets = lines;
        f.netfilter = self.netfilter(names);
        f.wires = self.net.map(Net::wire_report).unwrap_or_default();
    }

    /// The netfilter state of each of `names` that has a table or a
    /// tracked connection, and of every node of the network that declares
    /// a NAT or a firewall (the usual suspects, on the path or not).
    fn netfilter(&self, names: &[String]) -> Vec<NetfilterReport> {
        let mut out = Vec::new();
        let declared = self
            .net
            .into_iter()
            .flat_map(|n| n.nodes())
            .filter(|n| !n.netfilter_config().is_empty())
            .map(|n| n.name().to_string());
        let names: Vec<String> = names.iter().cloned().chain(declared).collect();
        for name in distinct(&names) {
            if let Some(Ok(r)) = self.lookup(name).map(Node::netfilter_report) {
                if !r.is_empty() {
                    out.push(r);
                }
            }
        }
        out
    }

    /// The node called `name`: the source's own, or one of the network's.
    fn lookup(&self, name: &str) -> Option<&Node> {
        if name == self.node.name() {
            Some(self.node)
        } else {
            self.net.and_then(|n| n.node(name).ok())
        }
    }

    /// The network's active faults, as lines, when the network is known.
    fn faults(&self) -> Vec<String> {
        self.net
            .map(|n| n.active_faults().iter().map(ToString::to_string).collect())
            .unwrap_or_default()
    }
}

/// `names` without repeats, in order of first appearance.
fn distinct(names: &[String]) -> impl Iterator<Item = &str> {
    let mut seen = std::collections::HashSet::new();
    names
        .iter()
        .map(String::as_str)
        .filter(move |n| seen.insert(*n))
}

impl<'a> From<&'a Node> for Source<'a> {
    fn from(node: &'a Node) -> Self {
        Source { node, net: None }
    }
}

/// Which assertion failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssertKind {
    /// [`assert_reachable!`](crate::assert_reachable) / [`reachable`].
    Reachable,
    /// [`assert_unreachable!`](crate::assert_unreachable) / [`unreachable()`].
    Unreachable,
    /// [`assert_path!`](crate::assert_path) / [`path`].
    Path,
}

impl AssertKind {
    /// The macro's name, `assert_reachable!`.
    pub fn macro_name(self) -> &'static str {
        match self {
            AssertKind::Reachable => "assert_reachable!",
            AssertKind::Unreachable => "assert_unreachable!",
            AssertKind::Path => "assert_path!",
        }
    }
}

/// What a failed assertion's probe saw.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProbeResult {
    /// The ping's report.
    Ping(PingReport),
    /// The traceroute's report (hops named after nodes).
    Trace(TraceReport),
    /// The probe could not run (a bad address, a socket error, ...).
    Error(String),
}

impl fmt::Display for ProbeResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeResult::Ping(r) => write!(f, "{r}"),
            ProbeResult::Trace(r) => write!(f, "{r}"),
            ProbeResult::Error(e) => write!(f, "the probe could not run: {e}"),
        }
    }
}

/// A failed assertion: what was expected, what the probe saw, and the state
/// of every node involved. `Display` is the panic message of the macros.
///
/// ```
/// use netns_test::assert::{AssertFailure, AssertKind, ProbeResult};
/// let f = AssertFailure::new(AssertKind::Reachable, "h1", "203.0.113.1", "no reply",
///     ProbeResult::Error("example".into()));
/// assert!(f.to_string().starts_with("assert_reachable! failed: h1 => 203.0.113.1: no reply"));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AssertFailure {
    /// Which assertion.
    pub kind: AssertKind,
    /// The source node's name.
    pub source: String,
    /// The destination as given (an address, or a node name).
    pub destination: String,
    /// The node holding the destination address, if known and no other
    /// node holds it too.
    pub destination_node: Option<String>,
    /// Why it failed, in one line.
    pub reason: String,
    /// Extra lines (the expected/actual diff of a path).
    pub details: Vec<String>,
    /// The probe's result.
    pub probe: ProbeResult,
    /// The report of each node involved (or why it could not be had).
    pub reports: Vec<Result<NodeReport, String>>,
    /// The custom message given to the macro.
    pub message: Option<String>,
    /// The faults active on the network when the assertion failed (link
    /// downs, flaps, partitions), with what each did so far; empty when the
    /// assertion did not know the network.
    pub faults: Vec<String>,
    /// With capture on: the captured interfaces of the nodes involved,
    /// `node/iface`.
    pub packet_interfaces: Vec<String>,
    /// With capture on: the last [`PACKETS_SHOWN`] packets of those
    /// interfaces, one tcpdump-style line each; empty when capture is off.
    pub packets: Vec<String>,
    /// The nftables ruleset (with counters) and connection tracking
    /// entries (NAT mappings among them) of each node involved that has
    /// any.
    pub netfilter: Vec<NetfilterReport>,
    /// The network's wires, when it has any: first the seed their models
    /// drew from, then each direction's model and counters.
    pub wires: Vec<String>,
}

impl AssertFailure {
    /// A failure without details or reports (the assertion functions fill those).
    pub fn new(
        kind: AssertKind,
        source: impl Into<String>,
        destination: impl Into<String>,
        reason: impl Into<String>,
        probe: ProbeResult,
    ) -> Self {
        AssertFailure {
            kind,
            source: source.into(),
            destination: destination.into(),
            destination_node: None,
            reason: reason.into(),
            details: Vec::new(),
            probe,
            reports: Vec::new(),
            message: None,
            faults: Vec::new(),
            packet_interfaces: Vec::new(),
            packets: Vec::new(),
            netfilter: Vec::new(),
            wires: Vec::new(),
        }
    }

    /// Adds the user's message (the macros' optional format arguments).
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

impl fmt::Display for AssertFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed: {} => {}",
            self.kind.macro_name(),
            self.source,
            self.destination
        )?;
        if let Some(n) = &self.destination_node {
            if *n != self.destination {
                write!(f, " (node {n})")?;
            }
        }
        if !self.reason.is_empty() {
            write!(f, ": {}", self.reason)?;
        }
        writeln!(f)?;
        if let Some(m) = &self.message {
            for line in m.lines() {
                writeln!(f, "  {line}")?;
            }
        }
        for line in &self.details {
            writeln!(f, "  {line}")?;
        }
        writeln!(f, "probe from {}:", self.source)?;
        for line in self.probe.to_string().lines() {
            if line.is_empty() {
                writeln!(f)?;
            } else {
                writeln!(f, "  {line}")?;
            }
        }
        if !self.faults.is_empty() {
            writeln!(f, "active faults:")?;
            for fault in &self.faults {
                writeln!(f, "  {fault}")?;
            }
        }
        if let Some((seed, wires)) = self.wires.split_first() {
            writeln!(f, "{seed}")?;
            for w in wires {
                writeln!(f, "  {w}")?;
            }
        }
        if !self.packet_interfaces.is_empty() {
            writeln!(
                f,
                "last {} packets on {} (capture):",
                self.packets.len(),
                self.packet_interfaces.join(", ")
            )?;
            for line in &self.packets {
                writeln!(f, "  {line}")?;
            }
        }
        for r in &self.reports {
            match r {
                Ok(report) => write!(f, "{report}")?,
                Err(e) => writeln!(f, "{e}")?,
            }
        }
        for n in &self.netfilter {
            write!(f, "{n}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AssertFailure {}

#[cfg(test)]
mod tests;

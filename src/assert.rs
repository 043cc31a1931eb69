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
//! assert_reachable!(net["h1"] => "h2", "h2 by name: its first address");
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
//! [`NodeReport`] (`ip address`, `ip route`, `ip neigh`): the source, the
//! destination's node if the network knows the address, and for a path every
//! node expected or met on the way. The other nodes are only reachable when
//! the assertion knows the network: the `net["h1"]` form of the macros, or a
//! [`Source::with_net`]; a bare node reports only itself.
//!
//! # Destinations
//!
//! A destination is an IP address (text or `IpAddr`), never looked up in
//! DNS. When the network is known, a node name is accepted too and means
//! that node's first IPv4 address, else its first IPv6 address (topology
//! order).

// A failure carries the whole evidence (reports of several nodes); it is
// made once, when a test is about to fail, so its size does not matter.
#![allow(clippy::result_large_err)]

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use crate::inspect::NodeReport;
use crate::node_probe::IntoIp;
use crate::probe::{PingOptions, PingReport, TraceOptions, TraceReport};
use crate::{Net, Node};

mod matrix;

pub use matrix::{Cell, CellState, Connectivity, Family, Matrix, MatrixFailure};

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

    /// Parses `dst`; with the network known, a node name is accepted.
    fn resolve(&self, dst: impl IntoIp) -> Result<IpAddr, String> {
        match dst.into_ip() {
            Ok(ip) => Ok(ip),
            Err(text) => self
                .net
                .and_then(|net| net.node(&text).ok())
                .and_then(|n| n.ip(false).or_else(|| n.ip(true)))
                .ok_or(text),
        }
    }

    /// The reports of `names` (deduplicated, in order); only the source's
    /// without the network.
    fn reports(&self, names: &[String]) -> Vec<Result<NodeReport, String>> {
        let mut seen: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for name in names {
            if seen.contains(&name.as_str()) {
                continue;
            }
            seen.push(name);
            let node = if name == self.node.name() {
                Some(self.node)
            } else {
                self.net.and_then(|n| n.node(name).ok())
            };
            match node {
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
            ProbeResult::Ping(r) => write!(f, "{r:#}"),
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
    /// The node holding the destination address, if known.
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
        for r in &self.reports {
            match r {
                Ok(report) => write!(f, "{report}")?,
                Err(e) => writeln!(f, "{e}")?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for AssertFailure {}

/// The ping an assertion sends unless told otherwise: 3 requests 10 ms
/// apart, each waiting up to 1 s for its reply.
///
/// ```
/// assert_eq!(netns_test::assert::default_ping().get_count(), 3);
/// ```
pub fn default_ping() -> PingOptions {
    PingOptions::new()
        .count(3)
        .interval(Duration::from_millis(10))
        .timeout(Duration::from_secs(1))
}

/// The traceroute [`path`] runs unless told otherwise: ICMP probes, 3 per
/// hop, up to 30 hops, 1 s of waiting per probe.
///
/// ```
/// assert_eq!(netns_test::assert::default_trace().get_probes_per_hop(), 3);
/// ```
pub fn default_trace() -> TraceOptions {
    TraceOptions::new().timeout(Duration::from_secs(1))
}

/// Runs the ping, or builds the failure for a probe that could not run.
fn run_ping(
    kind: AssertKind,
    src: &Source<'_>,
    dst: impl IntoIp,
    opts: &PingOptions,
) -> Result<(IpAddr, PingReport), AssertFailure> {
    let dst = src.resolve(dst).map_err(|text| {
        let mut f = AssertFailure::new(
            kind,
            src.node.name(),
            text.clone(),
            "not an IP address or a node name",
            ProbeResult::Error(format!(
                "`{text}` is not an IP address{}",
                if src.net.is_some() {
                    " nor a node of the network"
                } else {
                    " (node names need the `net[\"node\"]` form)"
                }
            )),
        );
        f.reports = src.reports(&[src.node.name().to_string()]);
        f
    })?;
    match src.node.ping(dst).options(opts.clone()).run() {
        Ok(r) => Ok((dst, r)),
        Err(e) => {
            let mut f = AssertFailure::new(
                kind,
                src.node.name(),
                dst.to_string(),
                "the ping could not run",
                ProbeResult::Error(e.to_string()),
            );
            f.destination_node = src.name_of(dst);
            f.reports = src.reports(&involved(src, f.destination_node.as_deref()));
            Err(f)
        }
    }
}

fn involved(src: &Source<'_>, dst_node: Option<&str>) -> Vec<String> {
    let mut v = vec![src.node.name().to_string()];
    v.extend(dst_node.map(str::to_string));
    v
}

/// One line on what a ping saw: `0 of 3 echo requests answered; first
/// error: From 198.51.100.254 icmp_seq=1 Destination Net Unreachable`.
fn ping_summary(r: &PingReport) -> String {
    let mut s = format!("{} of {} echo requests answered", r.received, r.transmitted);
    if let Some(line) = r
        .to_string()
        .lines()
        .find(|l| l.starts_with("From ") || l.starts_with("ping: "))
    {
        s.push_str(&format!("; first error: {line}"));
    } else if r.received == 0 {
        s.push_str(", no ICMP error came back");
    }
    s
}

/// Pings `dst` from `src` with [`default_ping`] and succeeds if at least one
/// reply came back.
///
/// `src` is a node (`&net["h1"]`) or a [`Source::with_net`]. On failure the
/// error holds the ping report and the reports of the source and the
/// destination's node (see the [module documentation](self)).
///
/// ```
/// use netns_test::{assert, Net, Topology};
/// let net = Net::build(&Topology::new().link(("a", "e0", "198.51.100.1/24"), ("b", "e0", "198.51.100.2/24")))?;
/// let report = assert::reachable(&net["a"], "198.51.100.2").unwrap();
/// assert!(report.received >= 1);
/// let failure = assert::reachable(&net["a"], "198.51.100.3").unwrap_err();
/// assert!(failure.to_string().contains("0 of 3 echo requests answered"));
/// # Ok::<(), netns_test::Error>(())
/// ```
pub fn reachable<'a>(
    src: impl Into<Source<'a>>,
    dst: impl IntoIp,
) -> Result<PingReport, AssertFailure> {
    reachable_with(src, dst, &default_ping())
}

/// [`reachable`] with your own ping options.
///
/// ```
/// use std::time::Duration;
/// use netns_test::{assert, probe::PingOptions, Net, Topology};
/// let net = Net::build(&Topology::new().link(("a", "e0", "2001:db8::1/64"), ("b", "e0", "2001:db8::2/64")))?;
/// let opts = PingOptions::new().count(5).interval(Duration::from_millis(5));
/// let report = assert::reachable_with(&net["a"], "2001:db8::2", &opts).unwrap();
/// assert_eq!(report.transmitted, 5);
/// # Ok::<(), netns_test::Error>(())
/// ```
pub fn reachable_with<'a>(
    src: impl Into<Source<'a>>,
    dst: impl IntoIp,
    opts: &PingOptions,
) -> Result<PingReport, AssertFailure> {
    let src = src.into();
    let (ip, report) = run_ping(AssertKind::Reachable, &src, dst, opts)?;
    if report.is_reachable() {
        return Ok(report);
    }
    let mut f = AssertFailure::new(
        AssertKind::Reachable,
        src.node.name(),
        ip.to_string(),
        ping_summary(&report),
        ProbeResult::Ping(report),
    );
    f.destination_node = src.name_of(ip);
    f.reports = src.reports(&involved(&src, f.destination_node.as_deref()));
    Err(f)
}

/// Pings `dst` from `src` with [`default_ping`] and succeeds if no reply
/// came back; the report (with any ICMP error received) is returned.
///
/// ```
/// use netns_test::{assert, Net, Topology};
/// let net = Net::build(&Topology::new().link(("a", "e0", "198.51.100.1/24"), ("b", "e0", "198.51.100.2/24")))?;
/// // No route to 203.0.113.0/24 in `a`: the send fails, nothing leaves.
/// let report = assert::unreachable(&net["a"], "203.0.113.1").unwrap();
/// assert_eq!(report.received, 0);
/// assert!(assert::unreachable(&net["a"], "198.51.100.2").is_err());
/// # Ok::<(), netns_test::Error>(())
/// ```
pub fn unreachable<'a>(
    src: impl Into<Source<'a>>,
    dst: impl IntoIp,
) -> Result<PingReport, AssertFailure> {
    unreachable_with(src, dst, &default_ping())
}

/// [`unreachable()`] with your own ping options (a shorter timeout makes the
/// check faster: silence is only known after it).
///
/// ```
/// use std::time::Duration;
/// use netns_test::{assert, probe::PingOptions, Net, Topology};
/// let net = Net::build(&Topology::new().link(("a", "e0", "198.51.100.1/24"), ("b", "e0", "198.51.100.2/24")))?;
/// let quick = PingOptions::new().count(1).timeout(Duration::from_millis(200));
/// // On the subnet but nobody holds it: ARP fails, no reply.
/// assert::unreachable_with(&net["a"], "198.51.100.9", &quick).unwrap();
/// # Ok::<(), netns_test::Error>(())
/// ```
pub fn unreachable_with<'a>(
    src: impl Into<Source<'a>>,
    dst: impl IntoIp,
    opts: &PingOptions,
) -> Result<PingReport, AssertFailure> {
    let src = src.into();
    let (ip, report) = run_ping(AssertKind::Unreachable, &src, dst, opts)?;
    if !report.is_reachable() {
        return Ok(report);
    }
    let from: Vec<String> = {
        let mut v: Vec<String> = Vec::new();
        for r in &report.replies {
            let s = r.from.to_string();
            if !v.contains(&s) {
                v.push(s);
            }
        }
        v
    };
    let mut f = AssertFailure::new(
        AssertKind::Unreachable,
        src.node.name(),
        ip.to_string(),
        format!(
            "{} of {} echo requests answered (by {}), expected none",
            report.received,
            report.transmitted,
            from.join(", ")
        ),
        ProbeResult::Ping(report),
    );
    f.destination_node = src.name_of(ip);
    f.reports = src.reports(&involved(&src, f.destination_node.as_deref()));
    Err(f)
}

/// Traces the route from `src` to `dst` and checks that the hops are the
/// nodes `via`, in order, followed by the destination's node.
///
/// Hops are compared by node name (each responder's address mapped through
/// the network's address directory); an entry of `via` that is an IP address
/// is compared with the responder's address instead. The destination's node
/// is implied (if `via` already ends with it, it is not added twice); an
/// address no node holds is expected as itself. The trace must reach the
/// destination. On failure the error shows expected against actual and
/// every differing hop:
///
/// ```text
/// assert_path! failed: h1 => 203.0.113.1 (node h2): the path differs
///   expected: h1 -> r1 -> r2 -> h2
///   actual:   h1 -> r1 -> r3 -> h2
///             (hop 2: expected r2, got r3 (198.51.100.10))
/// ```
///
/// followed by the traceroute and the report of every node named on either
/// line.
///
/// ```
/// use netns_test::{assert, Net, Route, Topology};
/// let net = Net::build(
///     &Topology::new()
///         .link(("h1", "eth0", "198.51.100.1/24"), ("r1", "eth0", "198.51.100.254/24"))
///         .link(("r1", "eth1", "203.0.113.254/24"), ("h2", "eth0", "203.0.113.1/24"))
///         .forwarding("r1")
///         .route("h1", Route::default_via("198.51.100.254"))
///         .route("h2", Route::default_via("203.0.113.254")),
/// )?;
/// let src = assert::Source::with_net(&net, &net["h1"]);
/// let trace = assert::path(src, "203.0.113.1", &["r1"]).unwrap();
/// assert_eq!(trace.names(), [Some("r1"), Some("h2")]);
/// let wrong = assert::path(src, "203.0.113.1", &["r9"]).unwrap_err();
/// assert!(wrong.to_string().contains("hop 1: expected r9, got r1 (198.51.100.254)"));
/// # Ok::<(), netns_test::Error>(())
/// ```
pub fn path<'a, S: AsRef<str>>(
    src: impl Into<Source<'a>>,
    dst: impl IntoIp,
    via: &[S],
) -> Result<TraceReport, AssertFailure> {
    path_with(src, dst, via, &default_trace())
}

/// [`path`] with your own traceroute options.
///
/// ```
/// use netns_test::{assert, Net, Topology};
/// let net = Net::build(&Topology::new().link(("a", "e0", "198.51.100.1/24"), ("b", "e0", "198.51.100.2/24")))?;
/// let opts = assert::default_trace().probes_per_hop(1).max_hops(4);
/// assert::path_with(&net["a"], "198.51.100.2", &[] as &[&str], &opts).unwrap();
/// # Ok::<(), netns_test::Error>(())
/// ```
pub fn path_with<'a, S: AsRef<str>>(
    src: impl Into<Source<'a>>,
    dst: impl IntoIp,
    via: &[S],
    opts: &TraceOptions,
) -> Result<TraceReport, AssertFailure> {
    let src = src.into();
    let via: Vec<String> = via.iter().map(|s| s.as_ref().to_string()).collect();
    let ip = src.resolve(dst).map_err(|text| {
        let mut f = AssertFailure::new(
            AssertKind::Path,
            src.node.name(),
            text.clone(),
            "not an IP address or a node name",
            ProbeResult::Error(format!("`{text}` is not an IP address")),
        );
        f.reports = src.reports(&[src.node.name().to_string()]);
        f
    })?;
    let dst_node = src.name_of(ip);
    let last = dst_node.clone().unwrap_or_else(|| ip.to_string());
    let mut expected = via;
    if expected.last() != Some(&last) {
        expected.push(last);
    }
    let trace = match src.node.traceroute(ip).options(opts.clone()).run() {
        Ok(t) => t,
        Err(e) => {
            let mut f = AssertFailure::new(
                AssertKind::Path,
                src.node.name(),
                ip.to_string(),
                "the traceroute could not run",
                ProbeResult::Error(e.to_string()),
            );
            f.destination_node = dst_node.clone();
            let mut names = involved(&src, None);
            names.extend(
                expected
                    .iter()
                    .filter(|e| e.parse::<IpAddr>().is_err())
                    .cloned(),
            );
            f.reports = src.reports(&names);
            return Err(f);
        }
    };
    let Some((reason, details, met)) = judge_path(src.node.name(), &expected, &trace) else {
        return Ok(trace);
    };
    let mut names = vec![src.node.name().to_string()];
    names.extend(
        expected
            .iter()
            .filter(|e| e.parse::<IpAddr>().is_err())
            .cloned(),
    );
    names.extend(met);
    let mut f = AssertFailure::new(
        AssertKind::Path,
        src.node.name(),
        ip.to_string(),
        reason,
        ProbeResult::Trace(trace),
    );
    f.destination_node = dst_node;
    f.details = details;
    f.reports = src.reports(&names);
    Err(f)
}

/// Compares a trace with the expected hops: `None` if it matches and
/// reached the destination, else the reason, the diff lines and the names of
/// the nodes met on the way.
fn judge_path(
    src: &str,
    expected: &[String],
    trace: &TraceReport,
) -> Option<(String, Vec<String>, Vec<String>)> {
    let diff = path_diff(expected, trace);
    if diff.is_empty() && trace.reached() {
        return None;
    }
    let actual = actual_hops(trace);
    let mut details = vec![
        format!("expected: {}", chain(src, expected)),
        format!(
            "actual:   {}",
            chain(
                src,
                &actual.iter().map(|h| h.label.clone()).collect::<Vec<_>>()
            )
        ),
    ];
    let reason = if diff.is_empty() {
        // The same hops, but the destination never answered.
        details.push("          (the destination did not answer)".to_string());
        "the destination was not reached"
    } else {
        details.extend(diff.iter().map(|d| format!("          ({d})")));
        if trace.reached() {
            "the path differs"
        } else {
            "the path differs and the destination was not reached"
        }
    };
    let met = actual.into_iter().filter_map(|h| h.node).collect();
    Some((reason.to_string(), details, met))
}

/// One hop as the diff shows it.
struct ActualHop {
    /// The node name, the address, or `*`.
    label: String,
    /// The node name if resolved.
    node: Option<String>,
    /// `r3 (198.51.100.10)`, `198.51.100.10`, `* (no answer)`.
    long: String,
    /// Every responder address of the hop, and names.
    addrs: Vec<IpAddr>,
    names: Vec<String>,
}

fn actual_hops(trace: &TraceReport) -> Vec<ActualHop> {
    trace
        .hops
        .iter()
        .map(|h| {
            let names: Vec<String> = h
                .probes
                .iter()
                .filter_map(|p| p.as_reply())
                .filter_map(|r| r.name.clone())
                .collect();
            match (h.responder(), h.name()) {
                (Some(ip), Some(n)) => ActualHop {
                    label: n.to_string(),
                    node: Some(n.to_string()),
                    long: format!("{n} ({ip})"),
                    addrs: h.responders(),
                    names,
                },
                (Some(ip), None) => ActualHop {
                    label: ip.to_string(),
                    node: None,
                    long: ip.to_string(),
                    addrs: h.responders(),
                    names,
                },
                (None, _) => ActualHop {
                    label: "*".into(),
                    node: None,
                    long: "* (no answer)".into(),
                    addrs: Vec::new(),
                    names,
                },
            }
        })
        .collect()
}

fn chain(src: &str, hops: &[String]) -> String {
    std::iter::once(src.to_string())
        .chain(hops.iter().cloned())
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// The differing hops, one line each; empty when the path matches.
fn path_diff(expected: &[String], trace: &TraceReport) -> Vec<String> {
    let actual = actual_hops(trace);
    let mut out = Vec::new();
    for i in 0..expected.len().max(actual.len()) {
        let n = i + 1;
        match (expected.get(i), actual.get(i)) {
            (Some(e), Some(a)) => {
                let hit = match e.parse::<IpAddr>() {
                    Ok(ip) => a.addrs.contains(&ip),
                    Err(_) => a.names.iter().any(|x| x == e),
                };
                if !hit {
                    out.push(format!("hop {n}: expected {e}, got {}", a.long));
                }
            }
            (Some(e), None) => out.push(format!(
                "hop {n}: expected {e}, got nothing (the trace ended after {} hops)",
                actual.len()
            )),
            (None, Some(a)) => out.push(format!("hop {n}: unexpected {}", a.long)),
            (None, None) => {}
        }
    }
    out
}

/// What the macros call: the value on success, a panic with the failure's
/// `Display` otherwise. Not a public API.
#[doc(hidden)]
#[track_caller]
pub fn __finish<T>(result: Result<T, AssertFailure>, message: Option<String>) -> T {
    match result {
        Ok(v) => v,
        Err(f) => {
            let f = match message {
                Some(m) => f.with_message(m),
                None => f,
            };
            panic!("{f}")
        }
    }
}

/// Asserts that a node gets at least one echo reply from a destination.
///
/// ```text
/// assert_reachable!(net["h1"] => "203.0.113.1");
/// assert_reachable!(net["h1"] => "h2");                    // a node name: its first address
/// assert_reachable!(net["h1"] => ip, "after {} s", secs); // an IpAddr, and a message
/// assert_reachable!(node => "203.0.113.1");               // any &Node / Node expression
/// ```
///
/// The `net["name"]` form (where `net` is a [`Net`](crate::Net), a `&Net`,
/// or a path like `self.net` to one) lets the failure message report the
/// destination's node too. Sends [`assert::default_ping`](crate::assert::default_ping);
/// evaluates to the [`PingReport`](crate::probe::PingReport). On failure it
/// panics with an [`AssertFailure`](crate::assert::AssertFailure): the ping
/// report, then each involved node's addresses, routes and neighbours.
///
/// ```
/// use netns_test::{assert_reachable, Net, Topology};
/// let net = Net::build(&Topology::new().link(("n1", "e0", "198.51.100.1/24"), ("n2", "e0", "198.51.100.2/24")))?;
/// let report = assert_reachable!(net["n1"] => "198.51.100.2");
/// assert_eq!(report.received, 3);
/// let n2 = &net["n2"];
/// assert_reachable!(n2 => std::net::Ipv4Addr::new(198, 51, 100, 1), "n2 sees n1");
/// # Ok::<(), netns_test::Error>(())
/// ```
#[macro_export]
macro_rules! assert_reachable {
    ($($net:ident).+ [ $src:expr ] => $dst:expr $(,)?) => {
        $crate::assert::__finish($crate::assert::reachable($crate::__assert_source!($($net).+ [$src]), $dst), ::core::option::Option::None)
    };
    ($($net:ident).+ [ $src:expr ] => $dst:expr, $($arg:tt)+) => {
        $crate::assert::__finish($crate::assert::reachable($crate::__assert_source!($($net).+ [$src]), $dst), ::core::option::Option::Some(::std::format!($($arg)+)))
    };
    ($node:expr => $dst:expr $(,)?) => {
        $crate::assert::__finish($crate::assert::reachable($crate::__assert_node!($node), $dst), ::core::option::Option::None)
    };
    ($node:expr => $dst:expr, $($arg:tt)+) => {
        $crate::assert::__finish($crate::assert::reachable($crate::__assert_node!($node), $dst), ::core::option::Option::Some(::std::format!($($arg)+)))
    };
}

/// Asserts that a node gets no echo reply from a destination.
///
/// The same forms as [`assert_reachable!`](crate::assert_reachable).
/// Silence is only known after the ping's timeout (1 s with
/// [`assert::default_ping`](crate::assert::default_ping)), unless an ICMP
/// error or a failed send ends it sooner. Evaluates to the
/// [`PingReport`](crate::probe::PingReport), whose `errors` tell how the
/// packets were refused.
///
/// ```
/// use netns_test::{assert_unreachable, Net, Topology};
/// let net = Net::build(&Topology::new().link(("n1", "e0", "198.51.100.1/24"), ("n2", "e0", "198.51.100.2/24")))?;
/// let report = assert_unreachable!(net["n1"] => "203.0.113.1", "n1 has no route there");
/// assert_eq!(report.errors.len(), 3); // three failed sends: Network is unreachable
/// # Ok::<(), netns_test::Error>(())
/// ```
#[macro_export]
macro_rules! assert_unreachable {
    ($($net:ident).+ [ $src:expr ] => $dst:expr $(,)?) => {
        $crate::assert::__finish($crate::assert::unreachable($crate::__assert_source!($($net).+ [$src]), $dst), ::core::option::Option::None)
    };
    ($($net:ident).+ [ $src:expr ] => $dst:expr, $($arg:tt)+) => {
        $crate::assert::__finish($crate::assert::unreachable($crate::__assert_source!($($net).+ [$src]), $dst), ::core::option::Option::Some(::std::format!($($arg)+)))
    };
    ($node:expr => $dst:expr $(,)?) => {
        $crate::assert::__finish($crate::assert::unreachable($crate::__assert_node!($node), $dst), ::core::option::Option::None)
    };
    ($node:expr => $dst:expr, $($arg:tt)+) => {
        $crate::assert::__finish($crate::assert::unreachable($crate::__assert_node!($node), $dst), ::core::option::Option::Some(::std::format!($($arg)+)))
    };
}

/// Asserts the route a node's packets take to a destination, hop by hop,
/// by node name.
///
/// ```text
/// assert_path!(net["h1"] => "203.0.113.1", via ["r1", "r2"]);
/// assert_path!(net["h1"] => "203.0.113.1", via ["r1", "r2"], "after {}", what);
/// assert_path!(net["h1"] => "198.51.100.2", via []);      // directly connected
/// assert_path!(net["h1"] => "h2", via [name_of_r1]);      // any AsRef<str>
/// ```
///
/// The destination's node is implied as the last hop. See
/// [`assert::path`](crate::assert::path) for the rules and the failure
/// message (expected vs actual, each differing hop, the traceroute, and every
/// node's report). Evaluates to the
/// [`TraceReport`](crate::probe::TraceReport).
///
/// ```
/// use netns_test::{assert_path, Net, Route, Topology};
/// let net = Net::build(
///     &Topology::new()
///         .link(("h1", "eth0", "2001:db8:1::1/64"), ("r1", "eth0", "2001:db8:1::fe/64"))
///         .link(("r1", "eth1", "2001:db8:2::fe/64"), ("h2", "eth0", "2001:db8:2::1/64"))
///         .forwarding("r1")
///         .route("h1", Route::default_via("2001:db8:1::fe"))
///         .route("h2", Route::default_via("2001:db8:2::fe")),
/// )?;
/// let trace = assert_path!(net["h1"] => "2001:db8:2::1", via ["r1"]);
/// assert_eq!(trace.hops.len(), 2);
/// # Ok::<(), netns_test::Error>(())
/// ```
#[macro_export]
macro_rules! assert_path {
    ($($net:ident).+ [ $src:expr ] => $dst:expr, via [ $($hop:expr),* $(,)? ] $(,)?) => {
        $crate::assert::__finish($crate::assert::path($crate::__assert_source!($($net).+ [$src]), $dst, &[$(::core::convert::AsRef::<str>::as_ref(&$hop)),*] as &[&str]), ::core::option::Option::None)
    };
    ($($net:ident).+ [ $src:expr ] => $dst:expr, via [ $($hop:expr),* $(,)? ], $($arg:tt)+) => {
        $crate::assert::__finish($crate::assert::path($crate::__assert_source!($($net).+ [$src]), $dst, &[$(::core::convert::AsRef::<str>::as_ref(&$hop)),*] as &[&str]), ::core::option::Option::Some(::std::format!($($arg)+)))
    };
    ($node:expr => $dst:expr, via [ $($hop:expr),* $(,)? ] $(,)?) => {
        $crate::assert::__finish($crate::assert::path($crate::__assert_node!($node), $dst, &[$(::core::convert::AsRef::<str>::as_ref(&$hop)),*] as &[&str]), ::core::option::Option::None)
    };
    ($node:expr => $dst:expr, via [ $($hop:expr),* $(,)? ], $($arg:tt)+) => {
        $crate::assert::__finish($crate::assert::path($crate::__assert_node!($node), $dst, &[$(::core::convert::AsRef::<str>::as_ref(&$hop)),*] as &[&str]), ::core::option::Option::Some(::std::format!($($arg)+)))
    };
}

/// Asserts that every node reaches every other node (Mininet's `pingall`),
/// except the declared pairs.
///
/// ```text
/// assert_connectivity!(net);
/// assert_connectivity!(net, except [("h1", "h3")]);            // both directions
/// assert_connectivity!(net, except [("h1", "h3")], "after {}", what);
/// ```
///
/// A thin wrapper around [`Net::connectivity`](crate::Net::connectivity)
/// `.except(..).check()`: see there for what is probed. Evaluates to the
/// [`Matrix`](crate::assert::Matrix); on failure it panics with the
/// [`MatrixFailure`](crate::assert::MatrixFailure): the table, each failed
/// cell and the reports of the nodes involved.
///
/// ```
/// use netns_test::{assert_connectivity, Net, Topology};
/// let net = Net::build(&Topology::new().bridge("sw", [
///     ("h1", "eth0", "198.51.100.1/24"),
///     ("h2", "eth0", "198.51.100.2/24"),
///     ("h3", "eth0", "198.51.100.3/24"),
/// ]))?;
/// let m = assert_connectivity!(net);
/// assert!(m.to_string().ends_with("*** Results: 0% dropped (6/6 received)"));
/// # Ok::<(), netns_test::Error>(())
/// ```
#[macro_export]
macro_rules! assert_connectivity {
    ($net:expr $(,)?) => {
        $crate::assert::__finish_matrix($crate::__connectivity!($net;), ::core::option::Option::None)
    };
    ($net:expr, except [ $(($a:expr, $b:expr)),* $(,)? ] $(,)?) => {
        $crate::assert::__finish_matrix($crate::__connectivity!($net; $(($a, $b))*), ::core::option::Option::None)
    };
    ($net:expr, except [ $(($a:expr, $b:expr)),* $(,)? ], $($arg:tt)+) => {
        $crate::assert::__finish_matrix(
            $crate::__connectivity!($net; $(($a, $b))*),
            ::core::option::Option::Some(::std::format!($($arg)+)),
        )
    };
    ($net:expr, $($arg:tt)+) => {
        $crate::assert::__finish_matrix($crate::__connectivity!($net;), ::core::option::Option::Some(::std::format!($($arg)+)))
    };
}

/// The matrix check of `assert_connectivity!`. Not a public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __connectivity {
    ($net:expr; $(($a:expr, $b:expr))*) => {{
        let __net: &$crate::Net = &$net;
        __net.connectivity()$(.except($a, $b))*.check()
    }};
}

/// What the matrix macro calls. Not a public API.
#[doc(hidden)]
#[track_caller]
pub fn __finish_matrix(result: Result<Matrix, MatrixFailure>, message: Option<String>) -> Matrix {
    match result {
        Ok(m) => m,
        Err(f) => match message {
            Some(m) => panic!("assert_connectivity! failed: {m}\n{f}"),
            None => panic!("assert_connectivity! failed\n{f}"),
        },
    }
}

/// A `Node`, `&Node` or `&&Node` expression as a `&Node`. Not a public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __assert_node {
    ($node:expr) => {{
        let __node: &$crate::Node = &$node;
        __node
    }};
}

/// `net["h1"]` as a [`Source`] of that network. Not a public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __assert_source {
    ($($net:ident).+ [ $src:expr ]) => {{
        let __net: &$crate::Net = &$($net).+;
        $crate::assert::Source::with_net(__net, &__net[$src])
    }};
}

#[cfg(test)]
mod tests;

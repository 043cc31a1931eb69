//! Paths: `assert_path!`, a traceroute judged hop by hop.

use std::net::IpAddr;
use std::time::Duration;

use super::reach::involved;
use super::{AssertFailure, AssertKind, ProbeResult, Source};
use crate::probe::{HopKind, IcmpErrorKind, TraceOptions, TraceReport};
use crate::vocab::IntoIp;

/// The traceroute [`path`] runs unless told otherwise: ICMP probes, 3 per
/// hop, up to 30 hops, 1 s of waiting per probe.
///
/// ```
/// assert_eq!(netns_test::assert::default_trace().probes_per_hop, 3);
/// ```
pub fn default_trace() -> TraceOptions {
    TraceOptions::new().timeout(Duration::from_secs(1))
}

/// Traces the route from `src` to `dst` and checks that the hops are the
/// nodes `via`, in order, followed by the destination's node.
///
/// Hops are compared by node name (each responder's address mapped through
/// the network's address directory); an entry of `via` that is an IP address
/// is compared with the responder's address instead.
///
/// A traceroute sends several probes per hop, and each may be answered by a
/// different router (ECMP, per-packet load balancing). A hop matches only if
/// **every** responder seen at it is the expected one: a hop answered by the
/// expected router and by another fails, the failure naming the others
/// (`hop 1: expected only r1, also got r2 (198.51.100.253)`). Probes that got
/// no answer are left out; a hop where no probe got an answer (`*`) matches
/// nothing. The actual path shows a hop with several responders as
/// `r1|r2`.
///
/// The destination's node is implied (if `via` already ends with it, by
/// name or by the destination address, it is not added twice); an address
/// no node holds is expected as itself. The trace must reach the
/// destination. On failure the error shows expected against actual and
/// every differing hop (a hop that answered with an error, such as a
/// router's firewall rejecting the probe, shows that error:
/// `Destination Port Unreachable from r1 (198.51.100.254)`):
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
    let ip = src
        .resolve(dst)
        .map_err(|(text, why)| src.unresolved(AssertKind::Path, text, why))?;
    let dst_node = src.name_of(ip);
    let last = dst_node.clone().unwrap_or_else(|| ip.to_string());
    let mut expected = via;
    let names_dst = |e: &String| *e == last || e.parse::<IpAddr>().is_ok_and(|a| a == ip);
    if !expected.last().is_some_and(names_dst) {
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
            src.evidence(&mut f, &names);
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
    src.evidence(&mut f, &names);
    Err(f)
}

/// Compares a trace with the expected hops: `None` if it matches and
/// reached the destination, else the reason, the diff lines and the names of
/// the nodes met on the way.
pub(super) fn judge_path(
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
        if let Some(last) = actual.last().filter(|h| h.error.is_some()) {
            details.push(format!("          (hop {}: {})", actual.len(), last.long));
        }
        "the destination was not reached"
    } else {
        details.extend(diff.iter().map(|d| format!("          ({d})")));
        if trace.reached() {
            "the path differs"
        } else {
            "the path differs and the destination was not reached"
        }
    };
    let mut met: Vec<String> = Vec::new();
    for name in actual
        .into_iter()
        .flat_map(|h| h.responders)
        .filter_map(|r| r.name)
    {
        if !met.contains(&name) {
            met.push(name);
        }
    }
    Some((reason.to_string(), details, met))
}

/// One hop as the diff shows it.
struct ActualHop {
    /// The node name, the address, or `*`; for a hop answered by several
    /// responders, each of them joined by `|` (`r1|r2`).
    label: String,
    /// `r3 (198.51.100.10)`, `198.51.100.10`, `* (no answer)`; an answer
    /// that ended the trace with an error says so first:
    /// `Destination Port Unreachable from r3 (198.51.100.10)`.
    long: String,
    /// The error a probe of the hop was answered with (not time exceeded,
    /// not the destination's answer), as ping prints it.
    error: Option<String>,
    /// Every distinct responder of the hop, in order.
    responders: Vec<Responder>,
}

/// One responder of a hop.
struct Responder {
    addr: IpAddr,
    /// The node name, if resolved.
    name: Option<String>,
    /// As [`ActualHop::long`] shows it, for this responder alone.
    long: String,
}

impl Responder {
    /// Whether this responder is the expected hop `e`: a node name, or an
    /// address compared with the responder's.
    fn is(&self, e: &str) -> bool {
        match e.parse::<IpAddr>() {
            Ok(ip) => self.addr == ip,
            Err(_) => self.name.as_deref() == Some(e),
        }
    }
}

/// `name (address)`, or the address alone, with the error first if any.
fn describe(addr: IpAddr, name: Option<&str>, error: Option<&str>) -> String {
    let who = match name {
        Some(n) => format!("{n} ({addr})"),
        None => addr.to_string(),
    };
    match error {
        Some(e) => format!("{e} from {who}"),
        None => who,
    }
}

fn error_text(kind: HopKind, is_v6: bool) -> Option<String> {
    match kind {
        HopKind::Unreachable(u) => Some(IcmpErrorKind::Unreachable(u).ping_text(is_v6)),
        HopKind::Error(k) => Some(k.ping_text(is_v6)),
        HopKind::TimeExceeded | HopKind::Reached => None,
    }
}

fn actual_hops(trace: &TraceReport) -> Vec<ActualHop> {
    let is_v6 = trace.destination.is_ipv6();
    trace
        .hops
        .iter()
        .map(|h| {
            let replies: Vec<_> = h.probes.iter().filter_map(|p| p.as_reply()).collect();
            let mut responders: Vec<Responder> = Vec::new();
            for r in &replies {
                if responders.iter().any(|x| x.addr == r.from) {
                    continue;
                }
                let error = replies
                    .iter()
                    .filter(|x| x.from == r.from)
                    .find_map(|x| error_text(x.kind, is_v6));
                responders.push(Responder {
                    addr: r.from,
                    name: r.name.clone(),
                    long: describe(r.from, r.name.as_deref(), error.as_deref()),
                });
            }
            let error = replies.iter().find_map(|r| error_text(r.kind, is_v6));
            let (label, long) = match (h.responder(), h.name()) {
                (Some(ip), name) => {
                    let label = responders
                        .iter()
                        .map(|r| r.name.clone().unwrap_or_else(|| r.addr.to_string()))
                        .collect::<Vec<_>>()
                        .join("|");
                    (label, describe(ip, name, error.as_deref()))
                }
                (None, _) => ("*".into(), "* (no answer)".into()),
            };
            ActualHop {
                label,
                long,
                error,
                responders,
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
                if let Some(d) = hop_diff(n, e, a) {
                    out.push(d);
                }
            }
            (Some(e), None) => out.push(format!(
                "hop {n}: expected {e}, got nothing (the trace ended after {} hops)",
                actual.len()
            )),
            (None, Some(a)) if a.responders.len() > 1 => {
                let all: Vec<&str> = a.responders.iter().map(|r| r.long.as_str()).collect();
                out.push(format!("hop {n}: unexpected {}", all.join(", ")));
            }
            (None, Some(a)) => out.push(format!("hop {n}: unexpected {}", a.long)),
            (None, None) => {}
        }
    }
    out
}

/// Why hop `n` is not the expected `e`, or `None` if it is: every responder
/// seen at the hop must be `e` (a hop load-balanced between `e` and another
/// router is not `e`), and a hop where no probe was answered is not `e`.
fn hop_diff(n: usize, e: &str, a: &ActualHop) -> Option<String> {
    if a.responders.is_empty() {
        return Some(format!("hop {n}: expected {e}, got {}", a.long));
    }
    let unexpected: Vec<&str> = a
        .responders
        .iter()
        .filter(|r| !r.is(e))
        .map(|r| r.long.as_str())
        .collect();
    if unexpected.is_empty() {
        None
    } else if unexpected.len() == a.responders.len() {
        Some(format!(
            "hop {n}: expected {e}, got {}",
            unexpected.join(", ")
        ))
    } else {
        Some(format!(
            "hop {n}: expected only {e}, also got {}",
            unexpected.join(", ")
        ))
    }
}

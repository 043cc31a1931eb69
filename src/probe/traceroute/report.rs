//! The report and its `traceroute -n` style `Display`.

use crate::packet::{IcmpErrorKind, Unreachable};
use crate::probe::sock::{self};
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

/// What answered a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HopKind {
    /// A router on the way: ICMP time exceeded.
    TimeExceeded,
    /// The destination: an echo reply (ICMP mode) or port unreachable (UDP
    /// mode) sent from the destination address itself.
    Reached,
    /// Destination unreachable (`!H`, `!N`, `!X`, ...), including port
    /// unreachable from anyone but the destination (`!`: a firewall's
    /// `reject` on the way): the trace ends here.
    Unreachable(Unreachable),
    /// Another ICMP error about the probe (packet too big, parameter
    /// problem): the trace ends here.
    Error(IcmpErrorKind),
}

/// One probe's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProbeReply {
    /// The responder.
    pub from: IpAddr,
    /// The round-trip time.
    pub rtt: Duration,
    /// What answered.
    pub kind: HopKind,
    /// The responder's name, if [`TraceReport::resolve_names`] found one.
    pub name: Option<String>,
}

/// One probe of a hop.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HopProbe {
    /// No answer within the timeout (`*`).
    Silent,
    /// An answer.
    Reply(ProbeReply),
    /// The probe could not be sent (e.g. `ENETUNREACH`: no route); the trace
    /// ends here.
    SendFailed {
        /// The errno of `sendto`.
        errno: i32,
    },
}

impl HopProbe {
    /// An answered probe, for building reports by hand.
    pub fn reply(from: IpAddr, rtt: Duration, kind: HopKind) -> Self {
        HopProbe::Reply(ProbeReply {
            from,
            rtt,
            kind,
            name: None,
        })
    }

    /// The answer, if any.
    pub fn as_reply(&self) -> Option<&ProbeReply> {
        match self {
            HopProbe::Reply(r) => Some(r),
            _ => None,
        }
    }

    pub(super) fn is_final(&self) -> bool {
        match self {
            HopProbe::Silent => false,
            HopProbe::SendFailed { .. } => true,
            HopProbe::Reply(r) => r.kind != HopKind::TimeExceeded,
        }
    }
}

impl HopKind {
    /// The annotation traceroute prints after the time of such an answer:
    /// empty for time exceeded and for the destination, `!` for port
    /// unreachable from a router, else `!H`, `!N`, `!X`, `!F-mtu`, ...
    pub(crate) fn flag(self, is_v6: bool) -> String {
        match self {
            HopKind::TimeExceeded | HopKind::Reached => String::new(),
            HopKind::Unreachable(Unreachable::Port) => "!".into(),
            HopKind::Unreachable(u) => IcmpErrorKind::Unreachable(u).traceroute_flag(is_v6),
            HopKind::Error(k) => k.traceroute_flag(is_v6),
        }
    }
}

/// The probes sent with one TTL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Hop {
    /// The TTL (hop number, from 1).
    pub ttl: u8,
    /// The probes, in the order sent.
    pub probes: Vec<HopProbe>,
}

impl Hop {
    /// A hop, for building reports by hand.
    pub fn new(ttl: u8, probes: Vec<HopProbe>) -> Self {
        Hop { ttl, probes }
    }

    /// The first responder of the hop, `None` if every probe was silent.
    pub fn responder(&self) -> Option<IpAddr> {
        self.probes
            .iter()
            .find_map(|p| p.as_reply().map(|r| r.from))
    }

    /// The name of the first responder, if resolved.
    pub fn name(&self) -> Option<&str> {
        self.probes
            .iter()
            .find_map(|p| p.as_reply())
            .and_then(|r| r.name.as_deref())
    }

    /// Every distinct responder of the hop, in order.
    pub fn responders(&self) -> Vec<IpAddr> {
        let mut out = Vec::new();
        for r in self.probes.iter().filter_map(HopProbe::as_reply) {
            if !out.contains(&r.from) {
                out.push(r.from);
            }
        }
        out
    }

    /// Whether a probe of this hop reached the destination.
    pub fn reached(&self) -> bool {
        self.probes
            .iter()
            .any(|p| matches!(p, HopProbe::Reply(r) if r.kind == HopKind::Reached))
    }
}

/// The result of a [`traceroute`](crate::probe::traceroute()).
///
/// `Display` prints it as `traceroute -n` does (no trailing newline):
///
/// ```text
/// traceroute to 203.0.113.2 (203.0.113.2), 30 hops max, 60 byte packets
///  1  198.51.100.254  0.051 ms  0.020 ms  0.018 ms
///  2  203.0.113.2  0.035 ms  0.022 ms  0.021 ms
/// ```
///
/// A silent probe prints ` *`; an unreachable answer gets traceroute's
/// annotation after its time (`!H`, `!N`, `!P`, `!X`, `!F-mtu`, `!<code>`,
/// and `!` for port unreachable from a router on the way).
/// A responder with a name (see [`TraceReport::resolve_names`]) prints as
/// traceroute without `-n` does: `name (address)`. A probe that could not be
/// sent prints ` *` followed by ` (sendmsg: <errno text>)`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TraceReport {
    /// The destination.
    pub destination: IpAddr,
    /// The largest TTL that was allowed.
    pub max_hops: u8,
    /// The size of each probe packet, IP header included (60 by default over IPv4).
    pub packet_size: usize,
    /// The hops, from TTL 1 up to the one that reached the destination (or
    /// ended the trace, or `max_hops`).
    pub hops: Vec<Hop>,
}

impl TraceReport {
    /// A report, for building by hand; `packet_size` as traceroute's default
    /// (60 over IPv4, 80 over IPv6).
    pub fn new(destination: IpAddr, max_hops: u8, hops: Vec<Hop>) -> Self {
        TraceReport {
            destination,
            max_hops,
            packet_size: if destination.is_ipv4() { 60 } else { 80 },
            hops,
        }
    }

    /// Whether the destination answered.
    pub fn reached(&self) -> bool {
        self.hops.last().is_some_and(Hop::reached)
    }

    /// The first responder of each hop (`None` for a silent hop).
    pub fn path(&self) -> Vec<Option<IpAddr>> {
        self.hops.iter().map(Hop::responder).collect()
    }

    /// The name of each hop's first responder, where `f` (or an earlier
    /// call) gave one; `None` for silent or unnamed hops.
    pub fn names(&self) -> Vec<Option<&str>> {
        self.hops.iter().map(Hop::name).collect()
    }

    /// Names every responder with `f` (for example, address to node name).
    /// Addresses `f` does not know keep their previous name.
    pub fn resolve_names(&mut self, f: impl Fn(IpAddr) -> Option<String>) {
        for hop in &mut self.hops {
            for p in &mut hop.probes {
                if let HopProbe::Reply(r) = p {
                    if let Some(n) = f(r.from) {
                        r.name = Some(n);
                    }
                }
            }
        }
    }
}

impl fmt::Display for TraceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let is_v6 = self.destination.is_ipv6();
        write!(
            f,
            "traceroute to {0} ({0}), {1} hops max, {2} byte packets",
            self.destination, self.max_hops, self.packet_size
        )?;
        for hop in &self.hops {
            write!(f, "\n{:2} ", hop.ttl)?;
            let mut prev: Option<&ProbeReply> = None;
            for p in &hop.probes {
                match p {
                    HopProbe::Silent => write!(f, " *")?,
                    HopProbe::SendFailed { errno } => {
                        let e = std::io::Error::from_raw_os_error(*errno);
                        write!(f, " * (sendmsg: {})", sock::errno_text(&e))?;
                    }
                    HopProbe::Reply(r) => {
                        if prev.is_none_or(|p| p.from != r.from) {
                            match &r.name {
                                Some(n) => write!(f, " {n} ({})", r.from)?,
                                None => write!(f, " {}", r.from)?,
                            }
                        }
                        write!(f, "  {:.3} ms", r.rtt.as_secs_f64() * 1000.0)?;
                        let flag = r.kind.flag(is_v6);
                        if !flag.is_empty() {
                            write!(f, " {flag}")?;
                        }
                        prev = Some(r);
                    }
                }
            }
        }
        Ok(())
    }
}

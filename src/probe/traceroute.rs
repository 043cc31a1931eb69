//! Traceroute by TTL: ICMP echo or UDP probes, answers read from a raw ICMP socket.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use socket2::{SockAddr, Socket, Type};

use super::icmp::{self, IcmpErrorKind, Incoming, Quoted, Unreachable};
use super::sock::{self, Bind, IcmpSocket};
use super::ProbeError;

/// How traceroute probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceMode {
    /// ICMP echo requests (`traceroute -I`); the destination answers with an
    /// echo reply. The default: echo replies are not rate-limited by the
    /// kernel, port-unreachable errors are.
    Icmp,
    /// UDP datagrams to `base_port` + probe number (`traceroute -U`'s
    /// classic mode, base 33434); the destination answers with ICMP port
    /// unreachable.
    Udp {
        /// The first destination port.
        base_port: u16,
    },
}

impl TraceMode {
    /// UDP mode with the classic base port 33434.
    pub fn udp() -> Self {
        TraceMode::Udp { base_port: 33434 }
    }
}

/// Options of [`traceroute`](super::traceroute()), builder style.
///
/// Defaults: ICMP echo mode, 30 hops max, 3 probes per hop (as traceroute),
/// 2 s of waiting for each probe (traceroute: 5 s), 32 payload bytes (60-byte
/// packets over IPv4, 80 over IPv6, as traceroute), one hop at a time (the
/// probes of a hop in flight together; traceroute sends 16 at once, see
/// [`in_flight`](Self::in_flight)), no source address or interface binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceOptions {
    mode: TraceMode,
    max_hops: u8,
    probes_per_hop: u8,
    timeout: Duration,
    payload: usize,
    in_flight: Option<u16>,
    source: Option<IpAddr>,
    interface: Option<String>,
}

impl Default for TraceOptions {
    fn default() -> Self {
        TraceOptions {
            mode: TraceMode::Icmp,
            max_hops: 30,
            probes_per_hop: 3,
            timeout: Duration::from_secs(2),
            payload: 32,
            in_flight: None,
            source: None,
            interface: None,
        }
    }
}

impl TraceOptions {
    /// The defaults (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }
    /// ICMP echo or UDP probes.
    pub fn mode(mut self, mode: TraceMode) -> Self {
        self.mode = mode;
        self
    }
    /// The largest TTL tried (`traceroute -m`); 1 to 255. Default 30.
    pub fn max_hops(mut self, hops: u8) -> Self {
        self.max_hops = hops;
        self
    }
    /// Probes sent with each TTL (`traceroute -q`); 1 to 10. Default 3.
    pub fn probes_per_hop(mut self, n: u8) -> Self {
        self.probes_per_hop = n;
        self
    }
    /// How long to wait for the answer to each probe (`traceroute -w`). Default 2 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// Payload bytes after the 8-byte ICMP or UDP header. Default 32.
    pub fn payload_size(mut self, bytes: usize) -> Self {
        self.payload = bytes;
        self
    }
    /// Probes in flight at once (`traceroute -N`); at least 1. Default: the
    /// probes of one hop.
    ///
    /// More probes in flight make silent hops cheaper, but they also probe
    /// past the destination, whose answers the kernel rate-limits (port
    /// unreachable in UDP mode, burst of 6 per source then one per second):
    /// the next trace within a second may then see the destination silent.
    pub fn in_flight(mut self, n: u16) -> Self {
        self.in_flight = Some(n);
        self
    }
    /// Sends from this address (`traceroute -s`).
    pub fn source(mut self, source: IpAddr) -> Self {
        self.source = Some(source);
        self
    }
    /// Sends through this interface (`traceroute -i`).
    pub fn interface(mut self, name: impl Into<String>) -> Self {
        self.interface = Some(name.into());
        self
    }
    /// The probing mode.
    pub fn get_mode(&self) -> TraceMode {
        self.mode
    }
    /// The largest TTL.
    pub fn get_max_hops(&self) -> u8 {
        self.max_hops
    }
    /// Probes per hop.
    pub fn get_probes_per_hop(&self) -> u8 {
        self.probes_per_hop
    }
    /// The per-probe timeout.
    pub fn get_timeout(&self) -> Duration {
        self.timeout
    }

    fn bind(&self) -> Bind<'_> {
        Bind {
            source: self.source,
            interface: self.interface.as_deref(),
        }
    }

    /// Checks the options against a destination.
    pub fn validate(&self, dst: IpAddr) -> Result<(), ProbeError> {
        let bad = |option, value: String, reason| ProbeError::InvalidOption {
            probe: "traceroute",
            option,
            value,
            reason,
        };
        if self.max_hops == 0 {
            return Err(bad(
                "max_hops",
                "0".into(),
                "try at least one hop (1 to 255)",
            ));
        }
        if !(1..=10).contains(&self.probes_per_hop) {
            return Err(bad(
                "probes_per_hop",
                self.probes_per_hop.to_string(),
                "send 1 to 10 probes per hop",
            ));
        }
        if self.timeout.is_zero() {
            return Err(bad(
                "timeout",
                "0s".into(),
                "wait more than zero for an answer",
            ));
        }
        if self.in_flight == Some(0) {
            return Err(bad(
                "in_flight",
                "0".into(),
                "keep at least one probe in flight",
            ));
        }
        if let TraceMode::Udp { base_port } = self.mode {
            let probes = u32::from(self.max_hops) * u32::from(self.probes_per_hop);
            if base_port == 0 || u32::from(base_port) + probes > 65536 {
                return Err(bad(
                    "mode",
                    format!("udp base port {base_port}"),
                    "the base port must be at least 1 and leave room for one port per probe",
                ));
            }
        }
        let (max, family) = if dst.is_ipv4() {
            (super::ping::MAX_PAYLOAD_V4, "IPv4")
        } else {
            (super::ping::MAX_PAYLOAD_V6, "IPv6")
        };
        if self.payload > max {
            return Err(ProbeError::PayloadTooLarge {
                probe: "traceroute",
                size: self.payload,
                max,
                family,
            });
        }
        if dst.is_unspecified() {
            return Err(ProbeError::InvalidDestination {
                probe: "traceroute",
                destination: dst.to_string(),
                reason: "the unspecified address is not a destination",
            });
        }
        sock::check_bind("traceroute", dst, self.bind())
    }
}

/// What answered a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HopKind {
    /// A router on the way: ICMP time exceeded.
    TimeExceeded,
    /// The destination: an echo reply (ICMP mode) or port unreachable (UDP mode).
    Reached,
    /// Destination unreachable with a code other than port unreachable
    /// (`!H`, `!N`, `!X`, ...): the trace ends here.
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

    fn is_final(&self) -> bool {
        match self {
            HopProbe::Silent => false,
            HopProbe::SendFailed { .. } => true,
            HopProbe::Reply(r) => r.kind != HopKind::TimeExceeded,
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

/// The result of a [`traceroute`](super::traceroute()).
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
/// annotation after its time (`!H`, `!N`, `!P`, `!X`, `!F-mtu`, `!<code>`).
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
                        let flag = match r.kind {
                            HopKind::TimeExceeded | HopKind::Reached => String::new(),
                            HopKind::Unreachable(u) => {
                                IcmpErrorKind::Unreachable(u).traceroute_flag(is_v6)
                            }
                            HopKind::Error(k) => k.traceroute_flag(is_v6),
                        };
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

struct Probe {
    sent: Option<Instant>,
    result: Option<HopProbe>,
}

/// The UDP sender of UDP mode.
struct UdpSender {
    sock: Socket,
    port: u16,
}

/// Traces the path to `dst` from the calling thread's namespace, like
/// `traceroute -n` (ICMP mode: `traceroute -I -n`).
///
/// The calling thread must be inside a namespace this process created;
/// otherwise [`ProbeError::ForeignNamespace`]. Probes with TTL 1, 2, ... go
/// out with up to `in_flight` of them unanswered at once; the trace ends
/// with the first hop where the destination answered (or an unreachable
/// error came back), or at `max_hops`. Silence is a result (`*`), not an
/// error.
///
/// Routers answer with ICMP errors, which the kernel rate-limits per
/// destination (`net.ipv4.icmp_ratelimit`, `net.ipv6.icmp.ratelimit`, burst
/// of 6, then one per second): traces repeated in quick succession through
/// the same router can show `*` unless those sysctls are 0 in the routers.
///
/// ```no_run
/// use netns_test::probe::{self, TraceOptions};
/// # let ns = netns_test::NetNs::new("lab")?;
/// let report = ns.run(|| probe::traceroute("203.0.113.2".parse().unwrap(), &TraceOptions::new()))??;
/// assert!(report.reached());
/// println!("{report}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn traceroute(dst: IpAddr, opts: &TraceOptions) -> Result<TraceReport, ProbeError> {
    opts.validate(dst)?;
    let mut icmp_sock = IcmpSocket::open("traceroute", dst, opts.bind())?;
    let is_v6 = dst.is_ipv6();
    let udp = match opts.mode {
        TraceMode::Icmp => None,
        TraceMode::Udp { .. } => {
            let s = Socket::new(sock::domain(dst), Type::DGRAM, None)
                .map_err(|e| ProbeError::io("traceroute: open a UDP socket", e))?;
            sock::apply_bind("traceroute", &s, opts.bind(), 0)?;
            if opts.source.is_none() {
                let any: IpAddr = if is_v6 {
                    std::net::Ipv6Addr::UNSPECIFIED.into()
                } else {
                    std::net::Ipv4Addr::UNSPECIFIED.into()
                };
                s.bind(&SockAddr::from(SocketAddr::new(any, 0)))
                    .map_err(|e| ProbeError::io("traceroute: bind the UDP socket", e))?;
            }
            let port = s
                .local_addr()
                .ok()
                .and_then(|a| a.as_socket())
                .map(|a| a.port())
                .ok_or_else(|| {
                    ProbeError::io(
                        "traceroute: read the UDP socket's port",
                        std::io::Error::other("no local address"),
                    )
                })?;
            Some(UdpSender { sock: s, port })
        }
    };
    let ident = sock::next_ident();
    let nonce = sock::random_u64();
    let payload = icmp::echo_payload(nonce, opts.payload);
    let pph = usize::from(opts.probes_per_hop);
    let total = usize::from(opts.max_hops) * pph;
    let mut probes: Vec<Probe> = (0..total)
        .map(|_| Probe {
            sent: None,
            result: None,
        })
        .collect();
    // Probes at and after `end` are not needed (a final hop was found).
    let mut end = total;
    let window = usize::from(opts.in_flight.unwrap_or(u16::from(opts.probes_per_hop)));

    loop {
        let now = Instant::now();
        // Expire.
        for p in probes.iter_mut().take(end) {
            if p.result.is_none() && p.sent.is_some_and(|t| now >= t + opts.timeout) {
                p.result = Some(HopProbe::Silent);
            }
        }
        // Send while there is room.
        let mut in_flight = probes
            .iter()
            .take(end)
            .filter(|p| p.sent.is_some() && p.result.is_none())
            .count();
        let mut n = probes.iter().take_while(|p| p.sent.is_some()).count();
        while n < end && in_flight < window {
            let ttl = (n / pph + 1) as u8;
            let seq = (n + 1) as u16;
            let t = Instant::now();
            let res = match &udp {
                None => icmp_sock.set_ttl(ttl).and_then(|()| {
                    icmp_sock.send_to(&icmp::echo_request(is_v6, ident, seq, &payload), dst)
                }),
                Some(u) => sock::set_ttl(&u.sock, is_v6, ttl).and_then(|()| {
                    let TraceMode::Udp { base_port } = opts.mode else {
                        unreachable!("a UDP sender exists in UDP mode only")
                    };
                    let port = base_port + n as u16;
                    u.sock
                        .send_to(&payload, &SockAddr::from(SocketAddr::new(dst, port)))
                        .map(|_| ())
                }),
            };
            probes[n].sent = Some(t);
            match res {
                Ok(()) => in_flight += 1,
                Err(e) => {
                    probes[n].result = Some(HopProbe::SendFailed {
                        errno: e.raw_os_error().unwrap_or(0),
                    });
                    end = end.min((n / pph + 1) * pph);
                }
            }
            n += 1;
        }
        // Done when every needed probe has a result.
        if probes.iter().take(end).all(|p| p.result.is_some()) {
            break;
        }
        let wake = probes
            .iter()
            .take(end)
            .filter(|p| p.result.is_none())
            .filter_map(|p| p.sent.map(|t| t + opts.timeout))
            .min()
            .unwrap_or(now);
        let Some(rx) = icmp_sock.recv(wake)? else {
            continue;
        };
        let (idx, kind) = match (&rx.msg, &udp) {
            (
                Incoming::EchoReply {
                    ident: id,
                    seq,
                    payload: got,
                    ..
                },
                None,
            ) => {
                let k = opts.payload.min(8);
                if *id != ident || got.len() < k || got[..k] != payload[..k] {
                    continue;
                }
                (usize::from(*seq), HopKind::Reached)
            }
            (
                Incoming::Error {
                    kind,
                    quoted:
                        Quoted::Echo {
                            dst: qdst,
                            ident: id,
                            seq,
                        },
                },
                None,
            ) => {
                if *id != ident || *qdst != dst {
                    continue;
                }
                (usize::from(*seq), hop_kind(*kind))
            }
            (
                Incoming::Error {
                    kind,
                    quoted:
                        Quoted::Udp {
                            dst: qdst,
                            src_port,
                            dst_port,
                        },
                },
                Some(u),
            ) => {
                let TraceMode::Udp { base_port } = opts.mode else {
                    continue;
                };
                if *src_port != u.port || *qdst != dst || *dst_port < base_port {
                    continue;
                }
                (usize::from(*dst_port - base_port) + 1, hop_kind(*kind))
            }
            _ => continue,
        };
        if idx == 0 || idx > total {
            continue;
        }
        let p = &mut probes[idx - 1];
        let (Some(sent), None) = (p.sent, &p.result) else {
            continue;
        };
        let reply = HopProbe::Reply(ProbeReply {
            from: rx.from,
            rtt: rx.at.saturating_duration_since(sent),
            kind,
            name: None,
        });
        if reply.is_final() {
            end = end.min(((idx - 1) / pph + 1) * pph);
        }
        p.result = Some(reply);
    }

    let hops = probes
        .chunks(pph)
        .take(end / pph)
        .enumerate()
        .map(|(i, chunk)| Hop {
            ttl: (i + 1) as u8,
            probes: chunk
                .iter()
                .map(|p| p.result.clone().unwrap_or(HopProbe::Silent))
                .collect(),
        })
        .collect();
    let header = if is_v6 { 40 } else { 20 };
    Ok(TraceReport {
        destination: dst,
        max_hops: opts.max_hops,
        packet_size: header + 8 + opts.payload,
        hops,
    })
}

fn hop_kind(kind: IcmpErrorKind) -> HopKind {
    match kind {
        IcmpErrorKind::TtlExceeded => HopKind::TimeExceeded,
        IcmpErrorKind::Unreachable(Unreachable::Port) => HopKind::Reached,
        IcmpErrorKind::Unreachable(u) => HopKind::Unreachable(u),
        other => HopKind::Error(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: f64) -> Duration {
        Duration::from_secs_f64(v / 1000.0)
    }

    #[test]
    fn golden_two_hops() {
        let gw: IpAddr = "198.51.100.254".parse().unwrap();
        let d: IpAddr = "203.0.113.2".parse().unwrap();
        let r = TraceReport::new(
            d,
            30,
            vec![
                Hop::new(
                    1,
                    vec![
                        HopProbe::reply(gw, ms(0.051), HopKind::TimeExceeded),
                        HopProbe::reply(gw, ms(0.020), HopKind::TimeExceeded),
                        HopProbe::reply(gw, ms(0.018), HopKind::TimeExceeded),
                    ],
                ),
                Hop::new(
                    2,
                    vec![
                        HopProbe::reply(d, ms(0.035), HopKind::Reached),
                        HopProbe::reply(d, ms(0.022), HopKind::Reached),
                        HopProbe::reply(d, ms(0.021), HopKind::Reached),
                    ],
                ),
            ],
        );
        assert_eq!(
            r.to_string(),
            "traceroute to 203.0.113.2 (203.0.113.2), 30 hops max, 60 byte packets\n \
             1  198.51.100.254  0.051 ms  0.020 ms  0.018 ms\n \
             2  203.0.113.2  0.035 ms  0.022 ms  0.021 ms"
        );
        assert!(r.reached());
        assert_eq!(r.path(), vec![Some(gw), Some(d)]);
    }

    #[test]
    fn golden_silence_changes_and_flags() {
        let a: IpAddr = "198.51.100.254".parse().unwrap();
        let b: IpAddr = "198.51.100.253".parse().unwrap();
        let d: IpAddr = "203.0.113.2".parse().unwrap();
        let r = TraceReport::new(
            d,
            30,
            vec![
                Hop::new(
                    1,
                    vec![
                        HopProbe::reply(a, ms(0.051), HopKind::TimeExceeded),
                        HopProbe::Silent,
                        HopProbe::reply(a, ms(0.018), HopKind::TimeExceeded),
                    ],
                ),
                Hop::new(
                    2,
                    vec![HopProbe::Silent, HopProbe::Silent, HopProbe::Silent],
                ),
                Hop::new(
                    3,
                    vec![
                        HopProbe::Silent,
                        HopProbe::reply(b, ms(3000.0), HopKind::Unreachable(Unreachable::Host)),
                        HopProbe::reply(
                            a,
                            ms(12.3456),
                            HopKind::Unreachable(Unreachable::Filtered),
                        ),
                    ],
                ),
            ],
        );
        assert_eq!(
            r.to_string(),
            "traceroute to 203.0.113.2 (203.0.113.2), 30 hops max, 60 byte packets\n \
             1  198.51.100.254  0.051 ms *  0.018 ms\n \
             2  * * *\n \
             3  * 198.51.100.253  3000.000 ms !H 198.51.100.254  12.346 ms !X"
        );
        assert!(!r.reached());
        assert_eq!(r.path(), vec![Some(a), None, Some(b)]);
        assert_eq!(r.hops[2].responders(), vec![b, a]);
    }

    #[test]
    fn golden_names_ipv6_and_other_flags() {
        let r1: IpAddr = "2001:db8::1".parse().unwrap();
        let d: IpAddr = "2001:db8:1::2".parse().unwrap();
        let mut r = TraceReport::new(
            d,
            5,
            vec![
                Hop::new(1, vec![HopProbe::reply(r1, ms(0.1), HopKind::TimeExceeded)]),
                Hop::new(
                    2,
                    vec![HopProbe::reply(
                        d,
                        ms(0.2),
                        HopKind::Unreachable(Unreachable::NoRoute),
                    )],
                ),
            ],
        );
        r.resolve_names(|a| (a == r1).then(|| "router".to_string()));
        assert_eq!(
            r.to_string(),
            "traceroute to 2001:db8:1::2 (2001:db8:1::2), 5 hops max, 80 byte packets\n \
             1  router (2001:db8::1)  0.100 ms\n \
             2  2001:db8:1::2  0.200 ms !N"
        );
        assert_eq!(r.names(), vec![Some("router"), None]);
        let p = TraceReport::new(
            "198.51.100.9".parse().unwrap(),
            30,
            vec![Hop::new(
                1,
                vec![
                    HopProbe::reply(
                        "198.51.100.1".parse().unwrap(),
                        ms(1.0),
                        HopKind::Unreachable(Unreachable::Protocol),
                    ),
                    HopProbe::SendFailed {
                        errno: libc::ENETUNREACH,
                    },
                ],
            )],
        );
        assert_eq!(
            p.to_string(),
            "traceroute to 198.51.100.9 (198.51.100.9), 30 hops max, 60 byte packets\n \
             1  198.51.100.1  1.000 ms !P * (sendmsg: Network is unreachable)"
        );
    }

    #[test]
    fn bad_options_are_typed_errors() {
        let d: IpAddr = "198.51.100.2".parse().unwrap();
        let err = |o: TraceOptions| o.validate(d).unwrap_err();
        assert!(matches!(
            err(TraceOptions::new().max_hops(0)),
            ProbeError::InvalidOption {
                option: "max_hops",
                ..
            }
        ));
        assert!(matches!(
            err(TraceOptions::new().probes_per_hop(0)),
            ProbeError::InvalidOption {
                option: "probes_per_hop",
                ..
            }
        ));
        assert!(matches!(
            err(TraceOptions::new().probes_per_hop(11)),
            ProbeError::InvalidOption {
                option: "probes_per_hop",
                ..
            }
        ));
        assert!(matches!(
            err(TraceOptions::new().mode(TraceMode::Udp { base_port: 65500 })),
            ProbeError::InvalidOption { option: "mode", .. }
        ));
        assert!(matches!(
            err(TraceOptions::new().source("2001:db8::1".parse().unwrap())),
            ProbeError::FamilyMismatch { .. }
        ));
        assert!(TraceOptions::new()
            .mode(TraceMode::udp())
            .validate(d)
            .is_ok());
    }
}

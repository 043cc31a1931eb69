//! ICMP echo (ping) over IPv4 and IPv6, with an iputils-style report.

use std::collections::HashSet;
use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::icmp::{self, IcmpErrorKind, Incoming, Quoted};
use super::sock::{self, Bind, IcmpSocket};
use super::ProbeError;

/// The largest echo payload over IPv4: 65535 - 20 (IP header) - 8 (ICMP header).
pub const MAX_PAYLOAD_V4: usize = 65507;
/// The largest echo payload over IPv6 (no jumbograms): 65535 - 8 (ICMPv6 header).
pub const MAX_PAYLOAD_V6: usize = 65527;

/// Options of [`ping`](super::ping()), builder style.
///
/// The defaults suit tests rather than terminals: **one** probe (iputils
/// pings forever), an interval of 1 s between probes (as iputils), up to 2 s
/// of waiting for each reply (iputils waits up to 10 s), no overall
/// deadline, 56 bytes of payload ("64 bytes" replies), the kernel's default
/// TTL, no source address or interface binding.
///
/// ```
/// use std::time::Duration;
/// use netns_test::probe::PingOptions;
///
/// let opts = PingOptions::new()
///     .count(3)
///     .interval(Duration::from_millis(10))
///     .timeout(Duration::from_millis(500))
///     .ttl(8);
/// assert_eq!(opts.get_count(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingOptions {
    count: u32,
    interval: Duration,
    timeout: Duration,
    deadline: Option<Duration>,
    payload: usize,
    ttl: Option<u8>,
    source: Option<IpAddr>,
    interface: Option<String>,
}

impl Default for PingOptions {
    fn default() -> Self {
        PingOptions {
            count: 1,
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(2),
            deadline: None,
            payload: 56,
            ttl: None,
            source: None,
            interface: None,
        }
    }
}

impl PingOptions {
    /// The defaults (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }
    /// How many echo requests to send (`ping -c`); at least 1. Default 1.
    pub fn count(mut self, count: u32) -> Self {
        self.count = count;
        self
    }
    /// The time between two requests (`ping -i`); zero sends back to back.
    /// The first request leaves at once. Default 1 s.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }
    /// How long to wait for the reply to each request after sending it
    /// (`ping -W`); more than zero. Default 2 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// An overall limit on the run (`ping -w`): the ping stops then, whatever
    /// was sent or received. Default none.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }
    /// The number of payload bytes after the 8-byte ICMP header (`ping -s`).
    /// Default 56. Below 16 the report, like iputils, prints no times.
    pub fn payload_size(mut self, bytes: usize) -> Self {
        self.payload = bytes;
        self
    }
    /// The TTL (IPv4) or hop limit (IPv6) of the requests (`ping -t`); 1 to 255.
    pub fn ttl(mut self, ttl: u8) -> Self {
        self.ttl = Some(ttl);
        self
    }
    /// Sends from this address (`ping -I ADDR`); it must be of the
    /// destination's family and assigned to the node.
    pub fn source(mut self, source: IpAddr) -> Self {
        self.source = Some(source);
        self
    }
    /// Sends through this interface (`ping -I IFACE`, `SO_BINDTODEVICE`).
    pub fn interface(mut self, name: impl Into<String>) -> Self {
        self.interface = Some(name.into());
        self
    }
    /// The number of requests.
    pub fn get_count(&self) -> u32 {
        self.count
    }
    /// The interval between requests.
    pub fn get_interval(&self) -> Duration {
        self.interval
    }
    /// The per-reply timeout.
    pub fn get_timeout(&self) -> Duration {
        self.timeout
    }
    /// The overall deadline, if any.
    pub fn get_deadline(&self) -> Option<Duration> {
        self.deadline
    }
    /// The payload size.
    pub fn get_payload_size(&self) -> usize {
        self.payload
    }
    /// The TTL, if set.
    pub fn get_ttl(&self) -> Option<u8> {
        self.ttl
    }

    /// Checks the options against a destination.
    pub fn validate(&self, dst: IpAddr) -> Result<(), ProbeError> {
        let bad = |option, value: String, reason| ProbeError::InvalidOption {
            probe: "ping",
            option,
            value,
            reason,
        };
        if self.count == 0 {
            return Err(bad("count", "0".into(), "send at least one request"));
        }
        if self.count > u32::from(u16::MAX) {
            return Err(bad(
                "count",
                self.count.to_string(),
                "at most 65535 requests (the sequence number has 16 bits)",
            ));
        }
        if self.timeout.is_zero() {
            return Err(bad(
                "timeout",
                "0s".into(),
                "wait more than zero for a reply",
            ));
        }
        if self.deadline.is_some_and(|d| d.is_zero()) {
            return Err(bad(
                "deadline",
                "0s".into(),
                "a deadline must be more than zero",
            ));
        }
        if self.ttl == Some(0) {
            return Err(bad("ttl", "0".into(), "a TTL is 1 to 255"));
        }
        let (max, family) = if dst.is_ipv4() {
            (MAX_PAYLOAD_V4, "IPv4")
        } else {
            (MAX_PAYLOAD_V6, "IPv6")
        };
        if self.payload > max {
            return Err(ProbeError::PayloadTooLarge {
                probe: "ping",
                size: self.payload,
                max,
                family,
            });
        }
        if dst.is_unspecified() {
            return Err(ProbeError::InvalidDestination {
                probe: "ping",
                destination: dst.to_string(),
                reason: "the unspecified address is not a destination",
            });
        }
        sock::check_bind("ping", dst, self.bind())
    }

    fn bind(&self) -> Bind<'_> {
        Bind {
            source: self.source,
            interface: self.interface.as_deref(),
        }
    }
}

/// One echo reply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EchoReply {
    /// The sequence number (`icmp_seq`), from 1.
    pub seq: u16,
    /// The TTL (hop limit) the reply arrived with, if known.
    pub ttl: Option<u8>,
    /// The round-trip time.
    pub rtt: Duration,
    /// Who answered.
    pub from: IpAddr,
    /// The size of the ICMP message (header and payload): 64 for the default payload.
    pub bytes: usize,
    /// A second (or later) reply to the same request.
    pub duplicate: bool,
    /// When it arrived, since the first request left.
    pub at: Duration,
}

impl EchoReply {
    /// A reply of 64 bytes (the default payload), not a duplicate, for
    /// building reports by hand (tests, documentation).
    pub fn new(seq: u16, from: IpAddr, ttl: u8, rtt: Duration, at: Duration) -> Self {
        EchoReply {
            seq,
            ttl: Some(ttl),
            rtt,
            from,
            bytes: 64,
            duplicate: false,
            at,
        }
    }

    /// Marks the reply as a duplicate.
    pub fn duplicate(mut self) -> Self {
        self.duplicate = true;
        self
    }
}

/// What went wrong with one request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PingErrorKind {
    /// An ICMP error message came back for the request.
    Icmp(IcmpErrorKind),
    /// The request could not be sent (`sendto` failed, e.g. `ENETUNREACH`
    /// when the node has no route): counted as sent and lost, like iputils.
    Send {
        /// The errno.
        errno: i32,
    },
}

/// An error recorded for one request: an ICMP error message, or a failed send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PingError {
    /// The sequence number of the request.
    pub seq: u16,
    /// Who sent the ICMP error (a router, or the sender itself when
    /// neighbour resolution failed); `None` for a failed send.
    pub from: Option<IpAddr>,
    /// What happened.
    pub kind: PingErrorKind,
    /// When, since the first request left.
    pub at: Duration,
}

impl PingError {
    /// An ICMP error record, for building reports by hand.
    pub fn icmp(seq: u16, from: IpAddr, kind: IcmpErrorKind, at: Duration) -> Self {
        PingError {
            seq,
            from: Some(from),
            kind: PingErrorKind::Icmp(kind),
            at,
        }
    }

    /// A failed-send record, for building reports by hand.
    pub fn send(seq: u16, errno: i32, at: Duration) -> Self {
        PingError {
            seq,
            from: None,
            kind: PingErrorKind::Send { errno },
            at,
        }
    }

    /// The ICMP error, if this is one.
    pub fn icmp_kind(&self) -> Option<IcmpErrorKind> {
        match self.kind {
            PingErrorKind::Icmp(k) => Some(k),
            PingErrorKind::Send { .. } => None,
        }
    }
}

/// Round-trip statistics, computed as iputils does (in whole microseconds,
/// duplicates included): `mdev = sqrt(mean(rtt²) - mean(rtt)²)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RttStats {
    /// The shortest round trip.
    pub min: Duration,
    /// The mean round trip.
    pub avg: Duration,
    /// The longest round trip.
    pub max: Duration,
    /// The standard deviation.
    pub mdev: Duration,
}

/// The result of a [`ping`](super::ping()).
///
/// `Display` prints it as iputils `ping` does: one line per reply or error in
/// arrival order, a blank line, the statistics. With `{:#}` it starts with
/// iputils' `PING ... bytes of data.` header line. No trailing newline.
///
/// ```text
/// 64 bytes from 198.51.100.2: icmp_seq=1 ttl=64 time=0.045 ms
/// 64 bytes from 198.51.100.2: icmp_seq=2 ttl=64 time=0.061 ms
/// 64 bytes from 198.51.100.2: icmp_seq=3 ttl=64 time=0.031 ms
///
/// --- 198.51.100.2 ping statistics ---
/// 3 packets transmitted, 3 received, 0% packet loss, time 2003ms
/// rtt min/avg/max/mdev = 0.031/0.045/0.061/0.012 ms
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PingReport {
    /// The destination.
    pub destination: IpAddr,
    /// The payload size of the requests.
    pub payload_size: usize,
    /// Requests sent (including those whose send failed, like iputils).
    pub transmitted: u32,
    /// Requests answered (each counted once).
    pub received: u32,
    /// Extra replies to already answered requests.
    pub duplicates: u32,
    /// ICMP errors received for our requests, and failed sends.
    pub errors: Vec<PingError>,
    /// Every reply, duplicates included, in arrival order.
    pub replies: Vec<EchoReply>,
    /// From the first request to the last one sent (iputils' `time`).
    pub time: Duration,
}

impl PingReport {
    /// A report, for building by hand (tests, documentation): `received`
    /// and `duplicates` are counted from `replies`.
    pub fn new(
        destination: IpAddr,
        transmitted: u32,
        replies: Vec<EchoReply>,
        errors: Vec<PingError>,
        time: Duration,
    ) -> Self {
        let duplicates = replies.iter().filter(|r| r.duplicate).count() as u32;
        PingReport {
            destination,
            payload_size: 56,
            transmitted,
            received: replies.len() as u32 - duplicates,
            duplicates,
            errors,
            replies,
            time,
        }
    }

    /// Sets the payload size the requests had.
    pub fn with_payload_size(mut self, bytes: usize) -> Self {
        self.payload_size = bytes;
        self
    }

    /// Whether at least one reply came back.
    pub fn is_reachable(&self) -> bool {
        self.received > 0
    }

    /// Requests without a reply, in percent (0 with nothing sent).
    pub fn loss_percent(&self) -> f64 {
        if self.transmitted == 0 {
            return 0.0;
        }
        f64::from(self.transmitted.saturating_sub(self.received)) * 100.0
            / f64::from(self.transmitted)
    }

    /// Round-trip statistics, `None` without replies.
    pub fn rtt(&self) -> Option<RttStats> {
        if self.replies.is_empty() || self.received == 0 {
            return None;
        }
        let us: Vec<i128> = self
            .replies
            .iter()
            .map(|r| r.rtt.as_micros() as i128)
            .collect();
        let total = us.len() as i128;
        let tsum: i128 = us.iter().sum();
        let tsum2: i128 = us.iter().map(|t| t * t).sum();
        let avg = tsum / total;
        // iputils' computation order, to print the same digits.
        let var = if tsum < i128::from(i32::MAX) {
            (tsum2 - (tsum * tsum) / total) / total
        } else {
            tsum2 / total - avg * avg
        };
        let d = |v: i128| Duration::from_micros(v.max(0) as u64);
        Some(RttStats {
            min: d(*us.iter().min()?),
            avg: d(avg),
            max: d(*us.iter().max()?),
            mdev: d(isqrt(var)),
        })
    }

    /// Whether the report prints times (iputils needs 16 payload bytes for its timestamp).
    fn timing(&self) -> bool {
        self.payload_size >= 16
    }
}

/// iputils' `llsqrt`: Newton's integer square root.
fn isqrt(a: i128) -> i128 {
    if a <= 0 {
        return 0;
    }
    let mut prev = i128::MAX;
    let mut x = a;
    while x < prev {
        prev = x;
        x = (x + a / x) / 2;
    }
    x
}

/// `time=` of one reply, with iputils' precision rules (in microseconds).
fn fmt_reply_time(us: i128) -> String {
    if us >= 100_000 - 50 {
        format!("{}", (us + 500) / 1000)
    } else if us >= 10_000 - 5 {
        format!("{}.{:01}", (us + 50) / 1000, ((us + 50) % 1000) / 100)
    } else if us >= 1000 {
        format!("{}.{:02}", (us + 5) / 1000, ((us + 5) % 1000) / 10)
    } else {
        format!("{}.{:03}", us / 1000, us % 1000)
    }
}

fn fmt_ms3(d: Duration) -> String {
    let us = d.as_micros();
    format!("{}.{:03}", us / 1000, us % 1000)
}

/// C's `printf("%g", (float)v)`: six significant digits, trailing zeros removed.
pub(crate) fn fmt_g(v: f64) -> String {
    let v = f64::from(v as f32);
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return v.to_string();
    }
    // The exponent after rounding to 6 significant digits.
    let sci = format!("{v:.5e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let strip = |s: String| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if !(-4..6).contains(&exp) {
        let m = strip(mantissa.to_string());
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", exp.abs());
    }
    let decimals = (5 - exp).max(0) as usize;
    strip(format!("{v:.decimals$}"))
}

enum Line<'a> {
    Reply(&'a EchoReply),
    Error(&'a PingError),
}

impl fmt::Display for PingReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let is_v6 = self.destination.is_ipv6();
        let mut wrote = false;
        if f.alternate() {
            if is_v6 {
                write!(
                    f,
                    "PING {0} ({0}) {1} data bytes",
                    self.destination, self.payload_size
                )?;
            } else {
                write!(
                    f,
                    "PING {0} ({0}) {1}({2}) bytes of data.",
                    self.destination,
                    self.payload_size,
                    self.payload_size + 28
                )?;
            }
            wrote = true;
        }
        let mut lines: Vec<(Duration, Line<'_>)> = self
            .replies
            .iter()
            .map(|r| (r.at, Line::Reply(r)))
            .chain(self.errors.iter().map(|e| (e.at, Line::Error(e))))
            .collect();
        lines.sort_by_key(|(at, _)| *at);
        for (_, line) in lines {
            if wrote {
                writeln!(f)?;
            }
            wrote = true;
            match line {
                Line::Reply(r) => {
                    write!(f, "{} bytes from {}: icmp_seq={}", r.bytes, r.from, r.seq)?;
                    if let Some(ttl) = r.ttl {
                        write!(f, " ttl={ttl}")?;
                    }
                    if self.timing() {
                        write!(f, " time={} ms", fmt_reply_time(r.rtt.as_micros() as i128))?;
                    }
                    if r.duplicate {
                        write!(f, " (DUP!)")?;
                    }
                }
                Line::Error(e) => match (&e.kind, e.from) {
                    (PingErrorKind::Icmp(kind), Some(from)) => {
                        write!(
                            f,
                            "From {from} icmp_seq={} {}",
                            e.seq,
                            kind.ping_text(is_v6)
                        )?;
                    }
                    (PingErrorKind::Icmp(kind), None) => {
                        write!(f, "From ? icmp_seq={} {}", e.seq, kind.ping_text(is_v6))?;
                    }
                    (PingErrorKind::Send { errno }, _) => {
                        let e = std::io::Error::from_raw_os_error(*errno);
                        write!(f, "ping: sendmsg: {}", sock::errno_text(&e))?;
                    }
                },
            }
        }
        if wrote {
            write!(f, "\n\n")?;
        }
        writeln!(f, "--- {} ping statistics ---", self.destination)?;
        write!(
            f,
            "{} packets transmitted, {} received",
            self.transmitted, self.received
        )?;
        if self.duplicates > 0 {
            write!(f, ", +{} duplicates", self.duplicates)?;
        }
        if !self.errors.is_empty() {
            write!(f, ", +{} errors", self.errors.len())?;
        }
        if self.transmitted > 0 {
            let ms = (self.time.as_nanos() + 500_000) / 1_000_000;
            write!(
                f,
                ", {}% packet loss, time {ms}ms",
                fmt_g(self.loss_percent())
            )?;
        }
        if self.timing() {
            if let Some(rtt) = self.rtt() {
                write!(
                    f,
                    "\nrtt min/avg/max/mdev = {}/{}/{}/{} ms",
                    fmt_ms3(rtt.min),
                    fmt_ms3(rtt.avg),
                    fmt_ms3(rtt.max),
                    fmt_ms3(rtt.mdev)
                )?;
            }
        }
        Ok(())
    }
}

/// Sends ICMP echo requests to `dst` from the calling thread's namespace and
/// reports the replies, like iputils `ping`.
///
/// The calling thread must be inside a namespace this process created (enter
/// a node first); otherwise [`ProbeError::ForeignNamespace`]. Requests go out
/// at `interval`; the run ends when every request is answered (by a reply or
/// an ICMP error), or has waited `timeout`, or at the `deadline`. Lost
/// requests are a result ([`PingReport::loss_percent`]), not an error.
///
/// ```no_run
/// use netns_test::probe::{self, PingOptions};
/// # let ns = netns_test::NetNs::new("lab")?;
/// let report = ns.run(|| probe::ping("198.51.100.2".parse().unwrap(), &PingOptions::new().count(3)))??;
/// assert_eq!(report.received, 3);
/// println!("{report}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn ping(dst: IpAddr, opts: &PingOptions) -> Result<PingReport, ProbeError> {
    opts.validate(dst)?;
    let mut sock = IcmpSocket::open("ping", dst, opts.bind())?;
    if let Some(ttl) = opts.ttl {
        sock.set_ttl(ttl)
            .map_err(|e| ProbeError::io("ping: set the TTL", e))?;
    }
    let is_v6 = dst.is_ipv6();
    let ident = sock::next_ident();
    let nonce = sock::random_u64();
    let payload = icmp::echo_payload(nonce, opts.payload);
    let nonce_len = opts.payload.min(8);

    let count = opts.count as usize;
    let start = Instant::now();
    let deadline = opts.deadline.map(|d| start + d);
    let mut sent_at: Vec<Instant> = Vec::with_capacity(count);
    let mut answered: Vec<bool> = Vec::with_capacity(count);
    let mut got_reply: HashSet<u16> = HashSet::new();
    let mut replies = Vec::new();
    let mut errors = Vec::new();
    let mut next_send = start;
    let mut last_send = start;
    let mut drained = false;

    loop {
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            break;
        }
        if sent_at.len() < count && now >= next_send {
            let seq = (sent_at.len() + 1) as u16;
            let pkt = icmp::echo_request(is_v6, ident, seq, &payload);
            let t = Instant::now();
            let res = sock.send_to(&pkt, dst);
            sent_at.push(t);
            last_send = t;
            answered.push(false);
            if let Err(e) = res {
                answered[usize::from(seq) - 1] = true;
                errors.push(PingError {
                    seq,
                    from: None,
                    kind: PingErrorKind::Send {
                        errno: e.raw_os_error().unwrap_or(0),
                    },
                    at: t - start,
                });
            }
            next_send = (next_send + opts.interval).max(t);
            continue;
        }
        let all_sent = sent_at.len() == count;
        // When the last unanswered request stops waiting.
        let expiry = sent_at
            .iter()
            .zip(&answered)
            .filter(|(_, a)| !**a)
            .map(|(t, _)| *t + opts.timeout)
            .max();
        // Past the last expiry, look once more without waiting: a thread
        // woken late (a loaded machine) must not miss a reply already queued.
        let expired = all_sent && expiry.is_none_or(|e| now >= e);
        if expired && drained {
            break;
        }
        let mut wake = if expired {
            now
        } else if all_sent {
            expiry.unwrap_or(now)
        } else {
            next_send
        };
        if let Some(d) = deadline {
            wake = wake.min(d);
        }
        let Some(rx) = sock.recv(wake)? else {
            drained = expired;
            continue;
        };
        match rx.msg {
            Incoming::EchoReply {
                ident: id,
                seq,
                payload: got,
                icmp_len,
            } => {
                let idx = usize::from(seq);
                if id != ident || idx == 0 || idx > sent_at.len() {
                    continue;
                }
                if got.len() < nonce_len || got[..nonce_len] != payload[..nonce_len] {
                    continue;
                }
                let duplicate = !got_reply.insert(seq);
                answered[idx - 1] = true;
                replies.push(EchoReply {
                    seq,
                    ttl: rx.ttl,
                    rtt: rx.at.saturating_duration_since(sent_at[idx - 1]),
                    from: rx.from,
                    bytes: icmp_len,
                    duplicate,
                    at: rx.at.saturating_duration_since(start),
                });
            }
            Incoming::Error {
                kind,
                quoted:
                    Quoted::Echo {
                        dst: qdst,
                        ident: id,
                        seq,
                    },
            } => {
                let idx = usize::from(seq);
                if id != ident || qdst != dst || idx == 0 || idx > sent_at.len() {
                    continue;
                }
                answered[idx - 1] = true;
                errors.push(PingError {
                    seq,
                    from: Some(rx.from),
                    kind: PingErrorKind::Icmp(kind),
                    at: rx.at.saturating_duration_since(start),
                });
            }
            Incoming::Error { .. } => {}
        }
    }

    let duplicates = replies.iter().filter(|r| r.duplicate).count() as u32;
    Ok(PingReport {
        destination: dst,
        payload_size: opts.payload,
        transmitted: sent_at.len() as u32,
        received: got_reply.len() as u32,
        duplicates,
        errors,
        replies,
        time: last_send - start,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    #[test]
    fn golden_three_replies() {
        let d: IpAddr = "198.51.100.2".parse().unwrap();
        let r = PingReport::new(
            d,
            3,
            vec![
                EchoReply::new(1, d, 64, us(45), us(45)),
                EchoReply::new(2, d, 64, us(61), us(1_000_061)),
                EchoReply::new(3, d, 64, us(31), us(2_003_031)),
            ],
            vec![],
            us(2_003_000),
        );
        assert_eq!(
            r.to_string(),
            "64 bytes from 198.51.100.2: icmp_seq=1 ttl=64 time=0.045 ms\n\
             64 bytes from 198.51.100.2: icmp_seq=2 ttl=64 time=0.061 ms\n\
             64 bytes from 198.51.100.2: icmp_seq=3 ttl=64 time=0.031 ms\n\
             \n\
             --- 198.51.100.2 ping statistics ---\n\
             3 packets transmitted, 3 received, 0% packet loss, time 2003ms\n\
             rtt min/avg/max/mdev = 0.031/0.045/0.061/0.012 ms"
        );
        assert_eq!(
            format!("{r:#}").lines().next().unwrap(),
            "PING 198.51.100.2 (198.51.100.2) 56(84) bytes of data."
        );
        let rtt = r.rtt().unwrap();
        assert_eq!(
            (rtt.min, rtt.avg, rtt.max, rtt.mdev),
            (us(31), us(45), us(61), us(12))
        );
        assert_eq!(r.loss_percent(), 0.0);
    }

    #[test]
    fn golden_time_precision_rules() {
        // iputils: 3 decimals below 1 ms, 2 below 10 ms, 1 below 100 ms, none above.
        assert_eq!(fmt_reply_time(45), "0.045");
        assert_eq!(fmt_reply_time(999), "0.999");
        assert_eq!(fmt_reply_time(1000), "1.00");
        assert_eq!(fmt_reply_time(1234), "1.23");
        assert_eq!(fmt_reply_time(1235), "1.24");
        assert_eq!(fmt_reply_time(9994), "9.99");
        assert_eq!(fmt_reply_time(9995), "10.0");
        assert_eq!(fmt_reply_time(12_345), "12.3");
        assert_eq!(fmt_reply_time(99_949), "99.9");
        assert_eq!(fmt_reply_time(99_950), "100");
        assert_eq!(fmt_reply_time(123_456), "123");
    }

    #[test]
    fn golden_loss_duplicates_and_errors() {
        let d: IpAddr = "203.0.113.2".parse().unwrap();
        let gw: IpAddr = "198.51.100.254".parse().unwrap();
        let r = PingReport::new(
            d,
            3,
            vec![
                EchoReply::new(1, d, 63, us(1_234), us(1_234)),
                EchoReply::new(1, d, 63, us(1_500), us(1_500)).duplicate(),
            ],
            vec![PingError::icmp(
                3,
                gw,
                IcmpErrorKind::Unreachable(super::super::Unreachable::Host),
                us(5_000_000),
            )],
            us(2_001_600),
        );
        assert_eq!(
            r.to_string(),
            "64 bytes from 203.0.113.2: icmp_seq=1 ttl=63 time=1.23 ms\n\
             64 bytes from 203.0.113.2: icmp_seq=1 ttl=63 time=1.50 ms (DUP!)\n\
             From 198.51.100.254 icmp_seq=3 Destination Host Unreachable\n\
             \n\
             --- 203.0.113.2 ping statistics ---\n\
             3 packets transmitted, 1 received, +1 duplicates, +1 errors, 66.6667% packet loss, time 2002ms\n\
             rtt min/avg/max/mdev = 1.234/1.367/1.500/0.133 ms"
        );
    }

    #[test]
    fn golden_all_lost_has_no_rtt_line() {
        let d: IpAddr = "198.51.100.9".parse().unwrap();
        let r = PingReport::new(d, 1, vec![], vec![], Duration::ZERO);
        assert_eq!(
            r.to_string(),
            "--- 198.51.100.9 ping statistics ---\n\
             1 packets transmitted, 0 received, 100% packet loss, time 0ms"
        );
        assert_eq!(
            format!("{r:#}"),
            "PING 198.51.100.9 (198.51.100.9) 56(84) bytes of data.\n\
             \n\
             --- 198.51.100.9 ping statistics ---\n\
             1 packets transmitted, 0 received, 100% packet loss, time 0ms"
        );
        assert!(r.rtt().is_none());
        assert!(!r.is_reachable());
    }

    #[test]
    fn golden_ttl_exceeded_and_send_failure() {
        let d: IpAddr = "203.0.113.2".parse().unwrap();
        let r = PingReport::new(
            d,
            2,
            vec![],
            vec![
                PingError::icmp(
                    1,
                    "198.51.100.254".parse().unwrap(),
                    IcmpErrorKind::TtlExceeded,
                    us(50),
                ),
                PingError::send(2, libc::ENETUNREACH, us(1_000_000)),
            ],
            us(1_000_000),
        );
        assert_eq!(
            r.to_string(),
            "From 198.51.100.254 icmp_seq=1 Time to live exceeded\n\
             ping: sendmsg: Network is unreachable\n\
             \n\
             --- 203.0.113.2 ping statistics ---\n\
             2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 1000ms"
        );
    }

    #[test]
    fn golden_ipv6() {
        let d: IpAddr = "2001:db8::2".parse().unwrap();
        let r = PingReport::new(
            d,
            2,
            vec![EchoReply::new(1, d, 64, us(52), us(52))],
            vec![PingError::icmp(
                2,
                "2001:db8::1".parse().unwrap(),
                IcmpErrorKind::Unreachable(super::super::Unreachable::Address),
                us(4_000_000),
            )],
            us(1_000_100),
        );
        assert_eq!(
            format!("{r:#}"),
            "PING 2001:db8::2 (2001:db8::2) 56 data bytes\n\
             64 bytes from 2001:db8::2: icmp_seq=1 ttl=64 time=0.052 ms\n\
             From 2001:db8::1 icmp_seq=2 Destination unreachable: Address unreachable\n\
             \n\
             --- 2001:db8::2 ping statistics ---\n\
             2 packets transmitted, 1 received, +1 errors, 50% packet loss, time 1000ms\n\
             rtt min/avg/max/mdev = 0.052/0.052/0.052/0.000 ms"
        );
    }

    #[test]
    fn golden_small_payload_prints_no_times() {
        let d: IpAddr = "198.51.100.2".parse().unwrap();
        let mut reply = EchoReply::new(1, d, 64, us(45), us(45));
        reply.bytes = 16;
        let r = PingReport::new(d, 1, vec![reply], vec![], Duration::ZERO).with_payload_size(8);
        assert_eq!(
            r.to_string(),
            "16 bytes from 198.51.100.2: icmp_seq=1 ttl=64\n\
             \n\
             --- 198.51.100.2 ping statistics ---\n\
             1 packets transmitted, 1 received, 0% packet loss, time 0ms"
        );
    }

    #[test]
    fn percent_g_like_c() {
        assert_eq!(fmt_g(0.0), "0");
        assert_eq!(fmt_g(100.0), "100");
        assert_eq!(fmt_g(50.0), "50");
        assert_eq!(fmt_g(100.0 / 3.0), "33.3333");
        assert_eq!(fmt_g(200.0 / 3.0), "66.6667");
        assert_eq!(fmt_g(100.0 / 7.0), "14.2857");
        assert_eq!(fmt_g(12.5), "12.5");
        assert_eq!(fmt_g(0.1), "0.1");
        assert_eq!(fmt_g(100.0 / 1024.0), "0.0976562");
        assert_eq!(fmt_g(0.00005), "5e-05");
    }

    #[test]
    fn bad_options_are_typed_errors() {
        let v4: IpAddr = "198.51.100.2".parse().unwrap();
        let v6: IpAddr = "2001:db8::2".parse().unwrap();
        let err = |o: PingOptions, d| o.validate(d).unwrap_err();
        assert!(matches!(
            err(PingOptions::new().count(0), v4),
            ProbeError::InvalidOption {
                option: "count",
                ..
            }
        ));
        assert!(matches!(
            err(PingOptions::new().ttl(0), v4),
            ProbeError::InvalidOption { option: "ttl", .. }
        ));
        assert!(matches!(
            err(PingOptions::new().timeout(Duration::ZERO), v4),
            ProbeError::InvalidOption {
                option: "timeout",
                ..
            }
        ));
        assert!(matches!(
            err(PingOptions::new().payload_size(65508), v4),
            ProbeError::PayloadTooLarge { max: 65507, .. }
        ));
        assert!(PingOptions::new().payload_size(65508).validate(v6).is_ok());
        assert!(matches!(
            err(PingOptions::new().source(v4), v6),
            ProbeError::FamilyMismatch { .. }
        ));
        assert!(matches!(
            err(PingOptions::new().interface("a-name-that-is-too-long"), v4),
            ProbeError::InvalidOption {
                option: "interface",
                ..
            }
        ));
        assert!(matches!(
            err(PingOptions::new(), "0.0.0.0".parse().unwrap()),
            ProbeError::InvalidDestination { .. }
        ));
        let msg = err(PingOptions::new().count(0), v4).to_string();
        assert!(msg.contains("count"), "{msg}");
    }
}

//! The report and its iputils-style `Display`.

use crate::packet::IcmpErrorKind;
use crate::probe::sock::{self};
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

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

/// The result of a [`ping`](crate::probe::ping()).
///
/// `Display` prints it as iputils `ping` does: the `PING ... bytes of
/// data.` header, one line per reply or error in arrival order, a blank
/// line, the statistics. `{:#}` leaves the header out. No trailing newline.
///
/// ```text
/// PING 198.51.100.2 (198.51.100.2) 56(84) bytes of data.
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
pub(super) fn fmt_reply_time(us: i128) -> String {
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
        if !f.alternate() {
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

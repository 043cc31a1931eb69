//! Options, builder style.

use crate::probe::sock::{self, Bind};
use crate::probe::ProbeError;
use std::net::IpAddr;
use std::time::Duration;

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

/// Options of [`traceroute`](crate::probe::traceroute()), builder style.
///
/// Defaults: ICMP echo mode, 30 hops max, 3 probes per hop (as traceroute),
/// 2 s of waiting for each probe (traceroute: 5 s), 32 payload bytes (60-byte
/// packets over IPv4, 80 over IPv6, as traceroute), one hop at a time (the
/// probes of a hop in flight together; traceroute sends 16 at once, see
/// [`in_flight`](Self::in_flight)), no source address or interface binding.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TraceOptions {
    /// ICMP echo or UDP probes.
    pub mode: TraceMode,
    /// The largest TTL to try.
    pub max_hops: u8,
    /// Probes per hop.
    pub probes_per_hop: u8,
    /// How long to wait for each probe's answer.
    pub timeout: Duration,
    /// Payload bytes after the ICMP or UDP header.
    pub payload_size: usize,
    /// Probes in flight at once, if set.
    pub in_flight: Option<u16>,
    /// The address to send from, if set.
    pub source: Option<IpAddr>,
    /// The interface to send through, if set.
    pub interface: Option<String>,
}

impl Default for TraceOptions {
    fn default() -> Self {
        TraceOptions {
            mode: TraceMode::Icmp,
            max_hops: 30,
            probes_per_hop: 3,
            timeout: Duration::from_secs(2),
            payload_size: 32,
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
    /// How long to wait for the answer to each probe (`traceroute -w`); more
    /// than zero, at most [`MAX_WAIT`](crate::probe::MAX_WAIT). Default 2 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// Payload bytes after the 8-byte ICMP or UDP header. Default 32.
    pub fn payload_size(mut self, bytes: usize) -> Self {
        self.payload_size = bytes;
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
    pub(super) fn bind(&self) -> Bind<'_> {
        Bind {
            source: self.source,
            interface: self.interface.as_deref(),
        }
    }

    /// Checks the options against a destination.
    pub fn validate(&self, dst: IpAddr) -> Result<(), ProbeError> {
        let bad = |option, value: String, reason: &str| ProbeError::InvalidOption {
            probe: "traceroute",
            option,
            value,
            reason: reason.into(),
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
        ProbeError::check_wait("traceroute", "timeout", self.timeout)?;
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
            (crate::probe::MAX_PAYLOAD_V4, "IPv4")
        } else {
            (crate::probe::MAX_PAYLOAD_V6, "IPv6")
        };
        if self.payload_size > max {
            return Err(ProbeError::PayloadTooLarge {
                probe: "traceroute",
                size: self.payload_size,
                max,
                family,
            });
        }
        if dst.is_unspecified() {
            return Err(ProbeError::InvalidDestination {
                probe: "traceroute",
                destination: dst.to_string(),
                reason: "the unspecified address is not a destination".into(),
            });
        }
        sock::check_bind("traceroute", dst, self.bind())
    }
}

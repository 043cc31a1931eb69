//! Options, builder style.

use crate::probe::sock::{self, Bind};
use crate::probe::ProbeError;
use std::net::IpAddr;
use std::time::Duration;

/// The largest echo payload over IPv4: 65535 - 20 (IP header) - 8 (ICMP header).
pub const MAX_PAYLOAD_V4: usize = 65507;
/// The largest echo payload over IPv6 (no jumbograms): 65535 - 8 (ICMPv6 header).
pub const MAX_PAYLOAD_V6: usize = 65527;

/// Options of [`ping`](crate::probe::ping()), builder style.
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
/// assert_eq!(opts.count, 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PingOptions {
    /// How many echo requests to send.
    pub count: u32,
    /// The time between two requests.
    pub interval: Duration,
    /// How long to wait for each reply.
    pub timeout: Duration,
    /// An overall limit on the run.
    pub deadline: Option<Duration>,
    /// Payload bytes after the ICMP header.
    pub payload_size: usize,
    /// TTL (IPv4) or hop limit (IPv6), if set.
    pub ttl: Option<u8>,
    /// The address to send from, if set.
    pub source: Option<IpAddr>,
    /// The interface to send through, if set.
    pub interface: Option<String>,
    /// Whether the destination may be a broadcast address.
    pub broadcast: bool,
    /// Whether fragmentation is forbidden (path-MTU discovery "do").
    pub dont_fragment: bool,
}

impl Default for PingOptions {
    fn default() -> Self {
        PingOptions {
            count: 1,
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(2),
            deadline: None,
            payload_size: 56,
            ttl: None,
            source: None,
            interface: None,
            broadcast: false,
            dont_fragment: false,
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
    /// The time between two requests (`ping -i`); zero sends back to back,
    /// at most [`MAX_WAIT`](crate::probe::MAX_WAIT). The first request
    /// leaves at once. Default 1 s.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }
    /// How long to wait for the reply to each request after sending it
    /// (`ping -W`); more than zero, at most
    /// [`MAX_WAIT`](crate::probe::MAX_WAIT). Default 2 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// An overall limit on the run (`ping -w`): the ping stops then, whatever
    /// was sent or received; more than zero, at most
    /// [`MAX_WAIT`](crate::probe::MAX_WAIT). Default none.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }
    /// The number of payload bytes after the 8-byte ICMP header (`ping -s`).
    /// Default 56. Below 16 the report, like iputils, prints no times.
    pub fn payload_size(mut self, bytes: usize) -> Self {
        self.payload_size = bytes;
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
    /// Allows pinging a broadcast address (`ping -b`, `SO_BROADCAST`).
    /// Without it the kernel refuses to send to one, and the ping fails with
    /// [`ProbeError::Broadcast`](crate::probe::ProbeError::Broadcast). Hosts
    /// answer broadcast pings only where
    /// `net.ipv4.icmp_echo_ignore_broadcasts` is 0 (it is 1 by default).
    pub fn broadcast(mut self, allow: bool) -> Self {
        self.broadcast = allow;
        self
    }
    /// Forbids fragmentation (`ping -M do`): a request larger than the path
    /// MTU is not sent, and is recorded as a send error ("Message too
    /// long"), so a test can tell that a payload does not fit a link.
    pub fn dont_fragment(mut self, forbid: bool) -> Self {
        self.dont_fragment = forbid;
        self
    }
    /// Sends through this interface (`ping -I IFACE`, `SO_BINDTODEVICE`).
    pub fn interface(mut self, name: impl Into<String>) -> Self {
        self.interface = Some(name.into());
        self
    }
    /// Checks the options against a destination.
    pub fn validate(&self, dst: IpAddr) -> Result<(), ProbeError> {
        let bad = |option, value: String, reason: &str| ProbeError::InvalidOption {
            probe: "ping",
            option,
            value,
            reason: reason.into(),
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
        ProbeError::check_wait("ping", "timeout", self.timeout)?;
        ProbeError::check_wait("ping", "interval", self.interval)?;
        if let Some(deadline) = self.deadline {
            ProbeError::check_wait("ping", "deadline", deadline)?;
        }
        if self.ttl == Some(0) {
            return Err(bad("ttl", "0".into(), "a TTL is 1 to 255"));
        }
        let (max, family) = if dst.is_ipv4() {
            (MAX_PAYLOAD_V4, "IPv4")
        } else {
            (MAX_PAYLOAD_V6, "IPv6")
        };
        if self.payload_size > max {
            return Err(ProbeError::PayloadTooLarge {
                probe: "ping",
                size: self.payload_size,
                max,
                family,
            });
        }
        if dst.is_unspecified() {
            return Err(ProbeError::InvalidDestination {
                probe: "ping",
                destination: dst.to_string(),
                reason: "the unspecified address is not a destination".into(),
            });
        }
        sock::check_bind("ping", dst, self.bind())
    }

    pub(super) fn bind(&self) -> Bind<'_> {
        Bind {
            source: self.source,
            interface: self.interface.as_deref(),
        }
    }
}

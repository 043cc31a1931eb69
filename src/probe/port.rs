//! TCP and UDP port probes.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use socket2::{Protocol, SockAddr, Socket, Type};

use super::errqueue::{ask_for_errors, queued_icmp_error, IcmpError};
use super::sock;
use super::ProbeError;

/// The state of a TCP port, as a connection attempt saw it: open, refused
/// at once (a reset from the host, or an ICMP port unreachable from it or
/// from a firewall's `reject` on the way), silently filtered (timed out),
/// or unreachable by another ICMP error (a router's "administratively
/// prohibited", no route). [`TcpReport::icmp`] tells which ICMP error and
/// who sent it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PortState {
    /// The handshake completed: something listens.
    Open,
    /// The peer answered with a reset (`ECONNREFUSED`): the host is up,
    /// nothing listens.
    Refused,
    /// No answer within the timeout (dropped on the way, or filtered).
    TimedOut,
    /// The connection failed otherwise, typically because an ICMP error came
    /// back (`EHOSTUNREACH`, `ENETUNREACH`) or there is no route.
    Unreachable {
        /// The errno (0 if none).
        errno: i32,
        /// Its text (`No route to host`).
        message: String,
    },
}

impl PortState {
    fn from_error(e: &io::Error) -> Self {
        match e.raw_os_error() {
            Some(libc::ECONNREFUSED) => PortState::Refused,
            Some(libc::ETIMEDOUT) => PortState::TimedOut,
            _ if matches!(
                e.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) =>
            {
                PortState::TimedOut
            }
            errno => PortState::Unreachable {
                errno: errno.unwrap_or(0),
                message: sock::errno_text(e),
            },
        }
    }
}

impl fmt::Display for PortState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortState::Open => f.write_str("open"),
            PortState::Refused => f.write_str("refused"),
            PortState::TimedOut => f.write_str("timed out"),
            PortState::Unreachable { message, .. } => write!(f, "unreachable ({message})"),
        }
    }
}

/// The result of [`tcp_connect`](super::tcp_connect).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TcpReport {
    /// The address probed.
    pub addr: SocketAddr,
    /// What the attempt saw.
    pub state: PortState,
    /// How long the attempt took.
    pub elapsed: Duration,
    /// The ICMP error that ended the attempt, and who sent it; `None` for a
    /// reset, a timeout or a success.
    pub icmp: Option<IcmpError>,
}

impl TcpReport {
    /// Whether the port is open.
    pub fn is_open(&self) -> bool {
        self.state == PortState::Open
    }
}

impl fmt::Display for TcpReport {
    /// `tcp 198.51.100.2:80: open in 0.061 ms`, `tcp 203.0.113.10:81:
    /// refused (Destination Port Unreachable from 203.0.113.1) in 0.2 ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tcp {}: {}", self.addr, self.state)?;
        match (&self.state, &self.icmp) {
            (PortState::Refused, None) => write!(f, " (reset)")?,
            (_, Some(icmp)) => write!(f, " ({icmp})")?,
            _ => {}
        }
        write!(f, " in {:.3} ms", self.elapsed.as_secs_f64() * 1000.0)
    }
}

/// Refuses what a port probe `probe` cannot be sent to (port 0, the
/// unspecified address) and a `timeout` it cannot wait (see
/// [`ProbeError::check_timeout`]).
pub(crate) fn check_addr(
    probe: &'static str,
    addr: SocketAddr,
    timeout: Duration,
) -> Result<(), ProbeError> {
    if addr.port() == 0 || addr.ip().is_unspecified() {
        return Err(ProbeError::InvalidDestination {
            probe,
            destination: addr.to_string(),
            reason: "a port probe needs a specified address and a port other than 0".into(),
        });
    }
    ProbeError::check_timeout(probe, timeout)
}

/// Tries a TCP connection to `addr` from the calling thread's namespace,
/// waiting at most `timeout`; the connection is closed right away, the way a
/// polite client closes it: with a FIN, so a server that accepts and reads
/// sees the end of the stream (a read of 0 bytes), not a reset. Whatever the
/// server sent meanwhile is read and dropped first (up to 1 MiB): closing a
/// socket with unread data makes the kernel send a reset.
///
/// The calling thread must be inside a namespace this process created;
/// otherwise [`ProbeError::ForeignNamespace`]. A closed or filtered port is
/// a result ([`PortState`]), not an error.
///
/// ```no_run
/// use std::time::Duration;
/// use netns_test::probe::{self, PortState};
/// # let ns = netns_test::NetNs::new("lab")?;
/// let p = ns.run(|| probe::tcp_connect("198.51.100.2:80".parse().unwrap(), Duration::from_secs(1)))??;
/// assert_eq!(p.state, PortState::Open);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn tcp_connect(addr: SocketAddr, timeout: Duration) -> Result<TcpReport, ProbeError> {
    check_addr("tcp_connect", addr, timeout)?;
    sock::ensure_current_is_ours()?;
    let s = Socket::new(sock::domain(addr.ip()), Type::STREAM, Some(Protocol::TCP))
        .map_err(|e| ProbeError::io("tcp_connect: open a TCP socket", e))?;
    ask_for_errors(&s, addr.is_ipv6())
        .map_err(|e| ProbeError::io("tcp_connect: setsockopt IP_RECVERR", e.into()))?;
    let start = Instant::now();
    let state = match connect_until(&s, &SockAddr::from(addr), start + timeout) {
        Ok(()) => PortState::Open,
        Err(e) => PortState::from_error(&e),
    };
    let elapsed = start.elapsed();
    let icmp = match state {
        PortState::Open => None,
        _ => queued_icmp_error(&s),
    };
    if state == PortState::Open {
        close_gracefully(s);
    }
    Ok(TcpReport {
        addr,
        state,
        elapsed,
        icmp,
    })
}

/// The most a probe reads, and drops, of what the server sent before it
/// closes (a server that streams without end must not hold the probe).
const DRAIN_LIMIT: usize = 1 << 20;

/// Ends an established probe connection with a FIN: shut down the sending
/// side first (the FIN leaves now, before anything else the probe does),
/// then read and drop what already arrived, then close. A server that
/// writes after that gets a reset for its write, as from any closed socket.
fn close_gracefully(s: Socket) {
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut buf = [0u8; 16 * 1024];
    let mut drained = 0;
    while drained < DRAIN_LIMIT {
        match recv_dontwait(&s, &mut buf) {
            Ok(0) => break,
            Ok(n) => drained += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    drop(s);
}

/// A non-blocking connect that waits for the handshake until `until`, and
/// never gives up before it (socket2's `connect_timeout` polls with whole
/// milliseconds rounded down and can report a timeout up to 1 ms early).
fn connect_until(s: &Socket, addr: &SockAddr, until: Instant) -> io::Result<()> {
    s.set_nonblocking(true)?;
    match s.connect(addr) {
        Ok(()) => return Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    loop {
        let now = Instant::now();
        if now >= until {
            // The handshake may have completed at the last moment.
            return match s.take_error()? {
                Some(e) => Err(e),
                None if s.peer_addr().is_ok() => Ok(()),
                None => Err(io::Error::from_raw_os_error(libc::ETIMEDOUT)),
            };
        }
        let mut fds = [nix::poll::PollFd::new(
            std::os::fd::AsFd::as_fd(s),
            nix::poll::PollFlags::POLLOUT,
        )];
        match nix::poll::ppoll(
            &mut fds,
            Some(nix::sys::time::TimeSpec::from_duration(until - now)),
            None,
        ) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
            Ok(_) => {
                return match s.take_error()? {
                    Some(e) => Err(e),
                    None => match s.peer_addr() {
                        Ok(_) => Ok(()),
                        // Writable without a peer and without an error: ask
                        // the kernel again through a second connect.
                        Err(_) => s.connect(addr),
                    },
                };
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// What a UDP request got back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UdpOutcome {
    /// A datagram came back from the address.
    Reply(Vec<u8>),
    /// Nothing came back within the timeout.
    Timeout,
    /// ICMP port unreachable came back (`ECONNREFUSED` on the connected
    /// socket): the host is up, nothing listens.
    Refused,
    /// Another ICMP error or local failure (`EHOSTUNREACH`, `ENETUNREACH`, ...).
    Unreachable {
        /// The errno.
        errno: i32,
        /// Its text.
        message: String,
    },
}

/// The result of [`udp_request`](super::udp_request).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UdpReport {
    /// The address probed.
    pub addr: SocketAddr,
    /// What came back.
    pub outcome: UdpOutcome,
    /// From sending to the outcome.
    pub elapsed: Duration,
    /// The ICMP error behind [`UdpOutcome::Refused`] or
    /// [`UdpOutcome::Unreachable`], and who sent it.
    pub icmp: Option<IcmpError>,
}

impl UdpReport {
    /// The reply bytes, if a reply came.
    pub fn reply(&self) -> Option<&[u8]> {
        match &self.outcome {
            UdpOutcome::Reply(b) => Some(b),
            _ => None,
        }
    }
}

fn udp_outcome(e: &io::Error) -> UdpOutcome {
    match e.raw_os_error() {
        Some(libc::ECONNREFUSED) => UdpOutcome::Refused,
        _ if matches!(
            e.kind(),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
        ) =>
        {
            UdpOutcome::Timeout
        }
        errno => UdpOutcome::Unreachable {
            errno: errno.unwrap_or(0),
            message: sock::errno_text(e),
        },
    }
}

/// Sends `request` in one UDP datagram to `addr` from the calling thread's
/// namespace and waits at most `timeout` for a datagram back.
///
/// The socket is connected and asks for ICMP errors (`IP_RECVERR`), so the
/// kernel reports ICMP port unreachable as [`UdpOutcome::Refused`] and host
/// or network unreachable as [`UdpOutcome::Unreachable`]. The calling thread must be inside a namespace
/// this process created; otherwise [`ProbeError::ForeignNamespace`].
///
/// ```no_run
/// use std::time::Duration;
/// use netns_test::probe;
/// # let ns = netns_test::NetNs::new("lab")?;
/// let p = ns.run(|| probe::udp_request("198.51.100.2:7".parse().unwrap(), b"ping", Duration::from_secs(1)))??;
/// assert_eq!(p.reply(), Some(&b"ping"[..]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn udp_request(
    addr: SocketAddr,
    request: &[u8],
    timeout: Duration,
) -> Result<UdpReport, ProbeError> {
    check_addr("udp_request", addr, timeout)?;
    let max = if addr.is_ipv4() {
        super::ping::MAX_PAYLOAD_V4
    } else {
        super::ping::MAX_PAYLOAD_V6
    };
    if request.len() > max {
        return Err(ProbeError::PayloadTooLarge {
            probe: "udp_request",
            size: request.len(),
            max,
            family: if addr.is_ipv4() { "IPv4" } else { "IPv6" },
        });
    }
    sock::ensure_current_is_ours()?;
    let s = Socket::new(sock::domain(addr.ip()), Type::DGRAM, Some(Protocol::UDP))
        .map_err(|e| ProbeError::io("udp_request: open a UDP socket", e))?;
    let any: IpAddr = if addr.is_ipv4() {
        Ipv4Addr::UNSPECIFIED.into()
    } else {
        Ipv6Addr::UNSPECIFIED.into()
    };
    s.bind(&SockAddr::from(SocketAddr::new(any, 0)))
        .map_err(|e| ProbeError::io("udp_request: bind the UDP socket", e))?;
    // Without IP_RECVERR the kernel reports only "hard" ICMP errors (port
    // unreachable) to a connected UDP socket; with it, host and network
    // unreachable too, with the sender's address on the error queue.
    ask_for_errors(&s, addr.is_ipv6())
        .map_err(|e| ProbeError::io("udp_request: setsockopt IP_RECVERR", e.into()))?;
    let start = Instant::now();
    let done = |outcome| {
        let elapsed = start.elapsed();
        let icmp = match outcome {
            UdpOutcome::Refused | UdpOutcome::Unreachable { .. } => queued_icmp_error(&s),
            _ => None,
        };
        UdpReport {
            addr,
            outcome,
            elapsed,
            icmp,
        }
    };
    if let Err(e) = s.connect(&SockAddr::from(addr)) {
        return Ok(done(udp_outcome(&e)));
    }
    if let Err(e) = s.send(request) {
        return Ok(done(udp_outcome(&e)));
    }
    let until = start + timeout;
    let mut buf = vec![0u8; 65536];
    loop {
        if !sock::wait_readable(&s, until)? {
            // A pending error (ICMP) also makes the socket readable, so this
            // is silence.
            return Ok(done(UdpOutcome::Timeout));
        }
        match recv_dontwait(&s, &mut buf) {
            Ok(n) => return Ok(done(UdpOutcome::Reply(buf[..n].to_vec()))),
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.kind() == io::ErrorKind::Interrupted =>
            {
                continue
            }
            Err(e) => return Ok(done(udp_outcome(&e))),
        }
    }
}

fn recv_dontwait(s: &Socket, buf: &mut [u8]) -> io::Result<usize> {
    let fd = std::os::fd::AsRawFd::as_raw_fd(s);
    nix::sys::socket::recv(fd, buf, nix::sys::socket::MsgFlags::MSG_DONTWAIT)
        .map_err(io::Error::from)
}

//! Waiting for reachability: poll with growing tries until success or a deadline.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::ping::{ping, PingOptions, PingReport};
use super::port::{tcp_connect, TcpReport};
use super::ProbeError;

/// How long the first try waits for its answer; each later try waits twice
/// as long as the one before, up to what is left of the overall timeout, so
/// a path whose round trip is longer still answers a later try.
const FIRST_TRY: Duration = Duration::from_millis(250);
/// The first pause between tries; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(10);
const MAX_PAUSE: Duration = Duration::from_millis(100);

/// The tries and pauses of one wait.
struct Schedule {
    start: Instant,
    until: Instant,
    try_for: Duration,
    pause: Duration,
    attempts: u32,
}

impl Schedule {
    fn new(timeout: Duration) -> Self {
        let start = Instant::now();
        Schedule {
            start,
            // `timeout` is at most `MAX_WAIT`: no overflow.
            until: start + timeout,
            try_for: FIRST_TRY,
            pause: FIRST_PAUSE,
            attempts: 0,
        }
    }

    /// How long the next try waits: its share, or what is left if less
    /// (at least 1 ms).
    fn next_try(&mut self) -> Duration {
        let left = self.until.saturating_duration_since(Instant::now());
        let this = left.min(self.try_for).max(Duration::from_millis(1));
        self.try_for = self.try_for.saturating_mul(2);
        self.attempts += 1;
        this
    }

    /// Pauses before the next try; `Err` with the time waited when none fits.
    fn pause(&mut self) -> Result<(), Duration> {
        let now = Instant::now();
        if self.until.saturating_duration_since(now) <= self.pause {
            return Err(now - self.start);
        }
        std::thread::sleep(self.pause);
        self.pause = (self.pause * 2).min(MAX_PAUSE);
        Ok(())
    }
}

/// Pings `dst` (one request per try) until a reply comes back or `timeout`
/// (at most [`MAX_WAIT`](super::MAX_WAIT)) passes. The first try waits
/// 250 ms for its reply, each later one twice as long as the one before (up
/// to what is left of `timeout`), so a slow path (a satellite link) answers a
/// later try; tries are 10 ms apart, the pause doubling up to 100 ms.
///
/// Returns the report of the successful ping. When time runs out, the error
/// [`ProbeError::NotReachable`] carries the last report. Runs on the calling
/// thread, which must be inside a namespace this process created.
///
/// ```no_run
/// use std::time::Duration;
/// use netns_test::probe;
/// # let ns = netns_test::NetNs::new("lab")?;
/// ns.run(|| probe::wait_reachable("198.51.100.2".parse().unwrap(), Duration::from_secs(5)))??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn wait_reachable(dst: IpAddr, timeout: Duration) -> Result<PingReport, ProbeError> {
    ProbeError::check_timeout("wait_reachable", timeout)?;
    let mut plan = Schedule::new(timeout);
    loop {
        let opts = PingOptions::new().count(1).timeout(plan.next_try());
        let report = ping(dst, &opts)?;
        if report.received > 0 {
            return Ok(report);
        }
        if let Err(waited) = plan.pause() {
            return Err(ProbeError::NotReachable {
                destination: dst,
                waited,
                attempts: plan.attempts,
                last: Box::new(report),
            });
        }
    }
}

/// Tries TCP connections to `addr` until one succeeds or `timeout` (at most
/// [`MAX_WAIT`](super::MAX_WAIT)) passes. The first connection waits 250 ms
/// for the handshake, each later one twice as long as the one before (up to
/// what is left of `timeout`: the last one stays in progress until the
/// end), so a slow path answers a later try; tries are 10 ms apart, the
/// pause doubling up to 100 ms.
///
/// Returns the successful probe. When time runs out, the error
/// [`ProbeError::PortNotOpen`] carries the last attempt. Runs on the calling
/// thread, which must be inside a namespace this process created.
///
/// ```no_run
/// use std::time::Duration;
/// use netns_test::probe;
/// # let ns = netns_test::NetNs::new("lab")?;
/// ns.run(|| probe::wait_port_open("198.51.100.2:80".parse().unwrap(), Duration::from_secs(5)))??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn wait_port_open(addr: SocketAddr, timeout: Duration) -> Result<TcpReport, ProbeError> {
    ProbeError::check_timeout("wait_port_open", timeout)?;
    let mut plan = Schedule::new(timeout);
    loop {
        let probe = tcp_connect(addr, plan.next_try())?;
        if probe.is_open() {
            return Ok(probe);
        }
        if let Err(waited) = plan.pause() {
            return Err(ProbeError::PortNotOpen {
                addr,
                waited,
                attempts: plan.attempts,
                last: Box::new(probe),
            });
        }
    }
}

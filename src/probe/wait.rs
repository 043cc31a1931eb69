//! Waiting for reachability: poll with short tries until success or a deadline.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::ping::{ping, PingOptions, PingReport};
use super::port::{tcp_connect, TcpReport};
use super::ProbeError;

/// The longest a single try waits for its answer.
const TRY_TIMEOUT: Duration = Duration::from_millis(250);
/// The first pause between tries; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(10);
const MAX_PAUSE: Duration = Duration::from_millis(100);

fn check_timeout(probe: &'static str, timeout: Duration) -> Result<(), ProbeError> {
    if timeout.is_zero() {
        return Err(ProbeError::InvalidOption {
            probe,
            option: "timeout",
            value: "0s".into(),
            reason: "wait more than zero".into(),
        });
    }
    Ok(())
}

/// Pings `dst` (one request per try, each waiting at most 250 ms) until a
/// reply comes back or `timeout` passes, pausing 10 ms between tries and
/// doubling the pause up to 100 ms.
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
    check_timeout("wait_reachable", timeout)?;
    let start = Instant::now();
    let until = start + timeout;
    let mut pause = FIRST_PAUSE;
    let mut attempts = 0;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let opts = PingOptions::new()
            .count(1)
            .timeout(left.clamp(Duration::from_millis(1), TRY_TIMEOUT));
        let report = ping(dst, &opts)?;
        attempts += 1;
        if report.received > 0 {
            return Ok(report);
        }
        let now = Instant::now();
        if now + pause >= until {
            return Err(ProbeError::NotReachable {
                destination: dst,
                waited: now - start,
                attempts,
                last: Box::new(report),
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// Tries TCP connections to `addr` (each waiting at most 250 ms) until one
/// succeeds or `timeout` passes, pausing 10 ms between tries and doubling
/// the pause up to 100 ms.
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
    check_timeout("wait_port_open", timeout)?;
    let start = Instant::now();
    let until = start + timeout;
    let mut pause = FIRST_PAUSE;
    let mut attempts = 0;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let probe = tcp_connect(addr, left.clamp(Duration::from_millis(1), TRY_TIMEOUT))?;
        attempts += 1;
        if probe.is_open() {
            return Ok(probe);
        }
        let now = Instant::now();
        if now + pause >= until {
            return Err(ProbeError::PortNotOpen {
                addr,
                waited: now - start,
                attempts,
                last: Box::new(probe),
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

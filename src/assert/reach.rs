//! Reachability: `assert_reachable!` and `assert_unreachable!`.

use std::net::IpAddr;
use std::time::Duration;

use super::{AssertFailure, AssertKind, ProbeResult, Source};
use crate::probe::{PingOptions, PingReport};
use crate::vocab::IntoIp;

/// The ping an assertion sends unless told otherwise: 3 requests 10 ms
/// apart, each waiting up to 1 s for its reply.
///
/// ```
/// assert_eq!(netns_test::assert::default_ping().count, 3);
/// ```
pub fn default_ping() -> PingOptions {
    PingOptions::new()
        .count(3)
        .interval(Duration::from_millis(10))
        .timeout(Duration::from_secs(1))
}

/// Runs the ping, or builds the failure for a probe that could not run.
fn run_ping(
    kind: AssertKind,
    src: &Source<'_>,
    dst: impl IntoIp,
    opts: &PingOptions,
) -> Result<(IpAddr, PingReport), AssertFailure> {
    let dst = src
        .resolve(dst)
        .map_err(|(text, why)| src.unresolved(kind, text, why))?;
    match src.node.ping(dst).options(opts.clone()).run() {
        Ok(r) => Ok((dst, r)),
        Err(e) => {
            let mut f = AssertFailure::new(
                kind,
                src.node.name(),
                dst.to_string(),
                "the ping could not run",
                ProbeResult::Error(e.to_string()),
            );
            f.destination_node = src.name_of(dst);
            let names = involved(src, f.destination_node.as_deref());
            src.evidence(&mut f, &names);
            Err(f)
        }
    }
}

pub(super) fn involved(src: &Source<'_>, dst_node: Option<&str>) -> Vec<String> {
    let mut v = vec![src.node.name().to_string()];
    v.extend(dst_node.map(str::to_string));
    v
}

/// One line on what a ping saw: `0 of 3 echo requests answered; first
/// error: From 198.51.100.254 icmp_seq=1 Destination Net Unreachable`.
pub(super) fn ping_summary(r: &PingReport) -> String {
    let mut s = format!("{} of {} echo requests answered", r.received, r.transmitted);
    if let Some(line) = r
        .to_string()
        .lines()
        .find(|l| l.starts_with("From ") || l.starts_with("ping: "))
    {
        s.push_str(&format!("; first error: {line}"));
    } else if r.received == 0 {
        s.push_str(", no ICMP error came back");
    }
    s
}

/// Pings `dst` from `src` with [`default_ping`] and succeeds if at least one
/// reply came back.
///
/// `src` is a node (`&net["h1"]`) or a [`Source::with_net`]. On failure the
/// error holds the ping report and the reports of the source and the
/// destination's node (see the [module documentation](crate::assert)).
///
/// ```
/// use netns_test::{assert, Net, Topology};
/// let net = Net::build(&Topology::new().link(("a", "e0", "198.51.100.1/24"), ("b", "e0", "198.51.100.2/24")))?;
/// let report = assert::reachable(&net["a"], "198.51.100.2").unwrap();
/// assert!(report.received >= 1);
/// let failure = assert::reachable(&net["a"], "198.51.100.3").unwrap_err();
/// assert!(failure.to_string().contains("0 of 3 echo requests answered"));
/// # Ok::<(), netns_test::Error>(())
/// ```
pub fn reachable<'a>(
    src: impl Into<Source<'a>>,
    dst: impl IntoIp,
) -> Result<PingReport, AssertFailure> {
    reachable_with(src, dst, &default_ping())
}

/// [`reachable`] with your own ping options.
///
/// ```
/// use std::time::Duration;
/// use netns_test::{assert, probe::PingOptions, Net, Topology};
/// let net = Net::build(&Topology::new().link(("a", "e0", "2001:db8::1/64"), ("b", "e0", "2001:db8::2/64")))?;
/// let opts = PingOptions::new().count(5).interval(Duration::from_millis(5));
/// let report = assert::reachable_with(&net["a"], "2001:db8::2", &opts).unwrap();
/// assert_eq!(report.transmitted, 5);
/// # Ok::<(), netns_test::Error>(())
/// ```
pub fn reachable_with<'a>(
    src: impl Into<Source<'a>>,
    dst: impl IntoIp,
    opts: &PingOptions,
) -> Result<PingReport, AssertFailure> {
    let src = src.into();
    let (ip, report) = run_ping(AssertKind::Reachable, &src, dst, opts)?;
    if report.is_reachable() {
        return Ok(report);
    }
    let mut f = AssertFailure::new(
        AssertKind::Reachable,
        src.node.name(),
        ip.to_string(),
        ping_summary(&report),
        ProbeResult::Ping(report),
    );
    f.destination_node = src.name_of(ip);
    let names = involved(&src, f.destination_node.as_deref());
    src.evidence(&mut f, &names);
    Err(f)
}

/// Pings `dst` from `src` with [`default_ping`] and succeeds if no reply
/// came back; the report (with any ICMP error received) is returned.
///
/// ```
/// use netns_test::{assert, Net, Topology};
/// let net = Net::build(&Topology::new().link(("a", "e0", "198.51.100.1/24"), ("b", "e0", "198.51.100.2/24")))?;
/// // No route to 203.0.113.0/24 in `a`: the send fails, nothing leaves.
/// let report = assert::unreachable(&net["a"], "203.0.113.1").unwrap();
/// assert_eq!(report.received, 0);
/// assert!(assert::unreachable(&net["a"], "198.51.100.2").is_err());
/// # Ok::<(), netns_test::Error>(())
/// ```
pub fn unreachable<'a>(
    src: impl Into<Source<'a>>,
    dst: impl IntoIp,
) -> Result<PingReport, AssertFailure> {
    unreachable_with(src, dst, &default_ping())
}

/// [`unreachable()`] with your own ping options (a shorter timeout makes the
/// check faster: silence is only known after it). A `deadline` that ends
/// the ping before all `count` requests are sent fails the assertion:
/// silence then proves nothing.
///
/// ```
/// use std::time::Duration;
/// use netns_test::{assert, probe::PingOptions, Net, Topology};
/// let net = Net::build(&Topology::new().link(("a", "e0", "198.51.100.1/24"), ("b", "e0", "198.51.100.2/24")))?;
/// let quick = PingOptions::new().count(1).timeout(Duration::from_millis(200));
/// // On the subnet but nobody holds it: ARP fails, no reply.
/// assert::unreachable_with(&net["a"], "198.51.100.9", &quick).unwrap();
/// # Ok::<(), netns_test::Error>(())
/// ```
pub fn unreachable_with<'a>(
    src: impl Into<Source<'a>>,
    dst: impl IntoIp,
    opts: &PingOptions,
) -> Result<PingReport, AssertFailure> {
    let src = src.into();
    let (ip, report) = run_ping(AssertKind::Unreachable, &src, dst, opts)?;
    if report.transmitted < opts.count {
        // Silence after fewer requests than asked proves nothing.
        let mut f = AssertFailure::new(
            AssertKind::Unreachable,
            src.node.name(),
            ip.to_string(),
            format!(
                "only {} of {} echo requests were sent (the deadline{} came first): \
                 no reply proves nothing",
                report.transmitted,
                opts.count,
                opts.deadline
                    .map(|d| format!(" of {d:?}"))
                    .unwrap_or_default()
            ),
            ProbeResult::Ping(report),
        );
        f.destination_node = src.name_of(ip);
        let names = involved(&src, f.destination_node.as_deref());
        src.evidence(&mut f, &names);
        return Err(f);
    }
    if !report.is_reachable() {
        return Ok(report);
    }
    let from: Vec<String> = {
        let mut v: Vec<String> = Vec::new();
        for r in &report.replies {
            let s = r.from.to_string();
            if !v.contains(&s) {
                v.push(s);
            }
        }
        v
    };
    let mut f = AssertFailure::new(
        AssertKind::Unreachable,
        src.node.name(),
        ip.to_string(),
        format!(
            "{} of {} echo requests answered (by {}), expected none",
            report.received,
            report.transmitted,
            from.join(", ")
        ),
        ProbeResult::Ping(report),
    );
    f.destination_node = src.name_of(ip);
    let names = involved(&src, f.destination_node.as_deref());
    src.evidence(&mut f, &names);
    Err(f)
}

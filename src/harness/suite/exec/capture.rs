//! Capture steps: starting a capture and counting captured packets.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::super::format::step::{CaptureStep, ExpectPacketsStep, PacketFilterSpec};
use super::super::format::topology::ProtoSpec;
use super::{or, Runner};
use crate::capture::{Direction, Filter, Packet, Protocol};
use crate::Family;

/// The filters a spec asks for: packets matching any of them match. A
/// node named in `src`, `dst` or `host` stands for each of its addresses
/// (`addrs` gives them), so there is one filter per combination.
fn filters(
    spec: &PacketFilterSpec,
    addrs: impl Fn(&str) -> Result<Vec<IpAddr>, String>,
) -> Result<Vec<Filter>, String> {
    let mut f = Filter::new();
    if let Some(p) = spec.proto {
        f = match p {
            ProtoSpec::Tcp => f.protocol(Protocol::Tcp),
            ProtoSpec::Udp => f.protocol(Protocol::Udp),
            ProtoSpec::Icmp => f.protocol(Protocol::Icmp).family(Family::V4),
            ProtoSpec::Icmpv6 => f.protocol(Protocol::Icmp).family(Family::V6),
        };
    }
    if let Some(p) = spec.port {
        f = f.port(p);
    }
    if let Some(p) = spec.src_port {
        f = f.src_port(p);
    }
    if let Some(p) = spec.dst_port {
        f = f.dst_port(p);
    }
    match (&spec.node, &spec.iface) {
        (Some(n), Some(i)) => f = f.on(n, i),
        (Some(n), None) => f = f.node(n),
        _ => {}
    }
    let mut out = vec![f];
    type Set = fn(Filter, IpAddr) -> Filter;
    let fields: [(&Option<String>, Set); 3] = [
        (&spec.src, |f, a| f.src(a)),
        (&spec.dst, |f, a| f.dst(a)),
        (&spec.host, |f, a| f.host(a)),
    ];
    for (value, set) in fields {
        let Some(text) = value else { continue };
        let ips = match text.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => addrs(text)?,
        };
        out = out
            .iter()
            .flat_map(|f| ips.iter().map(move |ip| set(f.clone(), *ip)))
            .collect();
    }
    Ok(out)
}

impl Runner<'_> {
    pub(super) fn capture(&mut self, s: &CaptureStep) -> Result<String, String> {
        match &s.nodes {
            None => {
                let c = self.net.capture().map_err(|e| e.to_string())?;
                let n = c.interfaces().len();
                self.captures.push(c);
                Ok(format!("capturing {n} interfaces"))
            }
            Some(nodes) => {
                for name in nodes {
                    let node = self.net.node(name).map_err(|e| e.to_string())?;
                    self.captures
                        .push(node.capture().map_err(|e| e.to_string())?);
                }
                Ok(format!("capturing the interfaces of {}", nodes.join(", ")))
            }
        }
    }

    /// The captured packets matching any of `filters`, each once (the
    /// captures of several steps may overlap), oldest first.
    fn matching(&self, filters: &[Filter]) -> Vec<Packet> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for c in &self.captures {
            for p in c.packets() {
                if !filters.iter().any(|f| f.matches(&p)) {
                    continue;
                }
                let key = (
                    p.time,
                    p.node.clone(),
                    p.iface.clone(),
                    p.direction == Direction::In,
                    p.data.clone(),
                );
                if seen.insert(key) {
                    out.push(p);
                }
            }
        }
        out.sort_by_key(|p| p.time);
        out
    }

    /// What the captures lost on the interfaces `filters` can match, if
    /// anything.
    fn lost(&self, filters: &[Filter]) -> Option<String> {
        let refs: Vec<&Filter> = filters.iter().collect();
        let words: Vec<String> = self
            .captures
            .iter()
            .filter_map(|c| c.lost_on(&refs))
            .collect();
        (!words.is_empty()).then(|| words.join("; "))
    }

    /// The addresses of node `name`, as the topology declared them.
    fn addrs(&self, name: &str) -> Result<Vec<IpAddr>, String> {
        let node = self
            .net
            .node(name)
            .map_err(|_| format!("`{name}` is neither an address nor a node"))?;
        let ips: Vec<IpAddr> = node
            .declared_addrs()
            .iter()
            .map(|(_, a)| a.addr())
            .collect();
        if ips.is_empty() {
            return Err(format!("node `{name}` has no address"));
        }
        Ok(ips)
    }

    /// Counts the captured packets that match and judges the count with
    /// [`verdict`]: `min` (1 unless set) is waited for up to the step's
    /// `timeout` (2 s unless set); `count` and `none` judge what was
    /// captured so far, or, with a `timeout`, what was captured until it
    /// passed (failing as soon as too many matched).
    pub(super) fn expect_packets(&mut self, s: &ExpectPacketsStep) -> Result<String, String> {
        if self.captures.is_empty() {
            return Err("no capture runs: add a `capture` step before".into());
        }
        let filters = filters(&s.filter, |n| self.addrs(n))?;
        if let Some(f) = filters
            .iter()
            .find(|f| !self.captures.iter().any(|c| c.covers(f)))
        {
            let captured: Vec<String> = self.captures.iter().flat_map(|c| c.interfaces()).collect();
            return Err(format!(
                "`{f}` can match no packet: no capture covers its node and interface \
                 (captured: {})",
                captured.join(", ")
            ));
        }
        let limit = or(s.timeout, Duration::from_secs(2));
        let window = s.timeout.is_some();
        let want = match (s.none, s.count) {
            (true, _) => Want::Exactly(0),
            (false, Some(n)) => Want::Exactly(n),
            (false, None) => Want::AtLeast(s.min.unwrap_or(1)),
        };
        let deadline = Instant::now() + limit;
        loop {
            // Read after the time is taken: once timed out, every packet
            // captured before the deadline is counted.
            let timed_out = Instant::now() >= deadline;
            let found = self.matching(&filters);
            let n = found.len();
            let within = if window {
                format!(" in {limit:?}")
            } else {
                String::new()
            };
            match (verdict(n, want, window, timed_out), want) {
                (Verdict::Wait, _) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    std::thread::sleep(left.min(Duration::from_millis(20)));
                }
                (Verdict::Pass, Want::Exactly(k)) if self.lost(&filters).is_some() => {
                    let lost = self.lost(&filters).unwrap_or_default();
                    return Err(format!(
                        "{n} matching packets{within}, but the count cannot be judged \
                         ({k} expected): frames were lost since the capture began, {lost}"
                    ));
                }
                (Verdict::Pass, Want::Exactly(0)) => {
                    return Ok(format!("no matching packet{within}"))
                }
                (Verdict::Pass, _) => return Ok(format!("{n} matching packets{within}")),
                (Verdict::TooMany, _) => {
                    let expected = match want.number() {
                        0 => "none".to_string(),
                        k => format!("exactly {k}"),
                    };
                    return Err(format!(
                        "{n} matching packets, {expected} expected; the last:\n{}",
                        last(&found)
                    ));
                }
                (Verdict::TooFew, Want::Exactly(k)) => {
                    return Err(format!(
                        "{n} matching packets{within}, exactly {k} expected; the last packets:\n{}",
                        last(&self.matching(&[Filter::new()]))
                    ))
                }
                (Verdict::TooFew, Want::AtLeast(min)) => {
                    return Err(format!(
                        "{n} matching packets after {limit:?}, at least {min} expected; the last packets:\n{}",
                        last(&self.matching(&[Filter::new()]))
                    ))
                }
            }
        }
    }
}

/// How many matching packets an `expect_packets` step asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// `min`: at least this many.
    AtLeast(usize),
    /// `count`: exactly this many (`none`: 0).
    Exactly(usize),
}

impl Want {
    /// The number asked for.
    fn number(self) -> usize {
        match self {
            Want::AtLeast(n) | Want::Exactly(n) => n,
        }
    }
}

/// What to make of a count of matching packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// The step passes.
    Pass,
    /// More matched than `count` (or `none`) allows: the step fails.
    TooMany,
    /// Fewer matched than asked for, and the time is up: the step fails.
    TooFew,
    /// Not decided yet: count again later.
    Wait,
}

/// The verdict on `n` matching packets when `want` is asked for.
/// `window`: the step gives a `timeout`, over the whole of which `count`
/// and `none` observe (else they judge `n` as it is); `timed_out`: that
/// time (or the default wait of `min`) has passed. Too many is final at
/// once; `min` passes as soon as reached.
fn verdict(n: usize, want: Want, window: bool, timed_out: bool) -> Verdict {
    match want {
        Want::AtLeast(min) if n >= min => Verdict::Pass,
        Want::AtLeast(_) if timed_out => Verdict::TooFew,
        Want::AtLeast(_) => Verdict::Wait,
        Want::Exactly(k) if n > k => Verdict::TooMany,
        Want::Exactly(_) if window && !timed_out => Verdict::Wait,
        Want::Exactly(k) if n == k => Verdict::Pass,
        Want::Exactly(_) => Verdict::TooFew,
    }
}

/// The last ten of `packets`, one a line.
fn last(packets: &[Packet]) -> String {
    let skip = packets.len().saturating_sub(10);
    if packets.is_empty() {
        return "    (none)".into();
    }
    packets[skip..]
        .iter()
        .map(|p| format!("    {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use etherparse::PacketBuilder;

    use super::*;
    use crate::capture::LinkType;

    const V4A: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
    const V4B: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
    const V6A: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    const V6B: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

    fn frame(v6: bool, src_v6: Ipv6Addr) -> Packet {
        let eth = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
        let mut data = Vec::new();
        if v6 {
            eth.ipv6(src_v6.octets(), V6B.octets(), 64)
                .icmpv6_echo_request(1, 1)
                .write(&mut data, &[0; 8])
                .unwrap();
        } else {
            eth.ipv4(V4A.octets(), V4B.octets(), 64)
                .icmpv4_echo_request(1, 1)
                .write(&mut data, &[0; 8])
                .unwrap();
        }
        let len = data.len();
        Packet::new(
            0,
            "n2",
            "eth0",
            Direction::In,
            LinkType::Ethernet,
            len,
            data,
            None,
        )
    }

    fn no_node(name: &str) -> Result<Vec<IpAddr>, String> {
        Err(format!("no node {name}"))
    }

    fn matches(spec: &PacketFilterSpec, p: &Packet) -> bool {
        let node = |name: &str| match name {
            "n1" => Ok(vec![V4A.into(), V6A.into()]),
            other => no_node(other),
        };
        filters(spec, node).unwrap().iter().any(|f| f.matches(p))
    }

    #[test]
    fn icmp_and_icmpv6_each_match_their_own_family() {
        let (v4, v6) = (frame(false, V6A), frame(true, V6A));
        let icmp = PacketFilterSpec {
            proto: Some(ProtoSpec::Icmp),
            ..Default::default()
        };
        let icmpv6 = PacketFilterSpec {
            proto: Some(ProtoSpec::Icmpv6),
            ..Default::default()
        };
        assert!(matches(&icmp, &v4) && !matches(&icmp, &v6));
        assert!(matches(&icmpv6, &v6) && !matches(&icmpv6, &v4));
    }

    #[test]
    fn a_node_name_stands_for_each_of_its_addresses() {
        let src = |s: &str| PacketFilterSpec {
            src: Some(s.into()),
            ..Default::default()
        };
        assert!(matches(&src("n1"), &frame(false, V6A)));
        assert!(matches(&src("n1"), &frame(true, V6A)));
        assert!(!matches(&src("n1"), &frame(true, V6B)));
        assert!(matches(&src("2001:db8::2"), &frame(true, V6B)));
        let both = PacketFilterSpec {
            src: Some("n1".into()),
            host: Some("n1".into()),
            ..Default::default()
        };
        assert_eq!(
            filters(&both, |_| Ok(vec![V4A.into(), V6A.into()]))
                .unwrap()
                .len(),
            4
        );
        assert_eq!(filters(&src("h9"), no_node).unwrap_err(), "no node h9");
    }

    #[test]
    fn count_and_none_without_a_window_judge_once() {
        use Verdict::*;
        for timed_out in [false, true] {
            assert_eq!(verdict(2, Want::Exactly(2), false, timed_out), Pass);
            assert_eq!(verdict(1, Want::Exactly(2), false, timed_out), TooFew);
            assert_eq!(verdict(3, Want::Exactly(2), false, timed_out), TooMany);
            assert_eq!(verdict(0, Want::Exactly(0), false, timed_out), Pass);
            assert_eq!(verdict(1, Want::Exactly(0), false, timed_out), TooMany);
        }
    }

    #[test]
    fn count_and_none_with_a_window_observe_it_whole() {
        use Verdict::*;
        // Reaching the count early is not enough: more may come.
        assert_eq!(verdict(2, Want::Exactly(2), true, false), Wait);
        assert_eq!(verdict(1, Want::Exactly(2), true, false), Wait);
        assert_eq!(verdict(0, Want::Exactly(0), true, false), Wait);
        assert_eq!(verdict(2, Want::Exactly(2), true, true), Pass);
        assert_eq!(verdict(0, Want::Exactly(0), true, true), Pass);
        assert_eq!(verdict(1, Want::Exactly(2), true, true), TooFew);
        // Too many fails at once, within the window or after it.
        assert_eq!(verdict(3, Want::Exactly(2), true, false), TooMany);
        assert_eq!(verdict(3, Want::Exactly(2), true, true), TooMany);
        assert_eq!(verdict(1, Want::Exactly(0), true, false), TooMany);
    }

    #[test]
    fn min_passes_as_soon_as_reached() {
        use Verdict::*;
        for window in [false, true] {
            assert_eq!(verdict(1, Want::AtLeast(1), window, false), Pass);
            assert_eq!(verdict(5, Want::AtLeast(2), window, false), Pass);
            assert_eq!(verdict(0, Want::AtLeast(1), window, false), Wait);
            assert_eq!(verdict(1, Want::AtLeast(2), window, true), TooFew);
        }
    }
}

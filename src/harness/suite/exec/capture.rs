//! Capture steps: starting a capture and counting captured packets.

use std::time::{Duration, Instant};

use super::super::format::step::{CaptureStep, ExpectPacketsStep, PacketFilterSpec};
use super::super::format::topology::ProtoSpec;
use super::{or, Runner};
use crate::capture::{Direction, Filter, Protocol};

fn filter(spec: &PacketFilterSpec) -> Filter {
    let mut f = Filter::new();
    if let Some(p) = spec.proto {
        f = f.protocol(match p {
            ProtoSpec::Tcp => Protocol::Tcp,
            ProtoSpec::Udp => Protocol::Udp,
            ProtoSpec::Icmp | ProtoSpec::Icmpv6 => Protocol::Icmp,
        });
    }
    if let Some(a) = &spec.src {
        f = f.src(a.as_str());
    }
    if let Some(a) = &spec.dst {
        f = f.dst(a.as_str());
    }
    if let Some(a) = &spec.host {
        f = f.host(a.as_str());
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
    f
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

    fn count(&self, f: &Filter) -> usize {
        // Captures of several steps may overlap: count each packet once.
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.captures {
            for p in c.matching(f) {
                let inward = p.direction == Direction::In;
                seen.insert((p.time, p.node, p.iface, inward, p.data));
            }
        }
        seen.len()
    }

    pub(super) fn expect_packets(&mut self, s: &ExpectPacketsStep) -> Result<String, String> {
        if self.captures.is_empty() {
            return Err("no capture runs: add a `capture` step before".into());
        }
        let f = filter(&s.filter);
        let limit = or(s.timeout, Duration::from_secs(2));
        if s.none {
            let n = self.count(&f);
            return match n {
                0 => Ok("no matching packet".into()),
                n => Err(format!(
                    "{n} matching packets, none expected; the last:\n{}",
                    self.last(&f)
                )),
            };
        }
        if let Some(want) = s.count {
            let n = self.count(&f);
            return match n == want {
                true => Ok(format!("{n} matching packets")),
                false => Err(format!(
                    "{n} matching packets, {want} expected; the last:\n{}",
                    self.last(&f)
                )),
            };
        }
        let min = s.min.unwrap_or(1);
        let deadline = Instant::now() + limit;
        loop {
            let n = self.count(&f);
            if n >= min {
                return Ok(format!("{n} matching packets"));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{n} matching packets after {limit:?}, at least {min} expected; the last packets:\n{}",
                    self.last(&Filter::new())
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn last(&self, f: &Filter) -> String {
        let mut lines = Vec::new();
        for c in &self.captures {
            let all = c.matching(f);
            let skip = all.len().saturating_sub(10);
            lines.extend(all[skip..].iter().map(|p| format!("    {p}")));
        }
        if lines.is_empty() {
            "    (none)".into()
        } else {
            lines.join("\n")
        }
    }
}

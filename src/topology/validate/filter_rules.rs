//! Firewall rules checked against their node and chain, and turned into
//! counted nftables rules.

use std::net::IpAddr;

use ipnet::IpNet;

use super::addresses::{cidr, prefix};
use super::firewall::NodeView;
use super::TopologyError;
use crate::ruleset::{Chain, FilterAction, Limit, Match, PortRange, Reject, Rule, Stmt, Verdict};
use crate::vocab::Family;

/// One rule of a firewall, checked.
pub(super) fn filter_rule(
    node: &NodeView<'_>,
    chain: Chain,
    index: usize,
    f: &crate::ruleset::FilterSpec,
) -> Result<Rule, TopologyError> {
    let bad = |reason: String| TopologyError::InvalidFirewallRule {
        node: node.name.to_string(),
        chain: chain.name(),
        index,
        reason,
    };
    let used_by = || format!("firewall rule {index} of chain {}", chain.name());
    let mut matches = Vec::new();
    let net = |text: &str| -> Result<IpNet, TopologyError> {
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(IpNet::from(ip));
        }
        match prefix(text) {
            Ok(net) => Ok(net),
            Err(why) if text.contains('/') && cidr(text).is_ok() => {
                Err(bad(format!("`{text}` {why}")))
            }
            Err(_) => Err(bad(format!("`{text}` is neither an address nor a prefix"))),
        }
    };
    let saddr = f.saddr.as_deref().map(net).transpose()?;
    let daddr = f.daddr.as_deref().map(net).transpose()?;
    let families: Vec<Family> = saddr
        .iter()
        .chain(&daddr)
        .map(|n| Family::of(n.addr()))
        .collect();
    if families.windows(2).any(|w| w[0] != w[1])
        || f.family.is_some_and(|x| families.iter().any(|y| *y != x))
    {
        return Err(bad(
            "its addresses and family disagree (IPv4 and IPv6)".into()
        ));
    }
    if let Some(fam) = f.family.filter(|_| families.is_empty()) {
        matches.push(Match::NfProto(fam));
    }
    if let Some(i) = &f.iif {
        if chain == Chain::Output {
            return Err(bad("the output chain sees no input interface".into()));
        }
        if i != "lo" {
            node.iface(i, used_by)?;
        }
        matches.push(Match::Iifname(i.clone()));
    }
    if let Some(o) = &f.oif {
        if chain == Chain::Input {
            return Err(bad("the input chain sees no output interface".into()));
        }
        if o != "lo" {
            node.iface(o, used_by)?;
        }
        matches.push(Match::Oifname(o.clone()));
    }
    matches.extend(saddr.map(Match::Saddr));
    matches.extend(daddr.map(Match::Daddr));
    if let Some(p) = f.proto {
        // ICMP is IPv4's, ICMPv6 IPv6's: the other family never carries it.
        let family = f.family.or(families.first().copied());
        let mismatch = match (p.number(), family) {
            (1, Some(Family::V6)) => Some("ICMP (protocol 1) is IPv4's; IPv6 has `Proto::Icmpv6`"),
            (58, Some(Family::V4)) => Some("ICMPv6 (protocol 58) is IPv6's; IPv4 has `.icmp()`"),
            _ => None,
        };
        if let Some(reason) = mismatch {
            return Err(bad(reason.into()));
        }
        matches.push(Match::L4Proto(p.number()));
    }
    for (ports, sport) in [(f.sport, true), (f.dport, false)] {
        let Some((lo, hi)) = ports else { continue };
        if !f.proto.is_some_and(|p| p.has_ports()) {
            return Err(bad("ports need `.tcp()` or `.udp()`".into()));
        }
        if lo > hi {
            return Err(bad(format!("port range {lo}-{hi} is empty")));
        }
        let r = PortRange { lo, hi };
        matches.push(if sport {
            Match::Sport(r)
        } else {
            Match::Dport(r)
        });
    }
    if let Some(s) = f.state {
        if s.0 == 0 {
            return Err(bad(
                "an empty set of connection states matches nothing".into()
            ));
        }
        matches.push(Match::CtState(s));
    }
    let mut stmts = Vec::new();
    if let Some((rate, over)) = f.limit {
        if rate.packets == 0 {
            return Err(bad("a rate of 0 packets".into()));
        }
        if rate.burst == 0 {
            return Err(bad("a burst of 0 packets (at least 1)".into()));
        }
        if rate.packets.checked_add(u64::from(rate.burst)).is_none() {
            return Err(bad(format!(
                "a rate of {} packets and a burst of {} overflow the kernel's 64 bits",
                rate.packets, rate.burst
            )));
        }
        if bucket_tokens(rate).is_none() {
            return Err(bad(format!(
                "a burst of {} packets at {} a {} overflows the kernel's token \
                 bucket (ns per {} / rate * burst must fit 64 bits)",
                rate.burst,
                rate.packets,
                unit_name(rate.unit_secs),
                unit_name(rate.unit_secs)
            )));
        }
        stmts.push(Stmt::Limit(Limit {
            rate: rate.packets,
            unit_secs: rate.unit_secs,
            burst: rate.burst,
            over,
        }));
    }
    stmts.push(Stmt::counter());
    stmts.push(match f.action {
        FilterAction::Accept => Stmt::Verdict(Verdict::Accept),
        FilterAction::Drop => Stmt::Verdict(Verdict::Drop),
        FilterAction::Reject(Reject::TcpReset) if f.proto.map(|p| p.number()) != Some(6) => {
            return Err(bad("a TCP reset answers TCP only: add `.tcp()`".into()))
        }
        FilterAction::Reject(r) => Stmt::Reject(r),
    });
    if let Some(c) = &f.comment {
        if c.len() > 128 || c.contains(['\0', '"']) {
            return Err(bad(
                "a comment is at most 128 bytes, without NUL or `\"`".into()
            ));
        }
    }
    Ok(Rule {
        matches,
        stmts,
        comment: f.comment.clone(),
    })
}

/// The size of the kernel's token bucket for a packet limit, as
/// `nft_limit_init` works it out (the unit in ns, divided by the rate,
/// times the burst), or `None` where it overflows 64 bits and the kernel
/// refuses the rule (`EOVERFLOW`).
fn bucket_tokens(rate: crate::ruleset::Rate) -> Option<u64> {
    let nsecs = rate.unit_secs.checked_mul(1_000_000_000)?;
    (nsecs / rate.packets).checked_mul(u64::from(rate.burst))
}

/// `second`, `minute`, `hour` or `day`: the unit of a rate.
fn unit_name(unit_secs: u64) -> String {
    match unit_secs {
        1 => "second".into(),
        60 => "minute".into(),
        3600 => "hour".into(),
        86400 => "day".into(),
        n => format!("{n} s"),
    }
}

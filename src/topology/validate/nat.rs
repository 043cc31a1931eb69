//! NATs checked against their node and turned into rules: source NAT,
//! destination NAT and hairpinning (the RFC 4787 presets are in
//! `nat_presets`). What each installs is listed in `docs/nat.md`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;

use super::firewall::NodeView;
use super::TopologyError;
use crate::ruleset::{
    DataType, Match, Nat, NatFlags, NatKind, NatStmt, NatTo, PortRange, Rule, SetDef, SourceTo,
    Stmt,
};
use crate::vocab::Family;

/// `IPS_SRC_NAT`.
pub(super) const IPS_SRC_NAT: u32 = 1 << 4;
/// `IPS_DST_NAT`.
pub(super) const IPS_DST_NAT: u32 = 1 << 5;
/// The most entries a tracking set holds: mappings alive at once. The
/// kernel sizes a dynamic set's hash table by it when the set is made
/// (`nelem_hint`): at 65,535 each set took 1 MiB of kernel memory, and a
/// full cone with hairpinning (four sets) took 1.9 ms to install instead
/// of 0.55 ms.
const SET_SIZE: u32 = 16384;

/// The rules being gathered, chain by chain.
#[derive(Default)]
pub(super) struct Out {
    pub(super) pre: Vec<Rule>,
    pub(super) post: Vec<Rule>,
    pub(super) track: Vec<Rule>,
    pub(super) hairpin: Vec<Rule>,
    pub(super) sets: Vec<SetDef>,
    pub(super) sysctls: Vec<(String, String)>,
    /// Whether an RFC 4787 preset was seen (one per node: they share sets).
    pub(super) preset: bool,
    /// The port forwards and DNATs so far.
    pub(super) forwards: Vec<Forward>,
    /// The source NATs so far, presets included.
    sources: Vec<Source>,
}

/// What a source NAT takes: every packet of its families out of one
/// interface. Each kind ends in a rule with no match but the interface,
/// and the first NAT statement a packet meets is its translation, so a
/// later source NAT out of that interface sees only the families the ones
/// before it leave (an `snat ip` leaves IPv6 alone, and the reverse;
/// masquerade takes both).
#[derive(Debug)]
struct Source {
    oif: String,
    families: Vec<Family>,
    /// The NAT, as errors name it.
    described: String,
}

/// What a port forward or DNAT takes: packets of one family in on one
/// interface, of one protocol (or any) to one port (or any).
#[derive(Debug)]
pub(super) struct Forward {
    iif: String,
    family: Family,
    proto: Option<crate::ruleset::Proto>,
    port: Option<u16>,
    /// The NAT, as errors name it.
    described: String,
}

impl Forward {
    /// Whether this forward, declared first, takes every packet `later`
    /// would (a `dnat ip` rule leaves IPv6 alone, and the reverse).
    fn shadows(&self, later: &Forward) -> bool {
        self.iif == later.iif
            && self.family == later.family
            && self.proto.is_none_or(|p| Some(p) == later.proto)
            && self.port.is_none_or(|p| Some(p) == later.port)
    }
}

impl Out {
    pub(super) fn set(
        &mut self,
        name: &str,
        key: Vec<DataType>,
        data: Vec<DataType>,
        timeout: Duration,
    ) {
        if self.sets.iter().any(|s| s.name == name) {
            return;
        }
        self.sets.push(SetDef {
            name: name.into(),
            key,
            data,
            dynamic: true,
            timeout: Some(timeout),
            size: Some(SET_SIZE),
        });
    }

    /// Records a source NAT out of `oif` for `families`; refuses it when
    /// the source NATs declared before it out of `oif` take every family
    /// it translates, so that it would never match.
    pub(super) fn source(
        &mut self,
        node: &str,
        nat: &Nat,
        oif: &str,
        families: &[Family],
    ) -> Result<(), TopologyError> {
        let before: Vec<&Source> = self
            .sources
            .iter()
            .filter(|s| s.oif == oif && s.families.iter().any(|f| families.contains(f)))
            .collect();
        let taken = |f: &Family| before.iter().any(|s| s.families.contains(f));
        if !before.is_empty() && families.iter().all(taken) {
            let first: Vec<&str> = before.iter().map(|s| s.described.as_str()).collect();
            return Err(TopologyError::NatNeverMatches {
                node: node.to_string(),
                ifname: oif.to_string(),
                nat: nat.describe(),
                first: first.join("` and `"),
            });
        }
        self.sources.push(Source {
            oif: oif.to_string(),
            families: families.to_vec(),
            described: nat.describe(),
        });
        Ok(())
    }

    fn hairpin_rule(&mut self, rule: Rule) {
        if !self.hairpin.contains(&rule) {
            self.hairpin.push(rule);
        }
    }
}

pub(super) fn snat_to(addr: IpAddr, flags: NatFlags) -> Stmt {
    Stmt::Nat(NatStmt {
        kind: NatKind::Snat,
        family: Family::of(addr),
        to: NatTo::Addr {
            min: addr,
            max: None,
            ports: None,
        },
        flags,
    })
}

pub(super) fn invalid(node: &str, nat: &Nat, reason: impl Into<String>) -> TopologyError {
    TopologyError::InvalidNat {
        node: node.to_string(),
        nat: nat.describe(),
        reason: reason.into(),
    }
}

/// Hairpinning through outside address `w`: inside hosts on the other
/// interfaces that send to `w` get the inbound translation `dnat` too, and
/// are translated to `w` on their way back in (so the peer answers `w`).
pub(super) fn hairpin(
    out: &mut Out,
    node: &NodeView<'_>,
    oif: &str,
    w: IpAddr,
    inbound: &[Match],
    dnat: &Stmt,
) {
    for (lan, net) in node.inside(oif, Family::of(w)) {
        let mut matches = vec![Match::Iifname(lan.clone()), Match::Daddr(IpNet::from(w))];
        matches.extend_from_slice(inbound);
        let rule = Rule::new(matches, vec![dnat.clone()]);
        if !out.pre.contains(&rule) {
            out.pre.push(rule);
        }
        out.hairpin_rule(Rule::new(
            vec![
                Match::Oifname(lan),
                Match::Saddr(net),
                Match::CtStatus(IPS_DST_NAT),
            ],
            vec![snat_to(w, NatFlags::default())],
        ));
    }
}

pub(super) fn source_nat(
    out: &mut Out,
    node: &NodeView<'_>,
    nat: &Nat,
    oif: &str,
    to: &SourceTo,
) -> Result<(), TopologyError> {
    node.iface(oif, || format!("NAT `{}`", nat.describe()))?;
    if nat.hairpin {
        return Err(invalid(
            node.name,
            nat,
            "hairpinning needs a preset or a port forward",
        ));
    }
    let ports = match nat.ports {
        Some((lo, hi)) if lo == 0 || lo > hi => {
            return Err(invalid(node.name, nat, format!("bad port range {lo}-{hi}")))
        }
        p => p.map(|(lo, hi)| PortRange { lo, hi }),
    };
    let parse = |text: &str| {
        text.parse::<IpAddr>()
            .map_err(|_| invalid(node.name, nat, format!("`{text}` is not an IP address")))
    };
    let stmt = |ports: Option<PortRange>| -> Result<Stmt, TopologyError> {
        Ok(match to {
            SourceTo::Masquerade => Stmt::Masquerade {
                ports,
                flags: nat.flags,
            },
            SourceTo::Addr(a) => {
                let min = parse(a)?;
                Stmt::Nat(NatStmt {
                    kind: NatKind::Snat,
                    family: Family::of(min),
                    to: NatTo::Addr {
                        min,
                        max: None,
                        ports,
                    },
                    flags: nat.flags,
                })
            }
            SourceTo::Range(a, b) => {
                let (min, max) = (parse(a)?, parse(b)?);
                if Family::of(min) != Family::of(max) {
                    return Err(invalid(node.name, nat, "the range mixes IPv4 and IPv6"));
                }
                if min > max {
                    return Err(invalid(
                        node.name,
                        nat,
                        format!("the range {min}-{max} ends before it starts"),
                    ));
                }
                Stmt::Nat(NatStmt {
                    kind: NatKind::Snat,
                    family: Family::of(min),
                    to: NatTo::Addr {
                        min,
                        max: Some(max),
                        ports,
                    },
                    flags: nat.flags,
                })
            }
        })
    };
    if nat.flags.persistent && !matches!(to, SourceTo::Range(..)) {
        return Err(invalid(
            node.name,
            nat,
            "`persistent` is for a range of addresses",
        ));
    }
    // Ports exist for TCP and UDP: one rule each with them, then one
    // without for the other protocols (`nft` refuses ports without a
    // protocol).
    if ports.is_some() {
        for proto in [6, 17] {
            out.post.push(Rule::new(
                vec![Match::Oifname(oif.into()), Match::L4Proto(proto)],
                vec![stmt(ports)?],
            ));
        }
    }
    out.post.push(Rule::new(
        vec![Match::Oifname(oif.into())],
        vec![stmt(None)?],
    ));
    let families = match to {
        SourceTo::Masquerade => vec![Family::V4, Family::V6],
        SourceTo::Addr(a) | SourceTo::Range(a, _) => vec![Family::of(parse(a)?)],
    };
    out.source(node.name, nat, oif, &families)
}

pub(super) fn forward_nat(
    out: &mut Out,
    node: &NodeView<'_>,
    nat: &Nat,
    iif: &str,
    proto: Option<crate::ruleset::Proto>,
    port: Option<u16>,
    to: &str,
) -> Result<(), TopologyError> {
    let what = || format!("NAT `{}`", nat.describe());
    node.iface(iif, what)?;
    if nat.ports.is_some() || nat.flags != NatFlags::default() {
        return Err(invalid(
            node.name,
            nat,
            "ports and port flags are for source NAT",
        ));
    }
    let (addr, to_port) = match (to.parse::<SocketAddr>(), to.parse::<IpAddr>()) {
        (Ok(sa), _) => (sa.ip(), Some(sa.port())),
        (_, Ok(ip)) => (ip, None),
        _ => {
            return Err(invalid(
                node.name,
                nat,
                format!("`{to}` is neither an address nor an address:port"),
            ))
        }
    };
    if to_port.is_some() && port.is_none() {
        return Err(invalid(
            node.name,
            nat,
            "a port to map to needs a port to forward",
        ));
    }
    if proto.is_some_and(|p| !p.has_ports()) && port.is_some() {
        return Err(invalid(node.name, nat, "ports are for TCP and UDP"));
    }
    if port == Some(0) || to_port == Some(0) {
        return Err(invalid(
            node.name,
            nat,
            "port 0 is no port: nothing is sent to it",
        ));
    }
    let this = Forward {
        iif: iif.to_string(),
        family: Family::of(addr),
        proto,
        port,
        described: nat.describe(),
    };
    if let Some(first) = out.forwards.iter().find(|f| f.shadows(&this)) {
        return Err(TopologyError::NatNeverMatches {
            node: node.name.to_string(),
            ifname: iif.to_string(),
            nat: nat.describe(),
            first: first.described.clone(),
        });
    }
    out.forwards.push(this);
    let mut inbound = Vec::new();
    if let Some(p) = proto {
        inbound.push(Match::L4Proto(p.number()));
    }
    if let Some(p) = port {
        inbound.push(Match::Dport(PortRange::one(p)));
    }
    let dnat = Stmt::Nat(NatStmt {
        kind: NatKind::Dnat,
        family: Family::of(addr),
        to: NatTo::Addr {
            min: addr,
            max: None,
            ports: to_port.map(PortRange::one),
        },
        flags: NatFlags::default(),
    });
    let mut matches = vec![Match::Iifname(iif.into())];
    matches.extend(inbound.iter().cloned());
    out.pre.push(Rule::new(matches, vec![dnat.clone()]));
    if nat.hairpin {
        let w = node.addr_on(
            iif,
            Family::of(addr),
            &format!("hairpinning of `{}`", nat.describe()),
        )?;
        hairpin(out, node, iif, w, &inbound, &dnat);
    }
    Ok(())
}

/// The longest mapping timeout: the kernel keeps the conntrack timeouts
/// as an `int` of jiffies, so it refuses more than `i32::MAX` jiffies
/// (about 24.8 days at 1,000 jiffies a second, the fastest common tick).
const MAX_MAPPING_TIMEOUT: Duration = Duration::from_secs(i32::MAX as u64 / 1000);

/// The conntrack UDP timeouts of a mapping timeout: whole seconds, at least one.
pub(super) fn timeout_sysctls(node: &str, nat: &Nat, out: &mut Out) -> Result<(), TopologyError> {
    let Some(t) = nat.timeout else {
        return Ok(());
    };
    if t.subsec_nanos() != 0 || t.as_secs() == 0 || t > MAX_MAPPING_TIMEOUT {
        return Err(invalid(
            node,
            nat,
            format!(
                "mapping timeout {t:?}: whole seconds, from 1 to {}",
                MAX_MAPPING_TIMEOUT.as_secs()
            ),
        ));
    }
    for key in [
        "nf_conntrack_udp_timeout",
        "nf_conntrack_udp_timeout_stream",
    ] {
        let path = format!("net/netfilter/{key}");
        if let Some((_, v)) = out.sysctls.iter().find(|(p, _)| *p == path) {
            if *v != t.as_secs().to_string() {
                return Err(invalid(
                    node,
                    nat,
                    "two NATs of the node give different timeouts",
                ));
            }
            continue;
        }
        out.sysctls.push((path, t.as_secs().to_string()));
    }
    Ok(())
}

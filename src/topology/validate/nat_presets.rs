//! The RFC 4787 presets turned into rules: source NAT that keeps one
//! outside port per inside endpoint, and the tracking sets of their
//! inbound paths. What each installs is listed in `docs/nat.md`.

use std::time::Duration;

use ipnet::IpNet;

use super::firewall::NodeView;
use super::nat::{hairpin, invalid, snat_to, Out, IPS_DST_NAT, IPS_SRC_NAT};
use super::TopologyError;
use crate::ruleset::{
    CtState, DataType, Field, Filtering, Mapping, Match, Nat, NatFlags, NatKind, NatStmt, NatTo,
    Rule, Stmt, Verdict,
};
use crate::vocab::Family;

/// How long a tracking set keeps a mapping without a timeout of the user's.
const DEFAULT_SET_TIMEOUT: Duration = Duration::from_secs(120);
/// Outside port to the inside endpoint (address . port) it stands for.
const FULLCONE: &str = "nat_fullcone";
/// Outside port . the inside endpoint that holds it.
const OWNER: &str = "nat_owner";
/// Inside endpoint to its outside endpoint (address . port).
const OUTSIDE: &str = "nat_outside";
/// The outside ports that have a mapping.
const MAPPED: &str = "nat_mapped";
/// Outside port . the addresses its inside endpoint sent to.
const CONTACTED: &str = "nat_contacted";

fn udp() -> Match {
    Match::L4Proto(17)
}

fn map_nat(kind: NatKind, key: Vec<Field>, map: &str) -> Stmt {
    Stmt::Nat(NatStmt {
        kind,
        family: Family::V4,
        to: NatTo::Map {
            key,
            map: map.into(),
        },
        flags: NatFlags::default(),
    })
}

fn map_dnat() -> Stmt {
    map_nat(NatKind::Dnat, vec![Field::Dport], FULLCONE)
}

fn update(set: &str, key: Vec<Field>, data: Vec<Field>) -> Stmt {
    Stmt::Update {
        set: set.into(),
        key,
        data,
    }
}

pub(super) fn behaviour(
    out: &mut Out,
    node: &NodeView<'_>,
    nat: &Nat,
    oif: &str,
    mapping: Mapping,
    filtering: Filtering,
) -> Result<(), TopologyError> {
    if nat.ports.is_some() || nat.flags != NatFlags::default() {
        return Err(invalid(node.name, nat, "a preset chooses its own ports"));
    }
    if out.preset {
        return Err(invalid(node.name, nat, "one RFC 4787 preset per node"));
    }
    out.preset = true;
    let w = node.addr_on(oif, Family::V4, &format!("NAT `{}`", nat.describe()))?;
    let timeout = nat.timeout.unwrap_or(DEFAULT_SET_TIMEOUT);
    let eim = match (mapping, filtering) {
        (Mapping::EndpointIndependent, _) => true,
        (Mapping::AddressAndPortDependent, Filtering::AddressAndPortDependent) => false,
        (Mapping::AddressAndPortDependent, _) => {
            return Err(invalid(
                node.name,
                nat,
                "address-and-port-dependent mapping comes with address-and-port-dependent \
                 filtering only",
            ))
        }
    };
    if !eim && nat.hairpin {
        return Err(invalid(
            node.name,
            nat,
            "hairpinning needs endpoint-independent mapping",
        ));
    }
    out.source(node.name, nat, oif, &[Family::V4])?;
    let needs_map = eim && (filtering != Filtering::AddressAndPortDependent || nat.hairpin);
    // The presets are IPv4: their sets and drops leave IPv6 alone, and
    // inbound they take only what is sent to the outside address (not
    // what the router forwards to other addresses).
    let outbound_udp = || {
        vec![
            Match::Oifname(oif.into()),
            Match::NfProto(Family::V4),
            udp(),
        ]
    };
    if needs_map {
        // Inbound datagrams find an inside endpoint by outside port, so an
        // outside port with a mapping is never given to another inside
        // endpoint: an endpoint with a mapping keeps its outside endpoint
        // whatever the destination, and one whose own port is another's
        // mapping gets a port at random.
        out.post.push(Rule::new(
            outbound_udp(),
            vec![map_nat(
                NatKind::Snat,
                vec![Field::Saddr(Family::V4), Field::Sport],
                OUTSIDE,
            )],
        ));
        let mut held = outbound_udp();
        held.push(Match::InSet {
            keys: vec![Field::Sport],
            set: MAPPED.into(),
        });
        let random = NatFlags {
            random: true,
            ..NatFlags::default()
        };
        out.post.push(Rule::new(held, vec![snat_to(w, random)]));
    }
    let flags = NatFlags {
        random: !eim,
        ..NatFlags::default()
    };
    out.post.push(Rule::new(
        vec![Match::Oifname(oif.into())],
        vec![snat_to(w, flags)],
    ));
    if !eim {
        return Ok(());
    }
    let outbound = || {
        let mut m = outbound_udp();
        m.push(Match::CtStatus(IPS_SRC_NAT));
        m
    };
    // The inside host's answers in sessions a peer started through a
    // mapping (translated on the way in, so their source is the mapping
    // again by now): outbound traffic too, which keeps the mapping alive
    // (RFC 4787 REQ-6).
    let replies = || {
        let mut m = outbound_udp();
        m.push(Match::CtStatus(IPS_DST_NAT));
        m
    };
    let inbound = || {
        vec![
            Match::Iifname(oif.into()),
            Match::Daddr(IpNet::from(w)),
            udp(),
        ]
    };
    let inside = vec![
        Field::CtOriginalSaddr(Family::V4),
        Field::CtOriginalProtoSrc,
    ];
    let inside_of_replies = vec![Field::CtReplySaddr(Family::V4), Field::CtReplyProtoSrc];
    let paths = [(outbound(), inside.clone()), (replies(), inside_of_replies)];
    if needs_map {
        let endpoint = vec![DataType::Ipv4Addr, DataType::InetService];
        out.set(
            FULLCONE,
            vec![DataType::InetService],
            endpoint.clone(),
            timeout,
        );
        let owner = vec![
            DataType::InetService,
            DataType::Ipv4Addr,
            DataType::InetService,
        ];
        out.set(OWNER, owner, Vec::new(), timeout);
        out.set(OUTSIDE, endpoint.clone(), endpoint, timeout);
        out.set(MAPPED, vec![DataType::InetService], Vec::new(), timeout);
        // A new connection that the random port put on another inside
        // endpoint's mapping: its first datagram goes no further (its
        // conntrack entry with it), the next one gets another port.
        let mut taken = outbound();
        taken.push(Match::CtState(CtState::NEW));
        taken.push(Match::InSet {
            keys: vec![Field::Sport],
            set: MAPPED.into(),
        });
        let mut held_by = vec![Field::Sport];
        held_by.extend(inside.iter().copied());
        taken.push(Match::NotInSet {
            keys: held_by,
            set: OWNER.into(),
        });
        out.track
            .push(Rule::new(taken, vec![Stmt::Verdict(Verdict::Drop)]));
        for (m, endpoint) in &paths {
            let stmt = update(FULLCONE, vec![Field::Sport], endpoint.clone());
            out.track.push(Rule::new(m.clone(), vec![stmt]));
        }
        for (m, endpoint) in &paths {
            let mut key = vec![Field::Sport];
            key.extend(endpoint.iter().copied());
            let stmt = update(OWNER, key, Vec::new());
            out.track.push(Rule::new(m.clone(), vec![stmt]));
        }
        for (m, endpoint) in &paths {
            let data = vec![Field::Saddr(Family::V4), Field::Sport];
            let stmt = update(OUTSIDE, endpoint.clone(), data);
            out.track.push(Rule::new(m.clone(), vec![stmt]));
        }
    }
    if filtering == Filtering::AddressDependent {
        let key = vec![DataType::InetService, DataType::Ipv4Addr];
        out.set(CONTACTED, key, Vec::new(), timeout);
        for (m, _) in &paths {
            let stmt = update(
                CONTACTED,
                vec![Field::Sport, Field::Daddr(Family::V4)],
                vec![],
            );
            out.track.push(Rule::new(m.clone(), vec![stmt]));
        }
        let mut m = inbound();
        m.push(Match::InSet {
            keys: vec![Field::Dport, Field::Saddr(Family::V4)],
            set: CONTACTED.into(),
        });
        out.pre.push(Rule::new(m, vec![map_dnat()]));
    }
    out.set(MAPPED, vec![DataType::InetService], Vec::new(), timeout);
    for (m, _) in &paths {
        let stmt = update(MAPPED, vec![Field::Sport], Vec::new());
        out.track.push(Rule::new(m.clone(), vec![stmt]));
    }
    if filtering != Filtering::EndpointIndependent {
        let mut m = inbound();
        m.push(Match::InSet {
            keys: vec![Field::Dport],
            set: MAPPED.into(),
        });
        out.pre
            .push(Rule::new(m, vec![Stmt::Verdict(Verdict::Drop)]));
    } else {
        out.pre.push(Rule::new(inbound(), vec![map_dnat()]));
    }
    if nat.hairpin {
        hairpin(out, node, oif, w, &[udp()], &map_dnat());
    }
    Ok(())
}

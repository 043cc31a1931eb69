//! The typed meaning of ICMP and ICMPv6 error messages, with the texts
//! iputils `ping` and `traceroute` print for them.

use std::fmt;

use super::icmp::{v4, v6};

/// Why a destination is unreachable: the code of an ICMP "destination
/// unreachable" message (type 3) or ICMPv6 one (type 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Unreachable {
    /// ICMPv4 code 0: network unreachable (`!N`).
    Net,
    /// ICMPv4 code 1: host unreachable (`!H`); what a router (or the sender
    /// itself) reports when neighbour resolution fails.
    Host,
    /// ICMPv4 code 2: protocol unreachable (`!P`).
    Protocol,
    /// Port unreachable (ICMPv4 code 3, ICMPv6 code 4): the destination host
    /// itself answered, nothing listens on the UDP port.
    Port,
    /// ICMPv4 code 4: fragmentation needed and DF set, with the next-hop MTU (`!F-mtu`).
    FragmentationNeeded {
        /// The next-hop MTU the router reported.
        mtu: u32,
    },
    /// ICMPv4 code 5: source route failed (`!S`).
    SourceRouteFailed,
    /// ICMPv4 code 6: destination network unknown (`!N`).
    NetUnknown,
    /// ICMPv4 code 7: destination host unknown (`!H`).
    HostUnknown,
    /// ICMPv4 code 8: source host isolated (`!N`).
    HostIsolated,
    /// ICMPv4 code 9: network administratively prohibited (`!X`).
    NetProhibited,
    /// ICMPv4 code 10: host administratively prohibited (`!X`).
    HostProhibited,
    /// ICMPv4 code 11: network unreachable for the type of service (`!N`).
    NetTos,
    /// ICMPv4 code 12: host unreachable for the type of service (`!H`).
    HostTos,
    /// ICMPv4 code 13: communication administratively prohibited, what an
    /// nftables `reject with icmp admin-prohibited` sends (`!X`).
    Filtered,
    /// ICMPv4 code 14: host precedence violation (`!V`).
    PrecedenceViolation,
    /// ICMPv4 code 15: precedence cutoff in effect (`!C`).
    PrecedenceCutoff,
    /// ICMPv6 code 0: no route to destination (`!N`).
    NoRoute,
    /// ICMPv6 code 1: communication administratively prohibited (`!X`).
    AdminProhibited,
    /// ICMPv6 code 2: beyond scope of source address (`!H`).
    BeyondScope,
    /// ICMPv6 code 3: address unreachable (`!H`); neighbour discovery failed.
    Address,
    /// ICMPv6 code 5: source address failed ingress/egress policy.
    SourcePolicy,
    /// ICMPv6 code 6: reject route to destination.
    RejectRoute,
    /// A code this library does not name.
    Other {
        /// The raw code.
        code: u8,
    },
}

impl Unreachable {
    fn from_v4(code: u8, info: u32) -> Self {
        match code {
            0 => Unreachable::Net,
            1 => Unreachable::Host,
            2 => Unreachable::Protocol,
            3 => Unreachable::Port,
            4 => Unreachable::FragmentationNeeded { mtu: info },
            5 => Unreachable::SourceRouteFailed,
            6 => Unreachable::NetUnknown,
            7 => Unreachable::HostUnknown,
            8 => Unreachable::HostIsolated,
            9 => Unreachable::NetProhibited,
            10 => Unreachable::HostProhibited,
            11 => Unreachable::NetTos,
            12 => Unreachable::HostTos,
            13 => Unreachable::Filtered,
            14 => Unreachable::PrecedenceViolation,
            15 => Unreachable::PrecedenceCutoff,
            code => Unreachable::Other { code },
        }
    }

    fn from_v6(code: u8) -> Self {
        match code {
            0 => Unreachable::NoRoute,
            1 => Unreachable::AdminProhibited,
            2 => Unreachable::BeyondScope,
            3 => Unreachable::Address,
            4 => Unreachable::Port,
            5 => Unreachable::SourcePolicy,
            6 => Unreachable::RejectRoute,
            code => Unreachable::Other { code },
        }
    }

    /// The text iputils `ping` prints after `From ADDR icmp_seq=N `.
    pub(crate) fn ping_text(&self, is_v6: bool) -> String {
        use Unreachable::*;
        if is_v6 {
            let what = match self {
                NoRoute => "No route".to_string(),
                AdminProhibited => "Administratively prohibited".into(),
                BeyondScope => "Beyond scope of source address".into(),
                Address => "Address unreachable".into(),
                Port => "Port unreachable".into(),
                SourcePolicy => "Source address failed ingress/egress policy".into(),
                RejectRoute => "Reject route to destination".into(),
                other => format!("Unknown code {}", other.code()),
            };
            return format!("Destination unreachable: {what}");
        }
        match self {
            Net => "Destination Net Unreachable".into(),
            Host => "Destination Host Unreachable".into(),
            Protocol => "Destination Protocol Unreachable".into(),
            Port => "Destination Port Unreachable".into(),
            FragmentationNeeded { mtu } => format!("Frag needed and DF set (mtu = {mtu})"),
            SourceRouteFailed => "Source Route Failed".into(),
            NetUnknown => "Destination Net Unknown".into(),
            HostUnknown => "Destination Host Unknown".into(),
            HostIsolated => "Source Host Isolated".into(),
            NetProhibited => "Destination Net Prohibited".into(),
            HostProhibited => "Destination Host Prohibited".into(),
            NetTos => "Destination Net Unreachable for Type of Service".into(),
            HostTos => "Destination Host Unreachable for Type of Service".into(),
            Filtered => "Packet filtered".into(),
            PrecedenceViolation => "Precedence Violation".into(),
            PrecedenceCutoff => "Precedence Cutoff".into(),
            other => format!("Dest Unreachable, Bad Code: {}", other.code()),
        }
    }

    /// The raw code of the variants that occur in both families' tables.
    fn code(&self) -> u8 {
        use Unreachable::*;
        match self {
            Net | NoRoute => 0,
            Host | AdminProhibited => 1,
            Protocol | BeyondScope => 2,
            Port => 3,
            FragmentationNeeded { .. } => 4,
            SourceRouteFailed | SourcePolicy => 5,
            NetUnknown | RejectRoute => 6,
            HostUnknown => 7,
            HostIsolated => 8,
            NetProhibited => 9,
            HostProhibited => 10,
            NetTos => 11,
            HostTos => 12,
            Filtered => 13,
            PrecedenceViolation => 14,
            PrecedenceCutoff => 15,
            Address => 3,
            Other { code } => *code,
        }
    }

    /// The annotation `traceroute` prints after the time (`!H`, `!N`, ...);
    /// empty for port unreachable (the destination was reached).
    pub(crate) fn traceroute_flag(&self) -> String {
        use Unreachable::*;
        match self {
            Port => String::new(),
            Net | NetUnknown | HostIsolated | NetTos | NoRoute => "!N".into(),
            Host | HostUnknown | HostTos | Address | BeyondScope => "!H".into(),
            NetProhibited | HostProhibited | Filtered | AdminProhibited => "!X".into(),
            Protocol => "!P".into(),
            FragmentationNeeded { mtu } => format!("!F-{mtu}"),
            SourceRouteFailed => "!S".into(),
            PrecedenceViolation => "!V".into(),
            PrecedenceCutoff => "!C".into(),
            SourcePolicy => "!<5>".into(),
            RejectRoute => "!<6>".into(),
            Other { code } => format!("!<{code}>"),
        }
    }
}

/// What an ICMP (or ICMPv6) error message about one of our probes said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IcmpErrorKind {
    /// Destination unreachable, with its code.
    Unreachable(Unreachable),
    /// Time to live (hop limit) exceeded in transit: a router on the way
    /// dropped the probe.
    TtlExceeded,
    /// Fragment reassembly time exceeded.
    ReassemblyTimeExceeded,
    /// ICMPv6 packet too big, with the MTU of the next hop.
    PacketTooBig {
        /// The MTU the router reported.
        mtu: u32,
    },
    /// Parameter problem.
    ParameterProblem {
        /// The ICMP code.
        code: u8,
        /// The pointer to the offending octet.
        pointer: u32,
    },
    /// Any other type.
    Other {
        /// The ICMP type.
        icmp_type: u8,
        /// The ICMP code.
        code: u8,
    },
}

impl IcmpErrorKind {
    pub(crate) fn parse(is_v6: bool, icmp_type: u8, code: u8, info: u32) -> Self {
        if is_v6 {
            match icmp_type {
                v6::DEST_UNREACH => IcmpErrorKind::Unreachable(Unreachable::from_v6(code)),
                v6::PACKET_TOO_BIG => IcmpErrorKind::PacketTooBig { mtu: info },
                v6::TIME_EXCEEDED if code == 0 => IcmpErrorKind::TtlExceeded,
                v6::TIME_EXCEEDED if code == 1 => IcmpErrorKind::ReassemblyTimeExceeded,
                v6::PARAM_PROBLEM => IcmpErrorKind::ParameterProblem {
                    code,
                    pointer: info,
                },
                _ => IcmpErrorKind::Other { icmp_type, code },
            }
        } else {
            match icmp_type {
                v4::DEST_UNREACH => {
                    // The next-hop MTU is the low 16 bits of the rest of header.
                    IcmpErrorKind::Unreachable(Unreachable::from_v4(code, info & 0xffff))
                }
                v4::TIME_EXCEEDED if code == 0 => IcmpErrorKind::TtlExceeded,
                v4::TIME_EXCEEDED if code == 1 => IcmpErrorKind::ReassemblyTimeExceeded,
                v4::PARAM_PROBLEM => IcmpErrorKind::ParameterProblem {
                    code,
                    pointer: info >> 24,
                },
                _ => IcmpErrorKind::Other { icmp_type, code },
            }
        }
    }

    /// The text iputils `ping` prints for this error after `From ADDR icmp_seq=N `.
    pub fn ping_text(&self, is_v6: bool) -> String {
        match (self, is_v6) {
            (IcmpErrorKind::Unreachable(u), _) => u.ping_text(is_v6),
            (IcmpErrorKind::TtlExceeded, false) => "Time to live exceeded".into(),
            (IcmpErrorKind::TtlExceeded, true) => "Time exceeded: Hop limit".into(),
            (IcmpErrorKind::ReassemblyTimeExceeded, false) => {
                "Frag reassembly time exceeded".into()
            }
            (IcmpErrorKind::ReassemblyTimeExceeded, true) => {
                "Time exceeded: Defragmentation failure".into()
            }
            (IcmpErrorKind::PacketTooBig { mtu }, _) => format!("Packet too big: mtu={mtu}"),
            (IcmpErrorKind::ParameterProblem { pointer, .. }, false) => {
                format!("Parameter problem: pointer = {pointer}")
            }
            (IcmpErrorKind::ParameterProblem { code, pointer }, true) => {
                let what = match code {
                    0 => "Wrong header field ".to_string(),
                    1 => "Unknown header ".into(),
                    2 => "Unknown option ".into(),
                    c => format!("code {c} "),
                };
                format!("Parameter problem: {what}at {pointer}")
            }
            (IcmpErrorKind::Other { icmp_type, .. }, false) => {
                format!("Bad ICMP type: {icmp_type}")
            }
            (IcmpErrorKind::Other { icmp_type, .. }, true) => {
                format!("unknown icmp type: {icmp_type}")
            }
        }
    }

    /// The `traceroute` annotation for a probe answered with this error
    /// (empty for time exceeded and port unreachable).
    pub fn traceroute_flag(&self, is_v6: bool) -> String {
        match self {
            IcmpErrorKind::Unreachable(u) => u.traceroute_flag(),
            IcmpErrorKind::TtlExceeded => String::new(),
            IcmpErrorKind::PacketTooBig { mtu } => format!("!F-{mtu}"),
            IcmpErrorKind::ReassemblyTimeExceeded => {
                if is_v6 {
                    "!<3-1>".into()
                } else {
                    "!<11-1>".into()
                }
            }
            IcmpErrorKind::ParameterProblem { code, .. } => {
                let t = if is_v6 {
                    v6::PARAM_PROBLEM
                } else {
                    v4::PARAM_PROBLEM
                };
                format!("!<{t}-{code}>")
            }
            IcmpErrorKind::Other { icmp_type, code } => format!("!<{icmp_type}-{code}>"),
        }
    }
}

impl fmt::Display for IcmpErrorKind {
    /// The iputils wording of the IPv4 message (`Destination Host Unreachable`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ping_text(false))
    }
}

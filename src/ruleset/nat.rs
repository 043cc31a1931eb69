//! Network address translation as a user declares it: source NAT
//! (masquerade, SNAT to an address or a range), destination NAT and port
//! forwarding, and the behaviours of RFC 4787 as named presets. Plain data;
//! the topology's validation turns it into nftables rules
//! (`topology/validate/firewall.rs`, documented rule by rule in
//! `docs/nat.md`).

use std::ops::RangeInclusive;
use std::time::Duration;

use super::filter::Proto;
use super::NatFlags;

/// How a NAT maps an inside endpoint (address and port) to an outside one
/// (RFC 4787, section 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mapping {
    /// Endpoint-independent: one outside port per inside endpoint, whatever
    /// the destination (Linux keeps the inside port when it is free). With
    /// an inbound map (full and restricted cone, hairpinning), an outside
    /// port whose mapping lives is never given to another inside
    /// endpoint: that one gets a port at random.
    EndpointIndependent,
    /// Address-and-port-dependent ("symmetric"): a new outside port, chosen
    /// at random, for every destination address and port.
    AddressAndPortDependent,
}

/// Which packets from outside a NAT lets through to a mapped inside
/// endpoint (RFC 4787, section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Filtering {
    /// Endpoint-independent: from anyone, once the mapping exists ("full cone").
    EndpointIndependent,
    /// Address-dependent: from any port of an address the inside endpoint
    /// sent to ("restricted cone").
    AddressDependent,
    /// Address-and-port-dependent: only from the addresses and ports it
    /// sent to ("port-restricted cone"; Linux conntrack's own behaviour).
    AddressAndPortDependent,
}

/// Where source NAT maps to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum SourceTo {
    /// The outgoing interface's address.
    Masquerade,
    /// One address.
    Addr(String),
    /// A range of addresses, first and last.
    Range(String, String),
}

/// The kind of translation, with what validation checks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum NatSpec {
    /// Source NAT of what leaves through `oif`.
    Source { oif: String, to: SourceTo },
    /// Destination NAT of what arrives on `iif`: to a host, or a port to a
    /// host's port.
    Forward {
        iif: String,
        proto: Option<Proto>,
        port: Option<u16>,
        to: String,
    },
    /// An RFC 4787 behaviour on the outgoing interface `oif`, IPv4.
    Behaviour {
        oif: String,
        mapping: Mapping,
        filtering: Filtering,
    },
}

/// A network address translation on a router, declared with
/// [`Topology::nat`](crate::Topology::nat) or set on a live node
/// (`Node::set_nat`). The rules each kind installs are listed in
/// `docs/nat.md`.
///
/// Source NAT and the presets act on what leaves through the outgoing
/// interface; port forwards on what arrives on the incoming one. The
/// RFC 4787 presets are for IPv4 and UDP/TCP: their filtering and
/// endpoint-independent inbound paths are tracked for UDP (TCP follows
/// conntrack: replies only).
///
/// ```
/// use std::time::Duration;
/// use netns_test::firewall::{Nat, Proto};
/// use netns_test::{Route, Topology};
///
/// let home = Topology::new()
///     .link(("h1", "eth0", "198.51.100.1/26"), ("r1", "eth0", "198.51.100.62/26"))
///     .link(("r1", "eth1", "203.0.113.1/24"), ("srv", "eth0", "203.0.113.10/24"))
///     .forwarding("r1")
///     .route("h1", Route::default_via("198.51.100.62"))
///     .nat("r1", Nat::full_cone("eth1").hairpin(true).mapping_timeout(Duration::from_secs(30)))
///     .nat("r1", Nat::port_forward("eth1", Proto::Tcp, 8080, "198.51.100.1:80"));
/// home.validate()?;
/// # Ok::<(), netns_test::TopologyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Nat {
    pub(crate) spec: NatSpec,
    pub(crate) hairpin: bool,
    pub(crate) timeout: Option<Duration>,
    /// Source NAT's ports (validation refuses them elsewhere).
    pub(crate) ports: Option<(u16, u16)>,
    /// Source NAT's flags (validation refuses them elsewhere).
    pub(crate) flags: NatFlags,
}

impl Nat {
    fn of(spec: NatSpec) -> Nat {
        Nat {
            spec,
            hairpin: false,
            timeout: None,
            ports: None,
            flags: NatFlags::default(),
        }
    }

    fn source(oif: impl Into<String>, to: SourceTo) -> Nat {
        Nat::of(NatSpec::Source {
            oif: oif.into(),
            to,
        })
    }

    /// Source NAT to the address of `oif`, for everything that leaves
    /// through it (`masquerade`): Linux's own NAT, port-preserving while
    /// the port is free, filtering by conntrack (replies only).
    pub fn masquerade(oif: impl Into<String>) -> Nat {
        Nat::source(oif, SourceTo::Masquerade)
    }

    /// Source NAT to `addr` (IPv4 or IPv6) for what leaves through `oif`.
    pub fn snat(oif: impl Into<String>, addr: impl Into<String>) -> Nat {
        Nat::source(oif, SourceTo::Addr(addr.into()))
    }

    /// Source NAT to the addresses from `first` to `last` (same family,
    /// `first` not after `last`).
    pub fn snat_range(
        oif: impl Into<String>,
        first: impl Into<String>,
        last: impl Into<String>,
    ) -> Nat {
        Nat::source(oif, SourceTo::Range(first.into(), last.into()))
    }

    /// Destination NAT of everything that arrives on `iif` to the host
    /// `to` (an address): a "DMZ host".
    pub fn dnat(iif: impl Into<String>, to: impl Into<String>) -> Nat {
        Nat::of(NatSpec::Forward {
            iif: iif.into(),
            proto: None,
            port: None,
            to: to.into(),
        })
    }

    /// Port forwarding: `proto` packets that arrive on `iif` for `port` go
    /// to `to`, an address and port (`198.51.100.10:80`, `[2001:db8::1]:80`)
    /// or an address (the port stays).
    pub fn port_forward(
        iif: impl Into<String>,
        proto: Proto,
        port: u16,
        to: impl Into<String>,
    ) -> Nat {
        Nat::of(NatSpec::Forward {
            iif: iif.into(),
            proto: Some(proto),
            port: Some(port),
            to: to.into(),
        })
    }

    /// An RFC 4787 behaviour on the outgoing interface `oif`: its mapping
    /// and its filtering. Address-and-port-dependent mapping comes with
    /// address-and-port-dependent filtering only.
    pub fn behaviour(oif: impl Into<String>, mapping: Mapping, filtering: Filtering) -> Nat {
        Nat::of(NatSpec::Behaviour {
            oif: oif.into(),
            mapping,
            filtering,
        })
    }

    /// Full cone: endpoint-independent mapping and filtering. Once an
    /// inside endpoint sent a datagram out, anyone may send to its mapping.
    pub fn full_cone(oif: impl Into<String>) -> Nat {
        Nat::behaviour(
            oif,
            Mapping::EndpointIndependent,
            Filtering::EndpointIndependent,
        )
    }

    /// Restricted cone: endpoint-independent mapping, address-dependent
    /// filtering.
    pub fn restricted_cone(oif: impl Into<String>) -> Nat {
        Nat::behaviour(
            oif,
            Mapping::EndpointIndependent,
            Filtering::AddressDependent,
        )
    }

    /// Port-restricted cone: endpoint-independent mapping,
    /// address-and-port-dependent filtering (what most home routers do).
    pub fn port_restricted_cone(oif: impl Into<String>) -> Nat {
        Nat::behaviour(
            oif,
            Mapping::EndpointIndependent,
            Filtering::AddressAndPortDependent,
        )
    }

    /// Symmetric: address-and-port-dependent mapping (a random port per
    /// destination) and filtering. UDP hole punching fails behind two of
    /// them.
    pub fn symmetric(oif: impl Into<String>) -> Nat {
        Nat::behaviour(
            oif,
            Mapping::AddressAndPortDependent,
            Filtering::AddressAndPortDependent,
        )
    }

    /// A carrier-grade NAT's usual behaviour (RFC 6888): endpoint-independent
    /// mapping and filtering, with hairpinning. Put one behind another
    /// (a home NAT's outside network as the CGN's inside) for two levels.
    pub fn carrier_grade(oif: impl Into<String>) -> Nat {
        Nat::full_cone(oif).hairpin(true)
    }

    /// Hairpinning: inside hosts reach each other through the outside
    /// address (a preset's mapping, or a port forward), seeing the
    /// sender's outside address as the source (RFC 4787, REQ-9). Off by
    /// default.
    pub fn hairpin(mut self, on: bool) -> Nat {
        self.hairpin = on;
        self
    }

    /// How long an idle UDP mapping lasts (whole seconds): the presets'
    /// tracking sets and the node's conntrack UDP timeouts
    /// (`net.netfilter.nf_conntrack_udp_timeout` and `_stream`). By
    /// default, sets keep entries 120 s and conntrack keeps its own
    /// timeouts (30 s, 120 s once replied). At most 2,147,483 s (about
    /// 24.8 days), the most the kernel's conntrack timeouts hold.
    pub fn mapping_timeout(mut self, timeout: Duration) -> Nat {
        self.timeout = Some(timeout);
        self
    }

    /// Source NAT only: use these ports (`1..=65535`, first not after
    /// last; ports below 1024 too, as the kernel allows); the rules then
    /// apply to TCP and UDP by port and to other protocols without.
    pub fn ports(mut self, ports: RangeInclusive<u16>) -> Nat {
        self.ports = Some((*ports.start(), *ports.end()));
        self
    }

    fn flag(mut self, set: impl FnOnce(&mut NatFlags)) -> Nat {
        set(&mut self.flags);
        self
    }

    /// Source NAT only: ports from a keyed hash of each connection's
    /// addresses and destination port (`random`).
    pub fn random(self) -> Nat {
        self.flag(|f| f.random = true)
    }

    /// Source NAT only: a random port for every connection (`fully-random`).
    pub fn fully_random(self) -> Nat {
        self.flag(|f| f.fully_random = true)
    }

    /// Source NAT to a range only: one address per client (`persistent`).
    pub fn persistent(self) -> Nat {
        self.flag(|f| f.persistent = true)
    }

    /// What the NAT is, in a few words, for messages.
    pub(crate) fn describe(&self) -> String {
        match &self.spec {
            NatSpec::Source { oif, to, .. } => match to {
                SourceTo::Masquerade => format!("masquerade on {oif}"),
                SourceTo::Addr(a) => format!("snat to {a} on {oif}"),
                SourceTo::Range(a, b) => format!("snat to {a}-{b} on {oif}"),
            },
            NatSpec::Forward { iif, port, to, .. } => match port {
                Some(p) => format!("port forward {iif}:{p} to {to}"),
                None => format!("dnat on {iif} to {to}"),
            },
            NatSpec::Behaviour {
                oif,
                mapping,
                filtering,
            } => {
                let name = match (mapping, filtering) {
                    (Mapping::EndpointIndependent, Filtering::EndpointIndependent) => "full cone",
                    (Mapping::EndpointIndependent, Filtering::AddressDependent) => {
                        "restricted cone"
                    }
                    (Mapping::EndpointIndependent, Filtering::AddressAndPortDependent) => {
                        "port-restricted cone"
                    }
                    (Mapping::AddressAndPortDependent, Filtering::AddressAndPortDependent) => {
                        "symmetric"
                    }
                    (Mapping::AddressAndPortDependent, _) => "address-and-port-dependent mapping",
                };
                format!("{name} on {oif}")
            }
        }
    }
}

//! The declarative description of a lab: nodes, veth links and wires,
//! bridged L2 segments, static routes, forwarding and sysctls.
//!
//! A [`Topology`] is plain data. Nothing is parsed or checked while you build
//! it; [`Topology::validate`] (called by [`Net::build`](crate::Net::build))
//! checks everything at once and returns the first problem as a typed
//! [`TopologyError`] before any namespace exists.
//!
//! ```
//! use netns_test::{Route, Topology};
//!
//! // h1 -- r1 -- h2, the classic router lab.
//! let topo = Topology::new()
//!     .link(("h1", "eth0", "198.51.100.1/24"), ("r1", "eth0", "198.51.100.254/24"))
//!     .link(("r1", "eth1", "203.0.113.254/24"), ("h2", "eth0", "203.0.113.1/24"))
//!     .forwarding("r1")
//!     .route("h1", Route::default_via("198.51.100.254"))
//!     .route("h2", Route::default_via("203.0.113.254"));
//! topo.validate()?;
//! # Ok::<(), netns_test::TopologyError>(())
//! ```

pub mod draw;
mod error;
mod generate;
mod plan;
mod validate;
mod wire;

pub use error::TopologyError;
pub(crate) use plan::{Plan, PlanIface, PlanNode, BRIDGE_NAME};
pub(crate) use validate::{compile_netfilter, resolve_route, IfaceView, NodeView};
pub(crate) use wire::WireEnd;

use crate::ruleset::{Firewall, Nat};

/// One end of a link: a node, an interface name, its addresses and options.
///
/// Tuples convert into it: `("n1", "eth0")`, `("n1", "eth0", "198.51.100.1/24")`
/// and `("n1", "eth0", ["198.51.100.1/24", "2001:db8::1/64"])`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub(crate) node: String,
    pub(crate) ifname: String,
    pub(crate) addrs: Vec<String>,
    pub(crate) mtu: Option<u32>,
    pub(crate) mac: Option<String>,
    /// Set when the link of this end is a wire, with its models.
    pub(crate) wire: Option<WireEnd>,
}

impl Endpoint {
    /// An interface `ifname` in node `node`, with no address yet.
    pub fn new(node: impl Into<String>, ifname: impl Into<String>) -> Self {
        Endpoint {
            node: node.into(),
            ifname: ifname.into(),
            addrs: Vec::new(),
            mtu: None,
            mac: None,
            wire: None,
        }
    }

    /// Adds an IPv4 or IPv6 address in CIDR form (`198.51.100.1/24`, `2001:db8::1/64`).
    pub fn addr(mut self, cidr: impl Into<String>) -> Self {
        self.addrs.push(cidr.into());
        self
    }

    /// Sets the interface MTU (68 to 65535).
    ///
    /// Both ends of a veth share it: given on one end of a link (or on a
    /// bridge member), it is set on the other end (or the bridge port) too;
    /// two different MTUs on the ends of one link are refused.
    pub fn mtu(mut self, mtu: u32) -> Self {
        self.mtu = Some(mtu);
        self
    }

    /// Sets the MAC address (`02:00:00:00:00:01`).
    pub fn mac(mut self, mac: impl Into<String>) -> Self {
        self.mac = Some(mac.into());
        self
    }
}

impl<N: Into<String>, I: Into<String>> From<(N, I)> for Endpoint {
    fn from((node, ifname): (N, I)) -> Self {
        Endpoint::new(node, ifname)
    }
}

impl<N: Into<String>, I: Into<String>> From<(N, I, &str)> for Endpoint {
    fn from((node, ifname, cidr): (N, I, &str)) -> Self {
        Endpoint::new(node, ifname).addr(cidr)
    }
}

impl<N: Into<String>, I: Into<String>, const K: usize> From<(N, I, [&str; K])> for Endpoint {
    fn from((node, ifname, cidrs): (N, I, [&str; K])) -> Self {
        cidrs
            .into_iter()
            .fold(Endpoint::new(node, ifname), Endpoint::addr)
    }
}

/// A static route: destination, and a gateway and/or an output device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub(crate) dst: String,
    pub(crate) via: Option<String>,
    pub(crate) dev: Option<String>,
}

impl Route {
    /// A route to `dst`: a CIDR prefix with its host bits clear
    /// (`203.0.113.0/24`, not `203.0.113.7/24`), or `default` (the family
    /// then comes from the gateway).
    pub fn to(dst: impl Into<String>) -> Self {
        Route {
            dst: dst.into(),
            via: None,
            dev: None,
        }
    }

    /// The default route via `gateway` (IPv4 or IPv6).
    pub fn default_via(gateway: impl Into<String>) -> Self {
        Route::to("default").via(gateway)
    }

    /// Sends the traffic to `gateway`, which must be on a connected subnet;
    /// or to an IPv6 link-local gateway (`fe80::1`) on the link of the
    /// interface given with [`dev`](Route::dev), as routing daemons route.
    ///
    /// ```
    /// use netns_test::{Route, Topology};
    /// let t = Topology::new()
    ///     .link(("h1", "eth0", "2001:db8:1::1/64"), ("r1", "eth0", ["2001:db8:1::fe/64", "fe80::fe/64"]))
    ///     .route("h1", Route::to("2001:db8:2::/64").via("fe80::fe").dev("eth0"));
    /// assert!(t.validate().is_ok());
    /// ```
    pub fn via(mut self, gateway: impl Into<String>) -> Self {
        self.via = Some(gateway.into());
        self
    }

    /// Sends the traffic out of interface `ifname` of the node.
    pub fn dev(mut self, ifname: impl Into<String>) -> Self {
        self.dev = Some(ifname.into());
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Link {
    pub(crate) a: Endpoint,
    pub(crate) b: Endpoint,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) switch: String,
    pub(crate) members: Vec<Endpoint>,
}

/// A lab description: nodes, links, segments, routes and per-node settings.
///
/// Nodes are declared by [`node`](Topology::node) or, implicitly, by being an
/// end of a link or a member of a segment. Routes, forwarding and sysctls must
/// name a node declared one of those ways.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topology {
    /// Every node mention in order: (name, declared explicitly).
    pub(crate) mentions: Vec<(String, bool)>,
    pub(crate) links: Vec<Link>,
    pub(crate) segments: Vec<Segment>,
    pub(crate) routes: Vec<(String, Route)>,
    pub(crate) forwarding: Vec<String>,
    /// Switches whose bridge forwards listener reports.
    pub(crate) forward_mld: Vec<String>,
    pub(crate) sysctls: Vec<(String, String, String)>,
    pub(crate) nats: Vec<(String, Nat)>,
    pub(crate) firewalls: Vec<(String, Firewall)>,
    /// The seed of every random choice in the lab (its wires' models).
    pub(crate) seed: Option<u64>,
    /// Why a generator made no lab: validation reports it first.
    pub(crate) generator_error: Option<TopologyError>,
}

impl Topology {
    /// An empty topology.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares a node (a network namespace of its own, loopback up). Only
    /// needed for a node with no link; declaring a node twice is an error.
    pub fn node(mut self, name: impl Into<String>) -> Self {
        self.mentions.push((name.into(), true));
        self
    }

    /// A veth pair between two nodes: `a` created in its node with its peer `b`
    /// created directly in the other node.
    ///
    /// ```
    /// # use netns_test::{Endpoint, Topology};
    /// let t = Topology::new().link(
    ///     ("n1", "n1-veth0", ["198.51.100.1/24", "2001:db8::1/64"]),
    ///     Endpoint::new("n2", "n2-veth0").addr("198.51.100.2/24").addr("2001:db8::2/64").mtu(1400),
    /// );
    /// # t.validate().unwrap();
    /// ```
    pub fn link(mut self, a: impl Into<Endpoint>, b: impl Into<Endpoint>) -> Self {
        let (a, b) = (a.into(), b.into());
        self.mentions.push((a.node.clone(), false));
        self.mentions.push((b.node.clone(), false));
        self.links.push(Link { a, b });
        self
    }

    /// An L2 segment: a Linux bridge in a node of its own named `switch`
    /// (device `br0`), and one veth per member, the member's end described by
    /// the endpoint and the bridge's end (`port1`, `port2`, ...) enslaved to `br0`.
    ///
    /// The bridge runs no STP and no multicast snooping (so multicast is
    /// flooded to every port, as a snooping bridge without a querier does),
    /// and its frames skip br_netfilter's IP hooks. The switch node has IPv6
    /// off, so its ports send nothing of their own. Members (and every node
    /// with an IPv6 address) send no router solicitations: no node of a lab
    /// answers them, and the bridge would copy each to every port. A
    /// topology's own sysctls override both. The switch drops the members'
    /// multicast listener reports (MLD), which the kernel sends unasked for
    /// every IPv6 address: copied to every port they would cost the square
    /// of the members, and without snooping or a querier no node needs them
    /// ([`forward_mld`](Topology::forward_mld) keeps them). It does so in
    /// an nftables `bridge` table, `netns_test_switch`, where the kernel
    /// has nftables' bridge family (else the bridge floods them).
    ///
    /// ```
    /// # use netns_test::Topology;
    /// let lan = Topology::new().bridge("sw", [
    ///     ("h1", "eth0", "198.51.100.1/24"),
    ///     ("h2", "eth0", "198.51.100.2/24"),
    ///     ("h3", "eth0", "198.51.100.3/24"),
    /// ]);
    /// # lan.validate().unwrap();
    /// ```
    pub fn bridge<E: Into<Endpoint>>(
        mut self,
        switch: impl Into<String>,
        members: impl IntoIterator<Item = E>,
    ) -> Self {
        let switch = switch.into();
        self.mentions.push((switch.clone(), true));
        let members: Vec<Endpoint> = members.into_iter().map(Into::into).collect();
        for m in &members {
            self.mentions.push((m.node.clone(), false));
        }
        self.segments.push(Segment { switch, members });
        self
    }

    /// A static route in `node`.
    pub fn route(mut self, node: impl Into<String>, route: Route) -> Self {
        self.routes.push((node.into(), route));
        self
    }

    /// Turns on forwarding in `node` (a router), and lifts the kernel's
    /// rate limit on the ICMP errors it sends, so every traceroute through
    /// it gets its answers.
    ///
    /// Both for IPv4 and IPv6, unless every address and route of the lab is
    /// IPv6: then IPv4's (`net.ipv4.ip_forward`, `net.ipv4.icmp_ratelimit`)
    /// keep the values a new namespace starts with, which saves a big lab's
    /// build a sysctl lookup per router (one that grows with the machine's
    /// namespaces where the library cannot use a procfs instance of its
    /// own). Set them with
    /// [`sysctl`](Topology::sysctl) where a test needs them.
    ///
    /// ```no_run
    /// use netns_test::{Net, Topology};
    ///
    /// let t = Topology::new()
    ///     .link(("h1", "eth0", "2001:db8:1::1/64"), ("r", "eth0", "2001:db8:1::2/64"))
    ///     .link(("r", "eth1", "2001:db8:2::1/64"), ("h2", "eth0", "2001:db8:2::2/64"))
    ///     .forwarding("r");
    /// let net = Net::build(&t)?;
    /// let v6 = net["r"].run(|| std::fs::read_to_string("/proc/sys/net/ipv6/conf/all/forwarding"))??;
    /// assert_eq!(v6.trim(), "1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn forwarding(mut self, node: impl Into<String>) -> Self {
        self.forwarding.push(node.into());
        self
    }

    /// Lets the bridge of segment `switch` forward its members' multicast
    /// listener reports (MLDv1 reports and dones, MLDv2 reports) to every
    /// port, as a bridge without snooping does. By default the switch drops
    /// them as they arrive (see [`bridge`](Topology::bridge)); a test of an
    /// MLD querier, a multicast router or a snooping switch on a member
    /// needs them. Naming a node that is not a segment's switch is an error
    /// ([`TopologyError::NotASwitch`]).
    ///
    /// ```
    /// # use netns_test::Topology;
    /// let lan = Topology::new()
    ///     .bridge("sw", [
    ///         ("querier", "eth0", "2001:db8:1::1/64"),
    ///         ("listener", "eth0", "2001:db8:1::2/64"),
    ///     ])
    ///     .forward_mld("sw");
    /// # lan.validate().unwrap();
    /// ```
    pub fn forward_mld(mut self, switch: impl Into<String>) -> Self {
        self.forward_mld.push(switch.into());
        self
    }

    /// Sets a sysctl in `node`, e.g. `("r1", "net.ipv4.conf.all.rp_filter", "0")`.
    ///
    /// Only sysctls known to be per network namespace are allowed, so that
    /// no setting of a node changes the machine; any other key is refused
    /// with [`TopologyError::SysctlNotPerNamespace`]. The allowed keys:
    ///
    /// * `net.ipv4.conf.IF.*`, `net.ipv6.conf.IF.*`, where `IF` is `all`,
    ///   `default`, `lo` or an interface of the node;
    /// * `net.ipv4.neigh.IF.*`, `net.ipv6.neigh.IF.*`, where `IF` is `lo` or
    ///   an interface of the node (the `default` directories are
    ///   kernel-global);
    /// * `net.ipv4.ip_forward`, `ip_default_ttl`, `ip_local_port_range`,
    ///   `ping_group_range`, and the `net.ipv4.icmp_*`, `fib_*`, `udp_*`
    ///   and `tcp_*` settings that are per namespace (not
    ///   `tcp_congestion_control`, which can load a kernel module);
    /// * `net.ipv4.route.{flush,min_adv_mss,min_pmtu,mtu_expires}`,
    ///   `net.ipv6.route.*`, `net.ipv6.icmp.*`;
    /// * `net.core.somaxconn`, `net.unix.max_dgram_qlen`;
    /// * the `net.netfilter.nf_conntrack_*` settings a node may write (not
    ///   the table sizes, which are kernel-global).
    ///
    /// Keys are written as sysctl(8) writes them: in an interface name, a
    /// `/` stands for a `.` (`net.ipv4.conf.e/1.rp_filter` for `e.1`).
    /// Values are at most 4096 bytes. Settings of the namespace are written
    /// as soon as it exists, so `default` ones apply to its interfaces; those
    /// of one interface once it exists, before its addresses are added.
    ///
    /// ```
    /// # use netns_test::{Topology, TopologyError};
    /// let t = Topology::new()
    ///     .link(("r1", "e.1", "198.51.100.1/24"), ("h1", "eth0", "198.51.100.2/24"))
    ///     .sysctl("r1", "net.ipv4.conf.e/1.rp_filter", "2");
    /// t.validate()?;
    /// let global = Topology::new().node("r1").sysctl("r1", "net.core.rmem_max", "1048576");
    /// assert!(matches!(global.validate(), Err(TopologyError::SysctlNotPerNamespace { .. })));
    /// # Ok::<(), TopologyError>(())
    /// ```
    pub fn sysctl(
        mut self,
        node: impl Into<String>,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.sysctls.push((node.into(), key.into(), value.into()));
        self
    }

    /// A network address translation on router `node` (which must
    /// forward): masquerade, SNAT, port forwarding, or an RFC 4787
    /// behaviour ([`Nat`](crate::firewall::Nat)). Several may be given;
    /// they are installed in order, with the node's firewall, as one
    /// nftables table (`inet netns_test_firewall`) once the node is built.
    /// One that those before it leave nothing to, such as a second source
    /// NAT out of one interface for one address family, would never match:
    /// it is refused ([`TopologyError::NatNeverMatches`]).
    ///
    /// ```
    /// use netns_test::firewall::{Nat, Proto};
    /// use netns_test::{Topology, TopologyError};
    ///
    /// let t = Topology::new()
    ///     .link(("h1", "eth0", "198.51.100.1/26"), ("r1", "eth0", "198.51.100.62/26"))
    ///     .link(("r1", "eth1", "203.0.113.1/24"), ("h2", "eth0", "203.0.113.2/24"))
    ///     .forwarding("r1")
    ///     .nat("r1", Nat::masquerade("eth1"))
    ///     .nat("r1", Nat::port_forward("eth1", Proto::Tcp, 2222, "198.51.100.1:22"));
    /// t.validate()?;
    /// // An interface the router does not have is named in the error.
    /// let bad = t.clone().nat("r1", Nat::masquerade("wan0"));
    /// assert!(matches!(bad.validate(), Err(TopologyError::UnknownInterface { ifname, .. }) if ifname == "wan0"));
    /// // The masquerade takes everything out of eth1 first.
    /// let dead = t.clone().nat("r1", Nat::snat("eth1", "203.0.113.1"));
    /// assert!(matches!(dead.validate(), Err(TopologyError::NatNeverMatches { ifname, .. }) if ifname == "eth1"));
    /// # Ok::<(), TopologyError>(())
    /// ```
    pub fn nat(mut self, node: impl Into<String>, nat: Nat) -> Self {
        self.nats.push((node.into(), nat));
        self
    }

    /// A stateful packet filter on `node` ([`Firewall`](crate::firewall::Firewall)),
    /// one per node; see there for an example.
    pub fn firewall(mut self, node: impl Into<String>, firewall: Firewall) -> Self {
        self.firewalls.push((node.into(), firewall));
        self
    }

    /// Checks the whole description; the first problem comes back typed.
    pub fn validate(&self) -> Result<(), TopologyError> {
        Plan::new(self).map(|_| ())
    }

    /// The node names, in the order they are created.
    pub fn node_names(&self) -> Vec<String> {
        let mut seen = Vec::<String>::new();
        for (n, _) in &self.mentions {
            if !seen.contains(n) {
                seen.push(n.clone());
            }
        }
        seen
    }
}

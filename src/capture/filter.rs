//! Which packets a test asks about: by protocol, address, port, node,
//! interface, direction and TCP flags.

use std::fmt;
use std::net::IpAddr;

use crate::packet::decode::{Direction, Packet, TcpFlags, Transport};
use crate::vocab::{Family, IntoIp};

/// A protocol a [`Filter`] can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Protocol {
    /// ARP.
    Arp,
    /// ICMP or ICMPv6.
    Icmp,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// The flags [`Filter::flags`] compares (ECE and CWR are left out: they
/// depend on ECN negotiation, not on what the test did).
const FLAGS_COMPARED: u8 = 0x3f;

/// Which packets: every condition set must hold; a new filter matches
/// every packet.
///
/// ```
/// use netns_test::capture::{Direction, Filter, TcpFlags};
/// let syn = Filter::tcp().dst_port(80).flags(TcpFlags::SYN).on("h1", "eth0").outgoing();
/// assert_eq!(syn.to_string(), "tcp dst port 80 flags [S] on h1/eth0 out");
/// let pings = Filter::echo_request().src("198.51.100.1").node("r1");
/// assert_eq!(pings.to_string(), "echo request src 198.51.100.1 on r1");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    protocol: Option<Protocol>,
    echo: Option<bool>,
    /// (ICMPv6, type).
    icmp_type: Option<(bool, u8)>,
    family: Option<Family>,
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    host: Option<IpAddr>,
    src_port: Option<u16>,
    dst_port: Option<u16>,
    port: Option<u16>,
    node: Option<String>,
    iface: Option<String>,
    direction: Option<Direction>,
    flags: Option<TcpFlags>,
    has_flags: Option<TcpFlags>,
}

fn ip(addr: impl IntoIp, what: &str) -> IpAddr {
    addr.into_ip()
        .unwrap_or_else(|text| panic!("Filter::{what}: `{text}` is not an IP address"))
}

impl Filter {
    /// Every packet.
    pub fn new() -> Filter {
        Filter::default()
    }

    /// Packets of `protocol`.
    pub fn protocol(mut self, protocol: Protocol) -> Filter {
        self.protocol = Some(protocol);
        self
    }

    /// ARP packets.
    pub fn arp() -> Filter {
        Filter::new().protocol(Protocol::Arp)
    }

    /// ICMP and ICMPv6 messages.
    pub fn icmp() -> Filter {
        Filter::new().protocol(Protocol::Icmp)
    }

    /// TCP segments.
    pub fn tcp() -> Filter {
        Filter::new().protocol(Protocol::Tcp)
    }

    /// UDP datagrams.
    pub fn udp() -> Filter {
        Filter::new().protocol(Protocol::Udp)
    }

    /// Echo requests (ICMP type 8, ICMPv6 type 128).
    pub fn echo_request() -> Filter {
        Filter {
            echo: Some(true),
            ..Filter::icmp()
        }
    }

    /// Echo replies (ICMP type 0, ICMPv6 type 129).
    pub fn echo_reply() -> Filter {
        Filter {
            echo: Some(false),
            ..Filter::icmp()
        }
    }

    /// ICMPv4 messages of type `kind` (3: destination unreachable, 11:
    /// time exceeded, ...); ICMPv6 messages never match (the same numbers
    /// mean other things there: see [`icmpv6_type`](Filter::icmpv6_type)).
    ///
    /// ```
    /// use netns_test::capture::Filter;
    /// assert_eq!(Filter::new().icmp_type(3).to_string(), "icmp type 3");
    /// ```
    pub fn icmp_type(mut self, kind: u8) -> Filter {
        self.protocol = Some(Protocol::Icmp);
        self.icmp_type = Some((false, kind));
        self
    }

    /// ICMPv6 messages of type `kind` (1: destination unreachable, 3: time
    /// exceeded, 135: neighbour solicitation, 143: MLDv2 report, ...);
    /// ICMPv4 messages never match.
    ///
    /// ```
    /// use netns_test::capture::Filter;
    /// assert_eq!(Filter::new().icmpv6_type(3).to_string(), "icmp6 type 3");
    /// ```
    pub fn icmpv6_type(mut self, kind: u8) -> Filter {
        self.protocol = Some(Protocol::Icmp);
        self.icmp_type = Some((true, kind));
        self
    }

    /// IPv4 or IPv6 packets only (ARP counts as IPv4).
    pub fn family(mut self, family: Family) -> Filter {
        self.family = Some(family);
        self
    }

    /// From this IP address (panics if `addr` is not one).
    pub fn src(mut self, addr: impl IntoIp) -> Filter {
        self.src = Some(ip(addr, "src"));
        self
    }

    /// To this IP address (panics if `addr` is not one).
    pub fn dst(mut self, addr: impl IntoIp) -> Filter {
        self.dst = Some(ip(addr, "dst"));
        self
    }

    /// From or to this IP address (panics if `addr` is not one). For ARP:
    /// the sender's or the target's address.
    pub fn host(mut self, addr: impl IntoIp) -> Filter {
        self.host = Some(ip(addr, "host"));
        self
    }

    /// From this TCP or UDP port.
    pub fn src_port(mut self, port: u16) -> Filter {
        self.src_port = Some(port);
        self
    }

    /// To this TCP or UDP port.
    pub fn dst_port(mut self, port: u16) -> Filter {
        self.dst_port = Some(port);
        self
    }

    /// From or to this TCP or UDP port.
    pub fn port(mut self, port: u16) -> Filter {
        self.port = Some(port);
        self
    }

    /// Seen in node `node` (on any of its captured interfaces).
    pub fn node(mut self, node: impl Into<String>) -> Filter {
        self.node = Some(node.into());
        self
    }

    /// Seen on interface `iface` of node `node`.
    pub fn on(mut self, node: impl Into<String>, iface: impl Into<String>) -> Filter {
        self.node = Some(node.into());
        self.iface = Some(iface.into());
        self
    }

    /// Crossing the interface this way.
    pub fn direction(mut self, direction: Direction) -> Filter {
        self.direction = Some(direction);
        self
    }

    /// Received by the interface.
    pub fn incoming(self) -> Filter {
        self.direction(Direction::In)
    }

    /// Sent by the interface.
    pub fn outgoing(self) -> Filter {
        self.direction(Direction::Out)
    }

    /// TCP segments whose flags are exactly `flags` (FIN, SYN, RST, PSH,
    /// ACK and URG compared): `TcpFlags::SYN` is the first segment of a
    /// handshake, `SYN | ACK` the second.
    pub fn flags(mut self, flags: TcpFlags) -> Filter {
        self.protocol = Some(Protocol::Tcp);
        self.flags = Some(flags);
        self
    }

    /// TCP segments with at least `flags` set (`TcpFlags::RST`: any reset).
    pub fn has_flags(mut self, flags: TcpFlags) -> Filter {
        self.protocol = Some(Protocol::Tcp);
        self.has_flags = Some(flags);
        self
    }

    /// The node and the interface the filter names, if it names them.
    pub(crate) fn place(&self) -> (Option<&str>, Option<&str>) {
        (self.node.as_deref(), self.iface.as_deref())
    }

    /// Whether `p` passes every condition.
    pub fn matches(&self, p: &Packet) -> bool {
        let d = &p.decoded;
        let ips =
            d.ip.map(|h| (h.src, h.dst))
                .or(d.arp.map(|a| (a.sender_ip.into(), a.target_ip.into())));
        let ports = (p.src_port(), p.dst_port());
        let proto_ok = match self.protocol {
            None => true,
            Some(Protocol::Arp) => d.arp.is_some(),
            Some(Protocol::Icmp) => matches!(d.transport, Transport::Icmp(_)),
            Some(Protocol::Tcp) => matches!(d.transport, Transport::Tcp(_)),
            Some(Protocol::Udp) => matches!(d.transport, Transport::Udp(_)),
        };
        let icmp = p.icmp();
        let tcp_flags = p.tcp().map(|t| t.flags);
        proto_ok
            && self.echo.is_none_or(|req| {
                icmp.is_some_and(|i| {
                    if req {
                        i.is_echo_request()
                    } else {
                        i.is_echo_reply()
                    }
                })
            })
            && self
                .icmp_type
                .is_none_or(|(v6, k)| icmp.is_some_and(|i| i.v6 == v6 && i.kind == k))
            && self.family.is_none_or(|f| match (d.ip, d.arp) {
                (Some(h), _) => f.holds(h.src),
                (None, Some(_)) => f == Family::V4,
                _ => false,
            })
            && self.src.is_none_or(|a| ips.is_some_and(|(s, _)| s == a))
            && self.dst.is_none_or(|a| ips.is_some_and(|(_, t)| t == a))
            && self
                .host
                .is_none_or(|a| ips.is_some_and(|(s, t)| s == a || t == a))
            && self.src_port.is_none_or(|x| ports.0 == Some(x))
            && self.dst_port.is_none_or(|x| ports.1 == Some(x))
            && self
                .port
                .is_none_or(|x| ports.0 == Some(x) || ports.1 == Some(x))
            && self.node.as_ref().is_none_or(|n| *n == p.node)
            && self.iface.as_ref().is_none_or(|i| *i == p.iface)
            && self.direction.is_none_or(|dir| dir == p.direction)
            && self.flags.is_none_or(|f| {
                tcp_flags.is_some_and(|t| t.0 & FLAGS_COMPARED == f.0 & FLAGS_COMPARED)
            })
            && self
                .has_flags
                .is_none_or(|f| tcp_flags.is_some_and(|t| t.contains(f)))
    }
}

impl fmt::Display for Filter {
    /// tcpdump-like words: `tcp src 198.51.100.1 dst port 80 flags [S] on h1/eth0 out`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut words: Vec<String> = Vec::new();
        match (self.echo, self.protocol, self.icmp_type) {
            (Some(true), _, _) => words.push("echo request".into()),
            (Some(false), _, _) => words.push("echo reply".into()),
            (None, _, Some((false, k))) => words.push(format!("icmp type {k}")),
            (None, _, Some((true, k))) => words.push(format!("icmp6 type {k}")),
            (None, Some(p), None) => words.push(
                match p {
                    Protocol::Arp => "arp",
                    Protocol::Icmp => "icmp",
                    Protocol::Tcp => "tcp",
                    Protocol::Udp => "udp",
                }
                .into(),
            ),
            (None, None, None) => {}
        }
        if let Some(fam) = self.family {
            words.push(
                match fam {
                    Family::V4 => "ipv4",
                    Family::V6 => "ipv6",
                }
                .into(),
            );
        }
        let mut add = |w: &str, v: Option<String>| {
            if let Some(v) = v {
                words.push(format!("{w} {v}"));
            }
        };
        add("src", self.src.map(|a| a.to_string()));
        add("dst", self.dst.map(|a| a.to_string()));
        add("host", self.host.map(|a| a.to_string()));
        add("src port", self.src_port.map(|p| p.to_string()));
        add("dst port", self.dst_port.map(|p| p.to_string()));
        add("port", self.port.map(|p| p.to_string()));
        add("flags", self.flags.map(|x| format!("[{x}]")));
        add("with flags", self.has_flags.map(|x| format!("[{x}]")));
        match (&self.node, &self.iface) {
            (Some(n), Some(i)) => words.push(format!("on {n}/{i}")),
            (Some(n), None) => words.push(format!("on {n}")),
            _ => {}
        }
        if let Some(d) = self.direction {
            words.push(
                match d {
                    Direction::In => "in",
                    Direction::Out => "out",
                }
                .into(),
            );
        }
        if words.is_empty() {
            return f.write_str("any packet");
        }
        f.write_str(&words.join(" "))
    }
}

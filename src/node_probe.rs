//! Probes sent from a node: ping, traceroute, TCP and UDP port probes.
//!
//! Each method enters the node on the calling thread for the length of the
//! probe (so the sockets are created inside the node), runs the native probe
//! of [`crate::probe`] and restores the thread. Hop addresses of a
//! traceroute are mapped back to node names of the network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::node::Node;
use crate::probe::{
    self, PingOptions, PingReport, TcpProbe, TraceMode, TraceOptions, TraceReport, UdpProbe,
};

/// Something that names an IP address: `"198.51.100.2"`, an `IpAddr`, ...
///
/// Text is parsed strictly: no name lookups, so a probe can never trigger a
/// DNS query from the host.
pub trait IntoIp {
    /// The address, or the text that did not parse.
    fn into_ip(self) -> std::result::Result<IpAddr, String>;
}

impl IntoIp for IpAddr {
    fn into_ip(self) -> std::result::Result<IpAddr, String> {
        Ok(self)
    }
}
impl IntoIp for Ipv4Addr {
    fn into_ip(self) -> std::result::Result<IpAddr, String> {
        Ok(self.into())
    }
}
impl IntoIp for Ipv6Addr {
    fn into_ip(self) -> std::result::Result<IpAddr, String> {
        Ok(self.into())
    }
}
impl IntoIp for &str {
    fn into_ip(self) -> std::result::Result<IpAddr, String> {
        self.parse().map_err(|_| self.to_string())
    }
}
impl IntoIp for String {
    fn into_ip(self) -> std::result::Result<IpAddr, String> {
        self.as_str().into_ip()
    }
}
impl IntoIp for &String {
    fn into_ip(self) -> std::result::Result<IpAddr, String> {
        self.as_str().into_ip()
    }
}

/// Something that names a socket address: `"198.51.100.2:80"`,
/// `"[2001:db8::2]:80"`, a `SocketAddr`, or an `(ip, port)` pair. Parsed
/// strictly, without name lookups.
pub trait IntoSocketAddr {
    /// The address, or the text that did not parse.
    fn into_socket_addr(self) -> std::result::Result<SocketAddr, String>;
}

impl IntoSocketAddr for SocketAddr {
    fn into_socket_addr(self) -> std::result::Result<SocketAddr, String> {
        Ok(self)
    }
}
impl IntoSocketAddr for &str {
    fn into_socket_addr(self) -> std::result::Result<SocketAddr, String> {
        self.parse().map_err(|_| self.to_string())
    }
}
impl IntoSocketAddr for String {
    fn into_socket_addr(self) -> std::result::Result<SocketAddr, String> {
        self.as_str().into_socket_addr()
    }
}
impl<I: IntoIp> IntoSocketAddr for (I, u16) {
    fn into_socket_addr(self) -> std::result::Result<SocketAddr, String> {
        Ok(SocketAddr::new(self.0.into_ip()?, self.1))
    }
}

fn bad_ip(input: String) -> Error {
    Error::InvalidAddress { input }
}

/// Builder methods that pass one option through to the probe's options.
macro_rules! option_setters {
    ($($(#[$doc:meta])* $name:ident($arg:ident: $ty:ty);)*) => {$(
        $(#[$doc])*
        pub fn $name(mut self, $arg: $ty) -> Self {
            self.opts = self.opts.$name($arg);
            self
        }
    )*};
}

/// A ping about to be sent from a node; made by [`Node::ping`].
#[derive(Debug)]
#[must_use = "a ping is sent by .run()"]
pub struct Ping<'a> {
    node: &'a Node,
    dst: std::result::Result<IpAddr, String>,
    opts: PingOptions,
}

impl Ping<'_> {
    option_setters! {
        /// Number of echo requests (default 1).
        count(n: u32);
        /// Time between requests (default 1 s).
        interval(d: Duration);
        /// How long to wait for each reply (default 2 s).
        timeout(d: Duration);
        /// Overall limit for the whole run.
        deadline(d: Duration);
        /// ICMP payload bytes (default 56, so replies show `64 bytes`).
        payload_size(bytes: usize);
        /// TTL (IPv4) or hop limit (IPv6).
        ttl(ttl: u8);
        /// Source address to send from.
        source(src: IpAddr);
    }
    /// Interface to send from (`SO_BINDTODEVICE`).
    pub fn interface(mut self, name: impl Into<String>) -> Self {
        self.opts = self.opts.interface(name);
        self
    }
    /// Replaces all options at once.
    pub fn options(mut self, opts: PingOptions) -> Self {
        self.opts = opts;
        self
    }
    /// Sends the requests from inside the node and reports what came back.
    pub fn run(self) -> Result<PingReport> {
        let dst = self.dst.map_err(bad_ip)?;
        Ok(in_node(self.node, || probe::ping(dst, &self.opts))??)
    }

    /// Like [`run`](Ping::run), without blocking the async runtime: the probe
    /// runs on a thread of its own inside the node, so tasks of the calling
    /// runtime (a server the test spawned, say) keep running meanwhile.
    pub async fn run_async(self) -> Result<PingReport> {
        let dst = self.dst.map_err(bad_ip)?;
        let opts = self.opts;
        off_thread(self.node, move || Ok(probe::ping(dst, &opts)?)).await
    }
}

/// A traceroute about to run from a node; made by [`Node::traceroute`].
#[derive(Debug)]
#[must_use = "a traceroute is sent by .run()"]
pub struct Trace<'a> {
    node: &'a Node,
    dst: std::result::Result<IpAddr, String>,
    opts: TraceOptions,
}

impl Trace<'_> {
    option_setters! {
        /// ICMP echo probes (default) or UDP probes.
        mode(mode: TraceMode);
        /// Highest TTL to try (default 30).
        max_hops(n: u8);
        /// Probes per hop (default 3, like traceroute).
        probes_per_hop(n: u8);
        /// How long to wait for each probe's answer (default 2 s).
        timeout(d: Duration);
        /// Payload bytes after the ICMP or UDP header (default 32).
        payload_size(bytes: usize);
        /// Source address to send from.
        source(src: IpAddr);
    }
    /// Interface to send from (`SO_BINDTODEVICE`).
    pub fn interface(mut self, name: impl Into<String>) -> Self {
        self.opts = self.opts.interface(name);
        self
    }
    /// Replaces all options at once.
    pub fn options(mut self, opts: TraceOptions) -> Self {
        self.opts = opts;
        self
    }
    /// Runs the trace from inside the node; hops are named after the nodes
    /// that hold their addresses.
    pub fn run(self) -> Result<TraceReport> {
        let dst = self.dst.map_err(bad_ip)?;
        let mut report = in_node(self.node, || probe::traceroute(dst, &self.opts))??;
        report.resolve_names(|ip| self.node.directory().name_of(ip).map(str::to_string));
        Ok(report)
    }

    /// Like [`run`](Trace::run), without blocking the async runtime.
    pub async fn run_async(self) -> Result<TraceReport> {
        let dst = self.dst.map_err(bad_ip)?;
        let opts = self.opts;
        let mut report = off_thread(self.node, move || Ok(probe::traceroute(dst, &opts)?)).await?;
        report.resolve_names(|ip| self.node.directory().name_of(ip).map(str::to_string));
        Ok(report)
    }
}

/// Runs `f` inside `node`: on the calling thread when it can move back
/// afterwards (cheap), on a thread of its own otherwise.
fn in_node<R: Send>(node: &Node, f: impl FnOnce() -> R + Send) -> Result<R> {
    if crate::netns::can_return_here() {
        node.with(f)
    } else {
        node.run(f)
    }
}

/// Runs a blocking probe on a fresh thread inside `node` and awaits its
/// result, so an async caller's runtime is not blocked meanwhile.
async fn off_thread<R, F>(node: &Node, f: F) -> Result<R>
where
    F: FnOnce() -> Result<R> + Send + 'static,
    R: Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    // Detached: it ends with the probe, whose own timeouts bound it.
    drop(node.netns().spawn(move || {
        let _ = tx.send(f());
    })?);
    rx.await.map_err(|_| Error::Spawn {
        op: format!("run a probe in node `{}`", node.name()),
        source: std::io::Error::other("the probe thread ended without a result"),
    })?
}

impl Node {
    /// A ping from this node to `dst`; configure it, then `.run()`.
    ///
    /// ```no_run
    /// # use netns_test::{Net, Topology};
    /// # let net = Net::build(&Topology::new().link(("n1", "e0", "198.51.100.1/24"), ("n2", "e0", "198.51.100.2/24")))?;
    /// let report = net["n1"].ping("198.51.100.2").count(3).run()?;
    /// assert_eq!(report.received, 3);
    /// println!("{report}");
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn ping(&self, dst: impl IntoIp) -> Ping<'_> {
        Ping {
            node: self,
            dst: dst.into_ip(),
            opts: PingOptions::new(),
        }
    }

    /// A traceroute from this node to `dst`; configure it, then `.run()`.
    pub fn traceroute(&self, dst: impl IntoIp) -> Trace<'_> {
        Trace {
            node: self,
            dst: dst.into_ip(),
            opts: TraceOptions::new(),
        }
    }

    /// A TCP connect from this node: open, refused or timed out.
    pub fn tcp_connect(&self, addr: impl IntoSocketAddr, timeout: Duration) -> Result<TcpProbe> {
        let addr = addr.into_socket_addr().map_err(bad_ip)?;
        Ok(in_node(self, || probe::tcp_connect(addr, timeout))??)
    }

    /// [`tcp_connect`](Node::tcp_connect) without blocking the async runtime.
    pub async fn tcp_connect_async(
        &self,
        addr: impl IntoSocketAddr,
        timeout: Duration,
    ) -> Result<TcpProbe> {
        let addr = addr.into_socket_addr().map_err(bad_ip)?;
        off_thread(self, move || Ok(probe::tcp_connect(addr, timeout)?)).await
    }

    /// [`udp_request`](Node::udp_request) without blocking the async
    /// runtime: a UDP server task on the same runtime can answer it.
    pub async fn udp_request_async(
        &self,
        addr: impl IntoSocketAddr,
        request: &[u8],
        timeout: Duration,
    ) -> Result<UdpProbe> {
        let addr = addr.into_socket_addr().map_err(bad_ip)?;
        let request = request.to_vec();
        off_thread(self, move || {
            Ok(probe::udp_request(addr, &request, timeout)?)
        })
        .await
    }

    /// [`wait_port_open`](Node::wait_port_open) without blocking the async
    /// runtime, for a server task the test has just spawned.
    pub async fn wait_port_open_async(
        &self,
        addr: impl IntoSocketAddr,
        timeout: Duration,
    ) -> Result<TcpProbe> {
        let addr = addr.into_socket_addr().map_err(bad_ip)?;
        off_thread(self, move || Ok(probe::wait_port_open(addr, timeout)?)).await
    }

    /// A UDP request from this node, waiting for one reply.
    pub fn udp_request(
        &self,
        addr: impl IntoSocketAddr,
        request: &[u8],
        timeout: Duration,
    ) -> Result<UdpProbe> {
        let addr = addr.into_socket_addr().map_err(bad_ip)?;
        Ok(in_node(self, || {
            probe::udp_request(addr, request, timeout)
        })??)
    }

    /// Pings `dst` until a reply or `timeout`; on failure the error holds the
    /// last report.
    pub fn wait_reachable(&self, dst: impl IntoIp, timeout: Duration) -> Result<PingReport> {
        let dst = dst.into_ip().map_err(bad_ip)?;
        Ok(in_node(self, || probe::wait_reachable(dst, timeout))??)
    }

    /// Tries TCP connects to `addr` until one succeeds or `timeout`; for
    /// servers a test has just started.
    pub fn wait_port_open(&self, addr: impl IntoSocketAddr, timeout: Duration) -> Result<TcpProbe> {
        let addr = addr.into_socket_addr().map_err(bad_ip)?;
        Ok(in_node(self, || probe::wait_port_open(addr, timeout))??)
    }
}

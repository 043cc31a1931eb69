//! Probes sent from a node, as builders with the same verbs: configure, then
//! `.run()` (blocking) or `.run_async()` (the probe runs on a thread of its
//! own inside the node, so the caller's runtime keeps serving its tasks).
//!
//! `run` enters the node on the calling thread for the length of the probe
//! (so the sockets are created inside the node), runs the native probe of
//! [`crate::probe`] and restores the thread. Hop addresses of a traceroute
//! are mapped back to node names of the network.

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

mod icmp;
mod port;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

pub use icmp::{Ping, Trace};
pub use port::{TcpConnect, UdpRequest, WaitPortOpen, WaitReachable};

use crate::error::{Error, Result};
use crate::lab::Node;
use crate::probe::{PingOptions, TraceOptions};
use crate::vocab::{IntoIp, IntoSocketAddr};

/// How long a port probe waits by default.
const PORT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long `wait_*` probes keep trying by default.
const WAIT_TIMEOUT: Duration = Duration::from_secs(5);

/// A destination given as text that did not parse as an address: a node
/// name of the lab (`"h2"`, or `"h2:80"` for a socket address) means that
/// node's first IPv4 address that no other node holds, else its first such
/// IPv6 address, in topology order; a node whose every address another
/// node holds too is [`Error::NoOwnAddress`]; anything else is
/// [`Error::InvalidAddress`].
trait Resolve: Sized {
    type Addr;
    fn resolve(self, node: &Node) -> Result<Self::Addr>;
}

impl Resolve for std::result::Result<IpAddr, String> {
    type Addr = IpAddr;
    fn resolve(self, node: &Node) -> Result<IpAddr> {
        self.or_else(|text| match node.directory().destination_of(&text) {
            Some(found) => found,
            None => Err(Error::InvalidAddress { input: text }),
        })
    }
}

impl Resolve for std::result::Result<SocketAddr, String> {
    type Addr = SocketAddr;
    fn resolve(self, node: &Node) -> Result<SocketAddr> {
        self.or_else(|text| {
            let found = text.rsplit_once(':').and_then(|(name, port)| {
                let port = port.parse::<u16>().ok()?;
                let ip = node.directory().destination_of(name)?;
                Some(ip.map(|ip| SocketAddr::new(ip, port)))
            });
            found.unwrap_or(Err(Error::InvalidAddress { input: text }))
        })
    }
}

/// Runs `f` inside `node`: directly when the calling thread is there
/// already (a test's body), on the calling thread when it can move back
/// afterwards (cheap), on a thread of its own otherwise.
fn in_node<R: Send>(node: &Node, f: impl FnOnce() -> R + Send) -> Result<R> {
    match crate::sys::netns::Here::open() {
        Ok(here) if here.inode() == node.netns().inode() => Ok(f()),
        Ok(here) if here.can_return() => {
            let _inside = node.netns().enter_from(here)?;
            Ok(f())
        }
        _ => node.run(f),
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

    /// A TCP connect from this node to `addr`: open, refused or timed out
    /// (default timeout 2 s).
    ///
    /// ```no_run
    /// # use netns_test::{Net, Topology};
    /// # use std::time::Duration;
    /// # let net = Net::build(&Topology::new().link(("n1", "e0", "198.51.100.1/24"), ("n2", "e0", "198.51.100.2/24")))?;
    /// let probe = net["n1"]
    ///     .tcp_connect("198.51.100.2:80")
    ///     .timeout(Duration::from_millis(500))
    ///     .run()?;
    /// assert!(!probe.is_open());
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn tcp_connect(&self, addr: impl IntoSocketAddr) -> TcpConnect<'_> {
        TcpConnect {
            node: self,
            addr: addr.into_socket_addr(),
            timeout: PORT_TIMEOUT,
        }
    }

    /// A UDP request from this node to `addr`, waiting for one reply
    /// (default timeout 2 s).
    pub fn udp_request(&self, addr: impl IntoSocketAddr, payload: &[u8]) -> UdpRequest<'_> {
        UdpRequest {
            node: self,
            addr: addr.into_socket_addr(),
            payload: payload.to_vec(),
            timeout: PORT_TIMEOUT,
        }
    }

    /// Pings `dst` until a reply comes or the timeout passes (default 5 s);
    /// on failure the error holds the last report.
    pub fn wait_reachable(&self, dst: impl IntoIp) -> WaitReachable<'_> {
        WaitReachable {
            node: self,
            dst: dst.into_ip(),
            timeout: WAIT_TIMEOUT,
        }
    }

    /// Tries TCP connects to `addr` until one succeeds or the timeout passes
    /// (default 5 s); for servers a test has just started.
    pub fn wait_port_open(&self, addr: impl IntoSocketAddr) -> WaitPortOpen<'_> {
        WaitPortOpen {
            node: self,
            addr: addr.into_socket_addr(),
            timeout: WAIT_TIMEOUT,
        }
    }
}

//! The builders of the port probes and the waits: [`TcpConnect`],
//! [`UdpRequest`], [`WaitReachable`], [`WaitPortOpen`].

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::{in_node, off_thread, Resolve};
use crate::error::Result;
use crate::lab::Node;
use crate::probe::{self, PingReport, TcpReport, UdpReport};

/// Makes a builder type with a `timeout` setter, a blocking `run` and a
/// `run_async`, from how to run the probe on the calling thread.
macro_rules! probe_builder {
    (
        $(#[$doc:meta])*
        $name:ident { $target:ident: $target_ty:ty $(, $field:ident: $field_ty:ty)* }
        -> $out:ty,
        |$t:ident, $timeout:ident $(, $f:ident)*| $body:expr
    ) => {
        $(#[$doc])*
        #[derive(Debug)]
        #[must_use = "a probe is sent by .run() or .run_async()"]
        pub struct $name<'a> {
            pub(super) node: &'a Node,
            pub(super) $target: std::result::Result<$target_ty, String>,
            $(pub(super) $field: $field_ty,)*
            pub(super) timeout: Duration,
        }

        impl $name<'_> {
            /// How long the probe may take.
            pub fn timeout(mut self, timeout: Duration) -> Self {
                self.timeout = timeout;
                self
            }

            /// Runs the probe from inside the node, blocking the caller.
            pub fn run(self) -> Result<$out> {
                let $t = self.$target.resolve(self.node)?;
                let $timeout = self.timeout;
                $(let $f = self.$field;)*
                Ok(in_node(self.node, move || $body)??)
            }

            /// Like [`run`](Self::run), without blocking the async runtime:
            /// the probe runs on a thread of its own inside the node, so a
            /// server task on the caller's runtime can answer it.
            pub async fn run_async(self) -> Result<$out> {
                let $t = self.$target.resolve(self.node)?;
                let $timeout = self.timeout;
                $(let $f = self.$field;)*
                off_thread(self.node, move || Ok($body?)).await
            }
        }
    };
}

probe_builder! {
    /// A TCP connect about to be tried from a node; made by
    /// [`Node::tcp_connect`].
    TcpConnect { addr: SocketAddr } -> TcpReport,
    |addr, timeout| probe::tcp_connect(addr, timeout)
}

probe_builder! {
    /// A UDP request about to be sent from a node; made by
    /// [`Node::udp_request`].
    UdpRequest { addr: SocketAddr, payload: Vec<u8> } -> UdpReport,
    |addr, timeout, payload| probe::udp_request(addr, &payload, timeout)
}

probe_builder! {
    /// Pings repeated from a node until one is answered; made by
    /// [`Node::wait_reachable`].
    WaitReachable { dst: IpAddr } -> PingReport,
    |dst, timeout| probe::wait_reachable(dst, timeout)
}

probe_builder! {
    /// TCP connects repeated from a node until one succeeds; made by
    /// [`Node::wait_port_open`].
    WaitPortOpen { addr: SocketAddr } -> TcpReport,
    |addr, timeout| probe::wait_port_open(addr, timeout)
}

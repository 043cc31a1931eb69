//! The ICMP probes' builders: [`Ping`] and [`Trace`].

use std::net::IpAddr;
use std::time::Duration;

use super::{in_node, off_thread, Resolve};
use crate::error::Result;
use crate::lab::Node;
use crate::probe::{self, PingOptions, PingReport, TraceMode, TraceOptions, TraceReport};

/// A ping about to be sent from a node; made by [`Node::ping`].
#[derive(Debug)]
#[must_use = "a ping is sent by .run()"]
pub struct Ping<'a> {
    pub(super) node: &'a Node,
    pub(super) dst: std::result::Result<IpAddr, String>,
    pub(super) opts: PingOptions,
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
        /// Allows a broadcast destination (`ping -b`); see
        /// [`PingOptions::broadcast`].
        broadcast(allow: bool);
        /// Forbids fragmentation (`ping -M do`); see
        /// [`PingOptions::dont_fragment`].
        dont_fragment(forbid: bool);
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
        let dst = self.dst.resolve(self.node)?;
        Ok(in_node(self.node, || probe::ping(dst, &self.opts))??)
    }

    /// Like [`run`](Ping::run), without blocking the async runtime: the probe
    /// runs on a thread of its own inside the node, so tasks of the calling
    /// runtime (a server the test spawned, say) keep running meanwhile.
    pub async fn run_async(self) -> Result<PingReport> {
        let dst = self.dst.resolve(self.node)?;
        let opts = self.opts;
        off_thread(self.node, move || Ok(probe::ping(dst, &opts)?)).await
    }
}

/// A traceroute about to run from a node; made by [`Node::traceroute`].
#[derive(Debug)]
#[must_use = "a traceroute is sent by .run()"]
pub struct Trace<'a> {
    pub(super) node: &'a Node,
    pub(super) dst: std::result::Result<IpAddr, String>,
    pub(super) opts: TraceOptions,
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
        let dst = self.dst.resolve(self.node)?;
        let mut report = in_node(self.node, || probe::traceroute(dst, &self.opts))??;
        report.resolve_names(|ip| self.node.directory().name_of(ip).map(str::to_string));
        Ok(report)
    }

    /// Like [`run`](Trace::run), without blocking the async runtime.
    pub async fn run_async(self) -> Result<TraceReport> {
        let dst = self.dst.resolve(self.node)?;
        let opts = self.opts;
        let mut report = off_thread(self.node, move || Ok(probe::traceroute(dst, &opts)?)).await?;
        report.resolve_names(|ip| self.node.directory().name_of(ip).map(str::to_string));
        Ok(report)
    }
}

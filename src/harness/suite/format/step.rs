//! The steps of a scenario, as a file writes them: a table whose `do` key
//! names the verb (`{ do = "start", name = "web", node = "srv", cmd = [...] }`).
//!
//! Adding a step is one variant of [`Step`] here (with its fields in a
//! struct) and one function in `exec/` that runs it, dispatched from
//! `exec/mod.rs` (`Runner::step`); `check.rs` learns the nodes,
//! programs, destinations and link it names in `Step::nodes`,
//! `Step::program`, `Step::hosts` and `Step::link`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::impair::{DirectionSpec, ImpairSpec, PresetSpec};
use super::topology::ProtoSpec;
use super::units::{Dur, OneOrMany};

/// One step of a scenario. Each waits for its event, up to its `timeout`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum Step {
    /// Starts a program in a node and goes on while it runs.
    Start(StartStep),
    /// Runs a program in a node to its end and checks its exit status.
    Run(RunStep),
    /// Stops a program (SIGTERM, then SIGKILL after `timeout`).
    Stop(StopStep),
    /// Sends a signal to a program (SIGKILL unless `signal` says).
    Kill(KillStep),
    /// Stops a program and starts it again as it was started.
    Restart(StopStep),
    /// Waits for a program to end and checks its exit status.
    WaitExit(WaitExitStep),
    /// Waits until a TCP port accepts connections.
    WaitPort(WaitPortStep),
    /// Waits for a line of a program's output that matches a regex.
    WaitOutput(WaitOutputStep),
    /// Pings and requires at least `min_received` replies.
    Ping(PingStep),
    /// Waits until a destination answers pings.
    Reachable(ReachStep),
    /// Requires that a destination does not answer a ping.
    Unreachable(ReachStep),
    /// Requires the hops a traceroute takes.
    Path(PathStep),
    /// Requires that every node reaches every other (a connectivity matrix).
    Connectivity(ConnectivityStep),
    /// A TCP connection attempt with an expected outcome.
    Tcp(TcpStep),
    /// A UDP request with an expected outcome.
    Udp(UdpStep),
    /// Cuts two sets of nodes apart.
    Partition(PartitionStep),
    /// Undoes a named fault, or every fault.
    Heal(HealStep),
    /// Takes a link down.
    LinkDown(LinkStep),
    /// Brings a link up (and stops its flapping).
    LinkUp(LinkStep),
    /// Flaps a link until `link_up` or `heal`.
    Flap(FlapStep),
    /// Sets the model of a wire, one direction or both (until `unimpair`
    /// or `heal`).
    Impair(ImpairStep),
    /// Removes the model of a wire's direction(s): frames pass untouched.
    Unimpair(UnimpairStep),
    /// Adds, replaces or deletes a route at run time.
    Route(RouteChangeStep),
    /// Starts capturing every interface.
    Capture(CaptureStep),
    /// Requires a number of captured packets matching a filter.
    ExpectPackets(ExpectPacketsStep),
    /// Waits.
    Sleep(SleepStep),
}

impl Step {
    /// The verb, as written after `do =`.
    pub fn verb(&self) -> &'static str {
        match self {
            Step::Start(_) => "start",
            Step::Run(_) => "run",
            Step::Stop(_) => "stop",
            Step::Kill(_) => "kill",
            Step::Restart(_) => "restart",
            Step::WaitExit(_) => "wait_exit",
            Step::WaitPort(_) => "wait_port",
            Step::WaitOutput(_) => "wait_output",
            Step::Ping(_) => "ping",
            Step::Reachable(_) => "reachable",
            Step::Unreachable(_) => "unreachable",
            Step::Path(_) => "path",
            Step::Connectivity(_) => "connectivity",
            Step::Tcp(_) => "tcp",
            Step::Udp(_) => "udp",
            Step::Partition(_) => "partition",
            Step::Heal(_) => "heal",
            Step::LinkDown(_) => "link_down",
            Step::LinkUp(_) => "link_up",
            Step::Flap(_) => "flap",
            Step::Impair(_) => "impair",
            Step::Unimpair(_) => "unimpair",
            Step::Route(_) => "route",
            Step::Capture(_) => "capture",
            Step::ExpectPackets(_) => "expect_packets",
            Step::Sleep(_) => "sleep",
        }
    }
}

/// A program to start: `cmd` is the program and its arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartStep {
    /// The name later steps use for it.
    pub name: String,
    /// The node it runs in.
    pub node: String,
    /// The program and its arguments (at least the program); the working
    /// directory is the suite file's folder.
    #[schemars(length(min = 1))]
    pub cmd: Vec<String>,
    /// Extra environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// A program run to its end.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunStep {
    /// A name for its output in the artifacts (`run-N` unless set).
    pub name: Option<String>,
    /// The node it runs in.
    pub node: String,
    /// The program and its arguments (at least the program).
    #[schemars(length(min = 1))]
    pub cmd: Vec<String>,
    /// Extra environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The expected exit status (0 unless set).
    #[serde(default)]
    pub status: i32,
    /// A regex some line of its standard output must match.
    pub stdout: Option<String>,
    /// How long it may run (10 s unless set); killed after.
    pub timeout: Option<Dur>,
}

/// Stopping (or restarting) a program.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StopStep {
    /// The program.
    pub name: String,
    /// How long it has to end after SIGTERM before SIGKILL (5 s unless set).
    pub timeout: Option<Dur>,
    /// Its expected exit status, if one is required.
    pub status: Option<i32>,
}

/// A signal to a program.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KillStep {
    /// The program.
    pub name: String,
    /// `KILL` (default), `TERM`, `INT`, `HUP`, `USR1`, `USR2`, `STOP`, `CONT`.
    pub signal: Option<String>,
}

/// Waiting for a program's end.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitExitStep {
    /// The program.
    pub name: String,
    /// The expected exit status (0 unless set).
    #[serde(default)]
    pub status: i32,
    /// How long to wait (10 s unless set).
    pub timeout: Option<Dur>,
}

/// Waiting for an open TCP port.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitPortStep {
    /// The node that connects.
    pub from: String,
    /// `address:port` or `node:port`.
    pub to: String,
    /// How long to wait (10 s unless set).
    pub timeout: Option<Dur>,
}

/// Which output of a program.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// Standard output or standard error.
    #[default]
    Any,
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Waiting for a line of output.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitOutputStep {
    /// The program.
    pub name: String,
    /// A regex (Rust `regex` syntax) a line must match.
    pub regex: String,
    /// Which output (both unless set).
    #[serde(default)]
    pub stream: Stream,
    /// How long to wait (10 s unless set).
    pub timeout: Option<Dur>,
}

/// A ping.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PingStep {
    /// The node that pings.
    pub from: String,
    /// An address or a node name.
    pub to: String,
    /// Echo requests to send (3 unless set).
    pub count: Option<u32>,
    /// Replies required (all unless set).
    pub min_received: Option<u32>,
    /// How long to wait for each reply (1 s unless set).
    pub timeout: Option<Dur>,
}

/// Reachable or unreachable.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReachStep {
    /// The node that pings.
    pub from: String,
    /// An address or a node name.
    pub to: String,
    /// `reachable`: how long to keep trying (5 s unless set);
    /// `unreachable`: how long silence must last (1 s unless set).
    pub timeout: Option<Dur>,
}

/// A traceroute's path.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PathStep {
    /// The node that traces.
    pub from: String,
    /// An address or a node name.
    pub to: String,
    /// The routers on the way, in order (the destination may be left
    /// out): node names, or the addresses that answer (compared with the
    /// responder's address, as `assert::path` does). A hop matches only if
    /// every router that answered its probes is the one named.
    pub via: Vec<String>,
}

/// A connectivity matrix.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectivityStep {
    /// The nodes (every node that has an address unless set); at least two.
    #[schemars(length(min = 2))]
    pub nodes: Option<Vec<String>>,
    /// Pairs expected not to reach each other, either way.
    #[serde(default)]
    pub except: Vec<[String; 2]>,
}

/// What a TCP attempt must end with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TcpExpect {
    /// The connection is accepted.
    Open,
    /// A reset or an ICMP error refuses it.
    Refused,
    /// Nothing answers.
    Timeout,
    /// Refused or timed out: anything but open.
    Closed,
}

/// A TCP connection attempt.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TcpStep {
    /// The node that connects.
    pub from: String,
    /// `address:port` or `node:port`.
    pub to: String,
    /// The outcome required (`open` unless set).
    pub expect: Option<TcpExpect>,
    /// How long the attempt may take (2 s unless set).
    pub timeout: Option<Dur>,
}

/// What a UDP request must end with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UdpExpect {
    /// A reply comes.
    Reply,
    /// No reply comes (silence or an ICMP error).
    NoReply,
    /// An ICMP port unreachable (or another ICMP error) comes back.
    Refused,
}

/// A UDP request.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UdpStep {
    /// The node that sends.
    pub from: String,
    /// `address:port` or `node:port`.
    pub to: String,
    /// The datagram's text.
    #[serde(default)]
    pub payload: String,
    /// The outcome required (`reply` unless set).
    pub expect: Option<UdpExpect>,
    /// A regex the reply's text must match.
    pub reply: Option<String>,
    /// How long to wait for the reply (2 s unless set).
    pub timeout: Option<Dur>,
}

/// A partition.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartitionStep {
    /// A name for `heal` (`partition` unless set).
    pub name: Option<String>,
    /// One side.
    pub a: OneOrMany<String>,
    /// The other side.
    pub b: OneOrMany<String>,
    /// Only traffic from `a` to `b` is cut.
    #[serde(default)]
    pub one_way: bool,
}

/// Healing.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealStep {
    /// The partition to heal (every fault unless set).
    pub name: Option<String>,
}

/// A link between two nodes.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkStep {
    /// One end's node.
    pub a: String,
    /// The other end's node.
    pub b: String,
    /// `a`'s interface, when several links join the two nodes.
    pub iface: Option<String>,
}

/// A flapping link.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlapStep {
    /// One end's node.
    pub a: String,
    /// The other end's node.
    pub b: String,
    /// `a`'s interface, when several links join the two nodes.
    pub iface: Option<String>,
    /// How long it stays down each time.
    pub down: Dur,
    /// How long it stays up each time.
    pub up: Dur,
}

/// What a route change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RouteAction {
    /// Adds the route.
    Add,
    /// Adds it or replaces the route to the same destination.
    Replace,
    /// Deletes it.
    Delete,
}

/// A route change.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteChangeStep {
    /// The node.
    pub node: String,
    /// Add, replace or delete.
    pub action: RouteAction,
    /// A CIDR prefix or `default`.
    pub to: String,
    /// The gateway.
    pub via: Option<String>,
    /// The output interface.
    pub dev: Option<String>,
}

/// Starting a capture.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureStep {
    /// Only these nodes (every node unless set); not empty.
    #[schemars(length(min = 1))]
    pub nodes: Option<Vec<String>>,
}

/// A filter on captured packets.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PacketFilterSpec {
    /// The protocol (`icmp` is ICMP over IPv4, `icmpv6` ICMP over IPv6).
    pub proto: Option<ProtoSpec>,
    /// Source address, or a node (any of its declared addresses).
    pub src: Option<String>,
    /// Destination address, or a node (any of its declared addresses).
    pub dst: Option<String>,
    /// Source or destination address, or a node (any of its declared
    /// addresses).
    pub host: Option<String>,
    /// Source or destination port.
    pub port: Option<u16>,
    /// Source port.
    pub src_port: Option<u16>,
    /// Destination port.
    pub dst_port: Option<u16>,
    /// Seen on this node.
    pub node: Option<String>,
    /// Seen on this interface of `node`.
    pub iface: Option<String>,
}

/// Captured packets required.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectPacketsStep {
    /// Which packets.
    #[serde(default)]
    pub filter: PacketFilterSpec,
    /// Exactly this many (when set): without `timeout`, those captured so
    /// far are counted once; with `timeout`, those captured until it
    /// passed (failing as soon as more matched).
    pub count: Option<usize>,
    /// At least this many (1 unless `count` or `none`): passes as soon as
    /// they matched, fails when `timeout` passed with fewer.
    pub min: Option<usize>,
    /// None at all (as `count = 0`): without `timeout`, among those
    /// captured so far; with `timeout`, until it passed (failing at the
    /// first match).
    #[serde(default)]
    pub none: bool,
    /// With `min`, how long to wait for the packets (2 s unless set); with
    /// `count` or `none`, the time over which packets are counted (none
    /// unless set: what was captured so far).
    pub timeout: Option<Dur>,
}

/// A wire's new model: `model` (or a `preset`), on `direction` of the link
/// `a` -- `b` (both unless set).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpairStep {
    /// One end's node.
    pub a: String,
    /// The other end's node.
    pub b: String,
    /// `a`'s interface, when several links join the two nodes.
    pub iface: Option<String>,
    /// `forward` (from `a`), `backward` or `both`.
    #[serde(default)]
    pub direction: DirectionSpec,
    /// What the direction(s) do to frames.
    pub model: Option<ImpairSpec>,
    /// A preset link instead: its uplink from `a`, its downlink to `a`.
    pub preset: Option<PresetSpec>,
}

/// A wire's model removed.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnimpairStep {
    /// One end's node.
    pub a: String,
    /// The other end's node.
    pub b: String,
    /// `a`'s interface, when several links join the two nodes.
    pub iface: Option<String>,
    /// `forward` (from `a`), `backward` or `both`.
    #[serde(default)]
    pub direction: DirectionSpec,
}

/// A pause.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SleepStep {
    /// How long.
    #[serde(rename = "for")]
    pub duration: Dur,
}

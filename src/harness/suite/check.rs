//! What can be known wrong in a scenario before anything runs: unknown
//! nodes, destinations, links and programs, bad regexes, addresses,
//! signals and counts, and what the probes would refuse.

use std::collections::BTreeSet;

use regex::Regex;

use super::error::SuiteErrorKind;
use super::exec::probe;
use super::format::step::Step;
use super::view::{HostProblem, LabView, LinkProblem};
use super::PlacedStep;
use crate::probe::{check_addr, ProbeError};

/// The signals a `kill` step may send, by name.
pub(crate) const SIGNALS: [(&str, i32); 8] = [
    ("KILL", libc::SIGKILL),
    ("TERM", libc::SIGTERM),
    ("INT", libc::SIGINT),
    ("HUP", libc::SIGHUP),
    ("USR1", libc::SIGUSR1),
    ("USR2", libc::SIGUSR2),
    ("STOP", libc::SIGSTOP),
    ("CONT", libc::SIGCONT),
];

/// The number of signal `name` (`TERM` or `SIGTERM`).
pub(crate) fn signal_number(name: &str) -> Option<i32> {
    let n = name.trim_start_matches("SIG");
    SIGNALS.iter().find(|(s, _)| *s == n).map(|(_, v)| *v)
}

impl Step {
    /// The nodes the step names.
    pub(crate) fn nodes(&self) -> Vec<&str> {
        let mut v: Vec<&str> = Vec::new();
        match self {
            Step::Start(s) => v.push(&s.node),
            Step::Run(s) => v.push(&s.node),
            Step::WaitPort(s) => v.push(&s.from),
            Step::Ping(s) => v.push(&s.from),
            Step::Reachable(s) | Step::Unreachable(s) => v.push(&s.from),
            Step::Path(s) => {
                v.push(&s.from);
                // A hop may be written as the address that answers.
                v.extend(
                    s.via
                        .iter()
                        .map(String::as_str)
                        .filter(|h| h.parse::<std::net::IpAddr>().is_err()),
                );
            }
            Step::Connectivity(s) => {
                v.extend(s.nodes.iter().flatten().map(String::as_str));
                v.extend(s.except.iter().flatten().map(String::as_str));
            }
            Step::Tcp(s) => v.push(&s.from),
            Step::Udp(s) => v.push(&s.from),
            Step::Partition(s) => {
                v.extend(s.a.iter().map(String::as_str));
                v.extend(s.b.iter().map(String::as_str));
            }
            Step::LinkDown(s) | Step::LinkUp(s) => v.extend([s.a.as_str(), s.b.as_str()]),
            Step::Flap(s) => v.extend([s.a.as_str(), s.b.as_str()]),
            Step::Impair(s) => v.extend([s.a.as_str(), s.b.as_str()]),
            Step::Unimpair(s) => v.extend([s.a.as_str(), s.b.as_str()]),
            Step::Route(s) => v.push(&s.node),
            Step::Capture(s) => v.extend(s.nodes.iter().flatten().map(String::as_str)),
            Step::ExpectPackets(s) => v.extend(s.filter.node.as_deref()),
            Step::Stop(_)
            | Step::Kill(_)
            | Step::Restart(_)
            | Step::WaitExit(_)
            | Step::WaitOutput(_)
            | Step::Heal(_)
            | Step::Sleep(_) => {}
        }
        v
    }

    /// The hosts the step names, as (field, what the field says, host):
    /// an address or a node each (the port of `to` left out where it has
    /// one).
    pub(crate) fn hosts(&self) -> Vec<(&'static str, &str, &str)> {
        match self {
            Step::Ping(s) => vec![("to", s.to.as_str(), s.to.as_str())],
            Step::Reachable(s) | Step::Unreachable(s) => vec![("to", s.to.as_str(), s.to.as_str())],
            Step::Path(s) => vec![("to", s.to.as_str(), s.to.as_str())],
            Step::Tcp(s) => with_port(&s.to),
            Step::Udp(s) => with_port(&s.to),
            Step::WaitPort(s) => with_port(&s.to),
            Step::ExpectPackets(s) => {
                let f = &s.filter;
                [
                    ("filter.src", &f.src),
                    ("filter.dst", &f.dst),
                    ("filter.host", &f.host),
                ]
                .into_iter()
                .filter_map(|(field, v)| v.as_deref().map(|v| (field, v, v)))
                .collect()
            }
            _ => Vec::new(),
        }
    }

    /// The link the step acts on, as (a, b, a's interface, whether it must
    /// be a wire).
    pub(crate) fn link(&self) -> Option<(&str, &str, Option<&str>, bool)> {
        match self {
            Step::LinkDown(s) | Step::LinkUp(s) => Some((&s.a, &s.b, s.iface.as_deref(), false)),
            Step::Flap(s) => Some((&s.a, &s.b, s.iface.as_deref(), false)),
            Step::Impair(s) => Some((&s.a, &s.b, s.iface.as_deref(), true)),
            Step::Unimpair(s) => Some((&s.a, &s.b, s.iface.as_deref(), true)),
            _ => None,
        }
    }

    /// The program the step acts on, if it acts on one started before.
    pub(crate) fn program(&self) -> Option<&str> {
        match self {
            Step::Stop(s) | Step::Restart(s) => Some(&s.name),
            Step::Kill(s) => Some(&s.name),
            Step::WaitExit(s) => Some(&s.name),
            Step::WaitOutput(s) => Some(&s.name),
            _ => None,
        }
    }
}

/// The host of `host:port` (`h2:80`); none for an address with its port
/// (`[2001:db8::1]:80`, `198.51.100.1:80`), which needs no check, or for
/// a text with no port (`check_host_port` reports it).
fn host_of(to: &str) -> Option<&str> {
    if to.parse::<std::net::SocketAddr>().is_ok() {
        return None;
    }
    to.rsplit_once(':')
        .filter(|(h, port)| !h.is_empty() && port.parse::<u16>().is_ok())
        .map(|(h, _)| h)
}

/// `to` and its host, as [`Step::hosts`] gives them, when it has one to
/// check (see [`host_of`]).
fn with_port(to: &str) -> Vec<(&'static str, &str, &str)> {
    host_of(to).map(|h| ("to", to, h)).into_iter().collect()
}

/// Whether `to` is `host:port` with a port, the host an address or a name.
fn check_host_port(to: &str) -> Result<(), String> {
    if to.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(());
    }
    match to.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(()),
        _ => Err(format!(
            "`{to}` is not `address:port` or `node:port` (IPv6: `[2001:db8::1]:80`)"
        )),
    }
}

/// What the probe of step `step` would refuse when run, found by the
/// checks the probe itself makes, with the options and limits the step
/// runs it with (a destination not known before running is left to the
/// run).
fn probe_problem(step: &Step, lab: &LabView) -> Option<String> {
    let result = match step {
        Step::Ping(s) => probe::ping_options(s).validate(lab.ip(&s.to)?),
        Step::Unreachable(s) => probe::unreachable_options(s).validate(lab.ip(&s.to)?),
        Step::Reachable(s) => {
            ProbeError::check_timeout("wait_reachable", probe::reachable_limit(s))
        }
        Step::Tcp(s) => check_addr("tcp_connect", lab.socket(&s.to)?, probe::tcp_limit(s)),
        Step::Udp(s) => check_addr("udp_request", lab.socket(&s.to)?, probe::udp_limit(s)),
        Step::WaitPort(s) => {
            let limit = probe::wait_port_limit(s);
            let addr = lab.socket(&s.to);
            ProbeError::check_timeout("wait_port_open", limit)
                .and_then(|()| addr.map_or(Ok(()), |a| check_addr("tcp_connect", a, limit)))
        }
        _ => Ok(()),
    };
    result.err().map(|e| e.to_string())
}

/// A `timeout` of zero where it limits a wait the step passes or fails
/// on (`run`, `wait_exit`, `wait_output`, `expect_packets`; the probes'
/// own are refused by [`probe_problem`]).
fn zero_limit(step: &Step) -> Option<String> {
    let timeout = match step {
        Step::Run(s) => s.timeout,
        Step::WaitExit(s) => s.timeout,
        Step::WaitOutput(s) => s.timeout,
        Step::ExpectPackets(s) => s.timeout,
        _ => None,
    }?;
    timeout
        .0
        .is_zero()
        .then(|| "`timeout` must be more than zero (leave it out for the default)".to_string())
}

/// Step `step` (`verb`), written at `offset`, is wrong: `message` says how.
fn invalid(
    offset: usize,
    step: usize,
    verb: &'static str,
    message: String,
) -> (usize, SuiteErrorKind) {
    (
        offset,
        SuiteErrorKind::InvalidStep {
            step,
            verb,
            message,
        },
    )
}

/// A step of a scenario as the checks see it: read, or not (its mistake
/// is reported already) and known only by its TOML.
#[derive(Debug, Clone, Copy)]
pub(crate) enum StepView<'a> {
    /// The step, read.
    Read(&'a PlacedStep),
    /// A step that could not be read: its table as written.
    Unread(&'a toml::Value),
}

/// What a step that could not be read still says: the program a `start`
/// names, the partition a `partition` makes; so that later steps naming
/// them are not blamed.
fn note_unread<'a>(
    value: &'a toml::Value,
    started: &mut BTreeSet<&'a str>,
    partitions: &mut BTreeSet<String>,
) {
    let name = value.get("name").and_then(toml::Value::as_str);
    match value.get("do").and_then(toml::Value::as_str) {
        Some("start") => started.extend(name),
        Some("partition") => {
            partitions.insert(name.unwrap_or("partition").to_string());
        }
        _ => {}
    }
}

/// Every problem of `steps` given the lab: (offset, kind). Steps that
/// could not be read are numbered and counted, not checked.
pub(crate) fn check_scenario(
    steps: &[StepView<'_>],
    lab: &LabView,
) -> Vec<(usize, SuiteErrorKind)> {
    let mut out = Vec::new();
    let mut started: BTreeSet<&str> = BTreeSet::new();
    let mut partitions: BTreeSet<String> = BTreeSet::new();
    let nodes = &lab.nodes;
    let known = || nodes.join(", ");
    for (i, view) in steps.iter().enumerate() {
        let step_no = i + 1;
        let placed = match view {
            StepView::Read(placed) => *placed,
            StepView::Unread(value) => {
                note_unread(value, &mut started, &mut partitions);
                continue;
            }
        };
        let verb = placed.step.verb();
        let mut bad = |message: String| out.push(invalid(placed.offset, step_no, verb, message));
        let regex_error = |r: &str| Regex::new(r).err().map(|e| format!("bad regex `{r}`: {e}"));
        match &placed.step {
            Step::Start(s) => {
                if s.cmd.is_empty() {
                    bad("`cmd` is empty: give the program and its arguments".into());
                }
                started.insert(&s.name);
            }
            Step::Run(s) => {
                if s.cmd.is_empty() {
                    bad("`cmd` is empty: give the program and its arguments".into());
                }
                if let Some(e) = s.stdout.as_deref().and_then(regex_error) {
                    bad(e);
                }
            }
            Step::WaitOutput(s) => {
                if let Some(e) = regex_error(&s.regex) {
                    bad(e);
                }
            }
            Step::Udp(s) => {
                if let Some(e) = s.reply.as_deref().and_then(regex_error) {
                    bad(e);
                }
                if let Err(e) = check_host_port(&s.to) {
                    bad(e);
                }
            }
            Step::Tcp(s) => {
                if let Err(e) = check_host_port(&s.to) {
                    bad(e);
                }
            }
            Step::WaitPort(s) => {
                if let Err(e) = check_host_port(&s.to) {
                    bad(e);
                }
            }
            Step::Kill(s) => {
                if let Some(sig) = &s.signal {
                    if signal_number(sig).is_none() {
                        let names: Vec<&str> = SIGNALS.iter().map(|(n, _)| *n).collect();
                        bad(format!(
                            "unknown signal `{sig}` (one of {})",
                            names.join(", ")
                        ));
                    }
                }
            }
            Step::Partition(s) => {
                partitions.insert(s.name.clone().unwrap_or_else(|| "partition".into()));
                let empty = [("a", &s.a), ("b", &s.b)]
                    .into_iter()
                    .find(|(_, side)| side.iter().next().is_none());
                if let Some((side, _)) = empty {
                    bad(format!(
                        "`{side}` is empty: a partition needs at least one node on each side"
                    ));
                }
            }
            Step::Heal(s) => {
                if let Some(n) = &s.name {
                    if !partitions.contains(n) {
                        bad(format!("no partition `{n}` was made before"));
                    }
                }
            }
            Step::ExpectPackets(s) => {
                let set = [s.count.is_some(), s.min.is_some(), s.none]
                    .iter()
                    .filter(|b| **b)
                    .count();
                if set > 1 {
                    bad("give one of `count`, `min` and `none`".into());
                }
                match (&s.filter.node, &s.filter.iface) {
                    (None, Some(_)) => bad("`filter.iface` needs `filter.node`".into()),
                    (Some(n), Some(i)) if lab.has_node(n) && !lab.has_iface(n, i) => {
                        bad(format!("`filter.iface`: node `{n}` has no interface `{i}`"))
                    }
                    _ => {}
                }
            }
            Step::Impair(s) => match (&s.model, s.preset) {
                (Some(_), Some(_)) => bad("give `model` or `preset`, not both".into()),
                (None, None) => bad("give a `model` (or a `preset`)".into()),
                (Some(m), None) => {
                    if let Err(e) = m.model().validate() {
                        bad(format!("`model`: {e}"));
                    }
                }
                (None, Some(_)) => {
                    if s.direction != super::format::impair::DirectionSpec::Both {
                        bad("a `preset` sets both directions; leave `direction` out".into());
                    }
                }
            },
            Step::Flap(s) => {
                for (key, phase) in [("down", s.down), ("up", s.up)] {
                    if phase.0.is_zero() {
                        bad(format!(
                            "`{key}` must be more than zero (the link would toggle without pause)"
                        ));
                    }
                }
            }
            Step::Connectivity(s) => {
                let named: BTreeSet<&str> = s.nodes.iter().flatten().map(String::as_str).collect();
                let what = match (s.nodes.is_some(), named.first()) {
                    (true, None) => Some("is empty".to_string()),
                    (true, Some(only)) if named.len() == 1 => Some(format!("names only `{only}`")),
                    _ => None,
                };
                if let Some(what) = what {
                    bad(format!(
                        "`nodes` {what}: no pair to probe; name at least two nodes, \
                         or leave `nodes` out for every node"
                    ));
                }
            }
            Step::Capture(s) if s.nodes.as_ref().is_some_and(Vec::is_empty) => bad(
                "`nodes` is empty: the step would capture nothing; name a node, \
                 or leave `nodes` out for every node"
                    .into(),
            ),
            Step::Ping(s) => {
                let count = probe::ping_options(s).count;
                if let Some(min) = s.min_received.filter(|min| *min > count) {
                    let default = if s.count.is_none() {
                        " (the default)"
                    } else {
                        ""
                    };
                    bad(format!(
                        "`min_received = {min}` is more than `count = {count}`{default}"
                    ));
                }
            }
            _ => {}
        }
        if let Some(problem) = probe_problem(&placed.step, lab) {
            out.push(invalid(placed.offset, step_no, verb, problem));
        }
        if let Some(problem) = zero_limit(&placed.step) {
            out.push(invalid(placed.offset, step_no, verb, problem));
        }
        for node in placed.step.nodes() {
            if !lab.has_node(node) {
                out.push((
                    placed.offset,
                    SuiteErrorKind::UnknownNode {
                        step: step_no,
                        verb,
                        node: node.to_string(),
                        known: known(),
                    },
                ));
            }
        }
        for (field, value, host) in placed.step.hosts() {
            // A probe's destination (`to`) must stand for one node; a
            // capture filter's host matches every address of the node.
            match lab.host(host, field == "to") {
                Ok(()) => {}
                Err(HostProblem::Unknown) => out.push((
                    placed.offset,
                    SuiteErrorKind::UnknownHost {
                        step: step_no,
                        verb,
                        field,
                        value: value.to_string(),
                        host: host.into(),
                    },
                )),
                Err(HostProblem::NoAddress) => out.push(invalid(
                    placed.offset,
                    step_no,
                    verb,
                    format!("`{field}`: node `{host}` has no address"),
                )),
                Err(HostProblem::NoOwnAddress(why)) => out.push(invalid(
                    placed.offset,
                    step_no,
                    verb,
                    format!("`{field}`: {why}"),
                )),
            }
        }
        if let Some((a, b, iface, wire)) = placed.step.link() {
            // Unknown nodes are reported above.
            if lab.has_node(a) && lab.has_node(b) {
                if let Err(problem) = lab.link(a, b, iface, wire) {
                    let from = match iface {
                        Some(i) => format!("`{a}` (at `{i}`)"),
                        None => format!("`{a}`"),
                    };
                    let message = match problem {
                        LinkProblem::Found(0) => format!("no link joins {from} and `{b}`"),
                        LinkProblem::Found(n) => format!(
                            "{n} links join {from} and `{b}`: name `{a}`'s interface with `iface`"
                        ),
                        LinkProblem::NotAWire(link) => {
                            format!("{link} is not a wire: set `wire = true` on an end of it")
                        }
                    };
                    out.push(invalid(placed.offset, step_no, verb, message));
                }
            }
        }
        if let Some(p) = placed.step.program() {
            if !started.contains(p) {
                out.push((
                    placed.offset,
                    SuiteErrorKind::UnknownProgram {
                        step: step_no,
                        verb,
                        name: p.to_string(),
                    },
                ));
            }
        }
    }
    out
}

//! Running a scenario's steps on a live network, in order, each waiting
//! for its event up to its timeout.
//!
//! [`Runner::step`] dispatches each [`Step`] variant to one function:
//! programs in `program.rs` (the type) and here, probes in `probe.rs`,
//! faults and route changes in `fault.rs`, captures in `capture.rs`. A new
//! step is one variant in `format/step.rs` and one function here or in
//! those files, plus its arm in `Runner::step`.

mod capture;
mod fault;
pub(crate) mod probe;
pub(crate) mod program;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use regex::Regex;

use super::format::step::{RunStep, StartStep, Step, StopStep, WaitExitStep, WaitOutputStep};
use super::format::units::Dur;
use super::{PlacedStep, Scenario};
use crate::capture::Capture;
use crate::fault::{Flap, LinkDown, Partition};
use crate::Net;
use program::{describe, indent, Launch, Output, Program};

/// What a step waits at most when its file sets no `timeout`.
pub(crate) const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// `d`'s value, or `default`.
pub(crate) fn or(d: Option<Dur>, default: Duration) -> Duration {
    d.map_or(default, |d| d.0)
}

/// The state of one scenario's run: its programs, its faults, its capture
/// and the log of what it did.
pub(crate) struct Runner<'n> {
    pub(crate) net: &'n Net,
    pub(crate) scenario: &'n Scenario,
    pub(crate) programs: BTreeMap<String, Program>,
    /// The output of every program ever started (by name), for artifacts.
    pub(crate) outputs: Vec<(String, Arc<Output>)>,
    pub(crate) partitions: Vec<(String, Partition<'n>)>,
    pub(crate) downs: Vec<(String, LinkDown<'n>)>,
    pub(crate) flaps: Vec<(String, Flap<'n>)>,
    pub(crate) captures: Vec<Capture>,
    pub(crate) log: Vec<String>,
    /// A copy of the log kept outside the runner, line by line, for a
    /// scenario that runs out of time while its runner is still busy.
    live: Option<Arc<Mutex<Vec<String>>>>,
    /// Set when the scenario ran out of time: no further step starts.
    cancelled: Arc<AtomicBool>,
    /// The index of the step that failed.
    pub(crate) failed: Option<usize>,
    started: Instant,
    runs: usize,
}

impl<'n> Runner<'n> {
    pub(crate) fn new(net: &'n Net, scenario: &'n Scenario) -> Self {
        Runner {
            net,
            scenario,
            programs: BTreeMap::new(),
            outputs: Vec::new(),
            partitions: Vec::new(),
            downs: Vec::new(),
            flaps: Vec::new(),
            captures: Vec::new(),
            log: Vec::new(),
            live: None,
            cancelled: Arc::new(AtomicBool::new(false)),
            failed: None,
            started: Instant::now(),
            runs: 0,
        }
    }

    /// Copies each line of the step log to `live` too, as it is written.
    pub(crate) fn sharing_log(mut self, live: Arc<Mutex<Vec<String>>>) -> Self {
        self.live = Some(live);
        self
    }

    /// Stops before its next step (and cuts a `sleep` short) once
    /// `cancelled` is set: for a scenario that ran out of time while the
    /// runner is still busy.
    pub(crate) fn cancelled_by(mut self, cancelled: Arc<AtomicBool>) -> Self {
        self.cancelled = cancelled;
        self
    }

    /// Whether the scenario ran out of time: the flag is set, or the lab's
    /// teardown has begun (which comes first).
    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire) || self.net.is_torn_down()
    }

    /// Appends a line to the step log, stamped with the time since start.
    pub(crate) fn note(&mut self, text: impl AsRef<str>) {
        let t = self.started.elapsed().as_secs_f64();
        let line = format!("[{t:8.3}s] {}", text.as_ref());
        if let Some(live) = &self.live {
            live.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(line.clone());
        }
        self.log.push(line);
    }

    /// Runs every step; the first failure, placed and explained.
    pub(crate) fn run_all(&mut self) -> Result<(), String> {
        let file = self.scenario.file.path.display().to_string();
        let seed = self.scenario.file.seed;
        self.note(format!("scenario {} (seed {seed})", self.scenario.name()));
        for (i, placed) in self.scenario.steps.iter().enumerate() {
            let at = format!("{file}:{}:{}", placed.line, placed.column);
            if self.is_cancelled() {
                self.note(format!("out of time: step {} and after not run", i + 1));
                return Err(format!("{at}: out of time before step {}", i + 1));
            }
            self.note(format!("step {} ({}) at {at}", i + 1, placed.step.verb()));
            match self.step(placed) {
                Ok(what) => self.note(format!("  ok: {what}")),
                Err(why) => {
                    self.note(format!("  FAILED: {why}"));
                    self.failed = Some(i);
                    return Err(format!(
                        "{at}: step {} ({}) failed: {why}",
                        i + 1,
                        placed.step.verb()
                    ));
                }
            }
        }
        self.note("all steps passed");
        Ok(())
    }

    /// Runs one step; what it saw, or why it failed.
    fn step(&mut self, placed: &PlacedStep) -> Result<String, String> {
        match &placed.step {
            Step::Start(s) => self.start(s),
            Step::Run(s) => self.run(s),
            Step::Stop(s) => self.stop(s),
            Step::Kill(s) => self.kill(&s.name, s.signal.as_deref().unwrap_or("KILL")),
            Step::Restart(s) => self.restart(s),
            Step::WaitExit(s) => self.wait_exit(s),
            Step::WaitOutput(s) => self.wait_output(s),
            Step::WaitPort(s) => self.wait_port(s),
            Step::Ping(s) => self.ping(s),
            Step::Reachable(s) => self.reachable(s),
            Step::Unreachable(s) => self.unreachable(s),
            Step::Path(s) => self.path(s),
            Step::Connectivity(s) => self.connectivity(s),
            Step::Tcp(s) => self.tcp(s),
            Step::Udp(s) => self.udp(s),
            Step::Partition(s) => self.partition(s),
            Step::Heal(s) => self.heal(s),
            Step::LinkDown(s) => self.link_down(s),
            Step::LinkUp(s) => self.link_up(s),
            Step::Flap(s) => self.flap(s),
            Step::Impair(s) => self.impair(s),
            Step::Unimpair(s) => self.unimpair(s),
            Step::Route(s) => self.route(s),
            Step::Capture(s) => self.capture(s),
            Step::ExpectPackets(s) => self.expect_packets(s),
            Step::Sleep(s) => {
                let until = Instant::now() + s.duration.0;
                while !self.is_cancelled() {
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    std::thread::sleep(left.min(Duration::from_millis(20)));
                }
                Ok(format!("slept {}", s.duration))
            }
        }
    }

    fn launch(&mut self, name: &str, launch: Launch) -> Result<Program, String> {
        let output = Arc::new(Output::default());
        self.outputs.push((name.to_string(), output.clone()));
        let file = &self.scenario.file;
        Program::start(self.net, launch, &file.dir, file.seed, output)
    }

    fn start(&mut self, s: &StartStep) -> Result<String, String> {
        if let Some(p) = self.programs.get_mut(&s.name) {
            if p.poll().is_none() {
                return Err(format!("program `{}` is already running", s.name));
            }
        }
        let launch = Launch {
            node: s.node.clone(),
            cmd: s.cmd.clone(),
            env: s.env.clone(),
        };
        let p = self.launch(&s.name, launch)?;
        self.programs.insert(s.name.clone(), p);
        Ok(format!(
            "started `{}` in {}: {}",
            s.name,
            s.node,
            s.cmd.join(" ")
        ))
    }

    fn run(&mut self, s: &RunStep) -> Result<String, String> {
        self.runs += 1;
        let name = s
            .name
            .clone()
            .unwrap_or_else(|| format!("run-{}", self.runs));
        let launch = Launch {
            node: s.node.clone(),
            cmd: s.cmd.clone(),
            env: s.env.clone(),
        };
        let mut p = self.launch(&name, launch)?;
        let limit = or(s.timeout, DEFAULT_WAIT);
        let Some(status) = p.wait(limit) else {
            let _ = p.stop(Duration::from_millis(100));
            return Err(format!(
                "`{}` still ran after {limit:?} (killed); last lines:\n{}",
                s.cmd.join(" "),
                indent(&p.output.tail(10))
            ));
        };
        if status.code() != Some(s.status) {
            return Err(format!(
                "`{}` ended with {}, expected exit status {}; last lines:\n{}",
                s.cmd.join(" "),
                describe(status),
                s.status,
                indent(&p.output.tail(10))
            ));
        }
        if let Some(r) = &s.stdout {
            let re = Regex::new(r).map_err(|e| e.to_string())?;
            let out = p.output.text(super::format::step::Stream::Stdout);
            if !out.lines().any(|l| re.is_match(l)) {
                return Err(format!(
                    "no line of its output matched `{r}`; last lines:\n{}",
                    indent(&p.output.tail(10))
                ));
            }
        }
        Ok(format!(
            "`{}` ended with {}",
            s.cmd.join(" "),
            describe(status)
        ))
    }

    fn program(&mut self, name: &str) -> Result<&mut Program, String> {
        self.programs
            .get_mut(name)
            .ok_or_else(|| format!("no program `{name}` was started"))
    }

    fn stop(&mut self, s: &StopStep) -> Result<String, String> {
        let grace = or(s.timeout, Duration::from_secs(5));
        let p = self.program(&s.name)?;
        let status = p.stop(grace)?;
        check_status(&s.name, status, s.status)?;
        Ok(format!("`{}` stopped: {}", s.name, describe(status)))
    }

    fn kill(&mut self, name: &str, signal: &str) -> Result<String, String> {
        let number = super::check::signal_number(signal)
            .ok_or_else(|| format!("unknown signal `{signal}`"))?;
        let p = self.program(name)?;
        p.signal(number)?;
        if number == libc::SIGKILL {
            p.wait(Duration::from_secs(5));
        }
        Ok(format!(
            "sent SIG{} to `{name}`",
            signal.trim_start_matches("SIG")
        ))
    }

    fn restart(&mut self, s: &StopStep) -> Result<String, String> {
        let grace = or(s.timeout, Duration::from_secs(5));
        let p = self.program(&s.name)?;
        let status = p.stop(grace)?;
        check_status(&s.name, status, s.status)?;
        let launch = p.launch.clone();
        let output = p.output.clone();
        let file = &self.scenario.file;
        let new = Program::start(self.net, launch, &file.dir, file.seed, output)?;
        self.programs.insert(s.name.clone(), new);
        Ok(format!(
            "`{}` stopped ({}) and started again",
            s.name,
            describe(status)
        ))
    }

    fn wait_exit(&mut self, s: &WaitExitStep) -> Result<String, String> {
        let limit = or(s.timeout, DEFAULT_WAIT);
        let p = self.program(&s.name)?;
        let Some(status) = p.wait(limit) else {
            return Err(format!("`{}` still runs after {limit:?}", s.name));
        };
        check_status(&s.name, status, Some(s.status))
            .map_err(|e| format!("{e}; last lines:\n{}", indent(&p.output.tail(10))))?;
        Ok(format!("`{}` ended with {}", s.name, describe(status)))
    }

    fn wait_output(&mut self, s: &WaitOutputStep) -> Result<String, String> {
        let re = Regex::new(&s.regex).map_err(|e| e.to_string())?;
        let limit = or(s.timeout, DEFAULT_WAIT);
        let p = self.program(&s.name)?;
        let line = p.wait_line(&re, s.stream, limit)?;
        Ok(format!("`{}` printed: {line}", s.name))
    }

    /// An address: an IP address, or a node name (its first IPv4 address
    /// that no other node holds, else its first such IPv6 one).
    pub(crate) fn ip(&self, text: &str) -> Result<IpAddr, String> {
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(ip);
        }
        let node = self
            .net
            .node(text)
            .map_err(|_| format!("`{text}` is neither an address nor a node"))?;
        match node.directory().destination_of(text) {
            Some(found) => found.map_err(|e| e.to_string()),
            None => Err(format!("node `{text}` has no address")),
        }
    }

    /// `address:port` or `node:port`.
    pub(crate) fn socket(&self, text: &str) -> Result<SocketAddr, String> {
        if let Ok(sa) = text.parse::<SocketAddr>() {
            return Ok(sa);
        }
        let (host, port) = text
            .rsplit_once(':')
            .ok_or_else(|| format!("`{text}` is not `address:port`"))?;
        let port: u16 = port
            .parse()
            .map_err(|_| format!("`{port}` is not a port"))?;
        Ok(SocketAddr::new(self.ip(host)?, port))
    }

    /// Ends what the scenario started: programs first (killed), then the
    /// faults (healed).
    pub(crate) fn finish(&mut self) {
        for (_, mut p) in std::mem::take(&mut self.programs) {
            if p.poll().is_none() {
                let _ = p.signal(libc::SIGKILL);
                p.wait(Duration::from_secs(5));
            }
        }
        for (_, f) in std::mem::take(&mut self.flaps) {
            let _ = f.stop();
        }
        for (_, d) in std::mem::take(&mut self.downs) {
            let _ = d.restore();
        }
        for (_, p) in std::mem::take(&mut self.partitions) {
            let _ = p.heal();
        }
    }
}

fn check_status(
    name: &str,
    status: std::process::ExitStatus,
    want: Option<i32>,
) -> Result<(), String> {
    match want {
        Some(code) if status.code() != Some(code) => Err(format!(
            "`{name}` ended with {}, expected exit status {code}",
            describe(status)
        )),
        _ => Ok(()),
    }
}

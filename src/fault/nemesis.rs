//! Schedules of faults for resilience tests, the way Jepsen shapes them: a
//! nemesis starts a fault and later stops it; a [`Schedule`] runs nemeses
//! every period while a test body runs, drawing every choice from a seed,
//! and keeps a log of what it applied when: printed to stderr if the body
//! panics, returned with the body's value otherwise (a body that returns
//! an `Err` gets the log back too; print it then).

use std::fmt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::nemeses::Started;
use super::{panic_text, FaultError};
use crate::error::Result;
use crate::lab::Net;
use crate::vocab::Rng;

/// A fault that a [`Schedule`] starts and stops.
///
/// `start` applies the fault (choosing with `rng` where it has a choice)
/// and returns what it did, in words, for the log; `stop` undoes it. The
/// schedule calls `stop` only after a `start` that succeeded: a `start`
/// refused (the link has a fault of the test's own, say) is followed by no
/// `stop`. `stop` should end the fault its `start` made and no other: keep
/// its [`FaultId`](super::FaultId) and end it with [`Net::end_fault`], rather than
/// [`Link::up`](super::Link::up), which ends whatever fault the link has.
/// `check` says, before the schedule starts, whether the nemesis can work
/// on the network at all (its nodes and links exist).
///
/// ```
/// use netns_test::fault::{FaultId, Nemesis, Rng};
/// use netns_test::Net;
///
/// /// Takes one fixed link down.
/// struct Unplug { down: Option<FaultId> }
///
/// impl Nemesis for Unplug {
///     fn name(&self) -> &str { "unplug" }
///     fn start(&mut self, net: &Net, _rng: &mut Rng) -> netns_test::Result<String> {
///         self.down = Some(net.link("n1", "n2")?.down()?.into_id());
///         Ok("n1 -- n2 down".into())
///     }
///     fn stop(&mut self, net: &Net) -> netns_test::Result<String> {
///         if let Some(id) = self.down.take() {
///             net.end_fault(id)?;
///         }
///         Ok("n1 -- n2 up".into())
///     }
///     fn check(&self, net: &Net) -> netns_test::Result<()> {
///         net.link("n1", "n2").map(drop)
///     }
/// }
/// ```
pub trait Nemesis: Send {
    /// A short name for the log.
    fn name(&self) -> &str;
    /// Applies the fault; what it did.
    fn start(&mut self, net: &Net, rng: &mut Rng) -> Result<String>;
    /// Undoes the fault the last `start` made; what it did. Called only
    /// after a `start` that returned `Ok`.
    fn stop(&mut self, net: &Net) -> Result<String>;
    /// Whether the nemesis can act on `net` (the nodes and links it names
    /// exist), called by [`Schedule::run`] before anything starts; the
    /// error names what is missing. Every nemesis passes by default.
    fn check(&self, net: &Net) -> Result<()> {
        let _ = net;
        Ok(())
    }
}

/// Whether an event started or stopped a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The nemesis applied its fault.
    Start,
    /// The nemesis undid its fault.
    Stop,
}

/// One line of a schedule's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// When, since the schedule began.
    pub at: Duration,
    /// The nemesis.
    pub nemesis: String,
    /// Start or stop.
    pub action: Action,
    /// What it did, or the error it met.
    pub detail: String,
}

/// What a schedule applied, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventLog {
    /// The seed every choice was drawn from.
    pub seed: u64,
    /// The events, oldest first.
    pub events: Vec<Event>,
}

impl EventLog {
    /// The events without their times: equal for equal seeds.
    pub fn decisions(&self) -> Vec<(String, Action, String)> {
        self.events
            .iter()
            .map(|e| (e.nemesis.clone(), e.action, e.detail.clone()))
            .collect()
    }
}

impl fmt::Display for EventLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "nemesis log (seed {}; replay with {SCHEDULE_SEED_ENV}={}):",
            self.seed, self.seed
        )?;
        for e in &self.events {
            let verb = match e.action {
                Action::Start => "start",
                Action::Stop => "stop ",
            };
            writeln!(
                f,
                "  {:>9.3} s  {verb} {}: {}",
                e.at.as_secs_f64(),
                e.nemesis,
                e.detail
            )?;
        }
        Ok(())
    }
}

/// Runs nemeses every period while a body runs: start one (chosen with the
/// seed), wait a period, stop it, wait a period, and so on; at the end the
/// active fault is stopped and the network healed.
///
/// ```no_run
/// use std::time::Duration;
/// use netns_test::fault::{FlapLink, Schedule};
/// # use netns_test::{Net, Topology};
/// # let net = Net::build(&Topology::new().link(("n1", "eth0", "198.51.100.1/24"), ("n2", "eth0", "198.51.100.2/24")))?;
/// let (report, log) = Schedule::new(7)
///     .period(Duration::from_millis(100))
///     .with(FlapLink::new("n1", "n2"))
///     .run(&net, || net["n1"].ping("n2").count(20).run())?;
/// println!("{log}");
/// # Ok::<(), netns_test::Error>(())
/// ```
pub struct Schedule {
    seed: u64,
    period: Duration,
    nemeses: Vec<Box<dyn Nemesis>>,
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schedule")
            .field("seed", &self.seed)
            .field("period", &self.period)
            .field(
                "nemeses",
                &self.nemeses.iter().map(|n| n.name()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The variable that overrides a lab's seed, the seed of its wires, to
/// replay a failure: a whole number; another value is ignored, with a
/// warning on standard error. It leaves schedules alone: a failing test's
/// report says `replay with NETNS_TEST_SEED=<the lab's seed>`, and that
/// alone must not change the seed its schedule ran with.
pub const SEED_ENV: &str = "NETNS_TEST_SEED";

/// The variable that overrides every schedule's seed, to replay a failure,
/// as the nemesis log says (`replay with NETNS_TEST_SCHEDULE_SEED=N`): a
/// whole number; another value is ignored, with a warning on standard
/// error. A failed test with wires and a schedule prints both lines; set
/// both variables to replay both (the lab's seed alone when the schedule's
/// is written in the test).
pub const SCHEDULE_SEED_ENV: &str = "NETNS_TEST_SCHEDULE_SEED";

impl Schedule {
    /// A schedule drawing from `seed` (or from [`SCHEDULE_SEED_ENV`] when it
    /// is set, to replay a failed run), with a period of 1 s and no
    /// nemesis. The lab's variable, [`SEED_ENV`], does not change it.
    pub fn new(seed: u64) -> Schedule {
        let seed = crate::sys::env::seed_of(SCHEDULE_SEED_ENV).unwrap_or(seed);
        Schedule {
            seed,
            period: Duration::from_secs(1),
            nemeses: Vec::new(),
        }
    }

    /// The time between a start and its stop, and between a stop and the
    /// next start. A period too long to add to the current time never
    /// ends: no fault starts (or a started one lasts until the body
    /// returns). A period of zero is refused by [`Schedule::run`].
    pub fn period(mut self, period: Duration) -> Schedule {
        self.period = period;
        self
    }

    /// Adds a nemesis; each round picks one of them at random.
    pub fn with(mut self, nemesis: impl Nemesis + 'static) -> Schedule {
        self.nemeses.push(Box::new(nemesis));
        self
    }

    /// The seed in use.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Runs `body` on the calling thread while the schedule applies faults
    /// from a thread of its own; returns the body's value and the log. The
    /// network is healed at the end, whatever happened ([`Net::heal`]).
    ///
    /// When that heal fails (a fault cannot be undone: it stays listed by
    /// [`Net::active_faults`], for a later heal to try again), the log
    /// gets a line for it and is printed to stderr, and the heal's error is
    /// returned.
    ///
    /// First the period is checked ([`FaultError::ZeroPeriod`] for a
    /// period of zero), then every nemesis ([`Nemesis::check`]): the first
    /// error is returned, before the body runs or anything starts.
    ///
    /// If the body panics, the log is printed to stderr and the panic goes
    /// on. A body that returns an error is no failure to the schedule: its
    /// value, the `Err`, comes back with the log, which is not printed
    /// (print it to see the seed and what was applied when). If a nemesis panics, the schedule stops applying faults (the
    /// log gets a line for the panic), the body runs to its end, the
    /// network is healed, and `run` panics with a message that names the
    /// nemesis and holds the log (with the seed to replay it).
    pub fn run<R>(mut self, net: &Net, body: impl FnOnce() -> R) -> Result<(R, EventLog)> {
        if self.period.is_zero() {
            let names: Vec<_> = self.nemeses.iter().map(|n| n.name()).collect();
            return Err(FaultError::ZeroPeriod {
                nemeses: names.join(", "),
            }
            .into());
        }
        for n in &self.nemeses {
            n.check(net)?;
        }
        let log = Mutex::new(EventLog {
            seed: self.seed,
            events: Vec::new(),
        });
        let done = AtomicBool::new(false);
        let began = Instant::now();
        let (outcome, driven) = std::thread::scope(|s| {
            let driver = s.spawn(|| self.drive(net, &done, &log, began));
            let outcome = catch_unwind(AssertUnwindSafe(body));
            done.store(true, Ordering::Release);
            // Joined here: a panic of the driver is not raised again by the
            // scope, before the heal.
            (outcome, driver.join())
        });
        let mut log = log.into_inner().unwrap_or_else(|p| p.into_inner());
        // A panic of the driver outside a nemesis's call.
        let nemesis_panic = driven.unwrap_or_else(|payload| {
            let message = panic_text(payload.as_ref());
            log.events.push(Event {
                at: began.elapsed(),
                nemesis: "(schedule)".into(),
                action: Action::Stop,
                detail: format!("panicked: {message}"),
            });
            Some(("(schedule)".into(), message))
        });
        let healed = net.heal();
        if let Err(e) = &healed {
            log.events.push(Event {
                at: began.elapsed(),
                nemesis: "(schedule)".into(),
                action: Action::Stop,
                detail: format!("heal failed: {e}"),
            });
        }
        match (outcome, nemesis_panic) {
            (Err(payload), _) => {
                eprintln!("{log}");
                resume_unwind(payload)
            }
            (Ok(_), Some((nemesis, message))) => panic!(
                "nemesis `{nemesis}` panicked: {message}; the schedule stopped and the network \
                 was healed\n{log}"
            ),
            (Ok(v), None) => match healed {
                Ok(()) => Ok((v, log)),
                Err(e) => {
                    eprintln!("{log}");
                    Err(e)
                }
            },
        }
    }

    /// The schedule's thread; the nemesis that panicked, with the panic's
    /// message, if one did (the schedule stops then).
    fn drive(
        &mut self,
        net: &Net,
        done: &AtomicBool,
        log: &Mutex<EventLog>,
        began: Instant,
    ) -> Option<(String, String)> {
        if self.nemeses.is_empty() {
            return None;
        }
        let mut rng = Rng::new(self.seed);
        let record = |nemesis: &str, action, detail: String| {
            log.lock()
                .unwrap_or_else(|p| p.into_inner())
                .events
                .push(Event {
                    at: began.elapsed(),
                    nemesis: nemesis.to_string(),
                    action,
                    detail,
                })
        };
        let wait = |d: Duration| {
            // `None`: too far to tell, until the body returns.
            let until = Instant::now().checked_add(d);
            while !done.load(Ordering::Acquire) && until.is_none_or(|u| Instant::now() < u) {
                let left = until.map_or(Duration::MAX, |u| {
                    u.saturating_duration_since(Instant::now())
                });
                std::thread::sleep(left.min(Duration::from_millis(5)));
            }
            !done.load(Ordering::Acquire)
        };
        // One call of a nemesis, logged: its detail, its error, or its
        // panic. Whether it returned `Ok`, or the panic's message.
        let call = |name: &str, action, f: &mut dyn FnMut() -> Result<String>| {
            let (detail, outcome) = match catch_unwind(AssertUnwindSafe(f)) {
                Ok(Ok(detail)) => (detail, Ok(true)),
                Ok(Err(e)) => (format!("error: {e}"), Ok(false)),
                Err(payload) => {
                    let message = panic_text(payload.as_ref());
                    (format!("panicked: {message}"), Err(message))
                }
            };
            record(name, action, detail);
            outcome.map_err(|message| (name.to_string(), message))
        };
        while wait(self.period) {
            let i = rng.below(self.nemeses.len());
            let n = &mut self.nemeses[i];
            let name = n.name().to_string();
            let started = match call(&name, Action::Start, &mut || n.start(net, &mut rng)) {
                Ok(started) => started,
                Err(p) => return Some(p),
            };
            let go_on = wait(self.period);
            if started {
                if let Err(p) = call(&name, Action::Stop, &mut || n.stop(net)) {
                    return Some(p);
                }
            } else {
                // Nothing of the nemesis's own to undo: a stop now could
                // end a fault the test made.
                record(
                    &name,
                    Action::Stop,
                    "nothing to stop (the start failed)".into(),
                );
            }
            if !go_on {
                break;
            }
        }
        None
    }
}

/// A nemesis that takes the link between two nodes down, then up.
#[derive(Debug, Clone)]
pub struct FlapLink {
    a: String,
    b: String,
    /// The down it started, until it stops it.
    active: Started,
}

impl FlapLink {
    /// The link between nodes `a` and `b` (see [`Net::link`]).
    pub fn new(a: impl Into<String>, b: impl Into<String>) -> FlapLink {
        FlapLink {
            a: a.into(),
            b: b.into(),
            active: Started::default(),
        }
    }
}

impl Nemesis for FlapLink {
    fn name(&self) -> &str {
        "flap-link"
    }

    fn check(&self, net: &Net) -> Result<()> {
        net.link(&self.a, &self.b).map(drop)
    }

    fn start(&mut self, net: &Net, _rng: &mut Rng) -> Result<String> {
        let link = net.link(&self.a, &self.b)?;
        self.active.set(link.down()?.into_id());
        Ok(format!("{} down", link.name()))
    }

    fn stop(&mut self, net: &Net) -> Result<String> {
        let link = net.link(&self.a, &self.b)?;
        self.active.end(net)?;
        Ok(format!("{} up", link.name()))
    }
}

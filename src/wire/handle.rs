//! The run-time verbs of a wire, on its link handle: change or remove a
//! direction's model, hold its frames, set a rule, read its counters.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::hold::Hold;
use crate::error::{Error, Result};
use crate::fault::Link;
use crate::impairment::{Impairment, Profile, WireRule, WireStats};
use crate::lab::{Net, SharedRule};

/// Which way along a link, as its handle names it: `net.link("a", "b")`
/// goes forward from `a` to `b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the handle's first node to its second.
    Forward,
    /// From the second to the first.
    Backward,
    /// Both ways.
    Both,
}

impl<'a> Link<'a> {
    /// Whether the link is a wire (its frames pass through the relay)
    /// rather than a plain veth pair.
    pub fn is_wire(&self) -> bool {
        self.veth.wire.is_some()
    }

    /// The wire's position and the relay, or [`Error::NotAWire`].
    fn wire(&self) -> Result<(usize, &'a crate::lab::Relay)> {
        match (self.veth.wire, self.net.relay.as_ref()) {
            (Some(w), Some(relay)) => Ok((w, relay)),
            _ => Err(Error::NotAWire { link: self.name() }),
        }
    }

    /// The relay's direction indices (0: the veth's a to b) for `direction`.
    pub(crate) fn dirs(&self, direction: Direction) -> Vec<usize> {
        let forward = usize::from(self.flipped);
        match direction {
            Direction::Forward => vec![forward],
            Direction::Backward => vec![1 - forward],
            Direction::Both => vec![0, 1],
        }
    }

    /// `n1/eth0 -> n2/eth0` for relay direction `dir`.
    pub(crate) fn arrow(&self, dir: usize) -> String {
        let ends = [&self.veth.a, &self.veth.b];
        let name =
            |e: &crate::lab::VethEnd| format!("{}/{}", self.net.nodes()[e.node].name(), e.ifname);
        format!("{} -> {}", name(ends[dir]), name(ends[1 - dir]))
    }

    /// Applies `model` to `direction` from the next frame on, replacing the
    /// model there. Frames already scheduled keep their times, and the old
    /// model's backlog carries over: with a rate, the new model goes on
    /// with the token bucket and queue as they were, and a model without
    /// jitter or reorder delivers no frame before the last frame already
    /// scheduled in that direction (see docs/wire.md). It is listed by [`Net::active_faults`] (with what the
    /// direction did so far) until another model replaces it
    /// ([`impair`](Link::impair), [`unimpair`](Link::unimpair)) or
    /// [`Net::heal`] puts back the model the lab was built with.
    ///
    /// An invalid model is refused with [`Error::InvalidImpairment`] before
    /// anything changes; a veth link with [`Error::NotAWire`].
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use netns_test::wire::{Direction, Impairment};
    /// # use netns_test::{Net, Topology};
    /// let net = Net::build(&Topology::new().wire(
    ///     ("n1", "eth0", "198.51.100.1/24"),
    ///     ("n2", "eth0", "198.51.100.2/24"),
    /// ))?;
    /// let link = net.link("n1", "n2")?;
    /// link.impair(Direction::Both, Impairment::new().delay(Duration::from_millis(50)))?;
    /// let rtt = net["n1"].ping("n2").run()?.rtt().unwrap().min;
    /// assert!(rtt >= Duration::from_millis(100));
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn impair(&self, direction: Direction, model: Impairment) -> Result<()> {
        self.wire()?;
        self.check(&model, direction)?;
        self.apply(direction, model)
    }

    /// [`Error::InvalidImpairment`] for `model`, meant for `direction`,
    /// when it cannot work: it names the direction (`a/e -> b/e`), or the
    /// link for both.
    fn check(&self, model: &Impairment, direction: Direction) -> Result<()> {
        model.validate().map_err(|source| Error::InvalidImpairment {
            link: match self.dirs(direction)[..] {
                [dir] => self.arrow(dir),
                _ => self.name(),
            },
            source,
        })
    }

    /// Uses `model`, valid, on `direction`, as [`Link::impair`] does.
    fn apply(&self, direction: Direction, model: Impairment) -> Result<()> {
        for dir in self.dirs(direction) {
            let fault = format!("wire {} impaired: {model}", self.arrow(dir));
            self.replace_model(dir, model.clone(), Some(fault))?;
        }
        Ok(())
    }

    /// Uses `model` on relay direction `dir` from the next frame on, ending
    /// the fault that changed its model before; with `fault`, a description,
    /// records the change as a fault that [`Net::heal`] undoes by putting
    /// back the model the lab was built with.
    fn replace_model(&self, dir: usize, model: Impairment, fault: Option<String>) -> Result<()> {
        let (wire, relay) = self.wire()?;
        let key = format!("wire {wire} dir {dir}");
        self.net.faults.forget_keyed(&key);
        relay.set_model(wire, dir, model);
        if let Some(description) = fault {
            self.net.faults.start(
                key,
                description,
                Box::new(move |net: &Net, by| stats_line(net, wire, dir, by)),
                Box::new(move |net: &Net| {
                    if let Some(relay) = &net.relay {
                        relay.restore_base(wire, dir);
                    }
                    Ok(())
                }),
            );
        }
        Ok(())
    }

    /// Applies a [`Profile`]: `forward` on what the handle's first node
    /// sends, `backward` on what it receives. Both models are checked first:
    /// when either cannot work, [`Error::InvalidImpairment`] naming its
    /// direction (`n1/eth0 -> n2/eth0`) is returned and neither direction
    /// changes.
    pub fn impair_with(&self, profile: Profile) -> Result<()> {
        self.wire()?;
        self.check(&profile.forward, Direction::Forward)?;
        self.check(&profile.backward, Direction::Backward)?;
        self.apply(Direction::Forward, profile.forward)?;
        self.apply(Direction::Backward, profile.backward)
    }

    /// Removes the model of `direction`: frames pass at once and untouched,
    /// ahead of the frames the old model still delays
    /// (a rule or a hold stays). Like [`impair`](Link::impair), it lasts
    /// until [`Net::heal`], which puts back the model the lab was built
    /// with; where that model was not transparent, the change is listed by
    /// [`Net::active_faults`] (`wire a/e -> b/e unimpaired`, with what the
    /// direction did since).
    pub fn unimpair(&self, direction: Direction) -> Result<()> {
        let (wire, relay) = self.wire()?;
        for dir in self.dirs(direction) {
            let base = relay.direction(wire, dir).base.clone();
            let fault = (!base.is_transparent())
                .then(|| format!("wire {} unimpaired (built with {base})", self.arrow(dir)));
            self.replace_model(dir, Impairment::new(), fault)?;
        }
        Ok(())
    }

    /// The models in use: (forward, backward).
    pub fn impairment(&self) -> Result<(Impairment, Impairment)> {
        let (wire, relay) = self.wire()?;
        let [f, b] = [Direction::Forward, Direction::Backward].map(|d| {
            relay
                .direction(wire, self.dirs(d)[0])
                .pipeline
                .model()
                .clone()
        });
        Ok((f, b))
    }

    /// Holds the frames entering `direction`: they queue, in order, until
    /// [`Hold::release`] lets them go on (also when the guard drops, or on
    /// [`Net::heal`]) or [`Hold::discard`] drops them.
    ///
    /// A frame that enters while the direction is held is queued before
    /// the rule is asked. On release the held frames go, in order, through
    /// the direction's rule and model as frames arriving at the release
    /// would, before any frame that enters after them: the rule sees each
    /// one then, and the model may drop (loss, MTU, queue), delay,
    /// duplicate or corrupt it, its rate spacing them out.
    ///
    /// Each hold is a fault of its own. A direction held by several holds
    /// stays held until the last of them ends: releasing an earlier one
    /// lets nothing go, discarding one drops the frames held so far (the
    /// direction stays held for the frames that come after).
    ///
    /// ```no_run
    /// use netns_test::wire::Direction;
    /// # use netns_test::{Net, Topology};
    /// # let net = Net::build(&Topology::new().wire(("n1", "eth0", "198.51.100.1/24"), ("n2", "eth0", "198.51.100.2/24")))?;
    /// let hold = net.link("n1", "n2")?.hold(Direction::Forward)?;
    /// // ... n1 sends; nothing reaches n2 ...
    /// let delivered = hold.release()?;
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn hold(&self, direction: Direction) -> Result<Hold<'a>> {
        let (wire, relay) = self.wire()?;
        let dirs = self.dirs(direction);
        for &dir in &dirs {
            relay.hold(wire, dir);
        }
        let undo_dirs = dirs.clone();
        // A key of its own: each hold is a fault of its own.
        let id = self.net.faults.next_id();
        self.net.faults.start_with_id(
            id,
            hold_key(wire, id),
            format!(
                "wire {} held",
                dirs.iter()
                    .map(|&d| self.arrow(d))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
            Box::new(move |net: &Net, by| held_line(net, wire, by)),
            Box::new(move |net: &Net| {
                if let Some(relay) = &net.relay {
                    for &dir in &undo_dirs {
                        relay.end_hold(wire, dir, true);
                    }
                }
                Ok(())
            }),
        );
        Ok(Hold::new(self.net, relay, wire, dirs, id))
    }

    /// Asks `rule` about every frame of `direction` before the model (see
    /// [`WireRule`]); with [`Direction::Both`] one rule sees both ways.
    /// Replaces the rule there.
    ///
    /// A rule that panics in [`WireRule::decide`] is removed (from both
    /// directions, when it was set on both) and the frame it panicked on is
    /// dropped; the relay goes on moving every wire's frames. [`WireStats`]
    /// counts the panic (`rule_panics`, and the frame in `rule_dropped`),
    /// and [`Net::wire_report`] (printed when a test fails) shows its
    /// message until a rule is set on that direction again. Not covered: a
    /// rule whose `Drop` panics (it may be dropped on the relay's thread,
    /// and a panic there stops every wire of the lab), and a build with
    /// `panic = "abort"`, where any panic ends the process.
    pub fn set_rule(&self, direction: Direction, rule: impl WireRule) -> Result<()> {
        let (wire, relay) = self.wire()?;
        let shared: SharedRule = Arc::new(Mutex::new(rule));
        for dir in self.dirs(direction) {
            let mut st = relay.direction(wire, dir);
            st.rule = Some(Arc::clone(&shared));
            st.rule_panic = None;
        }
        Ok(())
    }

    /// Removes the rule of `direction`.
    pub fn clear_rule(&self, direction: Direction) -> Result<()> {
        let (wire, relay) = self.wire()?;
        for dir in self.dirs(direction) {
            relay.direction(wire, dir).rule = None;
        }
        Ok(())
    }

    /// What the wire did so far, per direction as the handle names them.
    pub fn wire_stats(&self) -> Result<WireStats> {
        let (wire, relay) = self.wire()?;
        let [forward, backward] = [Direction::Forward, Direction::Backward]
            .map(|d| relay.direction(wire, self.dirs(d)[0]).stats);
        Ok(WireStats { forward, backward })
    }
}

/// How long [`Net::wire_report`] and [`Net::active_faults`] each wait in
/// all for the wires' rules that are running: a direction whose rule has
/// not returned by then is reported as busy.
pub const REPORT_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

impl Net {
    /// The lab's wires, for a failure report: a first line with the seed
    /// (and how to replay it), then one line per direction with its model
    /// and counters. Empty without wires. A direction whose rule has not
    /// returned within [`REPORT_WAIT`](crate::wire::REPORT_WAIT) in all is reported as busy, so a
    /// rule that blocks does not hold up the report.
    ///
    /// ```no_run
    /// # use netns_test::{Net, Topology};
    /// let net = Net::build(&Topology::new().seed(5).wire(("a", "eth0"), ("b", "eth0")))?;
    /// let report = net.wire_report();
    /// assert!(report[0].contains("NETNS_TEST_SEED=5"));
    /// assert!(report[1].starts_with("a/eth0 -> b/eth0: transparent;"));
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn wire_report(&self) -> Vec<String> {
        let Some(relay) = &self.relay else {
            return Vec::new();
        };
        let seed = self.seed();
        let mut lines = vec![format!(
            "wires (seed {seed}; replay with NETNS_TEST_SEED={seed}):"
        )];
        let deadline = Instant::now() + REPORT_WAIT;
        for veth in self.veths() {
            let Some(wire) = veth.wire else { continue };
            let link = Link {
                net: self,
                veth,
                flipped: false,
            };
            for dir in 0..2 {
                let Some(st) = relay.direction_by(wire, dir, deadline) else {
                    lines.push(format!("{}: {BUSY}", link.arrow(dir)));
                    continue;
                };
                let mut line =
                    format!("{}: {}; {}", link.arrow(dir), st.pipeline.model(), st.stats);
                if let Some(message) = &st.rule_panic {
                    line.push_str(&format!("; its rule panicked and was removed: {message}"));
                }
                lines.push(line);
            }
        }
        lines
    }
}

/// The key of hold `id` of wire `wire` in the network's book of faults.
fn hold_key(wire: usize, id: u64) -> String {
    format!("wire {wire} hold {id}")
}

/// What the evidence of a wire's fault says of a direction whose rule has
/// not returned by the deadline.
const BUSY: &str = "busy: its rule has not returned (counters not read)";

/// The evidence of an impaired direction: its counters and the seed, read
/// by `deadline` (else that it is busy).
fn stats_line(net: &Net, wire: usize, dir: usize, deadline: Instant) -> String {
    let Some(relay) = &net.relay else {
        return String::new();
    };
    match relay.direction_by(wire, dir, deadline) {
        Some(st) => format!("{}; seed {}", st.stats, net.seed()),
        None => format!("{BUSY}; seed {}", net.seed()),
    }
}

/// The evidence of a hold: frames held in each direction, read by
/// `deadline` (else that the direction is busy).
fn held_line(net: &Net, wire: usize, deadline: Instant) -> String {
    let Some(relay) = &net.relay else {
        return String::new();
    };
    let held = |d| match relay.direction_by(wire, d, deadline) {
        Some(st) => st.held.as_ref().map_or(0, |h| h.len()).to_string(),
        None => format!("? ({BUSY})"),
    };
    format!("{} + {} frames held", held(0), held(1))
}

//! What one direction of a wire does to frames: [`Impairment`], built in
//! steps, checked by [`Impairment::validate`].

use std::fmt;
use std::time::Duration;

use crate::vocab::{Bandwidth, Probability};

/// The default queue of the rate stage, in frames (the number netem uses
/// for its whole queue; here frames waiting only for their delay are not
/// counted: they are bounded by
/// [`DELAY_LIMIT_BYTES`](crate::wire::DELAY_LIMIT_BYTES) instead).
pub const DEFAULT_QUEUE_LIMIT: usize = 1000;

/// The longest delay, and the largest jitter, a model may ask for: one day.
/// (A rule's [`Verdict::Delay`](super::Verdict::Delay) is not bounded; a
/// frame due more than [`DELAY_HORIZON`](crate::wire::DELAY_HORIZON) after
/// it arrived is dropped.)
pub const MAX_DELAY: Duration = Duration::from_secs(24 * 60 * 60);

/// The shape of a delay's random variation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Distribution {
    /// Evenly spread over `delay ± amount`.
    Uniform,
    /// Normal, with `amount` as the standard deviation.
    Normal,
    /// Pareto (shape 3), shifted to a mean of zero and scaled to a standard
    /// deviation of `amount`: mostly a little early, now and then very late.
    Pareto,
}

/// A random variation added to a delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jitter {
    /// Its size: the half-width (uniform) or standard deviation (others).
    pub amount: Duration,
    /// Its shape.
    pub distribution: Distribution,
}

/// Bursty loss: a two-state Markov chain (Gilbert-Elliott), drawn once per
/// frame: first the state may change, then the frame is lost with the
/// state's probability.
///
/// The long-run share of time in the bad state is
/// `to_bad / (to_bad + to_good)`; a bad spell lasts `1 / to_good` frames on
/// average.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GilbertElliott {
    /// Chance per frame of moving from the good to the bad state.
    pub to_bad: Probability,
    /// Chance per frame of moving from the bad back to the good state.
    pub to_good: Probability,
    /// Loss in the good state (often 0).
    pub loss_in_good: Probability,
    /// Loss in the bad state (often 1).
    pub loss_in_bad: Probability,
}

impl GilbertElliott {
    /// The long-run loss rate this chain gives.
    pub fn mean_loss(&self) -> f64 {
        let (b, g) = (self.to_bad.get(), self.to_good.get());
        if b + g == 0.0 {
            return self.loss_in_good.get();
        }
        let bad = b / (b + g);
        bad * self.loss_in_bad.get() + (1.0 - bad) * self.loss_in_good.get()
    }
}

/// How frames are lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Loss {
    /// None are.
    #[default]
    None,
    /// Each frame independently, with this probability (Bernoulli).
    Random(Probability),
    /// In bursts.
    Bursts(GilbertElliott),
}

/// A model of one direction of a wire: delay and jitter, loss, reordering,
/// duplication, corruption, a rate with its queue, an MTU.
///
/// Stages, in the order a frame meets them: the MTU (larger frames are
/// dropped), loss, duplication, corruption (one bit flipped past the
/// Ethernet header: the receiver's IPv4 header or transport checksum
/// catches it where there is one, but not in an ARP frame, in IPv6 header
/// fields, or in an IPv4 UDP datagram sent without a checksum), the
/// rate (a token bucket; a frame leaves once it is serialised, and one that
/// finds `queue_limit` frames waiting is dropped), then the delay with its
/// jitter. A frame picked for reordering skips the delay and so overtakes
/// the frames still delayed, as netem does.
///
/// ```
/// use std::time::Duration;
/// use netns_test::wire::{Bandwidth, Distribution, Impairment, Probability};
///
/// let slow = Impairment::new()
///     .delay(Duration::from_millis(50))
///     .jitter(Duration::from_millis(5), Distribution::Normal)
///     .loss(Probability::percent(1.0)?)
///     .rate(Bandwidth::mbit(10)?);
/// slow.validate()?;
/// assert_eq!(slow.to_string(), "delay 50ms ± 5ms normal, loss 1%, rate 10 Mbit/s (queue 1000)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impairment {
    pub(crate) delay: Duration,
    pub(crate) jitter: Option<Jitter>,
    pub(crate) loss: Loss,
    pub(crate) reorder: Probability,
    pub(crate) duplicate: Probability,
    pub(crate) corrupt: Probability,
    pub(crate) rate: Option<Bandwidth>,
    pub(crate) burst: usize,
    /// `None`: [`DEFAULT_QUEUE_LIMIT`], not given.
    pub(crate) queue_limit: Option<usize>,
    pub(crate) mtu: Option<u32>,
}

impl Default for Impairment {
    fn default() -> Self {
        Impairment {
            delay: Duration::ZERO,
            jitter: None,
            loss: Loss::None,
            reorder: Probability::NEVER,
            duplicate: Probability::NEVER,
            corrupt: Probability::NEVER,
            rate: None,
            burst: 0,
            queue_limit: None,
            mtu: None,
        }
    }
}

/// An impairment that cannot work as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImpairmentError {
    /// Reordering lets picked frames skip the delay: without a delay there
    /// is nothing to overtake.
    #[error("reordering {0} needs a delay to overtake; add `.delay(...)`")]
    ReorderWithoutDelay(Probability),
    /// A queue of zero frames drops everything.
    #[error("a queue limit of 0 frames drops every frame; give at least 1")]
    ZeroQueue,
    /// A burst without a rate: nothing to burst past.
    #[error("a burst of {0} bytes has no effect without a rate; add `.rate(...)`")]
    BurstWithoutRate(usize),
    /// A queue limit without a rate: only the rate stage queues.
    #[error("a queue limit of {0} frames has no effect without a rate; add `.rate(...)`")]
    QueueWithoutRate(usize),
    /// An MTU outside 68 to 65535.
    #[error("wire MTU {0} is outside 68..=65535")]
    Mtu(u32),
    /// A delay longer than [`MAX_DELAY`].
    #[error("delay {0:?} is longer than the limit of {max:?} (MAX_DELAY)", max = MAX_DELAY)]
    DelayTooLong(Duration),
    /// A jitter larger than [`MAX_DELAY`].
    #[error("jitter {0:?} is larger than the limit of {max:?} (MAX_DELAY)", max = MAX_DELAY)]
    JitterTooLong(Duration),
}

impl Impairment {
    /// No impairment at all: every frame passes at once.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fixed delay for every frame (at most [`MAX_DELAY`], which
    /// [`Impairment::validate`] checks).
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// A random variation of the delay (a delay below zero counts as
    /// zero); `amount` is at most [`MAX_DELAY`].
    pub fn jitter(mut self, amount: Duration, distribution: Distribution) -> Self {
        self.jitter = Some(Jitter {
            amount,
            distribution,
        });
        self
    }

    /// Loses each frame with probability `p`.
    pub fn loss(mut self, p: Probability) -> Self {
        self.loss = Loss::Random(p);
        self
    }

    /// Loses frames in bursts.
    pub fn loss_bursts(mut self, chain: GilbertElliott) -> Self {
        self.loss = Loss::Bursts(chain);
        self
    }

    /// Lets a frame skip the delay with probability `p` (needs a delay).
    pub fn reorder(mut self, p: Probability) -> Self {
        self.reorder = p;
        self
    }

    /// Delivers a frame twice with probability `p`.
    pub fn duplicate(mut self, p: Probability) -> Self {
        self.duplicate = p;
        self
    }

    /// Flips one bit of a frame with probability `p`.
    pub fn corrupt(mut self, p: Probability) -> Self {
        self.corrupt = p;
        self
    }

    /// Limits the rate (Ethernet frames, headers included).
    pub fn rate(mut self, rate: Bandwidth) -> Self {
        self.rate = Some(rate);
        self
    }

    /// Lets `bytes` pass at once after an idle spell (the token bucket's
    /// depth; 0, the default, serialises every frame): frames that arrive
    /// together leave together, after the first one's serialisation, as
    /// long as they add up to at most `bytes`; the others follow at the
    /// rate, and a frame larger than `bytes` always waits for the rate.
    /// Frames still leave in the order they came: a small frame in a burst
    /// waits for a larger one before it. Needs a [`rate`](Impairment::rate)
    /// ([`Impairment::validate`] refuses a burst without one).
    pub fn burst(mut self, bytes: usize) -> Self {
        self.burst = bytes;
        self
    }

    /// The rate stage's queue, in frames (default 1,000); a frame that
    /// finds it full is dropped. Unlike netem's limit it does not count
    /// frames waiting only for their delay: those are all kept, so a delay
    /// holds in memory what arrives during it. Needs a
    /// [`rate`](Impairment::rate) ([`Impairment::validate`] refuses a queue
    /// limit without one).
    pub fn queue_limit(mut self, frames: usize) -> Self {
        self.queue_limit = Some(frames);
        self
    }

    /// The rate stage's queue, in frames: as given, or
    /// [`DEFAULT_QUEUE_LIMIT`].
    pub(crate) fn queue_frames(&self) -> usize {
        self.queue_limit.unwrap_or(DEFAULT_QUEUE_LIMIT)
    }

    /// Drops frames whose IP packet exceeds `mtu` bytes, as a smaller link
    /// on the path would.
    pub fn mtu(mut self, mtu: u32) -> Self {
        self.mtu = Some(mtu);
        self
    }

    /// Whether frames pass untouched and at once.
    pub fn is_transparent(&self) -> bool {
        *self == Impairment::default()
    }

    /// Checks that the stages can work together (a reordering needs a
    /// delay; a burst and a queue limit need a rate), and that the delay
    /// and the jitter are within [`MAX_DELAY`].
    pub fn validate(&self) -> Result<(), ImpairmentError> {
        if self.delay > MAX_DELAY {
            return Err(ImpairmentError::DelayTooLong(self.delay));
        }
        if let Some(j) = self.jitter.filter(|j| j.amount > MAX_DELAY) {
            return Err(ImpairmentError::JitterTooLong(j.amount));
        }
        if !self.reorder.is_never() && self.delay.is_zero() {
            return Err(ImpairmentError::ReorderWithoutDelay(self.reorder));
        }
        if self.queue_limit == Some(0) {
            return Err(ImpairmentError::ZeroQueue);
        }
        if self.rate.is_none() {
            if self.burst > 0 {
                return Err(ImpairmentError::BurstWithoutRate(self.burst));
            }
            if let Some(q) = self.queue_limit {
                return Err(ImpairmentError::QueueWithoutRate(q));
            }
        }
        if let Some(mtu) = self.mtu {
            if !(68..=65535).contains(&mtu) {
                return Err(ImpairmentError::Mtu(mtu));
            }
        }
        Ok(())
    }
}

impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Distribution::Uniform => "uniform",
            Distribution::Normal => "normal",
            Distribution::Pareto => "pareto",
        })
    }
}

impl fmt::Display for Impairment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if !self.delay.is_zero() || self.jitter.is_some() {
            let mut d = format!("delay {:?}", self.delay);
            if let Some(j) = self.jitter {
                d.push_str(&format!(" ± {:?} {}", j.amount, j.distribution));
            }
            parts.push(d);
        }
        match self.loss {
            Loss::None => {}
            Loss::Random(p) => parts.push(format!("loss {p}")),
            Loss::Bursts(g) => parts.push(format!(
                "loss in bursts (to bad {}, to good {}, {} / {}; mean {:.2}%)",
                g.to_bad,
                g.to_good,
                g.loss_in_good,
                g.loss_in_bad,
                g.mean_loss() * 100.0
            )),
        }
        for (p, name) in [
            (self.reorder, "reorder"),
            (self.duplicate, "duplicate"),
            (self.corrupt, "corrupt"),
        ] {
            if !p.is_never() {
                parts.push(format!("{name} {p}"));
            }
        }
        if let Some(r) = self.rate {
            let mut s = format!("rate {r}");
            if self.burst > 0 {
                s.push_str(&format!(" burst {} B", self.burst));
            }
            s.push_str(&format!(" (queue {})", self.queue_frames()));
            parts.push(s);
        }
        if let Some(m) = self.mtu {
            parts.push(format!("mtu {m}"));
        }
        if parts.is_empty() {
            f.write_str("transparent")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

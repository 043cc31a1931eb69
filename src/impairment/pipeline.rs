//! The model of one direction at work: given a frame's length, the time
//! (a virtual clock: time since the wire started) and the rule's verdict,
//! it decides the frame's fate. Pure: no I/O, no clock of its own, every
//! random choice drawn from its seeded generator, one draw per frame
//! whatever its fate, so the same seed and the same frames give the same
//! decisions, also when a frame's fate depends on when it arrived (the
//! rate stage's queue).

use std::collections::VecDeque;
use std::time::Duration;

use super::model::{Distribution, Impairment, Loss};
use super::rule::Verdict;
use crate::packet::decode::link_header_len;
use crate::vocab::Rng;

/// The header of an untagged Ethernet frame.
#[cfg(test)]
const ETHERNET_HEADER: usize = 14;

/// Why a frame was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DropCause {
    /// The user's rule.
    Rule,
    /// Larger than the wire's MTU.
    Mtu,
    /// Lost by the loss model.
    Loss,
    /// Found the rate stage's queue full.
    Queue,
}

/// When a copy of a frame is delivered, and the bit flipped in it, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Delivery {
    pub(crate) at: Duration,
    pub(crate) flip_bit: Option<usize>,
}

/// A frame's fate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fate {
    Dropped(DropCause),
    /// One copy, or two when duplicated (the copy is never corrupted).
    Delivered(Delivery, Option<Delivery>),
}

/// One direction's model with its state: the generator, the loss chain's
/// state, the token bucket and its queue, and the latest delivery time it
/// scheduled.
#[derive(Debug, Clone)]
pub(crate) struct Pipeline {
    model: Impairment,
    rng: Rng,
    /// The Gilbert-Elliott chain is in its bad state.
    bad: bool,
    /// The token bucket's theoretical arrival time (GCRA).
    tat: Duration,
    /// When the frames accepted by the rate stage finish serialising.
    queue: VecDeque<Duration>,
    /// The latest delivery time the model gave a frame (a rule's
    /// `Verdict::Delay` not included): a model without jitter or reorder
    /// delivers no frame before it, so a change of model keeps the order.
    last_at: Duration,
}

impl Pipeline {
    /// A pipeline for `model`, drawing from `rng`.
    pub(crate) fn new(model: Impairment, rng: Rng) -> Self {
        Pipeline {
            model,
            rng,
            bad: false,
            tat: Duration::ZERO,
            queue: VecDeque::new(),
            last_at: Duration::ZERO,
        }
    }

    /// The model in use.
    pub(crate) fn model(&self) -> &Impairment {
        &self.model
    }

    /// Uses `model` from now on. The frames the old model scheduled keep
    /// their times, and its backlog carries over: when `model` has a rate,
    /// the token bucket and the rate stage's queue go on as they were (a
    /// new frame is serialised after the frames still queued, and the
    /// queue limit counts them); without jitter or reorder, `model`
    /// delivers no frame before the last frame already scheduled, so frames
    /// leave in the order they came across the change. The loss chain
    /// starts in its good state; the generator goes on where it was.
    pub(crate) fn set_model(&mut self, model: Impairment) {
        if model.rate.is_none() {
            self.tat = Duration::ZERO;
            self.queue.clear();
        }
        self.model = model;
        self.bad = false;
    }

    /// Whether every frame passes at once (the relay's fast path).
    pub(crate) fn is_transparent(&self) -> bool {
        self.model.is_transparent()
    }

    /// The fate of Ethernet frame `frame`, which arrives at `now`.
    pub(crate) fn decide_frame(&mut self, now: Duration, frame: &[u8], verdict: Verdict) -> Fate {
        self.decide_sized(now, (frame.len(), link_header_len(frame)), verdict)
    }

    /// The fate of an untagged frame of `len` bytes that arrives at `now`.
    #[cfg(test)]
    pub(crate) fn decide(&mut self, now: Duration, len: usize, verdict: Verdict) -> Fate {
        self.decide_sized(now, (len, ETHERNET_HEADER), verdict)
    }

    /// The fate of a frame of `len` bytes, `header` of them its link-layer
    /// header (with its VLAN tags), that arrives at `now`. The MTU counts
    /// what follows the header; a corruption never touches the header (a
    /// flipped MAC address or VLAN ID would only misdeliver; a flipped bit
    /// after it fails a checksum where there is one, which ARP, the IPv6
    /// header and IPv4 UDP with checksum 0 lack).
    ///
    /// Every frame the model decides (not a held one, nor one crossing a
    /// direction without a model) takes one draw from the direction's
    /// generator, whatever its fate, and makes its own choices (loss, duplicate, corrupt,
    /// reorder, jitter) with a generator seeded from that draw: a frame
    /// dropped by the queue, which depends on when frames arrive, or by the
    /// rule leaves the decisions of the frames after it as they were.
    fn decide_sized(
        &mut self,
        now: Duration,
        (len, header): (usize, usize),
        verdict: Verdict,
    ) -> Fate {
        let rng = &mut Rng::split(self.rng.next_u64(), 0);
        if verdict == Verdict::Drop {
            return Fate::Dropped(DropCause::Rule);
        }
        if let Some(mtu) = self.model.mtu {
            if len.saturating_sub(header) > mtu as usize {
                return Fate::Dropped(DropCause::Mtu);
            }
        }
        if self.lost(rng) {
            return Fate::Dropped(DropCause::Loss);
        }
        let duplicate = verdict == Verdict::Duplicate || chance(rng, self.model.duplicate.get());
        let corrupt = verdict == Verdict::Corrupt || chance(rng, self.model.corrupt.get());
        let flip_bit =
            (corrupt && len > header).then(|| header * 8 + rng.below((len - header) * 8));
        let Some(sent) = self.serialise(now, len) else {
            return Fate::Dropped(DropCause::Queue);
        };
        let extra = match verdict {
            Verdict::Delay(d) => d,
            _ => Duration::ZERO,
        };
        let mut at = self.delayed(rng, sent);
        if self.model.jitter.is_none() && self.model.reorder.is_never() {
            at = at.max(self.last_at);
        }
        self.last_at = self.last_at.max(at);
        let at = at.saturating_add(extra);
        let first = Delivery { at, flip_bit };
        let copy = duplicate.then_some(Delivery { at, flip_bit: None });
        Fate::Delivered(first, copy)
    }

    /// Whether the frame drawing from `rng` is lost (moving the loss
    /// chain's state first).
    fn lost(&mut self, rng: &mut Rng) -> bool {
        match self.model.loss {
            Loss::None => false,
            Loss::Random(p) => chance(rng, p.get()),
            Loss::Bursts(g) => {
                let flip = if self.bad { g.to_good } else { g.to_bad };
                if chance(rng, flip.get()) {
                    self.bad = !self.bad;
                }
                let p = if self.bad {
                    g.loss_in_bad
                } else {
                    g.loss_in_good
                };
                chance(rng, p.get())
            }
        }
    }

    /// When the frame has been serialised by the rate stage, or `None` when
    /// the stage's queue is full.
    ///
    /// First in, first out: a frame is done no earlier than the frame before
    /// it, even when the bucket's burst lets it start before that one is
    /// done, so the queue's finish times only grow (and the ones at its
    /// front are the first to pass). Times saturate at `Duration::MAX`.
    fn serialise(&mut self, now: Duration, len: usize) -> Option<Duration> {
        let Some(rate) = self.model.rate else {
            return Some(now);
        };
        while self.queue.front().is_some_and(|&t| t <= now) {
            self.queue.pop_front();
        }
        if self.queue.len() >= self.model.queue_frames() {
            return None;
        }
        let cost = rate.time_for(len);
        // The bucket holds `burst` bytes: a frame starts as soon as the
        // backlog, itself included, fits the bucket (at once after an idle
        // spell, for at most `burst` bytes together); a frame larger than
        // the bucket waits for the rate alone.
        let tolerance = rate.time_for(self.model.burst).saturating_sub(cost);
        let start = now.max(self.tat.saturating_sub(tolerance));
        self.tat = self.tat.max(now).saturating_add(cost);
        let previous = self.queue.back().copied().unwrap_or(Duration::ZERO);
        let done = start.saturating_add(cost).max(previous);
        self.queue.push_back(done);
        Some(done)
    }

    /// `sent` plus the delay and its jitter (never before `sent`), drawn
    /// from the frame's `rng`; a frame picked for reordering skips the
    /// delay. A delay past what a `Duration` holds saturates at
    /// `Duration::MAX`.
    fn delayed(&self, rng: &mut Rng, sent: Duration) -> Duration {
        if chance(rng, self.model.reorder.get()) {
            return sent;
        }
        let mut delay = self.model.delay.as_secs_f64();
        if let Some(j) = self.model.jitter {
            delay += sample(rng, j.distribution) * j.amount.as_secs_f64();
        }
        let delay = Duration::try_from_secs_f64(delay.max(0.0)).unwrap_or(Duration::MAX);
        sent.saturating_add(delay)
    }
}

/// True with probability `p`, drawn from `rng` (no draw when `p` is 0).
fn chance(rng: &mut Rng, p: f64) -> bool {
    p > 0.0 && rng.unit() < p
}

/// A draw with mean 0 and standard deviation 1 (uniform: half-width 1).
pub(crate) fn sample(rng: &mut Rng, distribution: Distribution) -> f64 {
    match distribution {
        Distribution::Uniform => 2.0 * rng.unit() - 1.0,
        Distribution::Normal => {
            // Box-Muller; 1 - u is in (0, 1], so the logarithm is finite.
            let (u1, u2) = (1.0 - rng.unit(), rng.unit());
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        }
        Distribution::Pareto => {
            // Shape 3: mean 1.5 xm, standard deviation xm * sqrt(3) / 2.
            const SHAPE: f64 = 3.0;
            let xm = 2.0 / 3f64.sqrt();
            let x = xm / (1.0 - rng.unit()).powf(1.0 / SHAPE);
            x - 1.5 * xm
        }
    }
}

//! What the relay keeps per direction of a wire, shared with the link
//! handles that change it: the model at work, the rule, the hold queue, the
//! counters.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::impairment::{DirectionStats, Frame, Impairment, Pipeline, Verdict, WireRule};
use crate::wire::{HOLD_LIMIT, HOLD_LIMIT_BYTES};

/// A rule shared by the directions it was set on.
pub(crate) type SharedRule = Arc<Mutex<dyn WireRule>>;

/// A frame and its index among the frames that entered its direction.
pub(crate) type IndexedFrame = (u64, Vec<u8>);

/// One direction of a wire.
pub(crate) struct DirState {
    pub(crate) pipeline: Pipeline,
    /// The model the lab was built with, which `Net::heal` restores.
    pub(crate) base: Impairment,
    pub(crate) rule: Option<SharedRule>,
    /// The message of the last rule that panicked here (and was removed),
    /// until a rule is set again.
    pub(crate) rule_panic: Option<String>,
    /// Frames that entered while held, in order, with their indexes;
    /// `None` when not held. Bounded by [`HOLD_LIMIT`] and
    /// [`HOLD_LIMIT_BYTES`] (see [`DirState::keep_held`]).
    pub(crate) held: Option<VecDeque<IndexedFrame>>,
    /// The frames the last hold to end handed back: the relay runs them
    /// through the rule and the model, as frames arriving then, before any
    /// frame that enters after them.
    pub(crate) released: VecDeque<IndexedFrame>,
    /// The bytes of the frames in `held`.
    pub(crate) held_bytes: usize,
    /// The holds holding the direction (`Hold` guards not ended yet): it
    /// stays held until the last one ends.
    pub(crate) holders: usize,
    pub(crate) stats: DirectionStats,
    /// Frames that entered so far (the next frame's index).
    pub(crate) frames: u64,
    /// When the last frame that entered arrived, on the relay's clock: the
    /// next one arrives no earlier.
    pub(crate) last_arrival: Duration,
}

impl std::fmt::Debug for DirState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirState")
            .field("model", self.pipeline.model())
            .field("rule", &self.rule.is_some())
            .field("rule_panic", &self.rule_panic)
            .field("held", &self.held.as_ref().map(VecDeque::len))
            .field("released", &self.released.len())
            .field("holders", &self.holders)
            .field("stats", &self.stats)
            .finish()
    }
}

impl DirState {
    pub(crate) fn new(pipeline: Pipeline) -> Self {
        DirState {
            base: pipeline.model().clone(),
            pipeline,
            rule: None,
            rule_panic: None,
            held: None,
            released: VecDeque::new(),
            held_bytes: 0,
            holders: 0,
            stats: DirectionStats::default(),
            frames: 0,
            last_arrival: Duration::ZERO,
        }
    }

    /// What the direction's rule decides for `frame` ([`Verdict::Pass`]
    /// without one).
    ///
    /// A rule that panics is removed, and the frame it panicked on is
    /// dropped: counted as dropped by the rule and in `rule_panics`, with
    /// the message kept for the wire report. A rule shared with the other
    /// direction is removed there too at its next frame (its lock is
    /// poisoned), which then passes. The relay carries on for every wire.
    pub(crate) fn ask_rule(&mut self, frame: &Frame<'_>) -> Verdict {
        let Some(rule) = self.rule.clone() else {
            return Verdict::Pass;
        };
        // The guard is taken inside: a panic poisons the rule's lock.
        match catch_unwind(AssertUnwindSafe(|| {
            rule.lock().ok().map(|mut r| r.decide(frame))
        })) {
            Ok(Some(verdict)) => verdict,
            Ok(None) => {
                self.rule = None;
                Verdict::Pass
            }
            Err(payload) => {
                self.rule = None;
                self.stats.rule_panics += 1;
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(a panic without a message)".into());
                self.rule_panic = Some(message);
                Verdict::Drop
            }
        }
    }

    /// Keeps `frame`, the direction's frame `index`, at the end of the held
    /// frames (the direction is held);
    /// when they are [`HOLD_LIMIT`] frames already, or would be more than
    /// [`HOLD_LIMIT_BYTES`] bytes with it, drops it instead, counted in
    /// `held_dropped`.
    pub(crate) fn keep_held(&mut self, index: u64, frame: &[u8]) {
        let Some(held) = self.held.as_mut() else {
            return;
        };
        if held.len() >= HOLD_LIMIT || self.held_bytes + frame.len() > HOLD_LIMIT_BYTES {
            self.stats.held_dropped += 1;
            return;
        }
        held.push_back((index, frame.to_vec()));
        self.held_bytes += frame.len();
        self.stats.held += 1;
    }

    /// Takes the held frames out, leaving the direction held with none.
    pub(crate) fn take_held(&mut self) -> VecDeque<IndexedFrame> {
        self.held_bytes = 0;
        self.held.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Counts a frame the far end's interface refused.
    pub(crate) fn count_refused(&mut self) {
        self.stats.refused += 1;
    }

    /// Counts a frame delivered, `late` when after it arrived.
    pub(crate) fn count_passed(&mut self, len: usize, late: bool) {
        self.stats.passed += 1;
        self.stats.passed_bytes += len as u64;
        if late {
            self.stats.delayed += 1;
        }
    }
}

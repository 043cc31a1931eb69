//! What the relay keeps per direction of a wire, shared with the link
//! handles that change it: the model at work, the rule, the hold queue, the
//! counters.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::impairment::{DirectionStats, Impairment, Pipeline, WireRule};

/// A rule shared by the directions it was set on.
pub(crate) type SharedRule = Arc<Mutex<dyn WireRule>>;

/// One direction of a wire.
pub(crate) struct DirState {
    pub(crate) pipeline: Pipeline,
    /// The model the lab was built with, which `Net::heal` restores.
    pub(crate) base: Impairment,
    pub(crate) rule: Option<SharedRule>,
    /// Frames that entered while held, in order; `None` when not held.
    pub(crate) held: Option<VecDeque<Vec<u8>>>,
    pub(crate) stats: DirectionStats,
    /// Frames that entered so far (the next frame's index).
    pub(crate) frames: u64,
}

impl std::fmt::Debug for DirState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirState")
            .field("model", self.pipeline.model())
            .field("rule", &self.rule.is_some())
            .field("held", &self.held.as_ref().map(VecDeque::len))
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
            held: None,
            stats: DirectionStats::default(),
            frames: 0,
        }
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

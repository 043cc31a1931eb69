//! A held direction of a wire: frames queue until released or discarded.

use std::time::Duration;

use crate::error::Result;
use crate::lab::{Net, Relay};

/// The most frames a held direction keeps; a frame that finds it full is
/// dropped (counted in `held_dropped`).
pub const HOLD_LIMIT: usize = 10_000;

/// The most bytes a held direction keeps (its frames together); a frame
/// that would take it past that is dropped (counted in `held_dropped`).
pub const HOLD_LIMIT_BYTES: usize = 32 << 20;

/// The most bytes of one direction's frames waiting in the relay's timer
/// queue for their delivery time (delayed by the model or a rule, or
/// queued by the rate stage); a frame that would take them past that is
/// dropped (counted in `delay_dropped`), so a long delay on a bulk sender
/// does not grow the memory without end.
pub const DELAY_LIMIT_BYTES: usize = 32 << 20;

/// The longest a frame may wait for its delivery time, from its arrival; a
/// frame due later (a rule's `Verdict::Delay(Duration::MAX)`, which would
/// never leave) is dropped instead of kept (counted in `delay_dropped`).
pub const DELAY_HORIZON: Duration = Duration::from_secs(30 * 86_400);

/// Frames held by [`Link::hold`](crate::fault::Link::hold). Dropping the
/// guard releases them, as [`Hold::release`] does.
///
/// A held direction keeps at most [`HOLD_LIMIT`] frames and
/// [`HOLD_LIMIT_BYTES`] bytes: the frames that come when it is full are
/// dropped and counted in
/// [`DirectionStats::held_dropped`](crate::wire::DirectionStats::held_dropped).
#[derive(Debug)]
#[must_use = "the held frames are released when the guard drops"]
pub struct Hold<'a> {
    net: &'a Net,
    relay: &'a Relay,
    wire: usize,
    dirs: Vec<usize>,
    id: u64,
}

impl<'a> Hold<'a> {
    pub(crate) fn new(
        net: &'a Net,
        relay: &'a Relay,
        wire: usize,
        dirs: Vec<usize>,
        id: u64,
    ) -> Self {
        Hold {
            net,
            relay,
            wire,
            dirs,
            id,
        }
    }

    /// Frames held so far (both directions, when both are held).
    pub fn held(&self) -> usize {
        self.dirs
            .iter()
            .map(|&d| {
                self.relay
                    .direction(self.wire, d)
                    .held
                    .as_ref()
                    .map_or(0, |h| h.len())
            })
            .sum()
    }

    /// Ends the hold; how many held frames it let go, in the order they
    /// came. Each then goes through the direction's rule and model as a
    /// frame arriving now (see [`Link::hold`](crate::fault::Link::hold)),
    /// and the direction's counters say what became of it (`passed`,
    /// `lost`, `rule_dropped`, `delayed`, `refused` by the far end...).
    /// This returns once the relay has run them all through (those due at
    /// once have left), unless a rule keeps the relay busy for more than
    /// 2 s.
    ///
    /// A direction that another hold still holds stays held: its frames
    /// wait for the last hold to end (none is let go by this one). Once
    /// the hold was ended by other means (`Net::heal`), nothing is done and
    /// the answer is 0.
    pub fn release(self) -> Result<usize> {
        Ok(self.end(true))
    }

    /// Ends the hold and drops the held frames of its directions now
    /// (counted as discarded); how many.
    ///
    /// A direction that another hold still holds stays held, for the frames
    /// that come after (the frames dropped here are gone for that hold
    /// too); other holds on the wire stay. Once the hold was ended by other
    /// means (`Net::heal`), nothing is done and the answer is 0: the frames
    /// of a hold made since are left alone.
    pub fn discard(self) -> Result<usize> {
        Ok(self.end(false))
    }

    /// Ends this hold, if it is still in the network's book of faults:
    /// delivers or drops the held frames (see [`Relay::end_hold`]).
    fn end(&self, deliver: bool) -> usize {
        if !self.net.faults.forget(self.id) {
            return 0;
        }
        self.dirs
            .iter()
            .map(|&d| self.relay.end_hold(self.wire, d, deliver))
            .sum()
    }
}

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        let _ = self.net.faults.end(self.net, self.id);
    }
}

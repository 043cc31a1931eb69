//! A held direction of a wire: frames queue until released or discarded.

use super::handle::hold_key;
use crate::error::Result;
use crate::lab::{Net, Relay};

/// Frames held by [`Link::hold`](crate::fault::Link::hold). Dropping the
/// guard releases them, as [`Hold::release`] does.
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

    /// Ends the hold and delivers the held frames, in the order they came;
    /// how many.
    pub fn release(self) -> Result<usize> {
        let n = self.held();
        self.net.faults.end(self.net, self.id)?;
        Ok(n)
    }

    /// Ends the hold and drops the held frames (counted as discarded); how
    /// many. Other holds on the wire (the other direction's) stay.
    pub fn discard(self) -> Result<usize> {
        self.net.faults.forget_keyed(&hold_key(self.wire, self.id));
        Ok(self
            .dirs
            .iter()
            .map(|&d| self.relay.end_hold(self.wire, d, false))
            .sum())
    }
}

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        let _ = self.net.faults.end(self.net, self.id);
    }
}

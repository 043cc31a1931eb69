//! What a wire did, per direction: the evidence a failed assertion lists.

use std::fmt;

/// Counters of one direction of a wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DirectionStats {
    /// Frames delivered to the far end (duplicates included).
    pub passed: u64,
    /// Bytes of those frames.
    pub passed_bytes: u64,
    /// Frames delivered later than they arrived because the model (delay,
    /// jitter, rate), the rule (`Verdict::Delay`) or a hold kept them;
    /// waiting behind such frames only to keep their order does not count.
    pub delayed: u64,
    /// Frames lost by the loss model.
    pub lost: u64,
    /// Frames dropped because the rate stage's queue was full.
    pub queue_dropped: u64,
    /// Frames dropped instead of waiting for their delivery time: the
    /// frames of this direction waiting already held
    /// [`DELAY_LIMIT_BYTES`](crate::wire::DELAY_LIMIT_BYTES), or the frame
    /// was due more than [`DELAY_HORIZON`](crate::wire::DELAY_HORIZON)
    /// after it arrived.
    pub delay_dropped: u64,
    /// Frames dropped for exceeding the wire's MTU.
    pub mtu_dropped: u64,
    /// Frames dropped by the user's rule (a frame its rule panicked on
    /// included).
    pub rule_dropped: u64,
    /// Times the user's rule panicked (it is removed then; see
    /// [`Link::set_rule`](crate::fault::Link::set_rule)).
    pub rule_panics: u64,
    /// Extra copies delivered.
    pub duplicated: u64,
    /// Frames delivered with a bit flipped.
    pub corrupted: u64,
    /// Frames that entered while the direction was held, and were kept.
    pub held: u64,
    /// Frames that entered while the direction was held and found the hold
    /// full ([`HOLD_LIMIT`](crate::wire::HOLD_LIMIT) frames or
    /// [`HOLD_LIMIT_BYTES`](crate::wire::HOLD_LIMIT_BYTES) bytes): dropped.
    pub held_dropped: u64,
    /// Held frames thrown away by `discard`.
    pub discarded: u64,
    /// Frames the far end's interface refused to take: it was down (a link
    /// fault), its queue was full, or the frame was larger than it carries
    /// (two VLAN tags at the full MTU).
    pub refused: u64,
}

impl DirectionStats {
    /// Every frame dropped, whatever the cause.
    pub fn dropped(&self) -> u64 {
        self.lost
            + self.queue_dropped
            + self.delay_dropped
            + self.mtu_dropped
            + self.rule_dropped
            + self.held_dropped
            + self.discarded
            + self.refused
    }
}

impl fmt::Display for DirectionStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} passed ({} B)", self.passed, self.passed_bytes)?;
        for (n, what) in [
            (self.delayed, "delayed"),
            (self.lost, "lost"),
            (self.queue_dropped, "dropped by the queue"),
            (
                self.delay_dropped,
                "dropped by a full timer queue or past its horizon",
            ),
            (self.mtu_dropped, "over the MTU"),
            (self.rule_dropped, "dropped by the rule"),
            (self.rule_panics, "panics of the rule"),
            (self.duplicated, "duplicated"),
            (self.corrupted, "corrupted"),
            (self.held, "held"),
            (self.held_dropped, "dropped by a full hold"),
            (self.discarded, "discarded"),
            (self.refused, "refused by the far interface"),
        ] {
            if n > 0 {
                write!(f, ", {n} {what}")?;
            }
        }
        Ok(())
    }
}

/// Counters of both directions of a wire, as seen from the link handle:
/// `forward` from its first node to its second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WireStats {
    /// From the handle's first node to its second.
    pub forward: DirectionStats,
    /// Back.
    pub backward: DirectionStats,
}

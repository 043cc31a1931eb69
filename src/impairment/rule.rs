//! The extension point: a user's rule, asked about every frame before the
//! model, for faults the model lacks ("drop the third SYN").

use std::time::Duration;

use crate::packet::decode::{Decoded, TcpFlags, Transport};

/// What a [`WireRule`] decides for one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// On to the model, untouched.
    Pass,
    /// On to the model, delayed by this much more. A frame that would be
    /// due more than [`DELAY_HORIZON`](crate::wire::DELAY_HORIZON) after it
    /// arrived (`Delay(Duration::MAX)`) is dropped instead, counted in
    /// `delay_dropped`.
    Delay(Duration),
    /// Dropped here (counted as dropped by the rule).
    Drop,
    /// On to the model, and delivered twice.
    Duplicate,
    /// On to the model, with one bit flipped.
    Corrupt,
}

/// One frame as a rule sees it.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    bytes: &'a [u8],
    from: &'a str,
    to: &'a str,
    index: u64,
}

impl<'a> Frame<'a> {
    /// A frame that node `from` sent toward node `to`, the `index`-th
    /// (from 0) in that direction.
    pub fn new(bytes: &'a [u8], from: &'a str, to: &'a str, index: u64) -> Self {
        Frame {
            bytes,
            from,
            to,
            index,
        }
    }

    /// The Ethernet frame, as the sending node wrote it.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The node that sent it.
    pub fn from(&self) -> &'a str {
        self.from
    }

    /// The node it goes to.
    pub fn to(&self) -> &'a str {
        self.to
    }

    /// Its position among the frames of its direction, from 0.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The frame decoded: addresses, protocol, ports, flags.
    pub fn decode(&self) -> Decoded {
        Decoded::from_ethernet(self.bytes)
    }

    /// The TCP flags, for a TCP segment.
    pub fn tcp_flags(&self) -> Option<TcpFlags> {
        match self.decode().transport {
            Transport::Tcp(t) => Some(t.flags),
            _ => None,
        }
    }

    /// Whether it opens a TCP connection (SYN without ACK).
    pub fn is_tcp_syn(&self) -> bool {
        self.tcp_flags()
            .is_some_and(|f| f.contains(TcpFlags::SYN) && !f.contains(TcpFlags::ACK))
    }
}

/// A rule asked about every frame of a wire, in both directions, before the
/// impairment model, except the frames that enter a held direction
/// ([`Link::hold`](crate::fault::Link::hold)): those are queued before the
/// rule is asked and released straight to the far end, so no rule sees
/// them. It runs on the lab's relay thread, with the
/// direction's state locked, so it must be quick and must not call the
/// link's wire verbs (`impair`, `hold`, `set_rule`, `wire_stats`), which
/// wait for that lock.
///
/// A rule that panics is removed and the frame it panicked on is dropped;
/// the relay goes on for every wire (see
/// [`Link::set_rule`](crate::fault::Link::set_rule), which also says what
/// is not covered: a panicking `Drop`, `panic = "abort"`). A rule that
/// blocks stops the relay for every wire; the lab's teardown leaves such a
/// relay thread behind after a grace period. A frame a [`Verdict::Delay`]
/// makes due more than [`DELAY_HORIZON`](crate::wire::DELAY_HORIZON) after
/// it arrived is dropped (counted in `delay_dropped`).
///
/// A closure is a rule:
///
/// ```
/// use netns_test::wire::{Frame, Verdict, WireRule};
///
/// // Drop the first SYN only: the client's retransmission gets through.
/// let mut syns = 0;
/// let mut rule = move |frame: &Frame<'_>| {
///     if frame.is_tcp_syn() {
///         syns += 1;
///         if syns == 1 {
///             return Verdict::Drop;
///         }
///     }
///     Verdict::Pass
/// };
/// let f = Frame::new(&[0u8; 14], "a", "b", 0);
/// assert_eq!(rule.decide(&f), Verdict::Pass);
/// ```
pub trait WireRule: Send + 'static {
    /// What happens to `frame`.
    fn decide(&mut self, frame: &Frame<'_>) -> Verdict;
}

impl<F> WireRule for F
where
    F: FnMut(&Frame<'_>) -> Verdict + Send + 'static,
{
    fn decide(&mut self, frame: &Frame<'_>) -> Verdict {
        self(frame)
    }
}

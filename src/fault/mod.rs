//! Faults on a live network, the way turmoil and Jepsen shape them: paired
//! verbs (`down`/`up`), a guard that undoes the fault when dropped (also on
//! a panic), `Net::heal` to end every fault at once, and evidence of what
//! each fault did (`Net::active_faults`).
//!
//! - [`Net::link`](crate::Net::link): a link down or flapping, its MTU;
//! - [`Net::partition`](crate::Net::partition), one-way and
//!   [`isolate`](crate::Net::isolate): traffic between sets of nodes
//!   dropped by nftables rules inside the nodes (made in process over
//!   NETLINK_NETFILTER), counted;
//! - [`Schedule`]: nemeses applied every period during a body, seeded, with
//!   a log of what was applied when. Its seed is replayed with
//!   [`SCHEDULE_SEED_ENV`] (`NETNS_TEST_SCHEDULE_SEED`), the lab's with
//!   [`SEED_ENV`] (`NETNS_TEST_SEED`): each replay line names its own.
//!
//! A link has at most one fault of its own at a time (down or flapping): a
//! second one is refused with [`FaultError::LinkBusy`]. Once the network is
//! torn down, a new link fault is refused with [`FaultError::TornDown`].
//!
//! [`Link::set_mtu`] is not a fault: the new MTU lasts, `Net::heal` and
//! teardown leave it, and `Net::active_faults` does not list it.

mod flap;
mod link;
mod link_state;
mod nemeses;
mod nemesis;
mod partition;
mod partition_rules;

use std::any::Any;
use std::time::Duration;

use crate::error::Error;
pub use crate::vocab::Rng;
pub use flap::Flap;
pub use link::{Link, LinkDown};
pub use nemeses::{IsolateOne, RandomHalves};
pub use nemesis::{
    Action, Event, EventLog, FlapLink, Nemesis, Schedule, SCHEDULE_SEED_ENV, SEED_ENV,
};
pub use partition::{NodeSet, Partition};
pub(crate) use partition_rules::change_nats;

/// A fault in a network's book, as [`LinkDown::into_id`] and
/// [`Partition::into_id`] give it: [`Net::end_fault`](crate::Net::end_fault)
/// ends that fault, and no other, if it is still active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FaultId(pub(crate) u64);

/// Why a fault was refused or failed, beyond what the kernel said.
///
/// It reaches the caller as [`Error::Fault`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FaultError {
    /// The link already has a fault (down or flapping); nothing was changed.
    #[error(
        "link {link} already has a fault ({active}); end it (drop its guard, \
         `Link::up` or `Net::heal`) before starting another"
    )]
    LinkBusy {
        /// The link: `node/iface -- node/iface`.
        link: String,
        /// The fault it has: `link n1/eth0 -- n2/eth0 down`.
        active: String,
    },
    /// The network was torn down (a timed-out test's teardown): the fault
    /// was not started, or was undone at once.
    #[error("the network was torn down: `{fault}` was not started (or was undone)")]
    TornDown {
        /// The fault: `link n1/eth0 -- n2/eth0 down`.
        fault: String,
    },
    /// A flap with a phase of zero: the link would never be seen down (or
    /// up), and with both at zero its thread would change the link in a
    /// tight loop; nothing was changed.
    #[error(
        "link {link} cannot flap down for {down:?} and up for {up:?}: \
         each phase must last longer than zero"
    )]
    ZeroFlapPhase {
        /// The link: `node/iface -- node/iface`.
        link: String,
        /// How long it was to stay down.
        down: Duration,
        /// How long it was to stay up.
        up: Duration,
    },
    /// A schedule with a period of zero would start and stop its nemeses in
    /// a tight loop, its log growing without end; refused before anything
    /// starts.
    #[error(
        "a schedule of nemeses ({nemeses}) needs a period longer than zero \
         between a start and its stop"
    )]
    ZeroPeriod {
        /// The schedule's nemeses, by name, comma-separated.
        nemeses: String,
    },
    /// The thread of a flapping link panicked; the link was brought up.
    #[error("the flap thread of link {link} panicked: {message}")]
    FlapPanicked {
        /// The link: `node/iface -- node/iface`.
        link: String,
        /// The panic's message.
        message: String,
    },
}

impl FaultError {
    /// The fault error an [`Error`] carries, if it carries one.
    pub fn find(error: &Error) -> Option<&FaultError> {
        match error {
            Error::Fault(e) => Some(e),
            _ => None,
        }
    }
}

/// The text of a panic payload (`&str` or `String`).
pub(crate) fn panic_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

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
//!   a log of what was applied when.

mod link;
mod link_state;
mod nemeses;
mod nemesis;
mod partition;

pub use crate::vocab::Rng;
pub use link::{Flap, Link, LinkDown};
pub use nemeses::{IsolateOne, RandomHalves};
pub use nemesis::{Action, Event, EventLog, FlapLink, Nemesis, Schedule, SEED_ENV};
pub use partition::{NodeSet, Partition};

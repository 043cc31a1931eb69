//! Faults on a live network, the way turmoil and Jepsen shape them: paired
//! verbs (`down`/`up`), a guard that undoes the fault when dropped (also on
//! a panic), `Net::heal` to end every fault at once, and evidence of what
//! each fault did (`Net::active_faults`).
//!
//! - [`Net::link`](crate::Net::link): a link down or flapping, its MTU;
//! - [`Schedule`]: nemeses applied every period during a body, seeded, with
//!   a log of what was applied when.

mod link;
mod nemesis;
mod rng;

pub use link::{Flap, Link, LinkDown};
pub use nemesis::{Action, Event, EventLog, FlapLink, Nemesis, Schedule, SEED_ENV};
pub use rng::Rng;

//! Faults on a live network, the way turmoil and Jepsen shape them: paired
//! verbs (`down`/`up`), a guard that undoes the fault when dropped (also on
//! a panic), `Net::heal` to end every fault at once, and evidence of what
//! each fault did (`Net::active_faults`).
//!
//! - [`link`]: a link down or flapping, its MTU;

mod link;

pub use link::{Flap, Link, LinkDown};

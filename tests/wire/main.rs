//! The userspace wire on live labs: TAP devices joined by the relay,
//! impaired, held and filtered at run time.

#[path = "../common/mod.rs"]
#[allow(dead_code)]
mod common;

mod basics;
mod delay_loss;
mod frames;
mod hold_rule;
mod rate;
mod util;

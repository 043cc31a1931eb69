//! The userspace wire on live labs: veth ends joined by the relay,
//! impaired, held and filtered at run time.

mod basics;
mod delay_loss;
mod frames;
mod hold_release;
mod hold_rule;
mod order;
mod rate;
mod seed;
mod timer_limit;
mod util;

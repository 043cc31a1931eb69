//! The userspace wire: impairment without netem.
pub use crate::impairment::{
    DirectionStats, Distribution, Frame, GilbertElliott, Impairment, ImpairmentError, Jitter,
    Loss, Profile, Verdict, WireRule, WireStats, DEFAULT_QUEUE_LIMIT,
};
pub use crate::vocab::{Bandwidth, Probability, UnitError};

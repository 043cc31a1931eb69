//! The impairment model of a wire, pure: what one direction does to frames
//! ([`Impairment`]), the per-frame state machine that applies it with a
//! virtual clock and a seeded generator (`Pipeline`), the user's rule
//! ([`WireRule`]), presets ([`Profile`]) and counters ([`WireStats`]).
//!
//! The relay that moves frames between the two ends of a wire lives
//! in the lab (`lab/relay/`); the run-time verbs on a link in `wire/`.

mod model;
mod pipeline;
mod presets;
mod rule;
mod stats;
#[cfg(test)]
mod tests;

pub use model::{
    Distribution, GilbertElliott, Impairment, ImpairmentError, Jitter, Loss, DEFAULT_QUEUE_LIMIT,
    MAX_DELAY,
};
pub(crate) use pipeline::{Delivery, DropCause, Fate, Pipeline};
pub use presets::Profile;
pub use rule::{Frame, Verdict, WireRule};
pub use stats::{DirectionStats, WireStats};

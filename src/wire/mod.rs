//! The userspace wire: impairment without netem.
//!
//! A link declared with [`Topology::wire`](crate::Topology::wire) (or an
//! endpoint's [`wire`](crate::Endpoint::wire)) gives each of its two nodes
//! a veth interface as a plain link does, but the veth's other end is in
//! the lab's *wire hub*, a namespace of its own where the relay holds a
//! packet socket on it (opened inside the hub, so it works rootless). One
//! relay thread per lab waits on every port with epoll and moves each frame
//! through its direction's pipeline:
//!
//! ```text
//! node a eth0 ══veth══ hub w0a ─▶ rule ─▶ model (MTU, loss, duplicate,
//!        corrupt, rate + queue, delay + jitter, reorder) ─▶ timer queue
//!        (timerfd, ns) ─▶ hub w0b ══veth══ eth0 node b
//! ```
//!
//! It is L2, so ARP, neighbour discovery, IPv6 and bridges work as on a
//! veth. Every random choice is drawn from the lab's seed
//! ([`Net::seed`](crate::Net::seed), `NETNS_TEST_SEED`, `seed = N` in the
//! attribute, [`Topology::seed`](crate::Topology::seed)), split per wire and
//! per direction: the same seed and the same frames give the same
//! decisions.
//!
//! At run time, through the link handle ([`Net::link`](crate::Net::link)):
//! [`impair`](crate::fault::Link::impair) /
//! [`unimpair`](crate::fault::Link::unimpair) a direction,
//! [`hold`](crate::fault::Link::hold) its frames, set a
//! [`rule`](crate::fault::Link::set_rule) for faults the model lacks, read
//! the [`counters`](crate::fault::Link::wire_stats). Impairments and holds
//! are faults: [`Net::active_faults`](crate::Net::active_faults) and
//! assertion failures list them with their counters and the seed, and
//! [`Net::heal`](crate::Net::heal) ends them.
//!
//! The cost against a veth: every frame crosses two more veths, two packet
//! sockets and a thread (see docs/wire.md for figures). Use a veth where the link only
//! has to work or go down; a wire where its quality matters.
//!
//! ```no_run
//! use std::time::Duration;
//! use netns_test::wire::{Direction, Impairment, Probability};
//! use netns_test::{Net, Topology};
//!
//! let net = Net::build(&Topology::new().seed(7).wire(
//!     ("n1", "eth0", "198.51.100.1/24"),
//!     ("n2", "eth0", "198.51.100.2/24"),
//! ))?;
//! let link = net.link("n1", "n2")?;
//! link.impair(Direction::Forward, Impairment::new().loss(Probability::percent(20.0).unwrap()))?;
//! let report = net["n1"].ping("n2").count(100).interval(Duration::from_millis(1)).run()?;
//! println!("{report}\n{:?}", link.wire_stats()?.forward);
//! # Ok::<(), netns_test::Error>(())
//! ```

mod handle;
mod hold;

pub use crate::impairment::{
    DirectionStats, Distribution, Frame, GilbertElliott, Impairment, ImpairmentError, Jitter, Loss,
    Profile, Verdict, WireRule, WireStats, DEFAULT_QUEUE_LIMIT, MAX_DELAY,
};
pub use crate::vocab::{Bandwidth, Probability, UnitError};
pub use handle::{Direction, REPORT_WAIT};
pub use hold::{Hold, DELAY_HORIZON, DELAY_LIMIT_BYTES, HOLD_LIMIT, HOLD_LIMIT_BYTES};

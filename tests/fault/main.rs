//! Faults on live labs: links down and up, flaps, MTU, routes changed at
//! run time, partitions, schedules of faults.

#[path = "../common/mod.rs"]
mod common;

mod failed_undo;
mod links;
mod links_ipv6;
mod nemesis;
mod overlaps;
mod partitions;
mod partitions_nat;
mod routes;

use std::time::Duration;

use netns_test::Net;

/// How long an answer that should come may take: the first crosses links
/// whose neighbours are not resolved yet, or a link just brought back up.
pub(crate) const ARRIVES: Duration = Duration::from_secs(5);
/// How long to wait for an answer that should not come.
pub(crate) const SILENT: Duration = Duration::from_millis(300);

/// Whether `from` gets an echo reply from `to` within [`ARRIVES`], pinging
/// again and again until the first reply (after a link comes back up, the
/// first frames may still be lost while the carrier settles).
pub(crate) fn reaches(net: &Net, from: &str, to: &str) -> bool {
    net[from].wait_reachable(to).timeout(ARRIVES).run().is_ok()
}

/// Whether one echo request from `from` to `to` gets no reply within
/// [`SILENT`].
pub(crate) fn silent(net: &Net, from: &str, to: &str) -> bool {
    net[from].ping(to).timeout(SILENT).run().unwrap().received == 0
}

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

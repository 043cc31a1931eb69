//! Probes and assertions on real labs, blocking and async.

#[path = "../common/mod.rs"]
mod common;

mod async_bodies;
mod labs;
mod matrix_members;
mod options;
mod refusals;
mod shared_addrs;
mod split_paths;
mod tcp;
mod waits;

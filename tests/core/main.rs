//! Core behaviour: links, teardown, validation.

#[path = "../common/mod.rs"]
mod common;

mod guards;
mod links;
mod programs;
mod teardown;
mod validation;

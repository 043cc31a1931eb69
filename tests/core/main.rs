//! Core behaviour: links, teardown, validation.

#[path = "../common/mod.rs"]
mod common;

mod links;
mod teardown;
mod validation;

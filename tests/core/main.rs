//! Core behaviour: links, sysctls, teardown, validation.

#[path = "../common/mod.rs"]
mod common;

mod bridge_mld;
mod guards;
mod links;
mod programs;
mod sysctls;
mod teardown;
mod validation;

//! Core behaviour: links, sysctls, teardown, validation.

#[path = "../common/mod.rs"]
mod common;

mod links;
mod sysctls;
mod teardown;
mod validation;

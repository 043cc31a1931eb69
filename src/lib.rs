//! netns-test: real network integration tests in Linux network namespaces.
#![warn(missing_docs)]

pub mod error;
pub mod netns;
pub mod probe;
mod netlink;
//pub mod topology;

pub use error::{Error, Result};
pub use netns::{NetNs, NsGuard};

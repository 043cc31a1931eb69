//! Prints a canonical snapshot of the calling process's network namespace
//! (the host's, when run as root) and of the other host state that netns-test
//! promises never to touch. Run it before and after a test suite and diff:
//!
//! ```sh
//! cargo run -q --example host_snapshot > before.txt
//! cargo test
//! cargo run -q --example host_snapshot > after.txt
//! diff -u before.txt after.txt     # must be empty
//! ```
//!
//! What the snapshot holds is documented in `tests/support/host_snapshot.rs`,
//! which the guarantee tests use in process.

#[path = "../tests/support/host_snapshot.rs"]
mod host_snapshot;

fn main() {
    print!("{}", host_snapshot::render(&host_snapshot::snapshot()));
}

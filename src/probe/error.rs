//! Errors of the probes.

use std::io;

/// A probe that could not run (a probe that ran and got no answer is a result, not an error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The calling thread is in a namespace this process did not create.
    #[error(
        "refusing to send a probe from network namespace {inode}: netns-test only probes \
         from namespaces it created, so test traffic can never leave the machine"
    )]
    ForeignNamespace {
        /// The inode of the namespace the thread was in.
        inode: u64,
    },
    /// A socket operation failed.
    #[error("{op}: {source}")]
    Io {
        /// What was being done.
        op: String,
        /// The error.
        #[source]
        source: io::Error,
    },
}

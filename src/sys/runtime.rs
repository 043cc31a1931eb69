//! The one place that builds a tokio runtime for the library.

use tokio::runtime::Runtime;

use crate::error::{Error, Result};

/// A current-thread runtime with I/O and timers, for work on the calling
/// thread (which may be inside a node: sockets the runtime opens stay there).
pub(crate) fn current_thread() -> Result<Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Spawn {
            op: "build a tokio runtime".into(),
            source: e,
        })
}

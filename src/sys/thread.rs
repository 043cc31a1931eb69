//! Running a closure on a short-lived named thread.

use std::thread;

use crate::error::{Error, Result};

/// Runs `f` on a new thread called `name` and waits for it. A panic in `f`
/// resumes on the calling thread with its payload; a thread that cannot be
/// started is an [`Error::Spawn`] saying what it was for (`what`).
///
/// The new thread starts in the caller's network namespace, with no tokio
/// runtime context.
pub(crate) fn run_scoped<R, F>(name: String, what: &str, f: F) -> Result<R>
where
    F: FnOnce() -> Result<R> + Send,
    R: Send,
{
    thread::scope(|s| {
        let handle = thread::Builder::new()
            .name(name)
            .spawn_scoped(s, f)
            .map_err(|source| Error::Spawn {
                op: format!("spawn {what}"),
                source,
            })?;
        handle
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

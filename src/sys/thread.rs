//! Running a closure on a short-lived named thread.

use std::thread;

use crate::error::{Error, Result};

/// `text` as a thread name: a NUL byte, which a thread name cannot hold
/// (spawning would panic), is written `\0`.
pub(crate) fn thread_name(text: String) -> String {
    if text.contains('\0') {
        text.replace('\0', "\\0")
    } else {
        text
    }
}

/// Runs `f` on a new thread called `name` (see [`thread_name`]) and waits
/// for it. A panic in `f` resumes on the calling thread with its payload; a
/// thread that cannot be started is an [`Error::Spawn`] saying what it was
/// for (`what`).
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
            .name(thread_name(name))
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

#[cfg(test)]
mod tests {
    use super::thread_name;
    use crate::NetNs;

    #[test]
    fn a_nul_byte_is_escaped_in_a_thread_name() {
        assert_eq!(thread_name("netns-a\0b".into()), "netns-a\\0b");
        assert_eq!(thread_name("netns-ab".into()), "netns-ab");
    }

    #[test]
    fn a_namespace_name_with_a_nul_byte_still_names_its_threads() {
        let ns = NetNs::new("a\0b").unwrap();
        assert_eq!(ns.name(), "a\0b");
        assert_eq!(ns.run(|| 7).unwrap(), 7);
        assert_eq!(ns.spawn(|| 8).unwrap().join().unwrap(), 8);
    }
}

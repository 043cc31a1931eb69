//! Output of `#[should_panic]` tests: the panic message of a test expected to
//! panic is kept quiet, and shown only when the test fails after all.

use super::runner::panic_message;
use libtest_mimic::{Completion, Failed};
use std::collections::HashMap;
use std::sync::{Mutex, Once};

/// The panic reports of the body threads of running `#[should_panic]`
/// tests, by thread name (the body's thread is named after its test).
static QUIET: Mutex<Option<HashMap<String, String>>> = Mutex::new(None);

/// Keeps the panic hook quiet for the body of a `#[should_panic]` test
/// while it runs, as libtest's output capture does: the report is kept and
/// shown only if the test fails.
pub(super) struct Quiet {
    pub(super) name: Option<String>,
}

impl Quiet {
    pub(super) fn new(name: &str, should_panic: bool) -> Self {
        if !should_panic {
            return Quiet { name: None };
        }
        install_quiet_hook();
        quiet_map(|m| m.insert(name.to_string(), String::new()));
        Quiet {
            name: Some(name.to_string()),
        }
    }

    /// Adds what the hook kept to the message of a failure.
    pub(super) fn verdict(
        mut self,
        verdict: Result<Completion, Failed>,
    ) -> Result<Completion, Failed> {
        let kept = self.take();
        match verdict {
            Err(e) if !kept.is_empty() => {
                Err(format!("{kept}{}", e.message().unwrap_or("test failed")).into())
            }
            other => other,
        }
    }

    fn take(&mut self) -> String {
        self.name
            .take()
            .and_then(|name| quiet_map(|m| m.remove(&name)))
            .unwrap_or_default()
    }
}

impl Drop for Quiet {
    fn drop(&mut self) {
        self.take();
    }
}

fn quiet_map<R>(f: impl FnOnce(&mut HashMap<String, String>) -> R) -> R {
    let mut guard = QUIET.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(HashMap::new))
}

/// Wraps the panic hook, once: a panic on the body thread of a running
/// `#[should_panic]` test is kept instead of printed.
fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            if let Some(name) = thread.name() {
                let kept = quiet_map(|m| match m.get_mut(name) {
                    Some(buf) => {
                        let msg = panic_message(info.payload()).unwrap_or("Box<dyn Any>");
                        match info.location() {
                            Some(loc) => buf
                                .push_str(&format!("thread '{name}' panicked at {loc}:\n{msg}\n")),
                            None => buf.push_str(&format!("thread '{name}' panicked:\n{msg}\n")),
                        }
                        true
                    }
                    None => false,
                });
                if kept {
                    return;
                }
            }
            previous(info)
        }));
    });
}

//! The switches netns-test reads from the environment (`NETNS_TEST_DUMP`,
//! `NETNS_TEST_KEEP`, `NETNS_TEST_CAPTURE`, `NETNS_TEST_SKIP_UNSUPPORTED`,
//! `NETNS_TEST_NO_USERNS`), read one way, and the seeds `NETNS_TEST_SEED`
//! (labs) and `NETNS_TEST_SCHEDULE_SEED` (fault schedules).
//!
//! A switch is on for `1`, `true` or `yes` and off for `0`, `false`, `no`
//! or an empty value (in any case, spaces around ignored); unset is off.
//! Anything else is a mistake: the variable stays off and a warning says
//! so, once per variable and process, on the process's standard error
//! itself (past libtest's output capture, so a passing test does not hide
//! it). The seed is a whole number (spaces around ignored); empty is as
//! unset, and anything else is ignored with such a warning.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fmt;
use std::sync::Mutex;

use crate::fault::SEED_ENV;

/// An environment value that means neither on nor off (nor anything else
/// the variable accepts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadValue {
    /// The variable.
    pub(crate) name: &'static str,
    /// Its value, lossily decoded.
    pub(crate) value: String,
    /// What the variable accepts besides the switch values, if anything.
    pub(crate) also: &'static str,
}

impl fmt::Display for BadValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "netns-test: ignoring {}={:?}: expected 1, true or yes (on), 0, false, no or \
             nothing (off){}; it stays off",
            self.name, self.value, self.also
        )
    }
}

impl std::error::Error for BadValue {}

/// What a switch value means: `Some(true)` on, `Some(false)` off, `None`
/// when it is no switch value.
pub(crate) fn parse_switch(value: &str) -> Option<bool> {
    let v = value.trim().to_ascii_lowercase();
    match v.as_str() {
        "1" | "true" | "yes" => Some(true),
        "" | "0" | "false" | "no" => Some(false),
        _ => None,
    }
}

/// Reads switch `name`: `Err` when its value is no switch value.
pub(crate) fn read_switch(name: &'static str, value: Option<&OsStr>) -> Result<bool, BadValue> {
    let Some(value) = value else {
        return Ok(false);
    };
    value
        .to_str()
        .and_then(parse_switch)
        .ok_or_else(|| BadValue {
            name,
            value: value.to_string_lossy().into_owned(),
            also: "",
        })
}

/// Whether switch `name` is on; a value that is no switch value is off,
/// with a warning (see [`warn_once`]).
pub(crate) fn switch(name: &'static str) -> bool {
    read_switch(name, std::env::var_os(name).as_deref()).unwrap_or_else(|e| {
        warn_once(&e);
        false
    })
}

/// Prints `bad` to the process's standard error, the first time this
/// process sees a bad value of that variable.
pub(crate) fn warn_once(bad: &BadValue) {
    warn_once_about(bad.name, &bad.to_string());
}

/// Prints `message` to the process's standard error, the first time this
/// process warns about variable `name`.
fn warn_once_about(name: &'static str, message: &str) {
    static WARNED: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let first = WARNED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(name);
    if first {
        write_past_capture(message);
    }
}

/// The seed a value of variable `name` ([`SEED_ENV`] or
/// [`SCHEDULE_SEED_ENV`](crate::fault::SCHEDULE_SEED_ENV)) gives: `None`
/// when unset or empty, `Err` (the warning) when it is no whole number of
/// 64 bits.
pub(crate) fn read_seed(name: &str, value: Option<&OsStr>) -> Result<Option<u64>, String> {
    let Some(value) = value else {
        return Ok(None);
    };
    let text = value.to_string_lossy();
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    trimmed.parse().map(Some).map_err(|_| {
        format!(
            "netns-test: ignoring {name}={text:?}: expected a whole number from 0 to {}; \
             the seed is not overridden",
            u64::MAX
        )
    })
}

/// The seed [`SEED_ENV`] sets, which wins over every other seed of a lab;
/// a value that is no seed is ignored, with a warning (see [`warn_once`]).
pub(crate) fn seed() -> Option<u64> {
    seed_of(SEED_ENV)
}

/// The seed variable `name` sets ([`SEED_ENV`] for labs,
/// [`SCHEDULE_SEED_ENV`](crate::fault::SCHEDULE_SEED_ENV) for fault
/// schedules); a value that is no seed is ignored, with a warning (see
/// [`warn_once`]).
pub(crate) fn seed_of(name: &'static str) -> Option<u64> {
    read_seed(name, std::env::var_os(name).as_deref()).unwrap_or_else(|warning| {
        warn_once_about(name, &warning);
        None
    })
}

/// Writes `msg` and a newline to the process's standard error itself: the
/// output capture of libtest only takes what goes through `print!` and
/// `eprint!`, so this shows even for a passing test.
pub(crate) fn write_past_capture(msg: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(msg.as_bytes());
    let _ = err.write_all(b"\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switch_values() {
        for on in ["1", "true", "TRUE", "Yes", " yes "] {
            assert_eq!(parse_switch(on), Some(true), "{on:?}");
        }
        for off in ["", "0", "false", "False", "no", "NO", " "] {
            assert_eq!(parse_switch(off), Some(false), "{off:?}");
        }
        for bad in ["2", "on", "off", "y", "keep", "./true", "/tmp"] {
            assert_eq!(parse_switch(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_seed_is_a_whole_number_and_anything_else_is_named() {
        assert_eq!(read_seed(SEED_ENV, None), Ok(None));
        assert_eq!(read_seed(SEED_ENV, Some(OsStr::new(" "))), Ok(None));
        assert_eq!(read_seed(SEED_ENV, Some(OsStr::new(" 42 "))), Ok(Some(42)));
        for bad in ["abc", "-1", "1.5", "18446744073709551616"] {
            let e = read_seed(SEED_ENV, Some(OsStr::new(bad))).unwrap_err();
            assert!(e.contains(&format!("NETNS_TEST_SEED=\"{bad}\"")), "{e}");
        }
        let e = read_seed(crate::fault::SCHEDULE_SEED_ENV, Some(OsStr::new("x"))).unwrap_err();
        assert!(e.contains("ignoring NETNS_TEST_SCHEDULE_SEED=\"x\""), "{e}");
    }

    #[test]
    fn unset_is_off_and_a_bad_value_says_what_is_accepted() {
        assert_eq!(read_switch("X", None), Ok(false));
        assert_eq!(read_switch("X", Some(OsStr::new("yes"))), Ok(true));
        let e = read_switch("NETNS_TEST_X", Some(OsStr::new("maybe"))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "netns-test: ignoring NETNS_TEST_X=\"maybe\": expected 1, true or yes (on), 0, \
             false, no or nothing (off); it stays off"
        );
        let not_utf8 = <OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"\xff");
        assert!(read_switch("X", Some(not_utf8)).is_err());
    }
}

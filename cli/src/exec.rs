//! `exec`: a program in a node of a lab that `up` holds.

use std::ffi::OsString;
use std::process::ExitCode;

use netns_test::suite::hold::{run_in_held, HoldError};

/// `exec`'s status when the program was not found, as shells have it.
const NOT_FOUND: u8 = 127;

/// `exec`'s status when the program could not be run or did not end by
/// itself: no such lab or node, not executable, the lab serving too many,
/// or the lab stopped or was killed while it ran (which kills it). Not
/// 128 + 9, which would say that the program was killed for reasons of
/// its own (the OOM killer, say).
const CANNOT_RUN: u8 = 126;

/// The program's status (128 + N when signal N killed it), else
/// [`NOT_FOUND`] or [`CANNOT_RUN`], with the reason on standard error.
pub(crate) fn exec(lab: &str, node: &str, cmd: &[OsString]) -> ExitCode {
    match run_in_held(lab, node, cmd) {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("netns-test: {e}");
            ExitCode::from(match e {
                HoldError::ProgramNotFound { .. } => NOT_FOUND,
                _ => CANNOT_RUN,
            })
        }
    }
}

//! `exec`: a program in a node of a lab that `up` holds.

use std::ffi::OsString;
use std::process::ExitCode;

use netns_test::suite::hold::run_in_held;

pub(crate) fn exec(lab: &str, node: &str, cmd: &[OsString]) -> Result<ExitCode, String> {
    let code = run_in_held(lab, node, cmd).map_err(|e| e.to_string())?;
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}
